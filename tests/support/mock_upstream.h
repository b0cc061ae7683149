/* mock_upstream.h -- a real HTTP server (libmicrohttpd, 127.0.0.1, port 0)
 * that plays Segment's /v1/batch in tests: it records every request, and
 * answers as scripted (status, Retry-After, a delay, or a hang).
 * SPDX-License-Identifier: MIT */
#ifndef MOCK_UPSTREAM_H
#define MOCK_UPSTREAM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mock_upstream;

struct mock_reply {
    int status;              /* 0 means 200 */
    unsigned delay_ms;       /* wait before answering (a hang: longer than the client's timeout) */
    const char *retry_after; /* Retry-After header value, or NULL */
    const char *body;        /* answer body, or NULL for {"success":true} */
};

/* Starts on 127.0.0.1 with a free port. Returns NULL on failure. */
struct mock_upstream *mock_upstream_start(void);
/* Stops (waking any delayed answer) and frees. NULL is a no-op. */
void mock_upstream_stop(struct mock_upstream *m);

/* Returns "http://127.0.0.1:PORT/v1", valid until stop. */
const char *mock_upstream_endpoint(struct mock_upstream *m);

/* Replies used in order, one per request, before the default one. */
void mock_upstream_push_reply(struct mock_upstream *m, struct mock_reply reply);
/* The reply once the pushed ones are used (initially 200). */
void mock_upstream_set_default(struct mock_upstream *m, struct mock_reply reply);
/* Answer 400 to any batch whose body contains needle (a messageId, say),
 * until cleared with NULL. Checked before the pushed replies. */
void mock_upstream_refuse_containing(struct mock_upstream *m, const char *needle);

struct mock_request {
    char *method;
    char *path;
    char *authorization;  /* NULL when absent */
    char *content_type;   /* NULL when absent */
    char *body;           /* NUL-terminated */
    size_t body_len;
    int64_t at_ms;        /* when the request was complete: the mock's clock, in ms */
    int status;           /* what the mock answered */
};

/* Requests received so far (complete bodies). */
size_t mock_upstream_count(struct mock_upstream *m);
/* Waits until at least n requests were received; false on timeout. */
bool mock_upstream_wait(struct mock_upstream *m, size_t n, unsigned timeout_ms);
/* Returns a new copy of request i (0-based), or NULL; free with mock_request_free. */
struct mock_request *mock_upstream_request(struct mock_upstream *m, size_t i);
void mock_request_free(struct mock_request *r);

/* Returns a new json array of every call in every batch the mock answered
 * 2xx, in arrival order (caller puts it). */
json_object *mock_upstream_accepted_calls(struct mock_upstream *m);
/* Waits until at least n calls were accepted; false on timeout. */
bool mock_upstream_wait_calls(struct mock_upstream *m, size_t n, unsigned timeout_ms);

/* CLOCK_MONOTONIC in ms (the clock of at_ms unless one is set). */
int64_t mock_now_ms(void);

/* Times at_ms with clock(arg) (thread-safe, called from the mock's
 * threads) instead of mock_now_ms: a test that drives the client's notion
 * of time sees arrivals on the same clock. NULL goes back to mock_now_ms. */
void mock_upstream_set_clock(struct mock_upstream *m, int64_t (*clock)(void *arg), void *arg);

#endif
