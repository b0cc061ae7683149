/* decode.c -- webhook body decoders.
 * SPDX-License-Identifier: MIT */
#include "decode.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "mem.h"

void gw_decode_limits_init(struct gw_decode_limits *l)
{
    const struct gw_config *d = gw_config_defaults();
    l->max_depth = d->max_depth;
    l->max_events = d->max_events;
    l->max_fields = d->max_fields;
}

static enum gw_rc check_shape(enum gw_body_kind kind, const struct gw_decode_limits *lim,
                              json_object *v, char *err, size_t errlen)
{
    bool is_arr = json_object_is_type(v, json_type_array);
    bool is_obj = json_object_is_type(v, json_type_object);
    if (kind == GW_BODY_JSON_ARRAY && !is_arr) {
        snprintf(err, errlen, "body must be a JSON array of events");
        return GW_ERR_INVALID;
    }
    if (kind == GW_BODY_JSON_OBJECT && !is_obj) {
        snprintf(err, errlen, "body must be a JSON object");
        return GW_ERR_INVALID;
    }
    if (!is_arr && !is_obj) {
        snprintf(err, errlen, "body must be a JSON object or an array of objects");
        return GW_ERR_INVALID;
    }
    if (!is_arr) {
        return GW_OK;
    }
    size_t n = json_object_array_length(v);
    if (n > lim->max_events) {
        snprintf(err, errlen, "body holds %zu events, more than the limit of %zu", n,
                 lim->max_events);
        return GW_ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object)) {
            snprintf(err, errlen, "event %zu of the body is not a JSON object", i);
            return GW_ERR_INVALID;
        }
    }
    return GW_OK;
}

size_t gw_decode_utf8_bad(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII eight bytes at a time: no byte with its high bit set */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof(w));
            if ((w & UINT64_C(0x8080808080808080)) != 0) {
                break;
            }
            i += 8;
        }
        if (i == len) {
            break;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* continuation bytes after the lead; 0: not a lead byte (C0 and C1
         * only begin overlong forms, F5..FF nothing) */
        size_t n = (c >= 0xc2 && c <= 0xdf) ? 1 : (c >= 0xe0 && c <= 0xef) ? 2
                   : (c >= 0xf0 && c <= 0xf4) ? 3 : 0;
        if (n == 0 || n >= len - i) {
            return i;
        }
        /* the second byte's range rules out overlong forms, UTF-16
         * surrogates (ED A0..BF) and code points past U+10FFFF */
        unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
        for (size_t k = 1; k <= n; k++) {
            unsigned char b = s[i + k];
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
                return i;
            }
        }
        i += n + 1;
    }
    return len;
}

static bool hex4(const char *p, const char *end, unsigned *v)
{
    if (end - p < 4) {
        return false;
    }
    char digits[5] = {p[0], p[1], p[2], p[3], '\0'};
    char *stop = NULL;
    unsigned long u = strtoul(digits, &stop, 16);
    if (stop != digits + 4 || !isxdigit((unsigned char)digits[0])) {
        return false;
    }
    *v = (unsigned)u;
    return true;
}

/* In valid JSON a backslash occurs only inside strings, so the escapes can
 * be read without tracking strings: \u0000 and an unpaired surrogate are
 * refused (json-c would keep a NUL inside a string, and turn a lone
 * surrogate into U+FFFD: neither is what the partner sent). Returns the
 * offending byte's offset, or len. */
static size_t bad_escape(const char *buf, size_t len)
{
    const char *end = buf + len;
    for (const char *p = buf; p + 1 < end; p++) {
        p = memchr(p, '\\', (size_t)(end - 1 - p));
        if (p == NULL) {
            break;
        }
        unsigned u = 0;
        if (p[1] != 'u' || !hex4(p + 2, end, &u)) {
            p++; /* an escaped character: skip it */
            continue;
        }
        unsigned lo = 0;
        if (u == 0 || (u >= 0xdc00 && u <= 0xdfff)) {
            return (size_t)(p - buf);
        }
        if (u >= 0xd800 && u <= 0xdbff) {
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, end, &lo) ||
                lo < 0xdc00 || lo > 0xdfff) {
                return (size_t)(p - buf);
            }
            p += 6;
        }
        p += 5;
    }
    return len;
}

/* The JSON number grammar (RFC 8259 section 6), which json-c's tokener
 * does not hold to ("1." passes it). */
bool gw_decode_json_number(const char *p)
{
    p += *p == '-';
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p += strspn(p, "0123456789");
    } else {
        return false;
    }
    if (*p == '.') {
        size_t n = strspn(++p, "0123456789");
        if (n == 0) {
            return false;
        }
        p += n;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        size_t n = strspn(p, "0123456789");
        if (n == 0) {
            return false;
        }
        p += n;
    }
    return *p == '\0';
}

