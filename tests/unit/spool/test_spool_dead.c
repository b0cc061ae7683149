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
#include "spool/spool.h"

/* See test_relay.c: keep LeakSanitizer out of criterion's runner. */
extern void __lsan_disable(void) __attribute__((weak));

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    if (__lsan_disable != NULL) {
        __lsan_disable();
    }
}

#define BOUND 4096
#define LETTERS 10

static char dir[64];
static struct gw_spool *spool;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/gwtest-dead-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    gw_spool_close(spool);
    spool = NULL;
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(spool_dead, .init = setup, .fini = teardown, .timeout = 60);

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
    spool = open_bounded(BOUND);
    for (int i = 0; i < LETTERS; i++) {
        char *body = body_of(i);
        struct gw_spool_dead d = {.kind = (char *)"request", .source = (char *)"stripe",
                                  .headers = (char *)"{\"A\":\"b\"}", .body = body,
                                  .len = strlen(body), .status = 422, .reason = (char *)"why"};
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
