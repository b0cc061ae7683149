/* api.c -- Segment's HTTP API bodies in: the write key taken out and
 * checked, batch-level context, integrations and sentAt carried into each
 * call, the configured integration stamped, then the pipeline's back half
 * (validate; quarantine or all or nothing; relay).
 * SPDX-License-Identifier: MIT */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "calltype.h"
#include "config.h"
#include "json.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "source.h"
#include "spec/spec.h"
#include "verify/hmac.h"

const char *gw_api_endpoint(const char *path)
{
    return gw_calltype_endpoint(path);
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
    if (strcmp(name, GW_CALLTYPE_BATCH) != 0) {
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
        /* the client's clock when it sent the batch: Segment corrects the
         * call's time by it, so it goes with the call, however late the
         * relay sends it */
        json_object *sent = gw_json_get(body, "sentAt");
        if (sent != NULL && !json_object_object_get_ex(call, "sentAt", NULL)) {
            json_object_object_add(call, "sentAt", json_object_get(sent));
        }
        json_object_array_add(list, json_object_get(call));
    }
    if (res->outcome == GW_OUTCOME_FAILED) {
        json_object_put(list);
        return NULL;
    }
    return list;
}

/* The write key the caller brought: Basic auth, else writeKey in the body
 * or a call. A configured key is never lent to a caller who brought none.
 * Every writeKey is taken out of the calls so that it is never echoed back
 * in a dry-run answer. Returns new or NULL. */
static char *take_write_key(const struct gw_ingest_req *req, json_object *body,
                            json_object *calls)
{
    char *key = NULL;
    const char *in_body = gw_json_get_str(body, "writeKey");
    if (req->write_key != NULL && req->write_key[0] != '\0') {
        key = gw_strdup(req->write_key);
    } else if (in_body != NULL && in_body[0] != '\0') {
        key = gw_strdup(in_body);
    }
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *call = json_object_array_get_idx(calls, i);
        const char *k = gw_json_get_str(call, "writeKey");
        if (key == NULL && k != NULL && k[0] != '\0') {
            key = gw_strdup(k);
        }
        json_object_object_del(call, "writeKey");
    }
    return key;
}

/* True when api.write_keys is unset or lists key; every listed key is
 * compared, in constant time, so the answer's time says nothing of which
 * one nearly matched. */
static bool key_allowed(const struct gw_config *cfg, const char *key)
{
    bool found = cfg->n_api_write_keys == 0;
    for (size_t i = 0; i < cfg->n_api_write_keys; i++) {
        const char *k = cfg->api_write_keys[i];
        found = gw_hmac_equal(k, strlen(k), key, strlen(key)) || found;
    }
    return found;
}

/* What the endpoint adds to each call before validation: a stable
 * messageId, the configured integration where there is none, a null userId
 * read as absent (analytics.js sends it on anonymous calls). */
static void prepare(const struct gw_config *cfg, json_object *call)
{
    if (gw_json_get(call, "messageId") == NULL) {
        /* Segment would add one; adding it here keeps it stable across the
         * relay's retries, so Segment deduplicates them */
        json_object_object_add(call, "messageId", gw_json_digest_id("sourcegate", call, NULL));
    }
    json_object *uid = NULL;
    if (json_object_object_get_ex(call, "userId", &uid) && uid == NULL) {
        json_object_object_del(call, "userId");
    }
    if (cfg->api_integration_name == NULL) {
        return;
    }
    json_object *ctx = gw_json_get(call, "context");
    if (ctx == NULL) {
        ctx = json_object_new_object();
        json_object_object_add(call, "context", ctx);
    }
    if (json_object_is_type(ctx, json_type_object) && gw_json_get(ctx, "integration") == NULL) {
        json_object *integ = json_object_new_object();
        json_object_object_add(integ, "name", json_object_new_string(cfg->api_integration_name));
        if (cfg->api_integration_version != NULL) {
            json_object_object_add(integ, "version",
                                   json_object_new_string(cfg->api_integration_version));
        }
        json_object_object_add(ctx, "integration", integ);
    }
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

/* The rules call answers to, into o; returns its source's name or NULL. */
static const char *opts_for(const struct gw_ingest *ing, json_object *call,
                            struct gw_spec_opts *o)
{
    const char *name = source_of(ing, call);
    const struct gw_bound_source *bs = gw_sources_find(ing->sources, name);
    if (bs != NULL) {
        *o = *gw_source_spec(bs->rules);
    } else {
        gw_spec_opts_init(o);
    }
    /* first-party traffic: an anonymousId suffices (api.allow_anonymous) */
    o->allow_anonymous = o->allow_anonymous || ing->cfg->api_allow_anonymous;
    return name;
}

static void deliver(const struct gw_ingest *ing, const struct gw_ingest_req *req,
                    json_object *calls, const char *key, struct gw_ingest_res *res)
{
    const struct gw_config *cfg = ing->cfg;
    size_t n = json_object_array_length(calls);
    struct gw_spec_opts *own = gw_calloc(n ? n : 1, sizeof(*own));
    const struct gw_spec_opts **opts = gw_calloc(n ? n : 1, sizeof(*opts));
    size_t *origin = gw_calloc(n ? n : 1, sizeof(*origin));
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *call = json_object_array_get_idx(calls, i);
        prepare(cfg, call);
        const char *name = opts_for(ing, call, &own[i]);
        opts[i] = &own[i];
        origin[i] = i;
        first = first ? first : name;
        json_object_array_add(res->events, json_object_get(call));
    }
    gw_ingest_default_timestamps(res->events, req->received_ms);
    const char *endpoint = first ? gw_config_endpoint(cfg, first) : cfg->endpoint;
    if (cfg->api_reject) {
        gw_ingest_deliver(ing, opts, origin, key, endpoint, res);
    } else {
        gw_ingest_deliver_valid(ing, opts, origin, key, endpoint, res);
    }
    free(own);
    free(opts);
    free(origin);
}

