/* value.c -- values and output fields of the rules language, compiled once:
 * paths, templates, fallbacks, transforms, tables, each/fields, count, sum,
 * key/value pairs, targets.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diag.h"
#include "../json.h"
#include "../mem.h"
#include "../schema.h"
#include "../yaml.h"
#include "rule.h"

/* Scalars of a YAML node as JSON: plain true/false/null/numbers keep their type. */
static json_object *scalar_json(const struct gw_node *n)
{
    if (n->plain) {
        if (strcmp(n->scalar, "true") == 0 || strcmp(n->scalar, "false") == 0) {
            return json_object_new_boolean(n->scalar[0] == 't');
        }
        char *end = NULL;
        if (n->scalar[0] != '\0') {
            long long v = strtoll(n->scalar, &end, 10);
            if (*end == '\0') {
                return json_object_new_int64(v);
            }
            double d = strtod(n->scalar, &end);
            if (*end == '\0') {
                return json_object_new_double_s(d, n->scalar);
            }
        }
    }
    return json_object_new_string(n->scalar);
}

json_object *gw_compile_json(const struct gw_node *n)
{
    if (n->type == GW_NODE_SCALAR) {
        return scalar_json(n);
    }
    if (n->type == GW_NODE_SEQ) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n->n; i++) {
            json_object_array_add(a, gw_compile_json(n->items[i]));
        }
        return a;
    }
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < n->n; i++) {
        json_object_object_add(o, n->keys[i]->scalar, gw_compile_json(n->items[i]));
    }
    return o;
}

bool gw_compile_path(const struct gw_node *node, const char *text, struct gw_path *out,
                         struct gw_diag *diag)
{
    const char *why = NULL;
    if (gw_path_compile(text, out, &why) != GW_OK) {
        gw_diag_error(diag, node, "bad path '%s': %s", text, why);
        return false;
    }
    return true;
}

bool gw_compile_template(const struct gw_node *node, const char *text, struct gw_value *out,
                             struct gw_diag *diag)
{
    out->kind = GW_VALUE_TEMPLATE;
    const char *s = text;
    while (*s != '\0') {
        out->parts = gw_realloc(out->parts, (out->n_parts + 1) * sizeof(*out->parts));
        struct gw_template_part *part = &out->parts[out->n_parts];
        memset(part, 0, sizeof(*part));
        if (*s != '{') {
            size_t len = strcspn(s, "{}");
            if (s[len] == '}') {
                gw_diag_error(diag, node, "template '%s' has a '}' without '{'", text);
                return false;
            }
            part->literal = gw_strndup(s, len);
            out->n_parts++;
            s += len;
            continue;
        }
        const char *end = strchr(s, '}');
        if (end == NULL) {
            gw_diag_error(diag, node, "template '%s' has a '{' without '}'", text);
            return false;
        }
        char *inner = gw_strndup(s + 1, (size_t)(end - s - 1));
        bool ok = gw_compile_path(node, inner, &part->path, diag);
        free(inner);
        if (!ok) {
            return false;
        }
        out->n_parts++;
        s = end + 1;
    }
    return true;
}

/* A scalar: a template when it holds '{', else a path. */
static bool compile_scalar_value(const struct gw_node *node, struct gw_value *out,
                                 struct gw_diag *diag)
{
    if (strchr(node->scalar, '{') != NULL || strchr(node->scalar, '}') != NULL) {
        return gw_compile_template(node, node->scalar, out, diag);
    }
    out->kind = GW_VALUE_PATH;
    return gw_compile_path(node, node->scalar, &out->path, diag);
}

static bool add_fields(const struct gw_node *map, struct gw_value *out, struct gw_diag *diag);

