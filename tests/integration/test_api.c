/* test_api.c -- the Segment-shaped endpoints: the same invalid calls refused
 * alike through /v1/batch and through a webhook rule; invalid calls
 * quarantined; valid calls arrive at the stand-in as sent, plus only what
 * sourcegate adds; write keys, CORS, aliases and content codings.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "gw_test.h"
#include "mem.h"
#include "diag.h"
#include "mapping/mapping.h"
#include "mock_upstream.h"
#include "replay.h"
#include "runtime.h"
#include "spool/spool.h"
#include "verify/hmac.h"

static struct mock_upstream *up;
static struct gwt_gateway *gw;

static void start_with(const char *config)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .rules = "rules/api",
                         .config = config};
    gw = gwt_gateway_start(&o);
}

static void setup(void)
{
    start_with(NULL);
}

static void setup_reject(void)
{
    start_with("api/reject.yaml");
}

static void setup_lend(void)
{
    start_with("api/lend.yaml");
}

static void setup_github(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .config = "api/github.yaml"};
    gw = gwt_gateway_start(&o);
}

static void setup_browser(void)
{
    start_with("api/browser.yaml");
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static long post(const char *path, const char *body, struct http_resp *r)
{
    char *url = gw_asprintf("http://wk_api@127.0.0.1:%s%s", strrchr(gw->base, ':') + 1, path);
    long st = http_request("POST", url, json_ct, body, strlen(body), r);
    free(url);
    return st;
}

/* Three calls that break the Spec three ways, as a batch and as a webhook
 * whose rule produces the very same calls. */
static const char batch_bad[] =
    "{\"batch\":["
    "{\"type\":\"track\",\"event\":\"Order completed\",\"userId\":\"u1\",\"messageId\":\"m1\","
    "\"properties\":{\"revenue\":\"12.5\"},\"context\":{\"integration\":{\"name\":\"acme\","
    "\"version\":\"1.0.0\"}}},"
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\"m2\",\"properties\":{},"
    "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":\"1.0.0\"}}},"
    "{\"type\":\"identify\",\"userId\":\"u3\",\"messageId\":\"m3\",\"traits\":{\"Email\":\"a@b.c\"},"
    "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":\"1.0.0\"}}}]}";

static const char webhook_bad[] =
    "[{\"type\":\"track\",\"id\":\"m1\",\"name\":\"Order completed\",\"user\":\"u1\","
    "\"props\":{\"revenue\":\"12.5\"}},"
    "{\"type\":\"track\",\"id\":\"m2\",\"name\":\"Order Completed\",\"props\":{}},"
    "{\"type\":\"identify\",\"id\":\"m3\",\"user\":\"u3\",\"traits\":{\"Email\":\"a@b.c\"}}]";

/* The violations without their messages: {index, event, field, rule}. */
static json_object *strip(json_object *violations)
{
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(violations); i++) {
        json_object *v = json_object_array_get_idx(violations, i);
        json_object *o = json_object_new_object();
        static const char *const keys[] = {"index", "event", "field", "rule"};
        for (size_t k = 0; k < 4; k++) {
            json_object_object_add(o, keys[k], json_object_get(json_object_object_get(v, keys[k])));
        }
        json_object_array_add(out, o);
    }
    return out;
}

