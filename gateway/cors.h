/* cors.h -- CORS for the Segment-shaped endpoints: the origins
 * api.cors_origins lets call /v1, and the headers of their answers.
 * SPDX-License-Identifier: MIT */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stdbool.h>
#include <stddef.h>

struct gw_config;

/* The longest Origin taken, NUL included; a longer one is never allowed. */
#define GW_CORS_ORIGIN_MAX 256

/* True when cfg's api.cors_origins lists origin (borrowed; NULL: none)
 * exactly, byte for byte; it is then copied into out (len bytes, at most
 * GW_CORS_ORIGIN_MAX). out is untouched otherwise. */
bool gw_cors_allowed(const struct gw_config *cfg, const char *origin, char *out, size_t len);

/* Calls add(arg, name, value) for each CORS header of a /v1 answer: Vary:
 * Origin always; Access-Control-Allow-Origin when origin (borrowed) is not
 * empty (an allowed one); for a preflight to an allowed origin, -Methods,
 * -Headers (what the libraries send: analytics.js Authorization and
 * X-Retry-Count, others Content-Type and Content-Encoding) and -Max-Age. */
void gw_cors_headers(const char *origin, bool preflight,
                     void (*add)(void *arg, const char *name, const char *value), void *arg);

/* The methods /v1 answers to, for Allow. */
#define GW_CORS_METHODS "POST, OPTIONS"

#endif
