/* catalog.h -- internal to gateway/spec/: the Spec's semantic events and its
 * reserved properties, traits and context fields, as static tables.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_CATALOG_H
#define GW_SPEC_CATALOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "names.h"

/* The value types the Spec documents. A JSON null is accepted for every one
 * of them (the Spec itself sends total_length: null for live video). */
enum gw_catalog_type {
    GW_CATALOG_STRING,
    GW_CATALOG_NUMBER,  /* a JSON int or double, never a numeric string */
    GW_CATALOG_INTEGER, /* a JSON int, or a double with no fraction */
    GW_CATALOG_BOOLEAN,
    GW_CATALOG_OBJECT,
    GW_CATALOG_ARRAY,
    GW_CATALOG_OBJECTS, /* an array whose every item is an object */
    GW_CATALOG_STRINGS, /* an array whose every item is a string */
    GW_CATALOG_DATE,    /* an ISO-8601 date or date-time string */
    GW_CATALOG_STRING_OR_NUMBER,
    GW_CATALOG_STRING_OR_OBJECT,
    GW_CATALOG_STRING_OR_STRINGS,
};

/* One documented field. Lists of fields end with an entry whose name is NULL. */
struct gw_catalog_field {
    const char *name;
    enum gw_catalog_type type;
    /* The documented members of an OBJECT, or of each item of OBJECTS
     * ("products.$.price"); NULL when the Spec does not describe them. */
    const struct gw_catalog_field *nested;
};

struct gw_catalog_event {
    const char *name;     /* exactly as the Spec writes it: "Order Completed" */
    const char *category; /* "E-commerce", "Email", ... */
    const struct gw_catalog_field *props;
};

/* Reserved fields that hold whatever the event or call (field lists). */
extern const struct gw_catalog_field gw_catalog_track_props[];
extern const struct gw_catalog_field gw_catalog_page_props[];
extern const struct gw_catalog_field gw_catalog_screen_props[];
extern const struct gw_catalog_field gw_catalog_identify_traits[];
extern const struct gw_catalog_field gw_catalog_group_traits[];
extern const struct gw_catalog_field gw_catalog_context_fields[];

/* Returns the semantic event named exactly name (static), or NULL. */
const struct gw_catalog_event *gw_catalog_event_find(const char *name);

/* Returns the semantic event that name most likely meant (static), or NULL
 * when none is close. Call it only when gw_catalog_event_find() found
 * nothing. The rule is in docs/internals/spec.md. Borrows name. */
const struct gw_catalog_event *gw_catalog_event_near(const char *name);

/* Returns the field of list named key (static), or NULL. fold compares
 * ignoring case and underscores, as the Spec does for traits ("first_name"
 * is firstName). list may be NULL. */
const struct gw_catalog_field *gw_catalog_field_find(const struct gw_catalog_field *list,
                                                     const char *key, bool fold);

/* The same, for a key hashed already (folded too when fold). The lists are
 * indexed once, on first use: list must be one of this catalog's. */
const struct gw_catalog_field *gw_catalog_field_get(const struct gw_catalog_field *list,
                                                    const struct gw_name_key *key, bool fold);

/* True when key is one of the Spec's own camelCase names (firstName,
 * postalCode, userAgent, groupId, ...), accepted whatever the convention. */
bool gw_catalog_is_spec_key(const char *key);
/* The same, for a key hashed already. */
bool gw_catalog_spec_key(const struct gw_name_key *key);

/* True when val (borrowed, not NULL) has type t. For DATE only the JSON
 * type is checked (a string); the caller checks the ISO-8601 format. Array
 * types check the array itself; see gw_catalog_item_type(). */
bool gw_catalog_type_ok(enum gw_catalog_type t, json_object *val);

/* Sets *out to the type every item of the array field f must have, and
 * returns true; false when f is NULL or its items may be anything. */
bool gw_catalog_item_type(const struct gw_catalog_field *f, enum gw_catalog_type *out);

/* True when s is an ISO-8601 date-time with a zone, with real month, day,
 * hour and minute ranges ("2017-12-15T00:59:29.000Z", "...+01:00"). When
 * not strict (DATE fields) a bare date ("2017-12-15") and a date-time
 * without a zone pass too. Borrows s. */
bool gw_catalog_date_ok(const char *s, bool strict);

/* Returns "a string", "a number", ... for messages (static). */
const char *gw_catalog_type_name(enum gw_catalog_type t);

#endif
