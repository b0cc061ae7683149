/* spec.h -- the Segment Spec: validation of one call, naming conventions,
 * and the catalog of semantic events.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_H
#define GW_SPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "../rc.h"
#include "../violation.h"

/* Segment's limits (reference/segment-spec.md section 1.4). */
#define GW_SPEC_MAX_CALL_BYTES 32000
#define GW_SPEC_MAX_CALLS 2500
#define GW_SPEC_MAX_MESSAGE_ID 100

/* The five naming conventions the Spec lists. */
enum gw_casing {
    GW_CASING_PROPER,   /* "Email Link Clicked" (small words such as "as" may stay lower) */
    GW_CASING_SNAKE,    /* "email_link_clicked" */
    GW_CASING_CAMEL,    /* "emailLinkClicked" */
    GW_CASING_LOWER,    /* "email link clicked" */
    GW_CASING_SENTENCE, /* "Email link clicked" */
};

/* Parses a convention's name: "Proper Case"/"proper", "snake_case"/"snake",
 * "camelCase"/"camel", "all lowercase"/"lower", "Sentence case"/"sentence". */
enum gw_rc gw_casing_parse(const char *name, enum gw_casing *out) GW_WUR;
/* Returns the convention's display name ("Proper Case", ...), static. */
const char *gw_casing_name(enum gw_casing c);
/* True when s follows convention c. */
bool gw_casing_check(enum gw_casing c, const char *s);
/* Returns new string: s converted to convention c ("orders/create" ->
 * "Orders Create" in Proper Case, "firstName" -> "first_name" in snake_case). */
char *gw_casing_convert(enum gw_casing c, const char *s);
/* The same into out (cap bytes), without allocating; returns false, and
 * writes nothing, when cap is under 2 * strlen(s) + 1 (the most a
 * conversion can take). */
bool gw_casing_convert_to(enum gw_casing c, const char *s, char *out, size_t cap);

/* A tracking plan (the Protocols idea): planned track events, each with
 * its properties, their types, and which are required. */
struct gw_spec_plan;

/* Returns a new, empty plan. strict: an unplanned event is a violation. */
struct gw_spec_plan *gw_spec_plan_create(bool strict);
/* NULL is a no-op. */
void gw_spec_plan_destroy(struct gw_spec_plan *p);
/* Plans an event (borrows name; copies it). Returns GW_ERR_INVALID when it
 * is planned already. */
enum gw_rc gw_spec_plan_add_event(struct gw_spec_plan *p, const char *event) GW_WUR;
/* Plans a property of the event added last. type is one of: string, number,
 * integer, boolean, object, array, date. GW_ERR_INVALID for an unknown type,
 * a property planned twice, or no event yet. */
enum gw_rc gw_spec_plan_add_property(struct gw_spec_plan *p, const char *name, const char *type,
                                     bool required) GW_WUR;

/* What a source expects of its calls. */
struct gw_spec_opts {
    const char *integration;    /* borrowed: the source's slug; context.integration.name must
                                   equal it. NULL: any slug is accepted */
    enum gw_casing event_casing; /* default GW_CASING_PROPER */
    enum gw_casing key_casing;   /* property and trait keys; default GW_CASING_SNAKE */
    bool allow_anonymous;        /* accept calls with anonymousId but no userId; default false */
    const struct gw_spec_plan *plan; /* borrowed tracking plan, or NULL (default) */
};

/* Fills o with the defaults above. */
void gw_spec_opts_init(struct gw_spec_opts *o);

/* Validates one call (a JSON object as it would be sent to Segment).
 * Appends one violation per broken rule to violations (borrowed), with
 * index as its index; its event is the track event name, or the call type
 * for other calls ("identify"); its field a path into the call ("userId",
 * "properties.products[2].price").
 * Borrows call and opts. Returns the number of violations appended. */
size_t gw_spec_validate(const struct gw_spec_opts *opts, json_object *call, size_t index,
                        struct gw_violations *violations);

/* Appends a "size" violation when a call serialized to len bytes is over
 * GW_SPEC_MAX_CALL_BYTES. event borrows the name used in the violation.
 * Returns the number of violations appended (0 or 1). */
size_t gw_spec_check_size(size_t len, size_t index, const char *event,
                          struct gw_violations *violations);

#endif
