/* server.c -- libmicrohttpd glue: routing, capped bodies, JSON answers.
 * SPDX-License-Identifier: MIT */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "ingest.h"
#include "json.h"
#include "log.h"
#include "mem.h"

struct gw_server {
    struct MHD_Daemon *mhd;
    const struct gw_ingest *ing;
    uint64_t max_body;
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
    struct timespec start;
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

static enum MHD_Result send_json(struct MHD_Connection *c, const struct conn *cn, int status,
                                 json_object *body, unsigned retry_after, const char *allow)
{
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
static enum MHD_Result respond_error(struct MHD_Connection *c, const struct conn *cn, int status,
                                     const char *code, const char *message, const char *allow)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    gw_info("server", "request %s answered %d %s: %s", cn->id, status, code, message);
    return send_json(c, cn, status, o, 0, allow);
}

static const char *header_cb(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_HEADER_KIND, name);
}

static const char *query_cb(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

static bool truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
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
        .arg = c,
    };
    struct gw_ingest_res res;
    if (api != NULL) {
        gw_api_run(s->ing, api, &req, &res);
    } else {
        gw_ingest_run(s->ing, &req, &res);
    }
    if (user != NULL) {
        MHD_free(user);
    }
    if (pass != NULL) {
        MHD_free(pass);
    }
    gw_info("server", "request %s %s=%.64s status=%d accepted=%zu ignored=%zu%s%s%s", cn->id,
            api ? "api" : "source", api ? api : source, res.status, res.accepted, res.ignored, res.dry_run ? " dry_run" : "",
            res.error ? " error=" : "", res.error ? res.error : "");
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
                 (unsigned long long)s->max_body);
        return respond_error(c, cn, 413, "payload_too_large", msg, NULL);
    }
    return handle_post(s, c, cn, source, api);
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
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) {
        if (!get) {
            return respond_error(c, cn, 405, "method_not_allowed", "use GET", "GET, HEAD");
        }
        return handle_probe(s, c, cn, url[1] == 'r');
    }
    if (strncmp(url, "/webhooks/", 10) == 0 && url[10] != '\0' && strchr(url + 10, '/') == NULL) {
        if (strcmp(method, "POST") != 0) {
            return respond_error(c, cn, 405, "method_not_allowed",
                                 "webhooks are delivered with POST", "POST");
        }
        return post_or_413(s, c, cn, url + 10, NULL);
    }
    if (strncmp(url, "/v1/", 4) == 0 && gw_api_known(url + 4)) {
        if (strcmp(method, "POST") != 0) {
            return respond_error(c, cn, 405, "method_not_allowed", "use POST", "POST");
        }
        return post_or_413(s, c, cn, "", url + 4);
    }
    return respond_error(c, cn, 404, "not_found",
                         "no such path: webhooks go to POST /webhooks/{source}", NULL);
}

static bool declared_too_large(struct gw_server *s, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL) {
        return false;
    }
    char *end = NULL;
    unsigned long long v = strtoull(cl, &end, 10);
    return end != cl && v > s->max_body;
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
        if (declared_too_large(s, c)) {
            /* answer before reading a body we would refuse anyway */
            cn->too_large = true;
            return dispatch(s, c, cn, url, method);
        }
        return MHD_YES;
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
    gw_buf_init(&cn->body, s->max_body);
    clock_gettime(CLOCK_MONOTONIC, &cn->start);
    cn->uri = gw_strdup(uri);
    atomic_fetch_add(&s->in_flight, 1);
    return cn;
}

static void on_request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    struct gw_server *s = cls;
    struct conn *cn = *con_cls;
    if (cn == NULL) {
        return;
    }
    gw_debug("server", "request %s done in %.2f ms", cn->id, elapsed_ms(&cn->start));
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
    s->max_body = opts->max_body;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opts->threads ? opts->threads : (unsigned)(cores > 0 ? cores : 1);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_request_completed,
        s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_END);
    if (s->mhd == NULL) {
        gw_error("server", "cannot listen on %s (address in use or not permitted?)",
                 opts->listen);
        free(s);
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
    free(s);
}
