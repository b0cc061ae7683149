/* ops.c -- the table of value transforms a rule may name with `as:`.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../decode.h"
#include "../json.h"
#include "../mem.h"
#include "rule.h"

json_object *gw_number_from(json_object *in)
{
    if (json_object_is_type(in, json_type_int)) {
        return json_object_get(in);
    }
    if (json_object_is_type(in, json_type_double)) {
        return isfinite(json_object_get_double(in)) ? json_object_get(in) : NULL;
    }
    if (!json_object_is_type(in, json_type_string)) {
        return NULL;
    }
    const char *s = json_object_get_string(in);
    size_t len = (size_t)json_object_get_string_len(in);
    json_object *v = NULL;
    char why[128];
    /* the grammar first; json-c then types the value */
    if (len == 0 || len > 400 || strlen(s) != len || !gw_decode_json_number(s) ||
        gw_json_parse(s, len, 1, &v, why, sizeof(why)) != GW_OK) {
        return NULL;
    }
    if (json_object_is_type(v, json_type_double)) {
        if (isfinite(json_object_get_double(v))) {
            return v; /* written with the partner's digits */
        }
    } else if (json_object_is_type(v, json_type_int)) {
        /* json-c clamps an integer past 64 bits: keep its text instead */
        if (strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), s) == 0) {
            return v;
        }
        json_object_put(v);
        return json_object_new_double_s(strtod(s, NULL), s);
    }
    json_object_put(v);
    return NULL;
}

/* Reads a number from a JSON number or a numeric string. */
static bool to_double(json_object *in, double *out)
{
    json_object *n = gw_number_from(in);
    if (n == NULL) {
        return false;
    }
    *out = json_object_get_double(n);
    json_object_put(n);
    return isfinite(*out);
}

json_object *gw_iso8601_from_ms(long double ms)
{
    long double secs = floorl(ms / 1000.0L);
    time_t t = (time_t)secs;
    int millis = (int)llroundl(ms - secs * 1000.0L);
    if (millis >= 1000) {
        t += 1;
        millis -= 1000;
    }
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
        return NULL;
    }
    /* 2006-01-02T15:04:05.000Z, every field of fixed width (what
     * "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" writes, without a printf per call) */
    const struct {
        int v, width;
        char after;
    } fields[] = {{tm.tm_year + 1900, 4, '-'}, {tm.tm_mon + 1, 2, '-'}, {tm.tm_mday, 2, 'T'},
                  {tm.tm_hour, 2, ':'},         {tm.tm_min, 2, ':'},     {tm.tm_sec, 2, '.'},
                  {millis, 3, 'Z'}};
    char buf[32];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        GW_ASSERT(fields[i].v >= 0);
        for (int k = fields[i].width - 1, v = fields[i].v; k >= 0; k--, v /= 10) {
            buf[n + (size_t)k] = (char)('0' + v % 10);
        }
        n += (size_t)fields[i].width;
        buf[n++] = fields[i].after;
    }
    return json_object_new_string_len(buf, (int)n);
}

static bool op_unix_seconds(json_object *in, json_object **out, const char **why)
{
    double v;
    *why = "expected unix seconds (a number)";
    if (!to_double(in, &v) || v < 0 || v > 253402300799.0) {
        return false;
    }
    *out = gw_iso8601_from_ms((long double)v * 1000.0L);
    return *out != NULL;
}

static bool op_unix_ms(json_object *in, json_object **out, const char **why)
{
    double v;
    *why = "expected unix milliseconds (a number)";
    if (!to_double(in, &v) || v < 0 || v > 253402300799000.0) {
        return false;
    }
    *out = gw_iso8601_from_ms((long double)v);
    return *out != NULL;
}

/* Reads "+HH:MM", "+HHMM", "Z", " UTC" or "" into seconds east of UTC. */
static bool parse_offset(const char *s, long *off)
{
    int h = 0, m = 0, n = 0;
    if (*s == '\0' || strcmp(s, "Z") == 0 || strcmp(s, "z") == 0 || strcmp(s, " UTC") == 0) {
        *off = 0;
        return true;
    }
    const char *t = *s == ' ' ? s + 1 : s;
    if ((*t != '+' && *t != '-') ||
        (sscanf(t + 1, "%2d:%2d%n", &h, &m, &n) != 2 && sscanf(t + 1, "%2d%2d%n", &h, &m, &n) != 2) ||
        t[1 + n] != '\0' || h > 23 || m > 59) {
        return false;
    }
    *off = (h * 3600L + m * 60L) * (*t == '-' ? -1 : 1);
    return true;
}

