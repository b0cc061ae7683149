/* server.c -- libmicrohttpd glue: routing, capped bodies, JSON answers.
 * SPDX-License-Identifier: MIT */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "api.h"
#include "buf.h"
#include "ingest.h"
#include "json.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "metrics.h"
#include "relay/relay.h"

struct gw_server {
    struct MHD_Daemon *mhd;
    /* Requests hold it shared while they use ing; a reload takes it
     * exclusive to swap ing, so no request sees half of each. */
    pthread_rwlock_t lock;
    const struct gw_ingest *ing;
    struct gw_server_opts opts;
    char **trusted; /* trusted proxies: addresses or CIDR prefixes */
    size_t n_trusted;
    uint16_t port;
    atomic_uint in_flight;
    atomic_bool draining;
};

/* Per-request state, from the first callback to the completion callback. */
struct conn {
    struct gw_buf body;
    char *uri; /* path and query as received, for signatures */
    bool started;
    bool too_large;
    char id[40];
    char method[12];
    struct timespec start;
    /* what the access log and the metrics say of it */
    int status;
    char source[72];   /* a known source, or empty */
    char api[16];      /* a /v1 endpoint name, or empty */
    size_t events;
    size_t ignored;
    bool dry_run;
    char client[64];
};

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Keeps a caller's X-Request-Id when it is short and plain, else makes one. */
static void request_id(struct MHD_Connection *c, char *out, size_t len)
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given != NULL && given[0] != '\0' && strlen(given) < len &&
        strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") ==
            strlen(given)) {
        snprintf(out, len, "%s", given);
        return;
    }
    unsigned char r[8];
    if (RAND_bytes(r, sizeof(r)) != 1) {
        gw_fatal("no randomness for request ids");
    }
    for (size_t i = 0; i < sizeof(r) && 2 * i + 2 < len; i++) {
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    }
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct conn *cn, int status,
                                 json_object *body, unsigned retry_after, const char *allow)
{
    cn->status = status;
    size_t len = 0;
    const char *text = gw_json_compact(body, &len);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    json_object_put(body);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "X-Request-Id", cn->id);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The one place a request-path error becomes an HTTP answer. */
static enum MHD_Result respond_error(struct MHD_Connection *c, struct conn *cn, int status,
                                     const char *code, const char *message, const char *allow)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    return send_json(c, cn, status, o, 0, allow);
}

static const char *header_cb(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_HEADER_KIND, name);
}

static int add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    static const char *const secret[] = {"Authorization", "Proxy-Authorization", "Cookie"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (strcasecmp(key, secret[i]) == 0) {
            return MHD_YES;
        }
    }
    json_object_object_add(cls, key, json_object_new_string(value ? value : ""));
    return MHD_YES;
}

/* The request's headers but credentials, as JSON text (new): kept with a
 * refused request so that its replay sees what the rules may read. */
static char *headers_json(void *arg)
{
    json_object *o = json_object_new_object();
    MHD_get_connection_values(arg, MHD_HEADER_KIND, (MHD_KeyValueIterator)add_header, o);
    char *s = gw_strdup(gw_json_compact(o, NULL));
    json_object_put(o);
    return s;
}

