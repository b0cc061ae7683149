/* routes.c -- the debugger page and the handlers of the admin routes.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../buf.h"
#include "../ingest.h"
#include "../json.h"
#include "../mem.h"
#include "../replay.h"
#include "../runtime.h"
#include "../server.h"
#include "../spool/spool.h"
#include "../violation.h"
#include "admin_int.h"
#include "sse.h"

/* Dead letters per page at most, and by default. */
#define DEAD_PAGE_MAX 200
#define DEAD_PAGE 50
/* Bytes of a refused request's body shown in the dead-letter list. */
#define DEAD_BODY_SHOWN 65536
/* A detail is at most the ring's bound; a summary list at most this. */
#define DETAIL_MAX (64u << 20)

static enum MHD_Result error(struct MHD_Connection *c, int status, const char *code,
                             const char *message, int *out)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    return gw_admin_send_json(c, status, o, out);
}

static enum MHD_Result send_static(struct MHD_Connection *c, const unsigned char *data,
                                   size_t len, const char *type, int *status)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* everything the page needs is in it; it talks to this origin only */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src "
                            "'unsafe-inline'; img-src data:; connect-src 'self'; "
                            "base-uri 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    *status = 200;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* A whole unsigned number, or false. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static enum MHD_Result handle_events(struct gw_admin *a, struct MHD_Connection *c, int *status)
{
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    if (last == NULL) {
        last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    }
    uint64_t after = 0;
    if (last != NULL && !parse_u64(last, UINT64_MAX, &after)) {
        return error(c, 400, "bad_request", "Last-Event-ID is not an event id", status);
    }
    *status = 200;
    return gw_admin_sse_open(a->sse, c, after);
}

