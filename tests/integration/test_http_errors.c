/* test_http_errors.c -- every answer of DESIGN.md's status table, over real
 * HTTP, and proof that a refused request relays nothing.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "spool/spool.h"

static struct mock_upstream *up;
static struct gwt_gateway *gw;

static void start(const char *write_key, unsigned long long max_body)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .write_key = write_key,
                         .max_body = max_body};
    gw = gwt_gateway_start(&o);
}

static void setup(void)
{
    start("wk_config", 0);
}

static void setup_nokey(void)
{
    start(NULL, 0);
}

static void setup_small(void)
{
    start("wk_config", 1024);
}

/* GitHub with its secret configured (tests/data/config/ok/signed.yaml). */
static void setup_signed(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .config = "config/ok/signed.yaml"};
    gw = gwt_gateway_start(&o);
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static long post(const char *path, const char *const *headers, const char *body,
                 struct http_resp *r)
{
    char *url = gwt_url(gw, path);
    long st = http_request("POST", url, headers, body, strlen(body), r);
    free(url);
    return st;
}

static const char *jstr(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

/* The relay keeps order per write key: once a valid request sent after a
 * refused one has arrived, anything of the refused one would have too. */
static void expect_only_marker_relayed(void)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, open, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1, "relayed: %s",
                 json_object_to_json_string(calls));
    cr_expect_str_eq(jstr(json_object_array_get_idx(calls, 0), "userId"), "marker-user");
    json_object_put(calls);
    free(open);
}

Test(http, missing_user_id_is_422_naming_index_and_field, .init = setup, .fini = teardown,
     .timeout = 30)
{
    char *body = gwt_read("sendgrid/two_events.second_without_user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, body, &r), 422, "%s", r.body);
    cr_expect_str_eq(jstr(r.json, "error"), "spec_violation");
    cr_expect(!json_object_get_boolean(json_object_object_get(r.json, "success")));
    json_object *v = json_object_object_get(r.json, "violations");
    cr_assert_eq(json_object_array_length(v), 1, "%s", r.body);
    json_object *v0 = json_object_array_get_idx(v, 0);
    cr_expect_eq(json_object_get_int(json_object_object_get(v0, "index")), 1);
    cr_expect_str_eq(jstr(v0, "field"), "userId");
    cr_expect_str_eq(jstr(v0, "rule"), "required");
    cr_expect_str_eq(jstr(v0, "event"), "Email Link Clicked");
    http_resp_fini(&r);
    free(body);
    expect_only_marker_relayed();
}

Test(http, malformed_json_is_400, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, "[{\"event\":\"open\",}", &r), 400);
    cr_expect_str_eq(jstr(r.json, "error"), "bad_request");
    cr_expect_eq(strncmp(jstr(r.json, "message"), "body is not valid JSON", 22), 0, "%s", r.body);
    http_resp_fini(&r);
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, "{\"event\":\"open\"}", &r), 400);
    cr_expect_str_eq(jstr(r.json, "message"), "body must be a JSON array of events");
    http_resp_fini(&r);
    expect_only_marker_relayed();
}

Test(http, unknown_source_is_404, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    cr_assert_eq(post("/webhooks/nosuch", json_ct, "[]", &r), 404);
    cr_expect_str_eq(jstr(r.json, "error"), "not_found");
    cr_expect_str_eq(jstr(r.json, "message"), "unknown source 'nosuch'");
    http_resp_fini(&r);
    cr_assert_eq(post("/nowhere", json_ct, "[]", &r), 404);
    http_resp_fini(&r);
    cr_assert_eq(post("/webhooks/sendgrid/extra", json_ct, "[]", &r), 404);
    http_resp_fini(&r);
}

Test(http, get_on_a_webhook_is_405, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    cr_assert_eq(http_request("GET", url, NULL, NULL, 0, &r), 405);
    cr_expect_str_eq(jstr(r.json, "error"), "method_not_allowed");
    char *allow = http_resp_header(&r, "Allow");
    cr_expect_str_eq(allow, "POST");
    free(allow);
    http_resp_fini(&r);
    free(url);
}