Test(api, batch_and_webhook_give_the_same_violations, .init = setup_reject, .fini = teardown,
     .timeout = 30)
{
    struct http_resp a, b;
    cr_assert_eq(post("/v1/batch", batch_bad, &a), 422, "%s", a.body);
    cr_assert_eq(post("/webhooks/acme", webhook_bad, &b), 422, "%s", b.body);
    json_object *va = strip(json_object_object_get(a.json, "violations"));
    json_object *vb = strip(json_object_object_get(b.json, "violations"));
    cr_expect(json_object_equal(va, vb), "batch: %s\nwebhook: %s", json_object_to_json_string(va),
              json_object_to_json_string(vb));
    /* casing + semantic on call 0, type on its revenue, userId on call 1, casing on call 2 */
    cr_expect_eq(json_object_array_length(va), 5, "%s", json_object_to_json_string(va));
    static const char *const want[][2] = {{"event", "casing"},
                                          {"event", "semantic"},
                                          {"properties.revenue", "type"},
                                          {"userId", "required"},
                                          {"traits.Email", "casing"}};
    for (size_t i = 0; i < 5 && i < json_object_array_length(va); i++) {
        json_object *v = json_object_array_get_idx(va, i);
        cr_expect_str_eq(json_object_get_string(json_object_object_get(v, "field")), want[i][0]);
        cr_expect_str_eq(json_object_get_string(json_object_object_get(v, "rule")), want[i][1]);
    }
    json_object_put(va);
    json_object_put(vb);
    http_resp_fini(&a);
    http_resp_fini(&b);
    /* nothing of either reached Segment: a valid call sent after them is the first to arrive */
    static const char ok[] = "{\"userId\":\"u9\",\"event\":\"Order Completed\",\"messageId\":\"m9\","
                             "\"properties\":{\"revenue\":1},\"context\":{\"integration\":{\"name\":"
                             "\"acme\",\"version\":\"1.0.0\"}}}";
    cr_assert_eq(post("/v1/track", ok, &a), 200, "%s", a.body);
    http_resp_fini(&a);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1);
    cr_expect_str_eq(json_object_get_string(
                         json_object_object_get(json_object_array_get_idx(calls, 0), "messageId")),
                     "m9");
    json_object_put(calls);
}

Test(api, valid_calls_arrive_as_sent_plus_what_sourcegate_adds, .init = setup, .fini = teardown,
     .timeout = 30)
{
    static const char body[] =
        "{\"writeKey\":\"wk_in_body\",\"context\":{\"integration\":{\"name\":\"acme\",\"version\":"
        "\"1.0.0\"},\"library\":{\"name\":\"analytics-python\",\"version\":\"2.3.4\"}},"
        "\"integrations\":{\"All\":true},\"batch\":["
        "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u1\",\"messageId\":\"m1\","
        "\"timestamp\":\"2024-05-01T10:00:00.000Z\",\"properties\":{\"revenue\":12.5,\"order_id\":"
        "\"o-1\"}},"
        "{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@b.c\",\"firstName\":"
        "\"Ada\"},\"context\":{\"ip\":\"203.0.113.9\"}}]}";
    char *url = gwt_url(gw, "/v1/batch"); /* no Basic auth: the key is in the body */
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, json_ct, body, strlen(body), &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 2);
    http_resp_fini(&r);
    free(url);
    cr_assert(mock_upstream_wait_calls(up, 2, 10000));
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, "Basic d2tfaW5fYm9keTo="); /* wk_in_body: */
    cr_expect_null(strstr(q->body, "wk_in_body"), "the write key stays out of the calls");
    mock_request_free(q);
    json_object *calls = mock_upstream_accepted_calls(up);
    json_object *t = json_object_array_get_idx(calls, 0);
    json_object *want = json_tokener_parse(
        "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u1\",\"messageId\":\"m1\","
        "\"timestamp\":\"2024-05-01T10:00:00.000Z\",\"properties\":{\"revenue\":12.5,\"order_id\":"
        "\"o-1\"},\"context\":{\"integration\":{\"name\":\"acme\",\"version\":\"1.0.0\"},"
        "\"library\":{\"name\":\"analytics-python\",\"version\":\"2.3.4\"}},\"integrations\":"
        "{\"All\":true}}");
    cr_expect(json_object_equal(t, want), "%s", json_object_to_json_string(t));
    json_object_put(want);
    json_object *id = json_object_array_get_idx(calls, 1);
    json_object *ctx = json_object_object_get(id, "context");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(ctx, "ip")), "203.0.113.9");
    cr_expect_not_null(json_object_object_get(ctx, "library"), "batch context merged");
    const char *mid = json_object_get_string(json_object_object_get(id, "messageId"));
    cr_expect_eq(strncmp(mid, "sourcegate-", 11), 0, "a stable messageId is added: %s", mid);
    json_object_put(calls);
}

