/* test_signatures.c -- a source with a configured secret: a good signature
 * is relayed, a bad or missing one is a 401 and nothing is kept; a source
 * without a secret accepts unsigned requests.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
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
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .config = "config/ok/signed.yaml"};
    gw = gwt_gateway_start(&o);
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static long post_star(const char *signature, struct http_resp *r)
{
    size_t len = 0;
    char *body = gwt_read("signing/github/star.created.json", &len);
    char sig[160];
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: %s", signature);
    const char *hdrs[] = {"Content-Type: application/json", "X-GitHub-Event: star",
                          "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958",
                          signature ? sig : NULL, NULL};
    char *url = gwt_url(gw, "/webhooks/github");
    long st = http_request("POST", url, hdrs, body, len, r);
    free(url);
    free(body);
    return st;
}

Test(signatures, github_good_bad_and_missing, .init = setup, .fini = teardown, .timeout = 30)
{
    struct http_resp r;
    cr_expect_eq(post_star("sha256=0000000000000000000000000000000000000000000000000000000000000000",
                           &r),
                 401, "%s", r.body);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(r.json, "error")),
                     "unauthorized");
    cr_expect_null(strstr(r.body, "Secret"), "the secret is never echoed");
    http_resp_fini(&r);
    cr_expect_eq(post_star(NULL, &r), 401);
    cr_expect_neq(strstr(r.body, "X-Hub-Signature-256"), NULL, "%s", r.body);
    http_resp_fini(&r);
    cr_assert_eq(post_star("sha256=30b7f55a6d979c01ef1c1a6644f0209ae722dc1c575a8a094d566b79a9ab49e0",
                           &r),
                 200, "%s", r.body);
    http_resp_fini(&r);
    /* only the signed request reached Segment */
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1);
    cr_expect_str_eq(json_object_get_string(
                         json_object_object_get(json_object_array_get_idx(calls, 0), "event")),
                     "Repository Starred");
    json_object_put(calls);
    struct mock_request *q = mock_upstream_request(up, 0);
    cr_expect_str_eq(q->authorization, "Basic d2tfZ2l0aHViOg=="); /* wk_github: */
    mock_request_free(q);
}

Test(signatures, shopify_vector_over_http, .init = setup, .fini = teardown, .timeout = 30)
{
    size_t len = 0;
    char *body = gwt_read("signing/shopify/orders.create.json", &len);
    const char *good[] = {"Content-Type: application/json", "X-Shopify-Topic: orders/create",
                          "X-Shopify-Hmac-Sha256: /acdd7cVE/kECQo3K83iFzKLkIBijLRJ1mBHc9IyFQk=",
                          NULL};
    const char *bad[] = {"Content-Type: application/json", "X-Shopify-Topic: orders/create",
                         "X-Shopify-Hmac-Sha256: AAAAd7cVE/kECQo3K83iFzKLkIBijLRJ1mBHc9IyFQk=",
                         NULL};
    char *url = gwt_url(gw, "/webhooks/shopify?dry_run=1");
    struct http_resp r;
    cr_expect_eq(http_request("POST", url, bad, body, len, &r), 401, "%s", r.body);
    http_resp_fini(&r);
    /* signed: past the signature; its mapping decides the rest */
    long st = http_request("POST", url, good, body, len, &r);
    cr_expect(st == 200 || st == 422, "%ld %s", st, r.body);
    cr_expect(json_object_get_boolean(json_object_object_get(r.json, "dry_run")));
    http_resp_fini(&r);
    free(url);
    free(body);
}

