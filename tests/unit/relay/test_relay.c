/* test_relay.c -- the relay against the real mock upstream over loopback,
 * with real libcurl: batching, auth, retries, splits, budget, shutdown.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "mock_upstream.h"
#include "relay/relay.h"
#include "spool.h"

/* The criterion 2.4.1 runner (the parent process, which runs none of our
 * code) loses a few 48-byte blocks when it runs these tests two at a time,
 * which fails sanitizer builds. Report hooks run in that process only: keep
 * LeakSanitizer out of it. The test processes keep leak checking. */
extern void __lsan_disable(void) __attribute__((weak));

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    if (__lsan_disable != NULL) {
        __lsan_disable();
    }
}

#define WAIT_MS 15000 /* generous: a loaded 2-core machine, or valgrind */

static struct mock_upstream *mock;
static struct gw_relay *relay;
static struct gw_spool *spool;
static char spool_dir[64];

/* Opens the test's spool, closing the one open before. */
static void open_spool(uint64_t max_bytes)
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
    mock = mock_upstream_start();
    cr_assert_not_null(mock, "mock upstream did not start");
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

/* Defaults made quick: short flush, short backoff. */
static struct gw_relay_opts quick_opts(void)
{
    struct gw_relay_opts o;
    gw_relay_opts_init(&o);
    o.flush_ms = 50;
    o.timeout_ms = 5000;
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 200;
    return o;
}

static void start(const struct gw_relay_opts *o)
{
    relay = gw_relay_create(o, spool);
    cr_assert_not_null(relay);
    cr_assert_eq(gw_relay_start(relay), GW_OK);
}

/* Writes call number i (distinct messageId) into buf; pad adds bytes. */
static struct gw_relay_call make_call(char *buf, size_t size, const char *tag, int i, int pad)
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

static void fill(struct calls *cs, size_t n, const char *tag, int pad)
{
    cr_assert_leq(n, MAX_CALLS);
    for (size_t i = 0; i < n; i++) {
        cs->c[i] = make_call(cs->text[i], CALL_SIZE, tag, (int)i, pad);
    }
    cs->n = n;
}

static void submit(const char *key, const struct gw_relay_call *c, size_t n)
{
    cr_assert_eq(gw_relay_submit(relay, key, mock_upstream_endpoint(mock), c, n), GW_OK);
}

/* Returns the batch array of request i (new reference) and checks the
 * envelope around it. */
static json_object *batch_of(size_t i)
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

static size_t batch_len(size_t i)
{
    json_object *b = batch_of(i);
    size_t n = json_object_array_length(b);
    json_object_put(b);
    return n;
}

/* The messageId of element j of a JSON array of calls. */
static const char *message_id(json_object *arr, size_t j)
{
    json_object *id = NULL;
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(arr, j), "messageId", &id));
    return json_object_get_string(id);
}

static void assert_accepted(const char *tag, const int *ids, size_t n)
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

static struct gw_relay_stats stop_and_stats(unsigned deadline_ms, size_t expect_unsent)
{
    size_t unsent = gw_relay_stop(relay, deadline_ms);
    cr_assert_eq(unsent, expect_unsent, "unsent %zu, expected %zu", unsent, expect_unsent);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    return st;
}

