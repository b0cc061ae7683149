/* test_spool.c -- the durable queue and the dead letters: puts, pages,
 * deletes, burials, limits, reopening, group commit, a kill -9.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "spool/spool.h"
#include "spool_fixture.h"

static pid_t child;

static void setup(void)
{
    spool_dir_make("spool");
}

static void teardown(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    spool_dir_remove();
}

TestSuite(spool, .init = setup, .fini = teardown, .timeout = 60);

static struct gw_spool *open_with(const struct gw_spool_opts *o)
{
    struct gw_spool *s = NULL;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(o, &s, err, sizeof(err)), GW_OK, "open: %s", err);
    return s;
}

static struct gw_spool *open_dir(const char *path)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = path;
    return open_with(&o);
}

static void put1(const char *key, const char *json, int64_t *id)
{
    size_t len = strlen(json);
    cr_assert_eq(gw_spool_put(spool, key, "http://x/v1", &json, &len, 1, id), GW_OK);
}

/* Collects what gw_spool_each / gw_spool_page hand out. */
struct seen {
    size_t n;
    int64_t id[64];
    char json[64][128];
    char key[64][32];
    size_t stop_after; /* 0: never */
};

static bool on_call(void *arg, const struct gw_spool_call *c)
{
    struct seen *s = arg;
    cr_assert_lt(s->n, 64);
    s->id[s->n] = c->id;
    snprintf(s->json[s->n], sizeof(s->json[0]), "%.*s", (int)c->len, c->json);
    snprintf(s->key[s->n], sizeof(s->key[0]), "%s", c->write_key);
    cr_assert_str_eq(c->endpoint, "http://x/v1");
    cr_assert_gt(c->enqueued_ms, 1600000000000LL);
    s->n++;
    return s->stop_after == 0 || s->n < s->stop_after;
}

static void assert_depth(uint64_t calls, uint64_t bytes)
{
    uint64_t c = 0;
    uint64_t b = 0;
    gw_spool_stats(spool, &c, &b);
    cr_assert_eq(c, calls, "depth %llu, expected %llu", (unsigned long long)c,
                 (unsigned long long)calls);
    cr_assert_eq(b, bytes, "bytes %llu, expected %llu", (unsigned long long)b,
                 (unsigned long long)bytes);
}

