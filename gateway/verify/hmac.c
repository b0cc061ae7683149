/* hmac.c -- MACs, digests, base64, hex and the small checks every signature
 * scheme shares, over OpenSSL 3 libcrypto (EVP_MAC, EVP_MD).
 * SPDX-License-Identifier: MIT */
#include "hmac.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mem.h"

void gw_hmac_begin(struct gw_hmac *h, enum gw_hmac_alg alg, const char *key)
{
    memset(h, 0, sizeof(*h));
    if (alg == GW_DIGEST_SHA256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        h->md = md;
        h->failed = md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1;
        return;
    }
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context keeps its own reference */
    h->mac = ctx;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         alg == GW_HMAC_SHA1 ? "SHA1" : "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t keylen = key != NULL ? strlen(key) : 0;
    h->failed = ctx == NULL || EVP_MAC_init(ctx, (const unsigned char *)(key != NULL ? key : ""),
                                            keylen, params) != 1;
}

void gw_hmac_add(struct gw_hmac *h, const void *p, size_t n)
{
    if (h->failed || n == 0) {
        return;
    }
    if (h->md != NULL) {
        h->failed = EVP_DigestUpdate(h->md, p, n) != 1;
    } else {
        h->failed = EVP_MAC_update(h->mac, p, n) != 1;
    }
}

void gw_hmac_adds(struct gw_hmac *h, const char *s)
{
    if (s != NULL) {
        gw_hmac_add(h, s, strlen(s));
    }
}

static int cmp_param(const void *a, const void *b)
{
    const struct gw_verify_param *x = *(const struct gw_verify_param *const *)a;
    const struct gw_verify_param *y = *(const struct gw_verify_param *const *)b;
    int c = strcmp(x->name != NULL ? x->name : "", y->name != NULL ? y->name : "");
    if (c != 0) {
        return c;
    }
    /* Repeated names: the SDKs sort the values too. */
    return strcmp(x->value != NULL ? x->value : "", y->value != NULL ? y->value : "");
}

void gw_hmac_add_params(struct gw_hmac *h, const struct gw_verify_param *params, size_t n)
{
    if (n == 0 || params == NULL) {
        return;
    }
    if (n > GW_VERIFY_MAX_PARAMS) {
        h->failed = true;
        return;
    }
    const struct gw_verify_param **sorted = gw_malloc(n * sizeof(*sorted));
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &params[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_param);
    for (size_t i = 0; i < n; i++) {
        /* A field repeated with the same value counts once (the SDKs build
         * a set of values per name). */
        if (i > 0 && cmp_param(&sorted[i - 1], &sorted[i]) == 0) {
            continue;
        }
        gw_hmac_adds(h, sorted[i]->name);
        gw_hmac_adds(h, sorted[i]->value);
    }
    free(sorted);
}

enum gw_rc gw_hmac_end(struct gw_hmac *h, unsigned char *out, size_t *outlen)
{
    enum gw_rc rc = GW_ERR_NOMEM;
    size_t n = 0;
    if (h->failed) {
        goto out;
    }
    if (h->md != NULL) {
        unsigned int mdlen = 0;
        if (EVP_DigestFinal_ex(h->md, out, &mdlen) != 1) {
            goto out;
        }
        n = mdlen;
    } else if (EVP_MAC_final(h->mac, out, &n, GW_HMAC_MAX) != 1) {
        goto out;
    }
    *outlen = n;
    rc = GW_OK;
out:
    EVP_MD_CTX_free(h->md);
    EVP_MAC_CTX_free(h->mac);
    h->md = NULL;
    h->mac = NULL;
    h->failed = true;
    return rc;
}

enum gw_rc gw_hmac_body(enum gw_hmac_alg alg, const char *secret, const struct gw_verify_input *in,
                        unsigned char *mac, size_t *maclen)
{
    struct gw_hmac h;
    gw_hmac_begin(&h, alg, secret);
    gw_hmac_add(&h, in->body, in->len);
    return gw_hmac_end(&h, mac, maclen);
}

