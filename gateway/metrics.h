/* metrics.h -- counters and histograms of the daemon, and their exposition
 * in the Prometheus text format for GET /metrics. Labels carry only bounded,
 * non-secret values: known source names, status codes, rule names.
 * SPDX-License-Identifier: MIT */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct gw_relay;

/* What the relay adds to the page at scrape time (filled by the caller). */
#define GW_METRICS_CAUSES 8

struct gw_metrics_relay {
    uint64_t relayed, dropped, requests, retries;
    uint64_t spool_calls, spool_bytes, dead_letters;
    /* requests that failed and will be retried, by cause; labels borrowed
     * ("0" for a transport failure, "408", "429", "500", ..., "5xx") */
    uint64_t failed[GW_METRICS_CAUSES];
    const char *failed_label[GW_METRICS_CAUSES];
};

/* Counts one answered request. source is a known source name or NULL
 * (unknown sources are counted as "unknown", so that a URL cannot mint
 * labels); api is "batch"/"track"/... for the Segment-shaped endpoints or NULL. */
void gw_metrics_request(const char *source, const char *api, int status, double seconds);

/* Counts the events of a request: accepted, ignored on purpose, rejected. */
void gw_metrics_events(const char *source, size_t accepted, size_t ignored, size_t rejected);

/* Counts one violation by its rule (required, type, ...). */
void gw_metrics_violation(const char *rule);

/* Counts one upstream request's duration and batch size (the relay calls it). */
void gw_metrics_relay_request(double seconds, size_t calls);

/* Returns new text: the whole page. relay may be NULL (dry run). */
char *gw_metrics_render(const struct gw_metrics_relay *relay);

/* Forgets every count (tests). */
void gw_metrics_reset(void);

#endif
