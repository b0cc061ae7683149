/* calendly.c -- Calendly: Calendly-Webhook-Signature "t=<unix>,v1=<hex>
 * [,v1=...]", v1 = hex HMAC-SHA256(webhook signing key, t + "." + raw body).
 * Any v1 may match (one per key while a key rotates); t must be within the
 * window, three minutes by default as Calendly's own example checks.
 * https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "hmac.h"

#define HDR "Calendly-Webhook-Signature"
#define MAX_V1 8

struct parts {
    const char *t;
    size_t tlen;
    const char *v1[MAX_V1];
    size_t v1len[MAX_V1];
    size_t n_v1;
    bool dup_t;
};

/* Splits "k=v,k=v"; keys other than t and v1 are ignored, so that a future
 * scheme version can be added beside v1. v1 values past MAX_V1 are ignored. */
static void split(const char *v, size_t n, struct parts *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < n;) {
        const char *end = memchr(v + i, ',', n - i);
        size_t len = end != NULL ? (size_t)(end - (v + i)) : n - i;
        const char *item = v + i;
        if (len >= 2 && memcmp(item, "t=", 2) == 0) {
            p->dup_t = p->t != NULL;
            p->t = item + 2;
            p->tlen = len - 2;
        } else if (len >= 3 && memcmp(item, "v1=", 3) == 0 && p->n_v1 < MAX_V1) {
            p->v1[p->n_v1] = item + 3;
            p->v1len[p->n_v1++] = len - 3;
        }
        i += len + 1;
    }
}

/* Every v1 is compared, in constant time, whichever matches. */
static bool any_matches(const struct parts *p, const unsigned char *mac, size_t maclen)
{
    bool ok = false;
    for (size_t i = 0; i < p->n_v1; i++) {
        unsigned char got[GW_HMAC_MAX];
        size_t len = 0;
        if (gw_hex_decode(p->v1[i], p->v1len[i], got, sizeof(got), &len) == GW_OK &&
            gw_hmac_equal(got, len, mac, maclen)) {
            ok = true;
        }
    }
    return ok;
}

enum gw_rc gw_verify_calendly(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, HDR, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    struct parts p;
    int64_t t = 0;
    split(v, n, &p);
    if (p.t == NULL || p.dup_t || !gw_hmac_parse_ts(p.t, p.tlen, &t)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HDR " must hold one t=<unix seconds>");
    }
    if (p.n_v1 == 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HDR " holds no v1= signature");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_add(&h, p.t, p.tlen);
    gw_hmac_add(&h, ".", 1);
    gw_hmac_add(&h, in->body, in->len);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    if (!any_matches(&p, mac, maclen)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature does not match");
    }
    return gw_hmac_window(t, in->now, in->tolerance_s, why, whylen);
}
