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

/* One kept request, copied as received: the JSON of its summary and the
 * escaping of its body are made when the debugger reads it, not on the
 * request path. Every string lives in the one allocation of the item. */
struct item {
    uint64_t id;
    size_t bytes; /* what it counts against max_bytes */
    struct gw_admin_entry e; /* its strings point into text[] */
    bool truncated;
    char text[];
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

/* Appends the summary of it (JSON object members, without braces). */
static enum gw_rc put_summary(struct gw_buf *out, const struct item *it)
{
    const struct gw_admin_entry *e = &it->e;
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
    if (it->truncated) {
        json_object_object_add(o, "truncated", json_object_new_boolean(1));
    }
    size_t len = 0;
    const char *s = gw_json_compact(o, &len);
    GW_ASSERT(len >= 2 && s[0] == '{' && s[len - 1] == '}');
    enum gw_rc rc = gw_buf_add(out, s + 1, len - 2);
    json_object_put(o);
    return rc;
}

/* Appends the body of it as a JSON string. */
static enum gw_rc put_body(struct gw_buf *out, const struct item *it)
{
    json_object *s = json_object_new_string_len(it->e.body ? it->e.body : "",
                                                (int)(it->e.body ? it->e.body_len : 0));
    size_t len = 0;
    const char *text = gw_json_compact(s, &len);
    enum gw_rc rc = gw_buf_add(out, text, len);
    json_object_put(s);
    return rc;
}

static size_t len_of(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies src (of n bytes, or a C string when n is SIZE_MAX) to *at,
 * advancing it; NULL stays NULL. */
static const char *copy_in(char **at, const char *src, size_t n)
{
    if (src == NULL) {
        return NULL;
    }
    if (n == SIZE_MAX) {
        n = strlen(src);
    }
    char *dst = *at;
    memcpy(dst, src, n);
    dst[n] = '\0';
    *at += n + 1;
    return dst;
}

static struct item *item_make(const struct gw_admin_entry *e, size_t max_bytes)
{
    const char *body = e->body != NULL ? e->body : "";
    size_t body_len = e->body != NULL ? e->body_len : 0;
    size_t small = len_of(e->method) + len_of(e->path) + len_of(e->source) +
                   len_of(e->request_id) + len_of(e->write_key_fp) + len_of(e->error) +
                   len_of(e->message) + len_of(e->headers_json);
    size_t large = body_len + 1 + len_of(e->calls_json) + len_of(e->violations_json);
    bool truncated = sizeof(struct item) + small + large > max_bytes;
    size_t size = small + (truncated ? 0 : large);
    struct item *it = gw_malloc(sizeof(*it) + size);
    memset(it, 0, sizeof(*it));
    it->e = *e;
    it->truncated = truncated;
    char *at = it->text;
    it->e.method = copy_in(&at, e->method, SIZE_MAX);
    it->e.path = copy_in(&at, e->path, SIZE_MAX);
    it->e.source = copy_in(&at, e->source, SIZE_MAX);
    it->e.request_id = copy_in(&at, e->request_id, SIZE_MAX);
    it->e.write_key_fp = copy_in(&at, e->write_key_fp, SIZE_MAX);
    it->e.error = copy_in(&at, e->error, SIZE_MAX);
    it->e.message = copy_in(&at, e->message, SIZE_MAX);
    it->e.headers_json = copy_in(&at, e->headers_json, SIZE_MAX);
    if (truncated) {
        it->e.body = NULL;
        it->e.body_len = 0;
        it->e.calls_json = it->e.violations_json = NULL;
    } else {
        it->e.body = copy_in(&at, body, body_len);
        it->e.calls_json = copy_in(&at, e->calls_json, SIZE_MAX);
        it->e.violations_json = copy_in(&at, e->violations_json, SIZE_MAX);
    }
    it->bytes = sizeof(*it) + size;
    return it;
}

static const char *json_or(const char *text, const char *dflt)
{
    return text != NULL && text[0] != '\0' ? text : dflt;
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
        found = gw_buf_printf(out, "{\"id\":%llu,", (unsigned long long)it->id) == GW_OK &&
                put_summary(out, it) == GW_OK && gw_buf_add(out, "}", 1) == GW_OK;
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
        rc = gw_buf_printf(out, "{\"id\":%llu,", (unsigned long long)it->id);
        rc = rc == GW_OK ? put_summary(out, it) : rc;
        rc = rc == GW_OK ? gw_buf_printf(out, ",\"headers\":%s,\"body\":",
                                         json_or(it->e.headers_json, "{}")) : rc;
        rc = rc == GW_OK ? put_body(out, it) : rc;
        rc = rc == GW_OK ? gw_buf_printf(out, ",\"calls\":%s,\"violations\":%s}",
                                         json_or(it->e.calls_json, "[]"),
                                         json_or(it->e.violations_json, "[]")) : rc;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}
