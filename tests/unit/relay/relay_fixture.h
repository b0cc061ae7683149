/* relay_fixture.h -- what the relay's test files share: a Segment
 * stand-in, a temporary spool per test (removed in .fini, failure or not),
 * a simulated clock for the relay, calls with distinct messageIds, and
 * checks on what arrived. Included by one test file per executable.
 * SPDX-License-Identifier: MIT */
#ifndef RELAY_FIXTURE_H
#define RELAY_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mock_upstream.h"
#include "relay/relay.h"
#include "spool/spool.h"
#include "runner_lsan.h"

#define WAIT_MS 15000 /* generous: a loaded 2-core machine, or valgrind */

/* ---- the relay's clock: simulated time ----
 *
 * The relay reads time and waits only through its gw_relay_clock. Here
 * time stands still but for two moves: in auto mode (the default) a timed
 * wait of the relay jumps the clock to the wait's deadline at once, as if
 * the relay had slept; in manual mode it waits (for a signal, or for the
 * test to move the clock with clock_advance_ms). The stand-in stamps each
 * request with this clock (ms since the test began), so tests assert
 * order, counts and simulated delays, never wall-clock bounds. The
 * transport stays real: libcurl's timeouts and the shutdown cut run on the
 * real clock. */

#define CLOCK_T0_NS (1000ULL * 1000000000ULL) /* any start, away from 0 */

struct test_clock {
    pthread_mutex_t mu;
    uint64_t now_ns;
    int64_t wall0_ms; /* the Unix time at CLOCK_T0_NS: when the test began */
    bool manual;
    pthread_cond_t *cond; /* the relay's, once it waited */
    pthread_mutex_t *lock;
};

static struct test_clock tclock = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t tclock_mono(void *arg)
{
    struct test_clock *c = arg;
    pthread_mutex_lock(&c->mu);
    uint64_t now = c->now_ns;
    pthread_mutex_unlock(&c->mu);
    return now;
}

static int64_t tclock_real_ms(void *arg)
{
    struct test_clock *c = arg;
    return c->wall0_ms + (int64_t)((tclock_mono(c) - CLOCK_T0_NS) / 1000000);
}

/* Called by the relay with its lock held. */
static void tclock_wait(void *arg, pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline)
{
    struct test_clock *c = arg;
    pthread_mutex_lock(&c->mu);
    c->cond = cond;
    c->lock = lock;
    if (!c->manual && deadline != UINT64_MAX && c->now_ns < deadline) {
        c->now_ns = deadline;
    }
    bool due = deadline != UINT64_MAX && c->now_ns >= deadline;
    pthread_mutex_unlock(&c->mu);
    if (!due) {
        pthread_cond_wait(cond, lock);
    }
}

/* Simulated ms since the test began: the stand-in's clock. */
static int64_t clock_now_ms(void *arg)
{
    (void)arg;
    return (int64_t)((tclock_mono(&tclock) - CLOCK_T0_NS) / 1000000);
}

/* Manual mode: time moves only with clock_advance_ms. */
static inline void clock_manual(void)
{
    pthread_mutex_lock(&tclock.mu);
    tclock.manual = true;
    pthread_mutex_unlock(&tclock.mu);
}

/* Moves the clock on and wakes the relay to look at it. */
static inline void clock_advance_ms(unsigned ms)
{
    pthread_mutex_lock(&tclock.mu);
    tclock.now_ns += (uint64_t)ms * 1000000;
    pthread_cond_t *cond = tclock.cond;
    pthread_mutex_t *lock = tclock.lock;
    pthread_mutex_unlock(&tclock.mu);
    if (cond != NULL) {
        pthread_mutex_lock(lock);
        pthread_cond_broadcast(cond);
        pthread_mutex_unlock(lock);
    }
}

static void clock_reset(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&tclock.mu);
    tclock.now_ns = CLOCK_T0_NS;
    tclock.wall0_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    tclock.manual = false;
    tclock.cond = NULL;
    tclock.lock = NULL;
    pthread_mutex_unlock(&tclock.mu);
}

static struct mock_upstream *mock;
static struct gw_relay *relay;
static struct gw_spool *spool;
static char spool_dir[64];

/* Opens the test's spool, closing the one open before. */
static inline void open_spool(uint64_t max_bytes)
{
    gw_spool_close(spool);
    struct gw_spool_opts so;
    gw_spool_opts_init(&so);
    so.dir = spool_dir;
    so.max_bytes = max_bytes > 0 ? max_bytes : so.max_bytes;
    char err[256] = "";
    spool = NULL;
    cr_assert_eq(gw_spool_open(&so, &spool, err, sizeof(err)), GW_OK, "spool: %s", err);
}

