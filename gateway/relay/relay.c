/* relay.c -- in-memory queues per (write key, endpoint), the batcher, the
 * sender thread and the one retry policy.
 * SPDX-License-Identifier: MIT */
#include "relay.h"

#include <curl/curl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../buf.h"
#include "../log.h"
#include "../mem.h"
#include "client.h"

#define BODY_HEAD "{\"batch\":["
#define BODY_MID "],\"sentAt\":\""
#define BODY_TAIL "\"}"
#define SENT_AT_LEN 24 /* 2024-01-31T12:34:56.789Z */
#define ENVELOPE                                                                                   \
    (sizeof(BODY_HEAD) - 1 + sizeof(BODY_MID) - 1 + SENT_AT_LEN + sizeof(BODY_TAIL) - 1)
#define MIN_CALL 2 /* "{}" */
#define NEVER UINT64_MAX
#define NS_PER_MS 1000000u
#define NS_PER_SEC 1000000000u
#define WINDOW_MAX 4096
#define SPLIT_MAX 64

/* One queued call; its bytes never change, so its messageId survives
 * retries and splits. */
struct call {
    struct call *next;
    uint64_t queued_ns;
    size_t len;
    char json[];
};

struct queue {
    struct queue *next;
    char *write_key;
    char *endpoint;
    char *url;
    char fp[9]; /* SHA-256 prefix of the write key, for logs */
    struct call *head;
    struct call *tail;
    size_t n;
    size_t bytes;
    uint64_t ready_ns; /* nothing is sent before: backoff, Retry-After */
    unsigned attempt;  /* failures in a row of the head batch */
    /* After a 400, the head calls are resent in ever smaller pieces: each
     * entry is a run of head calls to send alone, the last entry first. */
    size_t splits[SPLIT_MAX];
    unsigned nsplits;
};

struct gw_relay {
    struct gw_relay_opts o;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started;
    bool stopping;
    bool stop_owned;
    uint64_t deadline_ns;
    size_t unsent;
    struct queue *queues;
    size_t queued_bytes;
    struct gw_relay_stats stats;
    struct gw_ratelimit rl;
    /* When the last `window` requests ended, oldest at done_next once
     * full: see docs/internals/relay.md, "Upstream budget". */
    uint64_t *done_ns;
    size_t window;
    size_t done_next;
    size_t done_len;
    uint64_t rng;
    /* Used by the sender thread only. */
    struct gw_relay_client *client;
    struct gw_buf body;
    struct gw_relay_answer answer;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gw_fatal("curl_global_init failed");
    }
}

void gw_relay_opts_init(struct gw_relay_opts *o)
{
    o->max_rps = 50;
    o->max_batch_bytes = 475000;
    o->max_batch_calls = 2500;
    o->flush_ms = 1000;
    o->timeout_ms = 10000;
    o->backoff_base_ms = 200;
    o->backoff_max_ms = 30000;
    o->max_retry_ms = 86400000;
    o->max_queue_bytes = (size_t)64 << 20;
}

enum gw_relay_outcome gw_relay_classify(long status)
{
    if (status >= 200 && status <= 299) {
        return GW_RELAY_OK;
    }
    if (status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599)) {
        return GW_RELAY_RETRY;
    }
    return GW_RELAY_DROP;
}

/* ---- queues ---- */

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

static struct queue *find_queue(struct gw_relay *r, const char *key, const char *endpoint)
{
    for (struct queue *q = r->queues; q != NULL; q = q->next) {
        if (strcmp(q->write_key, key) == 0 && strcmp(q->endpoint, endpoint) == 0) {
            return q;
        }
    }
    struct queue *q = gw_calloc(1, sizeof(*q));
    q->write_key = gw_strdup(key);
    q->endpoint = gw_strdup(endpoint);
    q->url = gw_asprintf("%s/batch", endpoint);
    fingerprint(key, q->fp);
    q->next = r->queues;
    r->queues = q;
    return q;
}

static void free_calls(struct call *c)
{
    while (c != NULL) {
        struct call *next = c->next;
        free(c);
        c = next;
    }
}

static void free_queue(struct queue *q)
{
    free_calls(q->head);
    free(q->write_key);
    free(q->endpoint);
    free(q->url);
    free(q);
}

