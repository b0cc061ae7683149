/* zendesk.c -- Zendesk webhooks: X-Zendesk-Webhook-Signature = base64
 * HMAC-SHA256(webhook signing secret, X-Zendesk-Webhook-Signature-Timestamp +
 * raw body), the timestamp an ISO-8601 UTC date-time ("2024-04-17T17:18:10Z")
 * signed as the very characters sent. Zendesk gives no window; 300 s here.
 * https://developer.zendesk.com/documentation/webhooks/verifying/
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "hmac.h"

#define HSIG "X-Zendesk-Webhook-Signature"
#define HTS "X-Zendesk-Webhook-Signature-Timestamp"
/* "YYYY-MM-DDTHH:MM:SSZ" */
#define TS_LEN 20

/* Reads n digits at s into *out; false on anything else. */
static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ" (the form Zendesk sends) into unix
 * seconds; false when malformed or not a real date (February 30th). */
static bool parse_utc(const char *s, size_t n, int64_t *out)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (n != TS_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se)) {
        return false;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    /* timegm normalises: a day past the month's end comes back changed */
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1) {
        return false;
    }
    *out = (int64_t)t;
    return true;
}

enum gw_rc gw_verify_zendesk(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen)
{
    size_t n = 0;
    size_t tslen = 0;
    const char *sig = gw_hmac_header(in, HSIG, GW_VERIFY_MAX_HEADER, &n, why, whylen);
    if (sig == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    const char *tsv = gw_hmac_header(in, HTS, GW_VERIFY_MAX_HEADER, &tslen, why, whylen);
    if (tsv == NULL) {
        return GW_ERR_UNAUTHORIZED;
    }
    int64_t ts = 0;
    if (!parse_utc(tsv, tslen, &ts)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "header " HTS " must be a UTC date-time such as 2024-04-17T17:18:10Z");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_add(&h, tsv, tslen);
    gw_hmac_add(&h, in->body, in->len);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc != GW_OK) {
        return gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    rc = gw_hmac_match(GW_ENC_B64, sig, n, mac, maclen, "header " HSIG, why, whylen);
    if (rc != GW_OK) {
        return rc;
    }
    return gw_hmac_window(ts, in->now, in->tolerance_s, why, whylen);
}
