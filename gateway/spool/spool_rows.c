/* spool_rows.c -- the calls table's rows: up to GW_SPOOL_ROW_CALLS calls of
 * one put in a row, split again when read; a row holds only calls still
 * queued, so one cut by a delivery or a burial is written again with the
 * rest, in the same transaction (spool.md, "Rows").
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../mem.h"

void gw_spool_rows_fini(struct gw_spool *s)
{
    gw_buf_fini(&s->row);
}

/* ---- put ---- */

static bool has_newline(const char *json, size_t len)
{
    return len > 0 && memchr(json, '\n', len) != NULL;
}

/* How many calls from json[i] go in one row: up to GW_SPOOL_ROW_CALLS, and
 * a call with a raw newline (compact JSON has none) alone. */
static size_t row_span(const char *const *json, const size_t *len, size_t i, size_t n)
{
    if (has_newline(json[i], len[i])) {
        return 1;
    }
    size_t k = 1;
    while (i + k < n && k < GW_SPOOL_ROW_CALLS && !has_newline(json[i + k], len[i + k])) {
        k++;
    }
    return k;
}

/* Inserts one row: n calls from id, their texts joined in blob. */
static enum gw_rc insert_row(struct gw_spool *s, int64_t id, int64_t qid, int64_t enqueued_ms,
                             const char *blob, size_t len, size_t n)
{
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_PUT];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, qid);
    sqlite3_bind_int64(st, 3, enqueued_ms);
    sqlite3_bind_blob64(st, 4, len > 0 ? blob : "", len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)n);
    return gw_spool_db_run(s, GW_SPOOL_ST_PUT);
}

enum gw_rc gw_spool_rows_put(struct gw_spool *s, int64_t qid, int64_t now_ms, int64_t first_id,
                             const char *const *json, const size_t *len, size_t n)
{
    enum gw_rc rc = GW_OK;
    for (size_t i = 0, k = 0; i < n && rc == GW_OK; i += k) {
        k = row_span(json, len, i, n);
        const char *blob = json[i];
        size_t blen = len[i];
        if (k > 1) {
            gw_buf_reset(&s->row);
            for (size_t j = i; j < i + k && rc == GW_OK; j++) {
                rc = j > i ? gw_buf_add(&s->row, "\n", 1) : GW_OK;
                rc = rc == GW_OK ? gw_buf_add(&s->row, json[j], len[j]) : rc;
            }
            if (rc != GW_OK) {
                gw_error("spool", "a row of %zu calls is over %zu bytes", k, s->row.max);
                return GW_ERR_IO;
            }
            blob = s->row.ptr;
            blen = s->row.len;
        }
        rc = insert_row(s, first_id + (int64_t)i, qid, now_ms, blob, blen, k);
    }
    return rc;
}

/* ---- delete ---- */

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

struct row_head {
    int64_t id;
    int64_t n;
    int64_t qid;
    uint64_t bytes; /* of its calls, without the newlines between them */
};

/* The heads of the rows that may hold calls first..last, in *out (grown
 * from the caller's stack array). */
static enum gw_rc row_heads(struct gw_spool *s, int64_t first, int64_t last,
                            struct row_head **out, size_t *n, size_t *cap)
{
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_ROWS];
    sqlite3_bind_int64(st, 1, first > INT64_MIN + GW_SPOOL_ROW_CALLS
                                  ? first - GW_SPOOL_ROW_CALLS : INT64_MIN);
    sqlite3_bind_int64(st, 2, last);
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        struct row_head h = {
            .id = sqlite3_column_int64(st, 0),
            .n = sqlite3_column_int64(st, 1),
            .qid = sqlite3_column_int64(st, 2),
        };
        int64_t bytes = sqlite3_column_int64(st, 3) - (h.n - 1);
        h.bytes = bytes > 0 ? (uint64_t)bytes : 0;
        if (h.n < 1 || h.n > GW_SPOOL_ROW_CALLS || h.id + h.n - 1 < first) {
            continue; /* ends before first (n is checked at open) */
        }
        if (*n == *cap) {
            struct row_head *grown = gw_calloc(*cap * 2, sizeof(*grown));
            memcpy(grown, *out, *n * sizeof(*grown));
            if (*cap > GW_SPOOL_ROW_HEADS) {
                free(*out);
            }
            *out = grown;
            *cap *= 2;
        }
        (*out)[(*n)++] = h;
    }
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, sqlite3_sql(st));
    sqlite3_reset(st);
    return rc;
}