static bool valid_sent_at(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof(shape) - 1) {
        return false;
    }
    for (size_t i = 0; shape[i] != '\0'; i++) {
        bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* The dead letters of the test's spool (owned copies). */
struct dead {
    size_t n;
    struct gw_spool_dead d[16];
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead *out = arg;
    if (out->n < 16) {
        gw_spool_dead_copy(&out->d[out->n], d);
    }
    out->n++;
    return true;
}

static void read_dead(struct dead *out)
{
    memset(out, 0, sizeof(*out));
    cr_assert_eq(gw_spool_dead_each(spool, NULL, 0, on_dead, out), GW_OK);
}

static void dead_fini(struct dead *out)
{
    for (size_t i = 0; i < out->n && i < 16; i++) {
        gw_spool_dead_fini(&out->d[i]);
    }
}

static bool has_message_id(const struct gw_spool_dead *d, const char *id)
{
    char want[80];
    snprintf(want, sizeof(want), "\"messageId\":\"%s\"", id);
    return d->body != NULL && strstr(d->body, want) != NULL;
}

static uint64_t spool_depth(void)
{
    uint64_t calls = 0;
    gw_spool_stats(spool, &calls, NULL);
    return calls;
}

Test(relay, classify_policy, .timeout = 10)
{
    static const struct {
        long status;
        enum gw_relay_outcome want;
    } cases[] = {
        {200, GW_RELAY_OK},    {201, GW_RELAY_OK},    {299, GW_RELAY_OK},    {0, GW_RELAY_RETRY},
        {408, GW_RELAY_RETRY}, {429, GW_RELAY_RETRY}, {500, GW_RELAY_RETRY}, {503, GW_RELAY_RETRY},
        {599, GW_RELAY_RETRY}, {400, GW_RELAY_DROP},  {401, GW_RELAY_DROP},  {403, GW_RELAY_DROP},
        {404, GW_RELAY_DROP},  {413, GW_RELAY_DROP},  {302, GW_RELAY_DROP},  {100, GW_RELAY_DROP},
        {600, GW_RELAY_DROP},  {-1, GW_RELAY_DROP},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(gw_relay_classify(cases[i].status), cases[i].want, "status %ld",
                     cases[i].status);
    }
}

Test(relay, posts_batch_with_basic_auth_and_exact_calls, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    start(&o);
    struct calls cs;
    fill(&cs, 2, "basic", 3);
    submit("wk_test", cs.c, 2);
    cr_assert(mock_upstream_wait_calls(mock, 2, WAIT_MS));

    struct mock_request *req = mock_upstream_request(mock, 0);
    cr_assert_str_eq(req->method, "POST");
    cr_assert_str_eq(req->path, "/v1/batch");
    cr_assert_str_eq(req->authorization, "Basic d2tfdGVzdDo="); /* base64("wk_test:") */
    cr_assert_str_eq(req->content_type, "application/json");
    /* The stored bytes, concatenated: nothing re-serialized. */
    char want[2048];
    int n =
        snprintf(want, sizeof(want), "{\"batch\":[%s,%s],\"sentAt\":\"", cs.text[0], cs.text[1]);
    cr_assert_eq(strncmp(req->body, want, (size_t)n), 0, "body: %s", req->body);
    cr_assert_eq(req->body_len, (size_t)n + 24 + 2, "body: %s", req->body);
    char sent_at[32] = {0};
    memcpy(sent_at, req->body + n, req->body_len - (size_t)n - 2);
    cr_assert(valid_sent_at(sent_at), "sentAt '%s'", sent_at);
    cr_assert_str_eq(req->body + req->body_len - 2, "\"}");
    mock_request_free(req);

    json_object *b = batch_of(0);
    for (size_t i = 0; i < 2; i++) {
        json_object *orig = json_tokener_parse(cs.text[i]);
        cr_assert(json_object_equal(orig, json_object_array_get_idx(b, i)), "call %zu", i);
        json_object_put(orig);
    }
    json_object_put(b);

    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 1);
    cr_assert_eq(st.submitted, 2);
    cr_assert_eq(st.relayed, 2);
    cr_assert_eq(st.requests, 1);
    cr_assert_eq(st.retries, 0);
    cr_assert_eq(st.dropped, 0);
    cr_assert_eq(st.queued, 0);
}

Test(relay, splits_by_max_batch_calls, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.max_batch_calls = 2;
    start(&o);
    struct calls cs;
    fill(&cs, 5, "calls", 0);
    submit("wk_test", cs.c, 5);
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS));
    stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 3);
    cr_assert_eq(batch_len(0), 2);
    cr_assert_eq(batch_len(1), 2);
    cr_assert_eq(batch_len(2), 1);
    assert_accepted("calls", (const int[]){0, 1, 2, 3, 4}, 5);
}