/* Returns the body size of a batch of n calls of bytes in total. */
static size_t body_size(size_t n, size_t bytes)
{
    return ENVELOPE + bytes + (n > 0 ? n - 1 : 0);
}

/* Full: one more (smallest) call would not fit in one batch with the rest. */
static bool queue_full(const struct gw_relay *r, const struct queue *q)
{
    return q->n >= r->o.max_batch_calls ||
           body_size(q->n + 1, q->bytes + MIN_CALL) > r->o.max_batch_bytes;
}

/* Removes k calls from the head (sent, refused or expired). */
static void consume(struct gw_relay *r, struct queue *q, size_t k)
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
        struct call *c = q->head;
        q->head = c->next;
        q->bytes -= c->len;
        r->queued_bytes -= c->len;
        free(c);
    }
    if (q->head == NULL) {
        q->tail = NULL;
    }
    q->n -= k;
    r->stats.queued -= k;
}

/* A queue that keeps failing drops the calls queued too long ago; FIFO
 * order makes them a prefix. */
static void expire(struct gw_relay *r, struct queue *q, uint64_t now)
{
    uint64_t max_age = (uint64_t)r->o.max_retry_ms * NS_PER_MS;
    size_t k = 0;
    for (struct call *c = q->head; c != NULL && now - c->queued_ns > max_age; c = c->next) {
        k++;
    }
    if (k == 0) {
        return;
    }
    consume(r, q, k);
    r->stats.dropped += k;
    gw_warn("relay", "dropped %zu call(s) still failing after max_retry_ms=%u (key %s)", k,
            r->o.max_retry_ms, q->fp);
}

/* ---- submit ---- */

static size_t max_call_len(const struct gw_relay *r)
{
    return r->o.max_batch_bytes - ENVELOPE;
}

/* Copies the calls into a new chain; *total gets their bytes. */
static enum gw_rc copy_calls(const struct gw_relay *r, const struct gw_relay_call *calls, size_t n,
                             struct call **first, struct call **last, size_t *total)
{
    uint64_t now = gw_relay_now_ns();
    struct call *head = NULL;
    struct call **link = &head;
    struct call *tail = NULL;
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (calls[i].json == NULL || calls[i].len == 0 || calls[i].len > max_call_len(r)) {
            free_calls(head);
            return calls[i].json == NULL || calls[i].len == 0 ? GW_ERR_INVALID : GW_ERR_TOO_LARGE;
        }
        tail = gw_malloc(sizeof(*tail) + calls[i].len);
        tail->next = NULL;
        tail->queued_ns = now;
        tail->len = calls[i].len;
        memcpy(tail->json, calls[i].json, calls[i].len);
        *link = tail;
        link = &tail->next;
        sum += calls[i].len;
    }
    *first = head;
    *last = tail;
    *total = sum;
    return GW_OK;
}

static void append(struct gw_relay *r, struct queue *q, struct call *first, struct call *last,
                   size_t n, size_t bytes)
{
    bool was_empty = q->head == NULL;
    if (was_empty) {
        q->head = first;
    } else {
        q->tail->next = first;
    }
    q->tail = last;
    q->n += n;
    q->bytes += bytes;
    r->queued_bytes += bytes;
    r->stats.submitted += n;
    r->stats.queued += n;
    /* A new head brings a new flush time; a full queue is due now. */
    if (was_empty || queue_full(r, q)) {
        pthread_cond_signal(&r->cond);
    }
}

enum gw_rc gw_relay_submit(struct gw_relay *r, const char *write_key, const char *endpoint,
                           const struct gw_relay_call *calls, size_t n)
{
    if (r == NULL || write_key == NULL || endpoint == NULL || (n > 0 && calls == NULL)) {
        return GW_ERR_INVALID;
    }
    if (n == 0) {
        return GW_OK;
    }
    struct call *first = NULL;
    struct call *last = NULL;
    size_t bytes = 0;
    enum gw_rc rc = copy_calls(r, calls, n, &first, &last, &bytes);
    if (rc != GW_OK) {
        return rc;
    }
    rc = GW_ERR_BUSY;
    pthread_mutex_lock(&r->lock);
    if (r->stopping || bytes > r->o.max_queue_bytes - r->queued_bytes) {
        goto out;
    }
    append(r, find_queue(r, write_key, endpoint), gw_take(&first), last, n, bytes);
    rc = GW_OK;
out:
    pthread_mutex_unlock(&r->lock);
    free_calls(first);
    return rc;
}