Test(http, body_over_the_limit_is_413, .init = setup_small, .fini = teardown, .timeout = 30)
{
    char *big = gw_malloc(4096);
    memset(big, ' ', 4095);
    big[0] = '[';
    big[4093] = ']';
    big[4094] = '\n';
    big[4095] = '\0';
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, big, &r), 413);
    cr_expect_str_eq(jstr(r.json, "error"), "payload_too_large");
    cr_expect_str_eq(jstr(r.json, "message"), "body is over the limit of 1024 bytes");
    http_resp_fini(&r);
    /* without Content-Length: a chunked body is cut off the same way */
    static const char *const chunked[] = {"Content-Type: application/json",
                                          "Transfer-Encoding: chunked", NULL};
    cr_assert_eq(post("/webhooks/sendgrid", chunked, big, &r), 413);
    http_resp_fini(&r);
    free(big);
    expect_only_marker_relayed();
}

/* The Segment-shaped endpoints take the same cap as webhooks, whether the
 * size is declared up front or only found while reading. */
Test(http, v1_body_over_the_limit_is_413, .init = setup_small, .fini = teardown, .timeout = 30)
{
    char *big = gw_malloc(4096);
    memset(big, ' ', 4095);
    big[0] = '{';
    big[4093] = '}';
    big[4094] = '\n';
    big[4095] = '\0';
    static const char *const chunked[] = {"Content-Type: application/json",
                                          "Transfer-Encoding: chunked", NULL};
    static const char *const paths[] = {"/v1/track", "/v1/batch"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct http_resp r;
        cr_assert_eq(post(paths[i], json_ct, big, &r), 413, "%s: %s", paths[i], r.body);
        cr_expect_str_eq(jstr(r.json, "error"), "payload_too_large");
        cr_expect_str_eq(jstr(r.json, "message"), "body is over the limit of 1024 bytes");
        http_resp_fini(&r);
        cr_assert_eq(post(paths[i], chunked, big, &r), 413, "%s chunked: %s", paths[i], r.body);
        cr_expect_str_eq(jstr(r.json, "error"), "payload_too_large");
        http_resp_fini(&r);
    }
    free(big);
    expect_only_marker_relayed();
}

Test(http, missing_write_key_is_401_outside_dry_run, .init = setup_nokey, .fini = teardown,
     .timeout = 30)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct, open, &r), 401);
    cr_expect_str_eq(jstr(r.json, "error"), "unauthorized");
    cr_expect_neq(strstr(jstr(r.json, "message"), "dry_run=1"), NULL, "%s", r.body);
    http_resp_fini(&r);
    cr_assert_eq(post("/webhooks/sendgrid?dry_run=1", json_ct, open, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    free(open);
}

Test(http, write_key_from_configuration, .init = setup, .fini = teardown, .timeout = 30)
{
    expect_only_marker_relayed();
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, "Basic d2tfY29uZmlnOg=="); /* wk_config: */
    mock_request_free(q);
}

Test(http, wrong_content_type_is_415, .init = setup, .fini = teardown, .timeout = 30)
{
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", form, "a=b", &r), 415);
    cr_expect_str_eq(jstr(r.json, "error"), "unsupported_media_type");
    http_resp_fini(&r);
}

Test(http, dry_run_returns_the_calls_and_relays_nothing, .init = setup, .fini = teardown,
     .timeout = 30)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid?dry_run=1", json_ct, open, &r), 200, "%s", r.body);
    cr_expect(json_object_get_boolean(json_object_object_get(r.json, "dry_run")));
    json_object *ev = json_object_object_get(r.json, "events");
    cr_assert_eq(json_object_array_length(ev), 1);
    cr_expect_str_eq(jstr(json_object_array_get_idx(ev, 0), "event"), "Email Opened");
    http_resp_fini(&r);
    static const char *const hdr[] = {"Content-Type: application/json",
                                      "X-Sourcegate-Dry-Run: 1", NULL};
    cr_assert_eq(post("/webhooks/sendgrid", hdr, open, &r), 200);
    cr_expect(json_object_get_boolean(json_object_object_get(r.json, "dry_run")));
    http_resp_fini(&r);
    /* a dry run answers the status a real run would */
    cr_assert_eq(post("/webhooks/sendgrid?dry_run=1", json_ct, "[{\"event\":\"open\"}]", &r), 422);
    cr_expect(json_object_get_boolean(json_object_object_get(r.json, "dry_run")));
    http_resp_fini(&r);
    free(open);
    expect_only_marker_relayed();
}

