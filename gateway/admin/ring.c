/* ring.c -- recent requests for the debugger, bounded by count and bytes.
 * SPDX-License-Identifier: MIT */
#include "ring.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../json.h"
#include "../mem.h"

/* One kept request: its summary (the members of a JSON object but the id,
 * without braces, so that the detail can extend it) and the large parts. */
struct item {
    uint64_t id;
    size_t bytes; /* what it counts against max_bytes */
    char *summary;
    char *headers;
    char *body; /* JSON string text of the body */
    char *calls;
    char *violations;
};

struct gw_admin_ring {
    pthread_mutex_t lock;
    struct item **v; /* max_count slots, a circle */
    size_t max_count, max_bytes;
    size_t head, count, bytes;
    uint64_t next_id;
};

struct gw_admin_ring *gw_admin_ring_create(size_t max_count, size_t max_bytes)
{
    GW_ASSERT(max_count > 0 && max_bytes > 0);
    struct gw_admin_ring *r = gw_calloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->v = gw_calloc(max_count, sizeof(*r->v));
    r->max_count = max_count;
    r->max_bytes = max_bytes;
    r->next_id = 1;
    return r;
}

static void item_free(struct item *it)
{
    if (it == NULL) {
        return;
    }
    free(it->summary);
    free(it->headers);
    free(it->body);
    free(it->calls);
    free(it->violations);
    free(it);
}

void gw_admin_ring_destroy(struct gw_admin_ring *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->count; i++) {
        item_free(r->v[(r->head + i) % r->max_count]);
    }
    free(r->v);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void add_str(json_object *o, const char *key, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        json_object_object_add(o, key, json_object_new_string(v));
    }
}

/* The summary of e: JSON object members without the braces. */
static char *summary_text(const struct gw_admin_entry *e, bool truncated)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_int64(e->at_ms));
    add_str(o, "method", e->method);
    add_str(o, "path", e->path);
    add_str(o, "source", e->source);
    json_object_object_add(o, "status", json_object_new_int(e->status));
    json_object_object_add(o, "accepted", json_object_new_int64((int64_t)e->accepted));
    json_object_object_add(o, "ignored", json_object_new_int64((int64_t)e->ignored));
    json_object_object_add(o, "rejected", json_object_new_int64((int64_t)e->rejected));
    json_object_object_add(o, "dry_run", json_object_new_boolean(e->dry_run));
    char ms[32];
    snprintf(ms, sizeof(ms), "%.3f", e->duration_ms);
    json_object_object_add(o, "ms", json_object_new_double_s(e->duration_ms, ms));
    add_str(o, "request_id", e->request_id);
    add_str(o, "write_key", e->write_key_fp);
    add_str(o, "error", e->error);
    add_str(o, "message", e->message);
    if (truncated) {
        json_object_object_add(o, "truncated", json_object_new_boolean(1));
    }
    size_t len = 0;
    const char *s = gw_json_compact(o, &len);
    GW_ASSERT(len >= 2 && s[0] == '{' && s[len - 1] == '}');
    char *out = gw_strndup(s + 1, len - 2);
    json_object_put(o);
    return out;
}

static char *json_or(const char *text, const char *dflt)
{
    return gw_strdup(text != NULL && text[0] != '\0' ? text : dflt);
}

static char *body_text(const char *body, size_t len)
{
    json_object *s = json_object_new_string_len(body ? body : "", (int)(body ? len : 0));
    char *out = gw_strdup(gw_json_compact(s, NULL));
    json_object_put(s);
    return out;
}

static size_t item_bytes(const struct item *it)
{
    return sizeof(*it) + strlen(it->summary) + strlen(it->headers) + strlen(it->body) +
           strlen(it->calls) + strlen(it->violations);
}

static struct item *item_make(const struct gw_admin_entry *e, size_t max_bytes)
{
    struct item *it = gw_calloc(1, sizeof(*it));
    it->summary = summary_text(e, false);
    it->headers = json_or(e->headers_json, "{}");
    it->body = body_text(e->body, e->body_len);
    it->calls = json_or(e->calls_json, "[]");
    it->violations = json_or(e->violations_json, "[]");
    it->bytes = item_bytes(it);
    if (it->bytes > max_bytes) {
        free(it->summary);
        it->summary = summary_text(e, true);
        free(it->body);
        free(it->calls);
        free(it->violations);
        it->body = gw_strdup("\"\"");
        it->calls = gw_strdup("[]");
        it->violations = gw_strdup("[]");
        it->bytes = item_bytes(it);
    }
    return it;
}

static void evict_oldest(struct gw_admin_ring *r)
{
    struct item *it = r->v[r->head];
    r->v[r->head] = NULL;
    r->head = (r->head + 1) % r->max_count;
    r->count--;
    r->bytes -= it->bytes;
    item_free(it);
}

uint64_t gw_admin_ring_push(struct gw_admin_ring *r, const struct gw_admin_entry *e)
{
    /* the copies are made outside the lock: readers and other writers
     * wait only for the pointer moves */
    struct item *it = item_make(e, r->max_bytes);
    pthread_mutex_lock(&r->lock);
    it->id = r->next_id++;
    while (r->count > 0 && (r->count == r->max_count || r->bytes + it->bytes > r->max_bytes)) {
        evict_oldest(r);
    }
    r->v[(r->head + r->count) % r->max_count] = it;
    r->count++;
    r->bytes += it->bytes;
    uint64_t id = it->id;
    pthread_mutex_unlock(&r->lock);
    return id;
}

void gw_admin_ring_stats(struct gw_admin_ring *r, size_t *count, size_t *bytes,
                         uint64_t *oldest, uint64_t *newest)
{
    pthread_mutex_lock(&r->lock);
    *count = r->count;
    *bytes = r->bytes;
    *oldest = r->count ? r->v[r->head]->id : 0;
    *newest = r->count ? r->v[(r->head + r->count - 1) % r->max_count]->id : 0;
    pthread_mutex_unlock(&r->lock);
}

/* The position of the first entry whose id is above after_id, or count.
 * Under the lock; ids are in order. */
static size_t first_after(const struct gw_admin_ring *r, uint64_t after_id)
{
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[(r->head + mid) % r->max_count]->id <= after_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool gw_admin_ring_next(struct gw_admin_ring *r, uint64_t after_id, struct gw_buf *out,
                        uint64_t *id)
{
    pthread_mutex_lock(&r->lock);
    size_t pos = first_after(r, after_id);
    bool found = pos < r->count;
    if (found) {
        const struct item *it = r->v[(r->head + pos) % r->max_count];
        found = gw_buf_printf(out, "{\"id\":%llu,%s}", (unsigned long long)it->id,
                              it->summary) == GW_OK;
        *id = it->id;
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

enum gw_rc gw_admin_ring_get(struct gw_admin_ring *r, uint64_t id, struct gw_buf *out)
{
    pthread_mutex_lock(&r->lock);
    size_t pos = id > 0 ? first_after(r, id - 1) : r->count;
    enum gw_rc rc = GW_ERR_NOT_FOUND;
    if (pos < r->count && r->v[(r->head + pos) % r->max_count]->id == id) {
        const struct item *it = r->v[(r->head + pos) % r->max_count];
        rc = gw_buf_printf(out,
                           "{\"id\":%llu,%s,\"headers\":%s,\"body\":%s,\"calls\":%s,"
                           "\"violations\":%s}",
                           (unsigned long long)it->id, it->summary, it->headers, it->body,
                           it->calls, it->violations);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}