Test(relay, splits_by_max_batch_bytes, .timeout = 30)
{
    struct calls cs;
    fill(&cs, 7, "bytes", 40);
    size_t len = cs.c[0].len;
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(cs.c[i].len, len);
    }
    /* Envelope: {"batch":[ + ],"sentAt":" + 24-char time + "} = 48 bytes. */
    size_t three = 48 + 3 * len + 2;
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = three + len; /* room for 3 calls and a bit, not 4 */
    start(&o);
    submit("wk_test", cs.c, 7);
    cr_assert(mock_upstream_wait_calls(mock, 7, WAIT_MS));
    stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 3);
    size_t want[] = {3, 3, 1};
    for (size_t i = 0; i < 3; i++) {
        struct mock_request *req = mock_upstream_request(mock, i);
        cr_assert_leq(req->body_len, o.max_batch_bytes);
        cr_assert_eq(req->body_len, 48 + want[i] * len + want[i] - 1, "request %zu", i);
        mock_request_free(req);
        cr_assert_eq(batch_len(i), want[i]);
    }
    assert_accepted("bytes", (const int[]){0, 1, 2, 3, 4, 5, 6}, 7);
}

Test(relay, two_write_keys_never_mixed, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.flush_ms = 200;
    start(&o);
    struct calls a;
    struct calls b;
    fill(&a, 3, "keyA", 0);
    fill(&b, 3, "keyB", 0);
    for (size_t i = 0; i < 3; i++) {
        submit("wk_A", &a.c[i], 1);
        submit("wk_B", &b.c[i], 1);
    }
    cr_assert(mock_upstream_wait_calls(mock, 6, WAIT_MS));
    stop_and_stats(5000, 0);
    size_t total = 0;
    for (size_t i = 0; i < mock_upstream_count(mock); i++) {
        struct mock_request *req = mock_upstream_request(mock, i);
        bool is_a = strcmp(req->authorization, "Basic d2tfQTo=") == 0;
        cr_assert(is_a || strcmp(req->authorization, "Basic d2tfQjo=") == 0, "%s",
                  req->authorization);
        json_object *arr = batch_of(i);
        for (size_t j = 0; j < json_object_array_length(arr); j++) {
            cr_assert_eq(strncmp(message_id(arr, j), is_a ? "keyA-" : "keyB-", 5), 0,
                         "request %zu mixes keys: %s", i, req->body);
            total++;
        }
        json_object_put(arr);
        mock_request_free(req);
    }
    cr_assert_eq(total, 6);
}

Test(relay, waits_flush_ms_unless_full, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.flush_ms = 2000;
    o.max_batch_calls = 2;
    start(&o);
    struct calls cs;
    fill(&cs, 3, "flush", 0);
    int64_t t0 = mock_now_ms();
    submit("wk_test", cs.c, 2); /* full: goes at once */
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    int64_t t1 = mock_now_ms();
    submit("wk_test", &cs.c[2], 1); /* alone: waits flush_ms */
    cr_assert(mock_upstream_wait_calls(mock, 3, WAIT_MS));
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    struct mock_request *r1 = mock_upstream_request(mock, 1);
    int64_t full = r0->at_ms - t0;
    int64_t lone = r1->at_ms - t1;
    mock_request_free(r0);
    mock_request_free(r1);
    cr_assert_lt(full, 2000, "a full batch waited %lld ms", (long long)full);
    cr_assert_geq(lone, 2000 - 1, "a lone call went after %lld ms", (long long)lone);
    stop_and_stats(5000, 0);
}

Test(relay, retries_after_500, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.status = 500});
    struct calls cs;
    fill(&cs, 1, "r500", 0);
    submit("wk_test", cs.c, 1);
    cr_assert(mock_upstream_wait_calls(mock, 1, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 2);
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    struct mock_request *r1 = mock_upstream_request(mock, 1);
    cr_assert_eq(r0->status, 500);
    cr_assert_eq(r1->status, 200);
    /* Same bytes, so the same messageId: only sentAt may differ. */
    const char *end = strstr(r0->body, "],\"sentAt\"");
    cr_assert_not_null(end);
    cr_assert_eq(strncmp(r0->body, r1->body, (size_t)(end - r0->body)), 0);
    mock_request_free(r0);
    mock_request_free(r1);
    cr_assert_eq(st.relayed, 1);
    cr_assert_eq(st.requests, 2);
    cr_assert_eq(st.retries, 1);
    cr_assert_eq(st.retried[GW_RELAY_RETRY_500], 1);
    cr_assert_eq(st.dropped, 0);
}

