/* server.c -- libmicrohttpd glue: routing, capped bodies, JSON answers;
 * the POSTs themselves are post.c's.
 * SPDX-License-Identifier: MIT */
#include "server_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "access.h"
#include "api.h"
#include "buf.h"
#include "climit.h"
#include "config.h"
#include "conns.h"
#include "framing.h"
#include "headers.h"
#include "cors.h"
#include "inflate.h"
#include "ingest.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "relay/relay.h"

double gw_server_elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void add_header_cb(void *r, const char *name, const char *value)
{
    MHD_add_response_header(r, name, value);
}

/* The CORS headers of a /v1 answer (cors.c). */
static void add_cors(struct MHD_Response *r, const struct conn *cn, bool preflight)
{
    if (cn->vary_origin) {
        gw_cors_headers(cn->cors, preflight, add_header_cb, r);
    }
}

enum MHD_Result gw_server_send_json(struct MHD_Connection *c, struct conn *cn, int status,
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
    if (cn->close) {
        MHD_add_response_header(r, "Connection", "close"); /* framing, limits */
    }
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow);
    }
    add_cors(r, cn, false);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The one place a request-path error becomes an HTTP answer. */
enum MHD_Result gw_server_respond_error(struct MHD_Connection *c, struct conn *cn, int status,
                                     const char *code, const char *message, const char *allow)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    return gw_server_send_json(c, cn, status, o, 0, allow);
}

const char *gw_server_header(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_HEADER_KIND, name);
}

