/* paddle.c -- Paddle Billing: Paddle-Signature "ts=<unix>;h1=<hex>[;h1=...]",
 * h1 = hex HMAC-SHA256(notification destination's secret key, ts + ":" +
 * raw body). Any h1 may match (Paddle sends one per secret while a secret
 * rotates); ts must be within the window, 5 s by default as in Paddle's SDKs.
 * https://developer.paddle.com/webhooks/signature-verification
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "hmac.h"

#define HDR "Paddle-Signature"
#define MAX_H1 8

struct parts {
    const char *ts;
    size_t tslen;
    const char *h1[MAX_H1];
    size_t h1len[MAX_H1];
    size_t n_h1;
    bool dup_ts;
};

/* Splits "k=v;k=v"; keys other than ts and h1 are ignored, so that a future
 * scheme version can be added beside h1. h1 values past MAX_H1 are ignored. */
static void split(const char *v, size_t n, struct parts *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < n;) {
        const char *end = memchr(v + i, ';', n - i);
        size_t len = end != NULL ? (size_t)(end - (v + i)) : n - i;
        const char *item = v + i;
        if (len >= 3 && memcmp(item, "ts=", 3) == 0) {
            p->dup_ts = p->ts != NULL;
            p->ts = item + 3;
            p->tslen = len - 3;
        } else if (len >= 3 && memcmp(item, "h1=", 3) == 0 && p->n_h1 < MAX_H1) {
            p->h1[p->n_h1] = item + 3;
            p->h1len[p->n_h1++] = len - 3;
        }
        i += len + 1;
    }
}

/* Every h1 is compared, in constant time, whichever matches. */
static bool any_matches(const struct parts *p, const unsigned char *mac, size_t maclen)
{
    bool ok = false;
    for (size_t i = 0; i < p->n_h1; i++) {
        unsigned char got[GW_HMAC_MAX];
        size_t len = 0;
        if (gw_hex_decode(p->h1[i], p->h1len[i], got, sizeof(got), &len) == GW_OK &&
            gw_hmac_equal(got, len, mac, maclen)) {
            ok = true;
        }
    }
    return ok;
}

enum gw_rc gw_verify_paddle(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    struct parts p;
    int64_t ts = 0;
    split(v, n, &p);
    if (p.ts == NULL || p.dup_ts || !gw_hmac_parse_ts(p.ts, p.tslen, &ts)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HDR " must hold one ts=<unix seconds>");
    }
    if (p.n_h1 == 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HDR " holds no h1= signature");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_add(&h, p.ts, p.tslen);
    gw_hmac_add(&h, ":", 1);
    gw_hmac_add(&h, in->body, in->len);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    if (!any_matches(&p, mac, maclen)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return gw_hmac_window(ts, in->now, in->tolerance_s, why, whylen);
}
