/* validate.c -- checks one Segment call against the Spec and the partner
 * rules; every violation carries a path into the call.
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json.h"
#include "../calltype.h"
#include "../mem.h"
#include "catalog.h"
#include "plan.h"
#include "spec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* json-c refuses deeper input by default; calls built in code could nest
 * deeper, and a walk past this would only find more of the same. */
#define MAX_DEPTH 32
/* Values echoed in messages are cut at this many bytes. */
#define CLIP_MAX 64

#define WHY_PARTNER ": map the customer's own id (the partner rule of the Spec)"
#define WHY_ALIAS ": alias merges previousId into it"

/* A call whose type is none of the six. */
#define K_UNKNOWN GW_CALL_TYPES

/* Top-level fields of every call: the Spec's common fields, what Segment
 * adds on output, and the HTTP API's writeKey. */
#define COMMON_FIELDS                                                                              \
    "type userId anonymousId context integrations messageId timestamp sentAt "                     \
    "originalTimestamp receivedAt version channel writeKey projectId _metadata"

/* The call type's name, "unknown" for K_UNKNOWN. */
static const char *kind_name(enum gw_call_type k)
{
    return k == K_UNKNOWN ? "unknown" : gw_calltype(k)->name;
}

struct vctx {
    const struct gw_spec_opts *opts;
    struct gw_violations *out; /* borrowed */
    size_t index;
    const char *event; /* borrowed, "E" of each violation */
    size_t count;
    char *path; /* the field being walked: "properties.products[2]" */
    size_t path_len;
    size_t path_cap;
};

/* One walk over properties or traits: the same code checks types against
 * the catalog and key names against the convention. */
struct walk {
    struct vctx *v;
    bool fold;                               /* traits: "first_name" is firstName */
    const char *what;                        /* "property" or "trait" */
    const char *owner;                       /* where a field's type is documented */
    const struct gw_catalog_field *fallback; /* top-level fields of every such call */
    const char *fallback_owner;
};

struct clip {
    char s[CLIP_MAX + 4];
};

static void walk_object(struct walk *w, json_object *obj, const struct gw_catalog_field *fields,
                        unsigned depth);

/* ---- Reporting ---- */

static void add(struct vctx *v, const char *field, enum gw_violation_rule rule, const char *fmt,
                ...) GW_PRINTF(4, 5);

static void add(struct vctx *v, const char *field, enum gw_violation_rule rule, const char *fmt,
                ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_violations_add(v->out, v->index, v->event, field, rule, "%s", msg);
    v->count++;
}

/* Returns s, or its first CLIP_MAX bytes (whole UTF-8 characters) + "...". */
static const char *clip(struct clip *c, const char *s)
{
    size_t n = strlen(s);
    if (n <= CLIP_MAX) {
        return s;
    }
    n = CLIP_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    memcpy(c->s, s, n);
    memcpy(c->s + n, "...", 4);
    return c->s;
}

static const char *jtype(json_object *val)
{
    switch (json_object_get_type(val)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "a value";
}

/* Appends n bytes of s to the path; returns the mark path_pop() goes back
 * to. */
static size_t path_add(struct vctx *v, const char *s, size_t n)
{
    size_t mark = v->path_len;
    if (v->path_len + n + 1 > v->path_cap) {
        v->path_cap = 2 * (v->path_len + n + 1);
        v->path = gw_realloc(v->path, v->path_cap);
    }
    memcpy(v->path + v->path_len, s, n);
    v->path_len += n;
    v->path[v->path_len] = '\0';
    return mark;
}

static void path_pop(struct vctx *v, size_t mark)
{
    v->path_len = mark;
    v->path[mark] = '\0';
}

/* Keys that would make the dotted path ambiguous are bracketed. */
static size_t path_key(struct vctx *v, const char *key)
{
    bool plain = key[0] != '\0' && strpbrk(key, ".[]\"") == NULL;
    size_t mark = path_add(v, plain ? "." : "[\"", plain ? 1 : 2);
    path_add(v, key, strlen(key));
    if (!plain) {
        path_add(v, "\"]", 2);
    }
    return mark;
}

static size_t path_index(struct vctx *v, size_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "[%zu]", i);
    return path_add(v, buf, (size_t)n);
}

/* ---- Formats ---- */