/* ---- the sender ---- */

/* Returns how many head calls the next batch of q takes. */
static size_t batch_calls(const struct gw_relay *r, const struct queue *q)
{
    if (q->nsplits > 0) {
        return q->splits[q->nsplits - 1];
    }
    size_t k = 0;
    size_t size = ENVELOPE - 1;
    for (const struct call *c = q->head; c != NULL && k < r->o.max_batch_calls; c = c->next) {
        if (size + 1 + c->len > r->o.max_batch_bytes) {
            break;
        }
        size += 1 + c->len;
        k++;
    }
    GW_ASSERT(k > 0);
    return k;
}

static void format_sent_at(char out[SENT_AT_LEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, SENT_AT_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    int w = snprintf(out + n, SENT_AT_LEN + 1 - n, ".%03ldZ", (long)(ts.tv_nsec / 1000000));
    GW_ASSERT(n == 19 && w == 5);
}

/* Concatenates the stored bytes of the first k calls: no JSON parsing. */
static void build_body(struct gw_buf *b, const struct queue *q, size_t k)
{
    char sent_at[SENT_AT_LEN + 1];
    format_sent_at(sent_at);
    gw_buf_reset(b);
    enum gw_rc rc = gw_buf_add(b, BODY_HEAD, sizeof(BODY_HEAD) - 1);
    const struct call *c = q->head;
    for (size_t i = 0; i < k && rc == GW_OK; i++, c = c->next) {
        if (i > 0) {
            rc = gw_buf_add(b, ",", 1);
        }
        if (rc == GW_OK) {
            rc = gw_buf_add(b, c->json, c->len);
        }
    }
    if (rc == GW_OK) {
        rc = gw_buf_printf(b, "%s%s%s", BODY_MID, sent_at, BODY_TAIL);
    }
    GW_ASSERT(rc == GW_OK);
}

static void split(struct queue *q, size_t k)
{
    GW_ASSERT(q->nsplits + 1 < SPLIT_MAX);
    size_t first = (k + 1) / 2;
    if (q->nsplits > 0) {
        q->nsplits--;
    }
    q->splits[q->nsplits++] = k - first;
    q->splits[q->nsplits++] = first;
}

static void on_refused(struct gw_relay *r, struct queue *q, size_t k,
                       const struct gw_relay_answer *a)
{
    /* 400 (and 413) refuse a whole batch for what may be one bad call:
     * halve it until the refused call stands alone. */
    if (k > 1 && (a->status == 400 || a->status == 413)) {
        split(q, k);
        gw_info("relay", "upstream answered %ld to a batch of %zu calls, splitting (key %s)",
                a->status, k, q->fp);
        return;
    }
    gw_warn("relay", "dropped %zu call(s): upstream answered %ld (key %s): %.400s", k, a->status,
            q->fp, gw_buf_str(&a->body));
    r->stats.dropped += k;
    consume(r, q, k);
}

static void on_retry(struct gw_relay *r, struct queue *q, const struct gw_relay_answer *a,
                     uint64_t now)
{
    const struct gw_relay_opts *o = &r->o;
    unsigned delay =
        gw_backoff_delay_ms(q->attempt, o->backoff_base_ms, o->backoff_max_ms, &r->rng);
    unsigned ra = 0;
    if (a->retry_after[0] != '\0' &&
        gw_backoff_retry_after(a->retry_after, (int64_t)time(NULL), &ra) == GW_OK) {
        /* Past max_retry_ms every waiting call is dropped anyway. */
        ra = ra < o->max_retry_ms ? ra : o->max_retry_ms;
        delay = ra > delay ? ra : delay;
    }
    if (q->attempt < UINT_MAX) {
        q->attempt++;
    }
    q->ready_ns = now + (uint64_t)delay * NS_PER_MS;
    if (a->status == 0) {
        gw_warn("relay", "request failed (%s), retry %u in %u ms (key %s)", a->error, q->attempt,
                delay, q->fp);
    } else {
        gw_warn("relay", "upstream answered %ld, retry %u in %u ms (key %s)", a->status, q->attempt,
                delay, q->fp);
    }
}

static void apply_result(struct gw_relay *r, struct queue *q, size_t k,
                         const struct gw_relay_answer *a)
{
    switch (gw_relay_classify(a->status)) {
    case GW_RELAY_OK:
        r->stats.relayed += k;
        q->attempt = 0;
        consume(r, q, k);
        break;
    case GW_RELAY_DROP:
        q->attempt = 0;
        on_refused(r, q, k, a);
        break;
    case GW_RELAY_RETRY:
        on_retry(r, q, a, gw_relay_now_ns());
        break;
    }
}

/* Returns when the next request may start: a request never starts less
 * than 1 s after the end of the one `window` requests before it. */
static uint64_t window_opens(const struct gw_relay *r)
{
    if (r->window == 0 || r->done_len < r->window) {
        return 0;
    }
    return r->done_ns[r->done_next] + NS_PER_SEC;
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

/* Sends the next batch of q; called locked, unlocks around the request. */
static void send_batch(struct gw_relay *r, struct queue *q, uint64_t now)
{
    size_t k = batch_calls(r, q);
    build_body(&r->body, q, k);
    struct gw_relay_post p = {
        .url = q->url,
        .write_key = q->write_key,
        .body = r->body.ptr,
        .len = r->body.len,
        .timeout_ms = r->o.timeout_ms,
    };
    if (r->stopping) {
        /* Cut a request that would outlive the deadline. */
        uint64_t left = (r->deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS;
        p.timeout_ms = left < p.timeout_ms ? (unsigned)left : p.timeout_ms;
    }
    r->stats.requests++;
    r->stats.retries += q->attempt > 0;
    pthread_mutex_unlock(&r->lock);
    if (gw_relay_client_post(r->client, &p, &r->answer) != GW_OK) {
        /* Transport failure: status 0, which the policy retries. */
        GW_ASSERT(r->answer.status == 0);
    }
    pthread_mutex_lock(&r->lock);
    window_note(r, gw_relay_now_ns());
    apply_result(r, q, k, &r->answer);
}

/* Returns when q may send next, ignoring the request budget. */
static uint64_t due_time(const struct gw_relay *r, const struct queue *q)
{
    if (r->stopping || queue_full(r, q)) {
        return q->ready_ns;
    }
    uint64_t flush = q->head->queued_ns + (uint64_t)r->o.flush_ms * NS_PER_MS;
    return flush > q->ready_ns ? flush : q->ready_ns;
}

/* Sets *out to the queue to send now (oldest head first), or NULL, and
 * returns the next time something may become due. Frees idle queues. */
static uint64_t next_action(struct gw_relay *r, uint64_t now, struct queue **out)
{
    uint64_t wake = NEVER;
    *out = NULL;
    struct queue **link = &r->queues;
    while (*link != NULL) {
        struct queue *q = *link;
        if (q->attempt > 0) {
            expire(r, q, now);
        }
        /* An empty queue is kept until its Retry-After has passed. */
        if (q->head == NULL && q->ready_ns <= now) {
            *link = q->next;
            free_queue(q);
            continue;
        }
        link = &q->next;
        if (q->head == NULL) {
            continue;
        }
        uint64_t due = due_time(r, q);
        if (due > now) {
            wake = due < wake ? due : wake;
        } else if (*out == NULL || q->head->queued_ns < (*out)->head->queued_ns) {
            *out = q;
        }
    }
    return wake;
}

static void wait_until(struct gw_relay *r, uint64_t when_ns)
{
    if (when_ns == NEVER) {
        pthread_cond_wait(&r->cond, &r->lock);
        return;
    }
    struct timespec ts = {
        .tv_sec = (time_t)(when_ns / 1000000000u),
        .tv_nsec = (long)(when_ns % 1000000000u),
    };
    pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

static void *sender_main(void *arg)
{
    struct gw_relay *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        uint64_t now = gw_relay_now_ns();
        if (r->stopping && now >= r->deadline_ns) {
            break;
        }
        struct queue *q = NULL;
        uint64_t wake = next_action(r, now, &q);
        if (q == NULL) {
            if (r->stopping && (wake == NEVER || wake >= r->deadline_ns)) {
                break;
            }
            wait_until(r, wake);
            continue;
        }
        uint64_t wait = budget_wait(r, now);
        if (wait == 0) {
            send_batch(r, q, now);
        } else if (r->stopping && wait >= r->deadline_ns - now) {
            break;
        } else {
            wait_until(r, now + wait);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* ---- lifecycle ---- */

static void sanitize(struct gw_relay_opts *o)
{
    if (o->max_batch_calls == 0) {
        o->max_batch_calls = 1;
    }
    if (o->max_batch_bytes < ENVELOPE + MIN_CALL) {
        o->max_batch_bytes = ENVELOPE + MIN_CALL;
    }
    if (o->timeout_ms == 0) {
        o->timeout_ms = 1;
    }
}

static void init_budget(struct gw_relay *r, uint64_t now)
{
    /* A burst of one: see docs/internals/relay.md, "Upstream budget". */
    gw_ratelimit_init(&r->rl, r->o.max_rps, 1.0, now);
    if (r->o.max_rps > 0 && r->o.max_rps <= WINDOW_MAX) {
        r->window = r->o.max_rps < 1 ? 1 : (size_t)r->o.max_rps;
        r->done_ns = gw_calloc(r->window, sizeof(*r->done_ns));
    }
}

struct gw_relay *gw_relay_create(const struct gw_relay_opts *opts)
{
    pthread_once(&curl_once, init_curl);
    struct gw_relay *r = gw_calloc(1, sizeof(*r));
    r->o = *opts;
    sanitize(&r->o);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    uint64_t now = gw_relay_now_ns();
    init_budget(r, now);
    r->rng = now ^ (uint64_t)(uintptr_t)r ^ 0x9E3779B97F4A7C15ULL;
    r->client = gw_relay_client_create();
    gw_buf_init(&r->body, SIZE_MAX);
    gw_relay_answer_init(&r->answer);
    return r;
}

enum gw_rc gw_relay_start(struct gw_relay *r)
{
    enum gw_rc rc = GW_ERR_INVALID;
    pthread_mutex_lock(&r->lock);
    if (r->started) {
        goto out;
    }
    rc = GW_ERR_BUSY;
    if (r->stopping) {
        goto out;
    }
    rc = GW_ERR_NOMEM;
    if (pthread_create(&r->thread, NULL, sender_main, r) != 0) {
        goto out;
    }
    r->started = true;
    rc = GW_OK;
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

size_t gw_relay_stop(struct gw_relay *r, unsigned deadline_ms)
{
    pthread_mutex_lock(&r->lock);
    if (!r->stopping) {
        r->stopping = true;
        r->deadline_ns = gw_relay_now_ns() + (uint64_t)deadline_ms * NS_PER_MS;
        gw_relay_client_cut(r->client, r->deadline_ns);
        pthread_cond_signal(&r->cond);
    }
    /* The first caller joins and counts; later ones get its count. */
    bool first = !r->stop_owned;
    bool join = first && r->started;
    r->stop_owned = true;
    pthread_mutex_unlock(&r->lock);
    if (join) {
        pthread_join(r->thread, NULL);
    }
    pthread_mutex_lock(&r->lock);
    if (first) {
        r->unsent = r->stats.queued;
        if (r->unsent > 0) {
            gw_warn("relay", "stopped with %zu call(s) unsent", r->unsent);
        } else {
            gw_info("relay", "stopped, every call sent");
        }
    }
    size_t unsent = r->unsent;
    pthread_mutex_unlock(&r->lock);
    return unsent;
}

void gw_relay_destroy(struct gw_relay *r)
{
    if (r == NULL) {
        return;
    }
    (void)gw_relay_stop(r, 0);
    while (r->queues != NULL) {
        struct queue *q = r->queues;
        r->queues = q->next;
        free_queue(q);
    }
    gw_relay_client_destroy(r->client);
    free(r->done_ns);
    gw_buf_fini(&r->body);
    gw_relay_answer_fini(&r->answer);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void gw_relay_get_stats(struct gw_relay *r, struct gw_relay_stats *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
}
