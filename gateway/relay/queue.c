/* queue.c -- the relay's queues in memory: a window over the spool, paged in
 * by id, and the batches built from them by concatenation.
 * SPDX-License-Identifier: MIT */
#include "queue.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../log.h"
#include "../mem.h"
#include "../spool/spool.h"

#define PAGE_CALLS 512     /* rows per read: bounds how long puts wait for it */
#define READ_RETRY_MS 1000 /* after the spool failed a read */

size_t gw_relay_max_call(const struct gw_relay *r)
{
    return r->o.max_batch_bytes - GW_RELAY_ENVELOPE;
}

static void fingerprint(const char *key, char out[9])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 4) {
        snprintf(out, 9, "%s", "????????");
        return;
    }
    snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

static struct gw_relay_queue *find_queue(struct gw_relay *r, const char *key, const char *endpoint)
{
    for (struct gw_relay_queue *q = r->queues; q != NULL; q = q->next) {
        if (strcmp(q->write_key, key) == 0 && strcmp(q->endpoint, endpoint) == 0) {
            return q;
        }
    }
    struct gw_relay_queue *q = gw_calloc(1, sizeof(*q));
    q->write_key = gw_strdup(key);
    q->endpoint = gw_strdup(endpoint);
    q->url = gw_asprintf("%s/batch", endpoint);
    fingerprint(key, q->fp);
    q->next = r->queues;
    r->queues = q;
    return q;
}

void gw_relay_queue_free(struct gw_relay_queue *q)
{
    struct gw_relay_call_mem *c = q->head;
    while (c != NULL) {
        struct gw_relay_call_mem *next = c->next;
        free(c);
        c = next;
    }
    free(q->write_key);
    free(q->endpoint);
    free(q->url);
    free(q);
}

/* Returns the body size of a batch of n calls of bytes in total. */
static size_t body_size(size_t n, size_t bytes)
{
    return GW_RELAY_ENVELOPE + bytes + (n > 0 ? n - 1 : 0);
}

bool gw_relay_queue_full(const struct gw_relay *r, const struct gw_relay_queue *q)
{
    return q->n >= r->o.max_batch_calls ||
           body_size(q->n + 1, q->bytes + GW_RELAY_MIN_CALL) > r->o.max_batch_bytes;
}

/* The memory counters are the sender's; stats shows them. Locked. */
static void publish(struct gw_relay *r)
{
    r->stats.memory_calls = r->mem_calls;
    r->stats.memory_bytes = r->mem_bytes;
}

void gw_relay_queue_consume(struct gw_relay *r, struct gw_relay_queue *q, size_t k)
{
    GW_ASSERT(k <= q->n);
    size_t left = k;
    while (left > 0 && q->nsplits > 0) {
        size_t *top = &q->splits[q->nsplits - 1];
        size_t take = *top < left ? *top : left;
        *top -= take;
        left -= take;
        if (*top == 0) {
            q->nsplits--;
        }
    }
    for (size_t i = 0; i < k; i++) {
        struct gw_relay_call_mem *c = q->head;
        q->head = c->next;
        q->bytes -= c->len;
        r->mem_bytes -= c->len;
        free(c);
    }
    if (q->head == NULL) {
        q->tail = NULL;
    }
    q->n -= k;
    r->mem_calls -= k;
    r->window_full = false;
    publish(r);
}

static void reserve_ids(struct gw_relay *r, size_t k)
{
    if (k > r->ids_cap) {
        r->ids_cap = k < 64 ? 64 : k;
        r->ids = gw_realloc(r->ids, r->ids_cap * sizeof(*r->ids));
    }
}

const int64_t *gw_relay_queue_ids(struct gw_relay *r, const struct gw_relay_queue *q, size_t k)
{
    reserve_ids(r, k);
    const struct gw_relay_call_mem *c = q->head;
    for (size_t i = 0; i < k; i++, c = c->next) {
        r->ids[i] = c->id;
    }
    return r->ids;
}

size_t gw_relay_queue_batch(const struct gw_relay *r, const struct gw_relay_queue *q)
{
    if (q->nsplits > 0) {
        return q->splits[q->nsplits - 1];
    }
    size_t k = 0;
    size_t size = GW_RELAY_ENVELOPE - 1;
    for (const struct gw_relay_call_mem *c = q->head; c != NULL && k < r->o.max_batch_calls;
         c = c->next) {
        if (size + 1 + c->len > r->o.max_batch_bytes) {
            break;
        }
        size += 1 + c->len;
        k++;
    }
    GW_ASSERT(k > 0);
    return k;
}

