/* ingest.h -- the pipeline for one request: verify, decode, map, validate,
 * hand to the relay. No HTTP in it, so that `check` and `replay` reuse it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_INGEST_H
#define GW_INGEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "decode.h"
#include "rc.h"
#include "violation.h"

struct gw_config;
struct gw_ruleset;
struct gw_relay;
struct gw_relay_call;
struct gw_sources;
struct gw_spool;

/* What every request shares; read-only while serving. Built by
 * gw_ingest_init; all borrowed but sources. */
struct gw_ingest {
    const struct gw_config *cfg;
    const struct gw_ruleset *rules;
    struct gw_sources *sources; /* owned: each source bound to its configuration */
    struct gw_relay *relay; /* NULL when nothing may leave (global dry run) */
    struct gw_spool *spool; /* where refused requests are kept for replay, or NULL */
    struct gw_decode_limits limits;
};

/* Builds ing for cfg and rules (borrowed; they must outlive it): binds each
 * source to its configuration once and takes the decode limits from cfg.
 * relay and spool start NULL. Release with gw_ingest_fini. */
void gw_ingest_init(struct gw_ingest *ing, const struct gw_config *cfg,
                    const struct gw_ruleset *rules);
/* A zeroed ing is a no-op. */
void gw_ingest_fini(struct gw_ingest *ing);

/* One webhook as received. All borrowed. */
struct gw_ingest_req {
    const char *source;
    const char *content_type; /* NULL when absent */
    const char *body;
    size_t len;
    const char *write_key; /* from the request's Basic auth, or NULL */
    const char *basic_password; /* the Basic auth password, or NULL */
    const char *uri;       /* path and query exactly as received, or NULL */
    bool peer_trusted;     /* the peer is one of trusted_proxies: its X-Forwarded-Proto and
                              X-Forwarded-Host say which URL the partner called */
    bool dry_run;
    bool skip_signature;   /* a replay of a request whose signature passed when it arrived */
    bool replay;           /* a replay: a refusal is not stored again */
    int64_t now;           /* unix seconds, for signature windows; 0: the clock */
    int64_t received_ms;   /* unix ms the request arrived, for rules; 0: now */
    /* Returns new JSON object text of the request's headers but credentials,
     * to keep a refused request for replay; NULL when there is no way. */
    char *(*headers_json)(void *arg);
    const char *(*header)(void *arg, const char *name);
    const char *(*query)(void *arg, const char *name);
    void *arg;
    /* Set: accepted calls are handed to the spool's next group commit
     * without waiting for it. res->pending then says the answer waits for
     * committed(commit_arg, rc), called once from another thread; pass its
     * rc to gw_ingest_committed before answering. NULL: the pipeline
     * returns once the calls are durable. */
    void (*committed)(void *arg, enum gw_rc rc);
    void *commit_arg;
};

/* How a request ended. Only the server turns it into an HTTP answer;
 * `check` and `replay` into their exit codes and prints. */
enum gw_outcome {
    GW_OUTCOME_ACCEPTED, /* every call valid: handed to the relay, or shown (dry run) */
    GW_OUTCOME_IGNORED,  /* no call to send: the rules ignored every event on purpose */
    GW_OUTCOME_REFUSED,  /* calls break the Spec or the rules: see violations; none accepted */
    GW_OUTCOME_FAILED,   /* stopped before validation, or not queued: see cause and rc */
};

/* Why a request FAILED. */
enum gw_cause {
    GW_CAUSE_NONE,
    GW_CAUSE_UNKNOWN_SOURCE, /* no rules for the source named */
    GW_CAUSE_MEDIA_TYPE,     /* a Content-Type the source does not take */
    GW_CAUSE_MALFORMED,      /* the body does not decode, or holds no events */
    GW_CAUSE_TOO_LARGE,      /* the body holds more than a limit allows */
    GW_CAUSE_SIGNATURE,      /* the partner's signature is missing or wrong */
    GW_CAUSE_NO_WRITE_KEY,   /* nothing names the Segment write key */
    GW_CAUSE_SECRET,         /* our side: a configured secret the scheme cannot use */
    GW_CAUSE_RELAY,          /* the relay did not take the calls; rc says why */
};