static const char *query_cb(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

static bool truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

/* Events and violations of an answered request, for the log and metrics. */
static void count_events(struct conn *cn, const struct gw_ingest_res *res)
{
    size_t n = res->events ? json_object_array_length(res->events) : 0;
    cn->events = res->status == 200 ? res->accepted : n;
    cn->ignored = res->ignored;
    cn->dry_run = res->dry_run;
    const char *src = cn->source[0] ? cn->source : NULL;
    if (res->status == 200) {
        gw_metrics_events(src, res->accepted, res->ignored, 0);
    } else if (n > 0) {
        gw_metrics_events(src, 0, 0, n);
    }
    for (size_t i = 0; res->violations && i < json_object_array_length(res->violations); i++) {
        json_object *v = json_object_array_get_idx(res->violations, i);
        gw_metrics_violation(gw_json_get_str(v, "rule"));
    }
}

/* The answered POST, kept for the debugger: headers less credentials, the
 * write key as a fingerprint only. */
static void admin_record(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                         const struct gw_ingest_req *req, const struct gw_ingest_res *res)
{
    char fp[9] = "";
    pthread_rwlock_rdlock(&s->lock);
    const char *wk = gw_ingest_write_key(s->ing, req);
    if (wk != NULL && wk[0] != '\0') {
        gw_admin_fingerprint(wk, fp);
    }
    pthread_rwlock_unlock(&s->lock);
    char *headers = headers_json(c);
    char path[1024]; /* the query string is left out */
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(cn->uri, "?"), cn->uri);
    size_t n = res->events ? json_object_array_length(res->events) : 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct gw_admin_entry e = {
        .at_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, .method = cn->method,
        .path = path, .source = cn->source[0] ? cn->source : cn->api, .status = res->status,
        .accepted = res->status == 200 ? res->accepted : 0, .ignored = res->ignored,
        .rejected = res->status == 200 ? 0 : n, .dry_run = res->dry_run,
        .duration_ms = elapsed_ms(&cn->start), .request_id = cn->id, .write_key_fp = fp,
        .error = res->error, .message = res->status != 200 ? res->message : NULL,
        .body = gw_buf_str(&cn->body), .body_len = cn->body.len, .headers_json = headers,
        .calls_json = res->events ? gw_json_compact(res->events, NULL) : NULL,
        .violations_json = res->violations ? gw_json_compact(res->violations, NULL) : NULL};
    gw_admin_record(s->opts.admin, &e);
    free(headers);
}

/* A POST to /webhooks/{source} (api == NULL) or /v1/{api}. */
static enum MHD_Result handle_post(struct gw_server *s, struct MHD_Connection *c,
                                   struct conn *cn, const char *source, const char *api)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    struct gw_ingest_req req = {
        .source = source,
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .body = gw_buf_str(&cn->body),
        .len = cn->body.len,
        .write_key = user,
        .basic_password = pass,
        .uri = cn->uri,
        .dry_run = truthy(query_cb(c, "dry_run")) || truthy(header_cb(c, "X-Sourcegate-Dry-Run")),
        .header = header_cb,
        .query = query_cb,
        .headers_json = headers_json,
        .arg = c,
    };
    struct gw_ingest_res res;
    pthread_rwlock_rdlock(&s->lock);
    if (api != NULL) {
        gw_api_run(s->ing, api, &req, &res);
    } else {
        gw_ingest_run(s->ing, &req, &res);
    }
    if (api == NULL && gw_ruleset_find(s->ing->rules, source) != NULL) {
        snprintf(cn->source, sizeof(cn->source), "%s", source);
    }
    pthread_rwlock_unlock(&s->lock);
    if (s->opts.admin != NULL) {
        admin_record(s, c, cn, &req, &res); /* req borrows user and pass */
    }
    if (user != NULL) {
        MHD_free(user);
    }
    if (pass != NULL) {
        MHD_free(pass);
    }
    count_events(cn, &res);
    enum MHD_Result ret =
        send_json(c, cn, res.status, gw_ingest_answer(&res), res.status == 503 ? res.retry_after : 0,
                  NULL);
    gw_ingest_res_fini(&res);
    return ret;
}

static enum MHD_Result post_or_413(struct gw_server *s, struct MHD_Connection *c,
                                   struct conn *cn, const char *source, const char *api)
{
    if (cn->too_large) {
        char msg[128];
        snprintf(msg, sizeof(msg), "body is over the limit of %llu bytes",
                 (unsigned long long)s->opts.max_body);
        return respond_error(c, cn, 413, "payload_too_large", msg, NULL);
    }
    return handle_post(s, c, cn, source, api);
}

/* The relay's numbers, as the metrics page shows them. */
static void relay_metrics(struct gw_relay *relay, struct gw_metrics_relay *mr)
{
    struct gw_relay_stats st;
    gw_relay_get_stats(relay, &st);
    mr->relayed = st.relayed;
    mr->dropped = st.dropped;
    mr->requests = st.requests;
    mr->retries = st.retries;
    mr->dead_letters = st.dead_lettered;
    mr->spool_calls = st.queued;
    mr->spool_bytes = st.queued_bytes;
    for (unsigned i = 0; i < GW_RELAY_RETRY_CAUSES && i < GW_METRICS_CAUSES; i++) {
        const char *label = gw_relay_retry_label(i);
        mr->failed_label[i] = label != NULL && strcmp(label, "transport") == 0 ? "0" : label;
        mr->failed[i] = st.retried[i];
    }
}

