/* ingest.c -- decode, map, validate and enqueue one request, all or nothing.
 * SPDX-License-Identifier: MIT */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "relay/relay.h"
#include "spec/spec.h"

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

static const char *resolve_write_key(const struct gw_ingest *ing, const struct gw_ingest_req *req)
{
    if (req->write_key != NULL && req->write_key[0] != '\0') {
        return req->write_key;
    }
    const struct gw_source_conf *sc = gw_config_source(ing->cfg, req->source);
    return sc != NULL && sc->write_key != NULL && sc->write_key[0] != '\0' ? sc->write_key : NULL;
}

static void validate_calls(const struct gw_source *src, struct gw_ingest_res *res,
                           size_t *origin)
{
    const struct gw_spec_opts *opts = gw_source_spec(src);
    size_t n = json_object_array_length(res->events);
    for (size_t k = 0; k < n; k++) {
        json_object *call = json_object_array_get_idx(res->events, k);
        size_t len = 0;
        gw_spec_validate(opts, call, origin[k], res->violations);
        gw_json_compact(call, &len);
        const char *ev = gw_json_get_str(call, "event");
        gw_spec_check_size(len, origin[k], ev ? ev : gw_json_get_str(call, "type"),
                           res->violations);
    }
}

static void relay_calls(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                        const char *write_key, struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(res->events);
    struct gw_relay_call *calls = gw_calloc(n ? n : 1, sizeof(*calls));
    for (size_t k = 0; k < n; k++) {
        calls[k].json = gw_json_compact(json_object_array_get_idx(res->events, k), &calls[k].len);
    }
    enum gw_rc rc = n == 0 ? GW_OK
                           : gw_relay_submit(ing->relay, write_key,
                                             gw_config_endpoint(ing->cfg, req->source), calls, n);
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

/* The part after the source is known and the body decoded. */
static void map_and_send(const struct gw_ingest *ing, const struct gw_source *src,
                         const struct gw_ingest_req *req, const char *write_key,
                         json_object *body, struct gw_ingest_res *res)
{
    size_t n = gw_decode_count(body);
    size_t cap = n ? n : 1;
    size_t *origin = gw_calloc(cap, sizeof(*origin)); /* webhook event of each call */
    struct gw_map_input in = {.body = body, .header = req->header, .query = req->query,
                              .arg = req->arg};
    for (size_t i = 0; i < n; i++) {
        bool ignored = false;
        size_t before = json_object_array_length(res->events);
        if (gw_source_apply(src, &in, gw_decode_event(body, i), i, res->events, res->violations,
                            &ignored) == GW_OK && ignored) {
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
    validate_calls(src, res, origin);
    free(origin);
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
    relay_calls(ing, req, write_key, res);
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
    const char *write_key = resolve_write_key(ing, req);
    if (write_key == NULL && !res->dry_run) {
        gw_ingest_fail(res, 401, "unauthorized",
                       "no write key: put it in the webhook URL as "
                       "https://<writeKey>@<host>/webhooks/%s, or set sources.%s.write_key in "
                       "the configuration; to try the rules without one, add ?dry_run=1",
                       req->source, req->source);
        return;
    }
    json_object *body = NULL;
    enum gw_rc rc = gw_decode(gw_source_body(src), &ing->limits, req->body, req->len, &body,
                              res->message, sizeof(res->message));
    if (rc != GW_OK) {
        res->status = rc == GW_ERR_TOO_LARGE ? 413 : 400;
        res->error = rc == GW_ERR_TOO_LARGE ? "payload_too_large" : "bad_request";
        return;
    }
    res->events = json_object_new_array();
    res->violations = json_object_new_array();
    map_and_send(ing, src, req, write_key, body, res);
    json_object_put(body);
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