Test(http, ignored_events_are_counted, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    cr_assert_eq(post("/webhooks/sendgrid", json_ct,
                      "[{\"event\":\"processed\",\"email\":\"a@b.c\",\"timestamp\":1}]", &r),
                 200);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 0);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "ignored")), 1);
    http_resp_fini(&r);
    expect_only_marker_relayed();
}

Test(http, probes_and_request_ids, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    char *url = gwt_url(gw, "/healthz");
    cr_expect_eq(http_request("GET", url, NULL, NULL, 0, &r), 200);
    http_resp_fini(&r);
    free(url);
    url = gwt_url(gw, "/readyz");
    static const char *const rid[] = {"X-Request-Id: abc-123", NULL};
    cr_expect_eq(http_request("GET", url, rid, NULL, 0, &r), 200);
    char *got = http_resp_header(&r, "X-Request-Id");
    cr_expect_str_eq(got, "abc-123");
    free(got);
    http_resp_fini(&r);
    free(url);
}

static bool count_dead(void *arg, const struct gw_spool_dead *d)
{
    (*(int *)arg)++;
    return true;
}

/* A forged request is refused for its signature before its body is decoded:
 * a malformed body is a 401, not a 400, and is not kept as a dead letter. */
Test(http, forged_body_is_refused_before_it_is_decoded, .init = setup_signed, .fini = teardown,
     .timeout = 30)
{
    static const char *const forged[] = {
        "Content-Type: application/json", "X-GitHub-Event: star",
        "X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000",
        NULL};
    static const char *const unsigned_hdrs[] = {"Content-Type: application/json",
                                                "X-GitHub-Event: star", NULL};
    static const char *const bodies[] = {"{not json", "[1, 2, 3]", "\"just a string\""};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct http_resp r;
        cr_expect_eq(post("/webhooks/github", forged, bodies[i], &r), 401, "%s: %s", bodies[i],
                     r.body);
        cr_expect_str_eq(jstr(r.json, "error"), "unauthorized");
        http_resp_fini(&r);
        cr_expect_eq(post("/webhooks/github", unsigned_hdrs, bodies[i], &r), 401, "%s: %s",
                     bodies[i], r.body);
        http_resp_fini(&r);
    }
    int dead = 0;
    cr_assert_eq(gw_spool_dead_each(gw->spool, NULL, 0, count_dead, &dead), GW_OK);
    cr_expect_eq(dead, 0, "a forged request was kept as a dead letter");
}

/* The access line of the request with X-Request-Id id, parsed (new). */
static json_object *access_line(const char *log, const char *id)
{
    char *needle = gw_asprintf("\"request_id\":\"%s\"", id);
    const char *line = strstr(log, needle);
    free(needle);
    cr_assert_not_null(line, "no access line for %s in:\n%s", id, log);
    while (line > log && line[-1] != '\n') {
        line--;
    }
    char *one = gw_strndup(line, strcspn(line, "\n"));
    json_object *o = json_tokener_parse(one);
    cr_assert_not_null(o, "not JSON: %s", one);
    free(one);
    return o;
}

/* Why a request failed is in its access line, as a cause; the source is
 * named only when it is one the rules know. */
Test(http, access_log_names_the_cause, .timeout = 60)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--dry-run", "--listen", "127.0.0.1:0", "--rules", rules, NULL};
    struct gwt_proc proc;
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid", proc.port);
    static const char *const text[] = {"Content-Type: text/plain", "X-Request-Id: req-415",
                                       NULL};
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, text, "[]", 2, &r), 415);
    http_resp_fini(&r);
    free(url);
    url = gw_asprintf("http://127.0.0.1:%u/webhooks/nope", proc.port);
    static const char *const json[] = {"Content-Type: application/json", "X-Request-Id: req-404",
                                       NULL};
    cr_expect_eq(http_request("POST", url, json, "[]", 2, &r), 404);
    http_resp_fini(&r);
    free(url);
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    char *log = gwt_proc_log(&proc);
    json_object *o = access_line(log, "req-415");
    cr_expect_str_eq(jstr(o, "cause"), "media_type");
    cr_expect_str_eq(jstr(o, "source"), "sendgrid");
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "status")), 415);
    json_object_put(o);
    o = access_line(log, "req-404");
    cr_expect_str_eq(jstr(o, "cause"), "unknown_source");
    cr_expect_null(json_object_object_get(o, "source"));
    json_object_put(o);
    free(log);
    free(rules);
}
