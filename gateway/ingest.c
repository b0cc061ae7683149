/* ingest.c -- verify, decode, map, validate and enqueue one request, all or
 * nothing.
 * SPDX-License-Identifier: MIT */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "emit.h"
#include "json.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mapping/rule.h"
#include "mem.h"
#include "relay/relay.h"
#include "source.h"
#include "spec/spec.h"
#include "spool/spool.h"
#include "verify/verify.h"

void gw_ingest_fail(struct gw_ingest_res *res, enum gw_cause cause, enum gw_rc rc,
                    const char *fmt, ...)
{
    va_list ap;
    res->outcome = GW_OUTCOME_FAILED;
    res->cause = cause;
    res->rc = rc;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

void gw_ingest_res_fini(struct gw_ingest_res *res)
{
    free(res->text);
    res->text = NULL;
    res->n_text = 0;
    gw_buf_fini(&res->text_buf);
    json_object_put(res->events);
    res->events = NULL;
    gw_violations_fini(&res->violations);
}

const char *gw_ingest_cause_name(const struct gw_ingest_res *res)
{
    static const char *const names[] = {
        [GW_CAUSE_NONE] = NULL,
        [GW_CAUSE_UNKNOWN_SOURCE] = "unknown_source",
        [GW_CAUSE_MEDIA_TYPE] = "media_type",
        [GW_CAUSE_MALFORMED] = "malformed",
        [GW_CAUSE_TOO_LARGE] = "too_large",
        [GW_CAUSE_SIGNATURE] = "signature",
        [GW_CAUSE_NO_WRITE_KEY] = "no_write_key",
        [GW_CAUSE_SECRET] = "secret_unusable",
        [GW_CAUSE_RELAY] = "relay",
    };
    if (res->cause != GW_CAUSE_RELAY) {
        return (unsigned)res->cause < sizeof(names) / sizeof(names[0]) ? names[res->cause] : NULL;
    }
    switch (res->rc) {
    case GW_ERR_BUSY:
        return "relay_busy";
    case GW_ERR_FULL:
        return "spool_full";
    case GW_ERR_QUOTA:
        return "key_quota";
    case GW_ERR_NOSPACE:
        return "disk_full";
    case GW_ERR_SHUTDOWN:
        return "shutting_down";
    case GW_ERR_IO:
        return "spool_io";
    case GW_ERR_TOO_LARGE:
        return "batch_too_large";
    default:
        return "relay"; /* a code the relay did not use when this was written */
    }
}

void gw_ingest_init(struct gw_ingest *ing, const struct gw_config *cfg,
                    const struct gw_ruleset *rules)
{
    memset(ing, 0, sizeof(*ing));
    ing->cfg = cfg;
    ing->rules = rules;
    ing->sources = gw_sources_bind(cfg, rules);
    gw_decode_limits_init(&ing->limits);
    ing->limits.max_depth = cfg->max_depth;
    ing->limits.max_events = cfg->max_events;
    ing->limits.max_fields = cfg->max_fields;
}

void gw_ingest_fini(struct gw_ingest *ing)
{
    gw_sources_destroy(ing->sources);
    ing->sources = NULL;
}

/* Validates each call and serializes it, once: the size checked is that of
 * the text the relay sends (res->text). */
static void validate_calls(const struct gw_spec_opts *const *opts, const size_t *origin,
                           struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(res->events);
    free(res->text);
    res->text = gw_calloc(n ? n : 1, sizeof(*res->text));
    res->n_text = n;
    /* calls are bounded by the body's limits; this bounds the buffer too */
    gw_buf_init(&res->text_buf, (size_t)1 << 31);
    /* a call is 0.5-1 KB: room for the first 64 at once, doubling past
     * them (64 KiB is far within the limit: it cannot be refused) */
    enum gw_rc sized = gw_buf_room(&res->text_buf, (n < 64 ? n : 64) * 1024);
    GW_ASSERT(sized == GW_OK);
    size_t *at = gw_calloc(n ? n : 1, sizeof(*at));
    for (size_t k = 0; k < n; k++) {
        json_object *call = json_object_array_get_idx(res->events, k);
        gw_spec_validate(opts[k], call, origin[k], &res->violations);
        at[k] = res->text_buf.len;
        if (gw_emit_json(&res->text_buf, call) == GW_OK) {
            res->text[k].len = res->text_buf.len - at[k];
        } else { /* 2 GiB of calls: this one is refused as too large below,
                  * whatever part of it was written */
            res->text[k].len = SIZE_MAX / 2;
            res->text_buf.len = at[k];
        }
        const char *ev = gw_json_get_str(call, "event");
        gw_spec_check_size(res->text[k].len, origin[k], ev ? ev : gw_json_get_str(call, "type"),
                           &res->violations);
    }
    for (size_t k = 0; k < n; k++) { /* the buffer has stopped moving */
        res->text[k].json = res->text_buf.ptr + at[k];
    }
    free(at);
}

/* What the relay said, in words for the partner; the code stays in res. */
static const char *relay_message(enum gw_rc rc)
{
    switch (rc) {
    case GW_ERR_BUSY:
        return "the relay queue is full or shutting down; retry later";
    case GW_ERR_FULL:
        return "the spool is full (max_spool); retry later";
    case GW_ERR_QUOTA:
        return "this write key holds its share of the spool (max_spool_per_key); retry later";
    case GW_ERR_NOSPACE:
        return "the spool's disk is full; retry later";
    case GW_ERR_SHUTDOWN:
        return "sourcegate is shutting down; retry later";
    case GW_ERR_IO:
        return "the spool could not keep the calls; retry later";
    default:
        return "the relay could not take the calls; retry later";
    }
}

static void relay_calls(const struct gw_ingest *ing, const char *write_key, const char *endpoint,
                        struct gw_ingest_res *res)
{
    size_t n = res->n_text; /* validated: serialized */
    enum gw_rc rc = GW_OK;
    if (n > 0 && res->committed != NULL) {
        rc = gw_relay_submit_async(ing->relay, write_key, endpoint, res->text, n, res->committed,
                                   res->commit_arg);
        res->pending = rc == GW_OK;
    } else if (n > 0) {
        rc = gw_relay_submit(ing->relay, write_key, endpoint, res->text, n);
    }
    if (rc != GW_OK) {
        gw_ingest_fail(res, GW_CAUSE_RELAY, rc, "%s", relay_message(rc));
        return;
    }
    res->accepted = n;
}

/* Accepted, or ignored when there was nothing to send but events ignored. */
static void accept_all(struct gw_ingest_res *res)
{
    res->accepted = json_object_array_length(res->events);
    res->outcome = res->accepted == 0 && res->ignored > 0 ? GW_OUTCOME_IGNORED
                                                          : GW_OUTCOME_ACCEPTED;
}

void gw_ingest_deliver(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                       const size_t *origin, const char *write_key, const char *endpoint,
                       struct gw_ingest_res *res)
{
    validate_calls(opts, origin, res);
    size_t nv = res->violations.n;
    if (nv > 0) {
        res->outcome = GW_OUTCOME_REFUSED;
        snprintf(res->message, sizeof(res->message), "%zu violation%s of the Segment Spec; "
                 "nothing was accepted", nv, nv == 1 ? "" : "s");
        return;
    }
    if (!res->dry_run) {
        relay_calls(ing, write_key, endpoint, res);
    }
    if (res->outcome != GW_OUTCOME_FAILED) {
        accept_all(res);
    }
}

void gw_ingest_default_timestamps(json_object *events, int64_t received_ms)
{
    if (received_ms <= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        received_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    size_t n = json_object_array_length(events);
    for (size_t k = 0; k < n; k++) {
        json_object *call = json_object_array_get_idx(events, k);
        if (!json_object_is_type(call, json_type_object) ||
            json_object_object_get_ex(call, "timestamp", NULL) ||
            json_object_object_get_ex(call, "originalTimestamp", NULL)) {
            continue;
        }
        json_object *at = gw_iso8601_from_ms((long double)received_ms);
        if (at != NULL) {
            json_object_object_add(call, "timestamp", at);
        }
    }
}

/* The violations of the call from origin o, joined, as a dead letter's
 * reason. */
static void reason_of(const struct gw_violations *vs, size_t o, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < vs->n && used < len; i++) {
        const struct gw_violation *v = &vs->v[i];
        if (v->index != o) {
            continue;
        }
        int w = snprintf(out + used, len - used, "%s%s (%s, %s)", used ? "; " : "", v->message,
                         v->field, gw_violation_rule_name(v->rule));
        used = w < 0 ? len : used + (size_t)w;
    }
}

/* Keeps each refused call in the dead letters. A call that cannot be kept
 * is logged, never dropped in silence. */
static void bury_refused(const struct gw_ingest *ing, json_object *refused, const size_t *orig,
                         const char *write_key, const char *endpoint, struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(refused);
    for (size_t k = 0; k < n && !res->dry_run && ing->spool != NULL; k++) {
        json_object *call = json_object_array_get_idx(refused, k);
        char reason[768];
        reason_of(&res->violations, orig[k], reason, sizeof(reason));
        size_t len = 0;
        const char *text = gw_json_compact(call, &len);
        const char *name =
            gw_json_get_str(gw_json_get(gw_json_get(call, "context"), "integration"), "name");
        struct gw_spool_dead d = {
            .kind = GW_INGEST_DEAD_API_CALL, .source = (char *)name,
            .write_key = (char *)write_key, .endpoint = (char *)endpoint,
            .content_type = "application/json", .body = (char *)text, .len = len,
            .status = 422, .reason = reason,
            /* the caller's own write key was checked (api.write_keys) */
            .verified = true};
        if (gw_spool_dead_put(ing->spool, &d) != GW_OK) {
            gw_warn("ingest", "a quarantined call (batch index %zu) could not be kept in the "
                    "dead letters", orig[k]);
        }
    }
    res->quarantined = n;
}

void gw_ingest_deliver_valid(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                             const size_t *origin, const char *write_key, const char *endpoint,
                             struct gw_ingest_res *res)
{
    validate_calls(opts, origin, res);
    size_t n = json_object_array_length(res->events);
    json_object *good = json_object_new_array(), *bad = json_object_new_array();
    size_t *bad_origin = gw_calloc(n ? n : 1, sizeof(*bad_origin));
    size_t n_good = 0;
    for (size_t k = 0; k < n; k++) {
        bool refused = false;
        for (size_t i = 0; i < res->violations.n && !refused; i++) {
            refused = res->violations.v[i].index == origin[k];
        }
        if (refused) {
            bad_origin[json_object_array_length(bad)] = origin[k];
        } else {
            res->text[n_good++] = res->text[k]; /* the valid ones keep their text */
        }
        json_object_array_add(refused ? bad : good,
                              json_object_get(json_object_array_get_idx(res->events, k)));
    }
    res->n_text = n_good;
    json_object_put(res->events);
    res->events = good;
    if (json_object_array_length(bad) > 0) {
        res->committed = NULL; /* the refused are kept only once the others are durable */
    }
    if (!res->dry_run) {
        relay_calls(ing, write_key, endpoint, res);
    }
    if (res->outcome != GW_OUTCOME_FAILED) {
        /* kept only once the valid ones are queued: a retried request
         * would otherwise keep them twice */
        bury_refused(ing, bad, bad_origin, write_key, endpoint, res);
        accept_all(res);
        if (res->quarantined > 0) {
            snprintf(res->message, sizeof(res->message), "%zu call%s refused and %s; the others "
                     "accepted", res->quarantined, res->quarantined == 1 ? "" : "s",
                     res->dry_run ? "not kept (a dry run keeps nothing)"
                                  : "kept in the dead letters");
        }
    }
    json_object_put(bad);
    free(bad_origin);
}

/* The part after the source is known and its events collected. */
static void map_and_send(const struct gw_ingest *ing, const struct gw_bound_source *bs,
                         const struct gw_ingest_req *req, const char *write_key,
                         json_object *body, json_object *events, struct gw_ingest_res *res)
{
    const struct gw_source *src = bs->rules;
    size_t n = json_object_array_length(events);
    size_t cap = n ? n : 1;
    size_t *origin = gw_calloc(cap, sizeof(*origin)); /* webhook event of each call */
    struct gw_map_input in = {.body = body, .header = req->header, .query = req->query,
                              .arg = req->arg, .received_at = req->received_ms};
    for (size_t i = 0; i < n; i++) {
        bool ignored = false;
        size_t before = json_object_array_length(res->events);
        if (gw_source_apply(src, &in, json_object_array_get_idx(events, i), i, res->events,
                            &res->violations, &ignored) == GW_OK && ignored) {
            res->ignored++;
        }
        size_t after = json_object_array_length(res->events);
        if (after > cap) {
            cap = after * 2;
            origin = gw_realloc(origin, cap * sizeof(*origin));
        }
        for (size_t k = before; k < after; k++) {
            origin[k] = i;
        }
    }
    /* a partner that sends no event time: the time it reached sourcegate,
     * not the time the relay gets to send the call */
    gw_ingest_default_timestamps(res->events, req->received_ms);
    size_t total = json_object_array_length(res->events);
    const struct gw_spec_opts **opts = gw_calloc(total ? total : 1, sizeof(*opts));
    for (size_t k = 0; k < total; k++) {
        opts[k] = gw_source_spec(src);
    }
    gw_ingest_deliver(ing, opts, origin, write_key, bs->endpoint, res);
    free(opts);
    free(origin);
}

/* A host as a proxy forwards it: no path, query, user or blanks in it. */
static bool plain_host(const char *h)
{
    return h != NULL && h[0] != '\0' && strlen(h) <= 255 && strcspn(h, "/?#@ \t,\\") == strlen(h);
}

/* The URL the partner called, as it signed it: sources.NAME.public_url (with
 * the request's query string unless it holds one); else, only when the peer
 * is a trusted proxy, rebuilt from its X-Forwarded-Proto and
 * X-Forwarded-Host. Never from the client's own Host or forwarded headers:
 * a signature made for another URL would verify. New, or NULL when the URL
 * cannot be known. */
static char *public_url(const struct gw_bound_source *bs, const struct gw_ingest_req *req)
{
    const char *uri = req->uri != NULL && req->uri[0] == '/' ? req->uri : "/";
    const char *query = strchr(uri, '?');
    if (bs->public_url != NULL) {
        bool own_query = strchr(bs->public_url, '?') != NULL;
        return gw_asprintf("%s%s", bs->public_url, own_query || query == NULL ? "" : query);
    }
    if (!req->peer_trusted || req->header == NULL) {
        return NULL;
    }
    const char *proto = req->header(req->arg, "X-Forwarded-Proto");
    const char *host = req->header(req->arg, "X-Forwarded-Host");
    if (proto == NULL || (strcmp(proto, "https") != 0 && strcmp(proto, "http") != 0) ||
        !plain_host(host)) {
        return NULL;
    }
    return gw_asprintf("%s://%s%s", proto, host, uri);
}

/* The request's form fields for schemes that sign them (Twilio, Mandrill,
 * Mailgun's form posts); new, or NULL for other bodies. */
static struct gw_verify_param *form_params(const struct gw_ingest *ing, const struct gw_source *src,
                                           const struct gw_ingest_req *req,
                                           struct gw_form_pair **pairs, size_t *n_pairs)
{
    *pairs = NULL;
    *n_pairs = 0;
    if (gw_source_body(src) != GW_BODY_FORM ||
        gw_decode_form_pairs(req->body, req->len, ing->limits.max_fields, pairs, n_pairs) !=
            GW_OK) {
        return NULL;
    }
    struct gw_verify_param *params = gw_calloc(*n_pairs ? *n_pairs : 1, sizeof(*params));
    for (size_t i = 0; i < *n_pairs; i++) {
        params[i] = (struct gw_verify_param){(*pairs)[i].name, (*pairs)[i].value};
    }
    return params;
}

/* Checks the partner's signature when the source has a scheme and a secret,
 * on the raw body: nothing is decoded as events before it passed. Returns
 * false after failing res. */
static bool verify_signature(const struct gw_ingest *ing, const struct gw_bound_source *bs,
                             const struct gw_ingest_req *req, struct gw_verify_replay *hold,
                             struct gw_ingest_res *res)
{
    if (req->skip_signature || bs->scheme == NULL) {
        return true; /* said once at start-up when a secret is missing */
    }
    char *url = NULL;
    if (gw_verify_signs_url(bs->scheme)) {
        url = public_url(bs, req);
        if (url == NULL) {
            gw_ingest_fail(res, GW_CAUSE_SIGNATURE, GW_ERR_UNAUTHORIZED,
                           "%s signature: the URL it was made for cannot be known (set "
                           "sources.%s.public_url, or come through a trusted proxy that sends "
                           "X-Forwarded-Proto and X-Forwarded-Host)",
                           gw_verify_name(bs->scheme), bs->name);
            return false;
        }
    }
    struct gw_form_pair *pairs = NULL;
    size_t n_pairs = 0;
    struct gw_verify_param *params = form_params(ing, bs->rules, req, &pairs, &n_pairs);
    struct gw_verify_input in = {
        .method = "POST", .url = url, .body = req->body, .len = req->len,
        .header = req->header, .arg = req->arg, .params = params,
        .n_params = n_pairs, .basic_user = req->write_key,
        .basic_password = req->basic_password, .now = req->now ? req->now : (int64_t)time(NULL),
        .tolerance_s = bs->tolerance_s, .allow_legacy = bs->allow_legacy, .replay = hold};
    char why[256] = "";
    enum gw_rc rc = gw_verify_check(bs->scheme, bs->secret, &in, why, sizeof(why));
    free(url);
    free(params);
    gw_decode_pairs_free(pairs, n_pairs);
    const char *name = gw_verify_name(bs->scheme);
    if (rc == GW_ERR_INVALID || rc == GW_ERR_NOMEM) {
        /* our side: a secret or key the scheme cannot use; not the partner's fault */
        gw_error("ingest", "source %s: the configured %s secret cannot be used: %s",
                 bs->name, name, why);
        gw_ingest_fail(res, GW_CAUSE_SECRET, rc,
                       "the signature of source '%s' cannot be checked: the configuration is "
                       "wrong (see the log)", bs->name);
        return false;
    }
    if (rc != GW_OK) {
        gw_ingest_fail(res, GW_CAUSE_SIGNATURE, rc, "%s signature: %s", name, why);
        return false;
    }
    return true;
}

/* The write key for Segment: the request's Basic auth user, else the
 * configured one. The "basic" scheme spends the request's Basic auth on the
 * partner's credentials, so its key comes from the configuration only. */
static const char *write_key_for(const struct gw_bound_source *bs, const struct gw_ingest_req *req)
{
    if (!bs->basic_auth && req->write_key != NULL && req->write_key[0] != '\0') {
        return req->write_key;
    }
    return bs->write_key;
}

static bool decode_events(const struct gw_ingest *ing, const struct gw_source *src,
                          const struct gw_ingest_req *req, json_object **body,
                          json_object **events, struct gw_ingest_res *res)
{
    enum gw_rc rc = gw_decode(gw_source_body(src), gw_source_json_field(src), &ing->limits,
                              req->body, req->len, body, res->message, sizeof(res->message));
    if (rc == GW_OK) {
        rc = gw_source_events(src, *body, events, res->message, sizeof(res->message));
    }
    if (rc == GW_OK && json_object_array_length(*events) > ing->limits.max_events) {
        snprintf(res->message, sizeof(res->message), "body holds %zu events, more than the limit "
                 "of %zu", json_object_array_length(*events), ing->limits.max_events);
        rc = GW_ERR_TOO_LARGE;
    }
    if (rc != GW_OK) {
        res->outcome = GW_OUTCOME_FAILED;
        res->cause = rc == GW_ERR_TOO_LARGE ? GW_CAUSE_TOO_LARGE : GW_CAUSE_MALFORMED;
        res->rc = rc;
        return false;
    }
    return true;
}

void gw_ingest_keep_refused(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                            const struct gw_ingest_res *res, int status)
{
    bool refused = res->outcome == GW_OUTCOME_REFUSED ||
                   (res->outcome == GW_OUTCOME_FAILED && res->cause == GW_CAUSE_MALFORMED);
    if (ing->spool == NULL || res->dry_run || req->replay || !refused ||
        res->verified == res->unsigned_source) {
        return;
    }
    char reason[768];
    const struct gw_violation *v0 = res->violations.n > 0 ? &res->violations.v[0] : NULL;
    snprintf(reason, sizeof(reason), "%s%s%s", res->message, v0 ? ": " : "",
             v0 ? v0->message : "");
    char *headers = req->headers_json ? req->headers_json(req->arg) : NULL;
    struct gw_spool_dead d = {
        .kind = "request", .source = (char *)req->source, .write_key = (char *)req->write_key,
        .content_type = (char *)req->content_type, .headers = headers, .body = (char *)req->body,
        .len = req->len, .status = status, .reason = reason, .verified = res->verified,
        .unverified = res->unsigned_source};
    if (gw_spool_dead_put(ing->spool, &d) != GW_OK) {
        gw_warn("ingest", "a refused %s request could not be kept for replay", req->source);
    }
    free(headers);
}

void gw_ingest_res_slim(struct gw_ingest_res *res)
{
    size_t n = res->events != NULL ? json_object_array_length(res->events) : 0;
    json_object_put(res->events);
    res->events = json_object_new_array_ext((int)n);
    for (size_t k = 0; k < n; k++) {
        json_object_array_add(res->events, NULL);
    }
}

void gw_ingest_committed(struct gw_ingest_res *res, enum gw_rc rc)
{
    res->pending = false;
    if (rc != GW_OK) {
        gw_ingest_fail(res, GW_CAUSE_RELAY, rc, "%s", relay_message(rc));
        res->accepted = 0;
    }
}

enum gw_rc gw_ingest_rc(const struct gw_ingest_res *res)
{
    switch (res->outcome) {
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_IGNORED:
        return GW_OK;
    case GW_OUTCOME_REFUSED:
        return GW_ERR_INVALID;
    case GW_OUTCOME_FAILED:
        break;
    }
    return res->rc != GW_OK ? res->rc : GW_ERR_INVALID;
}

static void run(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                struct gw_verify_replay *hold, struct gw_ingest_res *res)
{
    memset(res, 0, sizeof(*res));
    res->dry_run = req->dry_run || ing->relay == NULL;
    res->committed = req->committed;
    res->commit_arg = req->commit_arg;
    const struct gw_bound_source *bs = gw_sources_find(ing->sources, req->source);
    if (bs == NULL) {
        gw_ingest_fail(res, GW_CAUSE_UNKNOWN_SOURCE, GW_ERR_NOT_FOUND, "unknown source '%.64s'",
                       req->source);
        return;
    }
    res->source = bs->name;
    res->source_id = bs->id;
    if (!gw_source_accepts(bs->rules, req->content_type)) {
        gw_ingest_fail(res, GW_CAUSE_MEDIA_TYPE, GW_ERR_UNSUPPORTED,
                       "source '%s' does not accept Content-Type '%.100s'", bs->name,
                       req->content_type);
        return;
    }
    if (!verify_signature(ing, bs, req, hold, res)) {
        return;
    }
    if (!req->skip_signature) {
        res->verified = bs->scheme != NULL;
        res->unsigned_source = bs->scheme == NULL;
    }
    json_object *body = NULL, *events = NULL;
    if (decode_events(ing, bs->rules, req, &body, &events, res)) {
        const char *write_key = write_key_for(bs, req);
        if (write_key == NULL && !res->dry_run) {
            gw_ingest_fail(res, GW_CAUSE_NO_WRITE_KEY, GW_ERR_UNAUTHORIZED,
                           "no write key: put it in the webhook URL as "
                           "https://<writeKey>@<host>/webhooks/%s, or set sources.%s.write_key "
                           "in the configuration; to try the rules without one, add ?dry_run=1",
                           bs->name, bs->name);
        } else {
            res->events = json_object_new_array();
            map_and_send(ing, bs, req, write_key, body, events, res);
        }
    }
    json_object_put(events);
    json_object_put(body);
}

enum gw_rc gw_ingest_run(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                         struct gw_ingest_res *res)
{
    struct gw_verify_replay hold = {0};
    run(ing, req, &hold, res);
    /* A one-use token (Mailgun) stays spent only when the calls are durable
     * (or there were none to send): a refusal, a 503 or a dry run leaves the
     * partner's retry usable. */
    if (!res->dry_run &&
        (res->outcome == GW_OUTCOME_ACCEPTED || res->outcome == GW_OUTCOME_IGNORED)) {
        gw_verify_commit(&hold);
    } else {
        gw_verify_release(&hold);
    }
    return gw_ingest_rc(res);
}

json_object *gw_ingest_report(const struct gw_ingest_res *res)
{
    bool valid = res->outcome == GW_OUTCOME_ACCEPTED || res->outcome == GW_OUTCOME_IGNORED;
    json_object *rep = json_object_new_object();
    json_object_object_add(rep, "valid", json_object_new_boolean(valid));
    json_object_object_add(rep, "events", res->events ? json_object_get(res->events)
                                                      : json_object_new_array());
    json_object_object_add(rep, "violations", gw_violations_json(&res->violations));
    json_object_object_add(rep, "ignored", json_object_new_int64((int64_t)res->ignored));
    if (res->outcome == GW_OUTCOME_FAILED) {
        json_object_object_add(rep, "error", json_object_new_string(res->message));
    }
    return rep;
}
