/* test_spool_rows.c -- the calls of a put kept up to 64 to a row: read back
 * call by call, delivered and buried call by call, a row deleted with its
 * last call, a spool of format 2 opened and migrated.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "spool/spool.h"
#include "spool_fixture.h"


SPOOL_SUITE(spool_rows, "rows");

static void open_spool(void)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&o, &spool, err, sizeof(err)), GW_OK, "open: %s", err);
}

static void reopen(void)
{
    gw_spool_close(spool);
    spool = NULL;
    open_spool();
}

#define MAXC 200

/* n calls "{"i":<k>,"pad":"..."}" of growing length; json[k] points into
 * text. */
struct calls {
    size_t n;
    char text[MAXC][96];
    const char *json[MAXC];
    size_t len[MAXC];
    int64_t id[MAXC];
};

static void make(struct calls *c, size_t n, int tag)
{
    c->n = n;
    for (size_t k = 0; k < n; k++) {
        snprintf(c->text[k], sizeof(c->text[k]), "{\"t\":%d,\"i\":%zu,\"pad\":\"%.*s\"}", tag, k,
                 (int)(k % 40), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        c->json[k] = c->text[k];
        c->len[k] = strlen(c->text[k]);
    }
}

static void put(struct calls *c, const char *key)
{
    cr_assert_eq(gw_spool_put(spool, key, "http://x/v1", c->json, c->len, c->n, c->id), GW_OK);
}

struct seen {
    size_t n;
    int64_t id[MAXC];
    char json[MAXC][96];
};

static bool on_call(void *arg, const struct gw_spool_call *c)
{
    struct seen *s = arg;
    cr_assert_lt(s->n, MAXC);
    cr_assert_lt(c->len, sizeof(s->json[0]));
    s->id[s->n] = c->id;
    memcpy(s->json[s->n], c->json, c->len);
    s->json[s->n][c->len] = '\0';
    s->n++;
    return true;
}

static struct seen *read_all(void)
{
    static struct seen s;
    memset(&s, 0, sizeof(s));
    cr_assert_eq(gw_spool_each(spool, on_call, &s), GW_OK);
    return &s;
}

static uint64_t sum_len(const struct calls *c, size_t from, size_t to)
{
    uint64_t b = 0;
    for (size_t k = from; k < to; k++) {
        b += c->len[k];
    }
    return b;
}

static void assert_depth(uint64_t calls, uint64_t bytes)
{
    uint64_t c = 0, b = 0;
    gw_spool_stats(spool, &c, &b);
    cr_assert_eq(c, calls, "depth %llu, expected %llu", (unsigned long long)c,
                 (unsigned long long)calls);
    cr_assert_eq(b, bytes, "bytes %llu, expected %llu", (unsigned long long)b,
                 (unsigned long long)bytes);
}

/* The spool file on a connection of the test's own. */
static sqlite3 *open_file(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/spool.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                 SQLITE_OK);
    return db;
}

