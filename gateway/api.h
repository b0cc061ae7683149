/* api.h -- the Segment-shaped endpoints: POST /v1/batch and /v1/track,
 * /v1/identify, /v1/page, /v1/screen, /v1/group, /v1/alias, with the bodies of
 * Segment's HTTP API, validated and relayed like mapped webhooks.
 * SPDX-License-Identifier: MIT */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>

#include "ingest.h"

/* The canonical name ("batch", "track", ...) of the endpoint /v1/<path>,
 * aliases included ("t", "b", "import": see gw_calltype_endpoint), static;
 * NULL when path is none of them. */
const char *gw_api_endpoint(const char *path);

/* Runs one request to /v1/<name> (a canonical name). req->source is
 * ignored; req->write_key is the Basic auth user; the body is JSON whatever
 * req->content_type says. The caller must bring a write key (Basic, or
 * writeKey in the body): without one, or with one api.write_keys does not
 * list, the request FAILS as NO_WRITE_KEY (a dry run needs none). Invalid
 * calls are quarantined (gw_ingest_deliver_valid) unless api.on_invalid is
 * reject. The source whose rules a call answers to is named by
 * its context.integration.name, else by the configuration's segment_source.
 * res is filled in, and the result returned, as by gw_ingest_run. */
enum gw_rc gw_api_run(const struct gw_ingest *ing, const char *name,
                      const struct gw_ingest_req *req, struct gw_ingest_res *res);

/* Sends one quarantined /v1 call again (a dead letter of kind
 * GW_INGEST_DEAD_API_CALL; call is its JSON text, all borrowed): validated as the
 * endpoint validates it (its source's rules, api.allow_anonymous), all or
 * nothing, then handed to the relay for write_key and endpoint. res and the
 * result as by gw_api_run. */
enum gw_rc gw_api_replay(const struct gw_ingest *ing, const char *call, const char *write_key,
                         const char *endpoint, struct gw_ingest_res *res);

#endif
