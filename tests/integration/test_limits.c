/* test_limits.c -- hostile input over real HTTP: each limit crossed gets
 * its status and body, the daemon serves the next request, and nothing of
 * the refused one is relayed; slow clients do not starve a normal webhook.
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .write_key = "wk_lim"};
    gw = gwt_gateway_start(&o);
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static const char *jstr(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

/* A valid request after the refused one: it arrives first and alone, so
 * nothing of the refused one was relayed, and the daemon still serves. */
static void expect_served_and_nothing_relayed(void)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, ct, open, strlen(open), &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1);
    cr_expect_str_eq(jstr(json_object_array_get_idx(calls, 0), "userId"), "marker-user");
    json_object_put(calls);
    free(url);
    free(open);
}

static void expect_error(struct http_resp *r, long status, const char *code)
{
    cr_expect_eq(r->status, status, "%s", r->body);
    cr_expect_str_eq(jstr(r->json, "error"), code, "%s", r->body);
    cr_expect_not_null(jstr(r->json, "message"));
}

Test(limits, url_over_the_limit_is_414, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_printf(&b, "%s/webhooks/sendgrid?pad=", gw->base), GW_OK);
    for (int i = 0; i < 9000; i++) {
        cr_assert_eq(gw_buf_adds(&b, "x"), GW_OK);
    }
    struct http_resp r;
    http_request("POST", gw_buf_str(&b), NULL, "[]", 2, &r);
    expect_error(&r, 414, "uri_too_long");
    http_resp_fini(&r);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_headers_is_431, .init = setup, .fini = teardown, .timeout = 30)
{
    const char *hdrs[80];
    char names[70][32];
    for (int i = 0; i < 70; i++) {
        snprintf(names[i], sizeof(names[i]), "X-Pad-%d: %d", i, i);
        hdrs[i] = names[i];
    }
    hdrs[70] = NULL;
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    http_request("POST", url, hdrs, "[]", 2, &r);
    expect_error(&r, 431, "header_fields_too_large");
    http_resp_fini(&r);
    free(url);
    expect_served_and_nothing_relayed();
}

Test(limits, huge_header_is_refused, .init = setup, .fini = teardown, .timeout = 30)
{
    char *big = gw_malloc(40000);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', 40000 - 8);
    big[40000 - 1] = '\0';
    const char *hdrs[] = {big, NULL};
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    long st = http_request("POST", url, hdrs, "[]", 2, &r);
    /* libmicrohttpd answers it itself, before any callback of ours */
    cr_expect(st == 431 || st == 413, "status %ld", st);
    http_resp_fini(&r);
    free(url);
    free(big);
    expect_served_and_nothing_relayed();
}

Test(limits, json_nested_too_deep_is_400, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_adds(&b, "[{\"a\":"), GW_OK);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_buf_adds(&b, "["), GW_OK);
    }
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_buf_adds(&b, "]"), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "}]"), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 400, "bad_request");
    cr_expect_neq(strstr(jstr(r.json, "message"), "nesting too deep"), NULL, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_events_is_413, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_adds(&b, "["), GW_OK);
    for (int i = 0; i < 2501; i++) {
        cr_assert_eq(gw_buf_printf(&b, "%s{}", i ? "," : ""), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "]"), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 413, "payload_too_large");
    cr_expect_str_eq(jstr(r.json, "message"), "body holds 2501 events, more than the limit of 2500");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_form_fields_is_413, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    for (int i = 0; i < 1001; i++) {
        cr_assert_eq(gw_buf_printf(&b, "%sf%d=v", i ? "&" : "", i), GW_OK);
    }
    char *url = gwt_url(gw, "/webhooks/twilio");
    static const char *const ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 413, "payload_too_large");
    cr_expect_str_eq(jstr(r.json, "message"), "form has more than 1000 fields");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, a_call_over_32000_bytes_is_422, .init = setup, .fini = teardown, .timeout = 30)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    /* a category string of 40,000 bytes makes one mapped call too large */
    const char *at = strstr(open, "\"cat facts\"");
    cr_assert_not_null(at);
    cr_assert_eq(gw_buf_add(&b, open, (size_t)(at - open)), GW_OK);
    cr_assert_eq(gw_buf_adds(&b, "\""), GW_OK);
    for (int i = 0; i < 40000; i++) {
        cr_assert_eq(gw_buf_adds(&b, "c"), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, at + strlen("\"cat facts")), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 422, "spec_violation");
    json_object *v0 = json_object_array_get_idx(json_object_object_get(r.json, "violations"), 0);
    cr_expect_str_eq(jstr(v0, "rule"), "size");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    free(open);
    expect_served_and_nothing_relayed();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

/* Slow clients: 50 connections each send headers and then one body byte at
 * a time; a normal webhook sent meanwhile is answered promptly, and the
 * process's memory stays bounded. */
Test(limits, slow_clients_do_not_starve_a_webhook, .init = setup, .fini = teardown,
     .timeout = 60)
{
    enum { N = 50 };
    int fds[N];
    unsigned port = (unsigned)strtoul(strrchr(gw->base, ':') + 1, NULL, 10);
    long before = rss_kb();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
        static const char head[] = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[";
        cr_assert(write(fds[i], head, sizeof(head) - 1) > 0);
    }
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++) {
            if (write(fds[i], " ", 1) < 0) {
                break; /* the daemon may close a dribbler: that is allowed */
            }
        }
        int64_t t0 = now_ms();
        char *open = gwt_read("sendgrid/open.user_id.json", NULL);
        char *url = gwt_url(gw, "/webhooks/sendgrid?dry_run=1");
        static const char *const ct[] = {"Content-Type: application/json", NULL};
        struct http_resp r;
        cr_expect_eq(http_request("POST", url, ct, open, strlen(open), &r), 200);
        int64_t took = now_ms() - t0;
        cr_expect_lt(took, 2000, "a normal webhook took %lld ms among slow clients",
                     (long long)took);
        http_resp_fini(&r);
        free(url);
        free(open);
    }
    long after = rss_kb();
    cr_expect_lt(after - before, 64 * 1024, "memory grew by %ld KiB", after - before);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
}
