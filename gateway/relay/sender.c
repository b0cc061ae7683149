/* sender.c -- the relay's sender thread: picks the due queue, keeps the
 * request budget, posts, and settles each batch in the spool (delete what
 * Segment took, bury what it refused).
 * SPDX-License-Identifier: MIT */
#include "queue.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../log.h"
#include "../mem.h"
#include "../metrics.h"
#include "../spool/spool.h"
#include "../thread.h"

/* What a batch's answer makes of it. */
enum settle { SETTLE_DELIVERED, SETTLE_RETRY, SETTLE_SPLIT, SETTLE_REFUSED };

static enum settle decide(size_t k, const struct gw_relay_answer *a)
{
    switch (gw_relay_classify(a->status)) {
    case GW_RELAY_OK:
        return SETTLE_DELIVERED;
    case GW_RELAY_RETRY:
        return SETTLE_RETRY;
    case GW_RELAY_DROP:
        break;
    }
    /* 400 (and 413) refuse a whole batch for what may be one bad call:
     * halve it until the refused call stands alone. */
    return k > 1 && (a->status == 400 || a->status == 413) ? SETTLE_SPLIT : SETTLE_REFUSED;
}

/* Unlocked: the spool side of a settled batch. Returns whether it worked. */
static bool settle_spool(struct gw_relay *r, const struct gw_relay_queue *q, size_t k,
                         enum settle how, const struct gw_relay_answer *a)
{
    if (how != SETTLE_DELIVERED && how != SETTLE_REFUSED) {
        return true;
    }
    const int64_t *ids = gw_relay_queue_ids(r, q, k);
    if (how == SETTLE_DELIVERED) {
        if (gw_spool_delete(r->spool, ids, k) != GW_OK) {
            gw_error("relay",
                     "cannot delete %zu delivered call(s) from the spool; they will be "
                     "sent again after a restart (key %s)",
                     k, q->fp);
            return false;
        }
        return true;
    }
    const char *reason = a->status == 0 ? a->error : gw_buf_str(&a->body);
    if (gw_spool_bury(r->spool, ids, k, (int)a->status, reason) != GW_OK) {
        gw_error("relay", "cannot move %zu refused call(s) to the dead letters (key %s)", k, q->fp);
        return false;
    }
    return true;
}

static unsigned retry_cause(long status)
{
    switch (status) {
    case 0:
        return GW_RELAY_RETRY_TRANSPORT;
    case 408:
        return GW_RELAY_RETRY_408;
    case 429:
        return GW_RELAY_RETRY_429;
    case 500:
        return GW_RELAY_RETRY_500;
    case 502:
        return GW_RELAY_RETRY_502;
    case 503:
        return GW_RELAY_RETRY_503;
    case 504:
        return GW_RELAY_RETRY_504;
    default:
        return GW_RELAY_RETRY_5XX;
    }
}

static void on_retry(struct gw_relay *r, struct gw_relay_queue *q, const struct gw_relay_answer *a,
                     uint64_t now)
{
    const struct gw_relay_opts *o = &r->o;
    unsigned delay =
        gw_backoff_delay_ms(q->attempt, o->backoff_base_ms, o->backoff_max_ms, &r->rng);
    unsigned ra = 0;
    if (a->retry_after[0] != '\0' &&
        gw_backoff_retry_after(a->retry_after, gw_relay_clock_real_ms(r) / 1000, &ra) == GW_OK) {
        /* Past max_retry_ms every waiting call is dropped anyway. */
        ra = ra < o->max_retry_ms ? ra : o->max_retry_ms;
        delay = ra > delay ? ra : delay;
    }
    if (q->attempt < UINT_MAX) {
        q->attempt++;
    }
    q->last_status = a->status;
    q->ready_ns = now + (uint64_t)delay * GW_RELAY_NS_PER_MS;
    r->stats.retried[retry_cause(a->status)]++;
    if (a->status == 0) {
        gw_warn("relay", "request failed (%s), retry %u in %u ms (key %s)", a->error, q->attempt,
                delay, q->fp);
    } else {
        gw_warn("relay", "upstream answered %ld, retry %u in %u ms (key %s)", a->status, q->attempt,
                delay, q->fp);
    }
}

