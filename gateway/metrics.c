/* metrics.c -- counters and histograms, rendered in the Prometheus text
 * exposition format. Series are few and bounded (sources x statuses), so a
 * mutex and small arrays serve; the hot path takes the lock once per request.
 * SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#ifndef GW_VERSION
#define GW_VERSION "0.0.0"
#endif

#define MAX_SERIES 512
#define N_BUCKETS 12

static const double duration_buckets[N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1,    5};
static const double batch_buckets[N_BUCKETS] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

struct series {
    char name[96];   /* the metric */
    char labels[160]; /* rendered label set: source="sendgrid",status="200" */
    uint64_t value;
};

struct histogram {
    uint64_t buckets[N_BUCKETS];
    uint64_t count;
    double sum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t n_series;
static struct histogram request_seconds, relay_seconds, batch_calls;

/* Adds delta to the series (name, labels); beyond MAX_SERIES new ones are
 * dropped rather than grow without bound. Call with the lock held. */
static void add_locked(const char *name, const char *labels, uint64_t delta)
{
    for (size_t i = 0; i < n_series; i++) {
        if (strcmp(series[i].name, name) == 0 && strcmp(series[i].labels, labels) == 0) {
            series[i].value += delta;
            return;
        }
    }
    if (n_series == MAX_SERIES) {
        return;
    }
    struct series *s = &series[n_series++];
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->labels, sizeof(s->labels), "%s", labels);
    s->value = delta;
}

static void observe_locked(struct histogram *h, const double *bounds, double v)
{
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (v <= bounds[i]) {
            h->buckets[i]++;
        }
    }
    h->count++;
    h->sum += v;
}

/* Label values here are source slugs, status codes and rule names: no
 * quoting is needed, but a slug is checked all the same. */
static const char *safe(const char *s)
{
    if (s == NULL) {
        return "unknown";
    }
    for (const char *c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            return "unknown";
        }
    }
    return s;
}

void gw_metrics_request(const char *source, const char *api, int status, double seconds)
{
    char labels[160];
    if (api != NULL) {
        snprintf(labels, sizeof(labels), "source=\"api\",endpoint=\"%s\",status=\"%d\"", safe(api),
                 status);
    } else {
        snprintf(labels, sizeof(labels), "source=\"%s\",status=\"%d\"", safe(source), status);
    }
    pthread_mutex_lock(&lock);
    add_locked("sourcegate_requests_total", labels, 1);
    observe_locked(&request_seconds, duration_buckets, seconds);
    pthread_mutex_unlock(&lock);
}

void gw_metrics_events(const char *source, size_t accepted, size_t ignored, size_t rejected)
{
    static const char *const outcomes[] = {"accepted", "ignored", "rejected"};
    size_t counts[] = {accepted, ignored, rejected};
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < 3; i++) {
        char labels[160];
        snprintf(labels, sizeof(labels), "source=\"%s\",outcome=\"%s\"", safe(source), outcomes[i]);
        if (counts[i] > 0) {
            add_locked("sourcegate_events_total", labels, counts[i]);
        }
    }
    pthread_mutex_unlock(&lock);
}

void gw_metrics_violation(const char *rule)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "rule=\"%s\"", safe(rule));
    pthread_mutex_lock(&lock);
    add_locked("sourcegate_violations_total", labels, 1);
    pthread_mutex_unlock(&lock);
}

void gw_metrics_relay_request(double seconds, size_t calls)
{
    pthread_mutex_lock(&lock);
    observe_locked(&relay_seconds, duration_buckets, seconds);
    observe_locked(&batch_calls, batch_buckets, (double)calls);
    pthread_mutex_unlock(&lock);
}

void gw_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    n_series = 0;
    memset(&request_seconds, 0, sizeof(request_seconds));
    memset(&relay_seconds, 0, sizeof(relay_seconds));
    memset(&batch_calls, 0, sizeof(batch_calls));
    pthread_mutex_unlock(&lock);
}

