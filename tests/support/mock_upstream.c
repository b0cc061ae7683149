/* mock_upstream.c -- a scripted stand-in for Segment's /v1/batch on
 * libmicrohttpd, one thread per connection, recording what it receives.
 * SPDX-License-Identifier: MIT */
#include "mock_upstream.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "mem.h"

#define BODY_MAX ((size_t)16 << 20)
#define DEFAULT_BODY "{\"success\":true}"
#define REFUSED_BODY                                                                               \
    "{\"success\":false,\"code\":\"invalid_request\",\"message\":\"refused by mock\"}"

struct record {
    struct mock_request req;
    size_t ncalls;  /* elements of "batch" in the body */
    bool delivered; /* a 2xx answer was handed to a still connected client */
};

struct mock_upstream {
    struct MHD_Daemon *daemon;
    char endpoint[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    struct mock_reply *pushed;
    size_t npushed;
    size_t next_pushed;
    struct mock_reply def;
    char *refuse;
    struct record *recs;
    size_t nrecs;
    size_t accepted; /* calls in delivered records */
    int64_t (*clock)(void *arg); /* the clock of at_ms; NULL: mock_now_ms */
    void *clock_arg;
};

/* One request, from its first callback to MHD's completion notice. */
struct exchange {
    struct gw_buf body;
    bool too_large;
    size_t index;
    struct mock_reply reply; /* strings owned */
};

int64_t mock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? gw_strdup(s) : NULL;
}

/* Returns a new NUL-terminated copy of n bytes that may hold NULs. */
static char *dup_bytes(const char *p, size_t n)
{
    char *s = gw_malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static struct mock_reply copy_reply(struct mock_reply r)
{
    r.retry_after = dup_or_null(r.retry_after);
    r.body = dup_or_null(r.body);
    return r;
}

static void free_reply(struct mock_reply *r)
{
    free((char *)r->retry_after);
    free((char *)r->body);
    r->retry_after = NULL;
    r->body = NULL;
}

/* Returns the number of elements of the body's "batch" array, 0 if none. */
static size_t count_calls(const char *body)
{
    json_object *root = json_tokener_parse(body);
    json_object *batch = NULL;
    size_t n = 0;
    if (root != NULL && json_object_object_get_ex(root, "batch", &batch) &&
        json_object_is_type(batch, json_type_array)) {
        n = json_object_array_length(batch);
    }
    json_object_put(root);
    return n;
}

static char *header(struct MHD_Connection *conn, const char *name)
{
    return dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name));
}

/* Picks the reply, locked: the refusal first, then a pushed one, then the
 * default. */
static struct mock_reply pick_reply(struct mock_upstream *m, const char *body)
{
    if (m->refuse != NULL && strstr(body, m->refuse) != NULL) {
        return (struct mock_reply){.status = 400, .body = REFUSED_BODY};
    }
    if (m->next_pushed < m->npushed) {
        return m->pushed[m->next_pushed++];
    }
    return m->def;
}

static void record(struct mock_upstream *m, struct MHD_Connection *conn, const char *url,
                   const char *method, struct exchange *x)
{
    const char *body = gw_buf_str(&x->body);
    struct record rec = {
        .req.method = gw_strdup(method),
        .req.path = gw_strdup(url),
        .req.authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION),
        .req.content_type = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE),
        .req.body = dup_bytes(body, x->body.len),
        .req.body_len = x->body.len,
        .req.at_ms = mock_now_ms(),
        .ncalls = count_calls(body),
    };
    pthread_mutex_lock(&m->lock);
    if (m->clock != NULL) {
        rec.req.at_ms = m->clock(m->clock_arg);
    }
    x->reply = copy_reply(pick_reply(m, body));
    if (x->too_large) {
        free_reply(&x->reply);
        x->reply = (struct mock_reply){.status = 413};
    }
    if (x->reply.status == 0) {
        x->reply.status = 200;
    }
    rec.req.status = x->reply.status;
    m->recs = gw_realloc(m->recs, (m->nrecs + 1) * sizeof(*m->recs));
    x->index = m->nrecs;
    m->recs[m->nrecs++] = rec;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static struct timespec deadline_in(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Waits delay_ms on the condvar; false when the mock is stopping. */
static bool delay(struct mock_upstream *m, unsigned delay_ms)
{
    struct timespec until = deadline_in(delay_ms);
    pthread_mutex_lock(&m->lock);
    while (!m->stopping && !passed(&until)) {
        pthread_cond_timedwait(&m->cond, &m->lock, &until);
    }
    bool go_on = !m->stopping;
    pthread_mutex_unlock(&m->lock);
    return go_on;
}

/* A client that gave up (timeout) has closed its end by now. */
static bool client_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL) {
        return true;
    }
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) < 0) {
        return true;
    }
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static void mark_delivered(struct mock_upstream *m, size_t index)
{
    pthread_mutex_lock(&m->lock);
    struct record *rec = &m->recs[index];
    if (rec->req.status >= 200 && rec->req.status <= 299) {
        rec->delivered = true;
        m->accepted += rec->ncalls;
        pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
}

static enum MHD_Result answer(struct mock_upstream *m, struct MHD_Connection *conn,
                              struct exchange *x)
{
    if (x->reply.delay_ms > 0 && (!delay(m, x->reply.delay_ms) || client_gone(conn))) {
        return MHD_NO;
    }
    const char *body = x->reply.body != NULL ? x->reply.body : DEFAULT_BODY;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (x->reply.retry_after != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, x->reply.retry_after);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)x->reply.status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES) {
        mark_delivered(m, x->index);
    }
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct mock_upstream *m = cls;
    struct exchange *x = *req_cls;
    if (x == NULL) {
        x = gw_calloc(1, sizeof(*x));
        gw_buf_init(&x->body, BODY_MAX);
        *req_cls = x;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (gw_buf_add(&x->body, upload_data, *upload_data_size) != GW_OK) {
            x->too_large = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    record(m, conn, url, method, x);
    return answer(m, conn, x);
}

static void on_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    struct exchange *x = *req_cls;
    if (x == NULL) {
        return;
    }
    gw_buf_fini(&x->body);
    free_reply(&x->reply);
    free(x);
    *req_cls = NULL;
}

