/* relay.h -- hands validated calls to Segment's HTTP API: batches per
 * (write key, endpoint), an upstream request budget, retries with backoff.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "../rc.h"

struct gw_relay_opts {
    double max_rps;          /* upstream requests per second, retries included (50) */
    size_t max_batch_bytes;  /* body bytes of one POST /batch (475000) */
    size_t max_batch_calls;  /* calls in one batch (2500) */
    unsigned flush_ms;       /* a batch that is not full waits at most this long (1000) */
    unsigned timeout_ms;     /* one upstream request, connect included (10000) */
    unsigned backoff_base_ms; /* first retry delay before jitter (200) */
    unsigned backoff_max_ms;  /* cap of one retry delay (30000) */
    unsigned max_retry_ms;    /* a call still failing this long after it was queued is dropped (86400000) */
    size_t max_queue_bytes;  /* queued call bytes; over it submit answers GW_ERR_BUSY (64 MiB) */
};

/* Fills o with the defaults above. */
void gw_relay_opts_init(struct gw_relay_opts *o);

/* One serialized call: a complete JSON object, borrowed. */
struct gw_relay_call {
    const char *json;
    size_t len;
};

/* Returns a new relay (not yet sending); opts is copied. */
struct gw_relay *gw_relay_create(const struct gw_relay_opts *opts);

/* Starts the sender thread. */
enum gw_rc gw_relay_start(struct gw_relay *r) GW_WUR;

/* Queues n calls for one write key and endpoint base URL (e.g.
 * "https://api.segment.io/v1"; the relay posts to endpoint + "/batch").
 * Borrows everything (the relay copies). All or nothing: on GW_ERR_BUSY
 * (queue full or relay stopping) nothing was queued. */
enum gw_rc gw_relay_submit(struct gw_relay *r, const char *write_key, const char *endpoint,
                           const struct gw_relay_call *calls, size_t n) GW_WUR;

/* Stops accepting, sends what it can within deadline_ms, joins the thread.
 * Returns the number of calls left unsent. Idempotent. */
size_t gw_relay_stop(struct gw_relay *r, unsigned deadline_ms);

/* Stops (deadline 0) if needed and frees. NULL is a no-op. */
void gw_relay_destroy(struct gw_relay *r);

struct gw_relay_stats {
    uint64_t submitted; /* calls accepted by gw_relay_submit */
    uint64_t relayed;   /* calls Segment answered 2xx for */
    uint64_t dropped;   /* calls given up (4xx other than 408/429, or too old) */
    uint64_t requests;  /* upstream HTTP requests made, retries included */
    uint64_t retries;   /* requests that were retries */
    uint64_t queued;    /* calls waiting now */
};

void gw_relay_get_stats(struct gw_relay *r, struct gw_relay_stats *out);

/* The one policy for an upstream result. */
enum gw_relay_outcome { GW_RELAY_OK, GW_RELAY_RETRY, GW_RELAY_DROP };

/* status is the HTTP status, or 0 when the request failed at the transport
 * (connect error, timeout). 2xx OK; 0, 408, 429, 5xx RETRY; other DROP. */
enum gw_relay_outcome gw_relay_classify(long status);

/* Full-jitter exponential backoff: a delay in [0, min(max, base * 2^attempt)].
 * attempt counts from 0. state is the caller's PRNG state (any non-zero seed). */
unsigned gw_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned max_ms, uint64_t *state);

/* Parses a Retry-After header value given in seconds ("120"). HTTP-dates
 * are parsed too. Returns GW_OK and *ms on success. Borrows value. */
enum gw_rc gw_backoff_retry_after(const char *value, int64_t now_unix, unsigned *ms) GW_WUR;

/* Token bucket for the upstream request budget; pure, times in ns. */
struct gw_ratelimit {
    double rate;   /* tokens per second */
    double burst;  /* bucket size */
    double tokens;
    uint64_t last_ns;
};

void gw_ratelimit_init(struct gw_ratelimit *rl, double rate, double burst, uint64_t now_ns);
/* Takes one token if there is one and returns 0; otherwise takes nothing and
 * returns the ns to wait until one is there. */
uint64_t gw_ratelimit_take(struct gw_ratelimit *rl, uint64_t now_ns);

#endif