static void format_sent_at(char out[GW_RELAY_SENT_AT_LEN + 1], int64_t now_ms)
{
    int64_t ms = now_ms > 0 ? now_ms : 0;
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, GW_RELAY_SENT_AT_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    int w = snprintf(out + n, GW_RELAY_SENT_AT_LEN + 1 - n, ".%03dZ", (int)(ms % 1000));
    GW_ASSERT(n == 19 && w == 5);
}

/* Concatenates the stored bytes: no JSON parsing. */
void gw_relay_queue_body(struct gw_buf *b, const struct gw_relay_queue *q, size_t k,
                         int64_t now_ms)
{
    char sent_at[GW_RELAY_SENT_AT_LEN + 1];
    format_sent_at(sent_at, now_ms);
    gw_buf_reset(b);
    enum gw_rc rc = gw_buf_add(b, GW_RELAY_BODY_HEAD, sizeof(GW_RELAY_BODY_HEAD) - 1);
    const struct gw_relay_call_mem *c = q->head;
    for (size_t i = 0; i < k && rc == GW_OK; i++, c = c->next) {
        if (i > 0) {
            rc = gw_buf_add(b, ",", 1);
        }
        if (rc == GW_OK) {
            rc = gw_buf_add(b, c->json, c->len);
        }
    }
    if (rc == GW_OK) {
        rc = gw_buf_printf(b, "%s%s%s", GW_RELAY_BODY_MID, sent_at, GW_RELAY_BODY_TAIL);
    }
    GW_ASSERT(rc == GW_OK);
}

void gw_relay_queue_split(struct gw_relay_queue *q, size_t k)
{
    GW_ASSERT(q->nsplits + 1 < GW_RELAY_SPLIT_MAX);
    size_t first = (k + 1) / 2;
    if (q->nsplits > 0) {
        q->nsplits--;
    }
    q->splits[q->nsplits++] = k - first;
    q->splits[q->nsplits++] = first;
}

/* ---- paging in ---- */

/* One read from the spool, global (only == NULL) or for one queue. */
struct pager {
    struct gw_relay *r;
    struct gw_relay_queue *only; /* refilling this spilled queue */
    struct gw_relay_queue *last; /* the queue of the previous row */
    int64_t mono_ns;             /* now, on both clocks, to place enqueued_ms */
    int64_t wall_ms;
    size_t rows;    /* rows read, taken or passed over */
    bool full;      /* stopped: no room */
    size_t nmisfit; /* calls no batch can carry, ids at the head of r->ids */
};

static void append(struct pager *pg, struct gw_relay_queue *q, const struct gw_spool_call *c)
{
    struct gw_relay *r = pg->r;
    struct gw_relay_call_mem *m = gw_malloc(sizeof(*m) + c->len);
    m->next = NULL;
    m->id = c->id;
    int64_t age_ms = pg->wall_ms > c->enqueued_ms ? pg->wall_ms - c->enqueued_ms : 0;
    m->queued_ns = pg->mono_ns - age_ms * (int64_t)GW_RELAY_NS_PER_MS;
    m->len = c->len;
    memcpy(m->json, c->json, c->len);
    if (q->head == NULL) {
        q->head = m;
    } else {
        q->tail->next = m;
    }
    q->tail = m;
    q->n++;
    q->bytes += c->len;
    r->mem_calls++;
    r->mem_bytes += c->len;
}

static struct gw_relay_queue *queue_of(struct pager *pg, const struct gw_spool_call *c)
{
    struct gw_relay_queue *q = pg->only != NULL ? pg->only : pg->last;
    if (q == NULL || strcmp(q->write_key, c->write_key) != 0 ||
        strcmp(q->endpoint, c->endpoint) != 0) {
        q = find_queue(pg->r, c->write_key, c->endpoint);
    }
    pg->last = q;
    return q;
}

static bool on_call(void *arg, const struct gw_spool_call *c)
{
    struct pager *pg = arg;
    struct gw_relay *r = pg->r;
    if (r->mem_calls > 0 && r->mem_bytes + c->len > r->o.max_queue_bytes) {
        pg->full = true;
        r->window_full = true;
        return false;
    }
    struct gw_relay_queue *q = queue_of(pg, c);
    if (pg->only == NULL) {
        r->cursor = c->id;
    }
    pg->rows++;
    if (pg->only == NULL && q->spilled) {
        return true; /* its own pass reads it */
    }
    if (q->n > 0 && q->bytes + c->len > r->queue_cap) {
        q->spilled = true;
        pg->full = pg->only != NULL;
        return pg->only == NULL;
    }
    q->last_id = c->id;
    if (c->len < GW_RELAY_MIN_CALL || c->len > gw_relay_max_call(r)) {
        /* Put under other limits (a restart with a smaller
         * max_batch_bytes): no batch can carry it. */
        reserve_ids(r, pg->nmisfit + 1);
        r->ids[pg->nmisfit++] = c->id;
        return true;
    }
    append(pg, q, c);
    return true;
}

