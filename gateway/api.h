/* api.h -- the Segment-shaped endpoints: POST /v1/batch and /v1/track,
 * /v1/identify, /v1/page, /v1/screen, /v1/group, /v1/alias, with the bodies of
 * Segment's HTTP API, validated and relayed like mapped webhooks.
 * SPDX-License-Identifier: MIT */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>

#include "ingest.h"

/* True when name ("batch", "track", ...) is one of the endpoints. */
bool gw_api_known(const char *name);

/* Runs one request to /v1/<name>. req->source is ignored; req->write_key is
 * the Basic auth user. The source whose rules a call answers to is named by
 * its context.integration.name, else by the configuration's segment_source.
 * res is filled in, and the result returned, as by gw_ingest_run. */
enum gw_rc gw_api_run(const struct gw_ingest *ing, const char *name,
                      const struct gw_ingest_req *req, struct gw_ingest_res *res);

#endif
