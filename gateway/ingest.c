/* ingest.c -- decode, map, validate and enqueue one request, all or nothing.
 * SPDX-License-Identifier: MIT */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "relay/relay.h"
#include "spec/spec.h"
#include "spool/spool.h"
#include "verify/verify.h"

void gw_ingest_fail(struct gw_ingest_res *res, int status, const char *error, const char *fmt, ...)
{
    va_list ap;
    res->status = status;
    res->error = error;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

void gw_ingest_res_fini(struct gw_ingest_res *res)
{
    json_object_put(res->events);
    json_object_put(res->violations);
    res->events = NULL;
    res->violations = NULL;
}

const char *gw_ingest_write_key(const struct gw_ingest *ing, const struct gw_ingest_req *req)
{
    if (req->write_key != NULL && req->write_key[0] != '\0') {
        return req->write_key;
    }
    const struct gw_source_conf *sc = gw_config_source(ing->cfg, req->source);
    return sc != NULL && sc->write_key != NULL && sc->write_key[0] != '\0' ? sc->write_key : NULL;
}

static void validate_calls(const struct gw_spec_opts *const *opts, const size_t *origin,
                           struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(res->events);
    for (size_t k = 0; k < n; k++) {
        json_object *call = json_object_array_get_idx(res->events, k);
        size_t len = 0;
        gw_spec_validate(opts[k], call, origin[k], res->violations);
        gw_json_compact(call, &len);
        const char *ev = gw_json_get_str(call, "event");
        gw_spec_check_size(len, origin[k], ev ? ev : gw_json_get_str(call, "type"),
                           res->violations);
    }
}

static void relay_calls(const struct gw_ingest *ing, const char *write_key, const char *endpoint,
                        struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(res->events);
    struct gw_relay_call *calls = gw_calloc(n ? n : 1, sizeof(*calls));
    for (size_t k = 0; k < n; k++) {
        calls[k].json = gw_json_compact(json_object_array_get_idx(res->events, k), &calls[k].len);
    }
    enum gw_rc rc = n == 0 ? GW_OK : gw_relay_submit(ing->relay, write_key, endpoint, calls, n);
    free(calls);
    if (rc != GW_OK) {
        res->retry_after = 5;
        gw_ingest_fail(res, 503, "unavailable",
                       "the relay queue is full or shutting down; retry later");
        return;
    }
    res->accepted = n;
    res->status = 200;
}

void gw_ingest_deliver(const struct gw_ingest *ing, const struct gw_spec_opts *const *opts,
                       const size_t *origin, const char *write_key, const char *endpoint,
                       struct gw_ingest_res *res)
{
    validate_calls(opts, origin, res);
    size_t nv = json_object_array_length(res->violations);
    if (nv > 0) {
        gw_ingest_fail(res, 422, "spec_violation", "%zu violation%s of the Segment Spec; nothing "
                       "was accepted", nv, nv == 1 ? "" : "s");
        return;
    }
    if (res->dry_run) {
        res->accepted = json_object_array_length(res->events);
        res->status = 200;
        return;
    }
    relay_calls(ing, write_key, endpoint, res);
}

/* The part after the source is known and its events collected. */
static void map_and_send(const struct gw_ingest *ing, const struct gw_source *src,
                         const struct gw_ingest_req *req, const char *write_key,
                         json_object *body, json_object *events, struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(events);
    size_t cap = n ? n : 1;
    size_t *origin = gw_calloc(cap, sizeof(*origin)); /* webhook event of each call */
    struct gw_map_input in = {.body = body, .header = req->header, .query = req->query,
                              .arg = req->arg};
    for (size_t i = 0; i < n; i++) {
        bool ignored = false;
        size_t before = json_object_array_length(res->events);
        if (gw_source_apply(src, &in, json_object_array_get_idx(events, i), i, res->events,
                            res->violations, &ignored) == GW_OK && ignored) {
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
    size_t total = json_object_array_length(res->events);
    const struct gw_spec_opts **opts = gw_calloc(total ? total : 1, sizeof(*opts));
    for (size_t k = 0; k < total; k++) {
        opts[k] = gw_source_spec(src);
    }
    gw_ingest_deliver(ing, opts, origin, write_key, gw_config_endpoint(ing->cfg, req->source),
                      res);
    free(opts);
    free(origin);
}

/* The URL the partner called, as it signed it: the configured public_url,
 * else rebuilt from the request (scheme from X-Forwarded-Proto). */
static char *public_url(const struct gw_source_conf *sc, const struct gw_ingest_req *req)
{
    if (sc != NULL && sc->public_url != NULL) {
        return gw_strdup(sc->public_url);
    }
    const char *proto = req->header ? req->header(req->arg, "X-Forwarded-Proto") : NULL;
    const char *host = req->header ? req->header(req->arg, "Host") : NULL;
    return gw_asprintf("%s://%s%s", proto && strcmp(proto, "https") == 0 ? "https" : "http",
                       host ? host : "localhost", req->uri ? req->uri : "/");
}

/* Checks the partner's signature when the source has a scheme and a secret.
 * Returns false after filling res with a 401. */
static bool verify_signature(const struct gw_ingest *ing, const struct gw_source *src,
                             const struct gw_ingest_req *req, json_object *body,
                             struct gw_ingest_res *res)
{
    const char *name = gw_source_signature(src);
    if (req->skip_signature) {
        return true;
    }
    const struct gw_source_conf *sc = gw_config_source(ing->cfg, req->source);
    const char *secret = sc ? (sc->verify_key ? sc->verify_key : sc->secret) : NULL;
    if (name == NULL || secret == NULL) {
        return true; /* said once at start-up: signatures are not checked */
    }
    struct gw_form_pair *pairs = NULL;
    size_t n_pairs = 0;
    if (gw_source_body(src) == GW_BODY_FORM &&
        gw_decode_form_pairs(req->body, req->len, ing->limits.max_fields, &pairs, &n_pairs) !=
            GW_OK) {
        n_pairs = 0;
    }
    struct gw_verify_param *params = gw_calloc(n_pairs ? n_pairs : 1, sizeof(*params));
    for (size_t i = 0; i < n_pairs; i++) {
        params[i] = (struct gw_verify_param){pairs[i].name, pairs[i].value};
    }
    char *url = public_url(sc, req);
    struct gw_verify_input in = {
        .method = "POST", .url = url, .body = req->body, .len = req->len,
        .header = req->header, .arg = req->arg, .params = pairs ? params : NULL,
        .n_params = n_pairs, .json = body, .basic_user = req->write_key,
        .basic_password = req->basic_password, .now = req->now ? req->now : (int64_t)time(NULL)};
    char why[256] = "";
    enum gw_rc rc = gw_verify_check(gw_verify_find(name), secret, &in, why, sizeof(why));
    free(url);
    free(params);
    gw_decode_pairs_free(pairs, n_pairs);
    if (rc == GW_ERR_INVALID || rc == GW_ERR_NOMEM) {
        /* our side: a secret or key the scheme cannot use; not the partner's fault */
        gw_error("ingest", "source %s: the configured %s secret cannot be used: %s",
                 req->source, name, why);
        gw_ingest_fail(res, 500, "internal_error",
                       "the signature of source '%s' cannot be checked: the configuration is "
                       "wrong (see the log)", req->source);
        return false;
    }
    if (rc != GW_OK) {
        gw_ingest_fail(res, 401, "unauthorized", "%s signature: %s", name, why);
        return false;
    }
    return true;
}

/* The write key for Segment. The "basic" scheme spends the request's Basic
 * auth on the partner's credentials, so its key comes from the configuration. */
static const char *write_key_for(const struct gw_ingest *ing, const struct gw_source *src,
                                 const struct gw_ingest_req *req)
{
    const char *sig = gw_source_signature(src);
    if (sig != NULL && strcmp(sig, "basic") == 0) {
        struct gw_ingest_req copy = *req;
        copy.write_key = NULL;
        return gw_ingest_write_key(ing, &copy);
    }
    return gw_ingest_write_key(ing, req);
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
        res->status = rc == GW_ERR_TOO_LARGE ? 413 : 400;
        res->error = rc == GW_ERR_TOO_LARGE ? "payload_too_large" : "bad_request";
        return false;
    }
    return true;
}

/* A request refused for its content (400, 422) is kept in the dead letters,
 * bounded, so that `sourcegate replay` can send it again after a rules fix. */
static void keep_refused(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                         const struct gw_ingest_res *res)
{
    if (ing->spool == NULL || res->dry_run || req->replay ||
        (res->status != 400 && res->status != 422)) {
        return;
    }
    char reason[768];
    json_object *v0 = res->violations ? json_object_array_get_idx(res->violations, 0) : NULL;
    snprintf(reason, sizeof(reason), "%s%s%s", res->message, v0 ? ": " : "",
             v0 ? gw_json_get_str(v0, "message") : "");
    char *headers = req->headers_json ? req->headers_json(req->arg) : NULL;
    struct gw_spool_dead d = {
        .kind = "request", .source = (char *)req->source, .write_key = (char *)req->write_key,
        .content_type = (char *)req->content_type, .headers = headers, .body = (char *)req->body,
        .len = req->len, .status = res->status, .reason = reason};
    if (gw_spool_dead_put(ing->spool, &d) != GW_OK) {
        gw_warn("ingest", "a refused %s request could not be kept for replay", req->source);
    }
    free(headers);
}

void gw_ingest_run(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                   struct gw_ingest_res *res)
{
    memset(res, 0, sizeof(*res));
    res->dry_run = req->dry_run || ing->relay == NULL;
    const struct gw_source *src = gw_ruleset_find(ing->rules, req->source);
    if (src == NULL) {
        gw_ingest_fail(res, 404, "not_found", "unknown source '%.64s'", req->source);
        return;
    }
    if (!gw_source_accepts(src, req->content_type)) {
        gw_ingest_fail(res, 415, "unsupported_media_type",
                       "source '%s' does not accept Content-Type '%.100s'", req->source,
                       req->content_type);
        return;
    }
    json_object *body = NULL, *events = NULL;
    if (decode_events(ing, src, req, &body, &events, res) &&
        verify_signature(ing, src, req, body, res)) {
        const char *write_key = write_key_for(ing, src, req);
        if (write_key == NULL && !res->dry_run) {
            gw_ingest_fail(res, 401, "unauthorized",
                           "no write key: put it in the webhook URL as "
                           "https://<writeKey>@<host>/webhooks/%s, or set sources.%s.write_key "
                           "in the configuration; to try the rules without one, add ?dry_run=1",
                           req->source, req->source);
        } else {
            res->events = json_object_new_array();
            res->violations = json_object_new_array();
            map_and_send(ing, src, req, write_key, body, events, res);
        }
    }
    if (res->status == 400 || res->status == 422) {
        keep_refused(ing, req, res);
    }
    json_object_put(events);
    json_object_put(body);
}

json_object *gw_ingest_report(const struct gw_ingest_res *res)
{
    json_object *rep = json_object_new_object();
    json_object_object_add(rep, "valid", json_object_new_boolean(res->status == 200));
    json_object_object_add(rep, "events", res->events ? json_object_get(res->events)
                                                      : json_object_new_array());
    json_object_object_add(rep, "violations", res->violations ? json_object_get(res->violations)
                                                              : json_object_new_array());
    json_object_object_add(rep, "ignored", json_object_new_int64((int64_t)res->ignored));
    if (res->status != 200 && res->status != 422) {
        json_object_object_add(rep, "error", json_object_new_string(res->message));
    }
    return rep;
}

json_object *gw_ingest_answer(const struct gw_ingest_res *res)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(res->status == 200));
    if (res->status == 200) {
        json_object_object_add(o, "accepted", json_object_new_int64((int64_t)res->accepted));
        json_object_object_add(o, "ignored", json_object_new_int64((int64_t)res->ignored));
    } else {
        json_object_object_add(o, "error", json_object_new_string(res->error ? res->error : "error"));
        json_object_object_add(o, "message", json_object_new_string(res->message));
    }
    if (res->violations != NULL && json_object_array_length(res->violations) > 0) {
        json_object_object_add(o, "violations", json_object_get(res->violations));
    }
    if (res->dry_run) {
        json_object_object_add(o, "dry_run", json_object_new_boolean(1));
        if (res->events != NULL) {
            json_object_object_add(o, "events", json_object_get(res->events));
        }
    }
    return o;
}
