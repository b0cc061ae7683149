/* hmac.h -- internal helpers the signature schemes share: MACs and digests
 * over libcrypto, base64 and hex, constant-time matching, header and
 * timestamp checks, and the "why" formatter. Not a public header.
 * SPDX-License-Identifier: MIT */
#ifndef GW_VERIFY_HMAC_H
#define GW_VERIFY_HMAC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"
#include "verify.h"

/* Largest digest any scheme produces (SHA-256), and SHA-1's size. */
#define GW_HMAC_MAX 32
#define GW_HMAC_SHA1_LEN 20
#define GW_HMAC_SHA256_LEN 32

/* Caps on hostile input: header values, URLs, form fields, timestamps. */
#define GW_VERIFY_MAX_HEADER 1024
#define GW_VERIFY_MAX_URL 8192
#define GW_VERIFY_MAX_PARAMS 10000
#define GW_VERIFY_MAX_TS_DIGITS 15

/* One scheme's check; the table in verify.c points at one per scheme. */
typedef enum gw_rc (*gw_verify_fn)(const char *secret, const struct gw_verify_input *in, char *why,
                                   size_t whylen);

enum gw_rc gw_verify_github(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen);
enum gw_rc gw_verify_stripe(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen);
enum gw_rc gw_verify_shopify(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen);
enum gw_rc gw_verify_twilio(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen);
enum gw_rc gw_verify_sendgrid(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen);
enum gw_rc gw_verify_mailgun(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen);
enum gw_rc gw_verify_mandrill(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen);
enum gw_rc gw_verify_hubspot(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen);
enum gw_rc gw_verify_typeform(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen);
enum gw_rc gw_verify_paddle(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen);
enum gw_rc gw_verify_calendly(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen);
enum gw_rc gw_verify_zendesk(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen);
enum gw_rc gw_verify_customerio(const char *secret, const struct gw_verify_input *in, char *why,
                                size_t whylen);
enum gw_rc gw_verify_basic(const char *secret, const struct gw_verify_input *in, char *why,
                           size_t whylen);

enum gw_hmac_alg {
    GW_HMAC_SHA1,     /* HMAC-SHA1, keyed */
    GW_HMAC_SHA256,   /* HMAC-SHA256, keyed */
    GW_DIGEST_SHA256, /* plain SHA-256, no key */
};

/* A MAC or digest computed over several pieces. Embedded by value; the
 * libcrypto contexts inside are freed by gw_hmac_end (always). */
struct gw_hmac {
    void *mac; /* EVP_MAC_CTX */
    void *md;  /* EVP_MD_CTX */
    bool failed;
};

/* Starts h. key (borrowed, NUL-terminated) is ignored for GW_DIGEST_SHA256.
 * On failure h is left so that gw_hmac_add and gw_hmac_end are safe and
 * gw_hmac_end reports the failure. */
void gw_hmac_begin(struct gw_hmac *h, enum gw_hmac_alg alg, const char *key);
/* Feeds n bytes (borrows p; p may be NULL when n is 0). */
void gw_hmac_add(struct gw_hmac *h, const void *p, size_t n);
void gw_hmac_adds(struct gw_hmac *h, const char *s);
/* Feeds the form fields sorted by name (then value) as name+value, the way
 * Twilio and Mandrill sign them; an exact duplicate (same name and value)
 * counts once. Borrows params; more than GW_VERIFY_MAX_PARAMS fails h. */
void gw_hmac_add_params(struct gw_hmac *h, const struct gw_verify_param *params, size_t n);
/* Writes the result to out (GW_HMAC_MAX bytes) and *outlen; frees the
 * contexts. Returns GW_ERR_NOMEM when libcrypto failed anywhere. */
enum gw_rc gw_hmac_end(struct gw_hmac *h, unsigned char *out, size_t *outlen) GW_WUR;

/* One-shot MAC of in's raw body with secret into mac (GW_HMAC_MAX bytes). */
enum gw_rc gw_hmac_body(enum gw_hmac_alg alg, const char *secret, const struct gw_verify_input *in,
                        unsigned char *mac, size_t *maclen) GW_WUR;

