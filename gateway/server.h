/* server.h -- libmicrohttpd glue: listen, route, accumulate bodies with a
 * cap, answer. The pipeline itself is in ingest.h.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdint.h>

#include "rc.h"

struct gw_ingest;
struct gw_server;

struct gw_server_opts {
    const char *listen; /* "127.0.0.1:8080", "[::1]:0", ":8080" */
    unsigned threads;   /* worker threads; 0: one per core */
    uint64_t max_body;  /* bytes; over it: 413 */
};

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

/* Stops and frees. NULL is a no-op. */
void gw_server_stop(struct gw_server *s);

#endif
