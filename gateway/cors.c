/* cors.c -- which browser origins may call /v1, and what their answers say.
 * SPDX-License-Identifier: MIT */
#include "cors.h"

#include <stdio.h>
#include <string.h>

#include "config.h"

#define ALLOW_HEADERS "Authorization, Content-Type, Content-Encoding, X-Retry-Count, X-Request-Id"
/* seconds a browser may reuse a preflight's answer */
#define MAX_AGE "600"

bool gw_cors_allowed(const struct gw_config *cfg, const char *origin, char *out, size_t len)
{
    if (origin == NULL || strlen(origin) >= len || strlen(origin) >= GW_CORS_ORIGIN_MAX) {
        return false;
    }
    for (size_t i = 0; i < cfg->n_api_cors_origins; i++) {
        if (strcmp(origin, cfg->api_cors_origins[i]) == 0) {
            snprintf(out, len, "%s", origin);
            return true;
        }
    }
    return false;
}

void gw_cors_headers(const char *origin, bool preflight,
                     void (*add)(void *arg, const char *name, const char *value), void *arg)
{
    /* the answer depends on Origin: a cache must not give one origin's to another */
    add(arg, "Vary", "Origin");
    if (origin == NULL || origin[0] == '\0') {
        return;
    }
    add(arg, "Access-Control-Allow-Origin", origin);
    if (preflight) {
        add(arg, "Access-Control-Allow-Methods", GW_CORS_METHODS);
        add(arg, "Access-Control-Allow-Headers", ALLOW_HEADERS);
        add(arg, "Access-Control-Max-Age", MAX_AGE);
    }
}
