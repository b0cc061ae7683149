/* compile.c -- validate a rules document and convert it, once, into a
 * struct gw_source: paths parsed, transforms resolved, names checked. What
 * remains per request is evaluation only.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diag.h"
#include "../mem.h"
#include "../schema.h"
#include "../yaml.h"
#include "rule.h"

static const char *const call_keys[] = {"track", "identify", "page", "screen", "group", "alias",
                                        NULL};

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

static json_object *node_json(const struct gw_node *n)
{
    if (n->type == GW_NODE_SCALAR) {
        return scalar_json(n);
    }
    if (n->type == GW_NODE_SEQ) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n->n; i++) {
            json_object_array_add(a, node_json(n->items[i]));
        }
        return a;
    }
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < n->n; i++) {
        json_object_object_add(o, n->keys[i]->scalar, node_json(n->items[i]));
    }
    return o;
}

static bool compile_path(const struct gw_node *node, const char *text, struct gw_path *out,
                         struct gw_diag *diag)
{
    const char *why = NULL;
    if (gw_path_compile(text, out, &why) != GW_OK) {
        gw_diag_error(diag, node, "bad path '%s': %s", text, why);
        return false;
    }
    return true;
}

static bool compile_template(const struct gw_node *node, const char *text, struct gw_value *out,
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
        bool ok = compile_path(node, inner, &part->path, diag);
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
        return compile_template(node, node->scalar, out, diag);
    }
    out->kind = GW_VALUE_PATH;
    return compile_path(node, node->scalar, &out->path, diag);
}

static bool compile_value_map(const struct gw_node *node, const char *what, struct gw_value *out,
                              struct gw_diag *diag)
{
    static const char *const keys[] = {"from", "template", "const", "as", "map", "default", NULL};
    if (!gw_schema_keys(diag, node, what, keys)) {
        return false;
    }
    const struct gw_node *from = gw_node_get(node, "from");
    const struct gw_node *tpl = gw_node_get(node, "template");
    const struct gw_node *cst = gw_node_get(node, "const");
    if ((from != NULL) + (tpl != NULL) + (cst != NULL) != 1) {
        gw_diag_error(diag, node, "%s needs exactly one of 'from', 'template' or 'const'", what);
        return false;
    }
    bool ok = true;
    if (from != NULL) {
        ok = gw_compile_value(from, what, out, diag);
    } else if (tpl != NULL) {
        ok = gw_schema_is(diag, tpl, GW_NODE_SCALAR, "'template'") &&
             compile_template(tpl, tpl->scalar, out, diag);
    } else {
        out->kind = GW_VALUE_CONST;
        out->constant = node_json(cst);
    }
    const struct gw_node *as = gw_node_get(node, "as");
    if (ok && as != NULL && gw_schema_is(diag, as, GW_NODE_SCALAR, "'as'")) {
        out->as = gw_transform_find(as->scalar);
        if (out->as == NULL) {
            gw_diag_error(diag, as, "unknown transform '%s'", as->scalar);
            ok = false;
        }
    } else if (as != NULL) {
        ok = false;
    }
    const struct gw_node *table = gw_node_get(node, "map");
    if (ok && table != NULL) {
        ok = gw_schema_is(diag, table, GW_NODE_MAP, "'map'");
        out->table = ok ? node_json(table) : NULL;
    }
    const struct gw_node *dflt = gw_node_get(node, "default");
    if (ok && dflt != NULL) {
        out->dflt = node_json(dflt);
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
    json_object_put(v->constant);
    json_object_put(v->table);
    json_object_put(v->dflt);
    memset(v, 0, sizeof(*v));
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
            bool has_sub = field[head] == '.' && field[head + 1] != '\0';
            *root = roots[i].root;
            return roots[i].nested ? has_sub : field[head] == '\0';
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
    out->field = gw_asprintf("%s%s", prefix, key->scalar);
    out->line = key->line;
    out->col = key->col;
    if (!valid_field(key->scalar) || !target_root(out->field, &out->root)) {
        gw_diag_error(diag, key,
                      "'%s' is not an output field (use userId, anonymousId, timestamp, groupId, "
                      "previousId, name, category, or properties.*, traits.*, context.*, "
                      "integrations.*)",
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

static void target_fini(struct gw_target *t)
{
    free(t->field);
    gw_value_fini(&t->value);
}

/* Adds every pair of map as a target named prefix + key. */
static bool add_targets(const struct gw_node *map, const char *prefix, struct gw_target **v,
                        size_t *n, struct gw_diag *diag)
{
    bool ok = true;
    *v = gw_realloc(*v, (*n + map->n) * sizeof(**v));
    for (size_t i = 0; i < map->n; i++) {
        if (compile_target(map->keys[i], map->items[i], prefix, &(*v)[*n], diag)) {
            (*n)++;
        } else {
            target_fini(&(*v)[*n]);
            ok = false;
        }
    }
    return ok;
}

