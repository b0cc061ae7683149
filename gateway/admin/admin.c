/* admin.c -- the admin module's lifecycle: ring, streams, relay sampler,
 * its own listener, and who may use it (loopback, token).
 * SPDX-License-Identifier: MIT */
#include "admin.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../buf.h"
#include "../conns.h"
#include "../json.h"
#include "../log.h"
#include "../mem.h"
#include "../metrics.h"
#include "admin_int.h"
#include "sse.h"
#include "../thread.h"

/* A stream writes a comment this often when nothing happens. */
#define HEARTBEAT_S 15
/* Bodies of POST /admin/replay on the listener of its own. */
#define MAX_ADMIN_BODY 4096

void gw_admin_opts_init(struct gw_admin_opts *o)
{
    memset(o, 0, sizeof(*o));
}

static void sample_relay(struct gw_admin *a)
{
    struct gw_relay_stats st;
    gw_relay_get_stats(a->relay, &st);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct gw_admin_sample s = {
        .t_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
        .queued = st.queued, .queued_bytes = st.queued_bytes, .relayed = st.relayed,
        .requests = st.requests, .retries = st.retries, .dropped = st.dropped,
        .dead = st.dead_lettered};
    memcpy(s.retried, st.retried, sizeof(s.retried));
    gw_metrics_relay_latency(&s.timed, &s.time_us);
    a->samples[a->next_sample] = s;
    a->next_sample = (a->next_sample + 1) % GW_ADMIN_SAMPLES;
    a->n_samples += a->n_samples < GW_ADMIN_SAMPLES;
}

/* Once a second: a relay sample; every HEARTBEAT_S: the streams' comment. */
static void *on_sampler(void *arg)
{
    gw_thread_name("sg-sampler");
    struct gw_admin *a = arg;
    unsigned tick = 0;
    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        if (a->relay != NULL) {
            sample_relay(a);
        }
        if (++tick % HEARTBEAT_S == 0) {
            pthread_mutex_unlock(&a->lock);
            gw_admin_sse_heartbeat(a->sse);
            pthread_mutex_lock(&a->lock);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!a->stopping && pthread_cond_timedwait(&a->wake, &a->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

struct gw_admin *gw_admin_create(const struct gw_admin_opts *opts, struct gw_relay *relay,
                                 struct gw_spool *spool)
{
    struct gw_admin *a = gw_calloc(1, sizeof(*a));
    GW_ASSERT(opts->max_requests > 0 && opts->max_bytes > 0);
    a->listen = opts->listen != NULL && opts->listen[0] ? gw_strdup(opts->listen) : NULL;
    a->token = opts->token != NULL && opts->token[0] ? gw_strdup(opts->token) : NULL;
    a->on_main = opts->on_main;
    a->spool_dir = opts->spool_dir != NULL ? gw_strdup(opts->spool_dir) : NULL;
    a->max_requests = opts->max_requests;
    a->max_bytes = opts->max_bytes;
    a->ring = gw_admin_ring_create(a->max_requests, a->max_bytes);
    a->sse = gw_admin_sse_create(a->ring);
    a->relay = relay;
    a->spool = spool;
    pthread_rwlock_init(&a->rt_lock, NULL);
    pthread_mutex_init(&a->replay_lock, NULL);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    a->sampling = pthread_create(&a->sampler, NULL, on_sampler, a) == 0;
    if (!a->sampling) {
        gw_warn("admin", "no sampler thread: the relay charts stay empty");
    }
    return a;
}

void gw_admin_set_runtime(struct gw_admin *a, const struct gw_runtime *rt)
{
    if (a == NULL) {
        return;
    }
    pthread_rwlock_wrlock(&a->rt_lock);
    a->rt = rt;
    pthread_rwlock_unlock(&a->rt_lock);
}

void gw_admin_record(struct gw_admin *a, const struct gw_admin_entry *e)
{
    struct gw_admin_entry copy = *e;
    char fp[9];
    snprintf(fp, sizeof(fp), "%s", e->write_key_fp ? e->write_key_fp : "");
    char *body = gw_admin_scrub(e->body, e->body_len, fp);
    if (body != NULL) {
        copy.body = body;
        copy.body_len = strlen(body);
    }
    copy.write_key_fp = fp;
    gw_admin_ring_push(a->ring, &copy);
    free(body);
    gw_admin_sse_notify(a->sse);
}

void gw_admin_close(struct gw_admin *a)
{
    if (a != NULL) {
        gw_admin_sse_close(a->sse);
    }
}

void gw_admin_destroy(struct gw_admin *a)
{
    if (a == NULL) {
        return;
    }
    gw_admin_sse_close(a->sse);
    if (a->mhd != NULL) {
        MHD_stop_daemon(a->mhd);
    }
    if (a->sampling) {
        pthread_mutex_lock(&a->lock);
        a->stopping = true;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->sampler, NULL);
    }
    gw_admin_sse_destroy(a->sse);
    gw_admin_ring_destroy(a->ring);
    pthread_rwlock_destroy(&a->rt_lock);
    pthread_mutex_destroy(&a->replay_lock);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    free(a->listen);
    free(a->token);
    free(a->spool_dir);
    free(a);
}

void gw_admin_fingerprint(const char *write_key, char out[9])
{
    /* a daemon sees the same few keys request after request: the last one
     * of this thread is remembered, compared in constant time */
    static _Thread_local char last_key[128];
    static _Thread_local size_t last_len;
    static _Thread_local char last_fp[9];
    size_t len = strlen(write_key);
    if (last_fp[0] != '\0' && len == last_len &&
        CRYPTO_memcmp(last_key, write_key, len) == 0) {
        memcpy(out, last_fp, 9);
        return;
    }
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(write_key, len, md, &n, EVP_sha256(), NULL);
    for (size_t i = 0; i < 4; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    if (len <= sizeof(last_key)) {
        memcpy(last_key, write_key, len);
        last_len = len;
        memcpy(last_fp, out, 9);
    }
}

bool gw_admin_loopback(const char *listen)
{
    char host[256];
    const char *port = NULL;
    if (listen == NULL || !gw_conns_split_listen(listen, host, sizeof(host), &port)) {
        return false;
    }
    unsigned char a[16];
    if (strcasecmp(host, "localhost") == 0) {
        return true;
    }
    if (inet_pton(AF_INET, host, a) == 1) {
        return a[0] == 127;
    }
    static const unsigned char one[16] = {[15] = 1};
    return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, one, 16) == 0;
}

/* The token given: "Authorization: Bearer T", or on /admin/events ?token=T. */
static bool authorized(const struct gw_admin *a, struct MHD_Connection *c, const char *url)
{
    if (a->token == NULL) {
        return true;
    }
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (given != NULL && strncasecmp(given, "Bearer ", 7) == 0) {
        given += 7;
    } else {
        given = strcmp(url, "/admin/events") == 0
                    ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token")
                    : NULL;
    }
    if (given == NULL) {
        return false;
    }
    /* digests of both: equal lengths, so the comparison takes the same
     * time whatever the given token is */
    unsigned char want[32], got[32];
    EVP_Digest(a->token, strlen(a->token), want, NULL, EVP_sha256(), NULL);
    EVP_Digest(given, strlen(given), got, NULL, EVP_sha256(), NULL);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

enum MHD_Result gw_admin_send_json(struct MHD_Connection *c, int status, json_object *body,
                                   int *out_status)
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
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"sourcegate admin\"");
    }
    *out_status = status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* gw_admin_handle for any listener. */
static bool handle(struct gw_admin *a, struct MHD_Connection *c, const char *url,
                   const char *method, const char *body, size_t len, enum MHD_Result *ret,
                   int *status)
{
    if (strcmp(url, "/debugger") != 0 && strcmp(url, "/admin") != 0 &&
        strncmp(url, "/admin/", 7) != 0) {
        return false;
    }
    /* the page itself holds nothing: it asks for the token the API wants */
    if (strcmp(url, "/debugger") != 0 && !authorized(a, c, url)) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "success", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string("unauthorized"));
        json_object_object_add(o, "message", json_object_new_string(
            "the admin endpoints want Authorization: Bearer <admin.token>"));
        *ret = gw_admin_send_json(c, MHD_HTTP_UNAUTHORIZED, o, status);
        return true;
    }
    *ret = gw_admin_route(a, c, url, method, body, len, status);
    return true;
}

