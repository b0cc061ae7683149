/* auth.c -- HTTP Basic credentials as Segment's API takes them: the write
 * key as the user, the colon optional.
 * SPDX-License-Identifier: MIT */
#include "auth.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "mem.h"
#include "verify/hmac.h"

/* Libraries send "Basic base64(key:)"; curl -u key sends the same; some
 * hand-written clients send "Basic base64(key)", which libmicrohttpd's own
 * parser refuses and Segment takes. */
static const char *credentials(const char *value)
{
    static const char scheme[] = "basic";
    if (value == NULL) {
        return NULL;
    }
    value += strspn(value, " \t");
    size_t n = sizeof(scheme) - 1;
    if (strncasecmp(value, scheme, n) != 0 || (value[n] != ' ' && value[n] != '\t')) {
        return NULL;
    }
    return value + n + strspn(value + n, " \t");
}

static bool printable(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

enum gw_rc gw_auth_basic(const char *value, char **user, char **password)
{
    enum gw_rc rc = GW_ERR_NOT_FOUND;
    unsigned char plain[GW_AUTH_MAX_B64 / 4 * 3 + 1];
    size_t len = 0;
    const char *b64 = credentials(value);
    if (b64 == NULL) {
        goto out;
    }
    size_t n = strlen(b64);
    while (n > 0 && (b64[n - 1] == ' ' || b64[n - 1] == '\t')) {
        n--;
    }
    rc = GW_ERR_TOO_LARGE;
    if (n > GW_AUTH_MAX_B64) {
        goto out;
    }
    rc = gw_b64_decode(b64, n, plain, sizeof(plain), &len);
    if (rc != GW_OK) {
        rc = GW_ERR_INVALID;
        goto out;
    }
    rc = GW_ERR_INVALID;
    if (len == 0 || plain[0] == ':' || !printable(plain, len)) {
        goto out;
    }
    const unsigned char *colon = memchr(plain, ':', len);
    size_t ulen = colon != NULL ? (size_t)(colon - plain) : len;
    *user = gw_strndup((const char *)plain, ulen);
    *password = colon != NULL ? gw_strndup((const char *)colon + 1, len - ulen - 1) : gw_strdup("");
    rc = GW_OK;
out:
    /* the secret half does not outlive the call on the stack */
    OPENSSL_cleanse(plain, len);
    return rc;
}