Test(api, refusals, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    cr_expect_eq(post("/v1/batch", "{\"batch\":{}}", &r), 400);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(r.json, "message")),
                     "body.batch must be an array of calls");
    http_resp_fini(&r);
    cr_expect_eq(post("/v1/batch", "[1]", &r), 400);
    http_resp_fini(&r);
    char *url = gwt_url(gw, "/v1/track");
    static const char track[] = "{\"userId\":\"u\",\"event\":\"A Happened\"}";
    cr_expect_eq(http_request("POST", url, json_ct, track, strlen(track), &r), 401);
    cr_expect_null(strstr(r.body, "wk_"));
    http_resp_fini(&r);
    cr_expect_eq(http_request("GET", url, NULL, NULL, 0, &r), 405);
    http_resp_fini(&r);
    free(url);
    url = gwt_url(gw, "/v1/track?dry_run=1");
    static const char *const gz[] = {"Content-Encoding: br", NULL};
    cr_expect_eq(http_request("POST", url, gz, track, strlen(track), &r), 415);
    http_resp_fini(&r);
    static const char *const bad_gz[] = {"Content-Encoding: gzip", NULL};
    cr_expect_eq(http_request("POST", url, bad_gz, track, strlen(track), &r), 400);
    http_resp_fini(&r);
    /* the write key in a body never comes back in a dry-run answer */
    static const char keyed[] = "{\"writeKey\":\"wk_hidden\",\"userId\":\"u\",\"event\":\"A Happened\"}";
    cr_expect_eq(http_request("POST", url, json_ct, keyed, strlen(keyed), &r), 200);
    cr_expect_null(strstr(r.body, "wk_hidden"), "%s", r.body);
    http_resp_fini(&r);
    free(url);
}

static bool count_dead(void *arg, const struct gw_spool_dead *d)
{
    json_object *list = arg;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string(d->kind));
    json_object_object_add(o, "body", json_object_new_string_len(d->body, (int)d->len));
    json_object_object_add(o, "reason", json_object_new_string(d->reason ? d->reason : ""));
    json_object_object_add(o, "key", json_object_new_string(d->write_key ? d->write_key : ""));
    json_object_array_add(list, o);
    return true;
}

/* The dead letters of the gateway's spool, as [{kind, body, reason, key}]. */
static json_object *dead_letters(void)
{
    json_object *list = json_object_new_array();
    cr_assert_eq(gw_spool_dead_each(gw->spool, NULL, 0, count_dead, list), GW_OK);
    return list;
}

Test(api, invalid_calls_are_quarantined_and_the_rest_relayed, .init = setup, .fini = teardown,
     .timeout = 30)
{
    struct http_resp r;
    cr_assert_eq(post("/v1/batch", batch_bad, &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 0);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "refused")), 3);
    cr_expect_eq(json_object_array_length(json_object_object_get(r.json, "violations")), 5);
    http_resp_fini(&r);
    /* counted, not dropped in silence */
    char *murl = gwt_url(gw, "/metrics");
    cr_assert_eq(http_request("GET", murl, NULL, NULL, 0, &r), 200);
    const char *q = strstr(r.body, "outcome=\"quarantined\"} 3\n");
    cr_expect_not_null(q, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "sourcegate_violations_total{rule=\"casing\"} 2\n"));
    http_resp_fini(&r);
    free(murl);
    json_object *dead = dead_letters();
    cr_assert_eq(json_object_array_length(dead), 3, "%s", json_object_to_json_string(dead));
    for (size_t i = 0; i < 3; i++) {
        json_object *d = json_object_array_get_idx(dead, i);
        cr_expect_str_eq(json_object_get_string(json_object_object_get(d, "kind")), "api_call");
        char mid[8];
        snprintf(mid, sizeof(mid), "\"m%zu\"", i + 1);
        cr_expect_not_null(strstr(json_object_get_string(json_object_object_get(d, "body")), mid));
        cr_expect_str_eq(json_object_get_string(json_object_object_get(d, "key")), "wk_api");
        cr_expect_neq(strlen(json_object_get_string(json_object_object_get(d, "reason"))), 0);
    }
    json_object_put(dead);
    /* one good call among bad ones: it alone reaches Segment */
    static const char mixed[] =
        "{\"batch\":[{\"type\":\"track\",\"event\":\"order completed\",\"userId\":\"u1\","
        "\"messageId\":\"bad\"},{\"type\":\"track\",\"event\":\"Order Completed\","
        "\"userId\":\"u1\",\"messageId\":\"good\",\"context\":{\"integration\":{\"name\":"
        "\"acme\",\"version\":\"1.0.0\"}}}]}";
    cr_assert_eq(post("/v1/batch", mixed, &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 1);
    json_object *v0 = json_object_array_get_idx(json_object_object_get(r.json, "violations"), 0);
    cr_expect_eq(json_object_get_int(json_object_object_get(v0, "index")), 0);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1);
    json_object *c0 = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c0, "messageId")), "good");
    cr_expect_not_null(json_object_object_get(c0, "timestamp"), "timestamped on receipt");
    json_object_put(calls);
}

