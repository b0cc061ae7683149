/* reduce.c -- values computed from other values: {count: path}, {sum: path},
 * {key: K, value: V} (a one-member object named by the payload), and the
 * transforms that take an argument (minor-units' currency).
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json.h"
#include "../mem.h"
#include "rule.h"

/* The elements a count or sum runs over: the array at the path (a wildcard
 * or filter path always gives one). Returns new, or NULL when absent. */
static json_object *elements(const struct gw_value *v, const struct gw_map_input *in,
                             json_object *event, const char **why)
{
    json_object *x = gw_path_eval(&v->path, in, event);
    if (x != NULL && !json_object_is_type(x, json_type_array)) {
        json_object_put(x);
        *why = "expected an array";
        return NULL;
    }
    return x;
}

/* Decimal digits of a number as written ("12.50" -> 2), -1 for exponents. */
static int decimals(const char *text)
{
    const char *dot = strchr(text, '.');
    if (strpbrk(text, "eE") != NULL) {
        return -1;
    }
    return dot ? (int)strspn(dot + 1, "0123456789") : 0;
}

/* A number (or numeric string) added to the sum; false when it is not one. */
static bool add_term(json_object *el, long double *sum, int64_t *isum, bool *ints, int *dec)
{
    /* only JSON numbers, or strings that are one: "0x1A" or "inf" is no
     * term (strtold would read them) */
    json_object *num = gw_number_from(el);
    const char *text = num != NULL ? gw_json_scalar_text(num) : NULL;
    char *end = NULL;
    long double d = text != NULL ? strtold(text, &end) : 0;
    bool ok = text != NULL && *end == '\0' && d == d && d <= 1e300L && d >= -1e300L;
    if (ok) {
        int k = decimals(text);
        *dec = k < 0 || *dec < 0 ? -1 : (k > *dec ? k : *dec);
        if (!json_object_is_type(num, json_type_int) || !*ints ||
            __builtin_add_overflow(*isum, json_object_get_int64(num), isum)) {
            *ints = false;
        }
        *sum += d;
    }
    json_object_put(num);
    return ok;
}

static json_object *eval_sum(const struct gw_value *v, const struct gw_map_input *in,
                             json_object *event, const char **why)
{
    json_object *arr = elements(v, in, event, why);
    long double sum = 0;
    int64_t isum = 0;
    bool ints = true;
    int dec = 0;
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        if (!add_term(json_object_array_get_idx(arr, i), &sum, &isum, &ints, &dec)) {
            *why = "sum: an element is not a number";
            json_object_put(arr);
            return NULL;
        }
    }
    if (arr == NULL) {
        return NULL;
    }
    json_object_put(arr);
    if (ints) {
        return json_object_new_int64(isum);
    }
    /* as many decimals as the terms had: "10.00" + "5.50" is 15.50 */
    char buf[96];
    int k = dec < 0 || dec > 12 ? snprintf(buf, sizeof(buf), "%.15Lg", sum)
                                : snprintf(buf, sizeof(buf), "%.*Lf", dec, sum);
    if (k < 0 || (size_t)k >= sizeof(buf)) {
        /* too many digits for the decimals asked: the value, not a cut */
        snprintf(buf, sizeof(buf), "%.15Lg", sum);
    }
    return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *eval_pair(const struct gw_value *v, const struct gw_map_input *in,
                              json_object *event, const char **why)
{
    json_object *key = gw_value_eval(&v->alts[0], in, event, why);
    const char *text = gw_json_scalar_text(key);
    if (text == NULL || text[0] == '\0' || *why != NULL) {
        json_object_put(key);
        return NULL;
    }
    json_object *val = gw_value_eval(&v->alts[1], in, event, why);
    if (val == NULL) {
        json_object_put(key);
        return NULL;
    }
    json_object *renamed = v->keys ? gw_json_get(v->keys, text) : NULL;
    char *name = renamed ? gw_strdup(json_object_get_string(renamed))
                         : gw_casing_convert(v->key_casing, text);
    json_object *out = NULL;
    if (name[0] != '\0') {
        /* a rename may nest ("company.name"); a key from the payload never */
        out = json_object_new_object();
        if (renamed != NULL) {
            gw_json_set_path(out, name, val);
        } else {
            json_object_object_add(out, name, val);
        }
    } else {
        json_object_put(val);
    }
    free(name);
    json_object_put(key);
    return out;
}

json_object *gw_value_reduce(const struct gw_value *v, const struct gw_map_input *in,
                             json_object *event, const char **why)
{
    json_object *arr = NULL;
    size_t n = 0;
    switch (v->kind) {
    case GW_VALUE_COUNT:
        arr = elements(v, in, event, why);
        n = arr ? json_object_array_length(arr) : 0;
        json_object_put(arr);
        return arr ? json_object_new_int64((int64_t)n) : NULL;
    case GW_VALUE_SUM:
        return eval_sum(v, in, event, why);
    case GW_VALUE_PAIR:
        return eval_pair(v, in, event, why);
    default:
        return NULL;
    }
}

bool gw_value_transform(const struct gw_value *v, json_object *x, const struct gw_map_input *in,
                        json_object *event, json_object **out, const char **why)
{
    if (v->as->exec_arg == NULL) {
        return v->as->exec(x, out, why);
    }
    json_object *arg = v->arg ? gw_value_eval(v->arg, in, event, why) : NULL;
    if (*why != NULL) {
        json_object_put(arg);
        return false;
    }
    bool ok = v->as->exec_arg(x, arg, out, why);
    json_object_put(arg);
    return ok;
}