static enum MHD_Result handle_request(struct gw_admin *a, struct MHD_Connection *c,
                                      const char *idtext, int *status)
{
    uint64_t id = 0;
    if (!parse_u64(idtext, UINT64_MAX, &id)) {
        return error(c, 404, "not_found", "no such request", status);
    }
    struct gw_buf b;
    gw_buf_init(&b, DETAIL_MAX);
    enum gw_rc rc = gw_admin_ring_get(a->ring, id, &b);
    if (rc != GW_OK) {
        gw_buf_fini(&b);
        return error(c, 404, "not_found",
                     "no such request: the debugger keeps the most recent ones only", status);
    }
    size_t n = b.len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, gw_buf_detach(&b), MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    *status = 200;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static json_object *u64(uint64_t v)
{
    return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* The samples, oldest first, as arrays of the same length. */
static json_object *samples_json(struct gw_admin *a)
{
    json_object *o = json_object_new_object();
    const char *names[] = {"t",       "queued", "queued_bytes", "relayed", "requests",
                           "retries", "dropped", "dead",        "timed",   "time_us"};
    enum { N_SERIES = sizeof(names) / sizeof(names[0]) };
    json_object *arr[N_SERIES];
    for (size_t k = 0; k < N_SERIES; k++) {
        arr[k] = json_object_new_array();
        json_object_object_add(o, names[k], arr[k]);
    }
    json_object *retried = json_object_new_object();
    json_object *by_cause[GW_RELAY_RETRY_CAUSES];
    for (unsigned k = 0; k < GW_RELAY_RETRY_CAUSES; k++) {
        by_cause[k] = json_object_new_array();
        json_object_object_add(retried, gw_relay_retry_label(k), by_cause[k]);
    }
    json_object_object_add(o, "retried", retried);
    pthread_mutex_lock(&a->lock);
    size_t first = (a->next_sample + GW_ADMIN_SAMPLES - a->n_samples) % GW_ADMIN_SAMPLES;
    for (size_t i = 0; i < a->n_samples; i++) {
        const struct gw_admin_sample *s = &a->samples[(first + i) % GW_ADMIN_SAMPLES];
        const uint64_t v[N_SERIES] = {(uint64_t)s->t_ms, s->queued,  s->queued_bytes, s->relayed,
                                      s->requests,       s->retries, s->dropped,      s->dead,
                                      s->timed,          s->time_us};
        for (size_t k = 0; k < N_SERIES; k++) {
            json_object_array_add(arr[k], u64(v[k]));
        }
        for (unsigned k = 0; k < GW_RELAY_RETRY_CAUSES; k++) {
            json_object_array_add(by_cause[k], u64(s->retried[k]));
        }
    }
    pthread_mutex_unlock(&a->lock);
    return o;
}

static enum MHD_Result handle_stats(struct gw_admin *a, struct MHD_Connection *c, int *status)
{
    size_t count = 0, bytes = 0;
    uint64_t oldest = 0, newest = 0;
    gw_admin_ring_stats(a->ring, &count, &bytes, &oldest, &newest);
    json_object *ring = json_object_new_object();
    json_object_object_add(ring, "count", u64(count));
    json_object_object_add(ring, "bytes", u64(bytes));
    json_object_object_add(ring, "max_requests", u64(a->max_requests));
    json_object_object_add(ring, "max_bytes", u64(a->max_bytes));
    json_object_object_add(ring, "oldest", u64(oldest));
    json_object_object_add(ring, "newest", u64(newest));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ring", ring);
    json_object_object_add(o, "streams", u64(gw_admin_sse_count(a->sse)));
    json_object_object_add(o, "relay", a->relay != NULL ? samples_json(a) : NULL);
    json_object_object_add(o, "dead_letters", json_object_new_boolean(a->spool != NULL));
    return gw_admin_send_json(c, 200, o, status);
}

/* Stored headers (a JSON object) looked up case-insensitively. */
static const char *stored_header(void *arg, const char *name)
{
    json_object_object_foreach((json_object *)arg, k, v)
    {
        if (strcasecmp(k, name) == 0) {
            return json_object_get_string(v);
        }
    }
    return NULL;
}

/* A refused webhook's calls as today's rules map them (a dry run that is
 * never stored), with their violations and the status it would get now.
 * Under rt_lock. */
static void mapped_now(const struct gw_runtime *rt, const struct gw_spool_dead *d,
                       json_object *item)
{
    json_object *headers = d->headers ? json_tokener_parse(d->headers) : NULL;
    struct gw_ingest_req req = {
        .source = d->source, .content_type = d->content_type, .body = d->body, .len = d->len,
        .header = stored_header, .arg = headers, .skip_signature = true, .replay = true,
        .dry_run = true};
    struct gw_ingest_res res;
    gw_ingest_run(&rt->ing, &req, &res);
    int status = 0;
    json_object_put(gw_server_answer(&res, &status));
    json_object_object_add(item, "calls", res.events ? json_object_get(res.events)
                                                     : json_object_new_array());
    json_object_object_add(item, "violations", gw_violations_json(&res.violations));
    json_object_object_add(item, "status_now", json_object_new_int(status));
    gw_ingest_res_fini(&res);
    json_object_put(headers);
}

/* Text shown for a stored body or call: its writeKeys as fingerprints. */
static json_object *shown_text(const char *text, size_t len)
{
    char fp[9] = "";
    char *clean = gw_admin_scrub(text, len, fp);
    json_object *o = clean != NULL ? json_object_new_string(clean)
                                   : json_object_new_string_len(text, (int)len);
    free(clean);
    return o;
}

struct dead_list {
    struct gw_admin *a;
    json_object *items;
    int64_t now_ms;
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead_list *l = arg;
    json_object *it = json_object_new_object();
    json_object_object_add(it, "id", json_object_new_int64(d->id));
    json_object_object_add(it, "kind", json_object_new_string(d->kind));
    if (d->source != NULL) {
        json_object_object_add(it, "source", json_object_new_string(d->source));
    }
    json_object_object_add(it, "status", json_object_new_int(d->status));
    json_object_object_add(it, "reason", json_object_new_string(d->reason ? d->reason : ""));
    json_object_object_add(it, "at", json_object_new_int64(d->at_ms));
    json_object_object_add(it, "age_s", json_object_new_int64((l->now_ms - d->at_ms) / 1000));
    if (d->write_key != NULL && d->write_key[0] != '\0') {
        char fp[9];
        gw_admin_fingerprint(d->write_key, fp);
        json_object_object_add(it, "write_key", json_object_new_string(fp));
    }
    if (strcmp(d->kind, "request") != 0) { /* a call, or a quarantined /v1 call */
        json_object *calls = json_object_new_array();
        json_object *call = shown_text(d->body, d->len);
        json_object *parsed = json_tokener_parse(json_object_get_string(call));
        json_object_array_add(calls, parsed ? parsed : json_object_get(call));
        json_object_put(call);
        json_object_object_add(it, "calls", calls);
    } else {
        size_t shown = d->len < DEAD_BODY_SHOWN ? d->len : DEAD_BODY_SHOWN;
        json_object_object_add(it, "body", shown_text(d->body, shown));
        json_object_object_add(it, "verified", json_object_new_boolean(d->verified &&
                                                                       !d->unverified));
        if (l->a->rt != NULL) {
            mapped_now(l->a->rt, d, it);
        }
    }
    json_object_array_add(l->items, it);
    return true;
}

static enum MHD_Result handle_dead(struct gw_admin *a, struct MHD_Connection *c, int *status)
{
    if (a->spool == NULL) {
        return error(c, 503, "unavailable", "no spool: a dry run keeps no dead letters", status);
    }
    const char *source = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "source");
    const char *off = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    uint64_t offset = 0, limit = DEAD_PAGE, total = 0;
    if ((off != NULL && !parse_u64(off, INT32_MAX, &offset)) ||
        (lim != NULL && (!parse_u64(lim, DEAD_PAGE_MAX, &limit) || limit == 0))) {
        return error(c, 400, "bad_request", "offset and limit are whole numbers (limit 1-200)",
                     status);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct dead_list l = {.a = a, .items = json_object_new_array(),
                          .now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000};
    pthread_rwlock_rdlock(&a->rt_lock);
    enum gw_rc rc = gw_spool_dead_list(a->spool, source && source[0] ? source : NULL,
                                       (size_t)offset, (size_t)limit, on_dead, &l, &total);
    pthread_rwlock_unlock(&a->rt_lock);
    if (rc != GW_OK) {
        json_object_put(l.items);
        return error(c, 500, "internal", "the dead letters could not be read", status);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", u64(total));
    json_object_object_add(o, "offset", u64(offset));
    json_object_object_add(o, "limit", u64(limit));
    json_object_object_add(o, "items", l.items);
    return gw_admin_send_json(c, 200, o, status);
}

/* POST /admin/replay {"source": S, "since": unix ms} (both optional) or
 * {"id": N}, with "include_unverified" as the flag: what `sourcegate
 * replay` does, on the running daemon. With
 * "spool": the caller's spool path, refused (409) when it is not ours. */
static enum MHD_Result handle_replay(struct gw_admin *a, struct MHD_Connection *c,
                                     const char *body, size_t len, int *status)
{
    if (a->spool == NULL) {
        return error(c, 503, "unavailable", "no spool: a dry run keeps no dead letters", status);
    }
    json_object *sel = NULL;
    char err[128];
    if (gw_json_parse(body, len, 4, &sel, err, sizeof(err)) != GW_OK ||
        !json_object_is_type(sel, json_type_object)) {
        json_object_put(sel);
        return error(c, 400, "bad_request", "send {\"source\": NAME} or {\"id\": N}", status);
    }
    const char *spool = gw_json_get_str(sel, "spool");
    if (spool != NULL && (a->spool_dir == NULL || strcmp(spool, a->spool_dir) != 0)) {
        json_object_put(sel);
        return error(c, 409, "conflict", "this daemon runs on another spool", status);
    }
    json_object *idv = gw_json_get(sel, "id");
    const char *source = gw_json_get_str(sel, "source");
    json_object *sincev = gw_json_get(sel, "since"); /* unix ms, as `replay --since` */
    int64_t since = sincev != NULL ? json_object_get_int64(sincev) : 0;
    json_object *unv = gw_json_get(sel, "include_unverified");
    bool include_unverified = unv != NULL && json_object_get_boolean(unv);
    struct gw_replay_counts n;
    memset(&n, 0, sizeof(n));
    enum gw_rc rc = GW_ERR_INVALID;
    pthread_mutex_lock(&a->replay_lock);
    pthread_rwlock_rdlock(&a->rt_lock);
    if (a->rt == NULL) {
        rc = GW_ERR_BUSY;
    } else if (idv != NULL && json_object_is_type(idv, json_type_int)) {
        rc = gw_replay_dead_letter(a->rt, a->spool, json_object_get_int64(idv),
                                   include_unverified, &n);
    } else if (idv == NULL) {
        rc = gw_replay_dead_letters(a->rt, a->spool, source && source[0] ? source : NULL, since,
                                    include_unverified, &n);
    }
    pthread_rwlock_unlock(&a->rt_lock);
    pthread_mutex_unlock(&a->replay_lock);
    json_object_put(sel);
    if (rc == GW_ERR_NOT_FOUND) {
        return error(c, 404, "not_found", "no dead letter with that id", status);
    }
    if (rc != GW_OK) {
        return error(c, rc == GW_ERR_INVALID ? 400 : 503, rc == GW_ERR_INVALID ? "bad_request"
                                                                               : "unavailable",
                     "the replay did not run", status);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(n.failed == 0 &&
                                                                 n.unverified == 0));
    json_object_object_add(o, "replayed", u64(n.replayed));
    json_object_object_add(o, "failed", u64(n.failed));
    json_object_object_add(o, "unverified", u64(n.unverified));
    if (n.failed > 0 || n.unverified > 0) {
        json_object_object_add(o, "reason", json_object_new_string(n.reason));
    }
    return gw_admin_send_json(c, 200, o, status);
}

enum MHD_Result gw_admin_route(struct gw_admin *a, struct MHD_Connection *c, const char *url,
                               const char *method, const char *body, size_t len, int *status)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(url, "/admin/replay") == 0) {
        return strcmp(method, "POST") == 0
                   ? handle_replay(a, c, body, len, status)
                   : error(c, 405, "method_not_allowed", "use POST", status);
    }
    if (!get) {
        return error(c, 405, "method_not_allowed", "use GET", status);
    }
    if (strcmp(url, "/debugger") == 0) {
        return send_static(c, gw_admin_page, gw_admin_page_len, "text/html; charset=utf-8",
                           status);
    }
    if (strcmp(url, "/admin/examples") == 0) {
        return send_static(c, gw_admin_examples, gw_admin_examples_len, "application/json",
                           status);
    }
    if (strcmp(url, "/admin/events") == 0) {
        return handle_events(a, c, status);
    }
    if (strncmp(url, "/admin/requests/", 16) == 0) {
        return handle_request(a, c, url + 16, status);
    }
    if (strcmp(url, "/admin/stats") == 0) {
        return handle_stats(a, c, status);
    }
    if (strcmp(url, "/admin/dead-letters") == 0) {
        return handle_dead(a, c, status);
    }
    return error(c, 404, "not_found",
                 "admin routes: /debugger, /admin/events, /admin/requests/{id}, /admin/stats, "
                 "/admin/dead-letters, POST /admin/replay",
                 status);
}