/* A number from the spool file, read with SQLite while the spool is closed. */
static long long file_number(const char *sql)
{
    sqlite3 *db = open_file();
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

Test(spool_rows, a_put_of_150_calls_is_three_rows_read_back_call_by_call)
{
    open_spool();
    static struct calls c;
    make(&c, 150, 1);
    put(&c, "wk_a");
    for (size_t k = 1; k < c.n; k++) {
        cr_assert_eq(c.id[k], c.id[0] + (int64_t)k, "consecutive ids");
    }
    assert_depth(150, sum_len(&c, 0, 150));
    struct seen *s = read_all();
    cr_assert_eq(s->n, 150);
    for (size_t k = 0; k < c.n; k++) {
        cr_assert_eq(s->id[k], c.id[k]);
        cr_assert_str_eq(s->json[k], c.text[k], "call %zu byte for byte", k);
    }
    gw_spool_close(spool);
    spool = NULL;
    cr_assert_eq(file_number("SELECT count(*) FROM calls"), 3, "64 + 64 + 22 calls a row");
    cr_assert_eq(file_number("SELECT sum(n) FROM calls"), 150);
    open_spool();
    assert_depth(150, sum_len(&c, 0, 150));
    cr_assert_eq(read_all()->n, 150, "the same after a reopen");
}

Test(spool_rows, a_row_goes_call_by_call_and_is_deleted_with_its_last_call)
{
    open_spool();
    static struct calls c;
    make(&c, 10, 2);
    put(&c, "wk_a");
    cr_assert_eq(gw_spool_delete(spool, &c.id[0], 4), GW_OK, "the first batch ends in the row");
    assert_depth(6, sum_len(&c, 4, 10));
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), sum_len(&c, 4, 10),
                 "a delivered call frees its write key's room at once");
    struct seen *s = read_all();
    cr_assert_eq(s->n, 6, "delivered calls are not read again");
    cr_assert_eq(s->id[0], c.id[4]);
    cr_assert_str_eq(s->json[5], c.text[9]);
    cr_assert_eq(gw_spool_delete(spool, &c.id[2], 3), GW_OK, "ids 2 and 3 again, and 4");
    assert_depth(5, sum_len(&c, 5, 10));
    /* a page from inside the row */
    struct seen p = {0};
    cr_assert_eq(gw_spool_page(spool, c.id[6], 2, on_call, &p), GW_OK);
    cr_assert_eq(p.n, 2, "max counts calls, not rows");
    cr_assert_eq(p.id[0], c.id[7]);
    cr_assert_eq(p.id[1], c.id[8]);
    cr_assert_eq(gw_spool_delete(spool, &c.id[5], 5), GW_OK);
    assert_depth(0, 0);
    cr_assert_eq(read_all()->n, 0);
    gw_spool_close(spool);
    spool = NULL;
    cr_assert_eq(file_number("SELECT count(*) FROM calls"), 0, "the row went with its last call");
}

/* A batch that ends inside a row leaves the rest of the row on disk, and
 * only the rest: a restart (or a crash) between two batches sends nothing
 * twice. */
Test(spool_rows, a_reopen_after_a_partial_delivery_reads_only_what_is_left)
{
    open_spool();
    static struct calls c;
    make(&c, 10, 3);
    put(&c, "wk_a");
    cr_assert_eq(gw_spool_delete(spool, &c.id[0], 4), GW_OK);
    reopen();
    assert_depth(6, sum_len(&c, 4, 10));
    struct seen *s = read_all();
    cr_assert_eq(s->n, 6);
    for (size_t k = 0; k < 6; k++) {
        cr_assert_eq(s->id[k], c.id[4 + k]);
        cr_assert_str_eq(s->json[k], c.text[4 + k]);
    }
    cr_assert_eq(gw_spool_delete(spool, c.id, 10), GW_OK);
    assert_depth(0, 0);
}

Test(spool_rows, calls_with_a_raw_newline_or_empty_keep_their_bytes)
{
    open_spool();
    const char *json[] = {"{\"a\":1}", "{\"b\":\n2}", "", "{\"c\":3}", "\n", "{\"d\":4}"};
    size_t len[6];
    for (size_t k = 0; k < 6; k++) {
        len[k] = strlen(json[k]);
    }
    int64_t ids[6];
    cr_assert_eq(gw_spool_put(spool, "wk_a", "http://x/v1", json, len, 6, ids), GW_OK);
    struct seen *s = read_all();
    cr_assert_eq(s->n, 6);
    for (size_t k = 0; k < 6; k++) {
        cr_assert_str_eq(s->json[k], json[k], "call %zu", k);
        cr_assert_eq(s->id[k], ids[k]);
    }
    int64_t one = ids[3];
    cr_assert_eq(gw_spool_delete(spool, &one, 1), GW_OK);
    s = read_all();
    cr_assert_eq(s->n, 5);
    cr_assert_str_eq(s->json[2], "");
    cr_assert_str_eq(s->json[3], "\n");
}

struct dead_seen {
    size_t n;
    char body[8][96];
    int status;
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead_seen *s = arg;
    cr_assert_lt(s->n, 8);
    cr_assert_lt(d->len, sizeof(s->body[0]));
    memcpy(s->body[s->n], d->body, d->len);
    s->body[s->n][d->len] = '\0';
    s->status = d->status;
    cr_assert_str_eq(d->write_key, "wk_a");
    cr_assert_str_eq(d->endpoint, "http://x/v1");
    s->n++;
    return true;
}

