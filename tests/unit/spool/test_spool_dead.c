/* test_spool_dead.c -- the dead letters' byte bound: the oldest go first,
 * counted, and the count of bytes survives a reopen.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "metrics.h"
#include "spool/spool.h"
#include "spool_fixture.h"

#include <sqlite3.h>

#define BOUND 4096
#define LETTERS 10


SPOOL_SUITE(spool_dead, "dead");

static struct gw_spool *open_bounded(uint64_t max_dead_bytes)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.max_dead_bytes = max_dead_bytes;
    struct gw_spool *s = NULL;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&o, &s, err, sizeof(err)), GW_OK, "open: %s", err);
    return s;
}

/* A body of about 1000 bytes that says which letter it is. */
static char *body_of(int n)
{
    char *b = gw_malloc(1001);
    memset(b, 'x', 1000);
    b[1000] = '\0';
    int k = snprintf(b, 32, "{\"n\":%d,\"pad\":\"", n);
    b[k] = 'x';
    memcpy(b + 998, "\"}", 2);
    return b;
}

struct seen {
    int n[LETTERS];
    int64_t id[LETTERS];
    size_t count;
    uint64_t bytes;
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct seen *s = arg;
    cr_assert_lt(s->count, LETTERS);
    cr_assert_eq(sscanf(d->body, "{\"n\":%d", &s->n[s->count]), 1);
    s->id[s->count] = d->id;
    s->bytes += d->len + (d->headers ? strlen(d->headers) : 0) + strlen(d->reason);
    s->count++;
    return true;
}

Test(spool_dead, default_bound_is_the_settings)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    cr_expect_eq(o.max_dead_bytes, gw_config_defaults()->max_dead_letters);
    cr_expect_eq(o.max_dead_bytes, 256u << 20);
}

Test(spool_dead, put_past_the_byte_bound_evicts_the_oldest)
{
    gw_metrics_reset();
    spool = open_bounded(BOUND);
    for (int i = 0; i < LETTERS; i++) {
        char *body = body_of(i);
        struct gw_spool_dead d = {.kind = (char *)"request", .source = (char *)"stripe",
                                  .headers = (char *)"{\"A\":\"b\"}", .body = body,
                                  .len = strlen(body), .status = 422, .reason = (char *)"why",
                                  .verified = true};
        cr_assert_eq(gw_spool_dead_put(spool, &d), GW_OK);
        free(body);
    }
    struct seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_expect_eq(s.count, 4, "four letters of 1012 bytes fit in 4096");
    for (size_t i = 0; i < s.count; i++) {
        cr_expect_eq(s.n[i], LETTERS - (int)s.count + (int)i, "the newest stay, in order");
    }
    cr_expect_leq(s.bytes, BOUND);
    struct gw_spool_dead_stats st;
    gw_spool_dead_stats(spool, &st);
    cr_expect_eq(st.dead, s.count);
    cr_expect_eq(st.dead_bytes, s.bytes);
    cr_expect_eq(st.evicted, LETTERS - s.count);
    cr_expect_eq(st.evicted_bytes, (LETTERS - s.count) * 1012);
    /* and /metrics says so */
    char *text = gw_metrics_render(NULL);
    char line[96];
    snprintf(line, sizeof(line), "\nsourcegate_dead_letters_evicted_total %zu\n",
             (size_t)(LETTERS - s.count));
    cr_expect_neq(strstr(text, line), NULL, "%s", text);
    free(text);

    /* the count of bytes is the table's after a reopen */
    gw_spool_close(spool);
    spool = open_bounded(BOUND);
    gw_spool_dead_stats(spool, &st);
    cr_expect_eq(st.dead, s.count);
    cr_expect_eq(st.dead_bytes, s.bytes);
    cr_expect_eq(st.evicted, 0, "evictions are counted since open");
}

