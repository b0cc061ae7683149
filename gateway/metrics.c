/* metrics.c -- counters and histograms, rendered in the Prometheus text
 * exposition format. Every series is a fixed slot (label table index x
 * status, outcome or bucket) counted with relaxed C11 atomics, so the
 * request path takes no lock; the tables that turn a name into its index
 * are bounded, append-only and read without a lock.
 * SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "relay/relay.h"

#ifndef GW_VERSION
#define GW_VERSION "0.0.0"
#endif

#define N_BUCKETS 12
#define N_STATUS 600 /* HTTP statuses 0..599; others count as 0 */
#define NAME_LEN 64  /* a label value, NUL included */
#define HASH_SLOTS 128
#define N_ROWS (GW_METRICS_MAX_NAMES + 1) /* the names, then "unknown" */

_Static_assert(HASH_SLOTS >= 2 * GW_METRICS_MAX_NAMES && (HASH_SLOTS & (HASH_SLOTS - 1)) == 0,
               "the name hash needs a power of two, half empty at worst");

/* ---- label tables: a name to its index, lock-free to read ---- */

struct names {
    pthread_mutex_t add; /* writers only */
    _Atomic unsigned n;
    char name[GW_METRICS_MAX_NAMES][NAME_LEN];
    _Atomic unsigned slot[HASH_SLOTS]; /* 0: empty, else index + 1 */
};

static struct names sources = {.add = PTHREAD_MUTEX_INITIALIZER};
static struct names apis = {.add = PTHREAD_MUTEX_INITIALIZER};
static struct names rules = {.add = PTHREAD_MUTEX_INITIALIZER};
static struct names key_fps = {.add = PTHREAD_MUTEX_INITIALIZER};

/* Label values here are source slugs, endpoint and rule names: no quoting
 * is needed, and anything else is "unknown". */
static bool is_slug(const char *s)
{
    size_t n = 0;
    for (const char *c = s; *c; c++, n++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            return false;
        }
    }
    return n > 0 && n < NAME_LEN;
}

static unsigned hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h & (HASH_SLOTS - 1);
}

/* Returns the index of name, or GW_METRICS_UNKNOWN when it is not there. */
static unsigned find(struct names *t, const char *name)
{
    for (unsigned h = hash(name);; h = (h + 1) & (HASH_SLOTS - 1)) {
        unsigned v = atomic_load_explicit(&t->slot[h], memory_order_acquire);
        if (v == 0) {
            return GW_METRICS_UNKNOWN;
        }
        if (strcmp(t->name[v - 1], name) == 0) {
            return v - 1;
        }
    }
}