const char *gw_server_query(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

bool gw_server_truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

static enum MHD_Result handle_metrics(struct gw_server *s, struct MHD_Connection *c,
                                      struct conn *cn)
{
    pthread_rwlock_rdlock(&s->lock);
    struct gw_relay *relay = s->ing->relay;
    pthread_rwlock_unlock(&s->lock);
    char *page = gw_metrics_render(relay);
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
    return gw_server_send_json(c, cn, ok ? 200 : 503, o, 0, NULL);
}

/* OPTIONS on /v1/...: a browser's CORS preflight. A listed origin gets 204
 * and what it may send; an origin not listed a 403 without CORS headers
 * (the browser refuses either way; 403 says so in the access log and the
 * metrics); no Origin (not a browser) 204 with Allow. */
static enum MHD_Result preflight(struct MHD_Connection *c, struct conn *cn)
{
    if (cn->cors[0] == '\0' && gw_server_header(c, "Origin") != NULL) {
        return gw_server_respond_error(c, cn, 403, "forbidden",
                             "this origin is not one of api.cors_origins", NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "X-Request-Id", cn->id);
    MHD_add_response_header(r, "Allow", GW_CORS_METHODS);
    add_cors(r, cn, true);
    cn->status = 204;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ret;
}

/* Routes a complete request. */
static enum MHD_Result dispatch(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                                const char *url, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    enum MHD_Result ret = MHD_NO;
    if (s->opts.admin != NULL &&
        gw_admin_handle(s->opts.admin, c, cn->peer_trusted, url, method, gw_buf_str(&cn->body),
                        cn->body.len, &ret, &cn->status)) {
        return ret;
    }
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) {
        if (!get) {
            return gw_server_respond_error(c, cn, 405, "method_not_allowed", "use GET", "GET, HEAD");
        }
        return handle_probe(s, c, cn, url[1] == 'r');
    }
    if (strcmp(url, "/metrics") == 0) {
        if (!get) {
            return gw_server_respond_error(c, cn, 405, "method_not_allowed", "use GET", "GET, HEAD");
        }
        return handle_metrics(s, c, cn);
    }
    size_t ulen = strlen(url);
    const char *source = ulen > 10 && memcmp(url, "/webhooks/", 10) == 0 ? url + 10 : NULL;
    if (source != NULL && strrchr(url, '/') == source - 1) {
        if (strcmp(method, "POST") != 0) {
            return gw_server_respond_error(c, cn, 405, "method_not_allowed",
                                 "webhooks are delivered with POST", "POST");
        }
        return gw_post_handle(s, c, cn, source, NULL);
    }
    if (strncmp(url, "/v1/", 4) == 0) {
        cn->vary_origin = true;
        pthread_rwlock_rdlock(&s->lock);
        gw_cors_allowed(s->ing->cfg, gw_server_header(c, "Origin"), cn->cors, sizeof(cn->cors));
        pthread_rwlock_unlock(&s->lock);
        if (strcmp(method, "OPTIONS") == 0) {
            return preflight(c, cn);
        }
        const char *api = gw_api_endpoint(url + 4);
        if (api != NULL && strcmp(method, "POST") != 0) {
            return gw_server_respond_error(c, cn, 405, "method_not_allowed", "use POST", GW_CORS_METHODS);
        }
        if (api != NULL) {
            snprintf(cn->api, sizeof(cn->api), "%s", api);
            return gw_post_handle(s, c, cn, "", api);
        }
    }
    return gw_server_respond_error(c, cn, 404, "not_found",
                         "no such path: webhooks go to POST /webhooks/{source}", NULL);
}

/* The client: the TCP peer, or the client a trusted proxy vouches for. */
static void client_address(const struct gw_server *s, struct MHD_Connection *c, char *out,
                           size_t len, bool *peer_trusted)
{
    *peer_trusted = false;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[64];
    gw_conns_addr_text(ci != NULL ? ci->client_addr : NULL, peer, sizeof(peer));
    char xff[1024];
    bool any = gw_headers_xff(c, xff, sizeof(xff));
    *peer_trusted = gw_conns_trusted(s->conns, peer);
    gw_conns_client(s->conns, peer, any ? xff : NULL, out, len);
}

static void set_deadline(struct gw_server *s, struct MHD_Connection *c, unsigned grace_ms)
{
    gw_conns_deadline(s->conns, c, grace_ms);
}

/* A declared body over max_body. */
static bool declared_too_large(struct gw_server *s, const struct gw_framing *f)
{
    return f->has_length && f->length > s->opts.max_body;
}

/* URL length (414) and header count (431), answered before any body is read. */
static bool over_limits(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                        unsigned *headers, enum MHD_Result *ret)
{
    char msg[128];
    if (strlen(cn->uri) > s->opts.max_url) {
        snprintf(msg, sizeof(msg), "the URL is over the limit of %u bytes", s->opts.max_url);
        *ret = gw_server_respond_error(c, cn, 414, "uri_too_long", msg, NULL);
        return true;
    }
    *headers = gw_headers_count(c);
    if (*headers > s->opts.max_headers) {
        snprintf(msg, sizeof(msg), "the request has %u headers, over the limit of %u", *headers,
                 s->opts.max_headers);
        *ret = gw_server_respond_error(c, cn, 431, "header_fields_too_large", msg, NULL);
        return true;
    }
    return false;
}

/* An answer that ends the connection (its body is left unread), with a
 * Retry-After when retry_after > 0. */
static enum MHD_Result refuse(struct MHD_Connection *c, struct conn *cn, int status,
                              const char *code, const char *message, unsigned retry_after)
{
    cn->close = true;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    return gw_server_send_json(c, cn, status, o, retry_after, NULL);
}

/* The first call: headers complete, no body read yet. Everything that can
 * be refused from the headers is refused here, with Connection: close. */
static enum MHD_Result first_call(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                                  const char *url, const char *method, const char *version)
{
    cn->started = true;
    gw_headers_request_id(c, cn->id, sizeof(cn->id));
    snprintf(cn->method, sizeof(cn->method), "%s", method);
    client_address(s, c, cn->client, sizeof(cn->client), &cn->peer_trusted);
    enum MHD_Result early = MHD_NO;
    unsigned headers = 0;
    if (over_limits(s, c, cn, &headers, &early)) {
        cn->close = true;
        set_deadline(s, c, GW_CONNS_READ_DONE);
        return early;
    }
    struct gw_framing f;
    gw_headers_framing(c, version, headers, &f);
    if (f.status != 0) {
        gw_warn("server", "request %s from %s: %s", cn->id, cn->client, f.message);
        set_deadline(s, c, GW_CONNS_READ_DONE);
        return refuse(c, cn, f.status, f.status == 501 ? "not_implemented" : "bad_request",
                      f.message, 0);
    }
    /* a chunked body is the one place a second request can hide */
    cn->close = f.chunked;
    if (!gw_climit_take(s->clients, cn->client)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "more than %u requests in progress from this client",
                 s->opts.max_requests_per_client);
        set_deadline(s, c, GW_CONNS_READ_DONE);
        return refuse(c, cn, 429, "too_many_requests", msg, 1);
    }
    cn->client_counted = true;
    if (declared_too_large(s, &f)) {
        cn->too_large = true;
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
        if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
            /* the client waits for a word before it sends: answer now */
            cn->close = true;
            set_deadline(s, c, GW_CONNS_READ_DONE);
            return dispatch(s, c, cn, url, method);
        }
        /* a client that writes its body first reads the 413 only once
         * its write is done: read and discard it (lingering) */
    }
    return MHD_YES;
}

