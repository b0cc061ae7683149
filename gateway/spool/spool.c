/* spool.c -- the durable queue between ingest and relay: puts with group
 * commit (concurrent callers share one transaction), deletes, paging; the
 * rows themselves are spool_rows.c's.
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../mem.h"

static enum gw_rc insert_put(struct gw_spool *s, struct gw_spool_put *p, int64_t now_ms)
{
    int64_t qid = 0;
    enum gw_rc rc = gw_spool_db_queue_id(s, p->write_key, p->endpoint, &qid);
    p->first_id = s->next_id;
    if (rc == GW_OK) {
        rc = gw_spool_rows_put(s, qid, now_ms, p->first_id, p->json, p->len, p->n);
    }
    if (rc == GW_OK) {
        s->next_id += (int64_t)p->n;
    }
    return rc;
}

/* One transaction for the puts from first up to (not including) end. */
static enum gw_rc commit_puts(struct gw_spool *s, struct gw_spool_put *first,
                              const struct gw_spool_put *end)
{
    int64_t next_id = s->next_id;
    int64_t now = gw_spool_db_now_ms();
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_BEGIN);
    for (struct gw_spool_put *p = first; p != end && rc == GW_OK; p = p->next) {
        rc = insert_put(s, p, now);
    }
    rc = gw_spool_db_finish(s, rc);
    if (rc != GW_OK) {
        s->next_id = next_id;
        if (gw_spool_db_load_keys(s) != GW_OK) {
            gw_error("spool", "cannot reload the queue keys of %s", s->dir);
        }
    }
    for (struct gw_spool_put *p = first; p != end; p = p->next) {
        p->rc = rc;
    }
    return rc;
}

/* Commits a batch of puts under the db lock; when the shared transaction
 * fails, each put gets its own so that one cannot fail the others. */
static void commit_batch(struct gw_spool *s, struct gw_spool_put *batch)
{
    gw_spool_db_lock(s);
    if (commit_puts(s, batch, NULL) != GW_OK && batch->next != NULL) {
        for (struct gw_spool_put *p = batch; p != NULL; p = p->next) {
            (void)commit_puts(s, p, p->next);
        }
    }
    /* Counted before the db lock goes: a delete of these calls (which
     * takes it) then always finds them counted. */
    pthread_mutex_lock(&s->lock);
    for (struct gw_spool_put *p = batch; p != NULL; p = p->next) {
        s->reserved -= p->bytes;
        p->use->reserved -= p->bytes;
        if (p->rc == GW_OK) {
            s->calls += p->n;
            s->bytes += p->bytes;
            p->use->bytes += p->bytes;
        }
    }
    pthread_mutex_unlock(&s->lock);
    gw_spool_db_unlock(s);
}

/* Called locked with puts pending and no leader: commits everything
 * pending, then hands the outcome to each waiting caller. */
static void lead(struct gw_spool *s)
{
    s->leading = true;
    struct gw_spool_put *batch = s->pending;
    s->pending = NULL;
    s->pending_tail = &s->pending;
    pthread_mutex_unlock(&s->lock);
    commit_batch(s, batch);
    pthread_mutex_lock(&s->lock);
    for (struct gw_spool_put *p = batch; p != NULL;) {
        struct gw_spool_put *next = p->next; /* p belongs to its caller once done */
        p->done = true;
        p = next;
    }
    s->leading = false;
    pthread_cond_broadcast(&s->cond);
}

static enum gw_rc check_put(const char *key, const char *endpoint, const char *const *json,
                            const size_t *len, size_t n, uint64_t *bytes)
{
    if (key == NULL || endpoint == NULL || (n > 0 && (json == NULL || len == NULL))) {
        return GW_ERR_INVALID;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (json[i] == NULL && len[i] > 0) {
            return GW_ERR_INVALID;
        }
        sum += len[i];
    }
    *bytes = sum;
    return GW_OK;
}

/* One write key's part of the spool. */
static uint64_t key_share(const struct gw_spool_opts *o)
{
    return o->max_key_bytes > 0 ? o->max_key_bytes : o->max_bytes / 2;
}

enum gw_rc gw_spool_put(struct gw_spool *s, const char *write_key, const char *endpoint,
                        const char *const *json, const size_t *len, size_t n, int64_t *ids)
{
    struct gw_spool_put p = {
        .write_key = write_key, .endpoint = endpoint, .json = json, .len = len, .n = n};
    enum gw_rc rc = check_put(write_key, endpoint, json, len, n, &p.bytes);
    if (s == NULL || rc != GW_OK || n == 0) {
        return s == NULL ? GW_ERR_INVALID : rc;
    }
    pthread_mutex_lock(&s->lock);
    uint64_t used = s->bytes + s->reserved;
    rc = GW_ERR_FULL;
    if (used > s->o.max_bytes || p.bytes > s->o.max_bytes - used) {
        goto out;
    }
    p.use = gw_spool_db_use(s, write_key);
    uint64_t share = key_share(&s->o);
    uint64_t mine = p.use->bytes + p.use->reserved;
    rc = GW_ERR_QUOTA;
    if (mine > share || p.bytes > share - mine) {
        goto out;
    }
    s->reserved += p.bytes;
    p.use->reserved += p.bytes;
    *s->pending_tail = &p;
    s->pending_tail = &p.next;
    while (!p.done) {
        if (!s->leading) {
            lead(s);
        } else {
            pthread_cond_wait(&s->cond, &s->lock);
        }
    }
    rc = p.rc;
out:
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; rc == GW_OK && ids != NULL && i < n; i++) {
        ids[i] = p.first_id + (int64_t)i;
    }
    return rc;
}