/* Returns the index of name, adding it when there is room. */
static unsigned resolve(struct names *t, const char *name)
{
    if (name == NULL || !is_slug(name)) {
        return GW_METRICS_UNKNOWN;
    }
    unsigned i = find(t, name);
    if (i != GW_METRICS_UNKNOWN) {
        return i;
    }
    pthread_mutex_lock(&t->add);
    i = find(t, name);
    unsigned n = atomic_load_explicit(&t->n, memory_order_relaxed);
    if (i == GW_METRICS_UNKNOWN && n < GW_METRICS_MAX_NAMES) {
        i = n;
        snprintf(t->name[i], NAME_LEN, "%s", name);
        unsigned h = hash(name);
        while (atomic_load_explicit(&t->slot[h], memory_order_relaxed) != 0) {
            h = (h + 1) & (HASH_SLOTS - 1);
        }
        /* The name is written before either store makes it visible. */
        atomic_store_explicit(&t->slot[h], i + 1, memory_order_release);
        atomic_store_explicit(&t->n, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&t->add);
    return i;
}

static const char *name_of(struct names *t, unsigned i)
{
    return i < GW_METRICS_MAX_NAMES ? t->name[i] : "unknown";
}

/* Rows to render: the names so far, then "unknown". */
static unsigned rows_of(struct names *t)
{
    return atomic_load_explicit(&t->n, memory_order_acquire);
}

/* ---- the series ---- */

struct histogram {
    const double *bounds;
    double scale;                   /* sum is kept in units of 1 / scale */
    _Atomic uint64_t slots[N_BUCKETS + 1];   /* per bucket, not cumulative; the last: +Inf */
    _Atomic uint64_t sum;
};

static const double duration_buckets[N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1,    5};
static const double batch_buckets[N_BUCKETS] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

enum { OUT_ACCEPTED, OUT_IGNORED, OUT_REJECTED, OUT_QUARANTINED, N_OUTCOMES };
static const char *const outcomes[N_OUTCOMES] = {"accepted", "ignored", "rejected",
                                                 "quarantined"};

/* The causes of sourcegate_spool_failures_total, by result code. */
static const struct {
    enum gw_rc rc;
    const char *label;
} spool_causes[] = {
    {GW_ERR_FULL, "full"},
    {GW_ERR_QUOTA, "key_quota"},
    {GW_ERR_NOSPACE, "disk_full"},
    {GW_ERR_IO, "io"},
    {GW_ERR_SHUTDOWN, "shutdown"},
};
#define N_CAUSES (sizeof(spool_causes) / sizeof(spool_causes[0]))

static _Atomic uint64_t requests[N_ROWS][N_STATUS];
static _Atomic uint64_t api_requests[N_ROWS][N_STATUS];
static _Atomic uint64_t events[N_ROWS][N_OUTCOMES];
static _Atomic uint64_t violations[N_ROWS];
static _Atomic uint64_t spool_failures[N_CAUSES];
/* Segment's answers that mean a bad write key or endpoint. */
static const int auth_statuses[] = {401, 403, 404};
#define N_AUTH (sizeof(auth_statuses) / sizeof(auth_statuses[0]))
static _Atomic uint64_t auth_failures[N_ROWS][N_AUTH];
static _Atomic uint64_t dead_evicted;
static struct histogram request_seconds = {.bounds = duration_buckets, .scale = 1e9};
static struct histogram relay_seconds = {.bounds = duration_buckets, .scale = 1e9};
static struct histogram batch_calls = {.bounds = batch_buckets, .scale = 1};

static void add(_Atomic uint64_t *c, uint64_t delta)
{
    atomic_fetch_add_explicit(c, delta, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void observe(struct histogram *h, double v)
{
    size_t i = 0;
    while (i < N_BUCKETS && !(v <= h->bounds[i])) {
        i++;
    }
    add(&h->slots[i], 1);
    if (v > 0) {
        add(&h->sum, (uint64_t)llround(v * h->scale));
    }
}

static size_t status_slot(int status)
{
    return status >= 0 && status < N_STATUS ? (size_t)status : 0;
}

unsigned gw_metrics_source(const char *name)
{
    return resolve(&sources, name);
}

void gw_metrics_request_at(unsigned source, int status, double seconds)
{
    add(&requests[source < N_ROWS ? source : GW_METRICS_UNKNOWN][status_slot(status)], 1);
    observe(&request_seconds, seconds);
}

void gw_metrics_request(const char *source, const char *api, int status, double seconds)
{
    if (api != NULL) {
        add(&api_requests[resolve(&apis, api)][status_slot(status)], 1);
        observe(&request_seconds, seconds);
        return;
    }
    gw_metrics_request_at(gw_metrics_source(source), status, seconds);
}

void gw_metrics_events_at(unsigned source, size_t accepted, size_t ignored, size_t rejected)
{
    _Atomic uint64_t *row = events[source < N_ROWS ? source : GW_METRICS_UNKNOWN];
    add(&row[OUT_ACCEPTED], accepted);
    add(&row[OUT_IGNORED], ignored);
    add(&row[OUT_REJECTED], rejected);
}

void gw_metrics_events(const char *source, size_t accepted, size_t ignored, size_t rejected)
{
    gw_metrics_events_at(gw_metrics_source(source), accepted, ignored, rejected);
}

void gw_metrics_quarantined(const char *source, size_t n)
{
    unsigned at = gw_metrics_source(source);
    add(&events[at < N_ROWS ? at : GW_METRICS_UNKNOWN][OUT_QUARANTINED], n);
}

void gw_metrics_violation(const char *rule)
{
    add(&violations[resolve(&rules, rule)], 1);
}

void gw_metrics_relay_request(double seconds, size_t calls)
{
    observe(&relay_seconds, seconds);
    observe(&batch_calls, (double)calls);
}

void gw_metrics_relay_latency(uint64_t *n_requests, uint64_t *total_us)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= N_BUCKETS; i++) {
        n += atomic_load(&relay_seconds.slots[i]);
    }
    *n_requests = n;
    *total_us = (uint64_t)llround((double)atomic_load(&relay_seconds.sum) * 1e6 /
                                  relay_seconds.scale);
}

void gw_metrics_spool_failure(enum gw_rc rc)
{
    for (size_t i = 0; i < N_CAUSES; i++) {
        if (spool_causes[i].rc == rc) {
            add(&spool_failures[i], 1);
        }
    }
}

void gw_metrics_relay_auth_failure(const char *fp, long status, size_t calls)
{
    for (size_t i = 0; i < N_AUTH; i++) {
        if (auth_statuses[i] == status) {
            add(&auth_failures[resolve(&key_fps, fp)][i], calls);
        }
    }
}

void gw_metrics_dead_evicted(uint64_t n)
{
    add(&dead_evicted, n);
}

static void zero(_Atomic uint64_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        atomic_store_explicit(&c[i], 0, memory_order_relaxed);
    }
}