enum gw_rc gw_hmac_sha256(const void *p, size_t n, unsigned char *out)
{
    unsigned int len = 0;
    if (EVP_Digest(n != 0 ? p : "", n, out, &len, EVP_sha256(), NULL) != 1) {
        return GW_ERR_NOMEM;
    }
    return GW_OK;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

enum gw_rc gw_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    size_t pad = 0;
    if (n == 0 || n % 4 != 0 || n > INT_MAX / 2) {
        return GW_ERR_INVALID;
    }
    /* EVP_DecodeBlock skips whitespace and does not check where '=' sits, so
     * the alphabet and the padding are checked here first. */
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=' && i + 2 >= n) {
            pad++;
        } else if (pad > 0 || !is_b64(in[i])) {
            return GW_ERR_INVALID;
        }
    }
    if (n / 4 * 3 > cap) {
        return GW_ERR_TOO_LARGE;
    }
    int got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (got < 0 || (size_t)got != n / 4 * 3) {
        return GW_ERR_INVALID;
    }
    /* DecodeBlock counts the bytes the padding stands for; drop them. */
    *outlen = (size_t)got - pad;
    return GW_OK;
}

enum gw_rc gw_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    if (n > INT_MAX / 2 || cap < (n + 2) / 3 * 4 + 1) {
        return GW_ERR_TOO_LARGE;
    }
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return GW_OK;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

enum gw_rc gw_hex_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    if (n == 0 || n % 2 != 0) {
        return GW_ERR_INVALID;
    }
    if (n / 2 > cap) {
        return GW_ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_val(in[i]);
        int lo = hex_val(in[i + 1]);
        if (hi < 0 || lo < 0) {
            return GW_ERR_INVALID;
        }
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = n / 2;
    return GW_OK;
}

enum gw_rc gw_hex_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    if (cap < 2 * n + 1) {
        return GW_ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
    return GW_OK;
}

bool gw_hmac_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && alen != 0 && CRYPTO_memcmp(a, b, alen) == 0;
}

enum gw_rc gw_hmac_match(enum gw_hmac_enc enc, const char *sig, size_t n, const unsigned char *mac,
                         size_t maclen, const char *what, char *why, size_t whylen)
{
    unsigned char got[GW_VERIFY_MAX_HEADER];
    size_t len = 0;
    enum gw_rc rc = enc == GW_ENC_HEX ? gw_hex_decode(sig, n, got, sizeof(got), &len)
                                      : gw_b64_decode(sig, n, got, sizeof(got), &len);
    if (rc != GW_OK) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "%s is not valid %s", what,
                           enc == GW_ENC_HEX ? "hex" : "base64");
    }
    if (!gw_hmac_equal(got, len, mac, maclen)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return GW_OK;
}

enum gw_rc gw_hmac_why(enum gw_rc rc, char *why, size_t whylen, const char *fmt, ...)
{
    if (why != NULL && whylen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *gw_hmac_header(const struct gw_verify_input *in, const char *name, size_t max,
                           size_t *len, char *why, size_t whylen)
{
    const char *v = in->header != NULL ? in->header(in->arg, name) : NULL;
    if (v == NULL) {
        gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header %s is missing", name);
        return NULL;
    }
    size_t n = strnlen(v, max + 1);
    if (n == 0) {
        gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header %s is empty", name);
        return NULL;
    }
    if (n > max) {
        gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header %s is too long", name);
        return NULL;
    }
    *len = n;
    return v;
}

bool gw_hmac_parse_ts(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > GW_VERIFY_MAX_TS_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

enum gw_rc gw_hmac_window(int64_t ts, int64_t now, unsigned tolerance_s, char *why, size_t whylen)
{
    int64_t age = 0;
    if (__builtin_sub_overflow(now, ts, &age) || age == INT64_MIN) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "timestamp is out of range");
    }
    if (age > (int64_t)tolerance_s) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "timestamp is %" PRId64 " s old, over the %u s window", age,
                           tolerance_s);
    }
    if (age < -(int64_t)tolerance_s) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "timestamp is %" PRId64 " s in the future, over the %u s window", -age,
                           tolerance_s);
    }
    return GW_OK;
}