Test(relay, honours_retry_after_on_429, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts(); /* backoff alone would be <= 200 ms */
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.status = 429, .retry_after = "1"});
    struct calls cs;
    fill(&cs, 1, "r429", 0);
    submit("wk_test", cs.c, 1);
    cr_assert(mock_upstream_wait_calls(mock, 1, WAIT_MS));
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    struct mock_request *r1 = mock_upstream_request(mock, 1);
    cr_assert_eq(r0->status, 429);
    cr_assert_geq(r1->at_ms - r0->at_ms, 1000, "retried after %lld ms",
                  (long long)(r1->at_ms - r0->at_ms));
    mock_request_free(r0);
    mock_request_free(r1);
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(st.retries, 1);
    cr_assert_eq(st.retried[GW_RELAY_RETRY_429], 1);
    cr_assert_eq(st.relayed, 1);
}

Test(relay, refused_call_isolated_by_halving, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    start(&o);
    mock_upstream_refuse_containing(mock, "\"split-0001\"");
    struct calls cs;
    fill(&cs, 5, "split", 0);
    submit("wk_test", cs.c, 5);
    cr_assert(mock_upstream_wait_calls(mock, 4, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    /* 5 -> 3 (refused) -> 2 (refused) -> 1 ok, 1 refused alone, 1 ok, then 2 ok */
    size_t want[] = {5, 3, 2, 1, 1, 1, 2};
    int status[] = {400, 400, 400, 200, 400, 200, 200};
    cr_assert_eq(mock_upstream_count(mock), 7);
    for (size_t i = 0; i < 7; i++) {
        struct mock_request *req = mock_upstream_request(mock, i);
        cr_assert_eq(req->status, status[i], "request %zu", i);
        mock_request_free(req);
        cr_assert_eq(batch_len(i), want[i], "request %zu", i);
    }
    assert_accepted("split", (const int[]){0, 2, 3, 4}, 4);
    cr_assert_eq(st.dropped, 1);
    cr_assert_eq(st.dead_lettered, 1);
    cr_assert_eq(st.relayed, 4);
    cr_assert_eq(st.requests, 7);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(spool_depth(), 0, "delivered calls left the spool");
    struct dead dl;
    read_dead(&dl);
    cr_assert_eq(dl.n, 1);
    cr_assert_str_eq(dl.d[0].kind, "call");
    cr_assert_eq(dl.d[0].status, 400);
    cr_assert(has_message_id(&dl.d[0], "split-0001"), "%s", dl.d[0].body);
    cr_assert_str_eq(dl.d[0].write_key, "wk_test");
    cr_assert_str_eq(dl.d[0].endpoint, mock_upstream_endpoint(mock));
    cr_assert_not_null(strstr(dl.d[0].reason, "refused by mock"), "%s", dl.d[0].reason);
    dead_fini(&dl);
}

Test(relay, other_4xx_drops_the_batch_unsplit, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.status = 401});
    struct calls cs;
    fill(&cs, 3, "r401", 0);
    submit("wk_test", cs.c, 3);
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 1);
    cr_assert_eq(st.dropped, 3);
    cr_assert_eq(st.relayed, 0);
    struct dead dl;
    read_dead(&dl);
    cr_assert_eq(dl.n, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(dl.d[i].status, 401);
    }
    dead_fini(&dl);
}

Test(relay, hang_then_recovery, .timeout = 40)
{
    struct gw_relay_opts o = quick_opts();
    o.timeout_ms = 300;
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.delay_ms = 20000});
    struct calls cs;
    fill(&cs, 2, "hang", 0);
    submit("wk_test", cs.c, 2);
    cr_assert(mock_upstream_wait_calls(mock, 2, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 2);
    assert_accepted("hang", (const int[]){0, 1}, 2);
    cr_assert_eq(st.relayed, 2);
    cr_assert_eq(st.retries, 1);
    cr_assert_eq(st.retried[GW_RELAY_RETRY_TRANSPORT], 1);
    cr_assert_str_eq(gw_relay_retry_label(GW_RELAY_RETRY_TRANSPORT), "transport");
    cr_assert_null(gw_relay_retry_label(GW_RELAY_RETRY_CAUSES));
}