static void setup(void)
{
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-relay-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir), "mkdtemp: %s", strerror(errno));
    open_spool(0);
    clock_reset();
    mock = mock_upstream_start();
    cr_assert_not_null(mock, "mock upstream did not start");
    mock_upstream_set_clock(mock, clock_now_ms, NULL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void teardown(void)
{
    gw_relay_destroy(relay);
    relay = NULL;
    gw_spool_close(spool);
    spool = NULL;
    if (spool_dir[0] != '\0') {
        nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
    mock_upstream_stop(mock);
    mock = NULL;
}

TestSuite(relay, .init = setup, .fini = teardown, .timeout = 60);

/* The defaults on the simulated clock; the transport timeout is real. */
static inline struct gw_relay_opts quick_opts(void)
{
    struct gw_relay_opts o;
    gw_relay_opts_init(&o);
    o.timeout_ms = 5000;
    o.clock = (struct gw_relay_clock){
        .mono_ns = tclock_mono,
        .real_ms = tclock_real_ms,
        .wait = tclock_wait,
        .arg = &tclock,
    };
    return o;
}

static inline void start(const struct gw_relay_opts *o)
{
    relay = gw_relay_create(o, spool);
    cr_assert_not_null(relay);
    cr_assert_eq(gw_relay_start(relay), GW_OK);
}

/* Writes call number i (distinct messageId) into buf; pad adds bytes. */
static inline struct gw_relay_call make_call(char *buf, size_t size, const char *tag, int i,
                                             int pad)
{
    int n = snprintf(buf, size,
                     "{\"type\":\"track\",\"event\":\"Email Opened\",\"userId\":\"u%d\","
                     "\"messageId\":\"%s-%04d\",\"properties\":{\"pad\":\"%*s\"}}",
                     i, tag, i, pad, "");
    cr_assert(n > 0 && (size_t)n < size);
    return (struct gw_relay_call){.json = buf, .len = (size_t)n};
}

#define MAX_CALLS 64
#define CALL_SIZE 512

struct calls {
    char text[MAX_CALLS][CALL_SIZE];
    struct gw_relay_call c[MAX_CALLS];
    size_t n;
};

static inline void fill(struct calls *cs, size_t n, const char *tag, int pad)
{
    cr_assert_leq(n, MAX_CALLS);
    for (size_t i = 0; i < n; i++) {
        cs->c[i] = make_call(cs->text[i], CALL_SIZE, tag, (int)i, pad);
    }
    cs->n = n;
}

static inline void submit(const char *key, const struct gw_relay_call *c, size_t n)
{
    cr_assert_eq(gw_relay_submit(relay, key, mock_upstream_endpoint(mock), c, n), GW_OK);
}

/* Returns the batch array of request i (new reference) and checks the
 * envelope around it. */
static inline json_object *batch_of(size_t i)
{
    struct mock_request *req = mock_upstream_request(mock, i);
    cr_assert_not_null(req, "no request %zu", i);
    json_object *root = json_tokener_parse(req->body);
    cr_assert_not_null(root, "request %zu: body is not JSON: %s", i, req->body);
    json_object *batch = NULL;
    cr_assert(json_object_object_get_ex(root, "batch", &batch));
    cr_assert(json_object_is_type(batch, json_type_array));
    json_object_get(batch);
    json_object_put(root);
    mock_request_free(req);
    return batch;
}

static inline size_t batch_len(size_t i)
{
    json_object *b = batch_of(i);
    size_t n = json_object_array_length(b);
    json_object_put(b);
    return n;
}

/* The messageId of element j of a JSON array of calls. */
static inline const char *message_id(json_object *arr, size_t j)
{
    json_object *id = NULL;
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(arr, j), "messageId", &id));
    return json_object_get_string(id);
}

static inline void assert_accepted(const char *tag, const int *ids, size_t n)
{
    json_object *acc = mock_upstream_accepted_calls(mock);
    cr_assert_eq(json_object_array_length(acc), n, "accepted %zu calls, expected %zu",
                 json_object_array_length(acc), n);
    for (size_t j = 0; j < n; j++) {
        char want[64];
        snprintf(want, sizeof(want), "%s-%04d", tag, ids[j]);
        cr_assert_str_eq(message_id(acc, j), want, "accepted call %zu", j);
    }
    json_object_put(acc);
}

static inline struct gw_relay_stats stop_and_stats(unsigned deadline_ms, size_t expect_unsent)
{
    size_t unsent = gw_relay_stop(relay, deadline_ms);
    cr_assert_eq(unsent, expect_unsent, "unsent %zu, expected %zu", unsent, expect_unsent);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    return st;
}

/* The dead letters of the test's spool (owned copies). */
struct dead {
    size_t n;
    struct gw_spool_dead d[16];
};

static inline bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead *out = arg;
    if (out->n < 16) {
        gw_spool_dead_copy(&out->d[out->n], d);
    }
    out->n++;
    return true;
}

static inline void read_dead(struct dead *out)
{
    memset(out, 0, sizeof(*out));
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, out), GW_OK);
}

static inline void dead_fini(struct dead *out)
{
    for (size_t i = 0; i < out->n && i < 16; i++) {
        gw_spool_dead_fini(&out->d[i]);
    }
}

static inline bool has_message_id(const struct gw_spool_dead *d, const char *id)
{
    char want[80];
    snprintf(want, sizeof(want), "\"messageId\":\"%s\"", id);
    return d->body != NULL && strstr(d->body, want) != NULL;
}

/* Waits until the relay counted n calls relayed (the stand-in counts a
 * batch before the relay has its answer); false on timeout. */
static inline bool wait_relayed(uint64_t n, unsigned timeout_ms)
{
    int64_t until = mock_now_ms() + timeout_ms;
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    while (st.relayed < n && mock_now_ms() < until) {
        mock_upstream_wait(mock, mock_upstream_count(mock) + 1, 20);
        gw_relay_get_stats(relay, &st);
    }
    return st.relayed >= n;
}

static inline uint64_t spool_depth(void)
{
    uint64_t calls = 0;
    gw_spool_stats(spool, &calls, NULL);
    return calls;
}

#endif
