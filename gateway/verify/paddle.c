/* paddle.c -- Paddle Billing: Paddle-Signature "ts=<unix>;h1=<hex>[;h1=...]",
 * h1 = hex HMAC-SHA256(notification destination's secret key, ts + ":" +
 * raw body). Any h1 may match (Paddle sends one per secret while a secret
 * rotates); ts must be within the window, 5 s by default as in Paddle's SDKs.
 * https://developer.paddle.com/webhooks/signature-verification
 * SPDX-License-Identifier: MIT */
#include "hmac.h"

static const struct gw_hmac_tsig scheme = {
    .header = "Paddle-Signature", .sep = ';', .ts_key = "ts", .sig_key = "h1", .joiner = ":"};

enum gw_rc gw_verify_paddle(const char *secret, const struct gw_verify_input *in, char *why,
                            size_t whylen)
{
    return gw_hmac_check_tsig(&scheme, secret, in, why, whylen);
}