static enum MHD_Result handle_metrics(struct gw_server *s, struct MHD_Connection *c,
                                      struct conn *cn)
{
    struct gw_metrics_relay mr = {0};
    pthread_rwlock_rdlock(&s->lock);
    struct gw_relay *relay = s->ing->relay;
    pthread_rwlock_unlock(&s->lock);
    if (relay != NULL) {
        relay_metrics(relay, &mr);
    }
    char *page = gw_metrics_render(relay != NULL ? &mr : NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(page), page,
                                                             MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(page);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    MHD_add_response_header(r, "X-Request-Id", cn->id);
    cn->status = 200;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle_probe(struct gw_server *s, struct MHD_Connection *c,
                                    struct conn *cn, bool ready_probe)
{
    bool ok = !ready_probe || !atomic_load(&s->draining);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status",
                           json_object_new_string(ok ? (ready_probe ? "ready" : "ok") : "draining"));
    return send_json(c, cn, ok ? 200 : 503, o, 0, NULL);
}

/* Routes a complete request. */
static enum MHD_Result dispatch(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                                const char *url, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    enum MHD_Result ret = MHD_NO;
    if (s->opts.admin != NULL && gw_admin_handle(s->opts.admin, c, url, method,
                                                 gw_buf_str(&cn->body), cn->body.len, &ret,
                                                 &cn->status)) {
        return ret;
    }
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) {
        if (!get) {
            return respond_error(c, cn, 405, "method_not_allowed", "use GET", "GET, HEAD");
        }
        return handle_probe(s, c, cn, url[1] == 'r');
    }
    if (strcmp(url, "/metrics") == 0) {
        if (!get) {
            return respond_error(c, cn, 405, "method_not_allowed", "use GET", "GET, HEAD");
        }
        return handle_metrics(s, c, cn);
    }
    size_t ulen = strlen(url);
    const char *source = ulen > 10 && memcmp(url, "/webhooks/", 10) == 0 ? url + 10 : NULL;
    if (source != NULL && memchr(source, '/', ulen - 10) == NULL) {
        if (strcmp(method, "POST") != 0) {
            return respond_error(c, cn, 405, "method_not_allowed",
                                 "webhooks are delivered with POST", "POST");
        }
        return post_or_413(s, c, cn, source, NULL);
    }
    if (strncmp(url, "/v1/", 4) == 0 && gw_api_known(url + 4)) {
        if (strcmp(method, "POST") != 0) {
            return respond_error(c, cn, 405, "method_not_allowed", "use POST", "POST");
        }
        snprintf(cn->api, sizeof(cn->api), "%s", url + 4);
        return post_or_413(s, c, cn, "", url + 4);
    }
    return respond_error(c, cn, 404, "not_found",
                         "no such path: webhooks go to POST /webhooks/{source}", NULL);
}

/* True when addr (text) is in one of the trusted prefixes ("10.0.0.0/8",
 * "127.0.0.1", "::1"). */
static bool trusted(const struct gw_server *s, const char *addr)
{
    unsigned char a[16], p[16];
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, addr, a) != 1) {
        return false;
    }
    for (size_t i = 0; i < s->n_trusted; i++) {
        char net[64];
        snprintf(net, sizeof(net), "%s", s->trusted[i]);
        char *slash = strchr(net, '/');
        unsigned bits = fam == AF_INET ? 32 : 128;
        if (slash != NULL) {
            *slash = '\0';
            bits = (unsigned)strtoul(slash + 1, NULL, 10);
        }
        if ((strchr(net, ':') != NULL) != (fam == AF_INET6) || inet_pton(fam, net, p) != 1 ||
            bits > (fam == AF_INET ? 32u : 128u)) {
            continue;
        }
        unsigned full = bits / 8, rest = bits % 8;
        if (memcmp(a, p, full) == 0 &&
            (rest == 0 || ((a[full] ^ p[full]) & (0xff << (8 - rest))) == 0)) {
            return true;
        }
    }
    return false;
}

/* The client: the peer, or, when the peer is a trusted proxy, the nearest
 * untrusted address of X-Forwarded-For (a client can write that header, so
 * it is believed only as far as the trusted proxies vouch for it). */