static void zero_histogram(struct histogram *h)
{
    zero(h->slots, N_BUCKETS + 1);
    zero(&h->sum, 1);
}

void gw_metrics_reset(void)
{
    zero(&requests[0][0], N_ROWS * N_STATUS);
    zero(&api_requests[0][0], N_ROWS * N_STATUS);
    zero(&events[0][0], N_ROWS * N_OUTCOMES);
    zero(violations, N_ROWS);
    zero(spool_failures, N_CAUSES);
    zero(&auth_failures[0][0], N_ROWS * N_AUTH);
    zero(&dead_evicted, 1);
    zero_histogram(&request_seconds);
    zero_histogram(&relay_seconds);
    zero_histogram(&batch_calls);
}

/* ---- exposition ---- */

#define out(b, ...) GW_ASSERT(gw_buf_printf((b), __VA_ARGS__) == GW_OK)

static void head(struct gw_buf *b, const char *name, const char *type, const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Renders row i of a table (i == GW_METRICS_UNKNOWN: "unknown") when
 * the caller has rows_of(t) rows; returns whether the row exists. */
static bool row_name(struct names *t, unsigned i, unsigned rows, const char **name)
{
    if (i >= rows && i != GW_METRICS_UNKNOWN) {
        return false;
    }
    *name = name_of(t, i);
    return true;
}

/* Only series counted at least once are shown, as a label appears on its
 * first count. */
static void render_requests(struct gw_buf *b)
{
    static const char name[] = "sourcegate_requests_total";
    head(b, name, "counter", "Answered POST requests by source and status");
    unsigned rows = rows_of(&sources);
    for (unsigned i = 0; i < N_ROWS; i++) {
        const char *src = NULL;
        for (size_t st = 0; row_name(&sources, i, rows, &src) && st < N_STATUS; st++) {
            uint64_t v = get(&requests[i][st]);
            if (v > 0) {
                out(b, "%s{source=\"%s\",status=\"%zu\"} %llu\n", name, src, st,
                    (unsigned long long)v);
            }
        }
    }
    rows = rows_of(&apis);
    for (unsigned i = 0; i < N_ROWS; i++) {
        const char *api = NULL;
        for (size_t st = 0; row_name(&apis, i, rows, &api) && st < N_STATUS; st++) {
            uint64_t v = get(&api_requests[i][st]);
            if (v > 0) {
                out(b, "%s{source=\"api\",endpoint=\"%s\",status=\"%zu\"} %llu\n", name, api, st,
                    (unsigned long long)v);
            }
        }
    }
}

static void render_events(struct gw_buf *b)
{
    static const char name[] = "sourcegate_events_total";
    head(b, name, "counter", "Webhook events by source and outcome");
    unsigned rows = rows_of(&sources);
    for (unsigned i = 0; i < N_ROWS; i++) {
        const char *src = NULL;
        for (size_t o = 0; row_name(&sources, i, rows, &src) && o < N_OUTCOMES; o++) {
            uint64_t v = get(&events[i][o]);
            if (v > 0) {
                out(b, "%s{source=\"%s\",outcome=\"%s\"} %llu\n", name, src, outcomes[o],
                    (unsigned long long)v);
            }
        }
    }
}

static void render_violations(struct gw_buf *b)
{
    static const char name[] = "sourcegate_violations_total";
    head(b, name, "counter", "Spec violations by rule");
    unsigned rows = rows_of(&rules);
    for (unsigned i = 0; i < N_ROWS; i++) {
        const char *rule = NULL;
        uint64_t v = row_name(&rules, i, rows, &rule) ? get(&violations[i]) : 0;
        if (v > 0) {
            out(b, "%s{rule=\"%s\"} %llu\n", name, rule, (unsigned long long)v);
        }
    }
}

static void render_histogram(struct gw_buf *b, const char *name, const char *help,
                             struct histogram *h)
{
    head(b, name, "histogram", help);
    /* _count is the sum of the buckets read, so it always equals +Inf. */
    uint64_t total = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        total += get(&h->slots[i]);
        out(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)total);
    }
    total += get(&h->slots[N_BUCKETS]);
    out(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
        (unsigned long long)total, name, (double)get(&h->sum) / h->scale, name,
        (unsigned long long)total);
}