static bool compile_match(const struct gw_node *key, const struct gw_node *val,
                          struct gw_match *out, struct gw_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (!compile_path(key, key->scalar, &out->path, diag)) {
        return false;
    }
    out->op = GW_MATCH_ANY_OF;
    if (val->type == GW_NODE_SCALAR) {
        out->values = gw_calloc(1, sizeof(char *));
        out->values[out->n++] = gw_strdup(val->scalar);
        return true;
    }
    if (val->type == GW_NODE_SEQ) {
        out->values = gw_calloc(val->n ? val->n : 1, sizeof(char *));
        for (size_t i = 0; i < val->n; i++) {
            if (!gw_schema_is(diag, val->items[i], GW_NODE_SCALAR, "a value to match")) {
                return false;
            }
            out->values[out->n++] = gw_strdup(val->items[i]->scalar);
        }
        return true;
    }
    static const char *const ops[] = {"exists", "prefix", NULL};
    if (!gw_schema_keys(diag, val, "a match", ops) || val->n != 1) {
        if (val->n != 1) {
            gw_diag_error(diag, val, "a match takes exactly one of: exists, prefix");
        }
        return false;
    }
    if (strcmp(val->keys[0]->scalar, "prefix") == 0) {
        if (!gw_schema_is(diag, val->items[0], GW_NODE_SCALAR, "'prefix'")) {
            return false;
        }
        out->op = GW_MATCH_PREFIX;
        out->values = gw_calloc(1, sizeof(char *));
        out->values[out->n++] = gw_strdup(val->items[0]->scalar);
        return true;
    }
    bool exists = true;
    if (!gw_schema_bool(diag, val, "exists", &exists)) {
        return false;
    }
    out->op = exists ? GW_MATCH_EXISTS : GW_MATCH_ABSENT;
    return true;
}

static void match_fini(struct gw_match *m)
{
    gw_path_fini(&m->path);
    for (size_t i = 0; i < m->n; i++) {
        free(m->values[i]);
    }
    GW_FREE(m->values);
}

static bool compile_when(const struct gw_node *when, struct gw_rule *r, struct gw_diag *diag)
{
    if (!gw_schema_is(diag, when, GW_NODE_MAP, "'when'")) {
        return false;
    }
    bool ok = true;
    r->when = gw_calloc(when->n ? when->n : 1, sizeof(*r->when));
    for (size_t i = 0; i < when->n; i++) {
        if (compile_match(when->keys[i], when->items[i], &r->when[r->n_when], diag)) {
            r->n_when++;
        } else {
            match_fini(&r->when[r->n_when]);
            ok = false;
        }
    }
    return ok;
}

/* The call key of a rule: track/page/screen take a name, group takes a
 * groupId value, alias a previousId value, identify `true`. */
