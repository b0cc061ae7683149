/* typeform.c -- Typeform: Typeform-Signature = "sha256=" + base64
 * HMAC-SHA256 of the raw body with the webhook secret.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "hmac.h"

#define HDR "Typeform-Signature"
#define PREFIX "sha256="

enum gw_rc gw_verify_typeform(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    size_t plen = strlen(PREFIX);
    if (n <= plen || strncmp(v, PREFIX, plen) != 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HDR " must start with " PREFIX);
    }
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    enum gw_rc rc = gw_hmac_body(GW_HMAC_SHA256, secret, in, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    return gw_hmac_match(GW_ENC_B64, v + plen, n - plen, mac, maclen, "header " HDR, why, whylen);
}