/* json-c's tokener takes NaN, Infinity and "1." and writes them back as
 * they came, which is not JSON: every decimal must be a finite number in
 * the grammar. Returns false after saying which in err. */
static bool numbers_valid(json_object *v, char *err, size_t errlen)
{
    switch (json_object_get_type(v)) {
    case json_type_double: {
        const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (!isfinite(json_object_get_double(v)) || !gw_decode_json_number(text)) {
            snprintf(err, errlen, "body is not valid JSON: '%.40s' is not a finite JSON number",
                     text);
            return false;
        }
        return true;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (!numbers_valid(json_object_array_get_idx(v, i), err, errlen)) {
                return false;
            }
        }
        return true;
    case json_type_object: {
        json_object_object_foreach(v, key, child)
        {
            (void)key;
            if (!numbers_valid(child, err, errlen)) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

static enum gw_rc decode_json(enum gw_body_kind kind, const struct gw_decode_limits *lim,
                              const char *buf, size_t len, json_object **body, char *err,
                              size_t errlen)
{
    json_object *v = NULL;
    char why[160];
    if (len == 0) {
        snprintf(err, errlen, "body is empty");
        return GW_ERR_INVALID;
    }
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "body is not valid JSON: it holds a NUL byte");
        return GW_ERR_INVALID;
    }
    size_t at = gw_decode_utf8_bad((const unsigned char *)buf, len);
    if (at < len) {
        snprintf(err, errlen, "body is not valid JSON: invalid UTF-8 at byte %zu", at);
        return GW_ERR_INVALID;
    }
    if (gw_json_parse(buf, len, lim->max_depth, &v, why, sizeof(why)) != GW_OK) {
        snprintf(err, errlen, "body is not valid JSON: %s", why);
        return GW_ERR_INVALID;
    }
    at = bad_escape(buf, len);
    if (at == len && !numbers_valid(v, err, errlen)) {
        json_object_put(v);
        return GW_ERR_INVALID;
    }
    if (at < len) {
        snprintf(err, errlen, "body is not valid JSON: a \\u escape at byte %zu is U+0000 or an "
                 "unpaired UTF-16 surrogate", at);
        json_object_put(v);
        return GW_ERR_INVALID;
    }
    enum gw_rc rc = check_shape(kind, lim, v, err, errlen);
    if (rc != GW_OK) {
        json_object_put(v);
        return rc;
    }
    *body = v;
    return GW_OK;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

/* URL-decodes s[0..n) ('+' is a space). Returns new string or NULL on a bad
 * escape or a NUL. libcurl's unescape does not turn '+' into a space, and
 * the MHD post processor is tied to a connection, so this is done here. */
static char *url_decode(const char *s, size_t n)
{
    char *out = gw_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2])) {
                free(out);
                return NULL;
            }
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

void gw_decode_pairs_free(struct gw_form_pair *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].name);
        free(pairs[i].value);
    }
    free(pairs);
}

enum gw_rc gw_decode_form_pairs(const char *buf, size_t len, size_t max_fields,
                                struct gw_form_pair **pairs, size_t *n)
{
    struct gw_form_pair *v = NULL;
    size_t count = 0;
    const char *end = buf + len;
    for (const char *p = buf; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        /* a trailing newline after the last field is common (curl --data @file) */
        const char *vend = stop;
        while (amp == NULL && vend > p && (vend[-1] == '\n' || vend[-1] == '\r')) {
            vend--;
        }
        if (vend > p) {
            if (count == max_fields) {
                gw_decode_pairs_free(v, count);
                return GW_ERR_TOO_LARGE;
            }
            const char *eq = memchr(p, '=', (size_t)(vend - p));
            char *name = url_decode(p, (size_t)((eq ? eq : vend) - p));
            char *value = eq ? url_decode(eq + 1, (size_t)(vend - eq - 1)) : gw_strdup("");
            v = gw_realloc(v, (count + 1) * sizeof(*v));
            v[count++] = (struct gw_form_pair){name, value};
            if (name == NULL || value == NULL || name[0] == '\0') {
                gw_decode_pairs_free(v, count);
                return GW_ERR_INVALID;
            }
        }
        p = stop + 1;
    }
    *pairs = v;
    *n = count;
    return GW_OK;
}

/* Places value at the PHP-style key name ("data[merges][FNAME]", "a[]") in
 * root. Returns false when the key is malformed or clashes with a value. */
