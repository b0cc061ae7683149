/* validate.c -- checks one Segment call against the Spec and the partner
 * rules; every violation carries a path into the call.
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calltype.h"
#include "../json.h"
#include "../mem.h"
#include "catalog.h"
#include "format.h"
#include "names.h"
#include "plan.h"
#include "spec.h"
#include "top.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* json-c refuses deeper input by default; calls built in code could nest
 * deeper, and a walk past this would only find more of the same. */
#define MAX_DEPTH 32
/* Values echoed in messages are cut at this many bytes. */
#define CLIP_MAX 64

#define WHY_PARTNER ": map the customer's own id (the partner rule of the Spec)"
#define WHY_ALIAS ": alias merges previousId into it"

/* A call whose type is none of the six. */
#define K_UNKNOWN GW_TOP_UNKNOWN

/* The call type's name, "unknown" for K_UNKNOWN. */
static const char *kind_name(enum gw_call_type k)
{
    return k == K_UNKNOWN ? "unknown" : gw_calltype(k)->name;
}

/* Paths longer than this go to the heap. */
#define PATH_INLINE 256
/* A walk nests at most this deep: a bag, then a key or an index per level. */
#define MAX_SEGS (2 * MAX_DEPTH + 4)

/* One step of the path being walked, kept as pointers: the path is written
 * out only for a violation. */
struct seg {
    const char *s; /* borrowed: a key, the bag's path; NULL for an index */
    size_t n;      /* its length, or the index */
    bool raw;      /* the bag's path, written as it is */
};

struct vctx {
    const struct gw_spec_opts *opts;
    struct gw_violations *out; /* borrowed */
    size_t index;
    const char *event; /* borrowed, "E" of each violation */
    size_t count;
    struct seg segs[MAX_SEGS]; /* the field being walked: "properties", "products", [2] */
    size_t nsegs;
    char *path; /* path_of()'s text: path_buf, or the heap when longer */
    size_t path_cap;
    char path_buf[PATH_INLINE];
};

/* One walk over properties or traits: the same code checks types against
 * the catalog and key names against the convention. */
struct walk {
    struct vctx *v;
    bool fold;         /* traits: "first_name" is firstName */
    const char *what;  /* "property" or "trait" */
    const char *owner; /* where a field's type is documented; NULL: the Spec event ev */
    const struct gw_catalog_event *ev;
    const struct gw_catalog_field *fallback; /* top-level fields of every such call */
    const char *fallback_owner;
};

/* An owner as messages name it; the Spec event's is formatted into buf only
 * when a message needs it. */