Test(spool, put_each_delete_in_order)
{
    spool = open_dir(dir);
    const char *json[] = {"{\"a\":1}", "{\"b\":22}", "{\"c\":333}"};
    size_t len[] = {7, 8, 9};
    int64_t ids[3];
    cr_assert_eq(gw_spool_put(spool, "wk_A", "http://x/v1", json, len, 3, ids), GW_OK);
    cr_assert(ids[0] < ids[1] && ids[1] < ids[2]);
    int64_t idb = 0;
    put1("wk_B", "{\"d\":4}", &idb);
    cr_assert_gt(idb, ids[2]);
    assert_depth(4, 31);

    struct seen s = {0};
    cr_assert_eq(gw_spool_each(spool, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 4);
    cr_assert_str_eq(s.json[0], "{\"a\":1}");
    cr_assert_str_eq(s.json[2], "{\"c\":333}");
    cr_assert_str_eq(s.key[2], "wk_A");
    cr_assert_str_eq(s.key[3], "wk_B");
    cr_assert_eq(s.id[3], idb);

    int64_t gone[] = {ids[0], ids[2], 999999}; /* an unknown id is skipped */
    cr_assert_eq(gw_spool_delete(spool, gone, 3), GW_OK);
    assert_depth(2, 15);
    memset(&s, 0, sizeof(s));
    cr_assert_eq(gw_spool_each(spool, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.id[0], ids[1]);
    cr_assert_eq(s.id[1], idb);
}

Test(spool, pages_by_id_and_by_queue)
{
    spool = open_dir(dir);
    int64_t id[6];
    for (int i = 0; i < 6; i++) {
        char js[32];
        snprintf(js, sizeof(js), "{\"n\":%d}", i);
        put1(i % 2 == 0 ? "wk_even" : "wk_odd", js, &id[i]);
    }
    struct seen s = {0};
    cr_assert_eq(gw_spool_page(spool, id[1], 3, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.id[0], id[2]);
    cr_assert_eq(s.id[2], id[4]);

    memset(&s, 0, sizeof(s));
    s.stop_after = 1; /* fn returning false stops the page */
    cr_assert_eq(gw_spool_page(spool, 0, 0, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 1);

    memset(&s, 0, sizeof(s));
    cr_assert_eq(
        gw_spool_page_queue(spool, "wk_even", "http://x/v1", id[0], id[4], 10, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 2, "ids in (first, upto] of that queue only");
    cr_assert_eq(s.id[0], id[2]);
    cr_assert_eq(s.id[1], id[4]);
    cr_assert_str_eq(s.key[0], "wk_even");

    memset(&s, 0, sizeof(s));
    cr_assert_eq(gw_spool_page_queue(spool, "wk_none", "http://x/v1", 0, id[5], 10, on_call, &s),
                 GW_OK);
    cr_assert_eq(s.n, 0);
}

/* Checks that a page hands out the calls of a_put_of_many_calls in order. */
struct many {
    size_t n;
    int64_t first;
};

static bool on_many(void *arg, const struct gw_spool_call *c)
{
    struct many *m = arg;
    char want[32];
    int w = snprintf(want, sizeof(want), "{\"n\":%zu}", m->n);
    cr_assert_eq(c->id, m->first + (int64_t)m->n, "ids follow the order of the put");
    cr_assert_eq(c->len, (size_t)w);
    cr_assert_eq(memcmp(c->json, want, c->len), 0, "call %zu: %.*s", m->n, (int)c->len, c->json);
    m->n++;
    return true;
}

/* 150 calls take more than one INSERT (64 rows at most) and more than one
 * delete transaction (128 rows): every call is stored once, in order, with
 * consecutive ids, and every one is gone after the delete. */
Test(spool, a_put_of_many_calls_keeps_each_and_its_order)
{
    spool = open_dir(dir);
    enum { N = 150 };
    static char text[N][32];
    const char *json[N];
    size_t len[N];
    uint64_t bytes = 0;
    for (size_t i = 0; i < N; i++) {
        len[i] = (size_t)snprintf(text[i], sizeof(text[i]), "{\"n\":%zu}", i);
        json[i] = text[i];
        bytes += len[i];
    }
    int64_t ids[N];
    cr_assert_eq(gw_spool_put(spool, "wk_A", "http://x/v1", json, len, N, ids), GW_OK);
    for (size_t i = 1; i < N; i++) {
        cr_assert_eq(ids[i], ids[0] + (int64_t)i);
    }
    assert_depth(N, bytes);
    struct many m = {.first = ids[0]};
    cr_assert_eq(gw_spool_each(spool, on_many, &m), GW_OK);
    cr_assert_eq(m.n, N);

    int64_t after = 0;
    put1("wk_A", "{\"after\":1}", &after);
    cr_assert_eq(after, ids[N - 1] + 1, "the next put follows");
    cr_assert_eq(gw_spool_delete(spool, ids, N), GW_OK);
    assert_depth(1, 11);
    gw_spool_close(spool);
    spool = open_dir(dir);
    assert_depth(1, 11);
}

/* Collects dead letters (owned copies). */
struct dead_seen {
    size_t n;
    struct gw_spool_dead d[8];
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead_seen *s = arg;
    cr_assert_lt(s->n, 8);
    gw_spool_dead_copy(&s->d[s->n++], d);
    return true;
}

static void dead_seen_fini(struct dead_seen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        gw_spool_dead_fini(&s->d[i]);
    }
    s->n = 0;
}

Test(spool, bury_moves_calls_to_the_dead_letters)
{
    spool = open_dir(dir);
    const char *call = "{\"type\":\"track\",\"messageId\":\"m-1\","
                       "\"context\":{\"integration\":{\"name\":\"sendgrid\"}}}";
    int64_t a = 0;
    int64_t b = 0;
    put1("wk_A", call, &a);
    put1("wk_A", "{\"messageId\":\"m-2\"}", &b);
    cr_assert_eq(gw_spool_bury(spool, &a, 1, 400, "{\"message\":\"bad\"}"), GW_OK);
    assert_depth(1, 19);

    struct dead_seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 1);
    struct gw_spool_dead *d = &s.d[0];
    cr_assert_str_eq(d->kind, "call");
    cr_assert_str_eq(d->source, "sendgrid");
    cr_assert_str_eq(d->write_key, "wk_A");
    cr_assert_str_eq(d->endpoint, "http://x/v1");
    cr_assert_eq(d->len, strlen(call));
    cr_assert_eq(memcmp(d->body, call, d->len), 0);
    cr_assert_eq(d->status, 400);
    cr_assert_str_eq(d->reason, "{\"message\":\"bad\"}");
    cr_assert_null(d->content_type);
    dead_seen_fini(&s);

    /* By source; a call without an integration name has none. */
    cr_assert_eq(gw_spool_bury(spool, &b, 1, 0, NULL), GW_OK);
    cr_assert_eq(gw_spool_dead_each(spool, "sendgrid", 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 1);
    dead_seen_fini(&s);
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 2);
    cr_assert_null(s.d[1].source);
    cr_assert_null(s.d[1].reason);
    int64_t at = s.d[1].at_ms;
    dead_seen_fini(&s);
    cr_assert_eq(gw_spool_dead_each(spool, NULL, at + 60000, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 0, "since_ms filters");
    assert_depth(0, 0);
}

Test(spool, bury_reason_is_capped)
{
    spool = open_dir(dir);
    int64_t id = 0;
    put1("wk_A", "{}", &id);
    char *reason = gw_malloc(GW_SPOOL_REASON_MAX * 2 + 1);
    memset(reason, 'r', GW_SPOOL_REASON_MAX * 2);
    reason[GW_SPOOL_REASON_MAX * 2] = '\0';
    cr_assert_eq(gw_spool_bury(spool, &id, 1, 400, reason), GW_OK);
    free(reason);
    struct dead_seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_assert_eq(strlen(s.d[0].reason), GW_SPOOL_REASON_MAX);
    dead_seen_fini(&s);
}

static struct gw_spool_dead request_letter(const char *body)
{
    return (struct gw_spool_dead){
        .kind = (char *)"request",
        .source = (char *)"stripe",
        .content_type = (char *)"application/json",
        .headers = (char *)"{\"Stripe-Signature\":\"t=1,v1=ab\"}",
        .body = (char *)body,
        .len = strlen(body),
        .status = 422,
        .reason = (char *)"spec_violation",
        .verified = true,
    };
}

Test(spool, dead_put_each_remove)
{
    spool = open_dir(dir);
    struct gw_spool_dead in = request_letter("{\"id\":\"evt_1\"}");
    cr_assert_eq(gw_spool_dead_put(spool, &in), GW_OK);
    struct dead_seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, "stripe", 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.d[0].kind, "request");
    cr_assert_str_eq(s.d[0].content_type, "application/json");
    cr_assert_str_eq(s.d[0].headers, in.headers);
    cr_assert_str_eq(s.d[0].body, "{\"id\":\"evt_1\"}");
    cr_assert_eq(s.d[0].status, 422);
    cr_assert_null(s.d[0].write_key);
    int64_t id = s.d[0].id;
    dead_seen_fini(&s);
    cr_assert_eq(gw_spool_dead_each(spool, "github", 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(gw_spool_dead_remove(spool, id), GW_OK);
    cr_assert_eq(gw_spool_dead_remove(spool, id), GW_ERR_NOT_FOUND);
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 0);
    struct gw_spool_dead bad = {.kind = NULL};
    cr_assert_eq(gw_spool_dead_put(spool, &bad), GW_ERR_INVALID);
}

Test(spool, dead_letters_bounded_oldest_dropped)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.max_dead = 3;
    spool = open_with(&o);
    for (int i = 0; i < 5; i++) {
        char body[16];
        snprintf(body, sizeof(body), "b%d", i);
        struct gw_spool_dead in = request_letter(body);
        cr_assert_eq(gw_spool_dead_put(spool, &in), GW_OK);
    }
    int64_t ids[2];
    const char *json[] = {"{\"c\":5}", "{\"c\":6}"};
    size_t len[] = {7, 7};
    cr_assert_eq(gw_spool_put(spool, "wk", "http://x/v1", json, len, 2, ids), GW_OK);
    cr_assert_eq(gw_spool_bury(spool, ids, 2, 400, "no"), GW_OK);
    struct dead_seen s = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &s), GW_OK);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.d[0].body, "b4");
    cr_assert_str_eq(s.d[1].body, "{\"c\":5}");
    cr_assert_str_eq(s.d[2].body, "{\"c\":6}");
    dead_seen_fini(&s);
}

