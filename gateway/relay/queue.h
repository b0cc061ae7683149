/* queue.h -- internal to relay/: the relay's state, its queues in memory (a
 * window over the spool, paged in by id) and the sender thread's entry.
 * docs/internals/relay.md and spool.md tell the story.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RELAY_QUEUE_H
#define GW_RELAY_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../buf.h"
#include "client.h"
#include "relay.h"

#define GW_RELAY_BODY_HEAD "{\"batch\":["
#define GW_RELAY_BODY_MID "],\"sentAt\":\""
#define GW_RELAY_BODY_TAIL "\"}"
#define GW_RELAY_SENT_AT_LEN 24 /* 2024-01-31T12:34:56.789Z */
/* The bytes of a batch body around its calls: 48. */
#define GW_RELAY_ENVELOPE                                                                          \
    (sizeof(GW_RELAY_BODY_HEAD) - 1 + sizeof(GW_RELAY_BODY_MID) - 1 + GW_RELAY_SENT_AT_LEN +       \
     sizeof(GW_RELAY_BODY_TAIL) - 1)
#define GW_RELAY_MIN_CALL 2 /* "{}" */
#define GW_RELAY_NEVER UINT64_MAX
#define GW_RELAY_NS_PER_MS 1000000u
#define GW_RELAY_NS_PER_SEC 1000000000u
#define GW_RELAY_SPLIT_MAX 64

/* One call in memory, a copy of its spool row; its bytes never change, so
 * its messageId survives retries and splits. */
struct gw_relay_call_mem {
    struct gw_relay_call_mem *next;
    int64_t id;        /* in the spool */
    int64_t queued_ns; /* the clock's mono_ns when it was put (negative: before boot) */
    size_t len;
    char json[];
};

/* The calls of one (write key, endpoint) in memory, oldest first. */
struct gw_relay_queue {
    struct gw_relay_queue *next;
    char *write_key;
    char *endpoint;
    char *url;
    char fp[9]; /* SHA-256 prefix of the write key, for logs */
    struct gw_relay_call_mem *head;
    struct gw_relay_call_mem *tail;
    size_t n;
    size_t bytes;
    uint64_t ready_ns; /* nothing is sent before: backoff, Retry-After */
    unsigned attempt;  /* failures in a row of the head batch */
    long last_status;  /* of the last failure, for the dead letter of an expiry */
    /* After a 400, the head calls are resent in ever smaller pieces: each
     * entry is a run of head calls to send alone, the last entry first. */
    size_t splits[GW_RELAY_SPLIT_MAX];
    unsigned nsplits;
    /* A queue over queue_cap stops taking calls from the global pass: its
     * calls with ids in (last_id, cursor] then wait in the spool until it
     * refills itself. */
    int64_t last_id; /* the newest call it took from the spool */
    bool spilled;
};

struct gw_relay {
    struct gw_relay_opts o; /* o.clock complete: no NULL member */
    struct gw_spool *spool;
    size_t queue_cap; /* call bytes one queue may hold in memory */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    /* Under lock. */
    bool started;
    bool stopping;
    bool stop_owned;
    uint64_t deadline_ns;
    size_t unsent;
    enum gw_rc refusing;         /* the cause submits fail for now, logged once; GW_OK: none */
    struct gw_relay_stats stats; /* queued and queued_bytes come from the spool */
    uint64_t put_seq;            /* successful submits */
    uint64_t unread_since_ns;    /* first submit since the last global pass began; 0: none */
    uint64_t unread_bytes;       /* submitted since then */
    uint64_t unread_calls;
    /* The sender thread's (and stop's once it joined); it publishes the
     * memory counters into stats under lock. */
    struct gw_relay_queue *queues;
    size_t mem_calls;
    size_t mem_bytes;
    int64_t cursor;         /* the global pass read every call up to this id */
    uint64_t paged_seq;     /* put_seq when that pass began */
    bool at_end;            /* it reached the end of the spool */
    bool window_full;       /* it stopped for max_queue_bytes; cleared as calls leave */
    uint64_t read_retry_ns; /* after a failed read, not before */
    int64_t *ids;           /* scratch: the ids of a batch */
    size_t ids_cap;
    struct gw_ratelimit rl;
    /* When the last `window` requests ended, oldest at done_next once
     * full: see docs/internals/relay.md, "Upstream budget". */
    uint64_t *done_ns;
    size_t window;
    size_t done_next;
    size_t done_len;
    uint64_t rng;
    struct gw_relay_client *client;
    struct gw_buf body;
    struct gw_relay_answer answer;
};

/* The relay's clock (o.clock): monotonic ns, Unix ms, and a timed wait on
 * r->cond (locked) until when_ns (GW_RELAY_NEVER: until signalled). */
static inline uint64_t gw_relay_clock_now(const struct gw_relay *r)
{
    return r->o.clock.mono_ns(r->o.clock.arg);
}

static inline int64_t gw_relay_clock_real_ms(const struct gw_relay *r)
{
    return r->o.clock.real_ms(r->o.clock.arg);
}

static inline void gw_relay_clock_wait(struct gw_relay *r, uint64_t when_ns)
{
    r->o.clock.wait(r->o.clock.arg, &r->cond, &r->lock, when_ns);
}

/* ---- queue.c: the queues in memory, paged in from the spool ---- */

/* The largest call a batch can carry. */
size_t gw_relay_max_call(const struct gw_relay *r);
void gw_relay_queue_free(struct gw_relay_queue *q);
/* Full: one more (smallest) call would not fit in one batch with the rest. */
bool gw_relay_queue_full(const struct gw_relay *r, const struct gw_relay_queue *q);
/* Removes k calls from the head of q (sent, refused or expired). */
void gw_relay_queue_consume(struct gw_relay *r, struct gw_relay_queue *q, size_t k);
/* Returns the ids of the first k calls of q in r's scratch (valid until
 * the next call). */
const int64_t *gw_relay_queue_ids(struct gw_relay *r, const struct gw_relay_queue *q, size_t k);
/* Returns how many head calls the next batch of q takes. */
size_t gw_relay_queue_batch(const struct gw_relay *r, const struct gw_relay_queue *q);
/* Fills b with the body of a batch of the first k calls of q, sent at
 * now_ms (Unix ms). */
void gw_relay_queue_body(struct gw_buf *b, const struct gw_relay_queue *q, size_t k,
                         int64_t now_ms);
/* After a 400 to k head calls: send them as two halves. */
void gw_relay_queue_split(struct gw_relay_queue *q, size_t k);

/* Returns when the global pass should next read the spool (NEVER: only
 * once something changes). Locked. */
uint64_t gw_relay_page_due(const struct gw_relay *r, uint64_t now);
/* Reads the next calls of the spool into their queues. Called locked;
 * unlocks around the read. */
void gw_relay_page_in(struct gw_relay *r, uint64_t now);
/* Refills one spilled queue that has room again; false when none has.
 * Called locked; unlocks around the read. */
bool gw_relay_page_refill(struct gw_relay *r);

/* ---- sender.c ---- */

/* The sender thread; arg is the relay. */
void *gw_relay_sender_main(void *arg);

#endif
