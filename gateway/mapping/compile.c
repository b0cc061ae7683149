/* compile.c -- validate a rules document and convert it, once, into a
 * struct gw_source: paths parsed, transforms resolved, names checked. What
 * remains per request is evaluation only.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diag.h"
#include "../buf.h"
#include "../mem.h"
#include "../schema.h"
#include "../verify/verify.h"
#include "../yaml.h"
#include "rule.h"

/* Fills keys with the names of before, the call types, then after (both
 * NULL-terminated), and a NULL: the keys a rule or a call of emit: takes. */
static void with_call_keys(const char **keys, const char *const *before,
                           const char *const *after)
{
    size_t n = 0;
    for (size_t i = 0; before[i] != NULL; i++) {
        keys[n++] = before[i];
    }
    for (size_t i = 0; i < GW_CALL_TYPES; i++) {
        keys[n++] = gw_calltype((enum gw_call_type)i)->name;
    }
    for (size_t i = 0; after[i] != NULL; i++) {
        keys[n++] = after[i];
    }
    keys[n] = NULL;
}

static bool compile_match(const struct gw_node *key, const struct gw_node *val,
                          struct gw_match *out, struct gw_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (!gw_compile_path(key, key->scalar, &out->path, diag)) {
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

/* The call key of a rule: track/page/screen take a name (a literal, a
 * template, or a value map such as {from: type, map: {...}}), group takes a
 * groupId value, alias a previousId value, identify `true`. */
static bool compile_call_key(const struct gw_node *rule, struct gw_call_tpl *c,
                             struct gw_diag *diag)
{
    const struct gw_node *call = NULL;
    size_t which = 0;
    for (size_t i = 0; i < GW_CALL_TYPES; i++) {
        const char *key = gw_calltype((enum gw_call_type)i)->name;
        const struct gw_node *v = gw_node_get(rule, key);
        if (v != NULL && call != NULL) {
            gw_diag_error(diag, v, "a rule emits one call: '%s' and '%s' are both given "
                          "(use emit: for several)", gw_calltype((enum gw_call_type)which)->name,
                          key);
            return false;
        }
        if (v != NULL) {
            call = v;
            which = i;
        }
    }
    if (call == NULL) {
        gw_diag_error(diag, rule,
                      "a rule needs one of: " GW_CALL_TYPE_LIST ", emit, or ignore: true");
        return false;
    }
    c->type = (enum gw_call_type)which;
    if (c->type == GW_CALL_IDENTIFY) {
        bool yes = false;
        return gw_schema_bool(diag, rule, "identify", &yes) && yes;
    }
    if (c->type == GW_CALL_GROUP || c->type == GW_CALL_ALIAS) {
        struct gw_target t = {0};
        t.root = c->type == GW_CALL_GROUP ? GW_TGT_GROUP_ID : GW_TGT_PREVIOUS_ID;
        gw_target_set_field(&t, gw_strdup(gw_calltype(c->type)->key_field));
        t.line = call->line;
        t.col = call->col;
        bool ok = gw_compile_value(call, t.field, &t.value, diag);
        c->targets = gw_realloc(c->targets, (c->n_targets + 1) * sizeof(*c->targets));
        c->targets[c->n_targets++] = t;
        return ok;
    }
    c->has_name = true;
    if (call->type == GW_NODE_MAP) {
        return gw_compile_value(call, "the event name", &c->name, diag);
    }
    if (!gw_schema_is(diag, call, GW_NODE_SCALAR, "the event name") ||
        !gw_schema_str(diag, rule, gw_calltype(c->type)->name, true, &(const char *){NULL})) {
        return false;
    }
    if (strchr(call->scalar, '{') != NULL || strchr(call->scalar, '}') != NULL) {
        return gw_compile_template(call, call->scalar, &c->name, diag);
    }
    c->name.kind = GW_VALUE_CONST;
    c->name.constant = json_object_new_string(call->scalar);
    return true;
}

/* A call: its key plus properties:, traits:, context: and set: maps. */
static bool compile_call(const struct gw_node *node, struct gw_call_tpl *c, struct gw_diag *diag)
{
    static const char *const sections[] = {"properties", "traits", "context", "set"};
    bool ok = compile_call_key(node, c, diag);
    for (size_t i = 0; i < 4; i++) {
        const struct gw_node *sec = gw_node_get(node, sections[i]);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "%s.", sections[i]);
        if (sec != NULL && gw_schema_is(diag, sec, GW_NODE_MAP, sections[i])) {
            ok = gw_compile_targets(sec, i == 3 ? "" : prefix, &c->targets, &c->n_targets, diag) && ok;
        } else if (sec != NULL) {
            ok = false;
        }
    }
    return ok;
}

static void call_fini(struct gw_call_tpl *c)
{
    gw_value_fini(&c->name);
    for (size_t i = 0; i < c->n_targets; i++) {
        gw_target_fini(&c->targets[i]);
    }
    free(c->targets);
}

static bool compile_emit(const struct gw_node *emit, struct gw_rule *r, struct gw_diag *diag)
{
    static const char *const extra[] = {"properties", "traits", "context", "set", "description",
                                        NULL};
    const char *keys[GW_CALL_TYPES + sizeof(extra) / sizeof(extra[0])];
    with_call_keys(keys, (const char *const[]){NULL}, extra);
    if (!gw_schema_is(diag, emit, GW_NODE_SEQ, "'emit'")) {
        return false;
    }
    if (emit->n == 0) {
        gw_diag_error(diag, emit, "'emit' needs at least one call");
        return false;
    }
    bool ok = true;
    r->calls = gw_calloc(emit->n, sizeof(*r->calls));
    for (size_t i = 0; i < emit->n; i++) {
        ok = gw_schema_keys(diag, emit->items[i], "a call of 'emit'", keys) &&
             compile_call(emit->items[i], &r->calls[r->n_calls], diag) && ok;
        r->n_calls++;
    }
    return ok;
}

static enum gw_rc describe_match(struct gw_buf *b, const struct gw_node *v)
{
    if (v->type == GW_NODE_SCALAR) {
        return gw_buf_printf(b, " = %s", v->scalar);
    }
    if (v->type == GW_NODE_SEQ) {
        enum gw_rc rc = gw_buf_adds(b, " in [");
        for (size_t j = 0; j < v->n && rc == GW_OK; j++) {
            rc = gw_buf_printf(b, "%s%s", j ? ", " : "",
                               v->items[j]->type == GW_NODE_SCALAR ? v->items[j]->scalar : "?");
        }
        return rc ? rc : gw_buf_adds(b, "]");
    }
    if (v->n != 1 || v->items[0]->type != GW_NODE_SCALAR) {
        return GW_OK;
    }
    if (strcmp(v->keys[0]->scalar, "prefix") == 0) {
        return gw_buf_printf(b, " starts with %s", v->items[0]->scalar);
    }
    bool absent = strcmp(v->items[0]->scalar, "false") == 0 || strcmp(v->items[0]->scalar, "no") == 0;
    return gw_buf_adds(b, absent ? " is absent" : " is present");
}

/* "event = open and type in [a, b]": the conditions in words, for docs. */
static char *describe_when(const struct gw_node *when)
{
    struct gw_buf b;
    gw_buf_init(&b, 64 * 1024);
    for (size_t i = 0; when != NULL && i < when->n; i++) {
        enum gw_rc rc = gw_buf_printf(&b, "%s%s", i ? " and " : "", when->keys[i]->scalar);
        if (rc != GW_OK || describe_match(&b, when->items[i]) != GW_OK) {
            break;
        }
    }
    return gw_buf_detach(&b);
}

static bool compile_rule(const struct gw_node *node, struct gw_rule *r, struct gw_diag *diag)
{
    static const char *const extra[] = {"emit",    "ignore", "properties", "traits",
                                        "context", "set",    "description", "message_id", NULL};
    const char *keys[GW_CALL_TYPES + 1 + sizeof(extra) / sizeof(extra[0])];
    with_call_keys(keys, (const char *const[]){"when", NULL}, extra);
    memset(r, 0, sizeof(*r));
    r->line = node->line;
    if (!gw_schema_keys(diag, node, "an event rule", keys)) {
        return false;
    }
    bool ok = true;
    const struct gw_node *when = gw_node_get(node, "when");
    if (when != NULL) {
        ok = compile_when(when, r, diag);
        r->when_text = describe_when(when);
    }
    const char *desc = NULL;
    if (!gw_schema_bool(diag, node, "ignore", &r->ignore) ||
        !gw_schema_str(diag, node, "description", false, &desc)) {
        return false;
    }
    r->description = desc ? gw_strdup(desc) : NULL;
    const struct gw_node *mid = gw_node_get(node, "message_id");
    if (mid != NULL && r->ignore) {
        gw_diag_error(diag, mid, "a rule with 'ignore: true' emits no call to give a message_id");
        return false;
    }
    if (mid != NULL) {
        r->has_message_id = gw_compile_value(mid, "'message_id'", &r->message_id, diag);
        ok = r->has_message_id && ok;
    }
    if (r->ignore) {
        if (node->n > (size_t)(1 + (when != NULL) + (desc != NULL))) {
            gw_diag_error(diag, node, "a rule with 'ignore: true' takes only 'when'");
            return false;
        }
        return ok;
    }
    const struct gw_node *emit = gw_node_get(node, "emit");
    if (emit == NULL) {
        r->calls = gw_calloc(1, sizeof(*r->calls));
        r->n_calls = 1;
        return compile_call(node, &r->calls[0], diag) && ok;
    }
    for (size_t i = 0; i < node->n; i++) {
        const char *k = node->keys[i]->scalar;
        if (strcmp(k, "when") != 0 && strcmp(k, "emit") != 0 && strcmp(k, "description") != 0 &&
            strcmp(k, "message_id") != 0) {
            gw_diag_error(diag, node->keys[i], "'%s' belongs inside a call of 'emit'", k);
            ok = false;
        }
    }
    return compile_emit(emit, r, diag) && ok;
}

static void rule_fini(struct gw_rule *r)
{
    for (size_t i = 0; i < r->n_when; i++) {
        match_fini(&r->when[i]);
    }
    free(r->when);
    free(r->when_text);
    free(r->description);
    gw_value_fini(&r->message_id);
    for (size_t i = 0; i < r->n_calls; i++) {
        call_fini(&r->calls[i]);
    }
    free(r->calls);
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

static bool compile_body_map(const struct gw_node *b, struct gw_source *src,
                             struct gw_diag *diag)
{
    static const char *const keys[] = {"format", "json_field", "events", NULL};
    const char *format = NULL, *field = NULL, *events = NULL;
    if (!gw_schema_keys(diag, b, "'body'", keys) ||
        !gw_schema_str(diag, b, "format", true, &format) ||
        !gw_schema_str(diag, b, "json_field", false, &field) ||
        !gw_schema_str(diag, b, "events", false, &events)) {
        return false;
    }
    if (field != NULL && strcmp(format, "form") != 0) {
        gw_diag_error(diag, gw_node_get(b, "json_field"), "'json_field' needs format: form");
        return false;
    }
    src->json_field = field ? gw_strdup(field) : NULL;
    const struct gw_node *at = gw_node_get(b, events ? "events" : "json_field");
    events = events ? events : field;
    if (events != NULL) {
        src->has_events = gw_compile_path(at, events, &src->events, diag);
        return src->has_events;
    }
    return true;
}

static bool compile_content_types(const struct gw_node *root, struct gw_source *src,
                                  struct gw_diag *diag)
{
    const struct gw_node *ct = gw_node_get(root, "content_types");
    if (ct == NULL) {
        src->content_types = gw_calloc(1, sizeof(char *));
        src->content_types[src->n_content_types++] = gw_strdup(
            src->body == GW_BODY_FORM ? "application/x-www-form-urlencoded" : "application/json");
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

/* body: json-array | json-object | json | form, or
 * body: { format: form, json_field: mandrill_events, events: path } */
static bool compile_body(const struct gw_node *root, struct gw_source *src, struct gw_diag *diag)
{
    const char *const *kinds = gw_body_kind_names;
    const struct gw_node *b = gw_node_get(root, "body");
    src->body = GW_BODY_JSON;
    if (b != NULL && b->type == GW_NODE_MAP && !compile_body_map(b, src, diag)) {
        return false;
    }
    const struct gw_node *fmt = b && b->type == GW_NODE_MAP ? gw_node_get(b, "format") : b;
    size_t idx = GW_BODY_JSON;
    if (fmt != NULL && !gw_schema_one_of(diag, fmt, "'body'", kinds, &idx)) {
        return false;
    }
    if (gw_body_kind_parse(kinds[idx], &src->body) != GW_OK) {
        return false;
    }
    return compile_content_types(root, src, diag);
}

/* tracking_plan: { strict: bool, events: { Name: { prop: type | {type, required} } } } */
static bool compile_plan_props(const struct gw_node *props, struct gw_spec_plan *plan,
                               struct gw_diag *diag)
{
    static const char *const keys[] = {"type", "required", NULL};
    bool ok = true;
    for (size_t i = 0; i < props->n; i++) {
        const struct gw_node *p = props->items[i];
        const char *type = NULL;
        bool required = false;
        if (p->type == GW_NODE_SCALAR) {
            type = p->scalar;
        } else if (!gw_schema_keys(diag, p, "a planned property", keys) ||
                   !gw_schema_str(diag, p, "type", true, &type) ||
                   !gw_schema_bool(diag, p, "required", &required)) {
            ok = false;
            continue;
        }
        if (gw_spec_plan_add_property(plan, props->keys[i]->scalar, type, required) != GW_OK) {
            gw_diag_error(diag, p, "property '%s': type must be one of string, number, integer, "
                          "boolean, object, array, date (was given '%s')",
                          props->keys[i]->scalar, type);
            ok = false;
        }
    }
    return ok;
}

static bool compile_plan(const struct gw_node *root, struct gw_source *src, struct gw_diag *diag)
{
    static const char *const keys[] = {"strict", "events", NULL};
    const struct gw_node *tp = gw_node_get(root, "tracking_plan");
    bool strict = false;
    if (tp == NULL) {
        return true;
    }
    if (!gw_schema_keys(diag, tp, "'tracking_plan'", keys) ||
        !gw_schema_bool(diag, tp, "strict", &strict)) {
        return false;
    }
    const struct gw_node *ev = gw_node_get(tp, "events");
    if (ev == NULL || !gw_schema_is(diag, ev, GW_NODE_MAP, "'events'")) {
        if (ev == NULL) {
            gw_diag_error(diag, tp, "key 'events' is required (planned event -> properties)");
        }
        return false;
    }
    src->plan = gw_spec_plan_create(strict);
    src->spec.plan = src->plan;
    bool ok = true;
    for (size_t i = 0; i < ev->n; i++) {
        const struct gw_node *props = ev->items[i];
        GW_ASSERT(gw_spec_plan_add_event(src->plan, ev->keys[i]->scalar) == GW_OK);
        if (gw_node_is_null(props)) {
            continue; /* planned, no properties */
        }
        ok = gw_schema_is(diag, props, GW_NODE_MAP, "a planned event") &&
             compile_plan_props(props, src->plan, diag) && ok;
    }
    return ok;
}

static bool compile_signature(const struct gw_node *root, struct gw_source *src,
                              struct gw_diag *diag)
{
    static const char *const keys[] = {"scheme", NULL};
    const struct gw_node *sig = gw_node_get(root, "signature");
    const char *scheme = NULL;
    if (sig == NULL) {
        return true;
    }
    if (!gw_schema_keys(diag, sig, "'signature'", keys) ||
        !gw_schema_str(diag, sig, "scheme", true, &scheme)) {
        return false;
    }
    if (gw_verify_find(scheme) == NULL) {
        gw_diag_error(diag, gw_node_get(sig, "scheme"), "unknown signature scheme '%s'", scheme);
        return false;
    }
    src->signature = gw_strdup(scheme);
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

/* {key:, value:} pairs name their member in the source's key casing, which
 * is known once the whole file is read. */
static void set_key_casing(struct gw_source *src)
{
    enum gw_casing c = src->spec.key_casing;
    for (size_t i = 0; i < src->n_common; i++) {
        gw_value_set_key_casing(&src->common[i].value, c);
    }
    for (size_t i = 0; i < src->n_rules; i++) {
        for (size_t k = 0; k < src->rules[i].n_calls; k++) {
            struct gw_call_tpl *call = &src->rules[i].calls[k];
            for (size_t t = 0; t < call->n_targets; t++) {
                gw_value_set_key_casing(&call->targets[t].value, c);
            }
        }
    }
}

/* Numbers the distinct `when` paths so that each is evaluated once per
 * event, however many rules test it. */
static void number_match_paths(struct gw_source *src)
{
    for (size_t i = 0; i < src->n_rules; i++) {
        for (size_t k = 0; k < src->rules[i].n_when; k++) {
            struct gw_match *m = &src->rules[i].when[k];
            m->slot = src->n_match_slots;
            for (size_t j = 0; j <= i && m->slot == src->n_match_slots; j++) {
                for (size_t q = 0; q < src->rules[j].n_when && (j < i || q < k); q++) {
                    if (strcmp(src->rules[j].when[q].path.text, m->path.text) == 0) {
                        m->slot = src->rules[j].when[q].slot;
                        break;
                    }
                }
            }
            if (m->slot == src->n_match_slots) {
                src->n_match_slots++;
            }
        }
    }
}

struct gw_source *gw_compile_source(const struct gw_node *root, struct gw_diag *diag)
{
    static const char *const keys[] = {"source",   "description", "integration",     "body",
                                       "content_types", "casing", "message_id",      "unmatched",
                                       "allow_anonymous", "signature", "tracking_plan",
                                       "common", "events", NULL};
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
        ok = compile_signature(root, src, diag) && ok;
        ok = compile_plan(root, src, diag) && ok;
        const struct gw_node *common = gw_node_get(root, "common");
        if (common != NULL && gw_schema_is(diag, common, GW_NODE_MAP, "'common'")) {
            ok = gw_compile_targets(common, "", &src->common, &src->n_common, diag) && ok;
        } else if (common != NULL) {
            ok = false;
        }
        ok = compile_events(root, src, diag) && ok;
    }
    src->spec.integration = src->integration_name;
    set_key_casing(src);
    number_match_paths(src);
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
    free(src->json_field);
    gw_path_fini(&src->events);
    free(src->signature);
    gw_spec_plan_destroy(src->plan);
    for (size_t i = 0; i < src->n_content_types; i++) {
        free(src->content_types[i]);
    }
    free(src->content_types);
    gw_value_fini(&src->message_id);
    for (size_t i = 0; i < src->n_common; i++) {
        gw_target_fini(&src->common[i]);
    }
    free(src->common);
    for (size_t i = 0; i < src->n_rules; i++) {
        rule_fini(&src->rules[i]);
    }
    free(src->rules);
    free(src);
}
