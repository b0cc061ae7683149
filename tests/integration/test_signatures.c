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