static void run(const struct gw_ingest *ing, const char *name, const struct gw_ingest_req *req,
                struct gw_ingest_res *res)
{
    memset(res, 0, sizeof(*res));
    res->dry_run = req->dry_run || ing->relay == NULL;
    res->committed = req->committed;
    res->commit_arg = req->commit_arg;
    /* read as JSON whatever the Content-Type: analytics.js sends text/plain
     * (no CORS preflight for the type), rudder form-urlencoded when it gzips */
    json_object *body = NULL, *calls = NULL;
    enum gw_rc rc = gw_decode(GW_BODY_JSON_OBJECT, NULL, &ing->limits, req->body, req->len,
                              &body, res->message, sizeof(res->message));
    if (rc != GW_OK) {
        res->outcome = GW_OUTCOME_FAILED;
        res->cause = rc == GW_ERR_TOO_LARGE ? GW_CAUSE_TOO_LARGE : GW_CAUSE_MALFORMED;
        res->rc = rc;
        return;
    }
    calls = collect(ing, name, body, res);
    char *key = calls ? take_write_key(req, body, calls) : NULL;
    if (calls != NULL && key == NULL && !res->dry_run) {
        gw_ingest_fail(res, GW_CAUSE_NO_WRITE_KEY, GW_ERR_UNAUTHORIZED,
                       "no write key: send it as Basic auth (the user, empty password) or as "
                       "writeKey in the body; to try without one, add ?dry_run=1");
    } else if (calls != NULL && key != NULL && !key_allowed(ing->cfg, key)) {
        gw_ingest_fail(res, GW_CAUSE_NO_WRITE_KEY, GW_ERR_UNAUTHORIZED,
                       "this write key is not one of api.write_keys");
    } else if (calls != NULL) {
        res->events = json_object_new_array();
        deliver(ing, req, calls, key, res);
    }
    if (key != NULL) {
        OPENSSL_cleanse(key, strlen(key));
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

enum gw_rc gw_api_replay(const struct gw_ingest *ing, const char *call, const char *write_key,
                         const char *endpoint, struct gw_ingest_res *res)
{
    memset(res, 0, sizeof(*res));
    res->dry_run = ing->relay == NULL;
    res->events = json_object_new_array();
    json_object *c = json_tokener_parse(call);
    if (!json_object_is_type(c, json_type_object)) {
        gw_ingest_fail(res, GW_CAUSE_MALFORMED, GW_ERR_INVALID, "the stored call is not JSON");
    } else {
        struct gw_spec_opts o;
        opts_for(ing, c, &o);
        const struct gw_spec_opts *opts = &o;
        size_t origin = 0;
        json_object_array_add(res->events, json_object_get(c));
        gw_ingest_deliver(ing, &opts, &origin, write_key, endpoint, res);
    }
    json_object_put(c);
    return gw_ingest_rc(res);
}