/* Lowercase letters, digits and hyphens; no hyphen at either end. */
static bool is_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '-' || s[n - 1] == '-') {
        return false;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

#define IDENT_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

/* Dot-separated identifiers; in a pre-release a numeric one has no leading
 * zero. Returns the length read, 0 when malformed. */
static size_t semver_idents(const char *s, bool prerelease)
{
    size_t n = 0;
    for (;;) {
        size_t k = strspn(s + n, IDENT_CHARS);
        bool numeric = strspn(s + n, "0123456789") == k;
        if (k == 0 || (prerelease && numeric && k > 1 && s[n] == '0')) {
            return 0;
        }
        n += k;
        if (s[n] != '.') {
            return n;
        }
        n++;
    }
}

/* MAJOR.MINOR.PATCH[-pre.release][+build], as semver.org 2.0.0 says. */
static bool is_semver(const char *s)
{
    for (int i = 0; i < 3; i++) {
        size_t n = strspn(s, "0123456789");
        if (n == 0 || (n > 1 && s[0] == '0') || (i < 2 && s[n] != '.')) {
            return false;
        }
        s += n + (i < 2);
    }
    if (*s == '-') {
        size_t n = semver_idents(s + 1, true);
        if (n == 0) {
            return false;
        }
        s += n + 1;
    }
    if (*s == '+') {
        size_t n = semver_idents(s + 1, false);
        if (n == 0) {
            return false;
        }
        s += n + 1;
    }
    return *s == '\0';
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* ---- Walks over properties and traits ---- */

static bool check_field(struct walk *w, const struct gw_catalog_field *f, json_object *val,
                        const char *owner)
{
    struct vctx *v = w->v;
    struct clip c;
    if (!gw_catalog_type_ok(f->type, val)) {
        bool fraction = f->type == GW_CATALOG_INTEGER && json_object_is_type(val, json_type_double);
        add(v, v->path, GW_RULE_TYPE, "%s must be %s, not %s (%s)", v->path,
            gw_catalog_type_name(f->type), fraction ? "a fraction" : jtype(val), owner);
        return false;
    }
    if (f->type == GW_CATALOG_DATE && !gw_catalog_date_ok(json_object_get_string(val), false)) {
        add(v, v->path, GW_RULE_FORMAT,
            "%s '%s' is not an ISO-8601 date such as 2017-12-15 or 2017-12-15T00:59:29Z (%s)",
            v->path, clip(&c, json_object_get_string(val)), owner);
    }
    return true;
}

static void walk_value(struct walk *w, json_object *val, const struct gw_catalog_field *f,
                       const char *owner, unsigned depth);

static void walk_array(struct walk *w, json_object *arr, const struct gw_catalog_field *f,
                       const char *owner, unsigned depth)
{
    struct vctx *v = w->v;
    enum gw_catalog_type want = GW_CATALOG_STRING;
    bool typed = gw_catalog_item_type(f, &want);
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        size_t mark = path_index(v, i);
        if (typed && (item == NULL || !gw_catalog_type_ok(want, item))) {
            add(v, v->path, GW_RULE_TYPE, "%s must be %s, not %s (%s)", v->path,
                gw_catalog_type_name(want), jtype(item), owner);
        } else if (json_object_is_type(item, json_type_object)) {
            walk_object(w, item, f != NULL ? f->nested : NULL, depth + 1);
        } else {
            walk_value(w, item, NULL, owner, depth + 1);
        }
        path_pop(v, mark);
    }
}

/* Checks val (at v->path) against f, which may be NULL, then what it holds. */
static void walk_value(struct walk *w, json_object *val, const struct gw_catalog_field *f,
                       const char *owner, unsigned depth)
{
    if (val == NULL || depth >= MAX_DEPTH) {
        return;
    }
    bool typed = f != NULL && check_field(w, f, val, owner);
    if (json_object_is_type(val, json_type_object)) {
        walk_object(w, val, typed ? f->nested : NULL, depth + 1);
    } else if (json_object_is_type(val, json_type_array)) {
        walk_array(w, val, typed ? f : NULL, owner, depth + 1);
    }
}

/* The Spec's own names pass whatever the convention: the documented field
 * itself, reserved traits also in snake_case, and its camelCase names. */
static bool key_ok(const struct walk *w, const char *key, const struct gw_catalog_field *f)
{
    if (gw_casing_check(w->v->opts->key_casing, key) || gw_catalog_is_spec_key(key)) {
        return true;
    }
    return f != NULL &&
           (strcmp(f->name, key) == 0 || (w->fold && gw_casing_check(GW_CASING_SNAKE, key)));
}

static void walk_object(struct walk *w, json_object *obj, const struct gw_catalog_field *fields,
                        unsigned depth)
{
    struct vctx *v = w->v;
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        size_t mark = path_key(v, key);
        const char *owner = w->owner;
        const struct gw_catalog_field *f = gw_catalog_field_find(fields, key, w->fold);
        if (f == NULL && depth == 0) {
            f = gw_catalog_field_find(w->fallback, key, w->fold);
            owner = w->fallback_owner;
        }
        if (!key_ok(w, key, f)) {
            struct clip c;
            add(v, v->path, GW_RULE_CASING, "%s key '%s' is not in %s", w->what, clip(&c, key),
                gw_casing_name(v->opts->key_casing));
        }
        walk_value(w, json_object_iter_peek_value(&it), f, owner, depth);
        path_pop(v, mark);
    }
}

