/* yaml.c -- libyaml events to a positioned node tree.
 * SPDX-License-Identifier: MIT */
#include "yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "diag.h"
#include "mem.h"

/* Deeper than this is not a configuration a person wrote. */
#define MAX_DEPTH 64

struct parser {
    yaml_parser_t yp;
    const char *file;
    struct gw_diag *diag;
    int depth;
};

static void node_free(struct gw_node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys != NULL) {
            node_free(n->keys[i]);
        }
    }
    free(n->items);
    free(n->keys);
    free(n->scalar);
    free(n);
}

static struct gw_node *node_new(struct parser *p, enum gw_node_type t, const yaml_event_t *ev)
{
    struct gw_node *n = gw_calloc(1, sizeof(*n));
    n->type = t;
    n->file = p->file;
    n->line = (unsigned)ev->start_mark.line + 1;
    n->col = (unsigned)ev->start_mark.column + 1;
    return n;
}

static void node_push(struct gw_node *parent, struct gw_node *key, struct gw_node *val)
{
    parent->items = gw_realloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
    if (parent->type == GW_NODE_MAP) {
        parent->keys = gw_realloc(parent->keys, (parent->n + 1) * sizeof(*parent->keys));
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = val;
}

static bool next_event(struct parser *p, yaml_event_t *ev)
{
    if (yaml_parser_parse(&p->yp, ev)) {
        return true;
    }
    unsigned line = (unsigned)p->yp.problem_mark.line + 1;
    unsigned col = (unsigned)p->yp.problem_mark.column + 1;
    if (p->yp.context != NULL) {
        gw_diag_error_at(p->diag, p->file, line, col, "invalid YAML: %s %s", p->yp.problem,
                         p->yp.context);
    } else {
        gw_diag_error_at(p->diag, p->file, line, col, "invalid YAML: %s",
                         p->yp.problem ? p->yp.problem : "unknown error");
    }
    return false;
}

static struct gw_node *parse_node(struct parser *p, yaml_event_t *ev);

/* Reads items until the closing event; returns false on error. */
static bool parse_children(struct parser *p, struct gw_node *parent, yaml_event_type_t end)
{
    for (;;) {
        yaml_event_t ev;
        if (!next_event(p, &ev)) {
            return false;
        }
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return true;
        }
        struct gw_node *key = NULL;
        if (parent->type == GW_NODE_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                gw_diag_error_at(p->diag, p->file, (unsigned)ev.start_mark.line + 1,
                                 (unsigned)ev.start_mark.column + 1,
                                 "mapping keys must be plain strings");
                yaml_event_delete(&ev);
                return false;
            }
            key = parse_node(p, &ev);
            if (key == NULL) {
                return false;
            }
            if (gw_node_get(parent, key->scalar) != NULL) {
                gw_diag_error(p->diag, key, "duplicate key '%s'", key->scalar);
            }
            if (!next_event(p, &ev)) {
                node_free(key);
                return false;
            }
        }
        struct gw_node *val = parse_node(p, &ev);
        if (val == NULL) {
            node_free(key);
            return false;
        }
        node_push(parent, key, val);
    }
}

/* Takes ev (deletes it). Returns a new node or NULL after a diagnostic. */
static struct gw_node *parse_node(struct parser *p, yaml_event_t *ev)
{
    struct gw_node *n = NULL;
    const char *what = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor != NULL || (ev->data.scalar.tag != NULL &&
                                                !ev->data.scalar.plain_implicit &&
                                                !ev->data.scalar.quoted_implicit)) {
            what = "anchors and tags are not supported";
            break;
        }
        n = node_new(p, GW_NODE_SCALAR, ev);
        n->scalar = gw_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (strlen(n->scalar) != ev->data.scalar.length) {
            what = "NUL bytes are not allowed in strings";
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if ((is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor) != NULL) {
            what = "anchors and tags are not supported";
            break;
        }
        if (p->depth >= MAX_DEPTH) {
            what = "nested too deeply";
            break;
        }
        n = node_new(p, is_seq ? GW_NODE_SEQ : GW_NODE_MAP, ev);
        p->depth++;
        bool ok = parse_children(p, n, is_seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT);
        p->depth--;
        if (!ok) {
            node_free(n);
            n = NULL;
        }
        break;
    }
    case YAML_ALIAS_EVENT:
        what = "aliases (*name) are not supported";
        break;
    default:
        what = "unexpected YAML event";
        break;
    }
    if (what != NULL) {
        gw_diag_error_at(p->diag, p->file, (unsigned)ev->start_mark.line + 1,
                         (unsigned)ev->start_mark.column + 1, "%s", what);
        node_free(n);
        n = NULL;
    }
    yaml_event_delete(ev);
    return n;
}