/* "2020-08-11T12:30:54-04:00", "2020-08-11 12:30:54 UTC", ... -> UTC ISO-8601. */
static bool op_iso8601(json_object *in, json_object **out, const char **why)
{
    *why = "expected a date-time such as 2020-08-11T12:30:54Z";
    if (!json_object_is_type(in, json_type_string)) {
        return false;
    }
    const char *s = json_object_get_string(in);
    struct tm tm = {0};
    int n = 0;
    double frac = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
        return false;
    }
    const char *rest = s + n;
    if (*rest == '.') {
        char *end = NULL;
        frac = strtod(rest, &end);
        rest = end;
    }
    long off = 0;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || !parse_offset(rest, &off)) {
        return false;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) - off;
    *out = gw_iso8601_from_ms((long double)t * 1000.0L + (long double)frac * 1000.0L);
    return *out != NULL;
}

static bool op_string(json_object *in, json_object **out, const char **why)
{
    char num[32];
    const char *s = gw_json_scalar_text_buf(in, num, sizeof(num));
    *why = "expected a string, number or boolean";
    if (s == NULL) {
        return false;
    }
    *out = json_object_is_type(in, json_type_string) ? json_object_get(in)
                                                     : json_object_new_string(s);
    return true;
}

static bool op_number(json_object *in, json_object **out, const char **why)
{
    *why = "expected a number (JSON number syntax: no hex, '+', inf or nan)";
    /* keeps the partner's digits ("12.50" stays 12.50 on the wire) */
    *out = gw_number_from(in);
    return *out != NULL;
}

static bool op_integer(json_object *in, json_object **out, const char **why)
{
    double v;
    *why = "expected a whole number";
    if (json_object_is_type(in, json_type_int)) {
        *out = json_object_get(in);
        return true;
    }
    if (!to_double(in, &v) || v != floor(v) || fabs(v) > 9007199254740992.0) {
        return false;
    }
    *out = json_object_new_int64((int64_t)v);
    return true;
}

static bool op_boolean(json_object *in, json_object **out, const char **why)
{
    *why = "expected true/false";
    if (json_object_is_type(in, json_type_boolean)) {
        *out = json_object_get(in);
        return true;
    }
    const char *s = gw_json_scalar_text(in);
    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)) {
        *out = json_object_new_boolean(1);
        return true;
    }
    if (s != NULL && (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)) {
        *out = json_object_new_boolean(0);
        return true;
    }
    return false;
}

static bool op_cents(json_object *in, json_object **out, const char **why)
{
    double v;
    *why = "expected an amount in cents (a number)";
    if (!to_double(in, &v)) {
        return false;
    }
    /* two decimals: 1999 cents is 19.99, printed without binary noise; an
     * amount too long to print whole is refused, not cut */
    char buf[64];
    int k = snprintf(buf, sizeof(buf), "%.2f", v / 100.0);
    if (k < 0 || (size_t)k >= sizeof(buf)) {
        return false;
    }
    *out = json_object_new_double_s(strtod(buf, NULL), buf);
    return true;
}

static bool change_case(json_object *in, json_object **out, const char **why, int upper)
{
    *why = "expected a string";
    if (!json_object_is_type(in, json_type_string)) {
        return false;
    }
    char *s = gw_strdup(json_object_get_string(in));
    for (char *c = s; *c; c++) {
        *c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
    }
    *out = json_object_new_string(s);
    free(s);
    return true;
}

static bool op_lower(json_object *in, json_object **out, const char **why)
{
    return change_case(in, out, why, 0);
}

static bool op_upper(json_object *in, json_object **out, const char **why)
{
    return change_case(in, out, why, 1);
}

static bool convert(json_object *in, json_object **out, const char **why, enum gw_casing c)
{
    const char *s = gw_json_scalar_text(in);
    *why = "expected a string";
    if (s == NULL) {
        return false;
    }
    char *conv = gw_casing_convert(c, s);
    *out = json_object_new_string(conv);
    free(conv);
    return true;
}

static bool op_proper(json_object *in, json_object **out, const char **why)
{
    return convert(in, out, why, GW_CASING_PROPER);
}

