/* spool_dead.c -- the dead letters: calls Segment refused and requests
 * sourcegate refused, kept (bounded) for a replay.
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../metrics.h"
#include "../mem.h"

/* The dead letters' counters before a transaction, to restore on failure;
 * and what its trim evicted. */
struct dead_txn {
    uint64_t dead, dead_bytes;
    uint64_t evicted, evicted_bytes;
};

static bool over(const struct gw_spool *s, uint64_t n, uint64_t bytes)
{
    return s->dead - n > s->o.max_dead ||
           (bytes < s->dead_bytes && s->dead_bytes - bytes > s->o.max_dead_bytes);
}

/* Drops the oldest dead letters past max_dead or max_dead_bytes, inside
 * the transaction. */
static enum gw_rc trim_dead(struct gw_spool *s, struct dead_txn *t)
{
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_DEAD_OLDEST];
    uint64_t n = 0, bytes = 0;
    int64_t last = 0;
    int e = SQLITE_ROW;
    while (e == SQLITE_ROW && n < s->dead && over(s, n, bytes)) {
        e = sqlite3_step(st);
        if (e == SQLITE_ROW) {
            last = sqlite3_column_int64(st, 0);
            bytes += (uint64_t)sqlite3_column_int64(st, 1);
            n++;
        }
    }
    sqlite3_reset(st);
    if (e != SQLITE_ROW && e != SQLITE_DONE) {
        return gw_spool_db_fail(s, e, gw_spool_db_sql[GW_SPOOL_ST_DEAD_OLDEST]);
    }
    if (n == 0) {
        return GW_OK;
    }
    sqlite3_bind_int64(s->st[GW_SPOOL_ST_DEAD_DROP_TO], 1, last);
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_DEAD_DROP_TO);
    if (rc == GW_OK) {
        s->dead -= n;
        s->dead_bytes -= bytes < s->dead_bytes ? bytes : s->dead_bytes;
        t->evicted = n;
        t->evicted_bytes = bytes;
    }
    return rc;
}

static void txn_begin(const struct gw_spool *s, struct dead_txn *t)
{
    *t = (struct dead_txn){.dead = s->dead, .dead_bytes = s->dead_bytes};
}

/* After the transaction: the counters back on failure, else the eviction
 * counted and logged (numbers only: dead letters hold write keys). */
static void txn_end(struct gw_spool *s, const struct dead_txn *t, enum gw_rc rc)
{
    if (rc != GW_OK) {
        s->dead = t->dead;
        s->dead_bytes = t->dead_bytes;
    } else if (t->evicted > 0) {
        s->evicted += t->evicted;
        s->evicted_bytes += t->evicted_bytes;
        gw_metrics_dead_evicted(t->evicted);
        gw_warn("spool", "dead letters over their bound (%llu bytes, %llu letters): evicted the "
                "%llu oldest, %llu bytes",
                (unsigned long long)s->o.max_dead_bytes, (unsigned long long)s->o.max_dead,
                (unsigned long long)t->evicted, (unsigned long long)t->evicted_bytes);
    }
}

static size_t reason_len(const char *reason)
{
    return reason == NULL ? 0 : strnlen(reason, GW_SPOOL_REASON_MAX);
}

/* A queued call (id) to the dead letters, its text bound as the body;
 * a call no longer queued is skipped. */
static enum gw_rc bury_one(struct gw_spool *s, int64_t id, int status, const char *reason,
                           uint64_t *calls, uint64_t *bytes)
{
    int64_t qid = 0;
    bool found = false;
    enum gw_rc rc = gw_spool_rows_call(s, id, &qid, &s->row, &found);
    if (rc != GW_OK || !found) {
        return rc;
    }
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_BURY];
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int(st, 2, status);
    if (reason != NULL) {
        sqlite3_bind_text(st, 3, reason, (int)reason_len(reason), SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 3);
    }
    sqlite3_bind_int64(st, 4, gw_spool_db_now_ms());
    sqlite3_bind_blob64(st, 5, s->row.len > 0 ? s->row.ptr : "", s->row.len, SQLITE_STATIC);
    rc = gw_spool_db_run(s, GW_SPOOL_ST_BURY);
    int copied = rc == GW_OK ? sqlite3_changes(s->db) : 0;
    uint64_t body = s->row.len; /* the delete below may reuse the buffer */
    if (rc == GW_OK) {
        rc = gw_spool_db_delete_range(s, id, id, calls, bytes);
    }
    if (rc == GW_OK && copied > 0) {
        s->dead += (uint64_t)copied;
        s->dead_bytes += body + reason_len(reason);
    }
    return rc;
}