/* Walks parent's member name (properties or traits), shown as path. */
static void check_bag(struct walk *w, json_object *parent, const char *name, const char *path,
                      const struct gw_catalog_field *fields)
{
    json_object *bag = gw_json_get(parent, name);
    if (bag == NULL) {
        return;
    }
    size_t mark = path_add(w->v, path, strlen(path));
    if (json_object_is_type(bag, json_type_object)) {
        walk_object(w, bag, fields, 0);
    } else {
        add(w->v, path, GW_RULE_TYPE, "%s must be an object, not %s", path, jtype(bag));
    }
    path_pop(w->v, mark);
}

/* ---- Common fields ---- */

/* Checks that call.name is a non-empty string; why ends the message when it
 * is missing or empty. Returns the string (borrowed) or NULL. */
static const char *need_string(struct vctx *v, json_object *call, const char *name, const char *why)
{
    json_object *val = gw_json_get(call, name);
    if (val == NULL) {
        add(v, name, GW_RULE_REQUIRED, "%s is required%s", name, why);
        return NULL;
    }
    if (!json_object_is_type(val, json_type_string)) {
        add(v, name, GW_RULE_TYPE, "%s must be a string, not %s", name, jtype(val));
        return NULL;
    }
    if (json_object_get_string_len(val) == 0) {
        add(v, name, GW_RULE_REQUIRED, "%s is empty%s", name, why);
        return NULL;
    }
    return json_object_get_string(val);
}

static void opt_type(struct vctx *v, json_object *call, const char *name, enum json_type want)
{
    json_object *val = gw_json_get(call, name);
    if (val != NULL && !json_object_is_type(val, want)) {
        add(v, name, GW_RULE_TYPE, "%s must be %s, not %s", name,
            want == json_type_object ? "an object" : "a string", jtype(val));
    }
}

static enum gw_call_type kind_of(json_object *call)
{
    enum gw_call_type k = K_UNKNOWN;
    return gw_calltype_find(gw_json_get_str(call, "type"), &k) ? k : K_UNKNOWN;
}

/* Reports why kind_of() found no call type. */
static void check_type(struct vctx *v, json_object *call)
{
    struct clip c;
    json_object *t = gw_json_get(call, "type");
    if (t == NULL) {
        add(v, "type", GW_RULE_REQUIRED, "type is required: one of " GW_CALL_TYPE_LIST);
    } else if (!json_object_is_type(t, json_type_string)) {
        add(v, "type", GW_RULE_TYPE, "type must be a string, not %s", jtype(t));
    } else {
        add(v, "type", GW_RULE_FORMAT, "type '%s' is not one of " GW_CALL_TYPE_LIST,
            clip(&c, json_object_get_string(t)));
    }
}

static void check_identity(struct vctx *v, json_object *call, enum gw_call_type k)
{
    bool anon_ok = v->opts->allow_anonymous && k != GW_CALL_ALIAS;
    if (!anon_ok || gw_json_get(call, "userId") != NULL) {
        const char *why = !v->opts->allow_anonymous ? WHY_PARTNER : anon_ok ? "" : WHY_ALIAS;
        need_string(v, call, "userId", why);
        opt_type(v, call, "anonymousId", json_type_string);
        return;
    }
    if (gw_json_get(call, "anonymousId") == NULL) {
        add(v, "userId", GW_RULE_REQUIRED,
            "userId or anonymousId is required: Segment drops a call with neither");
        return;
    }
    need_string(v, call, "anonymousId", "");
}

