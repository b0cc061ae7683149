/* github.c -- GitHub: X-Hub-Signature-256 = "sha256=" hex HMAC-SHA256 of the
 * raw body. The legacy X-Hub-Signature "sha1=" is read only when the source
 * allows legacy signatures and the first is absent: otherwise stripping the
 * SHA-256 header would downgrade the check to SHA-1.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "hmac.h"

#define H256 "X-Hub-Signature-256"
#define H1 "X-Hub-Signature"

enum gw_rc gw_verify_github(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen)
{
    const char *name = H256;
    const char *prefix = "sha256=";
    enum gw_hmac_alg alg = GW_HMAC_SHA256;
    if (in->allow_legacy && in->header != NULL && in->header(in->arg, H256) == NULL &&
        in->header(in->arg, H1) != NULL) {
        name = H1;
        prefix = "sha1=";
        alg = GW_HMAC_SHA1;
    }
    size_t n = 0;
    const char *v = gw_hmac_header(in, name, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    size_t plen = strlen(prefix);
    if (n <= plen || strncmp(v, prefix, plen) != 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header %s must start with %s", name,
                           prefix);
    }
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    enum gw_rc rc = gw_hmac_body(alg, secret, in, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    return gw_hmac_match(GW_ENC_HEX, v + plen, n - plen, mac, maclen, name, why, whylen);
}