Test(spool_dead, burials_past_the_byte_bound_evict_the_oldest)
{
    spool = open_bounded(BOUND);
    int64_t ids[LETTERS];
    for (int i = 0; i < LETTERS; i++) {
        char *body = body_of(i);
        const char *json = body;
        size_t len = strlen(body);
        cr_assert_eq(gw_spool_put(spool, "wk_A", "http://x/v1", &json, &len, 1, &ids[i]), GW_OK);
        free(body);
    }
    for (int i = 0; i < LETTERS; i++) {
        cr_assert_eq(gw_spool_bury(spool, &ids[i], 1, 400, "no"), GW_OK);
    }
    struct seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_expect_eq(s.count, 4);
    cr_expect_eq(s.n[0], LETTERS - 4, "the oldest went first");
    cr_expect_eq(s.n[s.count - 1], LETTERS - 1);
    struct gw_spool_dead_stats st;
    gw_spool_dead_stats(spool, &st);
    cr_expect_eq(st.dead_bytes, s.bytes);
    cr_expect_eq(st.evicted, LETTERS - 4);
    /* a replayed letter's bytes leave the count */
    cr_assert_eq(gw_spool_dead_remove(spool, s.id[0]), GW_OK);
    gw_spool_dead_stats(spool, &st);
    cr_expect_eq(st.dead, 3);
    cr_expect_eq(st.dead_bytes, s.bytes - 1002);
}

/* ---- only requests that say how they were trusted ---- */

static bool on_trust(void *arg, const struct gw_spool_dead *d)
{
    int *flags = arg;
    *flags = (d->verified ? 1 : 0) | (d->unverified ? 2 : 0);
    return true;
}

static bool on_id(void *arg, const struct gw_spool_dead *d)
{
    *(int64_t *)arg = d->id;
    return true;
}

static bool on_first_trust(void *arg, const struct gw_spool_dead *d)
{
    on_trust(arg, d);
    return false;
}

Test(spool_dead, a_request_must_say_whether_it_was_verified)
{
    spool = open_bounded(BOUND);
    struct gw_spool_dead d = {.kind = (char *)"request", .source = (char *)"github",
                              .body = (char *)"{", .len = 1, .status = 400};
    cr_expect_eq(gw_spool_dead_put(spool, &d), GW_ERR_INVALID, "neither");
    d.verified = d.unverified = true;
    cr_expect_eq(gw_spool_dead_put(spool, &d), GW_ERR_INVALID, "both");
    struct gw_spool_dead_stats st;
    gw_spool_dead_stats(spool, &st);
    cr_expect_eq(st.dead, 0, "nothing half-said is kept");
    d.verified = false;
    cr_assert_eq(gw_spool_dead_put(spool, &d), GW_OK);
    int flags = 0;
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_trust, &flags), GW_OK);
    cr_expect_eq(flags, 2, "kept unverified, read back unverified");
    /* the debugger's page of letters and one letter by id read it alike */
    flags = 0;
    uint64_t total = 0;
    cr_assert_eq(gw_spool_dead_list(spool, NULL, 0, 10, on_trust, &flags, &total), GW_OK);
    cr_expect_eq(total, 1);
    cr_expect_eq(flags, 2, "listed unverified");
    int64_t id = 0;
    cr_assert_eq(gw_spool_dead_list(spool, NULL, 0, 1, on_id, &id, NULL), GW_OK);
    flags = 0;
    cr_assert_eq(gw_spool_dead_get(spool, id, on_trust, &flags), GW_OK);
    cr_expect_eq(flags, 2, "got by id unverified");
}

/* A spool of format 1 (before the column): its requests may have been kept
 * before their signature was checked, so the migration marks them all
 * unverified; its calls stay verified. */
Test(spool_dead, format_1_requests_become_unverified)
{
    char *path = gw_asprintf("%s/spool.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    const char *v1 =
        "PRAGMA journal_mode = WAL;"
        SPOOL_OLD_QUEUES_CALLS
        "CREATE TABLE dead (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " source TEXT, write_key TEXT, endpoint TEXT, content_type TEXT, headers TEXT,"
        " body BLOB NOT NULL, status INTEGER NOT NULL, reason TEXT, at_ms INTEGER NOT NULL);"
        "INSERT INTO dead (kind, source, body, status, at_ms) VALUES"
        " ('request', 'github', '{', 400, 1), ('call', 'github', '{}', 400, 2);"
        "PRAGMA user_version = 1;";
    cr_assert_eq(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(path);
    for (int round = 0; round < 2; round++) { /* migrated once: opens again */
        gw_spool_close(spool);
        spool = open_bounded(BOUND);
        struct gw_spool_dead_stats st;
        gw_spool_dead_stats(spool, &st);
        cr_assert_eq(st.dead, 2);
        int flags = 0;
        cr_assert_eq(gw_spool_dead_each(spool, "github", 2, on_trust, &flags), GW_OK);
        cr_expect_eq(flags, 1, "a call is verified");
        flags = 0;
        cr_assert_eq(gw_spool_dead_each(spool, "github", 0, on_first_trust, &flags), GW_OK);
        cr_expect_eq(flags, 2, "a request of format 1 is unverified");
    }
}