#define out(b, ...) GW_ASSERT(gw_buf_printf((b), __VA_ARGS__) == GW_OK)

static void render_counter(struct gw_buf *b, const char *name, const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < n_series; i++) {
        if (strcmp(series[i].name, name) == 0) {
            out(b, "%s{%s} %llu\n", name, series[i].labels, (unsigned long long)series[i].value);
        }
    }
}

static void render_histogram(struct gw_buf *b, const char *name, const char *help,
                             const struct histogram *h, const double *bounds)
{
    out(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < N_BUCKETS; i++) {
        out(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)h->buckets[i]);
    }
    out(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
        (unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

static void render_relay(struct gw_buf *b, const struct gw_metrics_relay *r)
{
    uint64_t failed = 0;
    out(b, "# HELP sourcegate_relay_requests_total Requests to Segment by outcome: the status "
           "of a failure to retry (0: no answer), done for the others\n"
           "# TYPE sourcegate_relay_requests_total counter\n");
    for (size_t i = 0; i < GW_METRICS_CAUSES && r->failed_label[i] != NULL; i++) {
        out(b, "sourcegate_relay_requests_total{status=\"%s\"} %llu\n", r->failed_label[i],
            (unsigned long long)r->failed[i]);
        failed += r->failed[i];
    }
    out(b, "sourcegate_relay_requests_total{status=\"done\"} %llu\n",
        (unsigned long long)(r->requests > failed ? r->requests - failed : 0));
    out(b, "# HELP sourcegate_relayed_total Calls Segment accepted\n"
           "# TYPE sourcegate_relayed_total counter\nsourcegate_relayed_total %llu\n",
        (unsigned long long)r->relayed);
    out(b, "# HELP sourcegate_relay_retries_total Requests to Segment that were retries\n"
           "# TYPE sourcegate_relay_retries_total counter\nsourcegate_relay_retries_total %llu\n",
        (unsigned long long)r->retries);
    out(b, "# HELP sourcegate_dead_letters_total Calls moved to the dead letters\n"
           "# TYPE sourcegate_dead_letters_total counter\nsourcegate_dead_letters_total %llu\n",
        (unsigned long long)r->dead_letters);
    out(b, "# HELP sourcegate_spool_calls Calls waiting in the spool\n"
           "# TYPE sourcegate_spool_calls gauge\nsourcegate_spool_calls %llu\n",
        (unsigned long long)r->spool_calls);
    out(b, "# HELP sourcegate_spool_bytes Bytes of the calls waiting in the spool\n"
           "# TYPE sourcegate_spool_bytes gauge\nsourcegate_spool_bytes %llu\n",
        (unsigned long long)r->spool_bytes);
}

char *gw_metrics_render(const struct gw_metrics_relay *relay)
{
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    out(&b, "# HELP sourcegate_build_info Version of the running binary\n"
            "# TYPE sourcegate_build_info gauge\nsourcegate_build_info{version=\"%s\"} 1\n",
        GW_VERSION);
    pthread_mutex_lock(&lock);
    render_counter(&b, "sourcegate_requests_total", "Answered POST requests by source and status");
    render_counter(&b, "sourcegate_events_total", "Webhook events by source and outcome");
    render_counter(&b, "sourcegate_violations_total", "Spec violations by rule");
    render_histogram(&b, "sourcegate_request_duration_seconds", "Time to answer a POST",
                     &request_seconds, duration_buckets);
    render_histogram(&b, "sourcegate_relay_duration_seconds", "Time of one request to Segment",
                     &relay_seconds, duration_buckets);
    render_histogram(&b, "sourcegate_batch_calls", "Calls in one batch sent to Segment",
                     &batch_calls, batch_buckets);
    pthread_mutex_unlock(&lock);
    if (relay != NULL) {
        render_relay(&b, relay);
    }
    return gw_buf_detach(&b);
}
