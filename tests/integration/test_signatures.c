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

/* ---- attacks: each is a 401, and nothing reaches Segment or the spool ---- */

#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "spool/spool.h"

#define PUBLIC "https://hooks.sourcegate.test/webhooks/"

static void start_with(const char *config)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .config = config};
    gw = gwt_gateway_start(&o);
}

static void setup_url(void)
{
    start_with("config/ok/signed_url.yaml");
}

static void setup_legacy(void)
{
    start_with("config/ok/signed_legacy.yaml");
}

static void setup_proxy(void)
{
    start_with("config/ok/signed_proxy.yaml");
}

/* md over key and n bytes of msg, as base64 or lowercase hex, into out. */
static void mac_of(const EVP_MD *md, const char *key, const void *msg, size_t n, int b64,
                   char *out, size_t cap)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    cr_assert_not_null(HMAC(md, key, (int)strlen(key), msg, n, mac, &maclen));
    cr_assert_lt((size_t)2 * maclen + 4, cap);
    if (b64) {
        EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
        return;
    }
    for (unsigned int i = 0; i < maclen; i++) {
        snprintf(out + 2 * i, cap - 2 * i, "%02x", mac[i]);
    }
}

static int by_pair(const void *a, const void *b)
{
    const struct gw_form_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Twilio's and Mandrill's signature: base64 HMAC-SHA1 of url + the form's
 * fields sorted, as name+value. */
static void sign_form(const char *key, const char *url, const char *body, size_t len, char *out,
                      size_t cap)
{
    struct gw_form_pair *p = NULL;
    size_t n = 0;
    cr_assert_eq(gw_decode_form_pairs(body, len, 1000, &p, &n), GW_OK);
    qsort(p, n, sizeof(*p), by_pair);
    char *msg = gw_strdup(url);
    for (size_t i = 0; i < n; i++) {
        char *next = gw_asprintf("%s%s%s", msg, p[i].name, p[i].value);
        free(msg);
        msg = next;
    }
    mac_of(EVP_sha1(), key, msg, strlen(msg), 1, out, cap);
    free(msg);
    gw_decode_pairs_free(p, n);
}

/* Nothing reached the Segment stand-in, the spool or the dead letters. */
static void nothing_kept(const char *what)
{
    uint64_t calls = 1, bytes = 1;
    struct gw_spool_dead_stats ds;
    gw_spool_stats(gw->spool, &calls, &bytes);
    gw_spool_dead_stats(gw->spool, &ds);
    cr_expect_eq(calls, 0, "%s: %llu calls spooled", what, (unsigned long long)calls);
    cr_expect_eq(ds.dead, 0, "%s: %llu dead letters", what, (unsigned long long)ds.dead);
    cr_expect_eq(mock_upstream_count(up), 0, "%s: Segment was called", what);
}

static long post(const char *path, const char *const *hdrs, const char *body, size_t len,
                 struct http_resp *r)
{
    char *url = gwt_url(gw, path);
    long st = http_request("POST", url, hdrs, body, len, r);
    free(url);
    return st;
}

/* A signature made for another URL, sent with that URL's Host and
 * X-Forwarded-Proto, must not verify: the URL is public_url, never the
 * client's Host. */
Test(signatures, url_schemes_ignore_the_client_host, .init = setup_url, .fini = teardown,
     .timeout = 30)
{
    size_t len = 0;
    char *twilio = gwt_read("golden/twilio/sms.status.delivered.body", &len);
    char sig[128], line[256];
    sign_form("twilio-test-auth-token", "https://evil.example/webhooks/twilio", twilio, len, sig,
              sizeof(sig));
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
    const char *forged[] = {"Content-Type: application/x-www-form-urlencoded",
                            "Host: evil.example", "X-Forwarded-Proto: https",
                            "X-Forwarded-Host: evil.example", line, NULL};
    struct http_resp r;
    cr_expect_eq(post("/webhooks/twilio", forged, twilio, len, &r), 401, "%s", r.body);
    http_resp_fini(&r);

    /* Mandrill's published vector, signed for https://example.com/... */
    size_t mlen = 0;
    char *mandrill = gwt_read("signing/mandrill/batch.all_events.form", &mlen);
    const char *mhdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                           "Host: example.com", "X-Forwarded-Proto: https",
                           "X-Mandrill-Signature: IfY5bP9jeVdiV+byLNTS5Co6W8c=", NULL};
    cr_expect_eq(post("/webhooks/mandrill", mhdrs, mandrill, mlen, &r), 401, "%s", r.body);
    http_resp_fini(&r);

    /* HubSpot v3, signed for the attacker's URL */
    size_t hlen = 0;
    char *hub = gwt_read("golden/hubspot/contact.creation.body", &hlen);
    char ts[32], hsig[128], h0[256], h1[64];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL) * 1000);
    char *msg = gw_asprintf("POSThttps://evil.example/webhooks/hubspot%.*s%s", (int)hlen, hub, ts);
    mac_of(EVP_sha256(), "hubspot-test-client-secret", msg, strlen(msg), 1, hsig, sizeof(hsig));
    free(msg);
    snprintf(h0, sizeof(h0), "X-HubSpot-Signature-v3: %s", hsig);
    snprintf(h1, sizeof(h1), "X-HubSpot-Request-Timestamp: %s", ts);
    const char *hhdrs[] = {"Content-Type: application/json", "Host: evil.example",
                           "X-Forwarded-Proto: https", h0, h1, NULL};
    cr_expect_eq(post("/webhooks/hubspot", hhdrs, hub, hlen, &r), 401, "%s", r.body);
    http_resp_fini(&r);
    nothing_kept("signed for another URL");

    /* the same Twilio body signed for the configured public URL is relayed */
    sign_form("twilio-test-auth-token", PUBLIC "twilio", twilio, len, sig, sizeof(sig));
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
    const char *good[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Host: evil.example", line, NULL};
    cr_expect_eq(post("/webhooks/twilio", good, twilio, len, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_expect(mock_upstream_wait_calls(up, 1, 10000), "the signed request was not relayed");
    free(hub);
    free(mandrill);
    free(twilio);
}

/* Without public_url, X-Forwarded-Proto and X-Forwarded-Host count only
 * from a trusted proxy: here trusted_proxies names 10.9.9.9, not us. */
Test(signatures, forwarded_headers_of_an_untrusted_peer_do_not_count, .init = setup_proxy,
     .fini = teardown, .timeout = 30)
{
    size_t len = 0;
    char *twilio = gwt_read("golden/twilio/sms.status.delivered.body", &len);
    char sig[128], line[256];
    sign_form("twilio-test-auth-token", "https://evil.example/webhooks/twilio", twilio, len, sig,
              sizeof(sig));
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example", line,
                          NULL};
    struct http_resp r;
    cr_expect_eq(post("/webhooks/twilio", hdrs, twilio, len, &r), 401, "%s", r.body);
    cr_expect_neq(strstr(r.body, "trusted proxy"), NULL, "%s", r.body);
    http_resp_fini(&r);
    nothing_kept("forwarded headers from an untrusted peer");
    free(twilio);
}

/* Stripping the SHA-256 header (GitHub) or the v3 headers (HubSpot) does
 * not fall back to the weaker form unless the source allows it. */
static void post_legacy(long want_github, long want_hubspot)
{
    size_t len = 0;
    char *body = gwt_read("signing/github/star.created.json", &len);
    char sig[128], line[160];
    mac_of(EVP_sha1(), "It's a Secret to Everybody", body, len, 0, sig, sizeof(sig));
    snprintf(line, sizeof(line), "X-Hub-Signature: sha1=%s", sig);
    const char *gh[] = {"Content-Type: application/json", "X-GitHub-Event: star", line, NULL};
    struct http_resp r;
    cr_expect_eq(post("/webhooks/github", gh, body, len, &r), want_github, "%s", r.body);
    http_resp_fini(&r);
    free(body);

    body = gwt_read("golden/hubspot/contact.creation.body", &len);
    unsigned char md[SHA256_DIGEST_LENGTH];
    char *msg = gw_asprintf("hubspot-test-client-secret%.*s", (int)len, body);
    SHA256((const unsigned char *)msg, strlen(msg), md);
    free(msg);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    snprintf(line, sizeof(line), "X-HubSpot-Signature: %s", hex);
    const char *hs[] = {"Content-Type: application/json", "X-HubSpot-Signature-Version: v1", line,
                        NULL};
    cr_expect_eq(post("/webhooks/hubspot", hs, body, len, &r), want_hubspot, "%s", r.body);
    http_resp_fini(&r);
    free(body);
}

Test(signatures, no_downgrade_to_legacy_forms, .init = setup_url, .fini = teardown,
     .timeout = 30)
{
    post_legacy(401, 401);
    nothing_kept("legacy signatures");
}

Test(signatures, legacy_forms_when_allowed, .init = setup_legacy, .fini = teardown,
     .timeout = 30)
{
    post_legacy(200, 200);
    cr_expect(mock_upstream_wait_calls(up, 2, 10000), "the allowed legacy requests were relayed");
}

/* X-GitHub-Delivery is not signed: a captured body sent again with a fresh
 * delivery id gets the same messageId, so Segment drops it as a duplicate. */
Test(signatures, fresh_unsigned_id_keeps_the_messageid, .init = setup_url, .fini = teardown,
     .timeout = 30)
{
    size_t len = 0;
    char *body = gwt_read("signing/github/star.created.json", &len);
    char sig[128], line[160];
    mac_of(EVP_sha256(), "It's a Secret to Everybody", body, len, 0, sig, sizeof(sig));
    snprintf(line, sizeof(line), "X-Hub-Signature-256: sha256=%s", sig);
    const char *ids[] = {"X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958",
                         "X-GitHub-Delivery: 00000000-0000-0000-0000-000000000001"};
    for (size_t i = 0; i < 2; i++) {
        const char *h[] = {"Content-Type: application/json", "X-GitHub-Event: star", ids[i], line,
                           NULL};
        struct http_resp r;
        cr_expect_eq(post("/webhooks/github", h, body, len, &r), 200, "%s", r.body);
        http_resp_fini(&r);
    }
    /* the body with another event type chosen by the unsigned header: the
     * issues rules want an issue in the body, so nothing new is made */
    const char *other[] = {"Content-Type: application/json", "X-GitHub-Event: issues", line, NULL};
    struct http_resp r;
    cr_expect_eq(post("/webhooks/github", other, body, len, &r), 200, "%s", r.body);
    cr_expect_eq(json_object_get_int(json_object_object_get(r.json, "accepted")), 0, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 2, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_assert_eq(json_object_array_length(calls), 2);
    const char *m0 = json_object_get_string(
        json_object_object_get(json_object_array_get_idx(calls, 0), "messageId"));
    const char *m1 = json_object_get_string(
        json_object_object_get(json_object_array_get_idx(calls, 1), "messageId"));
    cr_expect_str_eq(m0, m1, "a fresh X-GitHub-Delivery made a new messageId");
    cr_expect_null(strstr(m0, "72d3162e"), "the messageId holds the unsigned id: %s", m0);
    json_object_put(calls);
    free(body);
}

/* The signature is checked before anything else reads the body: a forged
 * request that would be malformed or break the Spec is a 401, and is not
 * kept as a dead letter for replay. */
Test(signatures, forged_bodies_are_not_kept, .init = setup_url, .fini = teardown, .timeout = 30)
{
    static const char *const bodies[] = {"{\"action\": \"created\", \"truncated", "[1, 2, 3]",
                                         "{\"action\": \"created\", \"starred_at\": 1}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        const char *h[] = {"Content-Type: application/json", "X-GitHub-Event: star",
                           "X-Hub-Signature-256: sha256=00", NULL};
        struct http_resp r;
        cr_expect_eq(post("/webhooks/github", h, bodies[i], strlen(bodies[i]), &r), 401, "%s",
                     r.body);
        http_resp_fini(&r);
    }
    nothing_kept("forged bodies");
}

/* sources.stripe.tolerance_s (60 here, 300 by default) is the window. */
Test(signatures, tolerance_s_is_the_window, .init = setup_url, .fini = teardown, .timeout = 30)
{
    size_t len = 0;
    char *body = gwt_read("signing/stripe/customer.created.json", &len);
    time_t at[] = {time(NULL) - 120, time(NULL)};
    long want[] = {401, 200};
    for (size_t i = 0; i < 2; i++) {
        char *msg = gw_asprintf("%lld.%.*s", (long long)at[i], (int)len, body);
        char sig[128], line[256];
        mac_of(EVP_sha256(), "whsec_test_secret", msg, strlen(msg), 0, sig, sizeof(sig));
        free(msg);
        snprintf(line, sizeof(line), "Stripe-Signature: t=%lld,v1=%s", (long long)at[i], sig);
        const char *h[] = {"Content-Type: application/json", line, NULL};
        struct http_resp r;
        cr_expect_eq(post("/webhooks/stripe", h, body, len, &r), want[i], "%s", r.body);
        if (i == 0) {
            cr_expect_neq(strstr(r.body, "over the 60 s window"), NULL, "%s", r.body);
            nothing_kept("outside tolerance_s");
        }
        http_resp_fini(&r);
    }
    free(body);
}

/* A secret the rules cannot use is a lint error at its place in the file,
 * and serve refuses to start. */
Test(signatures, lint_refuses_unusable_secrets, .timeout = 60)
{
    char *cfg = gwt_data_path("config/lint/secret_unusable.yaml");
    char *shipped = gwt_root_path("rules");
    const char *argv[] = {"lint", "--config", cfg, shipped, NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(gwt_run(argv, &out, &err), 1, "%s", err);
    static const char *const want[] = {
        "secret_unusable.yaml:4:13: error: sources.twilio.secret: the scheme signs the URL",
        "secret_unusable.yaml:7:18: error: sources.github.tolerance_s: has no effect",
        "secret_unusable.yaml:10:30: error: sources.stripe.allow_legacy_signatures: has no effect",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_expect_neq(strstr(err, want[i]), NULL, "no '%s' in:\n%s", want[i], err);
    }
    cr_expect_null(strstr(err, "twilio-test-auth-token"), "a secret was printed:\n%s", err);
    free(out);
    free(err);
    const char *serve[] = {"serve",       "--config",  cfg, "--rules", shipped, "--listen",
                           "127.0.0.1:0", "--dry-run", NULL};
    cr_expect_eq(gwt_run(serve, &out, &err), 1, "serve started with unusable secrets");
    cr_expect_neq(strstr(err, "sources.twilio.secret"), NULL, "%s", err);
    free(out);
    free(err);
    free(cfg);
    free(shipped);

    cfg = gwt_data_path("config/lint/secret_no_scheme.yaml");
    char *rules = gwt_data_path("rules/api/acme.yaml");
    const char *nos[] = {"lint", "--config", cfg, rules, NULL};
    cr_expect_eq(gwt_run(nos, &out, &err), 1, "%s", err);
    cr_expect_neq(strstr(err, "secret_no_scheme.yaml:4:13: error: sources.acme.secret: the "
                              "source's rules name no signature scheme"),
                  NULL, "%s", err);
    free(out);
    free(err);
    free(rules);
    free(cfg);
}

/* ---- the real daemon: a proxy it trusts, a spool that fills ---------------- */

#include <ftw.h>
#include <signal.h>

static struct gwt_proc proc;
static char spool_dir[64];

static void start_daemon(const char *max_spool)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-sigspool-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir));
    char *cfg = gwt_data_path("config/ok/signed_daemon.yaml");
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve",       "--config", cfg,       "--rules",    rules,
                          "--listen",    "127.0.0.1:0",         "--endpoint", mock_upstream_endpoint(up),
                          "--spool",     spool_dir,  "--max-spool", max_spool,
                          /* one key may fill it all: these tests fill it with one */
                          "--max-spool-per-key", max_spool, NULL};
    bool ok = gwt_proc_start(&proc, argv);
    char *log = gwt_proc_log(&proc);
    cr_assert(ok, "the daemon did not start:\n%s", log);
    free(log);
    free(rules);
    free(cfg);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void stop_daemon(void)
{
    gwt_proc_stop(&proc, SIGTERM, 15000);
    mock_upstream_stop(up);
    nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static long post_daemon(const char *user, const char *path, const char *const *hdrs,
                        const char *body, size_t len, struct http_resp *r)
{
    char *url = gw_asprintf("http://%s%s127.0.0.1:%u%s", user ? user : "", user ? "@" : "",
                            proc.port, path);
    long st = http_request("POST", url, hdrs, body, len, r);
    free(url);
    return st;
}

/* Through a trusted proxy (127.0.0.1 here), the signed URL is the one its
 * X-Forwarded-Proto and X-Forwarded-Host name. */
Test(signatures, trusted_proxy_names_the_url, .timeout = 60)
{
    start_daemon("1GiB");
    size_t len = 0;
    char *twilio = gwt_read("golden/twilio/sms.status.delivered.body", &len);
    char sig[128], line[256];
    sign_form("twilio-test-auth-token", "https://hooks.proxied.test/webhooks/twilio", twilio, len,
              sig, sizeof(sig));
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
    const char *other[] = {"Content-Type: application/x-www-form-urlencoded",
                           "X-Forwarded-Proto: https", "X-Forwarded-Host: another.test", line,
                           NULL};
    struct http_resp r;
    cr_expect_eq(post_daemon(NULL, "/webhooks/twilio", other, twilio, len, &r), 401, "%s", r.body);
    http_resp_fini(&r);
    cr_expect_eq(mock_upstream_count(up), 0);
    const char *good[] = {"Content-Type: application/x-www-form-urlencoded",
                          "X-Forwarded-Proto: https", "X-Forwarded-Host: hooks.proxied.test",
                          line, NULL};
    cr_expect_eq(post_daemon(NULL, "/webhooks/twilio", good, twilio, len, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_expect(mock_upstream_wait_calls(up, 1, 30000));
    free(twilio);
    stop_daemon();
}

/* Returns new: a Mailgun body signed now with token. */
static char *mailgun_body(const char *token)
{
    char *tmpl = gwt_read("golden/mailgun/delivered.user_id.body", NULL);
    json_object *o = json_tokener_parse(tmpl);
    free(tmpl);
    cr_assert_not_null(o);
    json_object *s = json_object_object_get(o, "signature");
    char ts[32], sig[128];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    char *msg = gw_asprintf("%s%s", ts, token);
    mac_of(EVP_sha256(), "key-0p6mqbf74lb20gzq9f4dhpn9rg3zyk26", msg, strlen(msg), 0, sig,
           sizeof(sig));
    free(msg);
    json_object_object_add(s, "timestamp", json_object_new_string(ts));
    json_object_object_add(s, "token", json_object_new_string(token));
    json_object_object_add(s, "signature", json_object_new_string(sig));
    char *body = gw_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return body;
}

/* Returns new: a SendGrid body of n open events, ids tag-i. */
static char *sendgrid_events(int tag, int n)
{
    char *tmpl = gwt_read("sendgrid/open.user_id.json", NULL);
    json_object *arr = json_tokener_parse(tmpl);
    free(tmpl);
    cr_assert_not_null(arr);
    json_object *ev = json_object_array_get_idx(arr, 0);
    json_object *out = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *copy = NULL;
        cr_assert_eq(json_object_deep_copy(ev, &copy, NULL), 0);
        char id[64];
        snprintf(id, sizeof(id), "fill-%d-%d", tag, i);
        json_object_object_add(copy, "sg_event_id", json_object_new_string(id));
        json_object_array_add(out, copy);
    }
    char *body = gw_strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    json_object_put(arr);
    return body;
}

/* A Mailgun request answered 503 (spool full) must pass on Mailgun's retry:
 * its token is spent only once the calls are durable. */
Test(signatures, mailgun_token_survives_a_503, .timeout = 120)
{
    start_daemon("1MiB");
    /* Segment answers slowly (within the relay's timeout): what is spooled
     * stays until it does */
    mock_upstream_set_default(up, (struct mock_reply){.status = 200, .delay_ms = 8000});
    const char *json[] = {"Content-Type: application/json", NULL};
    long st = 200;
    int tag = 0;
    /* big bodies, then smaller ones, until even one event does not fit */
    static const int sizes[] = {200, 20, 1};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        st = 200;
        for (int i = 0; i < 200 && st == 200; i++) {
            char *fill = sendgrid_events(tag++, sizes[k]);
            struct http_resp fr;
            st = post_daemon("wk_fill", "/webhooks/sendgrid", json, fill, strlen(fill), &fr);
            http_resp_fini(&fr);
            free(fill);
        }
        cr_assert_eq(st, 503, "the spool never filled");
    }
    char token[64];
    snprintf(token, sizeof(token), "tok-%ld-%lld", (long)getpid(), (long long)time(NULL));
    char *body = mailgun_body(token);
    struct http_resp r;
    cr_assert_eq(post_daemon(NULL, "/webhooks/mailgun", json, body, strlen(body), &r), 503, "%s",
                 r.body);
    http_resp_fini(&r);
    mock_upstream_set_default(up, (struct mock_reply){.status = 200});
    /* Mailgun retries the same request until the spool drained */
    int64_t until = mock_now_ms() + 60000;
    do {
        st = post_daemon(NULL, "/webhooks/mailgun", json, body, strlen(body), &r);
        if (st == 503) {
            http_resp_fini(&r);
            cr_assert_lt(mock_now_ms(), until, "the spool never drained");
            usleep(200 * 1000);
        }
    } while (st == 503);
    cr_expect_eq(st, 200, "the retry after a 503 was refused: %s", r.body);
    http_resp_fini(&r);
    /* accepted now: the token is spent */
    cr_expect_eq(post_daemon(NULL, "/webhooks/mailgun", json, body, strlen(body), &r), 401, "%s",
                 r.body);
    cr_expect_neq(strstr(r.body, "token was already used"), NULL, "%s", r.body);
    http_resp_fini(&r);
    free(body);
    stop_daemon();
}