/* { each: items, fields: { product_id: id, ... } }: an array of objects. */
static bool compile_each(const struct gw_node *each, const struct gw_node *fields,
                         struct gw_value *out, struct gw_diag *diag)
{
    out->kind = GW_VALUE_EACH;
    if (!gw_schema_is(diag, each, GW_NODE_SCALAR, "'each'") ||
        !gw_compile_path(each, each->scalar, &out->path, diag)) {
        return false;
    }
    return gw_schema_is(diag, fields, GW_NODE_MAP, "'fields'") && add_fields(fields, out, diag);
}

/* { count: path } / { sum: path }: the path must be one that gives an array
 * or a single array value; checked when the event is mapped. */
static bool compile_reduce(const struct gw_node *n, enum gw_value_kind kind, const char *what,
                           struct gw_value *out, struct gw_diag *diag)
{
    out->kind = kind;
    char label[64];
    snprintf(label, sizeof(label), "'%s'", kind == GW_VALUE_COUNT ? "count" : "sum");
    (void)what;
    return gw_schema_is(diag, n, GW_NODE_SCALAR, label) &&
           gw_compile_path(n, n->scalar, &out->path, diag);
}

/* { key: K, value: V, keys: {their: ours} }: an object of one member named
 * by the payload; K is renamed by `keys` (a dotted new name nests), else put
 * in the source's key casing. */
static bool compile_pair(const struct gw_node *node, const char *what, struct gw_value *out,
                         struct gw_diag *diag)
{
    const struct gw_node *val = gw_node_get(node, "value");
    const struct gw_node *keys = gw_node_get(node, "keys");
    out->kind = GW_VALUE_PAIR;
    if (val == NULL) {
        gw_diag_error(diag, node, "%s: 'key' needs 'value' (the member's value)", what);
        return false;
    }
    out->alts = gw_calloc(2, sizeof(*out->alts));
    out->n_alts = 2;
    bool ok = gw_compile_value(gw_node_get(node, "key"), what, &out->alts[0], diag);
    ok = gw_compile_value(val, what, &out->alts[1], diag) && ok;
    if (ok && keys != NULL && gw_schema_is(diag, keys, GW_NODE_MAP, "'keys'")) {
        for (size_t i = 0; i < keys->n; i++) {
            if (!gw_schema_is(diag, keys->items[i], GW_NODE_SCALAR, "a key's new name")) {
                return false;
            }
        }
        out->keys = gw_compile_json(keys);
    } else if (keys != NULL) {
        ok = false;
    }
    return ok;
}

/* `as:` and, for a transform that takes one, its argument (`currency:`). */
static bool compile_as(const struct gw_node *node, struct gw_value *out, struct gw_diag *diag)
{
    const struct gw_node *as = gw_node_get(node, "as");
    const struct gw_node *cur = gw_node_get(node, "currency");
    if (as != NULL && !gw_schema_is(diag, as, GW_NODE_SCALAR, "'as'")) {
        return false;
    }
    if (as != NULL) {
        out->as = gw_transform_find(as->scalar);
        if (out->as == NULL) {
            gw_diag_error(diag, as, "unknown transform '%s'", as->scalar);
            return false;
        }
    }
    if (cur != NULL && (out->as == NULL || out->as->arg == NULL)) {
        gw_diag_error(diag, cur, "'currency' goes with as: minor-units or as: stripe-amount");
        return false;
    }
    if (out->as != NULL && out->as->arg != NULL && cur == NULL) {
        gw_diag_error(diag, as, "as: %s needs 'currency' (the path of the ISO 4217 code)",
                      out->as->name);
        return false;
    }
    if (cur != NULL) {
        out->arg = gw_calloc(1, sizeof(*out->arg));
        return gw_compile_value(cur, "'currency'", out->arg, diag);
    }
    return true;
}

