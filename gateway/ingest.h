/* ingest.h -- the pipeline for one request: decode, map, validate, hand to
 * the relay. No HTTP in it, so that `check` and `replay` reuse it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_INGEST_H
#define GW_INGEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct gw_config;
struct gw_ruleset;
struct gw_relay;
struct gw_spool;

/* What every request shares; read-only while serving. All borrowed. */
struct gw_ingest {
    const struct gw_config *cfg;
    const struct gw_ruleset *rules;
    struct gw_relay *relay; /* NULL when nothing may leave (global dry run) */
    struct gw_spool *spool; /* where refused requests are kept for replay, or NULL */
    struct gw_decode_limits limits;
};

/* One webhook as received. All borrowed. */
struct gw_ingest_req {
    const char *source;
    const char *content_type; /* NULL when absent */
    const char *body;
    size_t len;
    const char *write_key; /* from the request's Basic auth, or NULL */
    const char *basic_password; /* the Basic auth password, or NULL */
    const char *uri;       /* path and query exactly as received, or NULL */
    bool dry_run;
    bool skip_signature;   /* a replay: the signature was checked when it arrived */
    bool replay;           /* a replay: a refusal is not stored again */
    int64_t now;           /* unix seconds, for signature windows; 0: the clock */
    int64_t received_ms;   /* unix ms the request arrived, for rules; 0: now */
    /* Returns new JSON object text of the request's headers but credentials,
     * to keep a refused request for replay; NULL when there is no way. */
    char *(*headers_json)(void *arg);
    const char *(*header)(void *arg, const char *name);
    const char *(*query)(void *arg, const char *name);
    void *arg;
};

struct gw_ingest_res {
    int status;           /* HTTP status */
    const char *error;    /* static error code ("bad_request", ...), NULL on 200 */
    char message[512];    /* for errors: what went wrong, fit for the partner */
    json_object *events;     /* new array of the mapped calls, or NULL */
    json_object *violations; /* new array, or NULL */
    size_t accepted;
    size_t ignored;
    bool dry_run;
    unsigned retry_after; /* seconds, for 503 */
};

/* Runs the pipeline; res is filled in (release it with gw_ingest_res_fini). */
void gw_ingest_run(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                   struct gw_ingest_res *res);

struct gw_spec_opts;

/* The back half shared by webhooks and the Segment-shaped endpoints:
 * res->events holds the calls, origin[k] the request index call k came
 * from, opts[k] the rules it answers to (NULL: the Spec's defaults).
 * Validates every call; answers 422 with all violations, or 200 (dry run),
 * or hands the calls to the relay for write_key and endpoint (all borrowed). */
void gw_ingest_deliver(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                       const size_t *origin, const char *write_key, const char *endpoint,
                       struct gw_ingest_res *res);

/* The write key: the request's Basic auth user, else the configuration's
 * sources.<req->source>.write_key; NULL when neither. Borrowed. */
const char *gw_ingest_write_key(const struct gw_ingest *ing, const struct gw_ingest_req *req);

/* Sets res to an error answer (status, static code, message) without events. */
void gw_ingest_fail(struct gw_ingest_res *res, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void gw_ingest_res_fini(struct gw_ingest_res *res);

/* Returns a new JSON object: the answer body DESIGN.md specifies for res. */
json_object *gw_ingest_answer(const struct gw_ingest_res *res);

/* Returns a new JSON object: the `check` report
 * {"valid","events","violations","ignored"[,"error"]}. */
json_object *gw_ingest_report(const struct gw_ingest_res *res);

#endif