bool gw_admin_handle(struct gw_admin *a, struct MHD_Connection *c, bool via_proxy,
                     const char *url, const char *method, const char *body, size_t len,
                     enum MHD_Result *ret, int *status)
{
    /* a proxy on this host may forward anyone's requests to a loopback
     * listener: what it forwards is not served the debugger */
    via_proxy = via_proxy ||
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For") != NULL ||
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Forwarded") != NULL;
    return a->on_main && !via_proxy && handle(a, c, url, method, body, len, ret, status);
}

/* The listener of its own: bodies are small (a replay's selector). */
struct admin_conn {
    struct gw_buf body;
    bool too_large;
};

static enum MHD_Result on_admin_request(void *cls, struct MHD_Connection *c, const char *url,
                                        const char *method, const char *version,
                                        const char *upload, size_t *upload_size, void **con_cls)
{
    struct gw_admin *a = cls;
    struct admin_conn *ac = *con_cls;
    if (ac == NULL) {
        ac = gw_calloc(1, sizeof(*ac));
        gw_buf_init(&ac->body, MAX_ADMIN_BODY);
        *con_cls = ac;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        ac->too_large = ac->too_large || gw_buf_add(&ac->body, upload, *upload_size) != GW_OK;
        *upload_size = 0;
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_NO;
    int status = 0;
    if (ac->too_large) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string("payload_too_large"));
        return gw_admin_send_json(c, MHD_HTTP_CONTENT_TOO_LARGE, o, &status);
    }
    if (!handle(a, c, url, method, gw_buf_str(&ac->body), ac->body.len, &ret, &status)) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string("not_found"));
        json_object_object_add(o, "message", json_object_new_string(
            "this listener serves /debugger and /admin/* only"));
        ret = gw_admin_send_json(c, MHD_HTTP_NOT_FOUND, o, &status);
    }
    return ret;
}

static void on_admin_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                               enum MHD_RequestTerminationCode toe)
{
    struct admin_conn *ac = *con_cls;
    if (ac != NULL) {
        gw_buf_fini(&ac->body);
        free(ac);
        *con_cls = NULL;
    }
}

enum gw_rc gw_admin_listen(struct gw_admin *a, uint16_t *port)
{
    *port = 0;
    if (a->listen == NULL) {
        return GW_OK;
    }
    struct sockaddr_storage ss;
    bool v6 = false;
    if (gw_conns_parse_listen(a->listen, &ss, &v6) != GW_OK) {
        gw_error("admin", "cannot parse admin.listen '%s' (use HOST:PORT)", a->listen);
        return GW_ERR_INVALID;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | (v6 ? MHD_USE_IPv6 : 0);
    a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_admin_request, a, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_admin_completed, a,
                              MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT,
                              256u, MHD_OPTION_END);
    if (a->mhd == NULL) {
        gw_error("admin", "cannot listen on %s (address in use or not permitted?)", a->listen);
        return GW_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return GW_OK;
}
