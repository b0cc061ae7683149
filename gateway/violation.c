/* violation.c -- violations as values, and their one JSON form.
 * SPDX-License-Identifier: MIT */
#include "violation.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char *const rule_names[GW_RULE_COUNT] = {
    [GW_RULE_REQUIRED] = "required",       [GW_RULE_TYPE] = "type",
    [GW_RULE_FORMAT] = "format",           [GW_RULE_CASING] = "casing",
    [GW_RULE_INTEGRATION] = "integration", [GW_RULE_SIZE] = "size",
    [GW_RULE_SEMANTIC] = "semantic",       [GW_RULE_UNPLANNED] = "unplanned",
};

const char *gw_violation_rule_name(enum gw_violation_rule rule)
{
    return (unsigned)rule < GW_RULE_COUNT ? rule_names[rule] : "unknown";
}

void gw_violations_init(struct gw_violations *l)
{
    memset(l, 0, sizeof(*l));
}

void gw_violations_fini(struct gw_violations *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].event);
        free(l->v[i].field);
        free(l->v[i].message);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void gw_violations_add(struct gw_violations *l, size_t index, const char *event,
                       const char *field, enum gw_violation_rule rule, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = gw_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = (struct gw_violation){
        .index = index,
        .event = gw_strdup(event ? event : ""),
        .field = gw_strdup(field),
        .rule = rule,
        .message = gw_strdup(msg),
    };
}

json_object *gw_violation_json(const struct gw_violation *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "index", json_object_new_int64((int64_t)v->index));
    json_object_object_add(o, "event", json_object_new_string(v->event));
    json_object_object_add(o, "field", json_object_new_string(v->field));
    json_object_object_add(o, "rule", json_object_new_string(gw_violation_rule_name(v->rule)));
    json_object_object_add(o, "message", json_object_new_string(v->message));
    return o;
}

json_object *gw_violations_json(const struct gw_violations *l)
{
    json_object *a = json_object_new_array_ext(l->n ? (int)l->n : 1);
    for (size_t i = 0; i < l->n; i++) {
        json_object_array_add(a, gw_violation_json(&l->v[i]));
    }
    return a;
}