/* Posts body (one call, messageId "late", refused by acme's Proper Case),
 * then replays the dead letters with acme's rules fixed to lowercase names:
 * the call arrives, sent with auth (the Basic header value). */
static void quarantine_then_replay(const char *path, const char *body, const char *auth)
{
    struct http_resp r;
    char *url = gw_asprintf("http://127.0.0.1:%s%s", strrchr(gw->base, ':') + 1, path);
    cr_assert_eq(http_request("POST", url, json_ct, body, strlen(body), &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "refused")), 1, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    struct gw_runtime rt;
    memset(&rt, 0, sizeof(rt));
    struct gw_diag *d = gw_diag_create();
    char *dir = gwt_data_path("rules/api-lower");
    cr_assert_eq(gw_rules_load_dir(dir, &rt.rules, d), GW_OK, "%s", gw_diag_join(d));
    free(dir);
    gw_diag_destroy(d);
    gw_ingest_init(&rt.ing, &gw->cfg, rt.rules);
    rt.ing.relay = gw->relay;
    rt.ing.spool = gw->spool;
    struct gw_replay_counts counts = {0};
    cr_assert_eq(gw_replay_dead_letters(&rt, gw->spool, NULL, 0, false, &counts), GW_OK);
    cr_expect_eq(counts.replayed, 1);
    cr_expect_eq(counts.failed, 0);
    gw_ingest_fini(&rt.ing);
    gw_ruleset_destroy(rt.rules);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, auth);
    cr_expect_not_null(strstr(q->body, "\"late\""), "%s", q->body);
    mock_request_free(q);
    json_object *dead = dead_letters();
    cr_expect_eq(json_object_array_length(dead), 0, "%s", json_object_to_json_string(dead));
    json_object_put(dead);
}

/* A quarantined call is replayable: after a rules fix, `replay` validates it
 * again and relays it with the write key it came with. */
Test(api, a_quarantined_call_is_replayed_after_a_rules_fix, .init = setup, .fini = teardown,
     .timeout = 30)
{
    quarantine_then_replay("/v1/batch",
                           "{\"writeKey\":\"wk_api\",\"batch\":[{\"type\":\"track\",\"event\":"
                           "\"signup finished\",\"userId\":\"u1\",\"messageId\":\"late\","
                           "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":"
                           "\"1.0.0\"}}}]}",
                           "Basic d2tfYXBpOg=="); /* wk_api: */
}

/* ... validated as the endpoint validates it: an anonymous browser call
 * (api.allow_anonymous) stays acceptable without a userId. */
Test(api, an_anonymous_quarantined_call_is_replayed_as_the_endpoint_took_it,
     .init = setup_browser, .fini = teardown, .timeout = 30)
{
    quarantine_then_replay("/v1/t",
                           "{\"writeKey\":\"wk_site\",\"type\":\"track\",\"event\":"
                           "\"signup finished\",\"userId\":null,\"anonymousId\":\"a-9\","
                           "\"messageId\":\"late\"}",
                           "Basic d2tfc2l0ZTo="); /* wk_site: */
}

/* The attack: with segment_source's write key configured, a /v1 call that
 * brings no key of its own is refused; nothing is relayed nor kept. */
