/* tsig.c -- the timestamped-header kind of signature shared by Stripe,
 * Calendly and Paddle: a header "<ts key>=<unix>SEP<sig key>=<hex>[SEP...]",
 * each signature a hex HMAC-SHA256 of the timestamp, a joiner and the raw
 * body. Any signature may match (several while a secret rotates), each is
 * compared in constant time, and the timestamp must be within the window.
 * Keys other than the two are ignored, so that a scheme's next version can
 * be sent beside the current one; signatures past GW_TSIG_MAX are ignored.
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "hmac.h"

#define GW_TSIG_MAX 8

struct parts {
    const char *ts;
    size_t tslen;
    const char *sig[GW_TSIG_MAX];
    size_t siglen[GW_TSIG_MAX];
    size_t n_sig;
    bool dup_ts;
};

/* True when item (len bytes) is "key=..." */
static bool has_key(const char *item, size_t len, const char *key)
{
    size_t k = strlen(key);
    return len > k && memcmp(item, key, k) == 0 && item[k] == '=';
}

static void split(const struct gw_hmac_tsig *s, const char *v, size_t n, struct parts *p)
{
    memset(p, 0, sizeof(*p));
    size_t tk = strlen(s->ts_key) + 1, sk = strlen(s->sig_key) + 1;
    for (size_t i = 0; i < n;) {
        const char *end = memchr(v + i, s->sep, n - i);
        size_t len = end != NULL ? (size_t)(end - (v + i)) : n - i;
        const char *item = v + i;
        if (has_key(item, len, s->ts_key)) {
            p->dup_ts = p->ts != NULL;
            p->ts = item + tk;
            p->tslen = len - tk;
        } else if (has_key(item, len, s->sig_key) && p->n_sig < GW_TSIG_MAX) {
            p->sig[p->n_sig] = item + sk;
            p->siglen[p->n_sig++] = len - sk;
        }
        i += len + 1;
    }
}

/* Every signature is compared, in constant time, whichever matches. */
static bool any_matches(const struct parts *p, const unsigned char *mac, size_t maclen)
{
    bool ok = false;
    for (size_t i = 0; i < p->n_sig; i++) {
        unsigned char got[GW_HMAC_MAX];
        size_t len = 0;
        if (gw_hex_decode(p->sig[i], p->siglen[i], got, sizeof(got), &len) == GW_OK &&
            gw_hmac_equal(got, len, mac, maclen)) {
            ok = true;
        }
    }
    return ok;
}

enum gw_rc gw_hmac_check_tsig(const struct gw_hmac_tsig *s, const char *secret,
                              const struct gw_verify_input *in, char *why, size_t whylen)
{
    size_t n = 0;
    const char *v = gw_hmac_header(in, s->header, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (v == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    struct parts p;
    int64_t ts = 0;
    split(s, v, n, &p);
    if (p.ts == NULL || p.dup_ts || !gw_hmac_parse_ts(p.ts, p.tslen, &ts)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header %s must hold one %s=<unix seconds>", s->header, s->ts_key);
    }
    if (p.n_sig == 0) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "header %s holds no %s= signature",
                           s->header, s->sig_key);
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_add(&h, p.ts, p.tslen);
    gw_hmac_add(&h, s->joiner, strlen(s->joiner));
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