static void check_message_id(struct vctx *v, json_object *call)
{
    json_object *val = gw_json_get(call, "messageId");
    if (val == NULL) {
        return;
    }
    if (!json_object_is_type(val, json_type_string)) {
        add(v, "messageId", GW_RULE_TYPE, "messageId must be a string, not %s", jtype(val));
        return;
    }
    size_t n = utf8_chars(json_object_get_string(val));
    if (n == 0) {
        add(v, "messageId", GW_RULE_FORMAT,
            "messageId is empty: Segment dedupes on it, so such calls collide");
    } else if (n >= GW_SPEC_MAX_MESSAGE_ID) {
        add(v, "messageId", GW_RULE_SIZE,
            "messageId is %zu characters; Segment takes fewer than %d", n, GW_SPEC_MAX_MESSAGE_ID);
    }
}

static void check_timestamps(struct vctx *v, json_object *call)
{
    static const char *const names[] = {"timestamp", "sentAt", "originalTimestamp"};
    for (size_t i = 0; i < COUNT(names); i++) {
        json_object *val = gw_json_get(call, names[i]);
        struct clip c;
        if (val == NULL) {
            continue;
        }
        if (!json_object_is_type(val, json_type_string)) {
            add(v, names[i], GW_RULE_TYPE, "%s must be an ISO-8601 date-time string, not %s",
                names[i], jtype(val));
        } else if (!gw_catalog_date_ok(json_object_get_string(val), true)) {
            add(v, names[i], GW_RULE_FORMAT,
                "%s '%s' is not an ISO-8601 date-time with a time zone such as "
                "2017-12-15T00:59:29.000Z",
                names[i], clip(&c, json_object_get_string(val)));
        }
    }
}

/* ---- context ---- */

static void check_integration_name(struct vctx *v, json_object *val)
{
    static const char f[] = "context.integration.name";
    const char *want = v->opts->integration;
    struct clip c;
    if (val == NULL) {
        add(v, f, GW_RULE_INTEGRATION, "%s is required: the slugified name of the tool (\"%s\")", f,
            want != NULL ? want : "your-tool");
        return;
    }
    if (!json_object_is_type(val, json_type_string)) {
        add(v, f, GW_RULE_INTEGRATION, "%s must be a string, not %s", f, jtype(val));
        return;
    }
    const char *name = json_object_get_string(val);
    if (want != NULL && strcmp(name, want) != 0) {
        add(v, f, GW_RULE_INTEGRATION, "%s '%s' is not this source's integration '%s'", f,
            clip(&c, name), want);
    } else if (want == NULL && !is_slug(name)) {
        add(v, f, GW_RULE_INTEGRATION,
            "%s '%s' is not a slug (lowercase letters, digits, inner hyphens)", f, clip(&c, name));
    }
}

static void check_integration_version(struct vctx *v, json_object *val)
{
    static const char f[] = "context.integration.version";
    struct clip c;
    if (val == NULL) {
        add(v, f, GW_RULE_INTEGRATION,
            "%s is required: a semantic version, \"1.0.0\" to start with", f);
    } else if (!json_object_is_type(val, json_type_string)) {
        add(v, f, GW_RULE_INTEGRATION, "%s must be a string such as \"1.0.0\", not %s", f,
            jtype(val));
    } else if (!is_semver(json_object_get_string(val))) {
        add(v, f, GW_RULE_INTEGRATION,
            "%s '%s' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)", f,
            clip(&c, json_object_get_string(val)));
    }
}

static void check_integration(struct vctx *v, json_object *integ)
{
    if (integ == NULL) {
        add(v, "context.integration", GW_RULE_INTEGRATION,
            "context.integration is required: partner sources send "
            "{\"name\": \"<slug>\", \"version\": \"1.0.0\"}");
    } else if (!json_object_is_type(integ, json_type_object)) {
        add(v, "context.integration", GW_RULE_INTEGRATION,
            "context.integration must be an object with name and version, not %s", jtype(integ));
    } else {
        check_integration_name(v, gw_json_get(integ, "name"));
        check_integration_version(v, gw_json_get(integ, "version"));
    }
}

