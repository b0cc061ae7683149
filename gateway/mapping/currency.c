/* currency.c -- ISO 4217 minor units: the one table of currency exponents,
 * and amounts in minor units converted into units of their currency.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../json.h"
#include "rule.h"

/* Every ISO 4217 code whose minor unit is not 2 (ISO 4217 list one, the
 * "minor unit" column); every other code has 2. -1 stands for ISO's "N.A.":
 * funds and metals with no minor unit, which no amount can be counted in.
 * stripe: the exponent Stripe's API counts the code's amounts in, where it
 * differs from ISO (https://docs.stripe.com/currencies#special-cases): ISK
 * stays two-decimal in Stripe's API (100 is 1 krona), and Stripe counts MGA
 * in whole ariary. Stripe's three-decimal currencies (BHD JOD KWD OMR TND)
 * and its zero-decimal list (BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND
 * VUV XAF XOF XPF) otherwise agree with ISO; HUF and TWD are two-decimal in
 * charges (Stripe's payout rule for them does not change an amount's unit). */
static const struct {
    char code[4];
    signed char iso;
    signed char stripe;
} exponents[] = {
    {"BHD", 3, 3},   {"BIF", 0, 0},   {"CLF", 4, 4},   {"CLP", 0, 0},   {"DJF", 0, 0},
    {"GNF", 0, 0},   {"IQD", 3, 3},   {"ISK", 0, 2},   {"JOD", 3, 3},   {"JPY", 0, 0},
    {"KMF", 0, 0},   {"KRW", 0, 0},   {"KWD", 3, 3},   {"LYD", 3, 3},   {"MGA", 2, 0},
    {"OMR", 3, 3},   {"PYG", 0, 0},   {"RWF", 0, 0},   {"TND", 3, 3},   {"UGX", 0, 0},
    {"UYI", 0, 0},   {"UYW", 4, 4},   {"VND", 0, 0},   {"VUV", 0, 0},   {"XAF", 0, 0},
    {"XAG", -1, -1}, {"XAU", -1, -1}, {"XBA", -1, -1}, {"XBB", -1, -1}, {"XBC", -1, -1},
    {"XBD", -1, -1}, {"XDR", -1, -1}, {"XOF", 0, 0},   {"XPD", -1, -1}, {"XPF", 0, 0},
    {"XPT", -1, -1}, {"XSU", -1, -1}, {"XTS", -1, -1}, {"XUA", -1, -1}, {"XXX", -1, -1},
};

int gw_currency_exponent(const char *code, bool stripe)
{
    if (code == NULL || strlen(code) != 3) {
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)code[i])) {
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(exponents) / sizeof(exponents[0]); i++) {
        if (strcasecmp(code, exponents[i].code) == 0) {
            return stripe ? exponents[i].stripe : exponents[i].iso;
        }
    }
    return 2;
}

/* Reads a whole number from a JSON integer, an integral double or a string
 * of digits. */
static bool to_int64(json_object *in, int64_t *out)
{
    /* a string only when it is a JSON integer ("0x1A", "+5" are not) */
    json_object *num = gw_number_from(in);
    bool ok = false;
    if (json_object_is_type(num, json_type_int)) {
        *out = json_object_get_int64(num);
        ok = *out != INT64_MAX && *out != INT64_MIN; /* json-c clamps there */
    } else if (json_object_is_type(num, json_type_double)) {
        double d = json_object_get_double(num);
        ok = isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0;
        *out = ok ? (int64_t)d : 0;
    }
    json_object_put(num);
    return ok;
}

bool gw_currency_units(json_object *amount, json_object *currency, bool stripe,
                       json_object **out, const char **why)
{
    int64_t v = 0;
    const char *code = gw_json_scalar_text(currency);
    if (!to_int64(amount, &v) || v == INT64_MIN) {
        *why = "expected an amount in minor units (a whole number)";
        return false;
    }
    if (code == NULL) {
        *why = "no currency to read the amount's minor units by";
        return false;
    }
    int e = gw_currency_exponent(code, stripe);
    if (e < 0 || e > 4) {
        *why = "the currency is not an ISO 4217 code with a minor unit";
        return false;
    }
    if (e == 0) {
        *out = json_object_new_int64(v);
        return true;
    }
    uint64_t mag = (uint64_t)(v < 0 ? -v : v);
    uint64_t scale = 1;
    for (int i = 0; i < e; i++) {
        scale *= 10;
    }
    /* whole digits, then exactly e decimals: 12345 KWD is 12.345 on the
     * wire, never 12.345000000000001 */
    char buf[64];
    snprintf(buf, sizeof(buf), "%s%llu.%0*llu", v < 0 ? "-" : "",
             (unsigned long long)(mag / scale), e, (unsigned long long)(mag % scale));
    *out = json_object_new_double_s(strtod(buf, NULL), buf);
    return true;
}