/* Expects one of the stream/document framing events. */
static bool expect(struct parser *p, yaml_event_type_t t, yaml_event_t *ev)
{
    if (!next_event(p, ev)) {
        return false;
    }
    if (ev->type != t) {
        gw_diag_error_at(p->diag, p->file, (unsigned)ev->start_mark.line + 1,
                         (unsigned)ev->start_mark.column + 1,
                         "expected a single YAML document");
        yaml_event_delete(ev);
        return false;
    }
    return true;
}

static enum gw_rc parse_doc(struct parser *p, struct gw_doc *doc)
{
    yaml_event_t ev;
    if (!expect(p, YAML_STREAM_START_EVENT, &ev)) {
        return GW_ERR_INVALID;
    }
    yaml_event_delete(&ev);
    if (!next_event(p, &ev)) {
        return GW_ERR_INVALID;
    }
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return GW_OK;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (!next_event(p, &ev)) {
        return GW_ERR_INVALID;
    }
    doc->root = parse_node(p, &ev);
    if (doc->root == NULL || !expect(p, YAML_DOCUMENT_END_EVENT, &ev)) {
        return GW_ERR_INVALID;
    }
    yaml_event_delete(&ev);
    if (!expect(p, YAML_STREAM_END_EVENT, &ev)) {
        return GW_ERR_INVALID;
    }
    yaml_event_delete(&ev);
    return GW_OK;
}

enum gw_rc gw_yaml_parse(const char *buf, size_t len, const char *display_name,
                         struct gw_doc **out, struct gw_diag *diag)
{
    struct gw_doc *doc = gw_calloc(1, sizeof(*doc));
    doc->file = gw_strdup(display_name);
    struct parser p = {.file = doc->file, .diag = diag};
    if (!yaml_parser_initialize(&p.yp)) {
        gw_fatal("out of memory");
    }
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)buf, len);
    size_t before = gw_diag_errors(diag);
    enum gw_rc rc = parse_doc(&p, doc);
    yaml_parser_delete(&p.yp);
    if (rc == GW_OK && gw_diag_errors(diag) > before) {
        rc = GW_ERR_INVALID; /* duplicate keys are reported without stopping */
    }
    if (rc != GW_OK) {
        gw_yaml_free(doc);
        return rc;
    }
    *out = doc;
    return GW_OK;
}

enum gw_rc gw_yaml_parse_file(const char *path, struct gw_doc **out, struct gw_diag *diag)
{
    enum gw_rc rc = GW_ERR_IO;
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        gw_diag_error_at(diag, path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (gw_buf_add(&b, chunk, n) != GW_OK) {
            gw_diag_error_at(diag, path, 0, 0, "file is larger than 16 MiB");
            goto out;
        }
    }
    if (ferror(f)) {
        gw_diag_error_at(diag, path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    rc = gw_yaml_parse(gw_buf_str(&b), b.len, path, out, diag);
out:
    if (f != NULL) {
        fclose(f);
    }
    gw_buf_fini(&b);
    return rc;
}

void gw_yaml_free(struct gw_doc *doc)
{
    if (doc == NULL) {
        return;
    }
    node_free(doc->root);
    free(doc->file);
    free(doc);
}

struct gw_node *gw_node_get(const struct gw_node *map, const char *key)
{
    if (map == NULL || map->type != GW_NODE_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->scalar, key) == 0) {
            return map->items[i];
        }
    }
    return NULL;
}

const char *gw_node_kind(const struct gw_node *node)
{
    switch (node->type) {
    case GW_NODE_SCALAR:
        return "a string";
    case GW_NODE_SEQ:
        return "a list";
    case GW_NODE_MAP:
        return "a map";
    }
    return "?";
}

bool gw_node_is_null(const struct gw_node *node)
{
    return node->type == GW_NODE_SCALAR && node->plain &&
           (node->scalar[0] == '\0' || strcmp(node->scalar, "~") == 0 ||
            strcmp(node->scalar, "null") == 0);
}