/* One-shot SHA-256 of n bytes into out (32 bytes). */
enum gw_rc gw_hmac_sha256(const void *p, size_t n, unsigned char *out) GW_WUR;

/* Decodes strict base64 (no whitespace, '=' padding required, length a
 * multiple of 4) of n chars into out (cap bytes). GW_ERR_INVALID when
 * malformed, GW_ERR_TOO_LARGE when it does not fit; *outlen only on success. */
enum gw_rc gw_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                         size_t *outlen) GW_WUR;
/* Encodes n bytes into out (cap >= 4 * ceil(n / 3) + 1), NUL-terminated. */
enum gw_rc gw_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap) GW_WUR;
/* Decodes n hex digits (either case, n even) into out (cap bytes). */
enum gw_rc gw_hex_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                         size_t *outlen) GW_WUR;
/* Encodes n bytes as lowercase hex into out (cap >= 2n + 1), NUL-terminated. */
enum gw_rc gw_hex_encode(const unsigned char *in, size_t n, char *out, size_t cap) GW_WUR;

/* Constant-time equality of two byte strings (lengths are not secret). */
bool gw_hmac_equal(const void *a, size_t alen, const void *b, size_t blen);

enum gw_hmac_enc { GW_ENC_HEX, GW_ENC_B64 };

/* Decodes sig (n chars, hex or base64) and compares it in constant time with
 * mac. Returns GW_OK; or GW_ERR_UNAUTHORIZED with why "<what> is not valid
 * hex" / "<what> is not valid base64" / "signature does not match". */
enum gw_rc gw_hmac_match(enum gw_hmac_enc enc, const char *sig, size_t n, const unsigned char *mac,
                         size_t maclen, const char *what, char *why, size_t whylen) GW_WUR;

/* Formats why (size whylen; why may be NULL) and returns rc, so that a
 * scheme can "return gw_hmac_why(...)". Never pass secrets or signatures. */
enum gw_rc gw_hmac_why(enum gw_rc rc, char *why, size_t whylen, const char *fmt, ...)
    GW_PRINTF(4, 5);

/* Returns header name's value (borrowed from in) and its length; or NULL with
 * why "header <name> is missing", "... is empty" or "... is too long" (more
 * than max bytes). */
const char *gw_hmac_header(const struct gw_verify_input *in, const char *name, size_t max,
                           size_t *len, char *why, size_t whylen);

/* Parses n decimal digits (1..GW_VERIFY_MAX_TS_DIGITS, nothing else) into
 * *out. Returns false when malformed. */
bool gw_hmac_parse_ts(const char *s, size_t n, int64_t *out);

/* Checks that ts (unix seconds) is within tolerance_s of now in either
 * direction. Returns GW_OK; or GW_ERR_UNAUTHORIZED with why "timestamp is
 * 412 s old, over the 300 s window" or "... s in the future, ...". */
enum gw_rc gw_hmac_window(int64_t ts, int64_t now, unsigned tolerance_s, char *why,
                          size_t whylen) GW_WUR;

/* The timestamped-header kind of signature (tsig.c): Stripe, Calendly and
 * Paddle differ only in these. */
struct gw_hmac_tsig {
    const char *header;  /* "Stripe-Signature" */
    char sep;            /* between items: ',' or ';' */
    const char *ts_key;  /* "t": the item holding the unix timestamp */
    const char *sig_key; /* "v1": the items holding hex signatures */
    const char *joiner;  /* what the MAC puts between timestamp and body: "." */
};

/* Checks in against s with secret: hex HMAC-SHA256(secret, ts + joiner +
 * body) equal to any signature item, ts within the window. */
enum gw_rc gw_hmac_check_tsig(const struct gw_hmac_tsig *s, const char *secret,
                              const struct gw_verify_input *in, char *why, size_t whylen) GW_WUR;

#endif
