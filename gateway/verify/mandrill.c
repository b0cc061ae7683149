/* mandrill.c -- Mandrill (Mailchimp Transactional): X-Mandrill-Signature =
 * base64 HMAC-SHA1(webhook key, the webhook URL exactly as configured + POST
 * fields sorted by name as name+value, values URL-decoded).
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "hmac.h"

#define HDR "X-Mandrill-Signature"

enum gw_rc gw_verify_mandrill(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    if (in->url == NULL || in->url[0] == '\0') {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "the configured webhook URL is unknown");
    }
    if (strnlen(in->url, GW_VERIFY_MAX_URL + 1) > GW_VERIFY_MAX_URL) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "request URL is too long");
    }
    if (in->params == NULL && in->len != 0) {
        /* only form fields are signed: any other body would go unchecked */
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "the body is not a signed form");
    }
    if (in->n_params > GW_VERIFY_MAX_PARAMS) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "the form has too many fields");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA1, secret);
    gw_hmac_adds(&h, in->url);
    gw_hmac_add_params(&h, in->params, in->n_params);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    return gw_hmac_match(GW_ENC_B64, v, n, mac, maclen, "header " HDR, why, whylen);
}
