/* apply.c -- run a compiled source over one decoded webhook event and build
 * the Segment calls it stands for.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../json.h"
#include "../mem.h"
#include "rule.h"

static void add_violation(struct gw_violations *violations, size_t index, const char *event,
                          const char *field, enum gw_violation_rule rule, const char *msg)
{
    gw_violations_add(violations, index, event, field, rule, "%s", msg);
}

/* A template's text: in a stack buffer while it fits, then in a gw_buf. */
struct text {
    char small[256];
    size_t len;
    bool spilled;
    struct gw_buf big;
};

static enum gw_rc text_add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (!t->spilled && t->len + n < sizeof(t->small)) {
        memcpy(t->small + t->len, s, n + 1);
        t->len += n;
        return GW_OK;
    }
    if (!t->spilled) {
        t->spilled = true;
        enum gw_rc rc = gw_buf_add(&t->big, t->small, t->len);
        if (rc != GW_OK) {
            return rc;
        }
    }
    return gw_buf_adds(&t->big, s);
}

static json_object *eval_template(const struct gw_value *v, const struct gw_map_input *in,
                                  json_object *event)
{
    struct text t = {.small = ""};
    gw_buf_init(&t.big, 64 * 1024);
    json_object *out = NULL;
    for (size_t i = 0; i < v->n_parts; i++) {
        const struct gw_template_part *p = &v->parts[i];
        if (p->literal != NULL) {
            if (text_add(&t, p->literal) != GW_OK) {
                goto out;
            }
            continue;
        }
        char num[32];
        json_object *x = gw_path_eval(&p->path, in, event);
        const char *text = gw_json_scalar_text_buf(x, num, sizeof(num));
        enum gw_rc rc = text ? text_add(&t, text) : GW_ERR_NOT_FOUND;
        json_object_put(x);
        if (rc != GW_OK) {
            goto out; /* a missing placeholder makes the whole value absent */
        }
    }
    out = t.spilled ? json_object_new_string(gw_buf_str(&t.big))
                    : json_object_new_string_len(t.small, (int)t.len);
out:
    gw_buf_fini(&t.big);
    return out;
}

/* One object per element of the `each` path, built from `fields` with the
 * element as the event. An element whose fields are all absent is skipped. */
static json_object *eval_each(const struct gw_value *v, const struct gw_map_input *in,
                              json_object *event, const char **why)
{
    json_object *src = gw_path_eval(&v->path, in, event);
    if (src == NULL) {
        return NULL;
    }
    json_object *out = json_object_new_array();
    size_t n = json_object_is_type(src, json_type_array) ? json_object_array_length(src) : 1;
    for (size_t i = 0; i < n && *why == NULL; i++) {
        json_object *el = json_object_is_type(src, json_type_array)
                              ? json_object_array_get_idx(src, i) : src;
        json_object *obj = json_object_new_object();
        for (size_t k = 0; k < v->n_fields && *why == NULL; k++) {
            json_object *x = gw_value_eval(&v->fields[k].value, in, el, why);
            if (x != NULL) {
                gw_json_set_keys(obj, v->fields[k].keys, v->fields[k].n_keys, x,
                                 !v->fields[k].own_keys);
            }
        }
        if (*why == NULL && json_object_object_length(obj) > 0) {
            json_object_array_add(out, obj);
        } else {
            json_object_put(obj);
        }
    }
    json_object_put(src);
    if (*why != NULL) {
        json_object_put(out);
        return NULL;
    }
    return out;
}

/* A request's own copy of a value the rules hold (a constant, a default, a
 * table's output). The rules are shared by every HTTP thread, and json-c's
 * reference counts and print buffers are not atomic: a rule's object handed
 * to a call with json_object_get would be counted, serialized and freed by
 * several threads at once. */
static json_object *own_copy(json_object *shared)
{
    json_object *out = NULL;
    if (shared != NULL && json_object_deep_copy(shared, &out, NULL) != 0) {
        gw_fatal("out of memory");
    }
    return out;
}

