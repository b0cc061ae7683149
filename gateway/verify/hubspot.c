/* hubspot.c -- HubSpot: v3 X-HubSpot-Signature-v3 = base64 HMAC-SHA256(client
 * secret, method + URI + body + X-HubSpot-Request-Timestamp), timestamp in
 * milliseconds. Older apps send X-HubSpot-Signature with
 * X-HubSpot-Signature-Version v1 (hex SHA-256 of secret + body) or v2 (hex
 * SHA-256 of secret + method + URI + body); those carry no timestamp, so
 * they are read only when the source allows legacy signatures and no v3
 * header came: otherwise stripping the v3 headers would be a downgrade.
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "../mem.h"
#include "hmac.h"

#define HV3 "X-HubSpot-Signature-v3"
#define HTS "X-HubSpot-Request-Timestamp"
#define HSIG "X-HubSpot-Signature"
#define HVER "X-HubSpot-Signature-Version"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* Returns new: url with the escapes HubSpot's v3 instructions say to decode
 * (%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B) decoded; NULL when url
 * holds none. */
static char *decode_uri(const char *url)
{
    size_t n = strlen(url);
    char *out = gw_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = url[i] == '%' && i + 2 < n ? hex_digit(url[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(url[i + 2]) : -1;
        char c = (char)(lo >= 0 ? hi << 4 | lo : 0);
        if (c != '\0' && strchr(":/?@!$'()*,;", c) != NULL) {
            out[o++] = c;
            i += 2;
        } else {
            out[o++] = url[i];
        }
    }
    out[o] = '\0';
    if (o == n) {
        GW_FREE(out);
    }
    return out;
}

static bool v3_signed(const char *secret, const char *url, const struct gw_verify_input *in,
                      const char *ts, const unsigned char *sig, size_t siglen)
{
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_adds(&h, in->method != NULL ? in->method : "POST");
    gw_hmac_adds(&h, url);
    gw_hmac_add(&h, in->body, in->len);
    gw_hmac_adds(&h, ts);
    return gw_hmac_end(&h, mac, &maclen) == GW_OK && gw_hmac_equal(sig, siglen, mac, maclen);
}

static enum gw_rc check_url(const struct gw_verify_input *in, char *why, size_t whylen)
{
    if (in->url == NULL || in->url[0] == '\0') {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "the public URL of the request is unknown");
    }
    if (strnlen(in->url, GW_VERIFY_MAX_URL + 1) > GW_VERIFY_MAX_URL) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "request URL is too long");
    }
    return GW_OK;
}

static enum gw_rc check_v3(const char *secret, const struct gw_verify_input *in, const char *v,
                           size_t n, char *why, size_t whylen)
{
    size_t tslen = 0;
    int64_t ms = 0;
    const char *ts = gw_hmac_header(in, HTS, GW_VERIFY_MAX_HEADER, &tslen, why, whylen);
    enum gw_rc rc = ts == NULL ? GW_ERR_UNAUTHORIZED : check_url(in, why, whylen);
    if (rc != GW_OK) {
        return rc;
    }
    if (!gw_hmac_parse_ts(ts, tslen, &ms)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HTS " must be unix milliseconds");
    }
    unsigned char sig[GW_VERIFY_MAX_HEADER];
    size_t siglen = 0;
    if (gw_b64_decode(v, n, sig, sizeof(sig), &siglen) != GW_OK) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HV3 " is not valid base64");
    }
    bool ok = v3_signed(secret, in->url, in, ts, sig, siglen);
    if (!ok) {
        char *decoded = decode_uri(in->url);
        ok = decoded != NULL && v3_signed(secret, decoded, in, ts, sig, siglen);
        free(decoded);
    }
    if (!ok) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return gw_hmac_window(ms / 1000, in->now, in->tolerance_s, why, whylen);
}

static enum gw_rc check_v12(const char *secret, const struct gw_verify_input *in, const char *v,
                            size_t n, char *why, size_t whylen)
{
    size_t verlen = 0;
    const char *ver = gw_hmac_header(in, HVER, 8, &verlen, why, whylen);
    if (ver == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    bool v2 = strcmp(ver, "v2") == 0;
    if (!v2 && strcmp(ver, "v1") != 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HVER " must be v1 or v2");
    }
    enum gw_rc rc = v2 ? check_url(in, why, whylen) : GW_OK;
    if (rc != GW_OK) {
        return rc;
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_DIGEST_SHA256, NULL);
    gw_hmac_adds(&h, secret);
    if (v2) {
        gw_hmac_adds(&h, in->method != NULL ? in->method : "POST");
        gw_hmac_adds(&h, in->url);
    }
    gw_hmac_add(&h, in->body, in->len);
    rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    return gw_hmac_match(GW_ENC_HEX, v, n, mac, maclen, "header " HSIG, why, whylen);
}

enum gw_rc gw_verify_hubspot(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen)
{
    size_t n = 0;
    const char *v = NULL;
    if (in->allow_legacy && in->header != NULL && in->header(in->arg, HV3) == NULL &&
        in->header(in->arg, HSIG) != NULL) {
        v = gw_hmac_header(in, HSIG, GW_VERIFY_MAX_HEADER, &n, why, whylen);
        return v == NULL ? GW_ERR_UNAUTHORIZED : check_v12(secret, in, v, n, why, whylen);
    }
    v = gw_hmac_header(in, HV3, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    return v == NULL ? GW_ERR_UNAUTHORIZED : check_v3(secret, in, v, n, why, whylen);
}
