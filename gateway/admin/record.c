/* record.c -- what the server hands the debugger about an answered POST,
 * and the one place a write key in a body is turned into its fingerprint.
 * SPDX-License-Identifier: MIT */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ingest.h"
#include "../json.h"
#include "../mem.h"
#include "../relay/relay.h"
#include "../source.h"
#include "../violation.h"

/* Replaces every "writeKey" string of o, at any depth (a /v1 batch carries
 * one per call), by its fingerprint; the first one found goes to fp when
 * that is empty. Returns how many were replaced. */
static size_t scrub(json_object *o, char fp[9])
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            n += scrub(json_object_array_get_idx(o, i), fp);
        }
        return n;
    }
    if (!json_object_is_type(o, json_type_object)) {
        return 0;
    }
    json_object_object_foreach(o, k, v)
    {
        if (strcmp(k, "writeKey") != 0) {
            n += scrub(v, fp);
            continue;
        }
        char mine[9] = "";
        if (json_object_is_type(v, json_type_string)) {
            gw_admin_fingerprint(json_object_get_string(v), mine);
        }
        if (fp[0] == '\0' && mine[0] != '\0') {
            snprintf(fp, 9, "%s", mine);
        }
        char shown[32];
        snprintf(shown, sizeof(shown), "(fingerprint %s)", mine[0] ? mine : "none");
        /* replacing a value keeps the key: the iteration stays valid */
        json_object_object_add(o, k, json_object_new_string(shown));
        n++;
    }
    return n;
}

char *gw_admin_scrub(const char *body, size_t len, char fp[9])
{
    if (body == NULL || memmem(body, len, "writeKey", 8) == NULL) {
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    json_object *o = tok != NULL && len <= INT32_MAX ? json_tokener_parse_ex(tok, body, (int)len)
                                                     : NULL;
    json_tokener_free(tok);
    char *out = NULL;
    if (o == NULL || (!json_object_is_type(o, json_type_object) &&
                      !json_object_is_type(o, json_type_array))) {
        /* not JSON we can read: the key cannot be told from the rest */
        out = gw_strdup("(not shown: the body mentions a writeKey and is not JSON)");
    } else if (scrub(o, fp) > 0) {
        out = gw_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    json_object_put(o);
    return out;
}

/* The mapped calls as one JSON array: the texts validation serialized,
 * joined (what gw_json_compact of res->events would give, without
 * serializing them again); NULL when there are none. */
static char *calls_text(const struct gw_ingest_res *res)
{
    size_t n = res->events ? json_object_array_length(res->events) : 0;
    if (n == 0) {
        return NULL;
    }
    if (res->n_text != n) { /* failed before validation serialized them */
        return gw_strdup(gw_json_compact(res->events, NULL));
    }
    size_t len = 2;
    for (size_t k = 0; k < n; k++) {
        len += res->text[k].len + 1;
    }
    char *out = gw_malloc(len + 1), *p = out;
    *p++ = '[';
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            *p++ = ',';
        }
        memcpy(p, res->text[k].json, res->text[k].len);
        p += res->text[k].len;
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

void gw_admin_record_post(struct gw_admin *a, const struct gw_admin_post *p)
{
    const struct gw_ingest_res *res = p->res;
    const struct gw_ingest_req *req = p->req;
    const struct gw_bound_source *bs =
        res->source != NULL ? gw_sources_find(p->ing->sources, res->source) : NULL;
    /* the Basic auth user is the write key, unless the source's scheme
     * spends it on the partner's credentials */
    const char *key = bs != NULL ? bs->write_key : NULL;
    if ((bs == NULL || !bs->basic_auth) && req->write_key != NULL && req->write_key[0] != '\0') {
        key = req->write_key;
    }
    char fp[9] = "";
    if (key != NULL && key[0] != '\0') {
        gw_admin_fingerprint(key, fp);
    }
    char *headers = req->headers_json != NULL ? req->headers_json(req->arg) : NULL;
    char path[1024]; /* the query string is left out */
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(p->uri, "?"), p->uri);
    size_t n = res->events ? json_object_array_length(res->events) : 0;
    bool ok = p->status == 200;
    json_object *violations = res->violations.n > 0 ? gw_violations_json(&res->violations) : NULL;
    char *calls = calls_text(res);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct gw_admin_entry e = {
        .at_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, .method = p->method,
        .path = path, .source = res->source != NULL ? res->source : p->api, .status = p->status,
        .accepted = ok ? res->accepted : 0, .ignored = res->ignored,
        .rejected = ok ? res->quarantined : n, .dry_run = res->dry_run,
        .duration_ms = p->duration_ms, .request_id = p->request_id, .write_key_fp = fp,
        .error = gw_json_get_str(p->answer, "error"), .message = ok ? NULL : res->message,
        .body = req->body, .body_len = req->len, .headers_json = headers,
        .calls_json = calls,
        .violations_json = violations ? gw_json_compact(violations, NULL) : NULL};
    gw_admin_record(a, &e);
    free(calls);
    json_object_put(violations);
    free(headers);
}
