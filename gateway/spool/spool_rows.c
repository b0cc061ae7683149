/* spool_rows.c -- the calls table's rows: up to GW_SPOOL_ROW_CALLS calls of
 * one put in a row, split again when read, deleted once every call of the
 * row was delivered or buried (spool.md, "Rows").
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../mem.h"

/* ---- rows some of whose calls are gone ---- */

static size_t part_bucket(int64_t id)
{
    return (size_t)((uint64_t)id % GW_SPOOL_PART_BUCKETS);
}

static struct gw_spool_part *part_find(const struct gw_spool *s, int64_t id)
{
    struct gw_spool_part *p = s->part[part_bucket(id)];
    while (p != NULL && p->id != id) {
        p = p->next;
    }
    return p;
}

static const struct gw_spool_part *part_of(const struct gw_spool *s, int64_t id)
{
    return s->n_part > 0 ? part_find(s, id) : NULL;
}

static uint64_t part_gone(const struct gw_spool *s, int64_t id)
{
    const struct gw_spool_part *p = part_of(s, id);
    return p != NULL ? p->gone : 0;
}

static void part_put(struct gw_spool *s, int64_t id, uint64_t gone, uint64_t bytes)
{
    struct gw_spool_part *p = part_find(s, id);
    if (p == NULL) {
        p = gw_calloc(1, sizeof(*p));
        p->id = id;
        p->next = s->part[part_bucket(id)];
        s->part[part_bucket(id)] = p;
        s->n_part++;
    }
    p->gone = gone;
    p->bytes = bytes;
}

static void part_remove(struct gw_spool *s, int64_t id)
{
    for (struct gw_spool_part **pp = &s->part[part_bucket(id)]; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct gw_spool_part *p = *pp;
            *pp = p->next;
            free(p);
            s->n_part--;
            return;
        }
    }
}

/* Remembers row id's state before the open transaction changes it. */
static void part_undo(struct gw_spool *s, int64_t id)
{
    if (s->n_undo == s->cap_undo) {
        s->cap_undo = s->cap_undo ? s->cap_undo * 2 : 16;
        s->undo = gw_realloc(s->undo, s->cap_undo * sizeof(*s->undo));
    }
    const struct gw_spool_part *p = part_of(s, id);
    s->undo[s->n_undo++] = (struct gw_spool_part_undo){
        .id = id, .had = p != NULL, .gone = p ? p->gone : 0, .bytes = p ? p->bytes : 0};
}

void gw_spool_rows_end(struct gw_spool *s, enum gw_rc rc)
{
    for (size_t i = s->n_undo; rc != GW_OK && i > 0; i--) {
        const struct gw_spool_part_undo *u = &s->undo[i - 1];
        if (u->had) {
            part_put(s, u->id, u->gone, u->bytes);
        } else {
            part_remove(s, u->id);
        }
    }
    s->n_undo = 0;
}

void gw_spool_rows_fini(struct gw_spool *s)
{
    for (size_t i = 0; i < GW_SPOOL_PART_BUCKETS; i++) {
        while (s->part[i] != NULL) {
            struct gw_spool_part *p = s->part[i];
            s->part[i] = p->next;
            free(p);
        }
    }
    s->n_part = 0;
    free(s->undo);
    s->undo = NULL;
    s->n_undo = s->cap_undo = 0;
    gw_buf_fini(&s->row);
}