static void check_context(struct vctx *v, json_object *call)
{
    json_object *ctx = gw_json_get(call, "context");
    if (ctx != NULL && !json_object_is_type(ctx, json_type_object)) {
        add(v, "context", GW_RULE_TYPE, "context must be an object, not %s", jtype(ctx));
        ctx = NULL;
    }
    check_integration(v, gw_json_get(ctx, "integration"));
    if (ctx == NULL) {
        return;
    }
    for (const struct gw_catalog_field *f = gw_catalog_context_fields; f->name != NULL; f++) {
        json_object *val = gw_json_get(ctx, f->name);
        /* traits is checked, and walked, by check_bag() below. */
        if (val != NULL && strcmp(f->name, "traits") != 0 && !gw_catalog_type_ok(f->type, val)) {
            char field[64];
            snprintf(field, sizeof(field), "context.%s", f->name);
            add(v, field, GW_RULE_TYPE, "%s must be %s, not %s (a context field of the Spec)",
                field, gw_catalog_type_name(f->type), jtype(val));
        }
    }
    struct walk w = {.v = v, .fold = true, .what = "trait", .owner = "a reserved trait"};
    check_bag(&w, ctx, "traits", "context.traits", gw_catalog_identify_traits);
}

/* ---- Per call type ---- */

static void check_event_name(struct vctx *v, const char *name)
{
    struct clip c;
    enum gw_casing casing = v->opts->event_casing;
    if (!gw_casing_check(casing, name)) {
        add(v, "event", GW_RULE_CASING, "event name '%s' is not in %s", clip(&c, name),
            gw_casing_name(casing));
    }
    const struct gw_catalog_event *near = gw_catalog_event_near(name);
    if (near != NULL) {
        add(v, "event", GW_RULE_SEMANTIC, "'%s' is close to the Spec event '%s'; use the Spec name",
            clip(&c, name), near->name);
    }
}

static void check_plan(struct vctx *v, json_object *call, const char *name);

static void check_track(struct vctx *v, json_object *call)
{
    const char *name = need_string(v, call, "event", ": name what happened (\"Order Completed\")");
    const struct gw_catalog_event *ev = name != NULL ? gw_catalog_event_find(name) : NULL;
    char owner[160] = "";
    if (name != NULL && ev == NULL) {
        check_event_name(v, name);
    }
    if (ev != NULL) {
        snprintf(owner, sizeof(owner), "the Spec event '%s'", ev->name);
    }
    struct walk w = {
        .v = v,
        .what = "property",
        .owner = owner,
        .fallback = gw_catalog_track_props,
        .fallback_owner = "a reserved track property",
    };
    check_bag(&w, call, "properties", "properties", ev != NULL ? ev->props : NULL);
    if (name != NULL && v->opts->plan != NULL) {
        check_plan(v, call, name);
    }
}

/* True when this call already has a violation at field (the catalog typed
 * it): the plan does not say the same thing twice. */
static bool reported(const struct vctx *v, const char *field)
{
    size_t n = v->out->n;
    for (size_t i = n - (v->count < n ? v->count : n); i < n; i++) {
        if (strcmp(v->out->v[i].field, field) == 0) {
            return true;
        }
    }
    return false;
}

/* The tracking plan: an unplanned event (strict plans), a required property
 * missing, a planned property of the wrong type. */
static void check_plan(struct vctx *v, json_object *call, const char *name)
{
    const struct gw_spec_plan *plan = v->opts->plan;
    const struct gw_plan_event *ev = gw_plan_find(plan, name);
    struct clip c;
    if (ev == NULL) {
        if (plan->strict) {
            add(v, "event", GW_RULE_UNPLANNED, "event '%s' is not in the source's tracking plan",
                clip(&c, name));
        }
        return;
    }
    json_object *props = gw_json_get(call, "properties");
    for (size_t i = 0; i < ev->n; i++) {
        const struct gw_plan_prop *pp = &ev->props[i];
        json_object *val = gw_json_get(props, pp->name);
        char field[300];
        snprintf(field, sizeof(field), "properties.%s", pp->name);
        if (val == NULL && pp->required) {
            add(v, field, GW_RULE_REQUIRED, "the tracking plan requires %s on '%s'", field,
                ev->name);
        } else if (val != NULL && !gw_catalog_type_ok(pp->type, val) && !reported(v, field)) {
            add(v, field, GW_RULE_TYPE, "the tracking plan types %s as %s, not %s", field,
                gw_catalog_type_name(pp->type), jtype(val));
        } else if (val != NULL && pp->type == GW_CATALOG_DATE && !reported(v, field) &&
                   !gw_catalog_date_ok(json_object_get_string(val), false)) {
            add(v, field, GW_RULE_FORMAT, "the tracking plan types %s as an ISO-8601 date", field);
        }
    }
}

