/* test_relay.c -- the relay against the real mock upstream over loopback,
 * with real libcurl: batching, auth, retries, splits, budget, shutdown.
 * The spool side is in test_relay_spool.c.
 * SPDX-License-Identifier: MIT */
#include "relay_fixture.h"

#include <signal.h>
#include <sys/resource.h>

#include "metrics.h"

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
    int64_t t0 = clock_now_ms(NULL);
    submit("wk_test", cs.c, 2); /* full: goes at once */
    cr_assert(mock_upstream_wait(mock, 1, WAIT_MS));
    int64_t t1 = clock_now_ms(NULL);
    submit("wk_test", &cs.c[2], 1); /* alone: waits flush_ms */
    cr_assert(mock_upstream_wait_calls(mock, 3, WAIT_MS));
    struct mock_request *r0 = mock_upstream_request(mock, 0);
    struct mock_request *r1 = mock_upstream_request(mock, 1);
    int64_t full = r0->at_ms - t0;
    int64_t lone = r1->at_ms - t1;
    mock_request_free(r0);
    mock_request_free(r1);
    /* Simulated time: a full batch does not wait at all. */
    cr_assert_eq(full, 0, "a full batch waited %lld ms", (long long)full);
    cr_assert_geq(lone, 2000, "a lone call went after %lld ms", (long long)lone);
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
    struct gw_relay_opts o = quick_opts();
    o.backoff_max_ms = 200; /* backoff alone would be <= 200 ms */
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
    o.timeout_ms = 1000; /* real: past a hang, yet above any real answer under valgrind */
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
    cr_assert_str_eq(gw_relay_retry_label(GW_RELAY_RETRY_TRANSPORT), "0");
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
     * accepted it, and the relay did not retry until the deadline. */
    int64_t t0 = clock_now_ms(NULL);
    struct gw_relay_stats st = stop_and_stats(10000, 0);
    cr_assert_lt(clock_now_ms(NULL) - t0, 10000, "the old call was retried until the deadline");
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

Test(relay, request_budget_max_rps, .timeout = 30)
{
    struct gw_relay_opts o = quick_opts();
    o.max_rps = 5;
    o.max_batch_calls = 1;
    start(&o);
    struct calls cs;
    fill(&cs, 60, "rps", 0);
    submit("wk_test", cs.c, 60);
    cr_assert(mock_upstream_wait_calls(mock, 60, WAIT_MS));
    stop_and_stats(5000, 0);
    cr_assert_eq(mock_upstream_count(mock), 60);
    int64_t at[60];
    for (size_t i = 0; i < 60; i++) {
        struct mock_request *req = mock_upstream_request(mock, i);
        at[i] = req->at_ms;
        mock_request_free(req);
    }
    /* In simulated time, as seen by the receiver: no six requests within
     * one second (a burst of 5 would put 5 in one instant), and requests
     * per second counted from the first: 5 in each, 12 seconds for 60. */
    for (size_t i = 0; i + 5 < 60; i++) {
        cr_assert_geq(at[i + 5] - at[i], 1000, "requests %zu..%zu within %lld ms", i, i + 5,
                      (long long)(at[i + 5] - at[i]));
    }
    size_t per_second[16] = {0};
    for (size_t i = 0; i < 60; i++) {
        size_t sec = (size_t)((at[i] - at[0]) / 1000);
        cr_assert_lt(sec, 12, "request %zu in second %zu: slower than the budget", i, sec);
        per_second[sec]++;
    }
    for (size_t sec = 0; sec < 12; sec++) {
        cr_assert_eq(per_second[sec], 5, "%zu requests in second %zu", per_second[sec], sec);
    }
    int ids[60];
    for (int i = 0; i < 60; i++) {
        ids[i] = i;
    }
    assert_accepted("rps", ids, 60);
}