Test(spool, over_max_bytes_is_busy_and_stores_nothing)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.max_bytes = 100;
    o.max_key_bytes = 100; /* one key: the whole spool is its share */
    spool = open_with(&o);
    char big[61];
    memset(big, 'x', 60);
    big[60] = '\0';
    int64_t id = 0;
    put1("wk", big, &id);
    const char *json[] = {"{\"a\":1}", big};
    size_t len[] = {7, 60};
    int64_t ids[2] = {-1, -1};
    cr_assert_eq(gw_spool_put(spool, "wk", "http://x/v1", json, len, 2, ids), GW_ERR_FULL);
    cr_assert_eq(ids[0], -1, "ids are written only on success");
    assert_depth(1, 60);
    struct seen s = {0};
    cr_assert_eq(gw_spool_each(spool, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 1, "all or nothing");
    cr_assert_eq(gw_spool_put(spool, "wk", "http://x/v1", json, len, 1, NULL), GW_OK);
    cr_assert_eq(gw_spool_delete(spool, &id, 1), GW_OK);
    cr_assert_eq(gw_spool_put(spool, "wk", "http://x/v1", json, len, 2, NULL), GW_OK,
                 "room again once delivered calls left");
    assert_depth(3, 74);
}

Test(spool, reopen_keeps_everything)
{
    spool = open_dir(dir);
    int64_t a = 0;
    int64_t b = 0;
    put1("wk_A", "{\"keep\":1}", &a);
    put1("wk_B", "{\"bury\":1}", &b);
    cr_assert_eq(gw_spool_bury(spool, &b, 1, 400, "why"), GW_OK);
    gw_spool_close(spool);
    spool = open_dir(dir);
    assert_depth(1, 10);
    struct seen s = {0};
    cr_assert_eq(gw_spool_each(spool, on_call, &s), GW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.id[0], a);
    cr_assert_str_eq(s.key[0], "wk_A");
    int64_t c = 0;
    put1("wk_C", "{}", &c);
    cr_assert_gt(c, a, "a reopen starts above every queued call");
    struct dead_seen d = {0};
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, &d), GW_OK);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.d[0].write_key, "wk_B", "a dead letter keeps its key after a prune");
    dead_seen_fini(&d);
}