Test(api, a_configured_key_is_never_lent, .init = setup_lend, .fini = teardown, .timeout = 30)
{
    char *url = gwt_url(gw, "/v1/track");
    static const char track[] = "{\"userId\":\"victim\",\"event\":\"Order Completed\","
                                "\"messageId\":\"forged\",\"properties\":{\"revenue\":1}}";
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, json_ct, track, strlen(track), &r), 401, "%s", r.body);
    cr_expect_null(strstr(r.body, "wk_configured"), "%s", r.body);
    http_resp_fini(&r);
    static const char empty[] = "{\"writeKey\":\"\",\"userId\":\"victim\",\"event\":\"Order "
                                "Completed\",\"messageId\":\"forged-2\"}";
    cr_expect_eq(http_request("POST", url, json_ct, empty, strlen(empty), &r), 401, "%s", r.body);
    http_resp_fini(&r);
    cr_expect_eq(http_request("POST", url, json_ct, "{not json", 9, &r), 400);
    http_resp_fini(&r);
    free(url);
    uint64_t queued = 1, bytes = 1;
    gw_spool_stats(gw->spool, &queued, &bytes);
    cr_expect_eq(queued, 0, "nothing spooled");
    json_object *dead = dead_letters();
    cr_expect_eq(json_object_array_length(dead), 0, "%s", json_object_to_json_string(dead));
    json_object_put(dead);
    /* a call with its own key goes through, and is the first to arrive */
    static const char own[] = "{\"userId\":\"u\",\"event\":\"Order Completed\","
                              "\"messageId\":\"mine\",\"properties\":{\"revenue\":1},"
                              "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":"
                              "\"1.0.0\"}}}";
    cr_assert_eq(post("/v1/track", own, &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 1, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, "Basic d2tfYXBpOg=="); /* wk_api: */
    cr_expect_null(strstr(q->body, "forged"));
    mock_request_free(q);
}

static const char *const browser_hdrs[] = {"Content-Type: text/plain",
                                           "Origin: https://app.example.com", NULL};

Test(api, write_keys_cors_and_anonymous_browser_calls, .init = setup_browser, .fini = teardown,
     .timeout = 30)
{
    char *url = gwt_url(gw, "/v1/t");
    /* analytics.js: text/plain, key in the body, userId null, anonymousId */
    static const char anon[] = "{\"writeKey\":\"wk_site\",\"type\":\"track\",\"event\":"
                               "\"Product Viewed\",\"userId\":null,\"anonymousId\":\"a-1\","
                               "\"messageId\":\"anon-1\",\"sentAt\":\"2026-12-01T10:00:00.000Z\"}";
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, browser_hdrs, anon, strlen(anon), &r), 200, "%s",
                 r.body);
    char *acao = http_resp_header(&r, "Access-Control-Allow-Origin");
    cr_expect_str_eq(acao ? acao : "", "https://app.example.com");
    free(acao);
    http_resp_fini(&r);
    /* a key not listed: 401, never echoed, CORS headers on the error */
    static const char other[] = "{\"writeKey\":\"wk_other_key\",\"event\":\"Product Viewed\","
                                "\"anonymousId\":\"a-2\"}";
    cr_expect_eq(http_request("POST", url, browser_hdrs, other, strlen(other), &r), 401);
    cr_expect_null(strstr(r.body, "wk_other"), "%s", r.body);
    acao = http_resp_header(&r, "Access-Control-Allow-Origin");
    cr_expect_str_eq(acao ? acao : "", "https://app.example.com");
    free(acao);
    char *vary = http_resp_header(&r, "Vary");
    cr_expect_str_eq(vary ? vary : "", "Origin");
    free(vary);
    http_resp_fini(&r);
    /* preflights: the listed origin gets what it may send, another a 403 */
    static const char *const pre[] = {"Origin: https://app.example.com",
                                      "Access-Control-Request-Method: POST",
                                      "Access-Control-Request-Headers: authorization", NULL};
    cr_expect_eq(http_request("OPTIONS", url, pre, NULL, 0, &r), 204);
    char *allow = http_resp_header(&r, "Access-Control-Allow-Headers");
    cr_expect_not_null(allow && strstr(allow, "Authorization") ? allow : NULL);
    free(allow);
    http_resp_fini(&r);
    static const char *const evil[] = {"Origin: https://evil.example.net",
                                       "Access-Control-Request-Method: POST", NULL};
    cr_expect_eq(http_request("OPTIONS", url, evil, NULL, 0, &r), 403);
    acao = http_resp_header(&r, "Access-Control-Allow-Origin");
    cr_expect_null(acao);
    free(acao);
    http_resp_fini(&r);
    free(url);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    json_object *c0 = json_object_array_get_idx(calls, 0);
    cr_expect_eq(json_object_array_length(calls), 1);
    cr_expect_null(json_object_object_get(c0, "userId"), "a null userId is absent");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c0, "sentAt")),
                     "2026-12-01T10:00:00.000Z", "the client's sentAt kept");
    json_object *integ = json_object_object_get(json_object_object_get(c0, "context"),
                                                "integration");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(integ, "name")), "acme");
    json_object_put(calls);
}