Test(relay, expired_calls_dropped_not_retried, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.max_retry_ms = 300;
    start(&o);
    mock_upstream_set_default(mock, (struct mock_reply){.status = 503});
    struct calls cs;
    fill(&cs, 1, "old", 0);
    submit("wk_test", cs.c, 1);
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    /* Stopping flushes, so the relay retries until the call is too old,
     * then drops it: nothing is left unsent although upstream never
     * accepted it. */
    int64_t t0 = mock_now_ms();
    struct gw_relay_stats st = stop_and_stats(10000, 0);
    cr_assert_lt(mock_now_ms() - t0, 9000, "the old call was retried until the deadline");
    cr_assert_eq(st.dropped, 1);
    cr_assert_eq(st.dead_lettered, 1);
    cr_assert_eq(st.relayed, 0);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(mock_upstream_count(mock), st.requests);
    cr_assert_eq(st.retried[GW_RELAY_RETRY_503], st.requests);
    struct dead dl;
    read_dead(&dl);
    cr_assert_eq(dl.n, 1);
    cr_assert_eq(dl.d[0].status, 503);
    cr_assert_not_null(strstr(dl.d[0].reason, "max_retry_ms"), "%s", dl.d[0].reason);
    dead_fini(&dl);
}

Test(relay, request_budget_max_rps, .timeout = 60)
{
    struct gw_relay_opts o = quick_opts();
    o.max_rps = 5;
    o.max_batch_calls = 1;
    start(&o);
    struct calls cs;
    fill(&cs, 60, "rps", 0);
    submit("wk_test", cs.c, 60);
    cr_assert(mock_upstream_wait_calls(mock, 60, 40000));
    stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 60);
    int64_t at[60];
    for (size_t i = 0; i < 60; i++) {
        struct mock_request *req = mock_upstream_request(mock, i);
        at[i] = req->at_ms;
        mock_request_free(req);
    }
    /* Six requests within one second would break the budget, as seen by
     * the receiver: no allowance for delivery jitter, the relay spaces
     * request starts from the end of earlier requests. A burst of 5 would
     * put 5 requests in one millisecond. */
    for (size_t i = 0; i + 5 < 60; i++) {
        cr_assert_geq(at[i + 5] - at[i], 1000, "requests %zu..%zu within %lld ms", i, i + 5,
                      (long long)(at[i + 5] - at[i]));
    }
    /* Nor much slower than the budget: 59 gaps of 200 ms. */
    cr_assert_lt(at[59] - at[0], 25000, "60 requests took %lld ms", (long long)(at[59] - at[0]));
    int ids[60];
    for (int i = 0; i < 60; i++) {
        ids[i] = i;
    }
    assert_accepted("rps", ids, 60);
}

Test(relay, spool_full_is_busy_and_all_or_nothing, .timeout = 10)
{
    struct calls cs;
    fill(&cs, 3, "full", 0);
    size_t len = cs.c[0].len;
    open_spool(2 * len + len / 2);
    struct gw_relay_opts o = quick_opts();
    relay = gw_relay_create(&o, spool); /* not started: nothing drains the spool */
    const char *ep = "http://127.0.0.1:9/v1";
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, cs.c, 1), GW_OK);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, &cs.c[1], 2), GW_ERR_BUSY);
    cr_assert_eq(gw_relay_submit(relay, "wk_other", ep, &cs.c[1], 1), GW_OK);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, &cs.c[2], 1), GW_ERR_BUSY);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_eq(st.submitted, 2);
    cr_assert_eq(st.queued, 2);
    cr_assert_eq(st.queued_bytes, 2 * len);
    cr_assert_eq(gw_relay_stop(relay, 0), 2);
    cr_assert_eq(gw_relay_stop(relay, 0), 2, "stop is idempotent");
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, cs.c, 1), GW_ERR_BUSY);
    cr_assert_eq(gw_relay_start(relay), GW_ERR_BUSY);
    uint64_t calls = 0;
    gw_spool_stats(spool, &calls, NULL);
    cr_assert_eq(calls, 2, "the unsent calls stay in the spool");
}