static json_object *eval_raw(const struct gw_value *v, const struct gw_map_input *in,
                             json_object *event, const char **why)
{
    switch (v->kind) {
    case GW_VALUE_PATH:
        return gw_path_eval(&v->path, in, event);
    case GW_VALUE_TEMPLATE:
        return eval_template(v, in, event);
    case GW_VALUE_CONST:
        return own_copy(v->constant);
    case GW_VALUE_EACH:
        return eval_each(v, in, event, why);
    case GW_VALUE_COUNT:
    case GW_VALUE_SUM:
    case GW_VALUE_PAIR:
        return gw_value_reduce(v, in, event, why);
    case GW_VALUE_FIRST:
        for (size_t i = 0; i < v->n_alts; i++) {
            json_object *x = gw_value_eval(&v->alts[i], in, event, why);
            if (x != NULL || *why != NULL) {
                return x;
            }
        }
        return NULL;
    }
    return NULL;
}

/* True when x is one of the values the rule says count as absent. */
static bool omitted(const struct gw_value *v, json_object *x)
{
    char num[32];
    const char *text = gw_json_scalar_text_buf(x, num, sizeof(num));
    for (size_t i = 0; text != NULL && i < json_object_array_length(v->omit); i++) {
        char onum[32]; /* the rules' own value: read, never serialized in place */
        const char *o =
            gw_json_scalar_text_buf(json_object_array_get_idx(v->omit, i), onum, sizeof(onum));
        if (o != NULL && strcmp(o, text) == 0) {
            return true;
        }
    }
    return false;
}

json_object *gw_value_eval(const struct gw_value *v, const struct gw_map_input *in,
                           json_object *event, const char **why)
{
    *why = NULL;
    json_object *x = eval_raw(v, in, event, why);
    if (x != NULL && v->omit != NULL && omitted(v, x)) {
        json_object_put(x);
        x = NULL;
    }
    if (x != NULL && v->table != NULL) {
        char num[32];
        const char *key = gw_json_scalar_text_buf(x, num, sizeof(num));
        json_object *hit = key ? gw_json_get(v->table, key) : NULL;
        json_object_put(x);
        x = own_copy(hit);
    }
    if (x != NULL && v->as != NULL) {
        json_object *y = NULL;
        bool ok = gw_value_transform(v, x, in, event, &y, why);
        json_object_put(x);
        if (!ok) {
            return NULL;
        }
        x = y;
        *why = NULL;
    }
    if (x == NULL && *why == NULL && v->dflt != NULL) {
        x = own_copy(v->dflt);
    }
    return x;
}

/* The values of the `when` paths of one event, each evaluated once for
 * all the rules (new references, or NULL when absent). */
struct seen {
    json_object *v[GW_MATCH_SLOTS];
    bool have[GW_MATCH_SLOTS];
};

static bool match_one(const struct gw_match *m, const struct gw_map_input *in, json_object *event,
                      struct seen *seen)
{
    json_object *v = NULL;
    if (m->slot < GW_MATCH_SLOTS && seen->have[m->slot]) {
        v = json_object_get(seen->v[m->slot]);
    } else {
        v = gw_path_eval(&m->path, in, event);
        if (m->slot < GW_MATCH_SLOTS) {
            seen->v[m->slot] = json_object_get(v);
            seen->have[m->slot] = true;
        }
    }
    bool hit = false;
    char num[32];
    const char *text = gw_json_scalar_text_buf(v, num, sizeof(num));
    switch (m->op) {
    case GW_MATCH_EXISTS:
        hit = v != NULL;
        break;
    case GW_MATCH_ABSENT:
        hit = v == NULL;
        break;
    case GW_MATCH_PREFIX:
        hit = text != NULL && strncmp(text, m->values[0], strlen(m->values[0])) == 0;
        break;
    case GW_MATCH_ANY_OF:
        for (size_t i = 0; text != NULL && i < m->n && !hit; i++) {
            hit = strcmp(text, m->values[i]) == 0;
        }
        break;
    }
    json_object_put(v);
    return hit;
}