/* The value of one sample line of the metrics page, or -1. */
static double metric(const char *series)
{
    char *page = gw_metrics_render(relay);
    size_t n = strlen(series);
    double v = -1;
    for (const char *line = page; line != NULL && *line != '\0' && v < 0;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            v = strtod(line + n + 1, NULL);
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    free(page);
    return v;
}

Test(relay, spool_full_and_shutdown_keep_their_cause, .timeout = 10)
{
    gw_metrics_reset();
    struct calls cs;
    fill(&cs, 3, "full", 0);
    size_t len = cs.c[0].len;
    open_spool(2 * len + len / 2);
    struct gw_relay_opts o = quick_opts();
    relay = gw_relay_create(&o, spool); /* not started: nothing drains the spool */
    const char *ep = "http://127.0.0.1:9/v1";
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, cs.c, 1), GW_OK);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, &cs.c[1], 2), GW_ERR_FULL);
    cr_assert_eq(gw_relay_submit(relay, "wk_other", ep, &cs.c[1], 1), GW_OK);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, &cs.c[2], 1), GW_ERR_FULL);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_eq(st.submitted, 2);
    cr_assert_eq(st.queued, 2);
    cr_assert_eq(st.queued_bytes, 2 * len);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"full\"}"), 2);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"shutdown\"}"), 0);
    cr_assert_eq(gw_relay_stop(relay, 0), 2);
    cr_assert_eq(gw_relay_stop(relay, 0), 2, "stop is idempotent");
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, cs.c, 1), GW_ERR_SHUTDOWN);
    cr_assert_eq(gw_relay_start(relay), GW_ERR_BUSY);
    uint64_t calls = 0;
    gw_spool_stats(spool, &calls, NULL);
    cr_assert_eq(calls, 2, "the unsent calls stay in the spool");
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"full\"}"), 2);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"shutdown\"}"), 1);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"io\"}"), 0);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"disk_full\"}"), 0);
}

Test(relay, a_spool_write_error_is_io_and_passes, .timeout = 10)
{
    gw_metrics_reset();
    struct gw_relay_opts o = quick_opts();
    relay = gw_relay_create(&o, spool); /* not started */
    const char *ep = "http://127.0.0.1:9/v1";
    static char big[300000];
    int n = snprintf(big, sizeof(big), "{\"type\":\"track\",\"properties\":{\"pad\":\"%*s\"}}",
                     250000, "");
    cr_assert(n > 0 && (size_t)n < sizeof(big));
    struct gw_relay_call call = {.json = big, .len = (size_t)n};
    /* A file size limit fails the spool's write (EFBIG) as a failing disk
     * would; SIGXFSZ ignored, the write just fails. */
    struct rlimit old;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit low = {.rlim_cur = 100000, .rlim_max = old.rlim_max};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &low), 0);
    enum gw_rc rc = gw_relay_submit(relay, "wk_test", ep, &call, 1);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_assert_eq(rc, GW_ERR_IO, "rc %s", gw_rc_str(rc));
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"io\"}"), 1);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"full\"}"), 0);
    cr_assert_eq(spool_depth(), 0, "nothing was queued");
    /* The limit gone, the spool takes calls again. */
    cr_assert_eq(gw_relay_submit(relay, "wk_test", ep, &call, 1), GW_OK);
    cr_assert_eq(spool_depth(), 1);
    cr_assert_eq(metric("sourcegate_spool_failures_total{cause=\"io\"}"), 1);
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
    clock_manual(); /* time stands still: only the stop can send the calls */
    struct gw_relay_opts o = quick_opts();
    o.flush_ms = 60000;
    start(&o);
    struct calls cs;
    fill(&cs, 3, "drain", 0);
    submit("wk_test", cs.c, 3);
    int64_t t0 = clock_now_ms(NULL);
    cr_assert_eq(mock_upstream_count(mock), 0);
    struct gw_relay_stats st = stop_and_stats(10000, 0);
    cr_assert_eq(mock_upstream_count(mock), 1);
    struct mock_request *req = mock_upstream_request(mock, 0);
    cr_assert_lt(req->at_ms - t0, 60000, "sent after flush_ms, not at the stop");
    mock_request_free(req);
    cr_assert_eq(batch_len(0), 3);
    cr_assert_eq(st.relayed, 3);
    cr_assert_eq(gw_relay_submit(relay, "wk_test", mock_upstream_endpoint(mock), cs.c, 1),
                 GW_ERR_SHUTDOWN);
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
    /* The request hangs for 60 s and may take 20: the stop's deadline
     * cuts it (test's .timeout is the bound), a transport failure. */
    size_t unsent = gw_relay_stop(relay, 300);
    cr_assert_eq(unsent, 3);
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    cr_assert_eq(st.relayed, 0);
    cr_assert_geq(st.retried[GW_RELAY_RETRY_TRANSPORT], 1, "the cut request failed");
    cr_assert_eq(st.queued, 3, "the cut calls stay in the spool");
    cr_assert_eq(gw_relay_submit(relay, "wk_test", mock_upstream_endpoint(mock), cs.c, 1),
                 GW_ERR_SHUTDOWN);
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