static void pager_init(struct pager *pg, struct gw_relay *r, struct gw_relay_queue *only)
{
    *pg = (struct pager){
        .r = r,
        .only = only,
        .mono_ns = (int64_t)gw_relay_clock_now(r),
        .wall_ms = gw_relay_clock_real_ms(r),
    };
}

/* Unlocked, after a read: the calls no batch can carry go to the dead
 * letters at once. Returns how many the dead letters took. */
static size_t bury_misfits(struct gw_relay *r, const struct pager *pg)
{
    if (pg->nmisfit == 0) {
        return 0;
    }
    gw_warn("relay",
            "%zu call(s) in the spool are larger than max_batch_bytes allows; moved to "
            "the dead letters",
            pg->nmisfit);
    if (gw_spool_bury(r->spool, r->ids, pg->nmisfit, 0, "larger than a batch may be") != GW_OK) {
        gw_error("relay", "cannot move %zu call(s) to the dead letters", pg->nmisfit);
        return 0;
    }
    return pg->nmisfit;
}

/* Locked, after a read: counts what the pass did. */
static void note_read(struct gw_relay *r, const struct pager *pg, size_t buried, enum gw_rc rc,
                      uint64_t now)
{
    r->stats.dropped += pg->nmisfit;
    r->stats.dead_lettered += buried;
    publish(r);
    if (rc != GW_OK) {
        r->read_retry_ns = now + (uint64_t)READ_RETRY_MS * GW_RELAY_NS_PER_MS;
        gw_error("relay", "cannot read the spool; trying again in %d ms", READ_RETRY_MS);
    }
}

uint64_t gw_relay_page_due(const struct gw_relay *r, uint64_t now)
{
    if (r->window_full) {
        return GW_RELAY_NEVER;
    }
    if (r->read_retry_ns > now) {
        return r->read_retry_ns;
    }
    if (!r->at_end) {
        return now; /* the replay at start, or a pass cut short */
    }
    if (r->put_seq == r->paged_seq) {
        return GW_RELAY_NEVER;
    }
    if (r->stopping || r->unread_bytes >= r->o.max_batch_bytes ||
        r->unread_calls >= r->o.max_batch_calls) {
        return now;
    }
    /* A lone call waits flush_ms anyway: read it when it is due. */
    return r->unread_since_ns + (uint64_t)r->o.flush_ms * GW_RELAY_NS_PER_MS;
}

void gw_relay_page_in(struct gw_relay *r, uint64_t now)
{
    /* A submit from now on calls for another pass. */
    r->paged_seq = r->put_seq;
    r->unread_since_ns = 0;
    r->unread_bytes = 0;
    r->unread_calls = 0;
    pthread_mutex_unlock(&r->lock);
    struct pager pg;
    pager_init(&pg, r, NULL);
    enum gw_rc rc = gw_spool_page(r->spool, r->cursor, PAGE_CALLS, on_call, &pg);
    size_t buried = bury_misfits(r, &pg);
    pthread_mutex_lock(&r->lock);
    r->at_end = rc == GW_OK && !pg.full && pg.rows < PAGE_CALLS;
    note_read(r, &pg, buried, rc, now);
}

/* A spilled queue refills once a full batch fits again. */
static bool wants_refill(const struct gw_relay *r, const struct gw_relay_queue *q)
{
    return q->spilled && (q->n == 0 || q->bytes + gw_relay_max_call(r) <= r->queue_cap);
}

bool gw_relay_page_refill(struct gw_relay *r)
{
    struct gw_relay_queue *q = r->queues;
    while (q != NULL && !wants_refill(r, q)) {
        q = q->next;
    }
    if (q == NULL || r->window_full || r->read_retry_ns > gw_relay_clock_now(r)) {
        return false;
    }
    pthread_mutex_unlock(&r->lock);
    struct pager pg;
    pager_init(&pg, r, q);
    enum gw_rc rc = gw_spool_page_queue(r->spool, q->write_key, q->endpoint, q->last_id, r->cursor,
                                        PAGE_CALLS, on_call, &pg);
    size_t buried = bury_misfits(r, &pg);
    pthread_mutex_lock(&r->lock);
    if (rc == GW_OK && !pg.full && pg.rows < PAGE_CALLS) {
        q->spilled = false; /* caught up with the global pass */
    }
    note_read(r, &pg, buried, rc, gw_relay_clock_now(r));
    return true;
}