static void client_address(const struct gw_server *s, struct MHD_Connection *c, char *out,
                           size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    const void *bin = sa->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    inet_ntop(sa->sa_family, bin, out, (socklen_t)len);
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff == NULL) {
        return;
    }
    /* walk the hops right to left, cutting a private copy at each comma */
    char hops[1024];
    snprintf(hops, sizeof(hops), "%s", xff);
    while (trusted(s, out)) {
        char *comma = strrchr(hops, ',');
        char *last = comma ? comma + 1 : hops;
        last += strspn(last, " ");
        last[strcspn(last, " ")] = '\0';
        if (last[0] == '\0') {
            break;
        }
        snprintf(out, len, "%s", last);
        if (comma == NULL) {
            break;
        }
        *comma = '\0';
    }
}

static bool declared_too_large(struct gw_server *s, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL) {
        return false;
    }
    char *end = NULL;
    unsigned long long v = strtoull(cl, &end, 10);
    return end != cl && v > s->opts.max_body;
}

static int count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (*(unsigned *)cls)++;
    return MHD_YES;
}

/* URL length (414) and header count (431), answered before any body is read. */
static bool over_limits(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                        enum MHD_Result *ret)
{
    char msg[128];
    if (strlen(cn->uri) > s->opts.max_url) {
        snprintf(msg, sizeof(msg), "the URL is over the limit of %u bytes", s->opts.max_url);
        *ret = respond_error(c, cn, 414, "uri_too_long", msg, NULL);
        return true;
    }
    unsigned headers = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)count_header, &headers);
    if (headers > s->opts.max_headers) {
        snprintf(msg, sizeof(msg), "the request has %u headers, over the limit of %u", headers,
                 s->opts.max_headers);
        *ret = respond_error(c, cn, 431, "header_fields_too_large", msg, NULL);
        return true;
    }
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct gw_server *s = cls;
    struct conn *cn = *con_cls;
    if (!cn->started) {
        cn->started = true;
        request_id(c, cn->id, sizeof(cn->id));
        snprintf(cn->method, sizeof(cn->method), "%s", method);
        client_address(s, c, cn->client, sizeof(cn->client));
        enum MHD_Result early = MHD_NO;
        if (over_limits(s, c, cn, &early)) {
            return early;
        }
        if (declared_too_large(s, c)) {
            /* answer before reading a body we would refuse anyway */
            cn->too_large = true;
            return dispatch(s, c, cn, url, method);
        }
        return MHD_YES;
    }
    if (*upload_size > 0 && elapsed_ms(&cn->start) > s->opts.read_timeout_ms) {
        /* a body dribbled in slowly: each byte resets MHD's idle timeout,
         * this bounds the whole request */
        gw_warn("server", "request %s: body not complete after %u ms; closing", cn->id,
                s->opts.read_timeout_ms);
        return MHD_NO;
    }
    if (*upload_size > 0) {
        if (!cn->too_large && gw_buf_add(&cn->body, upload, *upload_size) != GW_OK) {
            cn->too_large = true;
            gw_buf_fini(&cn->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(s, c, cn, url, method);
}

/* MHD's first sight of a request, with the URI still raw (the query string
 * included): the per-request state starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct gw_server *s = cls;
    struct conn *cn = gw_calloc(1, sizeof(*cn));
    gw_buf_init(&cn->body, s->opts.max_body);
    clock_gettime(CLOCK_MONOTONIC, &cn->start);
    cn->uri = gw_strdup(uri);
    atomic_fetch_add(&s->in_flight, 1);
    return cn;
}

/* One JSON line per request, and its count in the metrics. */
static void access_log(const struct conn *cn, enum MHD_RequestTerminationCode toe)
{
    double ms = elapsed_ms(&cn->start);
    if (cn->status == 0 && !cn->started) {
        return; /* a connection that closed before sending a request */
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "request_id", json_object_new_string(cn->id));
    json_object_object_add(o, "method", json_object_new_string(cn->method));
    json_object_object_add(o, "path", json_object_new_string_len(cn->uri, (int)strcspn(cn->uri, "?")));
    if (cn->source[0] != '\0') {
        json_object_object_add(o, "source", json_object_new_string(cn->source));
    }
    if (cn->api[0] != '\0') {
        json_object_object_add(o, "api", json_object_new_string(cn->api));
    }
    json_object_object_add(o, "status", json_object_new_int(cn->status));
    json_object_object_add(o, "events", json_object_new_int64((int64_t)cn->events));
    json_object_object_add(o, "ignored", json_object_new_int64((int64_t)cn->ignored));
    if (cn->dry_run) {
        json_object_object_add(o, "dry_run", json_object_new_boolean(1));
    }
    char dur[32];
    snprintf(dur, sizeof(dur), "%.3f", ms);
    json_object_object_add(o, "duration_ms", json_object_new_double_s(ms, dur));
    json_object_object_add(o, "client", json_object_new_string(cn->client));
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        json_object_object_add(o, "aborted", json_object_new_boolean(1));
    }
    gw_log_fields(GW_LOG_INFO, "access", o);
    json_object_put(o);
    if (strcmp(cn->method, "POST") == 0) {
        gw_metrics_request(cn->source[0] ? cn->source : NULL, cn->api[0] ? cn->api : NULL,
                           cn->status, ms / 1000.0);
    }
}

static void on_request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    struct gw_server *s = cls;
    struct conn *cn = *con_cls;
    if (cn == NULL) {
        return;
    }
    access_log(cn, toe);
    gw_buf_fini(&cn->body);
    free(cn->uri);
    free(cn);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    gw_warn("server", "%s", msg);
}