static bool place(json_object *root, const char *name, const char *value)
{
    /* the keys are cut out of one copy of the name, not copied one by one */
    size_t len = strlen(name);
    char small[256];
    char *copy = len < sizeof(small) ? small : gw_malloc(len + 1);
    memcpy(copy, name, len + 1);
    size_t head = strcspn(name, "[");
    copy[head] = '\0';
    char *key = copy;
    const char *rest = name + head;
    json_object *cur = root;
    bool ok = true;
    while (ok && *rest == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL) {
            ok = false;
            break;
        }
        json_object *child = json_object_is_type(cur, json_type_array)
                                 ? NULL
                                 : gw_json_get(cur, key);
        bool want_array = close == rest + 1;
        if (child == NULL) {
            child = want_array ? json_object_new_array() : json_object_new_object();
            if (json_object_is_type(cur, json_type_array)) {
                json_object_array_add(cur, child);
            } else {
                json_object_object_add(cur, key, child);
            }
        }
        ok = json_object_is_type(child, want_array ? json_type_array : json_type_object);
        key = copy + (rest + 1 - name);
        copy[close - name] = '\0';
        cur = child;
        rest = close + 1;
    }
    ok = ok && *rest == '\0';
    if (ok && json_object_is_type(cur, json_type_array)) {
        json_object_array_add(cur, json_object_new_string(value));
    } else if (ok) {
        ok = key[0] != '\0' && gw_json_get(cur, key) == NULL;
        if (ok) {
            json_object_object_add(cur, key, json_object_new_string(value));
        }
    }
    if (copy != small) {
        free(copy);
    }
    return ok;
}

static enum gw_rc decode_form(const char *json_field, const struct gw_decode_limits *lim,
                              const char *buf, size_t len, json_object **body, char *err,
                              size_t errlen)
{
    struct gw_form_pair *pairs = NULL;
    size_t n = 0;
    enum gw_rc rc = gw_decode_form_pairs(buf, len, lim->max_fields, &pairs, &n);
    if (rc != GW_OK) {
        if (rc == GW_ERR_TOO_LARGE) {
            snprintf(err, errlen, "form has more than %zu fields", lim->max_fields);
        } else {
            snprintf(err, errlen, "body is not a valid form (bad %%-escape, empty name or NUL)");
        }
        return rc;
    }
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        const char *part[2] = {pairs[i].name, pairs[i].value};
        for (int k = 0; k < 2 && rc == GW_OK; k++) {
            size_t plen = strlen(part[k]);
            size_t at = gw_decode_utf8_bad((const unsigned char *)part[k], plen);
            if (at < plen) {
                snprintf(err, errlen, "form field %zu: its %s holds invalid UTF-8 at byte %zu "
                         "(after %%-decoding)", i + 1, k == 0 ? "name" : "value", at);
                rc = GW_ERR_INVALID;
            }
        }
    }
    json_object *obj = json_object_new_object();
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        size_t depth = 0;
        for (const char *c = pairs[i].name; *c; c++) {
            depth += *c == '[';
        }
        /* the same cap as JSON nesting: json-c frees and prints recursively */
        if (depth >= (size_t)lim->max_depth) {
            snprintf(err, errlen, "form field '%.64s' is nested more than %d levels deep",
                     pairs[i].name, lim->max_depth);
            rc = GW_ERR_INVALID;
            break;
        }
        if (!place(obj, pairs[i].name, pairs[i].value)) {
            snprintf(err, errlen, "form field '%.64s' is repeated or clashes with another",
                     pairs[i].name);
            rc = GW_ERR_INVALID;
        }
    }
    gw_decode_pairs_free(pairs, n);
    if (rc == GW_OK && json_field != NULL) {
        const char *text = gw_json_get_str(obj, json_field);
        json_object *inner = NULL;
        char why[160];
        if (text == NULL) {
            snprintf(err, errlen, "form field '%s' is missing", json_field);
            rc = GW_ERR_INVALID;
        } else if (gw_json_parse(text, strlen(text), lim->max_depth, &inner, why, sizeof(why)) !=
                   GW_OK) {
            snprintf(err, errlen, "form field '%s' is not valid JSON: %s", json_field, why);
            rc = GW_ERR_INVALID;
        } else {
            json_object_object_add(obj, json_field, inner);
        }
    }
    if (rc != GW_OK) {
        json_object_put(obj);
        return rc;
    }
    *body = obj;
    return GW_OK;
}

enum gw_rc gw_decode(enum gw_body_kind kind, const char *json_field,
                     const struct gw_decode_limits *lim, const char *buf, size_t len,
                     json_object **body, char *err, size_t errlen)
{
    if (kind == GW_BODY_FORM) {
        return decode_form(json_field, lim, buf, len, body, err, errlen);
    }
    return decode_json(kind, lim, buf, len, body, err, errlen);
}
