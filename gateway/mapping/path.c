/* path.c -- path expressions over json-c values, compiled once:
 * "a.b[0].c", "items[*].id", "lines[?type=subscription].id" (the first
 * element whose member has the value), "lines[*?type=subscription].id"
 * (every such element), "$body.x", "$header.X-GitHub-Event", "$query.topic",
 * "$received_at".
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../decode.h"
#include "../json.h"
#include "../mem.h"
#include "rule.h"

static void push_seg(struct gw_path *p, struct gw_path_seg seg)
{
    if (seg.key != NULL) {
        gw_json_key_init(&seg.k, seg.key);
    }
    p->segs = gw_realloc(p->segs, (p->n + 1) * sizeof(*p->segs));
    p->segs[p->n++] = seg;
    if (seg.wildcard) {
        p->multi = true;
    }
}

/* Parses the filter "k.k2=v]" or "k=\"v\"]" at c into seg; returns the end. */
static const char *parse_filter(const char *c, struct gw_path_seg *seg, const char **err)
{
    const char *eq = c + strcspn(c, "=]");
    if (*eq != '=' || eq == c) {
        *err = "a filter is [?member=value]";
        return NULL;
    }
    for (const char *k = c; k < eq;) {
        size_t len = strcspn(k, ".=");
        if (len == 0 || (k[len] == '.' && k + len + 1 == eq)) {
            *err = "empty member name in a filter";
            return NULL;
        }
        seg->fkeys = gw_realloc(seg->fkeys, (seg->n_fkeys + 1) * sizeof(*seg->fkeys));
        seg->fkeys[seg->n_fkeys++] = gw_strndup(k, len);
        k += len + (k[len] == '.');
    }
    const char *v = eq + 1;
    const char *end = NULL;
    if (*v == '"') {
        end = strchr(v + 1, '"');
        if (end == NULL || end[1] != ']') {
            *err = "unterminated \"value\" in a filter";
            return NULL;
        }
        seg->fvalue = gw_strndup(v + 1, (size_t)(end - v - 1));
        return end + 2;
    }
    end = strchr(v, ']');
    if (end == NULL) {
        *err = "unterminated [?filter]";
        return NULL;
    }
    seg->fvalue = gw_strndup(v, (size_t)(end - v));
    return end + 1;
}

/* Parses "[N]", "[*]", "[\"key\"]", "[?k=v]" or "[*?k=v]" at *s; advances *s. */
static bool parse_bracket(const char **s, struct gw_path *p, const char **err)
{
    const char *c = *s + 1;
    if (*c == '?' || (*c == '*' && c[1] == '?')) {
        struct gw_path_seg seg = {.filter = true, .wildcard = *c == '*'};
        const char *end = parse_filter(c + 1 + (*c == '*'), &seg, err);
        push_seg(p, seg); /* freed with the path, also on error */
        if (end == NULL) {
            return false;
        }
        *s = end;
        return true;
    }
    if (*c == '*' && c[1] == ']') {
        push_seg(p, (struct gw_path_seg){.wildcard = true});
        *s = c + 2;
        return true;
    }
    if (*c == '"') {
        const char *end = strchr(c + 1, '"');
        if (end == NULL || end[1] != ']' || end == c + 1) {
            *err = "unterminated [\"key\"]";
            return false;
        }
        push_seg(p, (struct gw_path_seg){.key = gw_strndup(c + 1, (size_t)(end - c - 1))});
        *s = end + 2;
        return true;
    }
    if (!isdigit((unsigned char)*c)) {
        *err = "expected an index, *, ?filter or a quoted key inside [ ]";
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(c, &end, 10);
    if (errno != 0 || *end != ']' || v > 1000000) {
        *err = "bad array index";
        return false;
    }
    push_seg(p, (struct gw_path_seg){.index = (size_t)v});
    *s = end + 1;
    return true;
}

static bool parse_segments(const char *s, struct gw_path *p, const char **err)
{
    bool need_key = true; /* at the start and after '.' */
    while (*s != '\0') {
        if (*s == '[') {
            if (!parse_bracket(&s, p, err)) {
                return false;
            }
            need_key = false;
            continue;
        }
        if (*s == '.') {
            if (need_key) {
                *err = "empty path segment";
                return false;
            }
            s++;
            need_key = true;
            if (*s == '\0') {
                *err = "path ends with '.'";
                return false;
            }
            continue;
        }
        if (!need_key) {
            *err = "expected '.' or '[' after ']'";
            return false;
        }
        size_t len = strcspn(s, ".[]{}");
        if (len == 0) {
            *err = "unexpected character in path";
            return false;
        }
        if (len == 1 && *s == '*') {
            push_seg(p, (struct gw_path_seg){.wildcard = true});
        } else {
            push_seg(p, (struct gw_path_seg){.key = gw_strndup(s, len)});
        }
        s += len;
        need_key = false;
    }
    return true;
}

static bool parse_root(const char **s, struct gw_path *p, const char **err)
{
    static const struct {
        const char *prefix;
        enum gw_path_root root;
    } roots[] = {{"$header.", GW_PATH_HEADER},          {"$query.", GW_PATH_QUERY},
                 {"$received_at", GW_PATH_RECEIVED_AT}, {"$body.", GW_PATH_BODY},
                 {"$body", GW_PATH_BODY},               {"$.", GW_PATH_EVENT},
                 {"$", GW_PATH_EVENT}};
    if (**s != '$') {
        p->root = GW_PATH_EVENT;
        return true;
    }
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t n = strlen(roots[i].prefix);
        if (strncmp(*s, roots[i].prefix, n) == 0) {
            p->root = roots[i].root;
            *s += n;
            return true;
        }
    }
    *err = "a path may start with $header., $query., $body., $received_at or $. only";
    return false;
}

