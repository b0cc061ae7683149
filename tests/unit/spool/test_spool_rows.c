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

#include "spool/spool.h"

extern void __lsan_disable(void) __attribute__((weak));

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    if (__lsan_disable != NULL) {
        __lsan_disable();
    }
}

static char dir[64];
static struct gw_spool *spool;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/gwtest-rows-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    gw_spool_close(spool);
    spool = NULL;
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(spool_rows, .init = setup, .fini = teardown, .timeout = 60);

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

/* A number from the spool file, read with SQLite while the spool is closed. */
static long long file_number(const char *sql)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/spool.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
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

/* What a crash between two batches costs: the calls of a row already
 * delivered are read again, none is lost. */
Test(spool_rows, a_reopen_reads_a_partly_delivered_row_whole)
{
    open_spool();
    static struct calls c;
    make(&c, 10, 3);
    put(&c, "wk_a");
    cr_assert_eq(gw_spool_delete(spool, &c.id[0], 4), GW_OK);
    reopen();
    assert_depth(10, sum_len(&c, 0, 10));
    struct seen *s = read_all();
    cr_assert_eq(s->n, 10);
    cr_assert_str_eq(s->json[0], c.text[0]);
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
    char path[128];
    snprintf(path, sizeof(path), "%s/spool.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                 SQLITE_OK);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

/* A spool written by the previous format (a row per call) is read as it
 * was, then written the new way. */
Test(spool_rows, a_spool_of_format_2_is_migrated_and_read)
{
    exec_file("PRAGMA journal_mode = WAL;"
              "CREATE TABLE queues (id INTEGER PRIMARY KEY, write_key TEXT NOT NULL,"
              " endpoint TEXT NOT NULL, UNIQUE (write_key, endpoint));"
              "CREATE TABLE calls (id INTEGER PRIMARY KEY, queue INTEGER NOT NULL,"
              " enqueued_ms INTEGER NOT NULL, json BLOB NOT NULL);"
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