static const struct gw_rule *find_rule(const struct gw_source *src, const struct gw_map_input *in,
                                       json_object *event)
{
    struct seen seen = {.have = {false}};
    const struct gw_rule *hit = NULL;
    for (size_t i = 0; i < src->n_rules && hit == NULL; i++) {
        const struct gw_rule *r = &src->rules[i];
        bool all = true;
        for (size_t k = 0; k < r->n_when && all; k++) {
            all = match_one(&r->when[k], in, event, &seen);
        }
        if (all) {
            hit = r;
        }
    }
    for (size_t i = 0; i < GW_MATCH_SLOTS && i < src->n_match_slots; i++) {
        json_object_put(seen.v[i]);
    }
    return hit;
}

/* The object members of a call that dotted fields go into ("context" of
 * context.ip), found or made once per call. */
enum { CALL_OBJECTS = 8 };

struct build {
    const struct gw_map_input *in;
    json_object *event;
    json_object *call;
    struct gw_violations *violations;
    size_t index;
    const char *label; /* event name or call type, for violations */
    bool ok;
    struct {
        const char *key; /* a static or interned name */
        json_object *obj; /* borrowed from call */
    } objects[CALL_OBJECTS];
    size_t n_objects;
};

/* The object member key of the call as call_object found or made it, or
 * NULL; borrowed. */
static json_object *call_known(const struct build *b, const char *key)
{
    for (size_t i = 0; i < b->n_objects; i++) {
        if (b->objects[i].key == key || strcmp(b->objects[i].key, key) == 0) {
            return b->objects[i].obj;
        }
    }
    return NULL;
}

/* The object member key of the call, made (or replacing a member that is
 * not an object) when needed; borrowed. Only the nested roots (properties,
 * traits, context, integrations) hold objects, and they are set only here,
 * so what is remembered stays true for the call. */
static json_object *call_object(struct build *b, const char *key, bool interned)
{
    json_object *obj = call_known(b, key);
    if (obj != NULL) {
        return obj;
    }
    obj = gw_json_child_object(b->call, key, interned);
    if (b->n_objects < CALL_OBJECTS) {
        b->objects[b->n_objects].key = key;
        b->objects[b->n_objects++].obj = obj;
    }
    return obj;
}

/* "properties" alone (no sub-key) merges an object into the call's bag. */
static bool merge_into(struct build *b, const struct gw_target *t, json_object *v)
{
    if (!json_object_is_type(v, json_type_object)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot merge %s into %s: it is not an object",
                 json_type_to_name(json_object_get_type(v)), t->field);
        add_violation(b->violations, b->index, b->label, t->field, GW_RULE_TYPE, msg);
        return false;
    }
    json_object *bag = call_object(b, t->keys[0], !t->own_keys);
    json_object_object_foreach(v, key, val)
    {
        json_object_object_add(bag, key, json_object_get(val));
    }
    return true;
}

static void apply_targets(struct build *b, const struct gw_target *t, size_t n,
                          enum gw_call_type type)
{
    for (size_t i = 0; i < n; i++) {
        if ((t[i].fits & (1u << type)) == 0) {
            continue;
        }
        const char *why = NULL;
        json_object *v = gw_value_eval(&t[i].value, b->in, b->event, &why);
        if (why != NULL) {
            char msg[256];
            snprintf(msg, sizeof(msg), "cannot map %s: %s", t[i].field, why);
            add_violation(b->violations, b->index, b->label, t[i].field, GW_RULE_FORMAT, msg);
            b->ok = false;
        } else if (v != NULL && t[i].n_keys == 1 && t[i].root >= GW_TGT_PROPERTIES) {
            b->ok = merge_into(b, &t[i], v) && b->ok;
            json_object_put(v);
        } else if (v != NULL && t[i].n_keys == 1) {
            json_object_object_add_ex(b->call, t[i].keys[0], v,
                                      t[i].own_keys ? 0 : JSON_C_OBJECT_ADD_CONSTANT_KEY);
        } else if (v != NULL) {
            gw_json_set_keys(call_object(b, t[i].keys[0], !t[i].own_keys), t[i].keys + 1,
                             t[i].n_keys - 1, v, !t[i].own_keys);
        }
    }
}

