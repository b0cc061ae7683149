/* relay.c -- the relay's life cycle and its doors: submit (into the spool),
 * stats, and the one retry policy.
 * SPDX-License-Identifier: MIT */
#include "relay.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config.h"
#include "../log.h"
#include "../mem.h"
#include "../metrics.h"
#include "../spool/spool.h"
#include "queue.h"

#define WINDOW_MAX 4096
#define SUBMIT_STACK 16 /* calls of a submit described on the stack */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gw_fatal("curl_global_init failed");
    }
}

void gw_relay_opts_init(struct gw_relay_opts *o)
{
    o->max_rps = gw_config_defaults()->max_rps; /* upstream.max_rps */
    o->max_batch_bytes = 475000;
    o->max_batch_calls = 2500;
    o->flush_ms = 1000;
    o->timeout_ms = gw_config_defaults()->upstream_timeout_s * 1000; /* upstream.timeout */
    o->backoff_base_ms = 200;
    o->backoff_max_ms = 30000;
    o->max_retry_ms = 86400000;
    o->max_queue_bytes = (size_t)64 << 20;
    o->clock = (struct gw_relay_clock){0};
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

const char *gw_relay_retry_label(unsigned cause)
{
    static const char *const labels[GW_RELAY_RETRY_CAUSES] = {
        [GW_RELAY_RETRY_TRANSPORT] = "0", /* no HTTP answer */
        [GW_RELAY_RETRY_408] = "408",
        [GW_RELAY_RETRY_429] = "429",
        [GW_RELAY_RETRY_500] = "500",
        [GW_RELAY_RETRY_502] = "502",
        [GW_RELAY_RETRY_503] = "503",
        [GW_RELAY_RETRY_504] = "504",
        [GW_RELAY_RETRY_5XX] = "5xx",
    };
    return cause < GW_RELAY_RETRY_CAUSES ? labels[cause] : NULL;
}

/* ---- the real clock ---- */

static uint64_t real_mono_ns(void *arg)
{
    (void)arg;
    return gw_relay_now_ns();
}

static int64_t real_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cond runs on CLOCK_MONOTONIC (gw_relay_create), the clock of real_mono_ns. */
static void real_wait(void *arg, pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ns)
{
    (void)arg;
    if (deadline_ns == GW_RELAY_NEVER) {
        pthread_cond_wait(cond, lock);
        return;
    }
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / GW_RELAY_NS_PER_SEC),
        .tv_nsec = (long)(deadline_ns % GW_RELAY_NS_PER_SEC),
    };
    pthread_cond_timedwait(cond, lock, &ts);
}

/* Completes a clock: each member left NULL is the real one. */
static void complete_clock(struct gw_relay_clock *c)
{
    if (c->mono_ns == NULL) {
        c->mono_ns = real_mono_ns;
    }
    if (c->real_ms == NULL) {
        c->real_ms = real_ms;
    }
    if (c->wait == NULL) {
        c->wait = real_wait;
    }
}

/* ---- submit ---- */

/* Checks every call; *bytes gets their total. */
static enum gw_rc check_calls(const struct gw_relay *r, const struct gw_relay_call *calls, size_t n,
                              uint64_t *bytes)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (calls[i].json == NULL || calls[i].len == 0) {
            return GW_ERR_INVALID;
        }
        if (calls[i].len > gw_relay_max_call(r)) {
            return GW_ERR_TOO_LARGE;
        }
        sum += calls[i].len;
    }
    *bytes = sum;
    return GW_OK;
}

static bool is_stopping(struct gw_relay *r)
{
    pthread_mutex_lock(&r->lock);
    bool stopping = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return stopping;
}

static const char *refusal_text(enum gw_rc rc)
{
    switch (rc) {
    case GW_ERR_FULL:
        return "the spool is full (max_spool)";
    case GW_ERR_NOSPACE:
        return "the disk under the spool is full";
    case GW_ERR_SHUTDOWN:
        return "the relay is stopping";
    default:
        return "the spool cannot write";
    }
}

/* Counts a submit that failed for want of room or of a working spool, and
 * logs when such a cause starts (note_submit logs when it ends): a full
 * spool under load refuses every request, and the log says it once. */
