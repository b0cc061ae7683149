/* api.c -- Segment's HTTP API bodies in: batch-level context and
 * integrations merged into each call, the write key taken out, then the
 * pipeline's back half (validate, all or nothing, relay).
 * SPDX-License-Identifier: MIT */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calltype.h"
#include "config.h"
#include "json.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "source.h"

bool gw_api_known(const char *name)
{
    enum gw_call_type t;
    return strcmp(name, "batch") == 0 || gw_calltype_find(name, &t);
}

/* Adds the members of from that into lacks; the call's own win. */
static void merge_missing(json_object *call, const char *key, json_object *from)
{
    if (!json_object_is_type(from, json_type_object)) {
        return;
    }
    json_object *into = gw_json_get(call, key);
    if (into == NULL) {
        if (json_object_deep_copy(from, &into, NULL) == 0) {
            json_object_object_add(call, key, into);
        }
        return;
    }
    if (!json_object_is_type(into, json_type_object)) {
        return; /* the validator reports the wrong type */
    }
    json_object_object_foreach(from, k, v)
    {
        if (gw_json_get(into, k) == NULL) {
            json_object *copy = NULL;
            if (json_object_deep_copy(v, &copy, NULL) == 0) {
                json_object_object_add(into, k, copy);
            }
        }
    }
}

/* The calls of the body: batch[] for /v1/batch, the body itself otherwise
 * (its type set from the path when absent). Returns a new array or NULL
 * after filling res. */
static json_object *collect(const struct gw_ingest *ing, const char *name, json_object *body,
                            struct gw_ingest_res *res)
{
    json_object *list = json_object_new_array();
    if (strcmp(name, "batch") != 0) {
        if (gw_json_get(body, "type") == NULL) {
            json_object_object_add(body, "type", json_object_new_string(name));
        }
        json_object_array_add(list, json_object_get(body));
        return list;
    }
    json_object *batch = gw_json_get(body, "batch");
    size_t n = json_object_is_type(batch, json_type_array) ? json_object_array_length(batch) : 0;
    if (!json_object_is_type(batch, json_type_array)) {
        gw_ingest_fail(res, GW_CAUSE_MALFORMED, GW_ERR_INVALID,
                       "body.batch must be an array of calls");
    } else if (n > ing->limits.max_events) {
        gw_ingest_fail(res, GW_CAUSE_TOO_LARGE, GW_ERR_TOO_LARGE,
                       "batch holds %zu calls, more than %zu", n, ing->limits.max_events);
    }
    for (size_t i = 0; res->outcome != GW_OUTCOME_FAILED && i < n; i++) {
        json_object *call = json_object_array_get_idx(batch, i);
        if (!json_object_is_type(call, json_type_object)) {
            gw_ingest_fail(res, GW_CAUSE_MALFORMED, GW_ERR_INVALID,
                           "batch[%zu] is not a JSON object", i);
            break;
        }
        merge_missing(call, "context", gw_json_get(body, "context"));
        merge_missing(call, "integrations", gw_json_get(body, "integrations"));
        json_object_array_add(list, json_object_get(call));
    }
    if (res->outcome == GW_OUTCOME_FAILED) {
        json_object_put(list);
        return NULL;
    }
    return list;
}

/* The write key: Basic auth, else writeKey in the body or a call, else the
 * configured segment_source's. Every writeKey is taken out of the calls so
 * that it is never echoed back in a dry-run answer. Returns new or NULL. */
static char *take_write_key(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                            json_object *body, json_object *calls)
{
    char *key = NULL;
    if (req->write_key != NULL && req->write_key[0] != '\0') {
        key = gw_strdup(req->write_key);
    } else if (gw_json_get_str(body, "writeKey") != NULL) {
        key = gw_strdup(gw_json_get_str(body, "writeKey"));
    }
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *call = json_object_array_get_idx(calls, i);
        const char *k = gw_json_get_str(call, "writeKey");
        if (key == NULL && k != NULL && k[0] != '\0') {
            key = gw_strdup(k);
        }
        json_object_object_del(call, "writeKey");
    }
    const char *seg = ing->cfg->segment_source;
    const struct gw_source_conf *sc = seg != NULL ? gw_config_source(ing->cfg, seg) : NULL;
    if (key == NULL && sc != NULL && sc->write_key != NULL && sc->write_key[0] != '\0') {
        key = gw_strdup(sc->write_key);
    }
    return key;
}