void mock_upstream_set_clock(struct mock_upstream *m, int64_t (*clock)(void *arg), void *arg)
{
    pthread_mutex_lock(&m->lock);
    m->clock = clock;
    m->clock_arg = arg;
    pthread_mutex_unlock(&m->lock);
}

struct mock_upstream *mock_upstream_start(void)
{
    struct mock_upstream *m = gw_calloc(1, sizeof(*m));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->lock, NULL);
    m->def.status = 200;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->daemon =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                         NULL, on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, on_request_completed, m, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        m->daemon != NULL ? MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL || info->port == 0) {
        mock_upstream_stop(m);
        return NULL;
    }
    snprintf(m->endpoint, sizeof(m->endpoint), "http://127.0.0.1:%u/v1", (unsigned)info->port);
    return m;
}

static void free_request_fields(struct mock_request *r)
{
    free(r->method);
    free(r->path);
    free(r->authorization);
    free(r->content_type);
    free(r->body);
}

void mock_upstream_stop(struct mock_upstream *m)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (m->daemon != NULL) {
        MHD_stop_daemon(m->daemon);
    }
    for (size_t i = 0; i < m->nrecs; i++) {
        free_request_fields(&m->recs[i].req);
    }
    free(m->recs);
    for (size_t i = 0; i < m->npushed; i++) {
        free_reply(&m->pushed[i]);
    }
    free(m->pushed);
    free_reply(&m->def);
    free(m->refuse);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

const char *mock_upstream_endpoint(struct mock_upstream *m)
{
    return m->endpoint;
}

void mock_upstream_push_reply(struct mock_upstream *m, struct mock_reply reply)
{
    pthread_mutex_lock(&m->lock);
    m->pushed = gw_realloc(m->pushed, (m->npushed + 1) * sizeof(*m->pushed));
    m->pushed[m->npushed++] = copy_reply(reply);
    pthread_mutex_unlock(&m->lock);
}

void mock_upstream_set_default(struct mock_upstream *m, struct mock_reply reply)
{
    pthread_mutex_lock(&m->lock);
    free_reply(&m->def);
    m->def = copy_reply(reply);
    pthread_mutex_unlock(&m->lock);
}

void mock_upstream_refuse_containing(struct mock_upstream *m, const char *needle)
{
    pthread_mutex_lock(&m->lock);
    free(m->refuse);
    m->refuse = dup_or_null(needle);
    pthread_mutex_unlock(&m->lock);
}

size_t mock_upstream_count(struct mock_upstream *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->nrecs;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* Waits until *counter >= n; false on timeout. */
static bool wait_for(struct mock_upstream *m, const size_t *counter, size_t n, unsigned timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&m->lock);
    while (*counter < n && !passed(&until)) {
        pthread_cond_timedwait(&m->cond, &m->lock, &until);
    }
    bool ok = *counter >= n;
    pthread_mutex_unlock(&m->lock);
    return ok;
}

bool mock_upstream_wait(struct mock_upstream *m, size_t n, unsigned timeout_ms)
{
    return wait_for(m, &m->nrecs, n, timeout_ms);
}

bool mock_upstream_wait_calls(struct mock_upstream *m, size_t n, unsigned timeout_ms)
{
    return wait_for(m, &m->accepted, n, timeout_ms);
}

struct mock_request *mock_upstream_request(struct mock_upstream *m, size_t i)
{
    struct mock_request *r = NULL;
    pthread_mutex_lock(&m->lock);
    if (i < m->nrecs) {
        const struct mock_request *src = &m->recs[i].req;
        r = gw_calloc(1, sizeof(*r));
        *r = *src;
        r->method = gw_strdup(src->method);
        r->path = gw_strdup(src->path);
        r->authorization = dup_or_null(src->authorization);
        r->content_type = dup_or_null(src->content_type);
        r->body = dup_bytes(src->body, src->body_len);
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

void mock_request_free(struct mock_request *r)
{
    if (r == NULL) {
        return;
    }
    free_request_fields(r);
    free(r);
}

static void add_calls(json_object *out, const char *body)
{
    json_object *root = json_tokener_parse(body);
    json_object *batch = NULL;
    if (root != NULL && json_object_object_get_ex(root, "batch", &batch) &&
        json_object_is_type(batch, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(batch); i++) {
            json_object_array_add(out, json_object_get(json_object_array_get_idx(batch, i)));
        }
    }
    json_object_put(root);
}

json_object *mock_upstream_accepted_calls(struct mock_upstream *m)
{
    json_object *out = json_object_new_array();
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nrecs; i++) {
        if (m->recs[i].delivered) {
            add_calls(out, m->recs[i].req.body);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return out;
}