Test(spool, private_files_and_one_process)
{
    char sub[96];
    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    spool = open_dir(sub);
    struct stat st;
    cr_assert_eq(stat(sub, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    char db[128];
    snprintf(db, sizeof(db), "%s/spool.db", sub);
    cr_assert_eq(stat(db, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "spool.db mode %o", (unsigned)(st.st_mode & 0777));
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = sub;
    struct gw_spool *second = NULL;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&o, &second, err, sizeof(err)), GW_ERR_BUSY);
    cr_assert_null(second);
    cr_assert_not_null(strstr(err, "in use"), "%s", err);
    o.dir = "";
    cr_assert_eq(gw_spool_open(&o, &second, err, sizeof(err)), GW_ERR_INVALID);
}

Test(spool, fsync_mode_works)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.fsync = true;
    spool = open_with(&o);
    for (int i = 0; i < 20; i++) {
        put1("wk", "{\"durable\":true}", NULL);
    }
    gw_spool_close(spool);
    spool = open_with(&o);
    assert_depth(20, 20 * 16);
}

Test(spool, rejects_bad_arguments)
{
    spool = open_dir(dir);
    const char *json[] = {NULL};
    size_t len[] = {3};
    cr_assert_eq(gw_spool_put(spool, NULL, "e", json, len, 1, NULL), GW_ERR_INVALID);
    cr_assert_eq(gw_spool_put(spool, "k", "e", json, len, 1, NULL), GW_ERR_INVALID);
    cr_assert_eq(gw_spool_put(spool, "k", "e", NULL, NULL, 0, NULL), GW_OK);
    cr_assert_eq(gw_spool_delete(spool, NULL, 0), GW_OK);
    cr_assert_eq(gw_spool_page(spool, 0, 0, NULL, NULL), GW_ERR_INVALID);
    assert_depth(0, 0);
}