/* A webhook body sent deflated (zlib, as RFC 9110 says) is read inflated. */
Test(api, a_deflated_webhook_is_inflated, .init = setup, .fini = teardown, .timeout = 30)
{
    static const char body[] = "[{\"type\":\"track\",\"id\":\"z1\",\"name\":\"Order Completed\","
                               "\"user\":\"u1\",\"props\":{\"revenue\":3}}]";
    unsigned char packed[512];
    uLongf n = sizeof(packed);
    cr_assert_eq(compress(packed, &n, (const Bytef *)body, sizeof(body) - 1), Z_OK);
    char *url = gw_asprintf("http://wk_api@127.0.0.1:%s/webhooks/acme", strrchr(gw->base, ':') + 1);
    static const char *const hdrs[] = {"Content-Type: application/json",
                                       "Content-Encoding: deflate", NULL};
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, hdrs, (const char *)packed, n, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(
                         json_object_array_get_idx(calls, 0), "messageId")), "z1");
    json_object_put(calls);
}

Test(api, more_than_2500_calls_is_413, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 8u << 20);
    cr_assert_eq(gw_buf_adds(&b, "{\"batch\":["), GW_OK);
    for (int i = 0; i < 2501; i++) {
        cr_assert_eq(gw_buf_printf(&b, "%s{\"type\":\"track\",\"userId\":\"u\",\"event\":"
                                       "\"A Happened\"}", i ? "," : ""), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "]}"), GW_OK);
    struct http_resp r;
    cr_expect_eq(post("/v1/batch", gw_buf_str(&b), &r), 413, "%.200s", r.body);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(r.json, "message")),
                     "batch holds 2501 calls, more than 2500");
    http_resp_fini(&r);
    gw_buf_fini(&b);
}

/* GitHub signs the JSON it serialized; HTTP's content coding comes after,
 * so a gzipped delivery is checked over the inflated body. */
Test(api, a_gzipped_webhook_is_verified_over_its_inflated_body, .init = setup_github,
     .fini = teardown, .timeout = 30)
{
    size_t len = 0;
    char *body = gwt_read("golden/github/star.deleted.body", &len);
    struct gw_hmac h;
    gw_hmac_begin(&h, GW_HMAC_SHA256, "gzip-signing-secret");
    gw_hmac_add(&h, body, len);
    unsigned char mac[GW_HMAC_SHA256_LEN];
    size_t maclen = sizeof(mac);
    cr_assert_eq(gw_hmac_end(&h, mac, &maclen), GW_OK);
    char hex[2 * GW_HMAC_SHA256_LEN + 1];
    cr_assert_eq(gw_hex_encode(mac, maclen, hex, sizeof(hex)), GW_OK);
    char *sig = gw_asprintf("X-Hub-Signature-256: sha256=%s", hex);
    /* gzip framing (16 + MAX_WBITS), as a partner's HTTP client sends it */
    unsigned char packed[16384];
    z_stream zs = {0};
    cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)body;
    zs.avail_in = (uInt)len;
    zs.next_out = packed;
    zs.avail_out = sizeof(packed);
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof(packed) - zs.avail_out;
    deflateEnd(&zs);
    const char *hdrs[] = {"Content-Type: application/json", "Content-Encoding: gzip",
                          "X-GitHub-Event: star",
                          "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0902", sig, NULL};
    char *url = gwt_url(gw, "/webhooks/github");
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, hdrs, (const char *)packed, n, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    /* the same signature over other bytes is refused, gzipped or not */
    hdrs[4] = "X-Hub-Signature-256: sha256=00";
    cr_expect_eq(http_request("POST", url, hdrs, (const char *)packed, n, &r), 401, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    free(sig);
    free(body);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, "Basic d2tfZ2l0aHViOg=="); /* wk_github: */
    mock_request_free(q);
}
