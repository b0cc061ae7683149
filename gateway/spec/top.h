/* top.h -- internal to gateway/spec/: a call's top-level fields, read in
 * one pass over its keys, and which of them a call type takes.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_TOP_H
#define GW_SPEC_TOP_H

#include <json-c/json.h>
#include <json-c/linkhash.h>
#include <stdbool.h>

#include "../calltype.h"

/* A call whose type is none of the six. */
#define GW_TOP_UNKNOWN GW_CALL_TYPES

/* The top-level fields the checks read. Each is one of the common fields
 * (top.c) or a call type's own (gateway/calltype.c). */
enum gw_top {
    GW_TOP_TYPE,
    GW_TOP_USER_ID,
    GW_TOP_ANONYMOUS_ID,
    GW_TOP_CONTEXT,
    GW_TOP_INTEGRATIONS,
    GW_TOP_MESSAGE_ID,
    GW_TOP_TIMESTAMP,
    GW_TOP_SENT_AT,
    GW_TOP_ORIGINAL_TIMESTAMP,
    GW_TOP_EVENT,
    GW_TOP_PROPERTIES,
    GW_TOP_TRAITS,
    GW_TOP_NAME,
    GW_TOP_CATEGORY,
    GW_TOP_GROUP_ID,
    GW_TOP_PREVIOUS_ID,
    GW_TOP_COUNT
};

/* A call's values of those fields (borrowed; NULL: absent or null), and
 * whether it holds a field its type does not take. */
struct gw_top_fields {
    json_object *v[GW_TOP_COUNT];
    bool stray;
};

/* Returns the field's name ("userId"), static. */
const char *gw_top_name(enum gw_top f);

/* Fills t (zeroed by the caller) from the object call in one pass over its
 * keys; returns the call's type, GW_TOP_UNKNOWN when its type field is none
 * of the six. */
enum gw_call_type gw_top_read(json_object *call, struct gw_top_fields *t);

/* True when key is a top-level field a call of type k takes: a common field
 * or one of k's own. */
bool gw_top_planned(const char *key, enum gw_call_type k);

/* The first member of obj (json-c's own list, in order), NULL when obj is no
 * object or an empty one. */
static inline struct lh_entry *gw_top_members(json_object *obj)
{
    return json_object_is_type(obj, json_type_object) ? lh_table_head(json_object_get_object(obj))
                                                      : NULL;
}

#endif