static void note_refusal(struct gw_relay *r, enum gw_rc rc)
{
    if (rc == GW_ERR_QUOTA) {
        /* One write key's share: the others are taken, so the relay as a
         * whole is not refusing; the access log names each refused request. */
        gw_metrics_spool_failure(rc);
        return;
    }
    if (rc != GW_ERR_FULL && rc != GW_ERR_NOSPACE && rc != GW_ERR_IO && rc != GW_ERR_SHUTDOWN) {
        return;
    }
    gw_metrics_spool_failure(rc);
    pthread_mutex_lock(&r->lock);
    bool news = r->refusing != rc;
    r->refusing = rc;
    pthread_mutex_unlock(&r->lock);
    if (news && rc == GW_ERR_SHUTDOWN) {
        gw_info("relay", "refusing calls: %s", refusal_text(rc));
    } else if (news) {
        gw_error("relay", "refusing calls: %s", refusal_text(rc));
    }
}

/* After a put: the sender reads the calls back when a batch is due. */
static void note_submit(struct gw_relay *r, size_t n, uint64_t bytes)
{
    pthread_mutex_lock(&r->lock);
    bool recovered = r->refusing != GW_OK;
    r->refusing = GW_OK;
    bool first = r->unread_since_ns == 0;
    bool was_short =
        r->unread_bytes < r->o.max_batch_bytes && r->unread_calls < r->o.max_batch_calls;
    r->put_seq++;
    r->stats.submitted += n;
    r->unread_bytes += bytes;
    r->unread_calls += n;
    if (first) {
        r->unread_since_ns = gw_relay_clock_now(r);
    }
    /* Wake the sender for a new flush time, or a batch's worth to read;
     * not for every submit. */
    if (first || (was_short && (r->unread_bytes >= r->o.max_batch_bytes ||
                                r->unread_calls >= r->o.max_batch_calls))) {
        pthread_cond_signal(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    if (recovered) {
        gw_info("relay", "the spool takes calls again");
    }
}

/* What a submit of n calls needs first: checked calls, a relay taking them. */
static enum gw_rc admit_submit(struct gw_relay *r, const char *write_key, const char *endpoint,
                               const struct gw_relay_call *calls, size_t n, uint64_t *bytes)
{
    if (r == NULL || write_key == NULL || endpoint == NULL || (n > 0 && calls == NULL)) {
        return GW_ERR_INVALID;
    }
    enum gw_rc rc = n == 0 ? GW_OK : check_calls(r, calls, n, bytes);
    if (rc == GW_OK && n > 0 && is_stopping(r)) {
        note_refusal(r, GW_ERR_SHUTDOWN);
        rc = GW_ERR_SHUTDOWN;
    }
    return rc;
}

/* The spool's view of calls: arrays of texts and lengths (on the stack
 * for up to SUBMIT_STACK calls). */
struct texts {
    const char *json_stack[SUBMIT_STACK];
    size_t len_stack[SUBMIT_STACK];
    const char **json;
    size_t *len;
};

static void texts_init(struct texts *t, const struct gw_relay_call *calls, size_t n)
{
    t->json = n <= SUBMIT_STACK ? t->json_stack : gw_calloc(n, sizeof(*t->json));
    t->len = n <= SUBMIT_STACK ? t->len_stack : gw_calloc(n, sizeof(*t->len));
    for (size_t i = 0; i < n; i++) {
        t->json[i] = calls[i].json;
        t->len[i] = calls[i].len;
    }
}

static void texts_fini(struct texts *t)
{
    if (t->json != t->json_stack) {
        free(t->json);
        free(t->len);
    }
}

enum gw_rc gw_relay_submit(struct gw_relay *r, const char *write_key, const char *endpoint,
                           const struct gw_relay_call *calls, size_t n)
{
    uint64_t bytes = 0;
    enum gw_rc rc = admit_submit(r, write_key, endpoint, calls, n, &bytes);
    if (rc != GW_OK || n == 0) {
        return rc;
    }
    struct texts t;
    texts_init(&t, calls, n);
    rc = gw_spool_put(r->spool, write_key, endpoint, t.json, t.len, n, NULL);
    if (rc == GW_OK) {
        note_submit(r, n, bytes);
    } else {
        note_refusal(r, rc);
    }
    texts_fini(&t);
    return rc;
}

/* An asynchronous submit between its put and its commit. */
struct waiting {
    struct gw_relay *r;
    size_t n;
    uint64_t bytes;
    gw_relay_done_fn done;
    void *arg;
};

static void on_committed(void *arg, enum gw_rc rc)
{
    struct waiting *w = arg;
    if (rc == GW_OK) {
        note_submit(w->r, w->n, w->bytes);
    } else {
        note_refusal(w->r, rc);
    }
    w->done(w->arg, rc);
    free(w);
}

enum gw_rc gw_relay_submit_async(struct gw_relay *r, const char *write_key, const char *endpoint,
                                 const struct gw_relay_call *calls, size_t n,
                                 gw_relay_done_fn done, void *arg)
{
    uint64_t bytes = 0;
    enum gw_rc rc = admit_submit(r, write_key, endpoint, calls, n, &bytes);
    if (rc == GW_OK && (n == 0 || done == NULL)) {
        rc = GW_ERR_INVALID;
    }
    if (rc != GW_OK) {
        return rc;
    }
    struct waiting *w = gw_malloc(sizeof(*w));
    *w = (struct waiting){.r = r, .n = n, .bytes = bytes, .done = done, .arg = arg};
    struct texts t;
    texts_init(&t, calls, n);
    rc = gw_spool_put_async(r->spool, write_key, endpoint, t.json, t.len, n, on_committed, w);
    texts_fini(&t);
    if (rc != GW_OK) {
        note_refusal(r, rc);
        free(w);
    }
    return rc;
}

/* ---- lifecycle ---- */

static void sanitize(struct gw_relay_opts *o)
{
    if (o->max_batch_calls == 0) {
        o->max_batch_calls = 1;
    }
    if (o->max_batch_bytes < GW_RELAY_ENVELOPE + GW_RELAY_MIN_CALL) {
        o->max_batch_bytes = GW_RELAY_ENVELOPE + GW_RELAY_MIN_CALL;
    }
    if (o->timeout_ms == 0) {
        o->timeout_ms = 1;
    }
    if (o->max_queue_bytes == 0) {
        o->max_queue_bytes = 1;
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

/* One queue may hold a few full batches, and a share of the window, so
 * that a queue waiting out a backoff does not crowd the others out. */
static size_t queue_cap(const struct gw_relay_opts *o)
{
    size_t cap = o->max_queue_bytes / 16;
    size_t batches = o->max_batch_bytes > SIZE_MAX / 2 ? SIZE_MAX : 2 * o->max_batch_bytes;
    cap = cap > batches ? cap : batches;
    return cap < o->max_queue_bytes ? cap : o->max_queue_bytes;
}

struct gw_relay *gw_relay_create(const struct gw_relay_opts *opts, struct gw_spool *spool)
{
    GW_ASSERT(opts != NULL && spool != NULL);
    pthread_once(&curl_once, init_curl);
    struct gw_relay *r = gw_calloc(1, sizeof(*r));
    r->o = *opts;
    sanitize(&r->o);
    complete_clock(&r->o.clock);
    r->spool = spool;
    r->queue_cap = queue_cap(&r->o);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    uint64_t now = gw_relay_clock_now(r);
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
    uint64_t calls = 0;
    uint64_t bytes = 0;
    gw_spool_stats(r->spool, &calls, &bytes);
    if (calls > 0) {
        gw_info("relay", "replaying %llu call(s), %llu bytes, from the spool",
                (unsigned long long)calls, (unsigned long long)bytes);
    }
    rc = GW_ERR_NOMEM;
    if (pthread_create(&r->thread, NULL, gw_relay_sender_main, r) != 0) {
        goto out;
    }
    r->started = true;
    rc = GW_OK;
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static size_t spool_depth(struct gw_relay *r)
{
    uint64_t calls = 0;
    gw_spool_stats(r->spool, &calls, NULL);
    return (size_t)calls;
}

size_t gw_relay_stop(struct gw_relay *r, unsigned deadline_ms)
{
    pthread_mutex_lock(&r->lock);
    if (!r->stopping) {
        r->stopping = true;
        uint64_t left = (uint64_t)deadline_ms * GW_RELAY_NS_PER_MS;
        r->deadline_ns = gw_relay_clock_now(r) + left;
        /* The transport runs on the real clock, whatever the relay's. */
        gw_relay_client_cut(r->client, gw_relay_now_ns() + left);
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
        r->unsent = spool_depth(r);
        if (r->unsent > 0) {
            gw_warn("relay",
                    "stopped with %zu call(s) unsent; they stay in the spool for the next "
                    "start",
                    r->unsent);
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
        struct gw_relay_queue *q = r->queues;
        r->queues = q->next;
        gw_relay_queue_free(q);
    }
    gw_relay_client_destroy(r->client);
    free(r->done_ns);
    free(r->ids);
    gw_buf_fini(&r->body);
    gw_relay_answer_fini(&r->answer);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void gw_relay_get_stats(struct gw_relay *r, struct gw_relay_stats *out)
{
    uint64_t calls = 0;
    uint64_t bytes = 0;
    gw_spool_stats(r->spool, &calls, &bytes);
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
    out->queued = calls;
    out->queued_bytes = bytes;
}
