/* metrics.h -- counters and histograms of the daemon, and their exposition
 * in the Prometheus text format for GET /metrics. Labels carry only bounded,
 * non-secret values: known source names, status codes, rule names.
 * Counting takes no lock: each series is a fixed slot updated with C11
 * atomics, and a name is resolved to its slot through a bounded table.
 * SPDX-License-Identifier: MIT */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct gw_relay;

/* Names a label table holds (sources; API endpoints; violation rules);
 * past it, and for a name that is not a slug, the slot of "unknown". */
#define GW_METRICS_MAX_NAMES 64
#define GW_METRICS_UNKNOWN GW_METRICS_MAX_NAMES

/* Returns the slot of source name (NULL: "unknown"), adding the name on its
 * first use. Thread-safe, lock-free once the name is known: resolve once
 * (at load, or once per request) and count with the slot. Borrows name. */
unsigned gw_metrics_source(const char *name);

/* Counts one answered request. source is a known source name or NULL
 * (unknown sources are counted as "unknown", so that a URL cannot mint
 * labels); api is "batch"/"track"/... for the Segment-shaped endpoints or NULL. */
void gw_metrics_request(const char *source, const char *api, int status, double seconds);

/* The same for a webhook request, with the slot of gw_metrics_source. */
void gw_metrics_request_at(unsigned source, int status, double seconds);

/* Counts the events of a request: accepted, ignored on purpose, rejected. */
void gw_metrics_events(const char *source, size_t accepted, size_t ignored, size_t rejected);

/* The same with the slot of gw_metrics_source. */
void gw_metrics_events_at(unsigned source, size_t accepted, size_t ignored, size_t rejected);

/* Counts n calls quarantined: refused and kept in the dead letters while the
 * rest of their request was accepted (/v1, api.on_invalid: quarantine). */
void gw_metrics_quarantined(const char *source, size_t n);

/* Counts one violation by its rule (required, type, ...). */
void gw_metrics_violation(const char *rule);

/* Counts one upstream request's duration and batch size (the relay calls it). */
void gw_metrics_relay_request(double seconds, size_t calls);

/* The upstream requests counted by gw_metrics_relay_request so far, and
 * their durations summed, in microseconds. */
void gw_metrics_relay_latency(uint64_t *n_requests, uint64_t *total_us);

/* Counts a submit the spool refused, by its cause: GW_ERR_FULL ("full"),
 * GW_ERR_QUOTA ("key_quota"), GW_ERR_NOSPACE ("disk_full"), GW_ERR_IO ("io"), GW_ERR_SHUTDOWN
 * ("shutdown"); other codes are not counted. */
void gw_metrics_spool_failure(enum gw_rc rc);

/* Returns new text: the whole page. relay (borrowed; NULL in a dry run) is
 * asked for its figures. */
/* Counts calls dead-lettered because Segment answered status (401, 403 or
 * 404; others are not counted) for the write key whose fingerprint is fp
 * (8 hex digits of its SHA-256, never the key; borrowed). */
void gw_metrics_relay_auth_failure(const char *fp, long status, size_t calls);

/* Counts n dead letters evicted by their bounds. */
void gw_metrics_dead_evicted(uint64_t n);

char *gw_metrics_render(struct gw_relay *relay);

/* Forgets every count (tests); the label tables keep their names. */
void gw_metrics_reset(void);

#endif
