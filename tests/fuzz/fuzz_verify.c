/* fuzz_verify.c -- every partner signature scheme (gateway/verify): their
 * header parsers (Stripe-Signature's t=,v1= list, sha256=..., base64, hex,
 * DER), Mailgun's body fields, Twilio's URL handling, Basic credentials.
 *
 * Input: one byte picking the scheme (mod the table's size), then a header
 * block (fuzz_common.h) and the raw body. Pseudo-headers:
 *   :url :method :user :password  the request's URL, method, Basic auth
 *   :now :tolerance               unix seconds, window (decimal)
 *   :secret                       replaces the scheme's test secret
 *   :legacy                       present: the source allows legacy forms
 *   :hold                         present: a one-use token is held, then
 *                                 released and checked again, then committed
 * Beside not crashing, it checks the downgrade rules: without :legacy, no
 * GitHub SHA-1 or HubSpot v1/v2 request verifies; no Twilio or Mandrill
 * request verifies a non-empty body its signature does not cover; a held
 * Mailgun token passes again once released and never once committed.
 * The body is also given as form fields when it decodes as a form, and as
 * JSON when it parses (Mailgun reads its fields there). The secrets are the
 * ones of tests/data/signing, so the seeds built from those vectors verify.
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fuzz_common.h"
#include "json.h"
#include "verify/verify.h"

static size_t n_schemes;
static bool debug; /* FUZZ_DEBUG set: print each result */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    debug = getenv("FUZZ_DEBUG") != NULL;
    while (gw_verify_at(n_schemes) != NULL) {
        n_schemes++;
    }
    return 0;
}

static int64_t number(const char *s, int64_t dflt)
{
    return s != NULL ? strtoll(s, NULL, 10) : dflt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (n_schemes == 0) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    if (size < 1 || n_schemes == 0) {
        return 0;
    }
    const struct gw_verify_scheme *s = gw_verify_at(data[0] % n_schemes);
    struct fuzz_headers h;
    fuzz_headers_parse(&h, (const char *)data + 1, size - 1);

    struct gw_form_pair *pairs = NULL;
    size_t n_pairs = 0;
    struct gw_verify_param *params = NULL;
    if (gw_decode_form_pairs(h.body, h.len, 1000, &pairs, &n_pairs) == GW_OK && n_pairs > 0) {
        params = calloc(n_pairs, sizeof(*params));
        for (size_t i = 0; params != NULL && i < n_pairs; i++) {
            params[i] = (struct gw_verify_param){pairs[i].name, pairs[i].value};
        }
    }
    json_object *json = NULL;
    char err[160];
    if (gw_json_parse(h.body, h.len, 32, &json, err, sizeof(err)) != GW_OK) {
        json = NULL;
    }
    const char *secret = fuzz_header_cb(&h, ":secret");
    const char *method = fuzz_header_cb(&h, ":method");
    const char *url = fuzz_header_cb(&h, ":url");
    struct gw_verify_input in = {
        .method = method != NULL ? method : "POST",
        .url = url != NULL ? url : "https://example.com/webhooks/fuzz",
        .body = h.body,
        .len = h.len,
        .header = fuzz_header_cb,
        .arg = &h,
        .params = params,
        .n_params = params != NULL ? n_pairs : 0,
        .json = json,
        .basic_user = fuzz_header_cb(&h, ":user"),
        .basic_password = fuzz_header_cb(&h, ":password"),
        .now = number(fuzz_header_cb(&h, ":now"), 1700000000),
        .tolerance_s = (unsigned)number(fuzz_header_cb(&h, ":tolerance"), 0),
        .allow_legacy = fuzz_header_cb(&h, ":legacy") != NULL,
    };
    struct gw_verify_replay hold = {0};
    if (fuzz_header_cb(&h, ":hold") != NULL) {
        in.replay = &hold;
    }
    if (strcmp(gw_verify_name(s), "mailgun") == 0) {
        gw_verify_reset_replay_cache(); /* no state across inputs */
    }
    char why[256];
    memset(why, 'x', sizeof(why));
    enum gw_rc rc = gw_verify_check(s, secret != NULL ? secret : fuzz_test_secret(gw_verify_name(s)),
                                    &in, why, sizeof(why));
    if (memchr(why, '\0', sizeof(why)) == NULL) {
        abort(); /* why must always be a string */
    }
    if (debug) {
        fprintf(stderr, "fuzz_verify: %s: %s %s\n", gw_verify_name(s), gw_rc_str(rc), why);
    }
    if (rc != GW_OK && rc != GW_ERR_UNAUTHORIZED && rc != GW_ERR_INVALID && rc != GW_ERR_NOMEM) {
        abort();
    }
    const char *name = gw_verify_name(s);
    if (rc == GW_OK && !in.allow_legacy &&
        ((strcmp(name, "github") == 0 && fuzz_header_cb(&h, "X-Hub-Signature-256") == NULL) ||
         (strcmp(name, "hubspot") == 0 && fuzz_header_cb(&h, "X-HubSpot-Signature-v3") == NULL))) {
        abort(); /* a downgrade to the legacy form */
    }
    if (rc == GW_OK && gw_verify_signs_url(s) && strcmp(name, "hubspot") != 0 && in.params == NULL &&
        in.len != 0 && strstr(in.url, "bodySHA256=") == NULL) {
        abort(); /* a body the signature does not cover */
    }
    if (hold.held) {
        const char *secret2 = secret != NULL ? secret : fuzz_test_secret(name);
        struct gw_verify_replay again = {0};
        in.replay = &again;
        gw_verify_release(&hold);
        if (gw_verify_check(s, secret2, &in, why, sizeof(why)) != GW_OK || !again.held) {
            abort(); /* a released token must pass again */
        }
        gw_verify_commit(&again);
        struct gw_verify_replay third = {0};
        in.replay = &third;
        if (gw_verify_check(s, secret2, &in, why, sizeof(why)) != GW_ERR_UNAUTHORIZED) {
            abort(); /* a committed token is spent */
        }
        gw_verify_reset_replay_cache();
    }
    json_object_put(json);
    free(params);
    gw_decode_pairs_free(pairs, n_pairs);
    fuzz_headers_fini(&h);
    return 0;
}
