/* calltype.h -- the six Segment call types and what each one is: its name
 * (the "type" field and the /v1 endpoint), its own top-level fields, the
 * field a rule's call key fills, its bag. One table; mapping, spec, the API
 * endpoints and the docs read it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_CALLTYPE_H
#define GW_CALLTYPE_H

#include <stdbool.h>
#include <stddef.h>

enum gw_call_type {
    GW_CALL_TRACK,
    GW_CALL_IDENTIFY,
    GW_CALL_PAGE,
    GW_CALL_SCREEN,
    GW_CALL_GROUP,
    GW_CALL_ALIAS,
    GW_CALL_TYPES /* how many */
};

/* The names in table order, for messages; a unit test holds it to the table. */
#define GW_CALL_TYPE_LIST "track, identify, page, screen, group, alias"

struct gw_calltype {
    const char *name;      /* "track": the call's type and its /v1 endpoint */
    const char *fields;    /* its own top-level fields, space-separated */
    const char *key_field; /* the field a rule's call key fills ("event", "groupId"),
                              or NULL (identify: `identify: true`) */
    const char *bag;       /* the object every such call carries ("properties"), or NULL */
    const char *stray;     /* where a stray top-level field belongs, for messages */
    const char *browser;   /* analytics.js's short endpoint ("t": /v1/t), an alias */
};

/* The canonical name of the batch endpoint (/v1/batch). */
#define GW_CALLTYPE_BATCH "batch"

/* Returns the entry of type t (static); t must be below GW_CALL_TYPES. */
const struct gw_calltype *gw_calltype(enum gw_call_type t);

/* Sets *out to the type called name; false when there is none. */
bool gw_calltype_find(const char *name, enum gw_call_type *out);

/* The /v1 endpoint path names (borrowed: "track", "t", "batch", "b",
 * "import"): its canonical name, static ("track", GW_CALLTYPE_BATCH), or NULL
 * when it is none. Aliases: each type's browser name, and "b" and "import"
 * for the batch. */
const char *gw_calltype_endpoint(const char *path);

/* True when field (the first len bytes of name) is one of t's own fields. */
bool gw_calltype_has_field(enum gw_call_type t, const char *name, size_t len);

#endif
