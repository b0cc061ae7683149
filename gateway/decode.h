/* decode.h -- webhook body decoders, one per body kind (body.h).
 * SPDX-License-Identifier: MIT */
#ifndef GW_DECODE_H
#define GW_DECODE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "body.h"
#include "rc.h"

/* One form field as received, URL-decoded. */
struct gw_form_pair {
    char *name;
    char *value;
};

/* Caps on what one body may hold; beyond them decoding fails. */
struct gw_decode_limits {
    int max_depth;      /* JSON nesting (limits.max_json_depth) */
    size_t max_events;  /* events in one body (limits.max_events) */
    size_t max_fields;  /* form fields in one body (limits.max_form_fields) */
};

/* Fills l with the defaults of the settings table (limits.max_json_depth,
 * limits.max_events, limits.max_form_fields). */
void gw_decode_limits_init(struct gw_decode_limits *l);

/* Decodes buf (borrowed) as kind. A form becomes an object of string fields,
 * nested by PHP-style keys (data[merges][FNAME]; a[]=1&a[]=2 is an array).
 * json_field (may be NULL) names a form field that holds JSON (Mandrill's
 * mandrill_events): it is parsed in place. On GW_OK *body is a new json value
 * (put it); on GW_ERR_INVALID or GW_ERR_TOO_LARGE, err (size errlen) says why
 * in a sentence fit for the partner, and *body is untouched. */
enum gw_rc gw_decode(enum gw_body_kind kind, const char *json_field,
                     const struct gw_decode_limits *lim, const char *buf, size_t len,
                     json_object **body, char *err, size_t errlen) GW_WUR;

/* Splits a form body into URL-decoded pairs, in order. On GW_OK *pairs is a
 * new array of *n pairs (free with gw_decode_pairs_free). GW_ERR_TOO_LARGE
 * past max_fields; GW_ERR_INVALID for a bad %-escape or a NUL byte. */
enum gw_rc gw_decode_form_pairs(const char *buf, size_t len, size_t max_fields,
                                struct gw_form_pair **pairs, size_t *n) GW_WUR;
void gw_decode_pairs_free(struct gw_form_pair *pairs, size_t n);

/* Returns the offset of the first byte of s[0..len) (borrowed) that is not
 * well-formed UTF-8, or len when all is. Overlong forms, UTF-16 surrogates
 * (U+D800..U+DFFF) and code points past U+10FFFF are not well-formed. A
 * JSON body is checked whole before parsing, a form's names and values
 * after %-decoding; both are refused with the offset. */
size_t gw_decode_utf8_bad(const unsigned char *s, size_t len);

/* Whether s (borrowed) is one number by the JSON grammar (RFC 8259 section
 * 6): no hex, '+', leading zeros, bare '.', inf, nan or spaces. A JSON
 * body whose decimals are not, or not finite, is refused. */
bool gw_decode_json_number(const char *s);


#endif
