/* spool.c -- the durable queue between ingest and relay: puts with group
 * commit (concurrent callers share one transaction, and asynchronous puts
 * the committer's), deletes, paging; the rows themselves are
 * spool_rows.c's.
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../log.h"
#include "../mem.h"
#include "../thread.h"

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
 * pending, hands the outcome to each waiting caller, and returns the
 * asynchronous puts of the batch, for finish() once the lock is gone. */
static struct gw_spool_put *lead(struct gw_spool *s)
{
    s->leading = true;
    struct gw_spool_put *batch = s->pending;
    s->pending = NULL;
    s->pending_tail = &s->pending;
    s->n_pending = 0;
    pthread_mutex_unlock(&s->lock);
    commit_batch(s, batch);
    pthread_mutex_lock(&s->lock);
    struct gw_spool_put *later = NULL;
    for (struct gw_spool_put *p = batch; p != NULL;) {
        struct gw_spool_put *next = p->next; /* p belongs to its caller once done */
        if (p->then != NULL) {
            p->next = later;
            later = p;
        } else {
            p->done = true;
        }
        p = next;
    }
    s->leading = false;
    pthread_cond_broadcast(&s->cond);
    if (s->pending != NULL) {
        pthread_cond_signal(&s->commit_cond);
    }
    return later;
}

/* Tells each asynchronous put of a batch how it went; unlocked. */
static void finish(struct gw_spool_put *later)
{
    while (later != NULL) {
        struct gw_spool_put *p = later;
        later = p->next;
        p->then(p->then_arg, p->rc);
        free(p);
    }
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

/* Called locked: reserves p's bytes against max_bytes and its write key's
 * share, and queues it. */
static enum gw_rc admit(struct gw_spool *s, struct gw_spool_put *p)
{
    uint64_t used = s->bytes + s->reserved;
    if (used > s->o.max_bytes || p->bytes > s->o.max_bytes - used) {
        return GW_ERR_FULL;
    }
    p->use = gw_spool_db_use(s, p->write_key);
    uint64_t share = key_share(&s->o);
    uint64_t mine = p->use->bytes + p->use->reserved;
    if (mine > share || p->bytes > share - mine) {
        return GW_ERR_QUOTA;
    }
    s->reserved += p->bytes;
    p->use->reserved += p->bytes;
    *s->pending_tail = p;
    s->pending_tail = &p->next;
    s->n_pending++;
    return GW_OK;
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
    struct gw_spool_put *later = NULL;
    pthread_mutex_lock(&s->lock);
    rc = admit(s, &p);
    while (rc == GW_OK && !p.done) {
        if (!s->leading) {
            later = lead(s);
        } else {
            pthread_cond_wait(&s->cond, &s->lock);
        }
    }
    rc = rc == GW_OK ? p.rc : rc;
    pthread_mutex_unlock(&s->lock);
    finish(later);
    for (size_t i = 0; rc == GW_OK && ids != NULL && i < n; i++) {
        ids[i] = p.first_id + (int64_t)i;
    }
    return rc;
}

/* ---- asynchronous puts ---- */

/* Past this many waiting puts, the one that queues commits them itself:
 * the committer yields to busy threads, and must not fall behind them. */
#define ASYNC_INLINE 64

static void *committer(void *arg)
{
    struct gw_spool *s = arg;
    gw_thread_name("sg-commit");
    /* the lowest priority: on a core that serves requests, it commits
     * when they are all waiting for it, so they share one commit */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->pending != NULL && !s->leading) {
            struct gw_spool_put *later = lead(s);
            pthread_mutex_unlock(&s->lock);
            finish(later);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        if (s->commit_stop && s->pending == NULL) {
            break;
        }
        pthread_cond_wait(&s->commit_cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* A heap copy of a put: the struct, then lengths, pointers and bytes. */
static struct gw_spool_put *copy_put(const char *write_key, const char *endpoint,
                                     const char *const *json, const size_t *len, size_t n,
                                     uint64_t bytes)
{
    size_t kl = strlen(write_key) + 1, el = strlen(endpoint) + 1;
    size_t head = sizeof(struct gw_spool_put) + n * (sizeof(size_t) + sizeof(char *));
    struct gw_spool_put *p = gw_malloc(head + (size_t)bytes + kl + el);
    memset(p, 0, sizeof(*p));
    size_t *lens = (size_t *)(p + 1);
    const char **texts = (const char **)(lens + n);
    char *at = (char *)p + head;
    for (size_t i = 0; i < n; i++) {
        lens[i] = len[i];
        texts[i] = at;
        if (len[i] > 0) {
            memcpy(at, json[i], len[i]);
        }
        at += len[i];
    }
    p->write_key = memcpy(at, write_key, kl);
    p->endpoint = memcpy(at + kl, endpoint, el);
    p->json = texts;
    p->len = lens;
    p->n = n;
    p->bytes = bytes;
    return p;
}

enum gw_rc gw_spool_put_async(struct gw_spool *s, const char *write_key, const char *endpoint,
                              const char *const *json, const size_t *len, size_t n,
                              gw_spool_done_fn done, void *arg)
{
    uint64_t bytes = 0;
    enum gw_rc rc = check_put(write_key, endpoint, json, len, n, &bytes);
    if (s == NULL || done == NULL || n == 0 || rc != GW_OK) {
        return rc == GW_OK ? GW_ERR_INVALID : rc;
    }
    struct gw_spool_put *p = copy_put(write_key, endpoint, json, len, n, bytes);
    p->then = done;
    p->then_arg = arg;
    struct gw_spool_put *later = NULL;
    pthread_mutex_lock(&s->lock);
    if (!s->commit_started) {
        s->commit_started = pthread_create(&s->commit_thread, NULL, committer, s) == 0;
    }
    rc = admit(s, p);
    if (rc == GW_OK) {
        if (!s->leading && (s->n_pending >= ASYNC_INLINE || !s->commit_started)) {
            later = lead(s);
        } else {
            pthread_cond_signal(&s->commit_cond);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != GW_OK) {
        free(p);
    }
    finish(later);
    return rc;
}

void gw_spool_db_stop_committer(struct gw_spool *s)
{
    pthread_mutex_lock(&s->lock);
    bool started = s->commit_started;
    s->commit_stop = true;
    pthread_cond_signal(&s->commit_cond);
    pthread_mutex_unlock(&s->lock);
    if (started) {
        pthread_join(s->commit_thread, NULL); /* it commits what waits first */
    }
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