enum gw_rc gw_spool_bury(struct gw_spool *s, const int64_t *ids, size_t n, int status,
                         const char *reason)
{
    if (s == NULL || (n > 0 && ids == NULL)) {
        return GW_ERR_INVALID;
    }
    uint64_t calls = 0;
    uint64_t bytes = 0;
    gw_spool_db_lock(s);
    struct dead_txn t;
    txn_begin(s, &t);
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_BEGIN);
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        rc = bury_one(s, ids[i], status, reason, &calls, &bytes);
    }
    if (rc == GW_OK) {
        rc = trim_dead(s, &t);
    }
    rc = gw_spool_db_finish(s, rc);
    txn_end(s, &t, rc);
    gw_spool_db_uncount(s, rc, calls, bytes);
    gw_spool_db_unlock(s);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static void bind_dead(sqlite3_stmt *st, const struct gw_spool_dead *d)
{
    bind_text_or_null(st, 1, d->kind);
    bind_text_or_null(st, 2, d->source);
    bind_text_or_null(st, 3, d->write_key);
    bind_text_or_null(st, 4, d->endpoint);
    bind_text_or_null(st, 5, d->content_type);
    bind_text_or_null(st, 6, d->headers);
    sqlite3_bind_blob64(st, 7, d->len > 0 ? d->body : "", d->len, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, d->status);
    if (d->reason != NULL) {
        sqlite3_bind_text(st, 9, d->reason, (int)reason_len(d->reason), SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 9);
    }
    sqlite3_bind_int64(st, 10, gw_spool_db_now_ms());
    sqlite3_bind_int(st, 11, d->unverified ? 1 : 0);
}

enum gw_rc gw_spool_dead_put(struct gw_spool *s, const struct gw_spool_dead *d)
{
    if (s == NULL || d == NULL || d->kind == NULL || (d->len > 0 && d->body == NULL)) {
        return GW_ERR_INVALID;
    }
    if (d->verified == d->unverified) {
        gw_error("spool", "a dead letter that does not say whether it was verified is not kept");
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    struct dead_txn t;
    txn_begin(s, &t);
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_BEGIN);
    if (rc == GW_OK) {
        bind_dead(s->st[GW_SPOOL_ST_DEAD_PUT], d);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_DEAD_PUT);
    }
    if (rc == GW_OK) {
        s->dead++;
        s->dead_bytes += d->len + (d->headers ? strlen(d->headers) : 0) + reason_len(d->reason);
        rc = trim_dead(s, &t);
    }
    rc = gw_spool_db_finish(s, rc);
    txn_end(s, &t, rc);
    gw_spool_db_unlock(s);
    return rc;
}

static void read_dead(sqlite3_stmt *st, struct gw_spool_dead *d)
{
    const void *body = sqlite3_column_blob(st, 7);
    *d = (struct gw_spool_dead){
        .id = sqlite3_column_int64(st, 0),
        .kind = (char *)gw_spool_db_text(st, 1),
        .source = (char *)gw_spool_db_text(st, 2),
        .write_key = (char *)gw_spool_db_text(st, 3),
        .endpoint = (char *)gw_spool_db_text(st, 4),
        .content_type = (char *)gw_spool_db_text(st, 5),
        .headers = (char *)gw_spool_db_text(st, 6),
        .body = (char *)(body != NULL ? body : ""),
        .len = (size_t)sqlite3_column_bytes(st, 7),
        .status = sqlite3_column_int(st, 8),
        .reason = (char *)gw_spool_db_text(st, 9),
        .at_ms = sqlite3_column_int64(st, 10),
        .unverified = sqlite3_column_int(st, 11) != 0,
    };
    d->verified = !d->unverified;
}

enum gw_rc gw_spool_dead_each(struct gw_spool *s, const char *source, int64_t since_ms,
                              bool (*fn)(void *arg, const struct gw_spool_dead *d), void *arg)
{
    if (s == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_DEAD_EACH];
    bind_text_or_null(st, 1, source);
    sqlite3_bind_int64(st, 2, since_ms);
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        struct gw_spool_dead d;
        read_dead(st, &d);
        if (!fn(arg, &d)) {
            e = SQLITE_DONE;
            break;
        }
    }
    enum gw_rc rc =
        e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, gw_spool_db_sql[GW_SPOOL_ST_DEAD_EACH]);
    sqlite3_reset(st);
    gw_spool_db_unlock(s);
    return rc;
}

enum gw_rc gw_spool_dead_remove(struct gw_spool *s, int64_t id)
{
    if (s == NULL) {
        return GW_ERR_INVALID;
    }
    gw_spool_db_lock(s);
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_DEAD_SIZE];
    sqlite3_bind_int64(st, 1, id);
    uint64_t size = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_bind_int64(s->st[GW_SPOOL_ST_DEAD_REMOVE], 1, id);
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_DEAD_REMOVE);
    if (rc == GW_OK && sqlite3_changes(s->db) == 0) {
        rc = GW_ERR_NOT_FOUND;
    } else if (rc == GW_OK) {
        s->dead--;
        s->dead_bytes -= size < s->dead_bytes ? size : s->dead_bytes;
    }
    gw_spool_db_unlock(s);
    return rc;
}

