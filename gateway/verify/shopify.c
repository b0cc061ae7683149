/* shopify.c -- Shopify: X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the raw
 * body with the app's client secret.
 * SPDX-License-Identifier: MIT */
#include "hmac.h"

#define HDR "X-Shopify-Hmac-Sha256"

enum gw_rc gw_verify_shopify(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    enum gw_rc rc = gw_hmac_body(GW_HMAC_SHA256, secret, in, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    return gw_hmac_match(GW_ENC_B64, v, n, mac, maclen, "header " HDR, why, whylen);
}