static bool compile_call(const struct gw_node *rule, struct gw_rule *r, struct gw_diag *diag)
{
    const struct gw_node *call = NULL;
    size_t which = 0;
    for (size_t i = 0; call_keys[i] != NULL; i++) {
        const struct gw_node *v = gw_node_get(rule, call_keys[i]);
        if (v != NULL && call != NULL) {
            gw_diag_error(diag, v, "a rule emits one call: '%s' and '%s' are both given",
                          call_keys[which], call_keys[i]);
            return false;
        }
        if (v != NULL) {
            call = v;
            which = i;
        }
    }
    if (call == NULL) {
        gw_diag_error(diag, rule,
                      "a rule needs one of: track, identify, page, screen, group, alias, "
                      "or ignore: true");
        return false;
    }
    r->type = (enum gw_call_type)which;
    if (r->type == GW_CALL_IDENTIFY) {
        bool yes = false;
        return gw_schema_bool(diag, rule, "identify", &yes) && yes;
    }
    if (r->type == GW_CALL_GROUP || r->type == GW_CALL_ALIAS) {
        struct gw_target t = {0};
        t.field = gw_strdup(r->type == GW_CALL_GROUP ? "groupId" : "previousId");
        t.root = r->type == GW_CALL_GROUP ? GW_TGT_GROUP_ID : GW_TGT_PREVIOUS_ID;
        t.line = call->line;
        t.col = call->col;
        bool ok = gw_compile_value(call, t.field, &t.value, diag);
        r->targets = gw_realloc(r->targets, (r->n_targets + 1) * sizeof(*r->targets));
        r->targets[r->n_targets++] = t;
        return ok;
    }
    if (!gw_schema_is(diag, call, GW_NODE_SCALAR, "the event name") ||
        !gw_schema_str(diag, rule, call_keys[which], true, &(const char *){NULL})) {
        return false;
    }
    r->has_name = true;
    if (strchr(call->scalar, '{') != NULL || strchr(call->scalar, '}') != NULL) {
        return compile_template(call, call->scalar, &r->name, diag);
    }
    r->name.kind = GW_VALUE_CONST;
    r->name.constant = json_object_new_string(call->scalar);
    return true;
}

static bool compile_rule(const struct gw_node *node, struct gw_rule *r, struct gw_diag *diag)
{
    static const char *const keys[] = {"when",  "track",      "identify", "page",    "screen",
                                       "group", "alias",      "ignore",   "properties", "traits",
                                       "context", "set",      "description", NULL};
    memset(r, 0, sizeof(*r));
    r->line = node->line;
    if (!gw_schema_keys(diag, node, "an event rule", keys)) {
        return false;
    }
    bool ok = true;
    const struct gw_node *when = gw_node_get(node, "when");
    if (when != NULL) {
        ok = compile_when(when, r, diag);
    }
    if (!gw_schema_bool(diag, node, "ignore", &r->ignore)) {
        return false;
    }
    if (r->ignore) {
        if (node->n > (size_t)(1 + (when != NULL) + (gw_node_get(node, "description") != NULL))) {
            gw_diag_error(diag, node, "a rule with 'ignore: true' takes only 'when'");
            return false;
        }
        return ok;
    }
    ok = compile_call(node, r, diag) && ok;
    static const char *const sections[] = {"properties", "traits", "context", "set"};
    for (size_t i = 0; i < 4; i++) {
        const struct gw_node *sec = gw_node_get(node, sections[i]);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "%s.", sections[i]);
        if (sec != NULL && gw_schema_is(diag, sec, GW_NODE_MAP, sections[i])) {
            ok = add_targets(sec, i == 3 ? "" : prefix, &r->targets, &r->n_targets, diag) && ok;
        } else if (sec != NULL) {
            ok = false;
        }
    }
    return ok;
}

static void rule_fini(struct gw_rule *r)
{
    for (size_t i = 0; i < r->n_when; i++) {
        match_fini(&r->when[i]);
    }
    free(r->when);
    gw_value_fini(&r->name);
    for (size_t i = 0; i < r->n_targets; i++) {
        target_fini(&r->targets[i]);
    }
    free(r->targets);
}

static bool is_slug(const char *s)
{
    if (s[0] == '\0' || s[0] == '-') {
        return false;
    }
    for (const char *c = s; *c; c++) {
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-') {
            return false;
        }
    }
    return s[strlen(s) - 1] != '-';
}