static void render_spool_failures(struct gw_buf *b)
{
    static const char name[] = "sourcegate_spool_failures_total";
    head(b, name, "counter",
         "Submits the spool refused, by cause: full (max_spool), key_quota"
         " (max_spool_per_key), disk_full, io, shutdown");
    for (size_t i = 0; i < N_CAUSES; i++) {
        out(b, "%s{cause=\"%s\"} %llu\n", name, spool_causes[i].label,
            (unsigned long long)get(&spool_failures[i]));
    }
}

static void render_gauge_or_counter(struct gw_buf *b, const char *name, const char *type,
                                    const char *help, uint64_t v)
{
    head(b, name, type, help);
    out(b, "%s %llu\n", name, (unsigned long long)v);
}

/* The key label is a fingerprint, never the key; past the table's bound
 * the fingerprints share "other". */
static void render_auth_failures(struct gw_buf *b)
{
    static const char name[] = "sourcegate_relay_auth_failures_total";
    head(b, name, "counter",
         "Calls dead-lettered because Segment answered 401, 403 or 404 (a bad write key or "
         "endpoint), by write key fingerprint (SHA-256 prefix) and status");
    unsigned rows = rows_of(&key_fps);
    for (unsigned i = 0; i < N_ROWS; i++) {
        const char *fp = NULL;
        for (size_t k = 0; row_name(&key_fps, i, rows, &fp) && k < N_AUTH; k++) {
            uint64_t v = get(&auth_failures[i][k]);
            if (v > 0) {
                out(b, "%s{key=\"%s\",status=\"%d\"} %llu\n", name,
                    i == GW_METRICS_UNKNOWN ? "other" : fp, auth_statuses[k],
                    (unsigned long long)v);
            }
        }
    }
}

/* The relay's figures, asked of it; the status labels are its own. */
static void render_relay(struct gw_buf *b, struct gw_relay *relay)
{
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    uint64_t failed = 0;
    head(b, "sourcegate_relay_requests_total", "counter",
         "Requests to Segment by outcome: the status of a failure to retry (0: no answer), done "
         "for the others");
    for (unsigned i = 0; i < GW_RELAY_RETRY_CAUSES; i++) {
        out(b, "sourcegate_relay_requests_total{status=\"%s\"} %llu\n", gw_relay_retry_label(i),
            (unsigned long long)st.retried[i]);
        failed += st.retried[i];
    }
    out(b, "sourcegate_relay_requests_total{status=\"done\"} %llu\n",
        (unsigned long long)(st.requests > failed ? st.requests - failed : 0));
    render_gauge_or_counter(b, "sourcegate_relayed_total", "counter", "Calls Segment accepted",
                            st.relayed);
    render_gauge_or_counter(b, "sourcegate_relay_retries_total", "counter",
                            "Requests to Segment that were retries", st.retries);
    render_gauge_or_counter(b, "sourcegate_dead_letters_total", "counter",
                            "Calls moved to the dead letters", st.dead_lettered);
    render_gauge_or_counter(b, "sourcegate_spool_calls", "gauge", "Calls waiting in the spool",
                            st.queued);
    render_gauge_or_counter(b, "sourcegate_spool_bytes", "gauge",
                            "Bytes of the calls waiting in the spool", st.queued_bytes);
}

char *gw_metrics_render(struct gw_relay *relay)
{
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    out(&b, "# HELP sourcegate_build_info Version of the running binary\n"
            "# TYPE sourcegate_build_info gauge\nsourcegate_build_info{version=\"%s\"} 1\n",
        GW_VERSION);
    render_requests(&b);
    render_events(&b);
    render_violations(&b);
    render_histogram(&b, "sourcegate_request_duration_seconds", "Time to answer a POST",
                     &request_seconds);
    render_histogram(&b, "sourcegate_relay_duration_seconds", "Time of one request to Segment",
                     &relay_seconds);
    render_histogram(&b, "sourcegate_batch_calls", "Calls in one batch sent to Segment",
                     &batch_calls);
    render_spool_failures(&b);
    render_auth_failures(&b);
    render_gauge_or_counter(&b, "sourcegate_dead_letters_evicted_total", "counter",
                            "Dead letters evicted, oldest first, past limits.max_dead_letters",
                            get(&dead_evicted));
    if (relay != NULL) {
        render_relay(&b, relay);
    }
    return gw_buf_detach(&b);
}