void gw_spool_dead_stats(struct gw_spool *s, struct gw_spool_dead_stats *out)
{
    gw_spool_db_lock(s);
    *out = (struct gw_spool_dead_stats){.dead = s->dead, .dead_bytes = s->dead_bytes,
                                        .evicted = s->evicted,
                                        .evicted_bytes = s->evicted_bytes};
    gw_spool_db_unlock(s);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? gw_strdup(s) : NULL;
}

void gw_spool_dead_fini(struct gw_spool_dead *d)
{
    GW_FREE(d->kind);
    GW_FREE(d->source);
    GW_FREE(d->write_key);
    GW_FREE(d->endpoint);
    GW_FREE(d->content_type);
    GW_FREE(d->headers);
    GW_FREE(d->body);
    GW_FREE(d->reason);
    d->len = 0;
}

void gw_spool_dead_copy(struct gw_spool_dead *dst, const struct gw_spool_dead *src)
{
    *dst = *src;
    dst->kind = dup_or_null(src->kind);
    dst->source = dup_or_null(src->source);
    dst->write_key = dup_or_null(src->write_key);
    dst->endpoint = dup_or_null(src->endpoint);
    dst->content_type = dup_or_null(src->content_type);
    dst->headers = dup_or_null(src->headers);
    dst->body = gw_malloc(src->len + 1);
    memcpy(dst->body, src->body, src->len);
    dst->body[src->len] = '\0';
    dst->reason = dup_or_null(src->reason);
}

/* Runs a SELECT of the dead table's columns (the ones read_dead reads),
 * with its text parameters bound, calling fn per row. Under the lock. */
static enum gw_rc dead_query(struct gw_spool *s, sqlite3_stmt *st,
                             bool (*fn)(void *arg, const struct gw_spool_dead *d), void *arg,
                             size_t *rows)
{
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        struct gw_spool_dead d;
        read_dead(st, &d);
        (*rows)++;
        if (!fn(arg, &d)) {
            e = SQLITE_DONE;
            break;
        }
    }
    return e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, sqlite3_sql(st));
}

#define DEAD_COLUMNS                                                                       \
    "SELECT id, kind, source, write_key, endpoint, content_type, headers, body, status, reason," \
    " at_ms, unverified FROM dead "

enum gw_rc gw_spool_dead_list(struct gw_spool *s, const char *source, size_t offset,
                              size_t limit, bool (*fn)(void *arg, const struct gw_spool_dead *d),
                              void *arg, uint64_t *total)
{
    if (s == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    static const char sql[] =
        DEAD_COLUMNS "WHERE (?1 IS NULL OR source = ?1) ORDER BY id DESC LIMIT ?2 OFFSET ?3";
    gw_spool_db_lock(s);
    sqlite3_stmt *st = NULL;
    sqlite3_stmt *count = NULL;
    int e = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (e == SQLITE_OK) {
        e = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM dead WHERE (?1 IS NULL OR source = ?1)",
                               -1, &count, NULL);
    }
    enum gw_rc rc = e == SQLITE_OK ? GW_OK : gw_spool_db_fail(s, e, sql);
    size_t rows = 0;
    if (rc == GW_OK) {
        bind_text_or_null(st, 1, source);
        sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
        sqlite3_bind_int64(st, 3, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
        rc = dead_query(s, st, fn, arg, &rows);
    }
    if (rc == GW_OK && total != NULL) {
        bind_text_or_null(count, 1, source);
        e = sqlite3_step(count);
        rc = e == SQLITE_ROW ? GW_OK : gw_spool_db_fail(s, e, "count dead letters");
        *total = rc == GW_OK ? (uint64_t)sqlite3_column_int64(count, 0) : 0;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(count);
    gw_spool_db_unlock(s);
    return rc;
}

enum gw_rc gw_spool_dead_get(struct gw_spool *s, int64_t id,
                             bool (*fn)(void *arg, const struct gw_spool_dead *d), void *arg)
{
    if (s == NULL || fn == NULL) {
        return GW_ERR_INVALID;
    }
    static const char sql[] = DEAD_COLUMNS "WHERE id = ?1";
    gw_spool_db_lock(s);
    sqlite3_stmt *st = NULL;
    int e = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    enum gw_rc rc = e == SQLITE_OK ? GW_OK : gw_spool_db_fail(s, e, sql);
    size_t rows = 0;
    if (rc == GW_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = dead_query(s, st, fn, arg, &rows);
    }
    sqlite3_finalize(st);
    gw_spool_db_unlock(s);
    return rc == GW_OK && rows == 0 ? GW_ERR_NOT_FOUND : rc;
}
