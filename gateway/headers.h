/* headers.h -- what the server reads from a request's headers as
 * libmicrohttpd holds them (server.c's helpers, kept apart so that it stays
 * the glue of routes and answers).
 * SPDX-License-Identifier: MIT */
#ifndef GW_HEADERS_H
#define GW_HEADERS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "framing.h"

/* Keeps a caller's X-Request-Id when it is short and plain, else makes one
 * (16 hex digits) into out. */
void gw_headers_request_id(struct MHD_Connection *c, char *out, size_t len);

/* Returns new JSON object text of the request's headers but credentials
 * (Authorization, Proxy-Authorization, Cookie); arg is the connection. */
char *gw_headers_json(void *arg);

/* Every X-Forwarded-For line joined in order into out (the nearest hops kept
 * when it is too long). Returns false when the request has none. */
bool gw_headers_xff(struct MHD_Connection *c, char *out, size_t len);

/* The number of headers of the request. */
unsigned gw_headers_count(struct MHD_Connection *c);

/* Fills f with the framing check (gateway/framing.c) of the request's n
 * headers, and a 400 for a folded header line (obs-fold). */
void gw_headers_framing(struct MHD_Connection *c, const char *version, unsigned n,
                        struct gw_framing *f);

#endif