/* Locked: the memory side of a settled batch. */
static void apply(struct gw_relay *r, struct gw_relay_queue *q, size_t k, enum settle how,
                  bool stored)
{
    const struct gw_relay_answer *a = &r->answer;
    switch (how) {
    case SETTLE_DELIVERED:
        r->stats.relayed += k;
        q->attempt = 0;
        gw_relay_queue_consume(r, q, k);
        break;
    case SETTLE_SPLIT:
        q->attempt = 0;
        gw_relay_queue_split(q, k);
        gw_info("relay", "upstream answered %ld to a batch of %zu calls, splitting (key %s)",
                a->status, k, q->fp);
        break;
    case SETTLE_REFUSED:
        if (a->status == 401 || a->status == 403 || a->status == 404) {
            /* not the calls' fault: every call of this key will meet it */
            gw_error("relay",
                     "upstream answered %ld: write key %s (fingerprint) or the endpoint is "
                     "wrong; %zu call(s) moved to the dead letters%s, replay them once it is "
                     "fixed",
                     a->status, q->fp, k, stored ? "" : " (which could not take them)");
            gw_metrics_relay_auth_failure(q->fp, a->status, k);
        } else {
            gw_warn("relay",
                    "dropped %zu call(s) into the dead letters: upstream answered %ld (key %s)"
                    ": %.400s",
                    k, a->status, q->fp, gw_buf_str(&a->body));
        }
        r->stats.dropped += k;
        r->stats.dead_lettered += stored ? k : 0;
        q->attempt = 0;
        gw_relay_queue_consume(r, q, k);
        break;
    case SETTLE_RETRY:
        on_retry(r, q, a, gw_relay_clock_now(r));
        break;
    }
}

/* ---- the request budget: docs/internals/relay.md, "Upstream budget" ---- */

/* Returns when the next request may start: a request never starts less
 * than 1 s after the end of the one `window` requests before it. */
static uint64_t window_opens(const struct gw_relay *r)
{
    if (r->window == 0 || r->done_len < r->window) {
        return 0;
    }
    return r->done_ns[r->done_next] + GW_RELAY_NS_PER_SEC;
}

static void window_note(struct gw_relay *r, uint64_t done)
{
    if (r->window == 0) {
        return;
    }
    r->done_ns[r->done_next] = done;
    r->done_next = (r->done_next + 1) % r->window;
    if (r->done_len < r->window) {
        r->done_len++;
    }
}

/* Returns 0 and takes a token when a request may start now, otherwise
 * the ns to wait. */
static uint64_t budget_wait(struct gw_relay *r, uint64_t now)
{
    uint64_t opens = window_opens(r);
    if (opens > now) {
        return opens - now;
    }
    return gw_ratelimit_take(&r->rl, now);
}

/* Sends the next batch of q; called locked, unlocks around the request
 * and the spool. */
static void send_batch(struct gw_relay *r, struct gw_relay_queue *q, uint64_t now)
{
    size_t k = gw_relay_queue_batch(r, q);
    gw_relay_queue_body(&r->body, q, k, gw_relay_clock_real_ms(r));
    struct gw_relay_post p = {
        .url = q->url,
        .write_key = q->write_key,
        .body = r->body.ptr,
        .len = r->body.len,
        .timeout_ms = r->o.timeout_ms,
    };
    if (r->stopping) {
        /* Cut a request that would outlive the deadline. */
        uint64_t left = (r->deadline_ns - now + GW_RELAY_NS_PER_MS - 1) / GW_RELAY_NS_PER_MS;
        p.timeout_ms = left < p.timeout_ms ? (unsigned)left : p.timeout_ms;
    }
    r->stats.requests++;
    r->stats.retries += q->attempt > 0;
    pthread_mutex_unlock(&r->lock);
    uint64_t start = gw_relay_clock_now(r);
    if (gw_relay_client_post(r->client, &p, &r->answer) != GW_OK) {
        /* Transport failure: status 0, which the policy retries. */
        GW_ASSERT(r->answer.status == 0);
    }
    uint64_t done = gw_relay_clock_now(r);
    gw_metrics_relay_request((double)(done - start) / GW_RELAY_NS_PER_SEC, k);
    enum settle how = decide(k, &r->answer);
    bool stored = settle_spool(r, q, k, how, &r->answer);
    pthread_mutex_lock(&r->lock);
    window_note(r, done);
    apply(r, q, k, how, stored);
}

/* ---- choosing what to do next ---- */

static uint64_t at_least_zero(int64_t t)
{
    return t > 0 ? (uint64_t)t : 0;
}

/* Returns how many head calls of q were first queued more than
 * max_retry_ms ago; FIFO order makes them a prefix. */