struct gw_ingest_res {
    enum gw_outcome outcome;
    enum gw_cause cause;      /* GW_CAUSE_NONE unless FAILED */
    enum gw_rc rc;            /* FAILED: the code behind the cause (the relay's, for RELAY) */
    char message[512];        /* unless accepted: what went wrong, fit for the partner */
    json_object *events;      /* new array of the mapped calls, or NULL */
    /* Each call of events serialized once, when validated (emit.c): the
     * text its size was measured on is the text spooled, relayed and shown
     * by the debugger. n_text is 0 before validation. */
    struct gw_relay_call *text;
    size_t n_text;
    struct gw_buf text_buf; /* where text points: the calls, one after another */
    struct gw_violations violations;
    size_t accepted;
    size_t ignored;
    size_t quarantined;       /* invalid calls kept in the dead letters, the rest accepted */
    bool dry_run;
    const char *source;       /* the source's name, borrowed from the rules, or NULL */
    size_t source_id;         /* its id among the bound sources, when source is set */
    /* Past the signature check: the partner's signature passed, or the
     * source has no secret to check it with (unsigned). Both false before
     * it, and for a replay. Only such a request may be kept. */
    bool verified;
    bool unsigned_source;
    /* The calls wait for their commit (req->committed): accepted so far,
     * final after gw_ingest_committed. */
    bool pending;
    void (*committed)(void *arg, enum gw_rc rc); /* req's, while the pipeline runs */
    void *commit_arg;
};

/* A pending request's calls as json-c trees (about 3 KB an event) are
 * freed while it waits: res->events keeps its length, as NULLs, and the
 * calls their texts. */
void gw_ingest_res_slim(struct gw_ingest_res *res);

/* The outcome of a pending request once its commit is over: accepted as
 * it stands (GW_OK), or failed as a synchronous put that failed with rc. */
void gw_ingest_committed(struct gw_ingest_res *res, enum gw_rc rc);

/* Runs the pipeline; res is filled in (release it with gw_ingest_res_fini).
 * Returns gw_ingest_rc(res). */
enum gw_rc gw_ingest_run(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                         struct gw_ingest_res *res);

/* The outcome as a result code: GW_OK when accepted or ignored,
 * GW_ERR_INVALID when refused, the cause's code when failed. */
enum gw_rc gw_ingest_rc(const struct gw_ingest_res *res);

struct gw_spec_opts;

/* The back half shared by webhooks and the Segment-shaped endpoints:
 * res->events holds the calls, origin[k] the request index call k came
 * from, opts[k] the rules it answers to (NULL: the Spec's defaults).
 * Validates every call; refuses with all violations, or accepts (dry run),
 * or hands the calls to the relay for write_key and endpoint (all borrowed). */
void gw_ingest_deliver(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                       const size_t *origin, const char *write_key, const char *endpoint,
                       struct gw_ingest_res *res);

/* The kind of the dead letter a quarantined call becomes. */
#define GW_INGEST_DEAD_API_CALL "api_call"

/* The same, but quarantining (the /v1 default, api.on_invalid): the calls
 * with violations are taken out of res->events and, once the valid ones are
 * handed to the relay, each is kept in the dead letters (of kind
 * GW_INGEST_DEAD_API_CALL, with its violations as the reason, replayable)
 * and counted in res->quarantined; the outcome is ACCEPTED, the violations
 * stay in res for the answer. In a dry run nothing is kept. origin[k] must
 * differ per call. */
void gw_ingest_deliver_valid(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                             const size_t *origin, const char *write_key, const char *endpoint,
                             struct gw_ingest_res *res);

/* Gives every call of events (borrowed) that has no timestamp (and no
 * originalTimestamp from which Segment would correct one) the time the
 * request was received, received_ms (unix ms; 0: now), so that a call that
 * waits in the spool keeps its time. */
void gw_ingest_default_timestamps(json_object *events, int64_t received_ms);

/* Sets res to FAILED for cause and rc, with a message, without events. */
void gw_ingest_fail(struct gw_ingest_res *res, enum gw_cause cause, enum gw_rc rc,
                    const char *fmt, ...) GW_PRINTF(4, 5);

void gw_ingest_res_fini(struct gw_ingest_res *res);

/* Returns a static name for the cause, as the access log shows it
 * ("signature", "spool_full", ...); NULL for GW_CAUSE_NONE. */
const char *gw_ingest_cause_name(const struct gw_ingest_res *res);

/* Keeps a request refused for its content (REFUSED, or FAILED as MALFORMED)
 * in the dead letters with the status it was answered, so that `sourcegate
 * replay` can send it again after a rules fix; does nothing otherwise, in a
 * dry run, for a replay, or without a spool. Only a request whose signature
 * passed (res->verified), or that came to a source without a secret (kept
 * marked unverified), is kept: nothing unchecked is stored. */
void gw_ingest_keep_refused(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                            const struct gw_ingest_res *res, int status);

/* Returns a new JSON object: the `check` report
 * {"valid","events","violations","ignored"[,"error"]}. */
json_object *gw_ingest_report(const struct gw_ingest_res *res);

#endif