Test(relay, rejects_bad_calls, .timeout = 10)
{
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = 200;
    relay = gw_relay_create(&o, spool);
    const char *ep = "http://127.0.0.1:9/v1";
    char big[200];
    memset(big, 'x', sizeof(big));
    struct gw_relay_call ok = {.json = "{}", .len = 2};
    struct gw_relay_call fits = {.json = big, .len = 200 - 48};
    struct gw_relay_call over = {.json = big, .len = 200 - 48 + 1};
    struct gw_relay_call empty = {.json = "", .len = 0};
    struct gw_relay_call two[] = {ok, over};
    cr_assert_eq(gw_relay_submit(relay, "k", ep, &fits, 1), GW_OK);
    cr_assert_eq(gw_relay_submit(relay, "k", ep, &over, 1), GW_ERR_TOO_LARGE);
    cr_assert_eq(gw_relay_submit(relay, "k", ep, two, 2), GW_ERR_TOO_LARGE);
    cr_assert_eq(gw_relay_submit(relay, "k", ep, &empty, 1), GW_ERR_INVALID);
    cr_assert_eq(gw_relay_submit(relay, NULL, ep, &ok, 1), GW_ERR_INVALID);
    cr_assert_eq(gw_relay_submit(relay, "k", ep, &ok, 0), GW_OK);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_eq(st.submitted, 1);
}

Test(relay, stop_flushes_without_waiting_flush_ms, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.flush_ms = 60000;
    start(&o);
    struct calls cs;
    fill(&cs, 3, "drain", 0);
    submit("wk_test", cs.c, 3);
    int64_t t0 = mock_now_ms();
    struct gw_relay_stats st = stop_and_stats(10000, 0);
    cr_assert_lt(mock_now_ms() - t0, 5000);
    cr_assert_eq(mock_upstream_count(mock), 1);
    cr_assert_eq(batch_len(0), 3);
    cr_assert_eq(st.relayed, 3);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", mock_upstream_endpoint(mock), cs.c, 1),
                 GW_ERR_BUSY);
}

Test(relay, stop_cuts_a_hanging_request_at_the_deadline, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.timeout_ms = 20000;
    start(&o);
    mock_upstream_set_default(mock, (struct mock_reply){.delay_ms = 60000});
    struct calls cs;
    fill(&cs, 3, "stuck", 0);
    submit("wk_test", cs.c, 3);
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    int64_t t0 = mock_now_ms();
    size_t unsent = gw_relay_stop(relay, 700);
    int64_t took = mock_now_ms() - t0;
    cr_assert_eq(unsent, 3);
    cr_assert_geq(took, 650, "stop returned after %lld ms, before the deadline", (long long)took);
    cr_assert_lt(took, 700 + 1500, "stop took %lld ms for a 700 ms deadline", (long long)took);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_eq(st.relayed, 0);
    cr_assert_eq(st.queued, 3, "the cut calls stay in the spool");
    cr_assert_eq(gw_relay_submit(relay, "wk_test", mock_upstream_endpoint(mock), cs.c, 1),
                 GW_ERR_BUSY);
}

Test(relay, stop_before_start_counts_queued, .timeout = 10)
{
    struct gw_relay_opts o = quick_opts();
    relay = gw_relay_create(&o, spool);
    struct calls cs;
    fill(&cs, 2, "idle", 0);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", mock_upstream_endpoint(mock), cs.c, 2), GW_OK);
    cr_assert_eq(gw_relay_stop(relay, 1000), 2);
    cr_assert_eq(mock_upstream_count(mock), 0);
}

/* ---- on the spool ---- */

static void put_direct(const char *key, const struct calls *cs)
{
    const char *json[MAX_CALLS];
    size_t len[MAX_CALLS];
    for (size_t i = 0; i < cs->n; i++) {
        json[i] = cs->c[i].json;
        len[i] = cs->c[i].len;
    }
    cr_assert_eq(gw_spool_put(spool, key, mock_upstream_endpoint(mock), json, len, cs->n, NULL),
                 GW_OK);
}

Test(relay, replays_the_spool_at_start_oldest_first, .timeout = 30)
{
    struct calls a;
    struct calls b;
    fill(&a, 4, "oldA", 0);
    fill(&b, 3, "oldB", 0);
    put_direct("wk_A", &a);
    put_direct("wk_B", &b);
    struct gw_relay_opts o = quick_opts();
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 7, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    cr_assert_eq(st.relayed, 7);
    cr_assert_eq(st.submitted, 0);
    cr_assert_eq(mock_upstream_count(mock), 2);
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    cr_assert_str_eq(r0->authorization, "Basic d2tfQTo=", "the oldest head goes first");
    mock_request_free(r0);
    cr_assert_eq(spool_depth(), 0);
}