/* The rules each call answers to: its context.integration.name, else the
 * configured segment_source; the Spec's defaults when neither is a source. */
static const char *source_of(const struct gw_ingest *ing, json_object *call)
{
    json_object *integ = gw_json_get(gw_json_get(call, "context"), "integration");
    const char *name = gw_json_get_str(integ, "name");
    if (gw_sources_find(ing->sources, name) != NULL) {
        return name;
    }
    return ing->cfg->segment_source;
}

static void deliver(const struct gw_ingest *ing, json_object *calls, const char *key,
                    struct gw_ingest_res *res)
{
    size_t n = json_object_array_length(calls);
    const struct gw_spec_opts **opts = gw_calloc(n ? n : 1, sizeof(*opts));
    size_t *origin = gw_calloc(n ? n : 1, sizeof(*origin));
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *call = json_object_array_get_idx(calls, i);
        if (json_object_is_type(call, json_type_object) && gw_json_get(call, "messageId") == NULL) {
            /* Segment would add one; adding it here keeps it stable across
             * the relay's retries, so Segment deduplicates them */
            json_object_object_add(call, "messageId", gw_json_digest_id("sourcegate", call, NULL));
        }
        const char *name = source_of(ing, call);
        const struct gw_bound_source *bs = gw_sources_find(ing->sources, name);
        opts[i] = bs ? gw_source_spec(bs->rules) : NULL;
        origin[i] = i;
        first = first ? first : name;
        json_object_array_add(res->events, json_object_get(call));
    }
    const char *endpoint = first ? gw_config_endpoint(ing->cfg, first) : ing->cfg->endpoint;
    gw_ingest_deliver(ing, opts, origin, key, endpoint, res);
    free(opts);
    free(origin);
}

static void run(const struct gw_ingest *ing, const char *name, const struct gw_ingest_req *req,
                struct gw_ingest_res *res)
{
    memset(res, 0, sizeof(*res));
    res->dry_run = req->dry_run || ing->relay == NULL;
    const char *ct = req->content_type;
    if (ct != NULL && strncasecmp(ct, "application/json", 16) != 0) {
        gw_ingest_fail(res, GW_CAUSE_MEDIA_TYPE, GW_ERR_UNSUPPORTED,
                       "Segment's API takes Content-Type application/json, not '%.100s'", ct);
        return;
    }
    json_object *body = NULL, *calls = NULL;
    enum gw_rc rc = gw_decode(GW_BODY_JSON_OBJECT, NULL, &ing->limits, req->body, req->len,
                              &body, res->message, sizeof(res->message));
    if (rc != GW_OK) {
        res->outcome = GW_OUTCOME_FAILED;
        res->cause = GW_CAUSE_MALFORMED;
        res->rc = rc;
        return;
    }
    calls = collect(ing, name, body, res);
    char *key = calls ? take_write_key(ing, req, body, calls) : NULL;
    if (calls != NULL && key == NULL && !res->dry_run) {
        gw_ingest_fail(res, GW_CAUSE_NO_WRITE_KEY, GW_ERR_UNAUTHORIZED,
                       "no write key: send it as Basic auth (the user, empty password) or as "
                       "writeKey in the body; to try without one, add ?dry_run=1");
    } else if (calls != NULL) {
        res->events = json_object_new_array();
        deliver(ing, calls, key, res);
    }
    free(key);
    json_object_put(calls);
    json_object_put(body);
}

enum gw_rc gw_api_run(const struct gw_ingest *ing, const char *name,
                      const struct gw_ingest_req *req, struct gw_ingest_res *res)
{
    run(ing, name, req, res);
    return gw_ingest_rc(res);
}
