/* sendgrid.c -- SendGrid (Twilio) Event Webhook: ECDSA P-256 / SHA-256 over
 * X-Twilio-Email-Event-Webhook-Timestamp + raw body; the signature header is
 * base64 DER and the "secret" is the account's base64 SPKI public key.
 * SendGrid documents no window; ours defaults to 24 h.
 * SPDX-License-Identifier: MIT */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "hmac.h"

#define HSIG "X-Twilio-Email-Event-Webhook-Signature"
#define HTS "X-Twilio-Email-Event-Webhook-Timestamp"
#define MAX_KEY_B64 1024

/* Returns the P-256 public key in secret (base64 SPKI DER), or NULL. */
static EVP_PKEY *load_key(const char *secret)
{
    unsigned char der[MAX_KEY_B64];
    size_t len = 0;
    size_t n = strnlen(secret, MAX_KEY_B64 + 1);
    if (n > MAX_KEY_B64 || gw_b64_decode(secret, n, der, sizeof(der), &len) != GW_OK) {
        return NULL;
    }
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    char group[64] = "";
    size_t glen = 0;
    if (key == NULL || p != der + len || !EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static bool verified(EVP_PKEY *key, const char *ts, size_t tslen, const struct gw_verify_input *in,
                     const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerifyUpdate(ctx, ts, tslen) == 1 &&
              (in->len == 0 || EVP_DigestVerifyUpdate(ctx, in->body, in->len) == 1) &&
              EVP_DigestVerifyFinal(ctx, sig, siglen) == 1;
    EVP_MD_CTX_free(ctx);
    /* A malformed DER signature leaves errors queued on this thread. */
    ERR_clear_error();
    return ok;
}

enum gw_rc gw_verify_sendgrid(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen)
{
    size_t n = 0;
    size_t tslen = 0;
    int64_t t = 0;
    const char *v = gw_hmac_header(in, HSIG, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    const char *ts =
        v != NULL ? gw_hmac_header(in, HTS, GW_VERIFY_MAX_HEADER, &tslen, why, whylen) : NULL;
    if (ts == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    if (!gw_hmac_parse_ts(ts, tslen, &t)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HTS " must be unix seconds");
    }
    unsigned char sig[GW_VERIFY_MAX_HEADER];
    size_t siglen = 0;
    if (gw_b64_decode(v, n, sig, sizeof(sig), &siglen) != GW_OK) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header " HSIG " is not valid base64");
    }
    EVP_PKEY *key = load_key(secret);
    if (key == NULL) {
        ERR_clear_error();
        return gw_hmac_why(GW_ERR_INVALID, why, whylen,
                           "the configured verification key is not a base64 P-256 public key");
    }
    bool ok = verified(key, ts, tslen, in, sig, siglen);
    EVP_PKEY_free(key);
    if (!ok) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return gw_hmac_window(t, in->now, in->tolerance_s, why, whylen);
}
