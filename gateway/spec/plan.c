/* plan.c -- tracking plans: planned events, their properties and types.
 * SPDX-License-Identifier: MIT */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../mem.h"

struct gw_spec_plan *gw_spec_plan_create(bool strict)
{
    struct gw_spec_plan *p = gw_calloc(1, sizeof(*p));
    p->strict = strict;
    return p;
}

void gw_spec_plan_destroy(struct gw_spec_plan *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        for (size_t k = 0; k < p->events[i].n; k++) {
            free(p->events[i].props[k].name);
        }
        free(p->events[i].props);
        free(p->events[i].name);
    }
    free(p->events);
    free(p);
}

const struct gw_plan_event *gw_plan_find(const struct gw_spec_plan *p, const char *name)
{
    for (size_t i = 0; p != NULL && i < p->n; i++) {
        if (strcmp(p->events[i].name, name) == 0) {
            return &p->events[i];
        }
    }
    return NULL;
}

enum gw_rc gw_spec_plan_add_event(struct gw_spec_plan *p, const char *event)
{
    if (gw_plan_find(p, event) != NULL) {
        return GW_ERR_INVALID;
    }
    p->events = gw_realloc(p->events, (p->n + 1) * sizeof(*p->events));
    p->events[p->n++] = (struct gw_plan_event){.name = gw_strdup(event)};
    return GW_OK;
}

static bool parse_type(const char *s, enum gw_catalog_type *out)
{
    static const struct {
        const char *name;
        enum gw_catalog_type type;
    } types[] = {{"string", GW_CATALOG_STRING},   {"number", GW_CATALOG_NUMBER},
                 {"integer", GW_CATALOG_INTEGER}, {"boolean", GW_CATALOG_BOOLEAN},
                 {"object", GW_CATALOG_OBJECT},   {"array", GW_CATALOG_ARRAY},
                 {"date", GW_CATALOG_DATE}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return true;
        }
    }
    return false;
}

enum gw_rc gw_spec_plan_add_property(struct gw_spec_plan *p, const char *name, const char *type,
                                     bool required)
{
    enum gw_catalog_type t;
    if (p->n == 0 || !parse_type(type, &t)) {
        return GW_ERR_INVALID;
    }
    struct gw_plan_event *ev = &p->events[p->n - 1];
    for (size_t i = 0; i < ev->n; i++) {
        if (strcmp(ev->props[i].name, name) == 0) {
            return GW_ERR_INVALID;
        }
    }
    ev->props = gw_realloc(ev->props, (ev->n + 1) * sizeof(*ev->props));
    ev->props[ev->n++] = (struct gw_plan_prop){gw_strdup(name), t, required};
    return GW_OK;
}
