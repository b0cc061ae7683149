/* spool.c -- the durable queue between ingest and relay: puts with group
 * commit (concurrent callers share one transaction), deletes, paging.
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../mem.h"

/* Inserts the calls of p from first, at most GW_SPOOL_PUT_ROWS of them,
 * with one statement; returns how many through *done. */
static enum gw_rc insert_rows(struct gw_spool *s, const struct gw_spool_put *p, size_t first,
                              int64_t qid, int64_t now_ms, size_t *done)
{
    size_t rows = p->n - first < GW_SPOOL_PUT_ROWS ? p->n - first : GW_SPOOL_PUT_ROWS;
    sqlite3_stmt *st = gw_spool_db_put_stmt(s, rows);
    if (st == NULL) {
        return GW_ERR_IO;
    }
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, p->first_id + (int64_t)first);
    for (size_t k = 0; k < rows; k++) {
        size_t i = first + k;
        sqlite3_bind_blob64(st, (int)k + 4, p->len[i] > 0 ? p->json[i] : "", p->len[i],
                            SQLITE_STATIC);
    }
    int e = sqlite3_step(st);
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, "INSERT INTO calls");
    sqlite3_reset(st);
    *done = rows;
    return rc;
}

static enum gw_rc insert_put(struct gw_spool *s, struct gw_spool_put *p, int64_t now_ms)
{
    int64_t qid = 0;
    enum gw_rc rc = gw_spool_db_queue_id(s, p->write_key, p->endpoint, &qid);
    p->first_id = s->next_id;
    for (size_t i = 0, done = 0; i < p->n && rc == GW_OK; i += done) {
        rc = insert_rows(s, p, i, qid, now_ms, &done);
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

/* Notes that the open transaction deletes b bytes of queue qid. */
static void note_gone(struct gw_spool *s, int64_t qid, uint64_t b)
{
    const struct gw_spool_qkey *k = gw_spool_db_key(s, qid);
    GW_ASSERT(k != NULL); /* rows of queues are only removed at open, when unused */
    struct gw_spool_kuse *u = k->use;
    u->gone += b;
    if (!u->in_gone) {
        u->in_gone = true;
        u->next_gone = s->gone;
        s->gone = u;
    }
}

enum gw_rc gw_spool_db_delete_range(struct gw_spool *s, int64_t first, int64_t last,
                                    uint64_t *calls, uint64_t *bytes)
{
    /* length() of a blob reads no content: the size is in the row header.
     * (DELETE ... RETURNING would cost three times as much.) The rows are
     * summed per run of one queue. */
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_RANGE_SIZE];
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    int64_t qid = 0;
    uint64_t run = 0;
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        int64_t q = sqlite3_column_int64(st, 0);
        uint64_t b = (uint64_t)sqlite3_column_int64(st, 1);
        if (q != qid && run > 0) {
            note_gone(s, qid, run);
            run = 0;
        }
        qid = q;
        run += b;
        *calls += 1;
        *bytes += b;
    }
    if (run > 0) {
        note_gone(s, qid, run);
    }
    enum gw_rc rc =
        e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, gw_spool_db_sql[GW_SPOOL_ST_RANGE_SIZE]);
    sqlite3_reset(st);
    if (rc == GW_OK) {
        st = s->st[GW_SPOOL_ST_DELETE];
        sqlite3_bind_int64(st, 1, first);
        sqlite3_bind_int64(st, 2, last);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_DELETE);
    }
    return rc;
}

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

/* Rows deleted in one transaction (see gw_spool_delete). */
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
     * deleted DELETE_CHUNK rows a transaction, the lock let go between
     * them: a put waiting behind a sent batch (about 900 rows) waits for
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

/* Steps st (a page statement, bound) and hands each row to fn. */
static enum gw_rc page_rows(struct gw_spool *s, sqlite3_stmt *st,
                            bool (*fn)(void *arg, const struct gw_spool_call *c), void *arg)
{
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        const struct gw_spool_qkey *k = gw_spool_db_key(s, sqlite3_column_int64(st, 1));
        GW_ASSERT(k != NULL); /* rows of queues are only removed at open, when unused */
        const void *json = sqlite3_column_blob(st, 3);
        struct gw_spool_call c = {
            .id = sqlite3_column_int64(st, 0),
            .write_key = k->write_key,
            .endpoint = k->endpoint,
            .json = (char *)(json != NULL ? json : ""),
            .len = (size_t)sqlite3_column_bytes(st, 3),
            .enqueued_ms = sqlite3_column_int64(st, 2),
        };
        if (!fn(arg, &c)) {
            return GW_OK;
        }
    }
    return e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, sqlite3_sql(st));
}

static int64_t sql_limit(size_t max)
{
    return max == 0 || max > INT64_MAX ? -1 : (int64_t)max;
}

enum gw_rc gw_spool_page(struct gw_spool *s, int64_t after_id, size_t max,
                         bool (*fn)(void *arg, const struct gw_spool_call *c), void *arg)
{
    if (s == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_PAGE];
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, sql_limit(max));
    enum gw_rc rc = page_rows(s, st, fn, arg);
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
        sqlite3_bind_int64(st, 1, after_id);
        sqlite3_bind_int64(st, 2, sql_limit(max));
        sqlite3_bind_int64(st, 3, upto_id);
        sqlite3_bind_int64(st, 4, k->id);
        rc = page_rows(s, st, fn, arg);
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
