/* twilio.c -- Twilio: X-Twilio-Signature = base64 HMAC-SHA1(auth token, URL +
 * POST fields sorted by name as name+value). A JSON body is covered by a
 * bodySHA256=<hex sha256(body)> query parameter instead, and only the URL is
 * signed. Like the SDKs, the URL is also tried with its default port added
 * or removed, since proxies differ on whether Twilio's URL kept it.
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../mem.h"
#include "hmac.h"

#define HDR "X-Twilio-Signature"
#define BODY_HASH "bodySHA256="

/* Returns the value of the bodySHA256 query parameter (borrowed) and its
 * length, or NULL. */
static const char *find_body_hash(const char *url, size_t *len)
{
    const char *p = strchr(url, '?');
    while (p != NULL) {
        p++;
        if (strncmp(p, BODY_HASH, strlen(BODY_HASH)) == 0) {
            p += strlen(BODY_HASH);
            *len = strcspn(p, "&#");
            return p;
        }
        p = strchr(p, '&');
    }
    return NULL;
}

/* Returns new: url with its scheme's default port added when it has none, or
 * removed when it has exactly that one; NULL when neither applies. */
static char *port_variant(const char *url)
{
    const char *port = NULL;
    size_t off = 0;
    if (strncasecmp(url, "https://", 8) == 0) {
        port = "443";
        off = 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        port = "80";
        off = 7;
    } else {
        return NULL;
    }
    size_t end = off + strcspn(url + off, "/?#");
    size_t host = off;
    for (size_t i = off; i < end; i++) {
        if (url[i] == '@') {
            host = i + 1; /* skip user:password@ */
        }
    }
    const char *colon = NULL;
    for (size_t i = host; i < end; i++) {
        if (url[i] == ']') {
            colon = NULL; /* an IPv6 literal's colons are not the port's */
        } else if (url[i] == ':') {
            colon = url + i;
        }
    }
    if (colon == NULL) {
        return gw_asprintf("%.*s:%s%s", (int)end, url, port, url + end);
    }
    size_t plen = (size_t)(url + end - colon - 1);
    if (plen != strlen(port) || strncmp(colon + 1, port, plen) != 0) {
        return NULL;
    }
    return gw_asprintf("%.*s%s", (int)(colon - url), url, url + end);
}

static bool signed_by(const char *secret, const char *url, const struct gw_verify_input *in,
                      bool url_only, const unsigned char *sig, size_t siglen)
{
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA1, secret);
    gw_hmac_adds(&h, url);
    if (!url_only) {
        gw_hmac_add_params(&h, in->params, in->n_params);
    }
    return gw_hmac_end(&h, mac, &maclen) == GW_OK && gw_hmac_equal(sig, siglen, mac, maclen);
}

static enum gw_rc check_body_hash(const char *hash, size_t n, const struct gw_verify_input *in,
                                  char *why, size_t whylen)
{
    unsigned char want[GW_HMAC_MAX];
    unsigned char got[GW_HMAC_MAX];
    size_t len = 0;
    if (gw_hex_decode(hash, n, got, sizeof(got), &len) != GW_OK) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "query parameter bodySHA256 is not valid hex");
    }
    if (gw_hmac_sha256(in->body, in->len, want) != GW_OK) {
        return gw_hmac_why(GW_ERR_NOMEM, why, whylen, "body hash could not be computed");
    }
    if (!gw_hmac_equal(got, len, want, GW_HMAC_SHA256_LEN)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "query parameter bodySHA256 does not match the body");
    }
    return GW_OK;
}

static enum gw_rc check_url(const struct gw_verify_input *in, char *why, size_t whylen)
{
    if (in->url == NULL || in->url[0] == '\0') {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "the public URL of the request is unknown");
    }
    if (strnlen(in->url, GW_VERIFY_MAX_URL + 1) > GW_VERIFY_MAX_URL) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "request URL is too long");
    }
    if (in->n_params > GW_VERIFY_MAX_PARAMS) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "the form has too many fields");
    }
    return GW_OK;
}

enum gw_rc gw_verify_twilio(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    enum gw_rc rc = v == NULL ? GW_ERR_UNAUTHORIZED : check_url(in, why, whylen);
    if (rc != GW_OK) {
        return rc;
    }
    unsigned char sig[GW_VERIFY_MAX_HEADER];
    size_t siglen = 0;
    if (gw_b64_decode(v, n, sig, sizeof(sig), &siglen) != GW_OK) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HDR " is not valid base64");
    }
    size_t hlen = 0;
    const char *hash = find_body_hash(in->url, &hlen);
    if (hash != NULL) {
        rc = check_body_hash(hash, hlen, in, why, whylen);
        if (rc != GW_OK) {
            return rc;
        }
    } else if (in->params == NULL && in->len != 0) {
        /* Not a form, so its fields are not signed, and no bodySHA256 covers
         * it: the signature would cover the URL only, not what is used. */
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "a body that is not a form must be covered by bodySHA256");
    }
    if (signed_by(secret, in->url, in, hash != NULL, sig, siglen)) {
        return GW_OK;
    }
    char *alt = port_variant(in->url);
    bool ok = alt != NULL && signed_by(secret, alt, in, hash != NULL, sig, siglen);
    free(alt);
    if (!ok) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return GW_OK;
}
