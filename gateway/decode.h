/* decode.h -- webhook body decoders: the body kinds a source may declare.
 * SPDX-License-Identifier: MIT */
#ifndef GW_DECODE_H
#define GW_DECODE_H

#include <json-c/json.h>
#include <stddef.h>

#include "rc.h"

enum gw_body_kind {
    GW_BODY_JSON_OBJECT, /* one JSON object, one event */
    GW_BODY_JSON_ARRAY,  /* a JSON array of objects, one event each */
    GW_BODY_JSON,        /* either of the above */
};

/* Caps on what one body may hold; beyond them decoding fails. */
struct gw_decode_limits {
    int max_depth;      /* JSON nesting (32) */
    size_t max_events;  /* events in one body (2500) */
};

void gw_decode_limits_init(struct gw_decode_limits *l);

/* Parses a body name of a rules file ("json-object", "json-array", "json").
 * Returns GW_ERR_INVALID for an unknown name. */
enum gw_rc gw_decode_kind_parse(const char *name, enum gw_body_kind *out) GW_WUR;
const char *gw_decode_kind_name(enum gw_body_kind kind);

/* Decodes buf (borrowed) as kind. On GW_OK *body is a new json value (put it)
 * holding the events; on GW_ERR_INVALID or GW_ERR_TOO_LARGE, err (size
 * errlen) says why in a sentence fit for the partner, and *body is untouched. */
enum gw_rc gw_decode(enum gw_body_kind kind, const struct gw_decode_limits *lim, const char *buf,
                     size_t len, json_object **body, char *err, size_t errlen) GW_WUR;

/* Number of events in a decoded body, and event i (borrowed from body). */
size_t gw_decode_count(json_object *body);
json_object *gw_decode_event(json_object *body, size_t i);

#endif
