/* schema.h -- typed checks on YAML mapping nodes: allowed keys, required
 * keys, types, one-of choices and ranges. Every failure is a diagnostic at
 * the offending node, and the given value is echoed back.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SCHEMA_H
#define GW_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "yaml.h"

/* Checks that node is a map whose keys are all in the NULL-terminated list
 * allowed. what names the map in messages ("the rules file"). Returns false
 * (with diagnostics) otherwise. Borrows everything. */
bool gw_schema_keys(struct gw_diag *d, const struct gw_node *node, const char *what,
                    const char *const *allowed);

/* Checks node's type; what names it ("key 'source'"). */
bool gw_schema_is(struct gw_diag *d, const struct gw_node *node, enum gw_node_type type,
                  const char *what);

/* Reads the scalar member key of map into *out (borrowed from the node).
 * Absent: an error when required, else *out is left as it is and true is
 * returned. */
bool gw_schema_str(struct gw_diag *d, const struct gw_node *map, const char *key, bool required,
                   const char **out);

/* Reads a boolean (true/false/yes/no/on/off) member. */
bool gw_schema_bool(struct gw_diag *d, const struct gw_node *map, const char *key, bool *out);

/* Parses the scalar node as one of the NULL-terminated choices; *idx is its
 * index. */
bool gw_schema_one_of(struct gw_diag *d, const struct gw_node *node, const char *what,
                      const char *const *choices, size_t *idx);

/* Parses an unsigned integer in [min, max] from a scalar node. */
bool gw_schema_uint(struct gw_diag *d, const struct gw_node *node, const char *what,
                    uint64_t min, uint64_t max, uint64_t *out);

/* Parses a size such as "512KiB", "1MiB", "64k", "1000" (bytes) in [min, max]. */
bool gw_schema_size(struct gw_diag *d, const struct gw_node *node, const char *what,
                    uint64_t min, uint64_t max, uint64_t *out);

/* The same size syntax without a node: returns false on a bad value. */
bool gw_parse_size(const char *s, uint64_t *out);

#endif
