/* yaml.h -- libyaml to a node tree in which every node keeps its file, line
 * and column, so that later checks can point at the offending text.
 * SPDX-License-Identifier: MIT */
#ifndef GW_YAML_H
#define GW_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

struct gw_diag;

enum gw_node_type { GW_NODE_SCALAR, GW_NODE_SEQ, GW_NODE_MAP };

struct gw_node {
    enum gw_node_type type;
    const char *file; /* borrowed from the document */
    unsigned line;    /* 1-based */
    unsigned col;     /* 1-based */
    char *scalar;     /* GW_NODE_SCALAR: the text */
    bool plain;       /* GW_NODE_SCALAR: unquoted (so `null`, `true` may mean those) */
    size_t n;         /* items of a sequence, or pairs of a mapping */
    struct gw_node **items; /* sequence items, or mapping values */
    struct gw_node **keys;  /* mapping keys (scalars), parallel to items */
};

struct gw_doc {
    char *file;
    struct gw_node *root; /* NULL for an empty document */
};

/* Parses buf (borrowed) as one YAML document. display_name names it in
 * diagnostics. Anchors, aliases, tags, non-scalar keys and duplicate keys are
 * refused. On success *out is a new document (free with gw_yaml_free); on
 * GW_ERR_INVALID the reasons are in diag and *out is untouched. */
enum gw_rc gw_yaml_parse(const char *buf, size_t len, const char *display_name,
                         struct gw_doc **out, struct gw_diag *diag) GW_WUR;

/* Reads path and parses it; an unreadable file is one diagnostic. */
enum gw_rc gw_yaml_parse_file(const char *path, struct gw_doc **out, struct gw_diag *diag) GW_WUR;

/* NULL is a no-op. */
void gw_yaml_free(struct gw_doc *doc);

/* Returns the value of key in a mapping node, borrowed, or NULL. */
struct gw_node *gw_node_get(const struct gw_node *map, const char *key);

/* Returns a static name for the node's type: "a string", "a list", "a map". */
const char *gw_node_kind(const struct gw_node *node);

/* True when node is a plain scalar spelling YAML null ("", "~", "null"). */
bool gw_node_is_null(const struct gw_node *node);

#endif