Test(spool_rows, one_call_of_a_row_buried_is_that_call)
{
    open_spool();
    static struct calls c;
    make(&c, 10, 4);
    put(&c, "wk_a");
    int64_t mid[] = {c.id[3], c.id[7]};
    cr_assert_eq(gw_spool_bury(spool, mid, 2, 400, "refused"), GW_OK);
    cr_assert_eq(gw_spool_bury(spool, mid, 1, 400, "again"), GW_OK, "a call gone is skipped");
    struct dead_seen d = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &d), GW_OK);
    cr_assert_eq(d.n, 2);
    cr_assert_str_eq(d.body[0], c.text[3]);
    cr_assert_str_eq(d.body[1], c.text[7]);
    cr_assert_eq(d.status, 400);
    assert_depth(8, sum_len(&c, 0, 10) - c.len[3] - c.len[7]);
    struct seen *s = read_all();
    cr_assert_eq(s->n, 8);
    cr_assert_str_eq(s->json[3], c.text[4]);
    cr_assert_eq(gw_spool_delete(spool, c.id, 10), GW_OK);
    assert_depth(0, 0);
}

static void exec_file(const char *sql)
{
    sqlite3 *db = open_file();
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

/* A spool written by the previous format (a row per call) is read as it
 * was, then written the new way. */
Test(spool_rows, a_spool_of_format_2_is_migrated_and_read)
{
    exec_file("PRAGMA journal_mode = WAL;"
              SPOOL_OLD_QUEUES_CALLS
              "CREATE TABLE dead (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
              " source TEXT, write_key TEXT, endpoint TEXT, content_type TEXT, headers TEXT,"
              " body BLOB NOT NULL, status INTEGER NOT NULL, reason TEXT,"
              " at_ms INTEGER NOT NULL, unverified INTEGER NOT NULL DEFAULT 0);"
              "INSERT INTO queues VALUES (1, 'wk_a', 'http://x/v1');"
              "INSERT INTO calls VALUES (5, 1, 1700000000000, CAST('{\"old\":1}' AS BLOB)),"
              " (6, 1, 1700000000000, CAST('{\"old\":2}' AS BLOB)),"
              " (7, 1, 1700000000000, CAST('{\"old\":3}' AS BLOB));"
              "PRAGMA user_version = 2;");
    open_spool();
    assert_depth(3, 3 * strlen("{\"old\":1}"));
    struct seen *s = read_all();
    cr_assert_eq(s->n, 3);
    cr_assert_eq(s->id[0], 5);
    cr_assert_str_eq(s->json[2], "{\"old\":3}");
    static struct calls c;
    make(&c, 3, 5);
    put(&c, "wk_a");
    cr_assert_eq(c.id[0], 8, "new ids start above the old calls");
    int64_t old[] = {5, 6};
    cr_assert_eq(gw_spool_delete(spool, old, 2), GW_OK);
    s = read_all();
    cr_assert_eq(s->n, 4);
    cr_assert_eq(s->id[0], 7);
    cr_assert_str_eq(s->json[3], c.text[2]);
    gw_spool_close(spool);
    spool = NULL;
    cr_assert_eq(file_number("PRAGMA user_version"), 3);
    cr_assert_eq(file_number("SELECT count(*) FROM calls"), 2, "an old row and a new one");
}

Test(spool_rows, a_newer_format_is_refused)
{
    open_spool();
    gw_spool_close(spool);
    spool = NULL;
    exec_file("PRAGMA user_version = 4;");
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    char err[256] = "";
    cr_assert_neq(gw_spool_open(&o, &spool, err, sizeof(err)), GW_OK);
    cr_assert_not_null(strstr(err, "format 4"), "%s", err);
}

/* spool check and recover count calls, not the rows holding them. */
Test(spool_rows, check_and_recover_count_calls)
{
    open_spool();
    static struct calls c;
    make(&c, 70, 6);
    put(&c, "wk_a");
    gw_spool_close(spool);
    spool = NULL;
    struct gw_spool_check_report rep;
    char err[256] = "";
    cr_assert_eq(gw_spool_check(dir, &rep, err, sizeof(err)), GW_OK, "%s", err);
    cr_assert(rep.ok);
    cr_assert_eq(rep.rows[1], 70);
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    struct gw_spool_recover_report rr;
    cr_assert_eq(gw_spool_recover(&o, &rr, err, sizeof(err)), GW_OK, "%s", err);
    cr_assert_eq(rr.calls, 70);
    open_spool();
    struct seen *s = read_all();
    cr_assert_eq(s->n, 70);
    cr_assert_str_eq(s->json[69], c.text[69]);
}

/* A transaction of deletes that fails leaves the rows as they were: the
 * row it had cut and written again is whole again, and counted. Here
 * another connection holds the write lock, so the delete's read
 * transaction cannot become a write one (SQLite answers busy at once
 * rather than wait: waiting could deadlock). */
Test(spool_rows, a_failed_delete_leaves_the_rows_as_they_were, .timeout = 60)
{
    open_spool();
    static struct calls a, b;
    make(&a, 10, 7);
    make(&b, 10, 8);
    put(&a, "wk_a");
    put(&b, "wk_a");
    sqlite3 *other = open_file();
    cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* a's row would be cut to calls 0..3, b's row deleted: that fails */
    int64_t ids[16];
    for (size_t k = 0; k < 6; k++) {
        ids[k] = a.id[4 + k];
    }
    for (size_t k = 0; k < 10; k++) {
        ids[6 + k] = b.id[k];
    }
    cr_assert_neq(gw_spool_delete(spool, ids, 16), GW_OK);
    cr_assert_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_depth(20, sum_len(&a, 0, 10) + sum_len(&b, 0, 10));
    struct seen *s = read_all();
    cr_assert_eq(s->n, 20, "a's calls 4..9 are queued again");
    cr_assert_str_eq(s->json[4], a.text[4]);
    cr_assert_eq(gw_spool_delete(spool, ids, 16), GW_OK);
    assert_depth(4, sum_len(&a, 0, 4));
    s = read_all();
    cr_assert_eq(s->n, 4);
}

/* ---- a random walk against a model ---- */

#define MODEL_IDS 12000

struct model {
    char *text[MODEL_IDS];
    size_t len[MODEL_IDS];
    bool queued[MODEL_IDS];
    bool put[MODEL_IDS];
    bool back[MODEL_IDS]; /* read in this pass */
    int64_t first[MODEL_IDS], last[MODEL_IDS]; /* of the put of each id */
    int64_t next;
    size_t cuts; /* deliveries and burials that began or ended inside a put */
    uint64_t read_calls, read_bytes;
};

static bool on_model(void *arg, const struct gw_spool_call *c)
{
    struct model *m = arg;
    cr_assert(c->id >= 0 && c->id < MODEL_IDS && m->put[c->id], "id %lld was never put",
              (long long)c->id);
    cr_assert(!m->back[c->id], "id %lld read twice in one pass", (long long)c->id);
    cr_assert_eq(c->len, m->len[c->id], "id %lld: %zu bytes, put %zu", (long long)c->id, c->len,
                 m->len[c->id]);
    cr_assert(c->len == 0 || memcmp(c->json, m->text[c->id], c->len) == 0, "id %lld's bytes",
              (long long)c->id);
    m->back[c->id] = true;
    m->read_calls++;
    m->read_bytes += c->len;
    return true;
}

/* Reads everything: every queued call comes back, byte for byte, and no
 * other, restart or not; the counters match what is read. */
static void check_model(struct model *m)
{
    memset(m->back, 0, sizeof(m->back));
    m->read_calls = m->read_bytes = 0;
    cr_assert_eq(gw_spool_each(spool, on_model, m), GW_OK);
    for (int64_t id = 0; id < m->next; id++) {
        cr_assert_eq(m->back[id], m->queued[id], "call %lld: %s", (long long)id,
                     m->queued[id] ? "queued, not read" : "gone, read again");
    }
    uint64_t calls = 0, bytes = 0;
    gw_spool_stats(spool, &calls, &bytes);
    cr_assert_eq(calls, m->read_calls, "counted %llu calls, read %llu", (unsigned long long)calls,
                 (unsigned long long)m->read_calls);
    cr_assert_eq(bytes, m->read_bytes);
}

static void model_put(struct model *m, unsigned *seed)
{
    size_t n = 1 + (size_t)rand_r(seed) % 150;
    if (m->next + (int64_t)n + 1 >= MODEL_IDS) {
        return;
    }
    const char *json[150];
    size_t len[150];
    int64_t ids[150];
    char *mine[150];
    for (size_t k = 0; k < n; k++) {
        unsigned r = (unsigned)rand_r(seed);
        if (r % 50 == 0) {
            mine[k] = gw_strdup("");
        } else {
            mine[k] = gw_asprintf("{\"n\":%lld,\"p\":\"%.*s\"%s}", (long long)m->next + (long long)k,
                                  (int)(r % 60), "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
                                  "qrstuvwxyz01234567", r % 33 == 0 ? ",\"raw\":\n1" : "");
        }
        json[k] = mine[k];
        len[k] = strlen(mine[k]);
    }
    cr_assert_eq(gw_spool_put(spool, "wk_m", "http://x/v1", json, len, n, ids), GW_OK);
    for (size_t k = 0; k < n; k++) {
        /* after a reopen the ids of calls gone for good may come again */
        cr_assert(ids[k] > 0 && ids[k] < MODEL_IDS && (k == 0 || ids[k] == ids[k - 1] + 1));
        cr_assert(!m->queued[ids[k]], "id %lld is a queued call's", (long long)ids[k]);
        free(m->text[ids[k]]);
        m->text[ids[k]] = mine[k];
        m->len[ids[k]] = len[k];
        m->queued[ids[k]] = m->put[ids[k]] = true;
        m->first[ids[k]] = ids[0];
        m->last[ids[k]] = ids[n - 1];
    }
    m->next = ids[n - 1] + 1 > m->next ? ids[n - 1] + 1 : m->next;
}

/* Delivers (or buries) a run of ids from a random queued one, as a batch
 * that may start or end inside rows. */
static void model_take(struct model *m, unsigned *seed, bool bury)
{
    if (m->next == 0) {
        return;
    }
    int64_t from = (int64_t)((unsigned)rand_r(seed) % (unsigned)m->next);
    while (from < m->next && !m->queued[from]) {
        from++;
    }
    size_t n = bury ? 1 + (size_t)rand_r(seed) % 3 : 1 + (size_t)rand_r(seed) % 120;
    int64_t ids[120];
    size_t k = 0;
    for (int64_t id = from; id < m->next && k < n; id++) {
        ids[k++] = id; /* gone ones too: deleting again is a no-op */
    }
    if (k == 0) {
        return;
    }
    if (bury) {
        cr_assert_eq(gw_spool_bury(spool, ids, k, 400, "refused"), GW_OK);
    } else {
        cr_assert_eq(gw_spool_delete(spool, ids, k), GW_OK);
    }
    for (size_t i = 0; i < k; i++) {
        m->queued[ids[i]] = false;
    }
    m->cuts += ids[0] != m->first[ids[0]] || ids[k - 1] != m->last[ids[k - 1]];
}

/* 600 random steps: puts of 1 to 150 calls (some empty, some with a raw
 * newline), deliveries of runs that begin and end anywhere, burials,
 * reopens; after each tenth step and each reopen, the spool holds exactly
 * the model's queued calls. */
Test(spool_rows, random_puts_deliveries_burials_and_reopens_lose_nothing, .timeout = 120)
{
    static struct model m;
    memset(&m, 0, sizeof(m));
    open_spool();
    unsigned seed = 20261202;
    for (int step = 0; step < 600; step++) {
        unsigned r = (unsigned)rand_r(&seed) % 100;
        if (r < 40) {
            model_put(&m, &seed);
        } else if (r < 85) {
            model_take(&m, &seed, false);
        } else if (r < 95) {
            model_take(&m, &seed, true);
        } else {
            reopen();
            check_model(&m);
            continue;
        }
        if (step % 10 == 0) {
            check_model(&m);
        }
    }
    reopen();
    check_model(&m);
    cr_assert_gt(m.next, 5000, "the walk put enough calls to matter (%lld)", (long long)m.next);
    cr_assert_gt(m.cuts, 100, "the walk cut rows often enough to matter (%zu)", m.cuts);
    for (int64_t id = 0; id < m.next; id++) {
        free(m.text[id]);
    }
}
