/* decode.c -- webhook body decoders.
 * SPDX-License-Identifier: MIT */
#include "decode.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

static const char *const kind_names[] = {"json-object", "json-array", "json"};

void gw_decode_limits_init(struct gw_decode_limits *l)
{
    l->max_depth = 32;
    l->max_events = 2500;
}

enum gw_rc gw_decode_kind_parse(const char *name, enum gw_body_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum gw_body_kind)i;
            return GW_OK;
        }
    }
    return GW_ERR_INVALID;
}

const char *gw_decode_kind_name(enum gw_body_kind kind)
{
    return kind_names[kind];
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

enum gw_rc gw_decode(enum gw_body_kind kind, const struct gw_decode_limits *lim, const char *buf,
                     size_t len, json_object **body, char *err, size_t errlen)
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
    if (gw_json_parse(buf, len, lim->max_depth, &v, why, sizeof(why)) != GW_OK) {
        snprintf(err, errlen, "body is not valid JSON: %s", why);
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

size_t gw_decode_count(json_object *body)
{
    return json_object_is_type(body, json_type_array) ? json_object_array_length(body) : 1;
}

json_object *gw_decode_event(json_object *body, size_t i)
{
    return json_object_is_type(body, json_type_array) ? json_object_array_get_idx(body, i) : body;
}
