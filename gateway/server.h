/* server.h -- libmicrohttpd glue: listen, route, accumulate bodies with a
 * cap, answer. The pipeline itself is in ingest.h.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "rc.h"

struct gw_admin;
struct gw_config;
struct gw_ingest;
struct gw_ingest_res;
struct gw_server;

struct gw_server_opts {
    const char *listen; /* "127.0.0.1:8080", "[::1]:0", ":8080" */
    unsigned threads;   /* worker threads; 0: one per core */
    /* A request answers once its calls are committed, without holding its
     * thread meanwhile: the connection waits, suspended, and the spool's
     * committer shares one commit between all that wait (durability
     * fsync, where a commit waits for the disk). */
    bool async_commit;
    uint64_t max_body;  /* bytes; over it: 413 */
    unsigned max_url;   /* bytes of path and query; over it: 414 */
    unsigned max_headers;       /* header count; over it: 431 */
    uint64_t max_header_bytes;  /* per-connection memory for the request line and headers */
    unsigned max_connections;   /* open connections in all */
    unsigned max_connections_per_ip;
    unsigned idle_timeout_s;    /* a connection silent this long is closed */
    unsigned read_timeout_ms;   /* a request not read whole by then (headers, body) is closed */
    unsigned max_requests_per_client; /* in progress per client (after trusted_proxies): 429 */
    uint64_t lingering_bytes;   /* body read and discarded after a 413 before answering */
    unsigned lingering_time_ms; /* and for at most this long */
    const char *const *trusted_proxies; /* addresses or CIDRs whose X-Forwarded-For is believed */
    size_t n_trusted_proxies;
    struct gw_admin *admin; /* the debugger, fed from here, or NULL (borrowed) */
};

/* Fills o with the defaults of the settings table (gw_config_defaults):
 * listen, threads and the limits. */
void gw_server_opts_init(struct gw_server_opts *o);

/* Sets o's listen, threads, limits and trusted proxies from c (borrowed:
 * c must outlive the server's start). */
void gw_server_opts_from(struct gw_server_opts *o, const struct gw_config *c);

/* Starts serving ing (borrowed; must outlive the server). On success *out is
 * a new server; its port can be read with gw_server_port (useful with port 0). */
enum gw_rc gw_server_start(const struct gw_server_opts *opts, const struct gw_ingest *ing,
                           struct gw_server **out) GW_WUR;

uint16_t gw_server_port(const struct gw_server *s);

/* Stops accepting connections; /readyz answers 503 from now on. */
void gw_server_quiesce(struct gw_server *s);

/* Waits until no request is in flight or deadline_ms passed; returns the
 * number still in flight. */
unsigned gw_server_drain(struct gw_server *s, unsigned deadline_ms);

/* Serves ing from now on and returns the one it replaces, once no request
 * uses it any more (the caller frees it). */
const struct gw_ingest *gw_server_swap(struct gw_server *s, const struct gw_ingest *ing);

/* The one place an ingest outcome becomes an HTTP answer: sets *status
 * (200, 4xx, 5xx) and returns a new JSON object, the answer body DESIGN.md
 * specifies. Borrows res. */
json_object *gw_server_answer(const struct gw_ingest_res *res, int *status);

/* Stops and frees. NULL is a no-op. */
void gw_server_stop(struct gw_server *s);

#endif
