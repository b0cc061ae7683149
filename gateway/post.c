/* post.c -- a POST's way through ingest to its answer: the request as
 * ingest reads it, the debugger's record, and at durability fsync the
 * wait for the spool's commit with the connection suspended.
 * SPDX-License-Identifier: MIT */
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "api.h"
#include "auth.h"
#include "headers.h"
#include "ingest.h"
#include "mem.h"
#include "metrics.h"
#include "server_int.h"

/* Events and violations of an answered request, for the log and metrics. */
static void count_events(struct conn *cn, const struct gw_ingest_res *res)
{
    bool ok = res->outcome == GW_OUTCOME_ACCEPTED || res->outcome == GW_OUTCOME_IGNORED;
    size_t n = res->events ? json_object_array_length(res->events) : 0;
    cn->events = ok ? res->accepted : n;
    cn->ignored = res->ignored;
    cn->dry_run = res->dry_run;
    const char *src = cn->source[0] ? cn->source : NULL;
    if (ok) {
        gw_metrics_events(src, res->accepted, res->ignored, 0);
        gw_metrics_quarantined(src, res->quarantined);
    } else if (n > 0) {
        gw_metrics_events(src, 0, 0, n);
    }
    for (size_t i = 0; i < res->violations.n; i++) {
        gw_metrics_violation(gw_violation_rule_name(res->violations.v[i].rule));
    }
}

/* What the pipeline reads of a POST. */
static void post_req(struct MHD_Connection *c, struct conn *cn, const char *source,
                     const char *user, const char *pass, struct gw_ingest_req *req)
{
    *req = (struct gw_ingest_req){
        .source = source,
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .body = gw_buf_str(&cn->body),
        .len = cn->body.len,
        .write_key = user,
        .basic_password = pass,
        .uri = cn->uri,
        .peer_trusted = cn->peer_trusted,
        .dry_run = gw_server_truthy(gw_server_query(c, "dry_run")) || gw_server_truthy(gw_server_header(c, "X-Sourcegate-Dry-Run")),
        .header = gw_server_header,
        .query = gw_server_query,
        .headers_json = gw_headers_json,
        .arg = c,
    };
}

/* The debugger's record of a POST; under s->lock. */
static void record_post(struct gw_server *s, struct conn *cn, const struct gw_ingest_req *req,
                        json_object *answer, int status)
{
    if (s->opts.admin != NULL) {
        gw_admin_record_post(s->opts.admin, &(struct gw_admin_post){
            .ing = s->ing, .req = req, .res = &cn->res, .answer = answer, .status = status,
            .method = cn->method, .uri = cn->uri, .api = cn->api[0] ? cn->api : NULL,
            .request_id = cn->id, .duration_ms = gw_server_elapsed_ms(&cn->start)});
    }
}

/* Answers a POST whose outcome is final. */
static enum MHD_Result send_post(struct MHD_Connection *c, struct conn *cn, json_object *answer,
                                 int status)
{
    cn->cause = gw_ingest_cause_name(&cn->res);
    count_events(cn, &cn->res);
    enum MHD_Result ret =
        gw_server_send_json(c, cn, status, answer, status == 503 ? RETRY_AFTER_S : 0, NULL);
    gw_ingest_res_fini(&cn->res);
    return ret;
}

/* The spool's commit of a waiting POST is over (any thread): the
 * connection is resumed, or answered at once if it was not suspended yet.
 * Exactly one of this and wait_commit sees the other's mark. */
static void on_committed(void *arg, enum gw_rc rc)
{
    struct conn *cn = arg;
    struct gw_server *s = cn->srv;
    cn->commit_rc = rc;
    if (atomic_exchange(&cn->commit_state, COMMIT_DONE) == COMMIT_SUSPENDED) {
        MHD_resume_connection(cn->c);
    }
    atomic_fetch_sub(&s->committing, 1);
}

/* A POST's outcome once its commit called back: MHD calls on_request
 * again for the resumed connection. */
