/* schema.c -- typed checks on YAML mapping nodes.
 * SPDX-License-Identifier: MIT */
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

static char *join_choices(const char *const *list)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; list[i] != NULL; i++) {
        enum gw_rc rc = gw_buf_printf(&b, "%s%s", i ? ", " : "", list[i]);
        GW_ASSERT(rc == GW_OK);
    }
    return gw_buf_detach(&b);
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool gw_schema_keys(struct gw_diag *d, const struct gw_node *node, const char *what,
                    const char *const *allowed)
{
    if (!gw_schema_is(d, node, GW_NODE_MAP, what)) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < node->n; i++) {
        if (!in_list(node->keys[i]->scalar, allowed)) {
            char *choices = join_choices(allowed);
            gw_diag_error(d, node->keys[i], "unknown key '%s' in %s (expected one of: %s)",
                          node->keys[i]->scalar, what, choices);
            free(choices);
            ok = false;
        }
    }
    return ok;
}

bool gw_schema_is(struct gw_diag *d, const struct gw_node *node, enum gw_node_type type,
                  const char *what)
{
    if (node->type == type) {
        return true;
    }
    static const char *const names[] = {"a string", "a list", "a map"};
    gw_diag_error(d, node, "%s must be %s, not %s", what, names[type], gw_node_kind(node));
    return false;
}

bool gw_schema_str(struct gw_diag *d, const struct gw_node *map, const char *key, bool required,
                   const char **out)
{
    const struct gw_node *v = gw_node_get(map, key);
    if (v == NULL) {
        if (required) {
            gw_diag_error(d, map, "key '%s' is required", key);
        }
        return !required;
    }
    char what[128];
    snprintf(what, sizeof(what), "key '%s'", key);
    if (!gw_schema_is(d, v, GW_NODE_SCALAR, what)) {
        return false;
    }
    if (v->scalar[0] == '\0') {
        gw_diag_error(d, v, "key '%s' must not be empty", key);
        return false;
    }
    *out = v->scalar;
    return true;
}

bool gw_schema_bool(struct gw_diag *d, const struct gw_node *map, const char *key, bool *out)
{
    static const char *const choices[] = {"true", "false", "yes", "no", "on", "off", NULL};
    const struct gw_node *v = gw_node_get(map, key);
    size_t idx;
    if (v == NULL) {
        return true;
    }
    char what[128];
    snprintf(what, sizeof(what), "key '%s'", key);
    if (!gw_schema_one_of(d, v, what, choices, &idx)) {
        return false;
    }
    *out = idx % 2 == 0;
    return true;
}

bool gw_schema_one_of(struct gw_diag *d, const struct gw_node *node, const char *what,
                      const char *const *choices, size_t *idx)
{
    if (!gw_schema_is(d, node, GW_NODE_SCALAR, what)) {
        return false;
    }
    for (size_t i = 0; choices[i] != NULL; i++) {
        if (strcmp(node->scalar, choices[i]) == 0) {
            *idx = i;
            return true;
        }
    }
    char *list = join_choices(choices);
    gw_diag_error(d, node, "%s must be one of: %s (was given '%s')", what, list, node->scalar);
    free(list);
    return false;
}

bool gw_schema_uint(struct gw_diag *d, const struct gw_node *node, const char *what,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    if (!gw_schema_is(d, node, GW_NODE_SCALAR, what)) {
        return false;
    }
    const char *s = node->scalar;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 || v < min || v > max) {
        gw_diag_error(d, node, "%s must be a whole number from %llu to %llu (was given '%s')",
                      what, (unsigned long long)min, (unsigned long long)max, s);
        return false;
    }
    *out = v;
    return true;
}

bool gw_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {{"", 1},          {"B", 1},           {"k", 1000},        {"K", 1000},
                 {"KB", 1000},     {"KiB", 1024},      {"M", 1000000},     {"MB", 1000000},
                 {"MiB", 1 << 20}, {"G", 1000000000}, {"GB", 1000000000}, {"GiB", 1 << 30}};
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)s[0])) {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return false;
    }
    while (*end == ' ') {
        end++;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            if (v > UINT64_MAX / units[i].mult) {
                return false;
            }
            *out = v * units[i].mult;
            return true;
        }
    }
    return false;
}

bool gw_schema_size(struct gw_diag *d, const struct gw_node *node, const char *what,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    if (!gw_schema_is(d, node, GW_NODE_SCALAR, what)) {
        return false;
    }
    uint64_t v = 0;
    if (!gw_parse_size(node->scalar, &v) || v < min || v > max) {
        gw_diag_error(d, node,
                      "%s must be a size from %llu to %llu bytes such as 512KiB (was given '%s')",
                      what, (unsigned long long)min, (unsigned long long)max, node->scalar);
        return false;
    }
    *out = v;
    return true;
}