/* Where call k of a row's text starts, and its length (n calls joined
 * in text[0..len)); false past the texts (a damaged row). */
static bool call_at(const char *text, size_t len, int64_t n, int64_t k, size_t *at, size_t *clen)
{
    size_t p = 0;
    for (int64_t i = 0; i < k; i++) {
        const char *nl = memchr(text + p, '\n', len - p);
        if (nl == NULL) {
            return false;
        }
        p = (size_t)(nl - text) + 1;
    }
    const char *nl = k + 1 < n ? memchr(text + p, '\n', len - p) : NULL;
    *at = p;
    *clen = (size_t)((nl != NULL ? nl - text : (ptrdiff_t)len) - (ptrdiff_t)p);
    return true;
}

/* Calls lo..hi of row h leave the spool. The row is deleted; the calls
 * before and after them (if any) are written again as rows of their own,
 * with their ids, so that what is on disk is always what is left to send. */
static enum gw_rc row_gone(struct gw_spool *s, const struct row_head *h, int64_t lo, int64_t hi,
                           uint64_t *calls, uint64_t *bytes)
{
    uint64_t b = h->bytes;
    int64_t enqueued = 0;
    enum gw_rc rc = GW_OK;
    bool cut = lo > 0 || hi < h->n - 1;
    if (cut) { /* the row's text, copied: the statement that read it is reset */
        sqlite3_stmt *st = s->st[GW_SPOOL_ST_ROW_OF];
        sqlite3_bind_int64(st, 1, h->id);
        sqlite3_bind_int64(st, 2, h->id);
        int e = sqlite3_step(st);
        gw_buf_reset(&s->row);
        if (e == SQLITE_ROW) {
            enqueued = sqlite3_column_int64(st, 4);
            rc = gw_buf_add(&s->row, sqlite3_column_blob(st, 3),
                            (size_t)sqlite3_column_bytes(st, 3));
        } else {
            rc = gw_spool_db_fail(s, e, sqlite3_sql(st));
        }
        sqlite3_reset(st);
    }
    size_t from = 0, to = 0, end = 0, lo_len = 0;
    if (rc == GW_OK && cut) {
        const char *text = s->row.len > 0 ? s->row.ptr : "";
        if (!call_at(text, s->row.len, h->n, lo, &from, &lo_len) ||
            !call_at(text, s->row.len, h->n, hi, &to, &end)) {
            gw_error("spool", "row %lld holds fewer calls than it says; left as it is",
                     (long long)h->id);
            return GW_OK;
        }
        to += end; /* the calls lo..hi are text[from..to) */
        b = to - from - (uint64_t)(hi - lo);
    }
    if (rc == GW_OK) {
        sqlite3_bind_int64(s->st[GW_SPOOL_ST_DELETE], 1, h->id);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_DELETE);
    }
    if (rc == GW_OK && cut && lo > 0) { /* the calls before, and their newline after */
        rc = insert_row(s, h->id, h->qid, enqueued, s->row.ptr, from - 1, (size_t)lo);
    }
    if (rc == GW_OK && cut && hi < h->n - 1) { /* the newline before the calls after */
        rc = insert_row(s, h->id + hi + 1, h->qid, enqueued, s->row.ptr + to + 1,
                        s->row.len - to - 1, (size_t)(h->n - 1 - hi));
    }
    if (rc == GW_OK) {
        note_gone(s, h->qid, b);
        *calls += (uint64_t)(hi - lo + 1);
        *bytes += b;
    }
    return rc;
}

