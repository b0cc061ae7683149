/* stripe.c -- Stripe: Stripe-Signature "t=<unix>,v1=<hex>[,v1=...][,v0=...]",
 * v1 = hex HMAC-SHA256(endpoint secret, t + "." + raw body). Any v1 may
 * match (several while a secret rolls); t must be within the window.
 * SPDX-License-Identifier: MIT */
#include "hmac.h"

static const struct gw_hmac_tsig scheme = {
    .header = "Stripe-Signature", .sep = ',', .ts_key = "t", .sig_key = "v1", .joiner = "."};

enum gw_rc gw_verify_stripe(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen)
{
    return gw_hmac_check_tsig(&scheme, secret, in, why, whylen);
}