#define THREADS 8
#define PUTS 150

struct writer {
    int index;
    int64_t ids[PUTS * 2];
    enum gw_rc rc;
};

static void *write_many(void *arg)
{
    struct writer *w = arg;
    w->rc = GW_OK;
    for (int i = 0; i < PUTS && w->rc == GW_OK; i++) {
        char a[64];
        char b[64];
        snprintf(a, sizeof(a), "{\"t\":%d,\"i\":%d,\"k\":0}", w->index, i);
        snprintf(b, sizeof(b), "{\"t\":%d,\"i\":%d,\"k\":1}", w->index, i);
        const char *json[] = {a, b};
        size_t len[] = {strlen(a), strlen(b)};
        char key[16];
        snprintf(key, sizeof(key), "wk_%d", w->index % 3);
        w->rc = gw_spool_put(spool, key, "http://x/v1", json, len, 2, &w->ids[2 * i]);
    }
    return NULL;
}

static bool count_call(void *arg, const struct gw_spool_call *c)
{
    (*(size_t *)arg)++;
    return true;
}

Test(spool, concurrent_puts_all_land)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.fsync = true; /* where group commit matters most */
    spool = open_with(&o);
    static struct writer w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].index = i;
        cr_assert_eq(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].rc, GW_OK, "writer %d: %s", i, gw_rc_str(w[i].rc));
        for (int j = 1; j < PUTS * 2; j++) {
            cr_assert_gt(w[i].ids[j], w[i].ids[j - 1], "a writer's calls keep their order");
        }
        cr_assert_eq(w[i].ids[1], w[i].ids[0] + 1, "a put's calls are contiguous");
    }
    size_t n = 0;
    cr_assert_eq(gw_spool_each(spool, count_call, &n), GW_OK);
    cr_assert_eq(n, (size_t)THREADS * PUTS * 2);
    uint64_t calls = 0;
    gw_spool_stats(spool, &calls, NULL);
    cr_assert_eq(calls, n);
}

/* The child puts and reports each id it got back on the pipe; SIGKILL
 * then hits it at some point of its next puts. */
static void child_puts(const char *path, int out)
{
    spool = open_dir(path);
    for (int i = 0;; i++) {
        char js[32];
        snprintf(js, sizeof(js), "{\"n\":%d}", i);
        int64_t id = 0;
        put1("wk", js, &id);
        if (write(out, &id, sizeof(id)) != (ssize_t)sizeof(id)) {
            _exit(1);
        }
    }
}

Test(spool, kill_9_loses_nothing_acknowledged)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        close(fds[0]);
        child_puts(dir, fds[1]);
    }
    close(fds[1]);
    int64_t acked[256];
    size_t n = 0;
    while (n < 256 && read(fds[0], &acked[n], sizeof(acked[0])) == (ssize_t)sizeof(acked[0])) {
        n++;
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = 0;
    close(fds[0]);
    cr_assert_eq(n, 256);
    spool = open_dir(dir);
    struct seen s = {0};
    size_t total = 0;
    cr_assert_eq(gw_spool_each(spool, count_call, &total), GW_OK);
    cr_assert_geq(total, n, "%zu acknowledged, %zu found after kill -9", n, total);
    cr_assert_eq(gw_spool_page(spool, acked[n - 1] - 1, 1, on_call, &s), GW_OK);
    cr_assert_eq(s.id[0], acked[n - 1], "the last acknowledged call is there");
}
