/* body.h -- the body kinds a source may declare: below both the decoders
 * (decode.h) and the rules engine (mapping.h), which share them.
 * SPDX-License-Identifier: MIT */
#ifndef GW_BODY_H
#define GW_BODY_H

#include "rc.h"

enum gw_body_kind {
    GW_BODY_JSON_OBJECT, /* one JSON object, one event */
    GW_BODY_JSON_ARRAY,  /* a JSON array of objects, one event each */
    GW_BODY_JSON,        /* either of the above */
    GW_BODY_FORM,        /* application/x-www-form-urlencoded, PHP-style keys */
    GW_BODY_KINDS        /* how many */
};

/* The names a rules file uses ("json-object", "json-array", "json", "form"),
 * in enum order, NULL-terminated. */
extern const char *const gw_body_kind_names[GW_BODY_KINDS + 1];

/* Parses a body name of a rules file. GW_ERR_INVALID for an unknown name. */
enum gw_rc gw_body_kind_parse(const char *name, enum gw_body_kind *out) GW_WUR;
/* Returns the kind's name, static. */
const char *gw_body_kind_name(enum gw_body_kind kind);

#endif
