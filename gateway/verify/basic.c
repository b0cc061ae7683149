/* basic.c -- partners that sign nothing (Postmark, Mailjet): HTTP Basic
 * credentials in the webhook URL, compared with the configured "user:password".
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "hmac.h"

/* Compares through SHA-256 digests so that the time taken says nothing about
 * the configured lengths either. */
static bool same(const char *want, size_t wlen, const char *got)
{
    unsigned char a[GW_HMAC_SHA256_LEN];
    unsigned char b[GW_HMAC_SHA256_LEN];
    size_t glen = strlen(got);
    if (gw_hmac_sha256(want, wlen, a) != GW_OK || gw_hmac_sha256(got, glen, b) != GW_OK) {
        return false;
    }
    return gw_hmac_equal(a, sizeof(a), b, sizeof(b)) & (wlen == glen);
}

enum gw_rc gw_verify_basic(const char *secret, const struct gw_verify_input *in, char *why,
                           size_t whylen)
{
    const char *colon = strchr(secret, ':');
    if (colon == NULL || colon[1] == '\0') {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen,
                           "the configured secret for basic must be user:password");
    }
    if (in->basic_user == NULL || in->basic_password == NULL) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "basic credentials are missing");
    }
    /* Both halves are always compared: no early exit on the user name. */
    bool user_ok = same(secret, (size_t)(colon - secret), in->basic_user);
    bool pass_ok = same(colon + 1, strlen(colon + 1), in->basic_password);
    if (!(user_ok & pass_ok)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "basic credentials do not match");
    }
    return GW_OK;
}