static bool compile_value_map(const struct gw_node *node, const char *what, struct gw_value *out,
                              struct gw_diag *diag)
{
    static const char *const keys[] = {"from",  "template", "const", "each",  "fields",
                                       "count", "sum",      "key",   "value", "keys",
                                       "as",    "currency", "map",   "default", "omit", NULL};
    if (!gw_schema_keys(diag, node, what, keys)) {
        return false;
    }
    const struct gw_node *from = gw_node_get(node, "from");
    const struct gw_node *tpl = gw_node_get(node, "template");
    const struct gw_node *cst = gw_node_get(node, "const");
    const struct gw_node *each = gw_node_get(node, "each");
    const struct gw_node *count = gw_node_get(node, "count");
    const struct gw_node *sum = gw_node_get(node, "sum");
    const struct gw_node *key = gw_node_get(node, "key");
    if ((from != NULL) + (tpl != NULL) + (cst != NULL) + (each != NULL) + (count != NULL) +
            (sum != NULL) + (key != NULL) != 1) {
        gw_diag_error(diag, node, "%s needs exactly one of 'from', 'template', 'const', 'each', "
                      "'count', 'sum' or 'key'", what);
        return false;
    }
    if ((each != NULL) != (gw_node_get(node, "fields") != NULL)) {
        gw_diag_error(diag, node, "%s: 'each' and 'fields' go together", what);
        return false;
    }
    if (key == NULL && (gw_node_get(node, "value") || gw_node_get(node, "keys"))) {
        gw_diag_error(diag, gw_node_get(node, "value") ? gw_node_get(node, "value")
                                                        : gw_node_get(node, "keys"),
                      "%s: 'value' and 'keys' go with 'key'", what);
        return false;
    }
    bool ok = true;
    if (each != NULL) {
        ok = compile_each(each, gw_node_get(node, "fields"), out, diag);
    } else if (from != NULL) {
        ok = gw_compile_value(from, what, out, diag);
    } else if (tpl != NULL) {
        ok = gw_schema_is(diag, tpl, GW_NODE_SCALAR, "'template'") &&
             gw_compile_template(tpl, tpl->scalar, out, diag);
    } else if (count != NULL || sum != NULL) {
        ok = compile_reduce(count ? count : sum, count ? GW_VALUE_COUNT : GW_VALUE_SUM, what,
                            out, diag);
    } else if (key != NULL) {
        ok = compile_pair(node, what, out, diag);
    } else {
        out->kind = GW_VALUE_CONST;
        out->constant = gw_compile_json(cst);
    }
    ok = ok && compile_as(node, out, diag);
    const struct gw_node *table = gw_node_get(node, "map");
    if (ok && table != NULL) {
        ok = gw_schema_is(diag, table, GW_NODE_MAP, "'map'");
        out->table = ok ? gw_compile_json(table) : NULL;
    }
    const struct gw_node *dflt = gw_node_get(node, "default");
    if (ok && dflt != NULL) {
        out->dflt = gw_compile_json(dflt);
    }
    const struct gw_node *omit = gw_node_get(node, "omit");
    if (ok && omit != NULL) {
        ok = gw_schema_is(diag, omit, GW_NODE_SEQ, "'omit'");
        out->omit = ok ? gw_compile_json(omit) : NULL;
        /* kept as the texts they are compared by: a request reads them and
         * never has json-c serialize a shared number in place */
        for (size_t i = 0; out->omit != NULL && i < json_object_array_length(out->omit); i++) {
            json_object *e = json_object_array_get_idx(out->omit, i);
            const char *text = json_object_is_type(e, json_type_string) ? NULL
                                                                        : gw_json_scalar_text(e);
            if (text != NULL) {
                json_object_array_put_idx(out->omit, i, json_object_new_string(text));
            }
        }
    }
    return ok;
}

bool gw_compile_value(const struct gw_node *node, const char *what, struct gw_value *out,
                      struct gw_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (node->type == GW_NODE_SCALAR) {
        return compile_scalar_value(node, out, diag);
    }
    if (node->type == GW_NODE_MAP) {
        return compile_value_map(node, what, out, diag);
    }
    if (node->n == 0) {
        gw_diag_error(diag, node, "%s: an empty list of fallbacks", what);
        return false;
    }
    out->kind = GW_VALUE_FIRST;
    out->alts = gw_calloc(node->n, sizeof(*out->alts));
    out->n_alts = node->n;
    bool ok = true;
    for (size_t i = 0; i < node->n; i++) {
        ok = gw_compile_value(node->items[i], what, &out->alts[i], diag) && ok;
    }
    return ok;
}

