/* relay.h -- hands validated calls to Segment's HTTP API through the durable
 * spool: batches per (write key, endpoint), an upstream request budget,
 * retries with backoff, dead letters for what Segment refuses.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"

/* The relay's notion of time: every reading of time and every timed wait
 * of the relay goes through it (the upstream transport's own timeouts and
 * the shutdown cut stay on the real clock). A member left NULL is the real
 * clock's, so a zeroed clock is the real one: what the daemon runs on.
 * Tests drive time with it. */
struct gw_relay_clock {
    /* Monotonic ns (the real one: CLOCK_MONOTONIC). */
    uint64_t (*mono_ns)(void *arg);
    /* Unix time in ms: sentAt, Retry-After dates, the age of a spooled
     * call (the spool stamps puts with the real clock). */
    int64_t (*real_ms)(void *arg);
    /* Called with lock held, as pthread_cond_timedwait: waits on cond
     * until it is signalled or mono_ns reaches deadline_ns (UINT64_MAX:
     * no deadline), holding lock again when it returns. May return early:
     * the relay checks again. */
    void (*wait)(void *arg, pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ns);
    void *arg; /* borrowed; must outlive the relay */
};

struct gw_relay_opts {
    double max_rps;           /* upstream requests per second, retries included (upstream.max_rps) */
    size_t max_batch_bytes;   /* body bytes of one POST /batch (475000) */
    size_t max_batch_calls;   /* calls in one batch (2500) */
    unsigned flush_ms;        /* a batch that is not full waits at most this long (1000) */
    unsigned timeout_ms;      /* one upstream request, connect included (upstream.timeout) */
    unsigned backoff_base_ms; /* first retry delay before jitter (200) */
    unsigned backoff_max_ms;  /* cap of one retry delay (30000) */
    unsigned
        max_retry_ms; /* a call still failing this long after it was queued is dropped (86400000) */
    size_t max_queue_bytes; /* call bytes held in memory; the rest waits in the spool (64 MiB) */
    struct gw_relay_clock clock; /* all NULL: the real clock */
};

/* Fills o with the defaults above; max_rps is the settings table's. */
void gw_relay_opts_init(struct gw_relay_opts *o);

/* One serialized call: a complete JSON object, borrowed. */
struct gw_relay_call {
    const char *json;
    size_t len;
};

struct gw_spool;

/* Returns a new relay (not yet sending) over spool, which it borrows: the
 * spool must outlive the relay, and no one else may delete or bury its
 * calls meanwhile. opts is copied. */
struct gw_relay *gw_relay_create(const struct gw_relay_opts *opts, struct gw_spool *spool);

/* Starts the sender thread, which first replays the calls already in the
 * spool, oldest first. */
enum gw_rc gw_relay_start(struct gw_relay *r) GW_WUR;

/* Queues n calls for one write key and endpoint base URL (e.g.
 * "https://api.segment.io/v1"; the relay posts to endpoint + "/batch"):
 * they are in the spool, durable, when it returns GW_OK, and the sender
 * reads them back from there. Borrows everything. All or nothing: on an
 * error nothing was queued. Each cause has its own result:
 *   GW_ERR_FULL      the spool holds its max_bytes (--max-spool): wait for
 *                    the relay to drain it (503 with Retry-After);
 *   GW_ERR_QUOTA     this write key holds its share (--max-spool-per-key), other
 *                    keys are still taken (503 with Retry-After);
 *   GW_ERR_NOSPACE   the disk under the spool is full;
 *   GW_ERR_IO        the spool could not write for another reason;
 *   GW_ERR_SHUTDOWN  the relay is stopping (another instance may take it);
 *   GW_ERR_TOO_LARGE a call cannot fit in a batch (the caller's fault);
 *   GW_ERR_INVALID   a NULL or empty call, key or endpoint.
 * The first five are counted in sourcegate_spool_failures_total{cause}
 * (full, key_quota, disk_full, io, shutdown) and logged when they start and end, not
 * per call. */
enum gw_rc gw_relay_submit(struct gw_relay *r, const char *write_key, const char *endpoint,
                           const struct gw_relay_call *calls, size_t n) GW_WUR;

/* What gw_relay_submit_async calls once the calls are durable (GW_OK), or
 * could not be kept (GW_ERR_NOSPACE, GW_ERR_IO); from another thread. */
typedef void (*gw_relay_done_fn)(void *arg, enum gw_rc rc);

/* gw_relay_submit without the wait for the spool's commit: GW_OK says the
 * calls are queued for it, and done(arg, rc) is called exactly once when
 * it is over; the calls count as submitted, and the sender may read them,
 * only from then. Any other code is gw_relay_submit's, at once, and done
 * is never called. n must be above 0. Nothing is borrowed past the call.
 * Concurrent submits share one commit. */
enum gw_rc gw_relay_submit_async(struct gw_relay *r, const char *write_key, const char *endpoint,
                                 const struct gw_relay_call *calls, size_t n,
                                 gw_relay_done_fn done, void *arg) GW_WUR;

/* Stops accepting, sends what it can within deadline_ms, joins the thread.
 * Returns the number of calls left unsent, which stay in the spool for
 * the next start. Idempotent. */
size_t gw_relay_stop(struct gw_relay *r, unsigned deadline_ms);

/* Stops (deadline 0) if needed and frees; the spool is left as it is.
 * NULL is a no-op. */
void gw_relay_destroy(struct gw_relay *r);

/* Why a request will be retried, for gw_relay_stats.retried. */
enum gw_relay_retry_cause {
    GW_RELAY_RETRY_TRANSPORT, /* connect error, timeout, cut */
    GW_RELAY_RETRY_408,
    GW_RELAY_RETRY_429,
    GW_RELAY_RETRY_500,
    GW_RELAY_RETRY_502,
    GW_RELAY_RETRY_503,
    GW_RELAY_RETRY_504,
    GW_RELAY_RETRY_5XX, /* any other 5xx */
    GW_RELAY_RETRY_CAUSES
};

/* Returns a static label for a cause ("0" for transport: no answer, "408",
 * ..., "5xx"), or NULL past the last one: the metrics page's status label. */
const char *gw_relay_retry_label(unsigned cause);

struct gw_relay_stats {
    uint64_t submitted;     /* calls accepted by gw_relay_submit */
    uint64_t relayed;       /* calls Segment answered 2xx for */
    uint64_t dropped;       /* calls given up (4xx other than 408/429, or too old) */
    uint64_t dead_lettered; /* of those, the ones the dead letters took */
    uint64_t requests;      /* upstream HTTP requests made, retries included */
    uint64_t retries;       /* requests that were retries */
    uint64_t retried[GW_RELAY_RETRY_CAUSES]; /* failed requests to be retried, by cause */
    uint64_t queued;       /* calls in the spool now: not yet relayed nor given up */
    uint64_t queued_bytes; /* their bytes */
    uint64_t memory_calls; /* of those, read into memory (at most max_queue_bytes) */
    uint64_t memory_bytes;
};

/* Fills out; thread-safe. */
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
    double rate;  /* tokens per second */
    double burst; /* bucket size */
    double tokens;
    uint64_t last_ns;
};

void gw_ratelimit_init(struct gw_ratelimit *rl, double rate, double burst, uint64_t now_ns);
/* Takes one token if there is one and returns 0; otherwise takes nothing and
 * returns the ns to wait until one is there. */
uint64_t gw_ratelimit_take(struct gw_ratelimit *rl, uint64_t now_ns);

#endif