/* The event's messageId; a rule emitting several calls suffixes each with
 * its type (and position, when a type repeats) so that none dedupes another. */
static json_object *message_id(struct build *b, const struct gw_source *src,
                               const struct gw_rule *r, size_t k)
{
    const char *why = NULL;
    const struct gw_value *mv = r->has_message_id   ? &r->message_id
                                : src->has_message_id ? &src->message_id
                                                      : NULL;
    json_object *mid = mv ? gw_value_eval(mv, b->in, b->event, &why) : NULL;
    char num[32];
    const char *text = gw_json_scalar_text_buf(mid, num, sizeof(num));
    /* no template: a digest of the event as signed, salted with the call's
     * name, so that two events from one body (orders/updated and
     * orders/cancelled sent with the same order) never share an id */
    json_object *base = json_object_is_type(mid, json_type_string) ? json_object_get(mid)
                        : text ? json_object_new_string(text)
                               : gw_json_digest_id(src->name, b->event, b->label);
    json_object_put(mid);
    if (r->n_calls == 1) {
        return base;
    }
    bool repeated = false;
    for (size_t i = 0; i < r->n_calls; i++) {
        repeated = repeated || (i != k && r->calls[i].type == r->calls[k].type);
    }
    char id[256];
    if (repeated) {
        snprintf(id, sizeof(id), "%s-%s-%zu", json_object_get_string(base),
                 gw_calltype(r->calls[k].type)->name, k + 1);
    } else {
        snprintf(id, sizeof(id), "%s-%s", json_object_get_string(base),
                 gw_calltype(r->calls[k].type)->name);
    }
    json_object_put(base);
    return json_object_new_string(id);
}

static void finish_call(struct build *b, const struct gw_source *src, enum gw_call_type type,
                        json_object *mid)
{
    const unsigned fresh = JSON_C_OBJECT_ADD_CONSTANT_KEY | JSON_C_OBJECT_ADD_KEY_IS_NEW;
    json_object *integ = json_object_new_object();
    json_object_object_add_ex(integ, "name", json_object_new_string(src->integration_name),
                              fresh);
    json_object_object_add_ex(integ, "version",
                              json_object_new_string(src->integration_version), fresh);
    json_object_object_add_ex(call_object(b, "context", true), "integration", integ,
                              JSON_C_OBJECT_ADD_CONSTANT_KEY);
    json_object_object_add_ex(b->call, "messageId", mid, JSON_C_OBJECT_ADD_CONSTANT_KEY);
    const char *bag = gw_calltype(type)->bag;
    if (bag != NULL && call_known(b, bag) == NULL && gw_json_get(b->call, bag) == NULL) {
        json_object_object_add_ex(b->call, bag, json_object_new_object(),
                                  JSON_C_OBJECT_ADD_CONSTANT_KEY);
    }
}