void gw_value_fini(struct gw_value *v)
{
    gw_path_fini(&v->path);
    for (size_t i = 0; i < v->n_parts; i++) {
        free(v->parts[i].literal);
        gw_path_fini(&v->parts[i].path);
    }
    GW_FREE(v->parts);
    for (size_t i = 0; i < v->n_alts; i++) {
        gw_value_fini(&v->alts[i]);
    }
    GW_FREE(v->alts);
    for (size_t i = 0; i < v->n_fields; i++) {
        gw_target_fini(&v->fields[i]);
    }
    GW_FREE(v->fields);
    if (v->arg != NULL) {
        gw_value_fini(v->arg);
        free(v->arg);
    }
    json_object_put(v->keys);
    json_object_put(v->constant);
    json_object_put(v->table);
    json_object_put(v->dflt);
    json_object_put(v->omit);
    memset(v, 0, sizeof(*v));
}

void gw_value_set_key_casing(struct gw_value *v, enum gw_casing c)
{
    v->key_casing = c;
    for (size_t i = 0; i < v->n_alts; i++) {
        gw_value_set_key_casing(&v->alts[i], c);
    }
    for (size_t i = 0; i < v->n_fields; i++) {
        gw_value_set_key_casing(&v->fields[i].value, c);
    }
}

/* The first segment of an output field decides where it may go. */
static bool target_root(const char *field, enum gw_target_root *root)
{
    static const struct {
        const char *name;
        enum gw_target_root root;
        bool nested; /* takes sub-keys ("properties.x") rather than a value */
    } roots[] = {
        {"userId", GW_TGT_USER_ID, false},         {"anonymousId", GW_TGT_ANONYMOUS_ID, false},
        {"timestamp", GW_TGT_TIMESTAMP, false},    {"groupId", GW_TGT_GROUP_ID, false},
        {"previousId", GW_TGT_PREVIOUS_ID, false}, {"name", GW_TGT_NAME, false},
        {"category", GW_TGT_CATEGORY, false},      {"properties", GW_TGT_PROPERTIES, true},
        {"traits", GW_TGT_TRAITS, true},           {"context", GW_TGT_CONTEXT, true},
        {"integrations", GW_TGT_INTEGRATIONS, true},
    };
    size_t head = strcspn(field, ".");
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        if (strlen(roots[i].name) == head && strncmp(field, roots[i].name, head) == 0) {
            *root = roots[i].root;
            /* a nested root alone ("properties") merges an object into it */
            return roots[i].nested ? field[head] == '\0' || field[head + 1] != '\0'
                                   : field[head] == '\0';
        }
    }
    return false;
}

static bool valid_field(const char *field)
{
    for (const char *s = field; *s; s++) {
        if (*s == '.' && (s == field || s[1] == '.' || s[1] == '\0')) {
            return false;
        }
        if (*s == '[' || *s == ']' || *s == '{' || *s == '}' || *s == '$') {
            return false;
        }
    }
    return field[0] != '\0';
}

static bool compile_target(const struct gw_node *key, const struct gw_node *val,
                           const char *prefix, struct gw_target *out, struct gw_diag *diag)
{
    memset(out, 0, sizeof(*out));
    char *field = gw_asprintf("%s%s", prefix, key->scalar);
    out->line = key->line;
    out->col = key->col;
    bool known = valid_field(key->scalar) && target_root(field, &out->root);
    gw_target_set_field(out, field);
    if (!known) {
        gw_diag_error(diag, key,
                      "'%s' is not an output field (use userId, anonymousId, timestamp, groupId, "
                      "previousId, name, category, or properties[.*], traits[.*], context[.*], "
                      "integrations[.*])",
                      out->field);
        return false;
    }
    if (strcmp(out->field, "context.integration") == 0 ||
        strncmp(out->field, "context.integration.", 20) == 0) {
        gw_diag_error(diag, key, "context.integration is set from the file's 'integration' key");
        return false;
    }
    char what[300];
    snprintf(what, sizeof(what), "'%s'", out->field);
    return gw_compile_value(val, what, &out->value, diag);
}