struct owner_buf {
    char s[160];
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

static void path_push(struct vctx *v, const char *s, size_t n, bool raw)
{
    GW_ASSERT(v->nsegs < MAX_SEGS);
    v->segs[v->nsegs++] = (struct seg){s, n, raw};
}

static void path_pop(struct vctx *v)
{
    v->nsegs--;
}

/* Appends n bytes of s to the path text at *len. */
static void path_put(struct vctx *v, size_t *len, const char *s, size_t n)
{
    if (*len + n + 1 > v->path_cap) {
        v->path_cap = 2 * (*len + n + 1);
        if (v->path == v->path_buf) {
            v->path = memcpy(gw_malloc(v->path_cap), v->path_buf, *len);
        } else {
            v->path = gw_realloc(v->path, v->path_cap);
        }
    }
    memcpy(v->path + *len, s, n);
    *len += n;
    v->path[*len] = '\0';
}

/* Returns the field being walked as text ("properties.products[2]"), valid
 * until the next call. Keys that would make the dotted path ambiguous are
 * bracketed. */
static const char *path_of(struct vctx *v)
{
    size_t len = 0;
    path_put(v, &len, "", 0);
    for (size_t i = 0; i < v->nsegs; i++) {
        const struct seg *g = &v->segs[i];
        if (g->s == NULL) {
            char buf[32];
            int n = snprintf(buf, sizeof(buf), "[%zu]", g->n);
            path_put(v, &len, buf, (size_t)n);
        } else if (g->raw) {
            path_put(v, &len, g->s, g->n);
        } else {
            bool plain = g->n > 0 && strcspn(g->s, ".[]\"") == g->n;
            path_put(v, &len, plain ? "." : "[\"", plain ? 1 : 2);
            path_put(v, &len, g->s, g->n);
            if (!plain) {
                path_put(v, &len, "\"]", 2);
            }
        }
    }
    return v->path;
}

/* ---- Walks over properties and traits ---- */

static const char *owner_text(const struct walk *w, const char *owner, struct owner_buf *b)
{
    if (owner != NULL) {
        return owner;
    }
    b->s[0] = '\0';
    if (w->ev != NULL) {
        snprintf(b->s, sizeof(b->s), "the Spec event '%s'", w->ev->name);
    }
    return b->s;
}

static bool check_field(struct walk *w, const struct gw_catalog_field *f, json_object *val,
                        const char *owner)
{
    struct vctx *v = w->v;
    struct clip c;
    struct owner_buf b;
    if (!gw_catalog_type_ok(f->type, val)) {
        bool fraction = f->type == GW_CATALOG_INTEGER && json_object_is_type(val, json_type_double);
        const char *path = path_of(v);
        add(v, path, GW_RULE_TYPE, "%s must be %s, not %s (%s)", path,
            gw_catalog_type_name(f->type), fraction ? "a fraction" : jtype(val),
            owner_text(w, owner, &b));
        return false;
    }
    if (f->type == GW_CATALOG_DATE && !gw_catalog_date_ok(json_object_get_string(val), false)) {
        const char *path = path_of(v);
        add(v, path, GW_RULE_FORMAT,
            "%s '%s' is not an ISO-8601 date such as 2017-12-15 or 2017-12-15T00:59:29Z (%s)", path,
            clip(&c, json_object_get_string(val)), owner_text(w, owner, &b));
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
        path_push(v, NULL, i, false);
        if (typed && (item == NULL || !gw_catalog_type_ok(want, item))) {
            struct owner_buf b;
            const char *path = path_of(v);
            add(v, path, GW_RULE_TYPE, "%s must be %s, not %s (%s)", path,
                gw_catalog_type_name(want), jtype(item), owner_text(w, owner, &b));
        } else if (json_object_is_type(item, json_type_object)) {
            walk_object(w, item, f != NULL ? f->nested : NULL, depth + 1);
        } else {
            walk_value(w, item, NULL, owner, depth + 1);
        }
        path_pop(v);
    }
}

/* Checks val (at the walk's path) against f, which may be NULL, then what it holds. */
static void walk_value(struct walk *w, json_object *val, const struct gw_catalog_field *f,
                       const char *owner, unsigned depth)
{
    if (val == NULL || depth >= MAX_DEPTH) {
        return;
    }
    bool typed = f != NULL && check_field(w, f, val, owner);
    enum json_type t = json_object_get_type(val);
    if (t == json_type_object) {
        walk_object(w, val, typed ? f->nested : NULL, depth + 1);
    } else if (t == json_type_array) {
        walk_array(w, val, typed ? f : NULL, owner, depth + 1);
    }
}

/* The Spec's own names pass whatever the convention: the documented field
 * itself, reserved traits also in snake_case, and its camelCase names. */
static bool key_ok(const struct walk *w, const struct gw_name_key *key,
                   const struct gw_catalog_field *f)
{
    if (gw_casing_check(w->v->opts->key_casing, key->s) || gw_catalog_spec_key(key)) {
        return true;
    }
    return f != NULL &&
           (strcmp(f->name, key->s) == 0 || (w->fold && gw_casing_check(GW_CASING_SNAKE, key->s)));
}

static void walk_object(struct walk *w, json_object *obj, const struct gw_catalog_field *fields,
                        unsigned depth)
{
    struct vctx *v = w->v;
    for (struct lh_entry *e = gw_top_members(obj); e != NULL; e = lh_entry_next(e)) {
        struct gw_name_key key;
        gw_name_key(&key, lh_entry_k(e), w->fold);
        path_push(v, key.s, key.len, false);
        const char *owner = w->owner;
        const struct gw_catalog_field *f = gw_catalog_field_get(fields, &key, w->fold);
        if (f == NULL && depth == 0) {
            f = gw_catalog_field_get(w->fallback, &key, w->fold);
            owner = w->fallback_owner;
        }
        if (!key_ok(w, &key, f)) {
            struct clip c;
            add(v, path_of(v), GW_RULE_CASING, "%s key '%s' is not in %s", w->what, clip(&c, key.s),
                gw_casing_name(v->opts->key_casing));
        }
        walk_value(w, lh_entry_v(e), f, owner, depth);
        path_pop(v);
    }
}

/* Walks bag (properties or traits, NULL when absent), shown as path. */
static void check_bag(struct walk *w, json_object *bag, const char *path,
                      const struct gw_catalog_field *fields)
{
    if (bag == NULL) {
        return;
    }
    path_push(w->v, path, strlen(path), true);
    if (json_object_is_type(bag, json_type_object)) {
        walk_object(w, bag, fields, 0);
    } else {
        add(w->v, path, GW_RULE_TYPE, "%s must be an object, not %s", path, jtype(bag));
    }
    path_pop(w->v);
}

/* ---- Common fields ---- */

/* Checks that call.name is a non-empty string; why ends the message when it
 * is missing or empty. Returns the string (borrowed) or NULL. */
static const char *need_string(struct vctx *v, json_object *val, const char *name, const char *why)
{
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

static void opt_type(struct vctx *v, json_object *val, const char *name, enum json_type want)
{
    if (val != NULL && !json_object_is_type(val, want)) {
        add(v, name, GW_RULE_TYPE, "%s must be %s, not %s", name,
            want == json_type_object ? "an object" : "a string", jtype(val));
    }
}

/* Reports why the call has none of the six types; t is its type field. */
static void check_type(struct vctx *v, json_object *t)
{
    struct clip c;
    if (t == NULL) {
        add(v, "type", GW_RULE_REQUIRED, "type is required: one of " GW_CALL_TYPE_LIST);
    } else if (!json_object_is_type(t, json_type_string)) {
        add(v, "type", GW_RULE_TYPE, "type must be a string, not %s", jtype(t));
    } else {
        add(v, "type", GW_RULE_FORMAT, "type '%s' is not one of " GW_CALL_TYPE_LIST,
            clip(&c, json_object_get_string(t)));
    }
}

static void check_identity(struct vctx *v, const struct gw_top_fields *t, enum gw_call_type k)
{
    bool anon_ok = v->opts->allow_anonymous && k != GW_CALL_ALIAS;
    if (!anon_ok || t->v[GW_TOP_USER_ID] != NULL) {
        const char *why = !v->opts->allow_anonymous ? WHY_PARTNER : anon_ok ? "" : WHY_ALIAS;
        need_string(v, t->v[GW_TOP_USER_ID], "userId", why);
        opt_type(v, t->v[GW_TOP_ANONYMOUS_ID], "anonymousId", json_type_string);
        return;
    }
    if (t->v[GW_TOP_ANONYMOUS_ID] == NULL) {
        add(v, "userId", GW_RULE_REQUIRED,
            "userId or anonymousId is required: Segment drops a call with neither");
        return;
    }
    need_string(v, t->v[GW_TOP_ANONYMOUS_ID], "anonymousId", "");
}

static void check_message_id(struct vctx *v, json_object *val)
{
    if (val == NULL) {
        return;
    }
    if (!json_object_is_type(val, json_type_string)) {
        add(v, "messageId", GW_RULE_TYPE, "messageId must be a string, not %s", jtype(val));
        return;
    }
    size_t n = gw_format_utf8_chars(json_object_get_string(val));
    if (n == 0) {
        add(v, "messageId", GW_RULE_FORMAT,
            "messageId is empty: Segment dedupes on it, so such calls collide");
    } else if (n >= GW_SPEC_MAX_MESSAGE_ID) {
        add(v, "messageId", GW_RULE_SIZE,
            "messageId is %zu characters; Segment takes fewer than %d", n, GW_SPEC_MAX_MESSAGE_ID);
    }
}

static void check_timestamps(struct vctx *v, const struct gw_top_fields *t)
{
    static const enum gw_top fields[] = {GW_TOP_TIMESTAMP, GW_TOP_SENT_AT,
                                         GW_TOP_ORIGINAL_TIMESTAMP};
    for (size_t i = 0; i < COUNT(fields); i++) {
        json_object *val = t->v[fields[i]];
        const char *name = gw_top_name(fields[i]);
        struct clip c;
        if (val == NULL) {
            continue;
        }
        if (!json_object_is_type(val, json_type_string)) {
            add(v, name, GW_RULE_TYPE, "%s must be an ISO-8601 date-time string, not %s", name,
                jtype(val));
        } else if (!gw_catalog_date_ok(json_object_get_string(val), true)) {
            add(v, name, GW_RULE_FORMAT,
                "%s '%s' is not an ISO-8601 date-time with a time zone such as "
                "2017-12-15T00:59:29.000Z",
                name, clip(&c, json_object_get_string(val)));
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
    } else if (want == NULL && !gw_format_slug(name)) {
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
    } else if (!gw_format_semver(json_object_get_string(val))) {
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
        json_object *name = NULL, *version = NULL;
        for (struct lh_entry *e = gw_top_members(integ); e != NULL; e = lh_entry_next(e)) {
            const char *key = lh_entry_k(e);
            name = strcmp(key, "name") == 0 ? lh_entry_v(e) : name;
            version = strcmp(key, "version") == 0 ? lh_entry_v(e) : version;
        }
        check_integration_name(v, name);
        check_integration_version(v, version);
    }
}

static void check_context(struct vctx *v, json_object *ctx)
{
    if (ctx != NULL && !json_object_is_type(ctx, json_type_object)) {
        add(v, "context", GW_RULE_TYPE, "context must be an object, not %s", jtype(ctx));
        ctx = NULL;
    }
    /* One pass finds integration and traits, and whether a context field of
     * the Spec has the wrong type; only then are they reported, in the
     * catalog's order. */
    json_object *integ = NULL, *traits = NULL;
    bool mistyped = false;
    for (struct lh_entry *e = gw_top_members(ctx); e != NULL; e = lh_entry_next(e)) {
        struct gw_name_key key;
        json_object *val = lh_entry_v(e);
        gw_name_key(&key, lh_entry_k(e), false);
        const struct gw_catalog_field *f =
            gw_catalog_field_get(gw_catalog_context_fields, &key, false);
        if (f == NULL) {
            integ = strcmp(key.s, "integration") == 0 ? val : integ;
        } else if (strcmp(f->name, "traits") == 0) {
            traits = val;
        } else {
            mistyped = mistyped || (val != NULL && !gw_catalog_type_ok(f->type, val));
        }
    }
    check_integration(v, integ);
    for (const struct gw_catalog_field *f = gw_catalog_context_fields; mistyped && f->name != NULL;
         f++) {
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
    check_bag(&w, traits, "context.traits", gw_catalog_identify_traits);
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

static void check_plan(struct vctx *v, json_object *props, const char *name);

static void check_track(struct vctx *v, const struct gw_top_fields *t)
{
    const char *name =
        need_string(v, t->v[GW_TOP_EVENT], "event", ": name what happened (\"Order Completed\")");
    const struct gw_catalog_event *ev = name != NULL ? gw_catalog_event_find(name) : NULL;
    if (name != NULL && ev == NULL) {
        check_event_name(v, name);
    }
    struct walk w = {
        .v = v,
        .what = "property",
        .ev = ev,
        .fallback = gw_catalog_track_props,
        .fallback_owner = "a reserved track property",
    };
    check_bag(&w, t->v[GW_TOP_PROPERTIES], "properties", ev != NULL ? ev->props : NULL);
    if (name != NULL && v->opts->plan != NULL) {
        check_plan(v, t->v[GW_TOP_PROPERTIES], name);
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
static void check_plan(struct vctx *v, json_object *props, const char *name)
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

static void check_view(struct vctx *v, const struct gw_top_fields *t,
                       const struct gw_catalog_field *props, const char *owner)
{
    opt_type(v, t->v[GW_TOP_NAME], "name", json_type_string);
    opt_type(v, t->v[GW_TOP_CATEGORY], "category", json_type_string);
    struct walk w = {.v = v, .what = "property", .owner = owner};
    check_bag(&w, t->v[GW_TOP_PROPERTIES], "properties", props);
}

static void check_traits(struct vctx *v, const struct gw_top_fields *t,
                         const struct gw_catalog_field *traits, const char *owner)
{
    struct walk w = {.v = v, .fold = true, .what = "trait", .owner = owner};
    check_bag(&w, t->v[GW_TOP_TRAITS], "traits", traits);
}

static void check_call(struct vctx *v, const struct gw_top_fields *t, enum gw_call_type k)
{
    switch (k) {
    case GW_CALL_TRACK:
        check_track(v, t);
        break;
    case GW_CALL_IDENTIFY:
        check_traits(v, t, gw_catalog_identify_traits, "a reserved identify trait");
        break;
    case GW_CALL_PAGE:
        check_view(v, t, gw_catalog_page_props, "a reserved page property");
        break;
    case GW_CALL_SCREEN:
        check_view(v, t, gw_catalog_screen_props, "a reserved screen property");
        break;
    case GW_CALL_GROUP:
        need_string(v, t->v[GW_TOP_GROUP_ID], "groupId",
                    ": the id of the account the user belongs to");
        check_traits(v, t, gw_catalog_group_traits, "a reserved group trait");
        break;
    case GW_CALL_ALIAS:
        need_string(v, t->v[GW_TOP_PREVIOUS_ID], "previousId", ": the id being merged into userId");
        break;
    case K_UNKNOWN:
        break;
    }
}

static void check_unplanned(struct vctx *v, json_object *call, enum gw_call_type k)
{
    for (struct lh_entry *e = gw_top_members(call); e != NULL; e = lh_entry_next(e)) {
        const char *key = lh_entry_k(e);
        struct clip c;
        if (!gw_top_planned(key, k)) {
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
    /* field by field: the path's arrays are written only as they are used */
    struct vctx v;
    v.opts = opts;
    v.out = violations;
    v.index = index;
    v.event = "unknown";
    v.count = 0;
    v.nsegs = 0;
    v.path = v.path_buf;
    v.path_cap = sizeof(v.path_buf);
    if (!json_object_is_type(call, json_type_object)) {
        add(&v, "(root)", GW_RULE_TYPE, "a call must be a JSON object, not %s", jtype(call));
        return v.count;
    }
    struct gw_top_fields t = {0};
    enum gw_call_type k = gw_top_read(call, &t);
    json_object *event = t.v[GW_TOP_EVENT];
    bool named =
        json_object_is_type(event, json_type_string) && json_object_get_string(event)[0] != '\0';
    v.event = k == GW_CALL_TRACK && named ? json_object_get_string(event) : kind_name(k);
    if (k == K_UNKNOWN) {
        check_type(&v, t.v[GW_TOP_TYPE]);
    }
    check_identity(&v, &t, k);
    check_message_id(&v, t.v[GW_TOP_MESSAGE_ID]);
    check_timestamps(&v, &t);
    check_context(&v, t.v[GW_TOP_CONTEXT]);
    opt_type(&v, t.v[GW_TOP_INTEGRATIONS], "integrations", json_type_object);
    check_call(&v, &t, k);
    if (t.stray) {
        check_unplanned(&v, call, k);
    }
    if (v.path != v.path_buf) {
        free(v.path);
    }
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