Test(signatures, no_secret_means_unsigned_requests_pass, .init = setup, .fini = teardown,
     .timeout = 30)
{
    /* typeform has a scheme but this configuration gives it no secret */
    size_t len = 0;
    char *body = gwt_read("signing/typeform/form_response.json", &len);
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    char *url = gwt_url(gw, "/webhooks/typeform?dry_run=1");
    struct http_resp r;
    long st = http_request("POST", url, hdrs, body, len, &r);
    cr_expect_neq(st, 401, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    free(body);
}

/* ---- Paddle, Calendly, Zendesk, Customer.io: signed now, over HTTP -------- */

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

enum partner { P_PADDLE, P_CALENDLY, P_ZENDESK, P_CUSTOMERIO };

struct partner_case {
    enum partner kind;
    const char *source;
    const char *body_rel; /* tests/data relative */
    const char *secret;   /* as in config/ok/signed.yaml */
    const char *event;    /* the call the body maps to */
};

static const struct partner_case partner_cases[] = {
    {P_PADDLE, "paddle", "signing/paddle/transaction.completed.json",
     "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI", "Order Completed"},
    {P_CALENDLY, "calendly", "signing/calendly/invitee.created.json", "calendly-test-signing-key",
     "Meeting Scheduled"},
    {P_ZENDESK, "zendesk", "signing/zendesk/ticket.created.json",
     "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "Ticket Created"},
    {P_CUSTOMERIO, "customerio", "signing/customerio/email.delivered.json",
     "customerio-test-signing-key", "Email Delivered"},
};

/* HMAC-SHA256 with key of prefix + body + suffix, as lowercase hex or base64. */
static void mac_text(const char *key, const char *prefix, const char *body, size_t len,
                     const char *suffix, int b64, char *out, size_t cap)
{
    size_t np = strlen(prefix), ns = strlen(suffix);
    unsigned char *msg = malloc(np + len + ns + 1);
    cr_assert_not_null(msg);
    memcpy(msg, prefix, np);
    memcpy(msg + np, body, len);
    memcpy(msg + np + len, suffix, ns);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    cr_assert_not_null(HMAC(EVP_sha256(), key, (int)strlen(key), msg, np + len + ns, mac, &maclen));
    free(msg);
    if (b64) {
        cr_assert_lt((size_t)4 * ((maclen + 2) / 3), cap);
        EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
        return;
    }
    cr_assert_lt((size_t)maclen * 2, cap);
    for (unsigned int i = 0; i < maclen; i++) {
        snprintf(out + 2 * i, cap - 2 * i, "%02x", mac[i]);
    }
}

/* Fills the two signature header lines of kind for body, signed at now. */
static void sign_now(enum partner kind, const char *key, const char *body, size_t len, time_t now,
                     char h0[256], char h1[256])
{
    char ts[32];
    char sig[128];
    snprintf(ts, sizeof(ts), "%lld", (long long)now);
    h1[0] = '\0';
    if (kind == P_PADDLE) {
        char pre[40];
        snprintf(pre, sizeof(pre), "%s:", ts);
        mac_text(key, pre, body, len, "", 0, sig, sizeof(sig));
        snprintf(h0, 256, "Paddle-Signature: ts=%s;h1=%s", ts, sig);
    } else if (kind == P_CALENDLY) {
        char pre[40];
        snprintf(pre, sizeof(pre), "%s.", ts);
        mac_text(key, pre, body, len, "", 0, sig, sizeof(sig));
        snprintf(h0, 256, "Calendly-Webhook-Signature: t=%s,v1=%s", ts, sig);
    } else if (kind == P_ZENDESK) {
        struct tm tm;
        char iso[32];
        cr_assert_not_null(gmtime_r(&now, &tm));
        cr_assert_gt(strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
        mac_text(key, iso, body, len, "", 1, sig, sizeof(sig));
        snprintf(h0, 256, "X-Zendesk-Webhook-Signature: %s", sig);
        snprintf(h1, 256, "X-Zendesk-Webhook-Signature-Timestamp: %s", iso);
    } else {
        char pre[48];
        snprintf(pre, sizeof(pre), "v0:%s:", ts);
        mac_text(key, pre, body, len, "", 0, sig, sizeof(sig));
        snprintf(h0, 256, "X-CIO-Signature: %s", sig);
        snprintf(h1, 256, "X-CIO-Timestamp: %s", ts);
    }
}

static long post_partner(const struct partner_case *c, const char *key, struct http_resp *r)
{
    size_t len = 0;
    char *body = gwt_read(c->body_rel, &len);
    char h0[256];
    char h1[256];
    sign_now(c->kind, key, body, len, time(NULL), h0, h1);
    const char *hdrs[] = {"Content-Type: application/json", h0, h1[0] != '\0' ? h1 : NULL, NULL};
    char *path = gw_asprintf("/webhooks/%s", c->source);
    char *url = gwt_url(gw, path);
    long st = http_request("POST", url, hdrs, body, len, r);
    free(url);
    free(path);
    free(body);
    return st;
}

/* A signature made with another secret is a 401 that names no secret; the
 * same body signed with the configured secret, now, is relayed, alone. */
static void check_partner(const struct partner_case *c)
{
    struct http_resp r;
    cr_expect_eq(post_partner(c, "not-the-configured-secret", &r), 401, "%s: %s", c->source,
                 r.body);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(r.json, "error")),
                     "unauthorized", "%s", c->source);
    cr_expect_neq(strstr(r.body, "signature does not match"), NULL, "%s: %s", c->source, r.body);
    cr_expect_null(strstr(r.body, c->secret), "%s: the secret is never echoed", c->source);
    http_resp_fini(&r);
    cr_assert_eq(post_partner(c, c->secret, &r), 200, "%s: %s", c->source, r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000), "%s: nothing relayed", c->source);
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1, "%s: only the signed request is relayed",
                 c->source);
    json_object *call = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(call, "event")), c->event);
    json_object *integ = NULL;
    cr_expect(
        json_object_object_get_ex(json_object_object_get(call, "context"), "integration", &integ));
    cr_expect_str_eq(json_object_get_string(json_object_object_get(integ, "name")), c->source);
    json_object_put(calls);
}