static bool op_snake(json_object *in, json_object **out, const char **why)
{
    return convert(in, out, why, GW_CASING_SNAKE);
}

/* Returns new: v with every object key, at any depth, in snake_case. */
static json_object *snake_keys(json_object *v, int depth)
{
    if (depth > 32) {
        return json_object_get(v);
    }
    if (json_object_is_type(v, json_type_array)) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object_array_add(a, snake_keys(json_object_array_get_idx(v, i), depth + 1));
        }
        return a;
    }
    if (!json_object_is_type(v, json_type_object)) {
        return json_object_get(v);
    }
    json_object *o = json_object_new_object();
    json_object_object_foreach(v, key, val)
    {
        char *k = gw_casing_convert(GW_CASING_SNAKE, key);
        json_object_object_add(o, k[0] ? k : key, snake_keys(val, depth + 1));
        free(k);
    }
    return o;
}

static bool op_snake_keys(json_object *in, json_object **out, const char **why)
{
    *why = "expected an object or an array";
    if (!json_object_is_type(in, json_type_object) && !json_object_is_type(in, json_type_array)) {
        return false;
    }
    *out = snake_keys(in, 0);
    return true;
}

/* A JSON document carried in a string (a form field, a metadata blob). */
static bool op_json(json_object *in, json_object **out, const char **why)
{
    *why = "expected a string holding JSON";
    if (!json_object_is_type(in, json_type_string)) {
        return false;
    }
    char err[128];
    const char *s = json_object_get_string(in);
    return gw_json_parse(s, strlen(s), 32, out, err, sizeof(err)) == GW_OK;
}

/* Amounts in minor units, by the currency named by the value's `currency`. */
static bool op_minor_units(json_object *in, json_object *cur, json_object **out,
                           const char **why)
{
    return gw_currency_units(in, cur, false, out, why);
}

static bool op_stripe_amount(json_object *in, json_object *cur, json_object **out,
                             const char **why)
{
    return gw_currency_units(in, cur, true, out, why);
}

static const struct gw_transform transforms[] = {
    {"unix-seconds", op_unix_seconds, "unix time in seconds -> ISO-8601 UTC", NULL, NULL},
    {"unix-ms", op_unix_ms, "unix time in milliseconds -> ISO-8601 UTC", NULL, NULL},
    {"iso8601", op_iso8601, "a date-time with any offset -> ISO-8601 UTC", NULL, NULL},
    {"string", op_string, "number or boolean -> its text", NULL, NULL},
    {"number", op_number, "numeric string -> number", NULL, NULL},
    {"integer", op_integer, "numeric string -> whole number", NULL, NULL},
    {"boolean", op_boolean, "\"true\"/\"false\"/1/0 -> boolean", NULL, NULL},
    {"cents", op_cents, "an amount in cents -> the amount in units (1999 -> 19.99)", NULL, NULL},
    {"lowercase", op_lower, "text -> lowercase", NULL, NULL},
    {"uppercase", op_upper, "text -> UPPERCASE", NULL, NULL},
    {"proper-case", op_proper, "text -> Proper Case (orders/create -> Orders Create)", NULL, NULL},
    {"snake-case", op_snake, "text -> snake_case", NULL, NULL},
    {"snake-keys", op_snake_keys, "an object copied with every key in snake_case", NULL, NULL},
    {"json", op_json, "a string holding JSON -> the JSON value", NULL, NULL},
    {"minor-units", NULL,
     "an amount in the minor unit of `currency` (ISO 4217) -> units (1999 USD -> 19.99, "
     "1999 JPY -> 1999, 1999 KWD -> 1.999)",
     "currency", op_minor_units},
    {"stripe-amount", NULL,
     "a Stripe amount of `currency` -> units: minor-units with Stripe's documented exceptions "
     "(ISK in hundredths)",
     "currency", op_stripe_amount},
};

const struct gw_transform *gw_transform_find(const char *name)
{
    for (size_t i = 0; i < sizeof(transforms) / sizeof(transforms[0]); i++) {
        if (strcmp(name, transforms[i].name) == 0) {
            return &transforms[i];
        }
    }
    return NULL;
}

const struct gw_transform *gw_transform_at(size_t i)
{
    return i < sizeof(transforms) / sizeof(transforms[0]) ? &transforms[i] : NULL;
}