/* The bits of calls lo..hi (0-based, lo <= hi < 64) of a row. */
static uint64_t bits(unsigned lo, unsigned hi)
{
    uint64_t upto = hi >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;
    return upto & ~((UINT64_C(1) << lo) - 1);
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

enum gw_rc gw_spool_rows_put(struct gw_spool *s, int64_t qid, int64_t now_ms, int64_t first_id,
                             const char *const *json, const size_t *len, size_t n)
{
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_PUT];
    enum gw_rc rc = GW_OK;
    for (size_t i = 0, k = 0; i < n && rc == GW_OK; i += k) {
        k = row_span(json, len, i, n);
        const char *blob = len[i] > 0 ? json[i] : "";
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
        sqlite3_bind_int64(st, 1, first_id + (int64_t)i);
        sqlite3_bind_int64(st, 2, qid);
        sqlite3_bind_int64(st, 3, now_ms);
        sqlite3_bind_blob64(st, 4, blob, blen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (int64_t)k);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_PUT);
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

/* The bytes of the calls of row id in mask. */
static enum gw_rc calls_bytes(struct gw_spool *s, int64_t id, uint64_t mask, uint64_t *out)
{
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_ROW_OF];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, id);
    int e = sqlite3_step(st);
    *out = 0;
    if (e == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 1);
        const char *at = sqlite3_column_blob(st, 3);
        const char *end = (at != NULL ? at : "") + sqlite3_column_bytes(st, 3);
        at = at != NULL ? at : "";
        for (int64_t k = 0; k < n && k < GW_SPOOL_ROW_CALLS && at != NULL; k++) {
            const char *nl = k + 1 < n ? memchr(at, '\n', (size_t)(end - at)) : NULL;
            if ((mask & (UINT64_C(1) << k)) != 0) {
                *out += (uint64_t)((nl != NULL ? nl : end) - at);
            }
            at = nl != NULL ? nl + 1 : NULL;
        }
        e = SQLITE_DONE;
    }
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, sqlite3_sql(st));
    sqlite3_reset(st);
    return rc;
}

/* Calls lo..hi of row h are gone: the row is deleted with its last call,
 * and each call's bytes are taken off as it goes. */
static enum gw_rc row_gone(struct gw_spool *s, const struct row_head *h, unsigned lo, unsigned hi,
                           uint64_t *calls, uint64_t *bytes)
{
    const struct gw_spool_part *p = part_of(s, h->id);
    uint64_t was = p ? p->gone : 0;
    uint64_t counted = p ? p->bytes : 0;
    uint64_t now = bits(lo, hi) & ~was;
    if (now == 0) {
        return GW_OK; /* deleted before */
    }
    uint64_t b = 0;
    enum gw_rc rc;
    part_undo(s, h->id);
    if ((was | now) == bits(0, (unsigned)h->n - 1)) {
        sqlite3_bind_int64(s->st[GW_SPOOL_ST_DELETE], 1, h->id);
        rc = gw_spool_db_run(s, GW_SPOOL_ST_DELETE);
        b = h->bytes > counted ? h->bytes - counted : 0;
        if (rc == GW_OK) {
            part_remove(s, h->id);
        }
    } else {
        rc = calls_bytes(s, h->id, now, &b);
        if (rc == GW_OK) {
            part_put(s, h->id, was | now, counted + b);
        }
    }
    if (rc == GW_OK) {
        note_gone(s, h->qid, b);
        *calls += (uint64_t)__builtin_popcountll(now);
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
        unsigned lo = (unsigned)((first > h->id ? first : h->id) - h->id);
        unsigned hi = (unsigned)((last < h->id + h->n - 1 ? last : h->id + h->n - 1) - h->id);
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
        uint64_t gone = part_gone(s, id);
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
            if (c.id > after && c.id <= upto && (gone & (UINT64_C(1) << i)) == 0) {
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
        int64_t row = sqlite3_column_int64(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        const char *at = sqlite3_column_blob(st, 3);
        const char *end = (at != NULL ? at : "") + sqlite3_column_bytes(st, 3);
        at = at != NULL ? at : "";
        int64_t k = id - row;
        if (k < n && k < GW_SPOOL_ROW_CALLS && (part_gone(s, row) & (UINT64_C(1) << k)) == 0) {
            for (int64_t i = 0; i < k && at != NULL; i++) {
                const char *nl = memchr(at, '\n', (size_t)(end - at));
                at = nl != NULL ? nl + 1 : NULL;
            }
            if (at != NULL) {
                const char *nl = k + 1 < n ? memchr(at, '\n', (size_t)(end - at)) : NULL;
                gw_buf_reset(out);
                rc = gw_buf_add(out, at, (size_t)((nl != NULL ? nl : end) - at));
                *qid = sqlite3_column_int64(st, 2);
                *found = rc == GW_OK;
            }
        }
        e = SQLITE_DONE;
    }
    if (e != SQLITE_DONE) {
        rc = gw_spool_db_fail(s, e, sqlite3_sql(st));
    }
    sqlite3_reset(st);
    return rc;
}