/* Parses "host:port", "[v6]:port" or ":port" into a socket address. */
static enum gw_rc parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host)) {
        return GW_ERR_INVALID;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port > 65535) {
        return GW_ERR_INVALID;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(h[0] ? h : NULL, colon + 1, &hints, &res) != 0 || res == NULL) {
        return GW_ERR_INVALID;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return GW_OK;
}

static void free_server(struct gw_server *s)
{
    for (size_t i = 0; i < s->n_trusted; i++) {
        free(s->trusted[i]);
    }
    free(s->trusted);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

enum gw_rc gw_server_start(const struct gw_server_opts *opts, const struct gw_ingest *ing,
                           struct gw_server **out)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (parse_listen(opts->listen, &ss, &v6) != GW_OK) {
        gw_error("server", "cannot parse listen address '%s' (use HOST:PORT)", opts->listen);
        return GW_ERR_INVALID;
    }
    struct gw_server *s = gw_calloc(1, sizeof(*s));
    s->ing = ing;
    s->opts = *opts;
    s->opts.listen = NULL;
    s->opts.trusted_proxies = NULL;
    for (size_t i = 0; i < opts->n_trusted_proxies; i++) {
        s->trusted = gw_realloc(s->trusted, (s->n_trusted + 1) * sizeof(*s->trusted));
        s->trusted[s->n_trusted++] = gw_strdup(opts->trusted_proxies[i]);
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* a reload must not wait behind an endless stream of readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opts->threads ? opts->threads : (unsigned)(cores > 0 ? cores : 1);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_request_completed,
        s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_CONNECTION_TIMEOUT,
        opts->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT, opts->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, opts->max_connections_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)opts->max_header_bytes, MHD_OPTION_END);
    if (s->mhd == NULL) {
        gw_error("server", "cannot listen on %s (address in use or not permitted?)",
                 opts->listen);
        free_server(s);
        return GW_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return GW_OK;
}

uint16_t gw_server_port(const struct gw_server *s)
{
    return s->port;
}

void gw_server_quiesce(struct gw_server *s)
{
    atomic_store(&s->draining, true);
    MHD_socket fd = MHD_quiesce_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET) {
        close(fd);
    }
}

unsigned gw_server_drain(struct gw_server *s, unsigned deadline_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (atomic_load(&s->in_flight) > 0 && elapsed_ms(&start) < deadline_ms) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&s->in_flight);
}

void gw_server_stop(struct gw_server *s)
{
    if (s == NULL) {
        return;
    }
    MHD_stop_daemon(s->mhd);
    free_server(s);
}

const struct gw_ingest *gw_server_swap(struct gw_server *s, const struct gw_ingest *ing)
{
    pthread_rwlock_wrlock(&s->lock);
    const struct gw_ingest *old = s->ing;
    s->ing = ing;
    pthread_rwlock_unlock(&s->lock);
    return old;
}

void gw_server_opts_init(struct gw_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->listen = "127.0.0.1:8080";
    o->max_body = 512 * 1024;
    o->max_url = 8192;
    o->max_headers = 64;
    o->max_header_bytes = 32 * 1024;
    o->max_connections = 1024;
    o->max_connections_per_ip = 64;
    o->idle_timeout_s = 30;
    o->read_timeout_ms = 60000;
}