Test(signatures, paddle_bad_401_good_relayed, .init = setup, .fini = teardown, .timeout = 30)
{
    check_partner(&partner_cases[P_PADDLE]);
}

Test(signatures, calendly_bad_401_good_relayed, .init = setup, .fini = teardown, .timeout = 30)
{
    check_partner(&partner_cases[P_CALENDLY]);
}

Test(signatures, zendesk_bad_401_good_relayed, .init = setup, .fini = teardown, .timeout = 30)
{
    check_partner(&partner_cases[P_ZENDESK]);
}

Test(signatures, customerio_bad_401_good_relayed, .init = setup, .fini = teardown, .timeout = 30)
{
    check_partner(&partner_cases[P_CUSTOMERIO]);
}

Test(signatures, partner_stale_signature_is_401, .init = setup, .fini = teardown, .timeout = 30)
{
    /* signed with the right secret an hour ago: outside every window */
    for (size_t i = 0; i < sizeof(partner_cases) / sizeof(partner_cases[0]); i++) {
        const struct partner_case *c = &partner_cases[i];
        size_t len = 0;
        char *body = gwt_read(c->body_rel, &len);
        char h0[256];
        char h1[256];
        sign_now(c->kind, c->secret, body, len, time(NULL) - 3600, h0, h1);
        const char *hdrs[] = {"Content-Type: application/json", h0, h1[0] != '\0' ? h1 : NULL,
                              NULL};
        char *path = gw_asprintf("/webhooks/%s", c->source);
        char *url = gwt_url(gw, path);
        struct http_resp r;
        cr_expect_eq(http_request("POST", url, hdrs, body, len, &r), 401, "%s: %s", c->source,
                     r.body);
        cr_expect_neq(strstr(r.body, "s old, over the"), NULL, "%s: %s", c->source, r.body);
        http_resp_fini(&r);
        free(url);
        free(path);
        free(body);
    }
    cr_expect_eq(mock_upstream_count(up), 0);
}
