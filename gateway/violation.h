/* violation.h -- one broken rule of one call: the index of the webhook event
 * (or API call) it came from, the event, the field, the rule and a sentence.
 * Built by mapping and by spec, serialized to JSON in one place.
 * SPDX-License-Identifier: MIT */
#ifndef GW_VIOLATION_H
#define GW_VIOLATION_H

#include <json-c/json.h>
#include <stddef.h>

#include "rc.h"

/* The rules a violation can break; gw_violation_rule_name() gives their
 * names as answers, reports and metric labels show them. */
enum gw_violation_rule {
    GW_RULE_REQUIRED,
    GW_RULE_TYPE,
    GW_RULE_FORMAT,
    GW_RULE_CASING,
    GW_RULE_INTEGRATION,
    GW_RULE_SIZE,
    GW_RULE_SEMANTIC,
    GW_RULE_UNPLANNED,
    GW_RULE_COUNT
};

/* Returns the rule's static name ("required", "type", ...), or "unknown". */
const char *gw_violation_rule_name(enum gw_violation_rule rule);

struct gw_violation {
    size_t index;  /* the event (or call) of the request it belongs to */
    char *event;   /* the track event name, or the call type ("identify") */
    char *field;   /* a path into the call ("properties.products[2].price") */
    enum gw_violation_rule rule;
    char *message; /* what is wrong and how to fix it, fit for the partner */
};

/* A growable list; zero-initialized is an empty list. */
struct gw_violations {
    struct gw_violation *v;
    size_t n;
    size_t cap;
};

void gw_violations_init(struct gw_violations *l);
/* Frees every violation; l is empty after. A zeroed list is a no-op. */
void gw_violations_fini(struct gw_violations *l);

/* Appends a violation; event, field and the formatted message are copied
 * (event NULL is ""). */
void gw_violations_add(struct gw_violations *l, size_t index, const char *event,
                       const char *field, enum gw_violation_rule rule, const char *fmt, ...)
    GW_PRINTF(6, 7);

/* Returns a new JSON object {"index","event","field","rule","message"}. */
json_object *gw_violation_json(const struct gw_violation *v);
/* Returns a new JSON array of every violation of l, in order. */
json_object *gw_violations_json(const struct gw_violations *l);

#endif