static bool is_semver(const char *s)
{
    unsigned a, b, c;
    int n = 0;
    if (sscanf(s, "%u.%u.%u%n", &a, &b, &c, &n) != 3 || !isdigit((unsigned char)s[0])) {
        return false;
    }
    const char *rest = s + n;
    return *rest == '\0' || ((*rest == '-' || *rest == '+') && rest[1] != '\0');
}

static bool compile_integration(const struct gw_node *root, struct gw_source *src,
                                struct gw_diag *diag)
{
    static const char *const keys[] = {"name", "version", NULL};
    const struct gw_node *in = gw_node_get(root, "integration");
    const char *name = NULL, *version = NULL;
    if (in == NULL) {
        gw_diag_error(diag, root, "key 'integration' is required ({name: slug, version: 1.0.0})");
        return false;
    }
    if (!gw_schema_keys(diag, in, "'integration'", keys) ||
        !gw_schema_str(diag, in, "name", true, &name) ||
        !gw_schema_str(diag, in, "version", true, &version)) {
        return false;
    }
    bool ok = true;
    if (!is_slug(name)) {
        gw_diag_error(diag, gw_node_get(in, "name"),
                      "integration name '%s' must be a slug (lowercase letters, digits, hyphens)",
                      name);
        ok = false;
    }
    if (!is_semver(version)) {
        gw_diag_error(diag, gw_node_get(in, "version"),
                      "integration version '%s' must be semver such as 1.0.0", version);
        ok = false;
    }
    src->integration_name = gw_strdup(name);
    src->integration_version = gw_strdup(version);
    return ok;
}

static bool compile_casing(const struct gw_node *root, struct gw_source *src, struct gw_diag *diag)
{
    static const char *const keys[] = {"events", "keys", NULL};
    const struct gw_node *c = gw_node_get(root, "casing");
    if (c == NULL) {
        return true;
    }
    if (!gw_schema_keys(diag, c, "'casing'", keys)) {
        return false;
    }
    bool ok = true;
    const char *const names[] = {"events", "keys"};
    enum gw_casing *slots[] = {&src->spec.event_casing, &src->spec.key_casing};
    for (size_t i = 0; i < 2; i++) {
        const char *v = NULL;
        if (!gw_schema_str(diag, c, names[i], false, &v)) {
            ok = false;
        } else if (v != NULL && gw_casing_parse(v, slots[i]) != GW_OK) {
            gw_diag_error(diag, gw_node_get(c, names[i]),
                          "unknown naming convention '%s' (use one of: Proper Case, snake_case, "
                          "camelCase, all lowercase, Sentence case)",
                          v);
            ok = false;
        }
    }
    return ok;
}

static bool compile_body(const struct gw_node *root, struct gw_source *src, struct gw_diag *diag)
{
    static const char *const kinds[] = {"json-object", "json-array", "json", NULL};
    const struct gw_node *b = gw_node_get(root, "body");
    size_t idx = 0;
    src->body = GW_BODY_JSON;
    if (b != NULL && !gw_schema_one_of(diag, b, "'body'", kinds, &idx)) {
        return false;
    }
    if (b != NULL && gw_decode_kind_parse(kinds[idx], &src->body) != GW_OK) {
        return false;
    }
    const struct gw_node *ct = gw_node_get(root, "content_types");
    if (ct == NULL) {
        src->content_types = gw_calloc(1, sizeof(char *));
        src->content_types[src->n_content_types++] = gw_strdup("application/json");
        return true;
    }
    if (!gw_schema_is(diag, ct, GW_NODE_SEQ, "'content_types'")) {
        return false;
    }
    src->content_types = gw_calloc(ct->n ? ct->n : 1, sizeof(char *));
    for (size_t i = 0; i < ct->n; i++) {
        if (!gw_schema_is(diag, ct->items[i], GW_NODE_SCALAR, "a content type")) {
            return false;
        }
        src->content_types[src->n_content_types++] = gw_strdup(ct->items[i]->scalar);
    }
    return true;
}

