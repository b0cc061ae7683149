/* client.h -- one upstream POST through libcurl; internal to relay/.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RELAY_CLIENT_H
#define GW_RELAY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "../buf.h"
#include "../rc.h"

/* Bytes of Segment's answer body kept for the log; the rest is read and
 * discarded. */
#define GW_RELAY_ANSWER_MAX 2048

struct gw_relay_client;

/* One request. Every pointer is borrowed for the duration of the call. */
struct gw_relay_post {
    const char *url;       /* endpoint + "/batch" */
    const char *write_key; /* Basic auth user name; the password is empty */
    const char *body;
    size_t len;
    unsigned timeout_ms; /* whole request, connect included; 0 is taken as 1 */
};

/* What came back. Embedded by value: init before the first post, fini once. */
struct gw_relay_answer {
    long status;          /* HTTP status, 0 when the transport failed */
    char retry_after[64]; /* Retry-After value, trimmed; "" when absent */
    struct gw_buf body;   /* the first GW_RELAY_ANSWER_MAX bytes */
    char error[256];      /* libcurl's message when status is 0, else "" */
};

void gw_relay_answer_init(struct gw_relay_answer *a);
void gw_relay_answer_fini(struct gw_relay_answer *a);

/* Returns a new client (one reusable connection cache). curl_global_init
 * must have run. Aborts on out of memory. */
struct gw_relay_client *gw_relay_client_create(void);
/* NULL is a no-op. No post may be running. */
void gw_relay_client_destroy(struct gw_relay_client *c);

/* Performs one POST, blocking until the answer, the timeout or the cut
 * deadline. Resets and fills a. Returns GW_OK when an HTTP answer arrived
 * (any status), GW_ERR_TIMEOUT when the timeout or the cut stopped it,
 * GW_ERR_IO for other transport failures (then a->status is 0). Not
 * thread-safe: one post at a time per client. */
enum gw_rc gw_relay_client_post(struct gw_relay_client *c, const struct gw_relay_post *p,
                                struct gw_relay_answer *a) GW_WUR;

/* Thread-safe, callable while a post runs: that post and every later one
 * give up at deadline_ns (CLOCK_MONOTONIC). */
void gw_relay_client_cut(struct gw_relay_client *c, uint64_t deadline_ns);

/* CLOCK_MONOTONIC in ns. */
uint64_t gw_relay_now_ns(void);

#endif