/* Reads and discards a refused body up to lingering_bytes and
 * lingering_time, then answers 413. */
static enum MHD_Result linger(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                              const char *url, const char *method, size_t *upload_size)
{
    if (!cn->lingering) {
        cn->lingering = true;
        clock_gettime(CLOCK_MONOTONIC, &cn->linger_start);
    }
    cn->discarded += *upload_size;
    *upload_size = 0;
    if (cn->discarded <= s->opts.lingering_bytes &&
        gw_server_elapsed_ms(&cn->linger_start) <= s->opts.lingering_time_ms) {
        return MHD_YES;
    }
    cn->close = true;
    set_deadline(s, c, GW_CONNS_READ_DONE);
    return dispatch(s, c, cn, url, method);
}

/* What went wrong with the body: past max_body it is dropped (413); a coding
 * not taken is a 415, a stream that does not inflate a 400. */
static void body_failed(struct conn *cn, enum gw_rc rc)
{
    if (rc == GW_ERR_TOO_LARGE) {
        cn->too_large = true;
        gw_buf_fini(&cn->body);
    } else if (rc != GW_OK) {
        cn->body_rc = rc == GW_ERR_UNSUPPORTED ? rc : GW_ERR_INVALID;
    }
}

/* The body inflated as it arrives (Content-Encoding gzip or deflate), so
 * that max_body caps the inflated size and a bomb costs no more memory than
 * that; once the answer is known the rest is read and thrown away. */
static void take_upload(struct MHD_Connection *c, struct conn *cn, const char *data, size_t n)
{
    if (cn->body.cap == 0) {
        /* the body's declared length (MHD checked it is a number), in one
         * allocation rather than doubling up to it */
        const char *cl = gw_server_header(c, "Content-Length");
        unsigned long long want = cl != NULL ? strtoull(cl, NULL, 10) : 0;
        if (want > 0 && want <= cn->body.max) {
            gw_buf_reserve(&cn->body, (size_t)want);
        }
    }
    if (!cn->too_large && cn->body_rc == GW_OK) {
        body_failed(cn, gw_inflate_body_feed(&cn->inflate, gw_server_header(c, "Content-Encoding"), data,
                                             n, &cn->body));
    }
}

