/* plan.h -- internal to gateway/spec/: reading a tracking plan.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_PLAN_H
#define GW_SPEC_PLAN_H

#include "catalog.h"
#include "spec.h"

struct gw_plan_prop {
    char *name;
    enum gw_catalog_type type;
    bool required;
};

struct gw_plan_event {
    char *name;
    struct gw_plan_prop *props;
    size_t n;
};

struct gw_spec_plan {
    bool strict;
    struct gw_plan_event *events;
    size_t n;
};

/* Returns the planned event named name (borrowed), or NULL. */
const struct gw_plan_event *gw_plan_find(const struct gw_spec_plan *p, const char *name);

#endif