void gw_target_set_field(struct gw_target *t, char *field)
{
    t->field = field;
    t->n_keys = 0;
    t->own_keys = false;
    for (const char *s = field;; s++) {
        size_t len = strcspn(s, ".");
        t->keys = gw_realloc(t->keys, (t->n_keys + 1) * sizeof(*t->keys));
        t->keys[t->n_keys] = gw_json_key_intern(s, len);
        t->own_keys = t->own_keys || t->keys[t->n_keys] == NULL;
        t->n_keys++;
        s += len;
        if (*s == '\0') {
            break;
        }
    }
    for (size_t i = 0, at = 0; t->own_keys && i < t->n_keys; i++) {
        size_t len = strcspn(field + at, ".");
        t->keys[i] = gw_strndup(field + at, len);
        at += len + 1;
    }
    /* a target under one of the type-specific roots (properties, traits,
     * name, groupId, ...) goes only into calls that have that field */
    t->fits = 0;
    for (unsigned k = 0; k < GW_CALL_TYPES; k++) {
        bool fits = true;
        switch (t->root) {
        case GW_TGT_GROUP_ID:
        case GW_TGT_PREVIOUS_ID:
        case GW_TGT_NAME:
        case GW_TGT_CATEGORY:
        case GW_TGT_PROPERTIES:
        case GW_TGT_TRAITS:
            fits = gw_calltype_has_field((enum gw_call_type)k, field, strcspn(field, "."));
            break;
        default:
            break;
        }
        t->fits |= fits ? 1u << k : 0u;
    }
}

void gw_target_fini(struct gw_target *t)
{
    free(t->field);
    for (size_t i = 0; t->own_keys && i < t->n_keys; i++) {
        free((char *)t->keys[i]);
    }
    GW_FREE(t->keys);
    t->n_keys = 0;
    gw_value_fini(&t->value);
}

/* The fields of an `each`: plain keys (dotted for nesting), any value form. */
static bool add_fields(const struct gw_node *map, struct gw_value *out, struct gw_diag *diag)
{
    bool ok = true;
    out->fields = gw_calloc(map->n ? map->n : 1, sizeof(*out->fields));
    for (size_t i = 0; i < map->n; i++) {
        struct gw_target *t = &out->fields[out->n_fields++];
        gw_target_set_field(t, gw_strdup(map->keys[i]->scalar));
        t->line = map->keys[i]->line;
        t->col = map->keys[i]->col;
        if (!valid_field(t->field)) {
            gw_diag_error(diag, map->keys[i], "'%s' is not a valid field name", t->field);
            ok = false;
            continue;
        }
        char what[300];
        snprintf(what, sizeof(what), "'%s'", t->field);
        ok = gw_compile_value(map->items[i], what, &t->value, diag) && ok;
    }
    return ok;
}

/* Adds every pair of map as a target named prefix + key. */
bool gw_compile_targets(const struct gw_node *map, const char *prefix, struct gw_target **v,
                        size_t *n, struct gw_diag *diag)
{
    bool ok = true;
    *v = gw_realloc(*v, (*n + map->n) * sizeof(**v));
    for (size_t i = 0; i < map->n; i++) {
        if (compile_target(map->keys[i], map->items[i], prefix, &(*v)[*n], diag)) {
            (*n)++;
        } else {
            gw_target_fini(&(*v)[*n]);
            ok = false;
        }
    }
    return ok;
}