/* The whole body arrived: a truncated stream is an error of the body. */
static void finish_body(struct MHD_Connection *c, struct conn *cn)
{
    if (!cn->too_large && cn->body_rc == GW_OK) {
        body_failed(cn, gw_inflate_body_finish(&cn->inflate, gw_server_header(c, "Content-Encoding")));
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct gw_server *s = cls;
    struct conn *cn = *con_cls;
    if (!cn->started) {
        return first_call(s, c, cn, url, method, version);
    }
    if (atomic_load(&cn->commit_state) == COMMIT_DONE) {
        return gw_post_finish(s, c, cn); /* resumed: its commit called back */
    }
    if (*upload_size > 0 && gw_server_elapsed_ms(&cn->start) > s->opts.read_timeout_ms) {
        /* a body dribbled in slowly: each byte resets MHD's idle timeout,
         * this bounds the whole request */
        gw_warn("server", "request %s: body not complete after %u ms; closing", cn->id,
                s->opts.read_timeout_ms);
        return MHD_NO;
    }
    if (*upload_size > 0 && cn->too_large) {
        return linger(s, c, cn, url, method, upload_size);
    }
    if (*upload_size > 0) {
        take_upload(c, cn, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    finish_body(c, cn);
    cn->close = cn->close || cn->too_large;
    set_deadline(s, c, GW_CONNS_READ_DONE);
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

/* One JSON line per request (access.c), and its count in the metrics. */
static void access_log(const struct conn *cn, enum MHD_RequestTerminationCode toe)
{
    double ms = gw_server_elapsed_ms(&cn->start);
    if (cn->status == 0 && !cn->started) {
        return; /* a connection that closed before sending a request */
    }
    gw_access_log(&(struct gw_access){
        .request_id = cn->id, .method = cn->method, .uri = cn->uri, .source = cn->source,
        .api = cn->api, .status = cn->status, .cause = cn->cause, .events = cn->events,
        .ignored = cn->ignored, .dry_run = cn->dry_run, .duration_ms = ms, .client = cn->client,
        .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK});
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
    if (cn->client_counted) {
        gw_climit_give(s->clients, cn->client);
    }
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && !cn->close) {
        /* the next request on this connection: idle_timeout to start it,
         * read_timeout to send it */
        set_deadline(s, c, s->opts.idle_timeout_s * 1000u);
    }
    gw_inflate_destroy(cn->inflate);
    gw_buf_fini(&cn->body);
    gw_ingest_res_fini(&cn->res); /* a resumed POST whose client left */
    free(cn->user);
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

static void free_server(struct gw_server *s)
{
    gw_conns_destroy(s->conns);
    gw_climit_destroy(s->clients);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

enum gw_rc gw_server_start(const struct gw_server_opts *opts, const struct gw_ingest *ing,
                           struct gw_server **out)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (gw_conns_parse_listen(opts->listen, &ss, &v6) != GW_OK) {
        gw_error("server", "cannot parse listen address '%s' (use HOST:PORT)", opts->listen);
        return GW_ERR_INVALID;
    }
    struct gw_server *s = gw_calloc(1, sizeof(*s));
    s->ing = ing;
    s->opts = *opts;
    s->opts.listen = NULL;
    s->opts.trusted_proxies = NULL;
    struct gw_conns_opts co = {.trusted_proxies = opts->trusted_proxies,
                               .n_trusted_proxies = opts->n_trusted_proxies,
                               .max_per_peer = opts->max_connections_per_ip,
                               .read_timeout_ms = opts->read_timeout_ms};
    s->conns = gw_conns_create(&co);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* a reload must not wait behind an endless stream of readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    s->clients = gw_climit_create(opts->max_requests_per_client);
    /* the cores this process may run on (taskset, a container's cpuset),
     * not every core of the machine */
    cpu_set_t cpus;
    long cores = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus)
                                                                : sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opts->threads ? opts->threads : (unsigned)(cores > 0 ? cores : 1);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    /* connections are capped per untrusted TCP peer by on_accept, not by
     * MHD_OPTION_PER_IP_CONNECTION_LIMIT: behind a load balancer, the peer
     * is the balancer */
    s->mhd = MHD_start_daemon(
        flags, 0, gw_conns_accept, s->conns, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_request_completed,
        s, MHD_OPTION_NOTIFY_CONNECTION, gw_conns_notify, s->conns, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
        s, MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        opts->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)opts->max_header_bytes, MHD_OPTION_END);
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
    while (atomic_load(&s->in_flight) > 0 && gw_server_elapsed_ms(&start) < deadline_ms) {
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
    /* a commit that has not called back still holds its connection */
    while (atomic_load(&s->committing) > 0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
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

void gw_server_opts_from(struct gw_server_opts *o, const struct gw_config *c)
{
    o->listen = c->listen;
    o->threads = c->threads;
    /* at fsync a commit waits for the disk: the requests waiting meanwhile
     * share the next one, suspended, and their thread serves others */
    o->async_commit = c->spool_fsync && !c->dry_run;
    o->max_body = c->max_body;
    o->max_url = c->max_url;
    o->max_headers = c->max_headers;
    o->max_header_bytes = c->max_header_bytes;
    o->max_connections = c->max_connections;
    o->max_connections_per_ip = c->max_connections_per_ip;
    o->idle_timeout_s = c->idle_timeout_s;
    o->read_timeout_ms = c->read_timeout_s * 1000;
    o->max_requests_per_client = c->max_requests_per_client;
    o->lingering_bytes = c->lingering_bytes;
    o->lingering_time_ms = c->lingering_time_s * 1000;
    o->trusted_proxies = (const char *const *)c->trusted_proxies;
    o->n_trusted_proxies = c->n_trusted_proxies;
}

void gw_server_opts_init(struct gw_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    gw_server_opts_from(o, gw_config_defaults());
}