enum gw_rc gw_path_compile(const char *text, struct gw_path *out, const char **err)
{
    struct gw_path p = {.text = gw_strdup(text)};
    const char *s = text;
    bool ok = text[0] != '\0';
    if (!ok) {
        *err = "empty path";
    }
    ok = ok && parse_root(&s, &p, err);
    if (ok && (p.root == GW_PATH_HEADER || p.root == GW_PATH_QUERY)) {
        /* header and parameter names are taken whole: they may hold dots */
        if (*s == '\0') {
            *err = "missing header or parameter name";
            ok = false;
        } else {
            p.name = gw_strdup(s);
        }
    } else if (ok && p.root == GW_PATH_RECEIVED_AT && *s != '\0') {
        *err = "$received_at takes no path after it";
        ok = false;
    } else if (ok) {
        ok = parse_segments(s, &p, err);
    }
    if (!ok) {
        gw_path_fini(&p);
        return GW_ERR_INVALID;
    }
    *out = p;
    return GW_OK;
}

void gw_path_fini(struct gw_path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->segs[i].key);
        for (size_t k = 0; k < p->segs[i].n_fkeys; k++) {
            free(p->segs[i].fkeys[k]);
        }
        free(p->segs[i].fkeys);
        free(p->segs[i].fvalue);
    }
    GW_FREE(p->segs);
    GW_FREE(p->text);
    GW_FREE(p->name);
    p->n = 0;
}

/* True when the element's filter member has the filter's value as text. */
static bool filter_hit(const struct gw_path_seg *seg, json_object *el)
{
    for (size_t k = 0; k < seg->n_fkeys && el != NULL; k++) {
        el = gw_json_get(el, seg->fkeys[k]);
    }
    const char *text = gw_json_scalar_text(el);
    return text != NULL && strcmp(text, seg->fvalue) == 0;
}

/* The first element of array v the filter accepts, or NULL (borrowed). */
static json_object *filter_first(const struct gw_path_seg *seg, json_object *v)
{
    for (size_t k = 0; json_object_is_type(v, json_type_array) &&
                       k < json_object_array_length(v); k++) {
        json_object *el = json_object_array_get_idx(v, k);
        if (filter_hit(seg, el)) {
            return el;
        }
    }
    return NULL;
}

/* Collects the values reached from v by segs[i..] into out (a json array). */
static void walk(const struct gw_path *p, size_t i, json_object *v, json_object *out)
{
    if (v == NULL || json_object_is_type(v, json_type_null)) {
        return;
    }
    if (i == p->n) {
        json_object_array_add(out, json_object_get(v));
        return;
    }
    const struct gw_path_seg *seg = &p->segs[i];
    if (seg->key != NULL) {
        walk(p, i + 1, gw_json_get_key(v, &seg->k), out);
    } else if (seg->filter && seg->wildcard && json_object_is_type(v, json_type_array)) {
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            json_object *el = json_object_array_get_idx(v, k);
            if (filter_hit(seg, el)) {
                walk(p, i + 1, el, out);
            }
        }
    } else if (seg->filter) {
        walk(p, i + 1, filter_first(seg, v), out);
    } else if (seg->wildcard && json_object_is_type(v, json_type_array)) {
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            walk(p, i + 1, json_object_array_get_idx(v, k), out);
        }
    } else if (seg->wildcard && json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, child)
        {
            (void)key;
            walk(p, i + 1, child, out);
        }
    } else if (!seg->wildcard && json_object_is_type(v, json_type_array) &&
               seg->index < json_object_array_length(v)) {
        walk(p, i + 1, json_object_array_get_idx(v, seg->index), out);
    }
}

static json_object *walk_one(const struct gw_path *p, json_object *v)
{
    for (size_t i = 0; i < p->n && v != NULL; i++) {
        const struct gw_path_seg *seg = &p->segs[i];
        if (seg->key != NULL) {
            v = gw_json_get_key(v, &seg->k);
        } else if (seg->filter) {
            v = filter_first(seg, v);
        } else if (json_object_is_type(v, json_type_array) &&
                   seg->index < json_object_array_length(v)) {
            v = json_object_array_get_idx(v, seg->index);
        } else {
            v = NULL;
        }
    }
    if (v == NULL || json_object_is_type(v, json_type_null)) {
        return NULL;
    }
    return json_object_get(v);
}

static long double now_ms(void)
{
    struct timespec ts;
    GW_ASSERT(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    return (long double)ts.tv_sec * 1000.0L + (long double)(ts.tv_nsec / 1000000);
}

/* A header or query value as a JSON string: only when it is valid UTF-8
 * (the body is checked when decoded; these come raw), else absent. */
static json_object *text_value(const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;
    if (s == NULL || gw_decode_utf8_bad((const unsigned char *)s, len) != len) {
        return NULL;
    }
    return json_object_new_string(s);
}

json_object *gw_path_eval(const struct gw_path *p, const struct gw_map_input *in,
                          json_object *event)
{
    const char *s = NULL;
    switch (p->root) {
    case GW_PATH_HEADER:
        s = in->header ? in->header(in->arg, p->name) : NULL;
        return text_value(s);
    case GW_PATH_QUERY:
        s = in->query ? in->query(in->arg, p->name) : NULL;
        return text_value(s);
    case GW_PATH_RECEIVED_AT:
        return gw_iso8601_from_ms(in->received_at > 0 ? (long double)in->received_at
                                                      : now_ms());
    case GW_PATH_BODY:
        event = in->body;
        break;
    case GW_PATH_EVENT:
        break;
    }
    if (!p->multi) {
        return walk_one(p, event);
    }
    json_object *out = json_object_new_array();
    walk(p, 0, event, out);
    return out;
}