enum MHD_Result gw_post_finish(struct gw_server *s, struct MHD_Connection *c, struct conn *cn)
{
    gw_ingest_committed(&cn->res, cn->commit_rc);
    /* the rules' name may be gone with a reload since */
    cn->res.source = cn->source[0] ? cn->source : NULL;
    struct gw_ingest_req req;
    post_req(c, cn, cn->source, cn->user, NULL, &req);
    int status = 0;
    json_object *answer = gw_server_answer(&cn->res, &status);
    pthread_rwlock_rdlock(&s->lock);
    record_post(s, cn, &req, answer, status);
    pthread_rwlock_unlock(&s->lock);
    GW_FREE(cn->user);
    return send_post(c, cn, answer, status);
}

/* Suspends a POST until its commit calls back (on_committed). */
static enum MHD_Result wait_commit(struct gw_server *s, struct MHD_Connection *c, struct conn *cn)
{
    if (atomic_load(&cn->commit_state) == COMMIT_DONE) {
        return gw_post_finish(s, c, cn);
    }
    MHD_suspend_connection(c);
    if (atomic_exchange(&cn->commit_state, COMMIT_SUSPENDED) == COMMIT_DONE) {
        MHD_resume_connection(c); /* it called back meanwhile: on the next call */
    }
    return MHD_YES;
}

/* A POST to /webhooks/{source} (api == NULL) or /v1/{api}. */
static enum MHD_Result handle_post(struct gw_server *s, struct MHD_Connection *c,
                                   struct conn *cn, const char *source, const char *api)
{
    char *pass = NULL;
    char *user = NULL;
    if (gw_auth_basic(gw_server_header(c, "Authorization"), &user, &pass) != GW_OK) {
        user = pass = NULL; /* no credentials, or none Segment would read */
    }
    struct gw_ingest_req req;
    post_req(c, cn, source, user, pass, &req);
    if (s->opts.async_commit) {
        req.committed = on_committed;
        req.commit_arg = cn;
        cn->srv = s;
        cn->c = c;
        atomic_fetch_add(&s->committing, 1); /* given back by on_committed, or below */
    }
    struct gw_ingest_res *res = &cn->res;
    int status = 0;
    json_object *answer = NULL;
    pthread_rwlock_rdlock(&s->lock);
    if (api != NULL) {
        gw_api_run(s->ing, api, &req, res);
    } else {
        gw_ingest_run(s->ing, &req, res);
    }
    if (res->source != NULL) {
        snprintf(cn->source, sizeof(cn->source), "%s", res->source);
    }
    if (!res->pending) {
        if (s->opts.async_commit) {
            atomic_fetch_sub(&s->committing, 1);
        }
        answer = gw_server_answer(res, &status);
        if (api == NULL || res->outcome == GW_OUTCOME_REFUSED) {
            /* a /v1 body is kept only once its write key was checked */
            gw_ingest_keep_refused(s->ing, &req, res, status);
        }
        record_post(s, cn, &req, answer, status);
    }
    pthread_rwlock_unlock(&s->lock);
    if (pass != NULL) {
        OPENSSL_cleanse(pass, strlen(pass));
    }
    free(pass);
    if (res->pending) {
        cn->user = user;
        gw_ingest_res_slim(res);
        return wait_commit(s, c, cn);
    }
    free(user);
    return send_post(c, cn, answer, status);
}

enum MHD_Result gw_post_handle(struct gw_server *s, struct MHD_Connection *c,
                                   struct conn *cn, const char *source, const char *api)
{
    if (cn->too_large) {
        char msg[128];
        snprintf(msg, sizeof(msg), "body is over the limit of %llu bytes",
                 (unsigned long long)s->opts.max_body);
        return gw_server_respond_error(c, cn, 413, "payload_too_large", msg, NULL);
    }
    if (cn->body_rc == GW_ERR_UNSUPPORTED) {
        return gw_server_respond_error(c, cn, 415, "unsupported_media_type",
                             "Content-Encoding must be gzip, deflate or identity", NULL);
    }
    if (cn->body_rc != GW_OK) {
        return gw_server_respond_error(c, cn, 400, "bad_request",
                             "the body does not inflate as its Content-Encoding says", NULL);
    }
    return handle_post(s, c, cn, source, api);
}