static size_t expired(const struct gw_relay *r, const struct gw_relay_queue *q, uint64_t now)
{
    int64_t max_age = (int64_t)r->o.max_retry_ms * GW_RELAY_NS_PER_MS;
    size_t k = 0;
    for (const struct gw_relay_call_mem *c = q->head;
         c != NULL && (int64_t)now - c->queued_ns > max_age; c = c->next) {
        k++;
    }
    return k;
}

/* A queue that keeps failing gives up the calls queued too long ago.
 * Returns true when it did (having unlocked around the spool). */
static bool expire_one(struct gw_relay *r, uint64_t now)
{
    struct gw_relay_queue *q = r->queues;
    size_t k = 0;
    for (; q != NULL; q = q->next) {
        k = q->attempt > 0 ? expired(r, q, now) : 0;
        if (k > 0) {
            break;
        }
    }
    if (q == NULL) {
        return false;
    }
    char reason[128];
    snprintf(reason, sizeof(reason), "still failing after max_retry_ms=%u; last answer %ld",
             r->o.max_retry_ms, q->last_status);
    const int64_t *ids = gw_relay_queue_ids(r, q, k);
    pthread_mutex_unlock(&r->lock);
    bool stored = gw_spool_bury(r->spool, ids, k, (int)q->last_status, reason) == GW_OK;
    pthread_mutex_lock(&r->lock);
    gw_relay_queue_consume(r, q, k);
    r->stats.dropped += k;
    r->stats.dead_lettered += stored ? k : 0;
    gw_warn("relay", "dropped %zu call(s) into the dead letters: %s (key %s)%s", k, reason, q->fp,
            stored ? "" : "; the dead letters could not take them");
    return true;
}

/* Returns when q may send next, ignoring the request budget. */
static uint64_t due_time(const struct gw_relay *r, const struct gw_relay_queue *q)
{
    if (r->stopping || gw_relay_queue_full(r, q)) {
        return q->ready_ns;
    }
    int64_t flush = q->head->queued_ns + (int64_t)r->o.flush_ms * GW_RELAY_NS_PER_MS;
    uint64_t due = at_least_zero(flush);
    return due > q->ready_ns ? due : q->ready_ns;
}

/* Sets *out to the queue to send now (oldest head, by spool id, first), or
 * NULL, and returns the next time something may become due. Frees idle
 * queues. */
static uint64_t next_action(struct gw_relay *r, uint64_t now, struct gw_relay_queue **out)
{
    uint64_t wake = GW_RELAY_NEVER;
    *out = NULL;
    struct gw_relay_queue **link = &r->queues;
    while (*link != NULL) {
        struct gw_relay_queue *q = *link;
        /* An empty queue is kept until its Retry-After has passed, and
         * while calls of it wait in the spool. */
        if (q->head == NULL && !q->spilled && q->ready_ns <= now) {
            *link = q->next;
            gw_relay_queue_free(q);
            continue;
        }
        link = &q->next;
        if (q->head == NULL) {
            continue;
        }
        uint64_t due = due_time(r, q);
        if (due > now) {
            wake = due < wake ? due : wake;
        } else if (*out == NULL || q->head->id < (*out)->head->id) {
            *out = q;
        }
    }
    return wake;
}

/* Reads the spool or gives up old calls when due; true when it did
 * something (and may have unlocked meanwhile). */
static bool housekeep(struct gw_relay *r, uint64_t now)
{
    if (gw_relay_page_due(r, now) <= now) {
        gw_relay_page_in(r, now);
        return true;
    }
    return gw_relay_page_refill(r) || expire_one(r, now);
}

void *gw_relay_sender_main(void *arg)
{
    gw_thread_name("sg-sender");
    struct gw_relay *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        uint64_t now = gw_relay_clock_now(r);
        if (r->stopping && now >= r->deadline_ns) {
            break;
        }
        if (housekeep(r, now)) {
            continue;
        }
        struct gw_relay_queue *q = NULL;
        uint64_t wake = next_action(r, now, &q);
        uint64_t read = gw_relay_page_due(r, now);
        wake = read < wake ? read : wake;
        if (q == NULL) {
            if (r->stopping && (wake == GW_RELAY_NEVER || wake >= r->deadline_ns)) {
                break;
            }
            gw_relay_clock_wait(r, wake);
            continue;
        }
        uint64_t wait = budget_wait(r, now);
        if (wait == 0) {
            send_batch(r, q, now);
        } else if (r->stopping && wait >= r->deadline_ns - now) {
            break;
        } else {
            gw_relay_clock_wait(r, now + wait);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}