enum gw_rc gw_spool_db_delete_range(struct gw_spool *s, int64_t first, int64_t last,
                                    uint64_t *calls, uint64_t *bytes)
{
    struct row_head stack[GW_SPOOL_ROW_HEADS];
    struct row_head *heads = stack;
    size_t n = 0, cap = GW_SPOOL_ROW_HEADS;
    /* the rows are read first, then changed: no row is deleted under a
     * statement that is still reading the table */
    enum gw_rc rc = row_heads(s, first, last, &heads, &n, &cap);
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        const struct row_head *h = &heads[i];
        int64_t lo = (first > h->id ? first : h->id) - h->id;
        int64_t hi = (last < h->id + h->n - 1 ? last : h->id + h->n - 1) - h->id;
        rc = row_gone(s, h, lo, hi, calls, bytes);
    }
    if (heads != stack) {
        free(heads);
    }
    return rc;
}

/* ---- read ---- */

enum gw_rc gw_spool_rows_page(struct gw_spool *s, sqlite3_stmt *st, int64_t after, int64_t upto,
                              size_t max, bool (*fn)(void *arg, const struct gw_spool_call *c),
                              void *arg)
{
    size_t given = 0;
    int e = sqlite3_step(st);
    for (; e == SQLITE_ROW; e = sqlite3_step(st)) {
        const struct gw_spool_qkey *k = gw_spool_db_key(s, sqlite3_column_int64(st, 1));
        GW_ASSERT(k != NULL); /* rows of queues are only removed at open, when unused */
        const char *at = sqlite3_column_blob(st, 3);
        const char *end = (at != NULL ? at : "") + sqlite3_column_bytes(st, 3);
        at = at != NULL ? at : "";
        int64_t id = sqlite3_column_int64(st, 0);
        int64_t n = sqlite3_column_int64(st, 4);
        struct gw_spool_call c = {
            .write_key = k->write_key,
            .endpoint = k->endpoint,
            .enqueued_ms = sqlite3_column_int64(st, 2),
        };
        for (int64_t i = 0; i < n && i < GW_SPOOL_ROW_CALLS; i++) {
            const char *nl = i + 1 < n ? memchr(at, '\n', (size_t)(end - at)) : NULL;
            c.id = id + i;
            c.json = (char *)at;
            c.len = (size_t)((nl != NULL ? nl : end) - at);
            if (c.id > after && c.id <= upto) {
                if (!fn(arg, &c) || (max > 0 && ++given == max)) {
                    return GW_OK;
                }
            }
            if (nl == NULL) {
                break; /* fewer texts than n: a damaged row, the last takes the rest */
            }
            at = nl + 1;
        }
    }
    return e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, sqlite3_sql(st));
}

enum gw_rc gw_spool_rows_call(struct gw_spool *s, int64_t id, int64_t *qid, struct gw_buf *out,
                              bool *found)
{
    *found = false;
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_ROW_OF];
    sqlite3_bind_int64(st, 1, id > INT64_MIN + GW_SPOOL_ROW_CALLS ? id - GW_SPOOL_ROW_CALLS
                                                                  : INT64_MIN);
    sqlite3_bind_int64(st, 2, id);
    int e = sqlite3_step(st);
    enum gw_rc rc = GW_OK;
    if (e == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 1);
        int64_t k = id - sqlite3_column_int64(st, 0);
        const char *text = sqlite3_column_blob(st, 3);
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        size_t at = 0, clen = 0;
        if (k < n && call_at(text != NULL ? text : "", len, n, k, &at, &clen)) {
            gw_buf_reset(out);
            rc = gw_buf_add(out, text != NULL ? text + at : "", clen);
            *qid = sqlite3_column_int64(st, 2);
            *found = rc == GW_OK;
        }
        e = SQLITE_DONE;
    }
    if (e != SQLITE_DONE) {
        rc = gw_spool_db_fail(s, e, sqlite3_sql(st));
    }
    sqlite3_reset(st);
    return rc;
}
