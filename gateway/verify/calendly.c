/* calendly.c -- Calendly: Calendly-Webhook-Signature "t=<unix>,v1=<hex>
 * [,v1=...]", v1 = hex HMAC-SHA256(webhook signing key, t + "." + raw body).
 * Any v1 may match (one per key while a key rotates); t must be within the
 * window, three minutes by default as Calendly's own example checks.
 * https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
 * SPDX-License-Identifier: MIT */
#include "hmac.h"

static const struct gw_hmac_tsig scheme = {
    .header = "Calendly-Webhook-Signature", .sep = ',', .ts_key = "t", .sig_key = "v1", .joiner = "."};

enum gw_rc gw_verify_calendly(const char *secret, const struct gw_verify_input *in, char *why,
                              size_t whylen)
{
    return gw_hmac_check_tsig(&scheme, secret, in, why, whylen);
}