static bool compile_events(const struct gw_node *root, struct gw_source *src,
                           struct gw_diag *diag)
{
    const struct gw_node *ev = gw_node_get(root, "events");
    if (ev == NULL) {
        gw_diag_error(diag, root, "key 'events' is required (a list of rules)");
        return false;
    }
    if (!gw_schema_is(diag, ev, GW_NODE_SEQ, "'events'")) {
        return false;
    }
    bool ok = true;
    src->rules = gw_calloc(ev->n ? ev->n : 1, sizeof(*src->rules));
    for (size_t i = 0; i < ev->n; i++) {
        ok = compile_rule(ev->items[i], &src->rules[i], diag) && ok;
        src->n_rules++;
    }
    return ok;
}

static bool compile_header(const struct gw_node *root, struct gw_source *src,
                           struct gw_diag *diag)
{
    const char *name = NULL, *desc = NULL, *unmatched = NULL;
    bool ok = gw_schema_str(diag, root, "source", true, &name);
    if (name != NULL && !is_slug(name)) {
        gw_diag_error(diag, gw_node_get(root, "source"),
                      "source '%s' must be a slug (lowercase letters, digits, hyphens): it is "
                      "the path /webhooks/%s",
                      name, name);
        ok = false;
    }
    src->name = gw_strdup(name ? name : "");
    ok = gw_schema_str(diag, root, "description", false, &desc) && ok;
    src->description = desc ? gw_strdup(desc) : NULL;
    const struct gw_node *un = gw_node_get(root, "unmatched");
    static const char *const policies[] = {"ignore", "reject", NULL};
    size_t idx = 0;
    if (un != NULL && gw_schema_one_of(diag, un, "'unmatched'", policies, &idx)) {
        src->unmatched_reject = idx == 1;
    } else if (un != NULL) {
        ok = false;
    }
    (void)unmatched;
    ok = gw_schema_bool(diag, root, "allow_anonymous", &src->spec.allow_anonymous) && ok;
    const struct gw_node *mid = gw_node_get(root, "message_id");
    if (mid != NULL) {
        src->has_message_id = gw_compile_value(mid, "'message_id'", &src->message_id, diag);
        ok = src->has_message_id && ok;
    }
    return ok;
}

struct gw_source *gw_compile_source(const struct gw_node *root, struct gw_diag *diag)
{
    static const char *const keys[] = {"source",   "description", "integration",     "body",
                                       "content_types", "casing", "message_id",      "unmatched",
                                       "allow_anonymous", "common", "events", NULL};
    if (root == NULL) {
        return NULL;
    }
    struct gw_source *src = gw_calloc(1, sizeof(*src));
    gw_spec_opts_init(&src->spec);
    src->file = gw_strdup(root->file);
    bool ok = gw_schema_keys(diag, root, "the rules file", keys);
    if (ok) {
        ok = compile_header(root, src, diag);
        ok = compile_integration(root, src, diag) && ok;
        ok = compile_casing(root, src, diag) && ok;
        ok = compile_body(root, src, diag) && ok;
        const struct gw_node *common = gw_node_get(root, "common");
        if (common != NULL && gw_schema_is(diag, common, GW_NODE_MAP, "'common'")) {
            ok = add_targets(common, "", &src->common, &src->n_common, diag) && ok;
        } else if (common != NULL) {
            ok = false;
        }
        ok = compile_events(root, src, diag) && ok;
    }
    src->spec.integration = src->integration_name;
    if (!ok) {
        gw_source_free(src);
        return NULL;
    }
    return src;
}

void gw_source_free(struct gw_source *src)
{
    if (src == NULL) {
        return;
    }
    free(src->name);
    free(src->file);
    free(src->description);
    free(src->integration_name);
    free(src->integration_version);
    for (size_t i = 0; i < src->n_content_types; i++) {
        free(src->content_types[i]);
    }
    free(src->content_types);
    gw_value_fini(&src->message_id);
    for (size_t i = 0; i < src->n_common; i++) {
        target_fini(&src->common[i]);
    }
    free(src->common);
    for (size_t i = 0; i < src->n_rules; i++) {
        rule_fini(&src->rules[i]);
    }
    free(src->rules);
    free(src);
}
