/* customerio.c -- Customer.io reporting webhooks: X-CIO-Signature = hex
 * HMAC-SHA256(webhook signing key, "v0:" + X-CIO-Timestamp + ":" + raw body),
 * X-CIO-Timestamp in unix seconds. Customer.io gives no window; 300 s here.
 * https://customer.io/docs/api/webhooks/ (Securely Verifying Requests)
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "hmac.h"

#define HSIG "X-CIO-Signature"
#define HTS "X-CIO-Timestamp"
#define VERSION "v0"

enum gw_rc gw_verify_customerio(const char *secret, const struct gw_verify_input *in, char *why,
                                size_t whylen)
{
    size_t n = 0;
    size_t tslen = 0;
    const char *sig = gw_hmac_header(in, HSIG, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (sig == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    const char *tsv = gw_hmac_header(in, HTS, GW_VERIFY_MAX_HEADER, &tslen, why, whylen);
    if (tsv == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    int64_t ts = 0;
    if (!gw_hmac_parse_ts(tsv, tslen, &ts)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HTS " must be unix seconds");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_adds(&h, VERSION ":");
    gw_hmac_add(&h, tsv, tslen);
    gw_hmac_add(&h, ":", 1);
    gw_hmac_add(&h, in->body, in->len);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    rc = gw_hmac_match(GW_ENC_HEX, sig, n, mac, maclen, "header " HSIG, why, whylen);
    if (rc != GW_OK) {
        return rc;
    }
    return gw_hmac_window(ts, in->now, in->tolerance_s, why, whylen);
}
