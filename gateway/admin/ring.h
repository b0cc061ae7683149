/* ring.h -- the debugger's memory of recent requests: a ring bounded by
 * count and by bytes, oldest evicted first, read back by id.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ADMIN_RING_H
#define GW_ADMIN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"

struct gw_buf;
struct gw_admin_ring;

/* One answered request, as plain data. Every pointer is borrowed; NULL and
 * empty are the same. No field may hold a write key or a signing secret:
 * headers_json is the request's headers less credentials, write_key_fp at
 * most a fingerprint. */
struct gw_admin_entry {
    int64_t at_ms;         /* unix ms of the answer */
    const char *method;
    const char *path;      /* without the query string */
    const char *source;    /* a known source, a /v1 endpoint name, or NULL */
    int status;
    size_t accepted, ignored, rejected;
    bool dry_run;
    double duration_ms;
    const char *request_id;
    const char *write_key_fp; /* "first 8 hex of SHA-256", or NULL */
    const char *error;        /* the answer's error code, or NULL */
    const char *message;      /* the answer's message, or NULL */
    const char *body;         /* the request body as received */
    size_t body_len;
    const char *headers_json;    /* JSON object text */
    const char *calls_json;      /* JSON array text: the mapped calls */
    const char *violations_json; /* JSON array text */
};

/* Returns a new ring keeping at most max_count entries and max_bytes of
 * them (both > 0). */
struct gw_admin_ring *gw_admin_ring_create(size_t max_count, size_t max_bytes);
/* NULL is a no-op. */
void gw_admin_ring_destroy(struct gw_admin_ring *r);

/* Copies e in and returns its id (1, 2, 3, ...). Evicts the oldest entries
 * until both bounds hold; an entry larger than max_bytes alone is kept
 * without its body, calls and violations (its summary says "truncated").
 * Thread-safe. */
uint64_t gw_admin_ring_push(struct gw_admin_ring *r, const struct gw_admin_entry *e);

/* The number of entries and their bytes (as counted against max_bytes),
 * and the ids of the oldest and newest (0 when empty). Thread-safe. */
void gw_admin_ring_stats(struct gw_admin_ring *r, size_t *count, size_t *bytes,
                         uint64_t *oldest, uint64_t *newest);

/* Appends to out the summary (one JSON object: id, time, method, path,
 * source, status, accepted, ignored, rejected, dry_run, ms) of the first
 * entry whose id is above after_id, and sets *id to it. Returns false (out
 * untouched) when there is none. Thread-safe. */
bool gw_admin_ring_next(struct gw_admin_ring *r, uint64_t after_id, struct gw_buf *out,
                        uint64_t *id);

/* Appends to out the whole entry id as one JSON object: the summary's
 * members plus headers, body, calls, violations. GW_ERR_NOT_FOUND when it
 * was evicted or never was; GW_ERR_TOO_LARGE when out cannot take it. */
enum gw_rc gw_admin_ring_get(struct gw_admin_ring *r, uint64_t id, struct gw_buf *out) GW_WUR;

#endif