static void check_view(struct vctx *v, json_object *call, const struct gw_catalog_field *props,
                       const char *owner)
{
    opt_type(v, call, "name", json_type_string);
    opt_type(v, call, "category", json_type_string);
    struct walk w = {.v = v, .what = "property", .owner = owner};
    check_bag(&w, call, "properties", "properties", props);
}

static void check_traits(struct vctx *v, json_object *call, const struct gw_catalog_field *traits,
                         const char *owner)
{
    struct walk w = {.v = v, .fold = true, .what = "trait", .owner = owner};
    check_bag(&w, call, "traits", "traits", traits);
}

static void check_call(struct vctx *v, json_object *call, enum gw_call_type k)
{
    switch (k) {
    case GW_CALL_TRACK:
        check_track(v, call);
        break;
    case GW_CALL_IDENTIFY:
        check_traits(v, call, gw_catalog_identify_traits, "a reserved identify trait");
        break;
    case GW_CALL_PAGE:
        check_view(v, call, gw_catalog_page_props, "a reserved page property");
        break;
    case GW_CALL_SCREEN:
        check_view(v, call, gw_catalog_screen_props, "a reserved screen property");
        break;
    case GW_CALL_GROUP:
        need_string(v, call, "groupId", ": the id of the account the user belongs to");
        check_traits(v, call, gw_catalog_group_traits, "a reserved group trait");
        break;
    case GW_CALL_ALIAS:
        need_string(v, call, "previousId", ": the id being merged into userId");
        break;
    case K_UNKNOWN:
        break;
    }
}

static bool in_list(const char *list, const char *key)
{
    size_t n = strlen(key);
    while (*list != '\0') {
        size_t k = strcspn(list, " ");
        if (k == n && memcmp(list, key, n) == 0) {
            return true;
        }
        list += k + (list[k] == ' ');
    }
    return false;
}

static void check_unplanned(struct vctx *v, json_object *call, enum gw_call_type k)
{
    if (k == K_UNKNOWN) {
        return;
    }
    struct json_object_iterator it = json_object_iter_begin(call);
    struct json_object_iterator end = json_object_iter_end(call);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        struct clip c;
        if (!in_list(COMMON_FIELDS, key) && !gw_calltype_has_field(k, key, strlen(key))) {
            add(v, key, GW_RULE_UNPLANNED,
                "top-level field '%s' is not part of a %s call; move it into %s", clip(&c, key),
                gw_calltype(k)->name, gw_calltype(k)->stray);
        }
    }
}

/* ---- Public ---- */

void gw_spec_opts_init(struct gw_spec_opts *o)
{
    o->integration = NULL;
    o->event_casing = GW_CASING_PROPER;
    o->key_casing = GW_CASING_SNAKE;
    o->allow_anonymous = false;
    o->plan = NULL;
}

size_t gw_spec_validate(const struct gw_spec_opts *opts, json_object *call, size_t index,
                        struct gw_violations *violations)
{
    struct gw_spec_opts defaults;
    if (opts == NULL) {
        gw_spec_opts_init(&defaults);
        opts = &defaults;
    }
    struct vctx v = {.opts = opts, .out = violations, .index = index, .event = "unknown"};
    if (!json_object_is_type(call, json_type_object)) {
        add(&v, "(root)", GW_RULE_TYPE, "a call must be a JSON object, not %s", jtype(call));
        return v.count;
    }
    enum gw_call_type k = kind_of(call);
    const char *event = gw_json_get_str(call, "event");
    v.event = k == GW_CALL_TRACK && event != NULL && event[0] != '\0' ? event : kind_name(k);
    if (k == K_UNKNOWN) {
        check_type(&v, call);
    }
    check_identity(&v, call, k);
    check_message_id(&v, call);
    check_timestamps(&v, call);
    check_context(&v, call);
    opt_type(&v, call, "integrations", json_type_object);
    check_call(&v, call, k);
    check_unplanned(&v, call, k);
    GW_FREE(v.path);
    return v.count;
}

size_t gw_spec_check_size(size_t len, size_t index, const char *event,
                          struct gw_violations *violations)
{
    if (len <= GW_SPEC_MAX_CALL_BYTES) {
        return 0;
    }
    struct vctx v = {.out = violations, .index = index, .event = event != NULL ? event : "unknown"};
    add(&v, "(root)", GW_RULE_SIZE,
        "the call is %zu bytes serialized; Segment takes at most %d bytes per call", len,
        GW_SPEC_MAX_CALL_BYTES);
    return 1;
}
