/* test_spool_async.c -- gw_spool_put_async: puts that return before their
 * commit and are told once it is over, from the spool's committer; every
 * one is told exactly once, in the order the calls were put, what was told
 * GW_OK is there after a reopen, a refusal is at once and never told, and
 * closing the spool commits what still waits.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spool/spool.h"
#include "spool_fixture.h"

SPOOL_SUITE(spool_async, "async");

static void open_spool(bool fsync, uint64_t max_bytes)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.fsync = fsync;
    if (max_bytes > 0) {
        o.max_bytes = max_bytes;
    }
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&o, &spool, err, sizeof(err)), GW_OK, "open: %s", err);
}

#define THREADS 4
#define PUTS 60 /* per thread */

/* What the committer tells each put: its count of calls, and the result. */
struct told {
    atomic_int times;
    atomic_int rc;
};

static struct told told[THREADS][PUTS];

static void on_done(void *arg, enum gw_rc rc)
{
    struct told *t = arg;
    atomic_store(&t->rc, (int)rc);
    atomic_fetch_add(&t->times, 1);
}

/* Each put: 3 calls {"t":<thread>,"p":<put>,"c":<call>}. */
static void *putter(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int p = 0; p < PUTS; p++) {
        char text[3][64];
        const char *json[3];
        size_t len[3];
        for (int c = 0; c < 3; c++) {
            snprintf(text[c], sizeof(text[c]), "{\"t\":%d,\"p\":%d,\"c\":%d}", t, p, c);
            json[c] = text[c];
            len[c] = strlen(text[c]);
        }
        /* the texts are on this stack: the spool must have copied them */
        enum gw_rc rc =
            gw_spool_put_async(spool, "wk_async", "http://127.0.0.1:9/v1", json, len, 3, on_done,
                               &told[t][p]);
        cr_assert_eq(rc, GW_OK);
    }
    return NULL;
}

static bool all_told(void)
{
    for (int t = 0; t < THREADS; t++) {
        for (int p = 0; p < PUTS; p++) {
            if (atomic_load(&told[t][p].times) == 0) {
                return false;
            }
        }
    }
    return true;
}

struct seen {
    int next[THREADS][PUTS]; /* the next call expected of each put */
    int last_put[THREADS];   /* the last put of each thread seen whole */
    size_t calls;
    bool order;
};

static bool check_call(void *arg, const struct gw_spool_call *c)
{
    struct seen *s = arg;
    int t = -1, p = -1, k = -1;
    cr_assert_eq(sscanf(c->json, "{\"t\":%d,\"p\":%d,\"c\":%d}", &t, &p, &k), 3, "%s", c->json);
    cr_assert(t >= 0 && t < THREADS && p >= 0 && p < PUTS && k >= 0 && k < 3);
    /* a put's calls together and in order; a thread's puts in its order */
    s->order = s->order && s->next[t][p] == k && (k > 0 || p == s->last_put[t] + 1);
    s->next[t][p] = k + 1;
    if (k == 2) {
        s->last_put[t] = p;
    }
    s->calls++;
    return true;
}

static void run_putters(void)
{
    memset(told, 0, sizeof(told));
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        cr_assert_eq(pthread_create(&th[t], NULL, putter, (void *)(intptr_t)t), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
}

static void expect_all(void)
{
    struct seen s = {.order = true};
    for (int t = 0; t < THREADS; t++) {
        s.last_put[t] = -1;
    }
    cr_assert_eq(gw_spool_each(spool, check_call, &s), GW_OK);
    cr_expect_eq(s.calls, (size_t)THREADS * PUTS * 3);
    cr_expect(s.order, "each put's calls together, each thread's puts in order");
    uint64_t calls = 0, bytes = 0;
    gw_spool_stats(spool, &calls, &bytes);
    cr_expect_eq(calls, (uint64_t)THREADS * PUTS * 3);
}

Test(spool_async, every_put_is_told_once_and_kept, .timeout = 60)
{
    open_spool(true, 0); /* fsync: the durability that uses it */
    run_putters();
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000 && !all_told(); i++) {
        nanosleep(&ts, NULL);
    }
    cr_assert(all_told(), "every put is told");
    for (int t = 0; t < THREADS; t++) {
        for (int p = 0; p < PUTS; p++) {
            cr_expect_eq(atomic_load(&told[t][p].times), 1, "put %d/%d told once", t, p);
            cr_expect_eq(atomic_load(&told[t][p].rc), GW_OK);
        }
    }
    expect_all();
    gw_spool_close(spool);
    spool = NULL;
    open_spool(false, 0);
    expect_all(); /* durable: there after a reopen */
}

Test(spool_async, close_commits_what_waits)
{
    open_spool(true, 0);
    run_putters();
    gw_spool_close(spool); /* returns once every put was committed and told */
    spool = NULL;
    cr_assert(all_told(), "close tells every put before it returns");
    open_spool(false, 0);
    expect_all();
}

Test(spool_async, a_refusal_is_at_once_and_never_told)
{
    open_spool(false, 1u << 20);
    static char big[600 * 1024];
    memset(big, 'x', sizeof(big));
    big[0] = '"';
    big[sizeof(big) - 1] = '"';
    const char *json[2] = {big, big};
    size_t len[2] = {sizeof(big), sizeof(big)};
    struct told t = {0};
    cr_expect_eq(gw_spool_put_async(spool, "wk", "http://127.0.0.1:9/v1", json, len, 2, on_done,
                                    &t),
                 GW_ERR_FULL, "1.2 MB over a 1 MiB spool");
    cr_expect_eq(gw_spool_put_async(spool, "wk", "http://127.0.0.1:9/v1", json, len, 0, on_done,
                                    &t),
                 GW_ERR_INVALID, "no calls");
    cr_expect_eq(gw_spool_put_async(spool, "wk", "http://127.0.0.1:9/v1", json, len, 1, NULL,
                                    NULL),
                 GW_ERR_INVALID, "no one to tell");
    gw_spool_close(spool);
    spool = NULL;
    cr_expect_eq(atomic_load(&t.times), 0, "a refused put is never told");
    open_spool(false, 0);
    uint64_t calls = 1, bytes = 1;
    gw_spool_stats(spool, &calls, &bytes);
    cr_expect_eq(calls, 0);
    cr_expect_eq(bytes, 0);
}
