/* test_e2e_sendgrid.c -- a SendGrid webhook in, Segment batches out: the
 * gateway in-process on port 0, a real Segment stand-in on port 0, libcurl
 * between them.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"

static struct mock_upstream *up;
static struct gwt_gateway *gw;

static void setup(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up)};
    gw = gwt_gateway_start(&o);
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static long post_with_key(const char *key, const char *path, const char *body,
                          struct http_resp *r)
{
    char *url = gw_asprintf("http://%s@127.0.0.1:%s%s", key, strrchr(gw->base, ':') + 1, path);
    long st = http_request("POST", url, json_ct, body, strlen(body), r);
    free(url);
    return st;
}

static bool is_snake(const char *k)
{
    for (const char *c = k; *c; c++) {
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_')) {
            return false;
        }
    }
    return k[0] != '\0';
}

static bool is_iso(const char *s)
{
    return s != NULL && strlen(s) == 24 && s[4] == '-' && s[10] == 'T' && s[23] == 'Z';
}

Test(e2e, six_email_events_arrive_as_spec_calls, .init = setup, .fini = teardown, .timeout = 30)
{
    char *body = gwt_read("sendgrid/email_events.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post_with_key("wk_live_123", "/webhooks/sendgrid", body, &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 7);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "ignored")), 1);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 7, 10000), "the stand-in got %zu requests",
              mock_upstream_count(up));

    for (size_t i = 0; i < mock_upstream_count(up); i++) {
        struct mock_request *q = mock_upstream_request(up, i);
        cr_expect_str_eq(q->method, "POST");
        cr_expect_str_eq(q->path, "/v1/batch");
        /* base64("wk_live_123:") */
        cr_expect_str_eq(q->authorization, "Basic d2tfbGl2ZV8xMjM6");
        cr_expect_str_eq(q->content_type, "application/json");
        mock_request_free(q);
    }
    static const char *const want[][2] = {
        {"Email Delivered", "user-1001"}, {"Email Opened", "user-1001"},
        {"Email Link Clicked", "user-1002"}, {"Email Bounced", "user-1003"},
        {"Email Marked as Spam", "user-1004"}, {"Unsubscribed", "user-1005"},
        {"Unsubscribed", "user-1006"},
    };
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_assert_eq(json_object_array_length(calls), 7);
    for (size_t i = 0; i < 7; i++) {
        json_object *c = json_object_array_get_idx(calls, i);
        json_object *ctx = json_object_object_get(c, "context");
        json_object *integ = json_object_object_get(ctx, "integration");
        cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "type")), "track");
        cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "event")), want[i][0]);
        cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "userId")), want[i][1]);
        cr_expect(is_iso(json_object_get_string(json_object_object_get(c, "timestamp"))));
        const char *mid = json_object_get_string(json_object_object_get(c, "messageId"));
        cr_expect_eq(strncmp(mid, "sendgrid-", 9), 0, "%s", mid);
        cr_expect_str_eq(json_object_get_string(json_object_object_get(integ, "name")), "sendgrid");
        cr_expect_str_eq(json_object_get_string(json_object_object_get(integ, "version")), "1.0.0");
        cr_expect_str_eq(json_object_get_string(
                             json_object_object_get(json_object_object_get(ctx, "traits"), "email")),
                         "example@test.com");
        json_object_object_foreach(json_object_object_get(c, "properties"), k, v)
        {
            (void)v;
            cr_expect(is_snake(k), "property key %s is not snake_case", k);
        }
        cr_expect_not_null(json_object_object_get(json_object_object_get(c, "properties"),
                                                  "email_id"));
    }
    json_object *click = json_object_array_get_idx(calls, 2);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(
                         json_object_object_get(click, "properties"), "link_url")),
                     "http://www.sendgrid.com/");
    json_object_put(calls);
    free(body);
}

Test(e2e, partner_retry_keeps_message_ids, .init = setup, .fini = teardown, .timeout = 30)
{
    char *body = gwt_read("sendgrid/email_events.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post_with_key("wk_a", "/webhooks/sendgrid", body, &r), 200);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 7, 10000));
    cr_assert_eq(post_with_key("wk_a", "/webhooks/sendgrid", body, &r), 200);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 14, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    for (size_t i = 0; i < 7; i++) {
        const char *a = json_object_get_string(
            json_object_object_get(json_object_array_get_idx(calls, i), "messageId"));
        const char *b = json_object_get_string(
            json_object_object_get(json_object_array_get_idx(calls, i + 7), "messageId"));
        cr_expect_str_eq(a, b);
    }
    json_object_put(calls);
    free(body);
}

Test(e2e, batch_envelope_has_sent_at, .init = setup, .fini = teardown, .timeout = 30)
{
    char *body = gwt_read("sendgrid/email_events.user_id.json", NULL);
    struct http_resp r;
    cr_assert_eq(post_with_key("wk_a", "/webhooks/sendgrid", body, &r), 200);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait(up, 1, 10000));
    struct mock_request *q = mock_upstream_request(up, 0);
    json_object *b = json_tokener_parse(q->body);
    cr_assert_not_null(b);
    cr_expect(is_iso(json_object_get_string(json_object_object_get(b, "sentAt"))), "%s", q->body);
    cr_expect(json_object_is_type(json_object_object_get(b, "batch"), json_type_array));
    json_object_put(b);
    mock_request_free(q);
    free(body);
}