Test(relay, unsent_calls_survive_a_restart, .timeout = 40)
{
    struct gw_relay_opts o = quick_opts();
    o.timeout_ms = 20000;
    start(&o);
    mock_upstream_push_reply(mock, (struct mock_reply){.delay_ms = 60000});
    struct calls cs;
    fill(&cs, 5, "again", 0);
    submit("wk_test", cs.c, 5);
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    cr_assert_eq(gw_relay_stop(relay, 300), 5);
    gw_relay_destroy(relay);
    relay = NULL;
    /* What a restart does: the same spool, a new relay. */
    open_spool(0);
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS));
    stop_and_stats(5000, 0);
    assert_accepted("again", (const int[]){0, 1, 2, 3, 4}, 5);
}

Test(relay, memory_window_pages_calls_in_order, .timeout = 60)
{
    struct calls cs;
    fill(&cs, 60, "page", 100);
    struct gw_relay_opts o = quick_opts();
    o.max_batch_calls = 4;
    o.max_queue_bytes = 6 * cs.c[0].len; /* far less than what is queued */
    relay = gw_relay_create(&o, spool);
    submit("wk_test", cs.c, 60); /* all in the spool before the sender runs */
    cr_assert_eq(gw_relay_start(relay), GW_OK);
    cr_assert(mock_upstream_wait_calls(mock, 60, 40000));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    int ids[60];
    for (int i = 0; i < 60; i++) {
        ids[i] = i;
    }
    assert_accepted("page", ids, 60);
    for (size_t i = 0; i < mock_upstream_count(mock); i++) {
        cr_assert_leq(batch_len(i), 4);
    }
    cr_assert_eq(st.memory_calls, 0);
    cr_assert_eq(spool_depth(), 0);
}

Test(relay, a_queue_in_backoff_does_not_hold_up_the_others, .timeout = 60)
{
    struct calls slow;
    struct calls fast;
    fill(&slow, 40, "slow", 200);
    fill(&fast, 5, "fast", 0);
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = 48 + 2 * slow.c[0].len + 1; /* two slow calls per batch */
    o.max_queue_bytes = 8 * slow.c[0].len;          /* the window: 8 slow calls */
    /* wk_slow's first batch (the oldest head) gets a 503 and waits. */
    mock_upstream_push_reply(mock, (struct mock_reply){.status = 503, .retry_after = "60"});
    relay = gw_relay_create(&o, spool);
    submit("wk_slow", slow.c, 40);
    submit("wk_fast", fast.c, 5);
    cr_assert_eq(gw_relay_start(relay), GW_OK);
    /* The slow queue's backlog (40 calls) is far over the window; the
     * fast calls behind it in the spool still go. */
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS), "the fast queue was held up");
    json_object *acc = mock_upstream_accepted_calls(mock);
    for (size_t j = 0; j < json_object_array_length(acc); j++) {
        cr_assert_eq(strncmp(message_id(acc, j), "fast-", 5), 0);
    }
    json_object_put(acc);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_leq(st.memory_bytes, o.max_queue_bytes);
    cr_assert_eq(gw_relay_stop(relay, 0), 40 - st.dropped);
}

Test(relay, too_large_calls_in_the_spool_go_to_the_dead_letters, .timeout = 30)
{
    struct calls cs;
    fill(&cs, 3, "misfit", 0);
    cs.c[1] = make_call(cs.text[1], CALL_SIZE, "misfit", 1, 300);
    put_direct("wk_test", &cs); /* put under larger limits */
    struct gw_relay_opts o = quick_opts();
    o.max_batch_bytes = 48 + cs.c[0].len + 10;
    start(&o);
    cr_assert(mock_upstream_wait_calls(mock, 2, WAIT_MS));
    struct gw_relay_stats st = stop_and_stats(5000, 0);
    assert_accepted("misfit", (const int[]){0, 2}, 2);
    cr_assert_eq(st.dropped, 1);
    struct dead dl;
    read_dead(&dl);
    cr_assert_eq(dl.n, 1);
    cr_assert(has_message_id(&dl.d[0], "misfit-0001"));
    dead_fini(&dl);
}
