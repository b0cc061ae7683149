/* test_api.c -- the Segment-shaped endpoints: the same invalid calls refused
 * alike through /v1/batch and through a webhook rule; valid calls arrive at
 * the stand-in as sent, plus only what sourcegate adds.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"

static struct mock_upstream *up;
static struct gwt_gateway *gw;

static void setup(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .rules = "rules/api"};
    gw = gwt_gateway_start(&o);
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

Test(api, batch_and_webhook_give_the_same_violations, .init = setup, .fini = teardown,
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
    static const char *const form[] = {"Content-Type: text/plain", NULL};
    cr_expect_eq(http_request("POST", url, form, track, strlen(track), &r), 415);
    http_resp_fini(&r);
    /* the write key in a body never comes back in a dry-run answer */
    static const char keyed[] = "{\"writeKey\":\"wk_hidden\",\"userId\":\"u\",\"event\":\"A Happened\"}";
    cr_expect_eq(http_request("POST", url, json_ct, keyed, strlen(keyed), &r), 422);
    cr_expect_null(strstr(r.body, "wk_hidden"), "%s", r.body);
    http_resp_fini(&r);
    free(url);
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