static json_object *build_call(struct build *b, const struct gw_source *src,
                               const struct gw_rule *r, size_t k)
{
    const struct gw_call_tpl *c = &r->calls[k];
    b->call = json_object_new_object();
    b->n_objects = 0;
    b->label = gw_calltype(c->type)->name;
    json_object_object_add_ex(b->call, "type", json_object_new_string(b->label),
                              JSON_C_OBJECT_ADD_CONSTANT_KEY | JSON_C_OBJECT_ADD_KEY_IS_NEW);
    if (c->has_name) {
        const char *why = NULL;
        json_object *name = gw_value_eval(&c->name, b->in, b->event, &why);
        const char *field = gw_calltype(c->type)->key_field;
        char num[32];
        const char *text = gw_json_scalar_text_buf(name, num, sizeof(num));
        if (text == NULL) {
            add_violation(b->violations, b->index, b->label, field, GW_RULE_REQUIRED,
                          why ? why : "the rule's event name has no value for this event");
            json_object_put(name);
            b->ok = false;
        } else {
            json_object *str = json_object_is_type(name, json_type_string)
                                   ? json_object_get(name) : json_object_new_string(text);
            json_object_put(name);
            json_object_object_add_ex(b->call, field, str, JSON_C_OBJECT_ADD_CONSTANT_KEY);
            if (c->type == GW_CALL_TRACK) {
                b->label = json_object_get_string(str);
            }
        }
    }
    apply_targets(b, src->common, src->n_common, c->type);
    apply_targets(b, c->targets, c->n_targets, c->type);
    finish_call(b, src, c->type, message_id(b, src, r, k));
    return b->call;
}

enum gw_rc gw_source_apply(const struct gw_source *src, const struct gw_map_input *in,
                           json_object *event, size_t index, json_object *calls,
                           struct gw_violations *violations, bool *ignored)
{
    *ignored = false;
    const struct gw_rule *r = find_rule(src, in, event);
    if (r == NULL && !src->unmatched_reject) {
        *ignored = true;
        return GW_OK;
    }
    if (r == NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "no rule of source '%s' maps this event, and the source "
                                   "rejects unmatched events",
                 src->name);
        add_violation(violations, index, "", "", GW_RULE_UNPLANNED, msg);
        return GW_ERR_INVALID;
    }
    if (r->ignore) {
        *ignored = true;
        return GW_OK;
    }
    struct build b = {.in = in, .event = event, .violations = violations, .index = index,
                      .ok = true};
    /* all the calls or none: they join calls only once every one is built */
    json_object *small[4];
    json_object **built = r->n_calls <= 4 ? small : gw_calloc(r->n_calls, sizeof(*built));
    for (size_t k = 0; k < r->n_calls; k++) {
        built[k] = build_call(&b, src, r, k);
    }
    for (size_t k = 0; k < r->n_calls; k++) {
        if (b.ok) {
            json_object_array_add(calls, built[k]);
        } else {
            json_object_put(built[k]);
        }
    }
    if (built != small) {
        free(built);
    }
    return b.ok ? GW_OK : GW_ERR_INVALID;
}

enum gw_rc gw_source_events(const struct gw_source *src, json_object *body, json_object **events,
                            char *err, size_t errlen)
{
    json_object *root = body;
    if (src->has_events) {
        struct gw_map_input in = {.body = body};
        root = gw_path_eval(&src->events, &in, body);
        if (root == NULL) {
            snprintf(err, errlen, "body has no events at '%s'", src->events.text);
            return GW_ERR_INVALID;
        }
    } else {
        json_object_get(root);
    }
    json_object *out = json_object_new_array();
    bool is_arr = json_object_is_type(root, json_type_array);
    size_t n = is_arr ? json_object_array_length(root) : 1;
    enum gw_rc rc = GW_OK;
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        json_object *ev = is_arr ? json_object_array_get_idx(root, i) : root;
        if (!json_object_is_type(ev, json_type_object)) {
            snprintf(err, errlen, "event %zu%s%s is not a JSON object", i,
                     src->has_events ? " at " : "", src->has_events ? src->events.text : "");
            rc = GW_ERR_INVALID;
        } else {
            json_object_array_add(out, json_object_get(ev));
        }
    }
    json_object_put(root);
    if (rc != GW_OK) {
        json_object_put(out);
        return rc;
    }
    *events = out;
    return GW_OK;
}