/* ---- delete, page, stats ---- */

void gw_spool_db_uncount(struct gw_spool *s, enum gw_rc rc, uint64_t calls, uint64_t bytes)
{
    pthread_mutex_lock(&s->lock);
    if (rc == GW_OK) {
        s->calls -= calls;
        s->bytes -= bytes;
    }
    while (s->gone != NULL) {
        struct gw_spool_kuse *u = s->gone;
        s->gone = u->next_gone;
        if (rc == GW_OK) {
            u->bytes -= u->gone;
        }
        u->gone = 0;
        u->in_gone = false;
        u->next_gone = NULL;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Calls deleted in one transaction (see gw_spool_delete); 640 measured no
 * faster with rows of 10 calls. */
#define DELETE_CHUNK 128

enum gw_rc gw_spool_delete(struct gw_spool *s, const int64_t *ids, size_t n)
{
    if (s == NULL || (n > 0 && ids == NULL)) {
        return GW_ERR_INVALID;
    }
    if (n == 0) {
        return GW_OK;
    }
    /* A batch is mostly runs of consecutive ids: one range each. It is
     * deleted DELETE_CHUNK calls a transaction, the lock let go between
     * them: a put waiting behind a sent batch (about 900 calls) waits for
     * one chunk, not for the whole batch. */
    enum gw_rc rc = GW_OK;
    for (size_t from = 0; from < n && rc == GW_OK;) {
        size_t to = from + DELETE_CHUNK < n ? from + DELETE_CHUNK : n;
        uint64_t calls = 0;
        uint64_t bytes = 0;
        gw_spool_db_lock(s);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_BEGIN);
        for (size_t i = from; i < to && rc == GW_OK;) {
            size_t j = i;
            while (j + 1 < to && ids[j + 1] == ids[j] + 1) {
                j++;
            }
            rc = gw_spool_db_delete_range(s, ids[i], ids[j], &calls, &bytes);
            i = j + 1;
        }
        rc = gw_spool_db_finish(s, rc);
        gw_spool_db_uncount(s, rc, calls, bytes);
        gw_spool_db_unlock(s);
        from = to;
    }
    return rc;
}

/* The lowest row id that may hold a call above after. */
static int64_t row_floor(int64_t after)
{
    return after > INT64_MIN + GW_SPOOL_ROW_CALLS ? after - GW_SPOOL_ROW_CALLS : INT64_MIN;
}

enum gw_rc gw_spool_page(struct gw_spool *s, int64_t after_id, size_t max,
                         bool (*fn)(void *arg, const struct gw_spool_call *c), void *arg)
{
    if (s == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_PAGE];
    sqlite3_bind_int64(st, 1, row_floor(after_id));
    enum gw_rc rc = gw_spool_rows_page(s, st, after_id, INT64_MAX, max, fn, arg);
    sqlite3_reset(st);
    gw_spool_db_unlock(s);
    return rc;
}

enum gw_rc gw_spool_page_queue(struct gw_spool *s, const char *write_key, const char *endpoint,
                               int64_t after_id, int64_t upto_id, size_t max,
                               bool (*fn)(void *arg, const struct gw_spool_call *c), void *arg)
{
    if (s == NULL || write_key == NULL || endpoint == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    const struct gw_spool_qkey *k = gw_spool_db_key_by_name(s, write_key, endpoint);
    enum gw_rc rc = GW_OK;
    if (k != NULL) {
        sqlite3_stmt *st = s->st[GW_SPOOL_ST_PAGE_QUEUE];
        sqlite3_bind_int64(st, 1, row_floor(after_id));
        sqlite3_bind_int64(st, 2, upto_id);
        sqlite3_bind_int64(st, 3, k->id);
        rc = gw_spool_rows_page(s, st, after_id, upto_id, max, fn, arg);
        sqlite3_reset(st);
    }
    gw_spool_db_unlock(s);
    return rc;
}

enum gw_rc gw_spool_each(struct gw_spool *s, bool (*fn)(void *arg, const struct gw_spool_call *c),
                         void *arg)
{
    return gw_spool_page(s, 0, 0, fn, arg);
}

void gw_spool_stats(struct gw_spool *s, uint64_t *calls, uint64_t *bytes)
{
    pthread_mutex_lock(&s->lock);
    if (calls != NULL) {
        *calls = s->calls;
    }
    if (bytes != NULL) {
        *bytes = s->bytes;
    }
    pthread_mutex_unlock(&s->lock);
}

uint64_t gw_spool_key_bytes(struct gw_spool *s, const char *write_key)
{
    pthread_mutex_lock(&s->lock);
    const struct gw_spool_kuse *u = gw_spool_db_use(s, write_key);
    uint64_t bytes = u->bytes;
    pthread_mutex_unlock(&s->lock);
    return bytes;
}

void gw_spool_call_fini(struct gw_spool_call *c)
{
    GW_FREE(c->write_key);
    GW_FREE(c->endpoint);
    GW_FREE(c->json);
    c->len = 0;
}

void gw_spool_call_copy(struct gw_spool_call *dst, const struct gw_spool_call *src)
{
    *dst = *src;
    dst->write_key = gw_strdup(src->write_key);
    dst->endpoint = gw_strdup(src->endpoint);
    dst->json = gw_malloc(src->len + 1);
    memcpy(dst->json, src->json, src->len);
    dst->json[src->len] = '\0';
}
