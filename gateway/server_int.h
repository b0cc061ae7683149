/* server_int.h -- what server.c (libmicrohttpd's callbacks, routing,
 * bodies) and post.c (the POSTs) share: the server, a request's state and
 * the answers' helpers. Internal to the two.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SERVER_INT_H
#define GW_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "cors.h"
#include "ingest.h"
#include "server.h"

struct gw_server {
    struct MHD_Daemon *mhd;
    /* Requests hold it shared while they use ing; a reload takes it
     * exclusive to swap ing, so no request sees half of each. */
    pthread_rwlock_t lock;
    const struct gw_ingest *ing;
    struct gw_server_opts opts;
    struct gw_conns *conns; /* trusted proxies, per-peer caps, read deadlines */
    uint16_t port;
    atomic_uint in_flight;
    atomic_uint committing; /* POSTs whose commit has not called back yet */
    atomic_bool draining;
    struct gw_climit *clients; /* requests in progress per resolved client */
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
    const char *cause; /* static: why a request failed, or NULL */
    char api[16];      /* a /v1 endpoint name, or empty */
    char cors[GW_CORS_ORIGIN_MAX]; /* the Origin, when api.cors_origins lists it */
    bool vary_origin;  /* a /v1 answer: it depends on Origin */
    struct gw_inflate *inflate; /* the body's Content-Encoding, from its first byte */
    enum gw_rc body_rc; /* GW_ERR_UNSUPPORTED (415) or GW_ERR_INVALID (400) of the coding */
    size_t events;
    size_t ignored;
    bool dry_run;
    char client[64];
    bool peer_trusted; /* the peer is a trusted proxy */
    bool close;          /* answer with Connection: close */
    bool client_counted; /* in s->clients */
    bool lingering;      /* a refused body being read and discarded */
    uint64_t discarded;
    struct timespec linger_start;
    /* A POST's result. Its calls may wait for the spool's group commit
     * (res.pending): the connection is suspended meanwhile, and the answer
     * is made when the commit calls back (see wait_commit). */
    struct gw_ingest_res res;
    char *user; /* the Basic auth user, for the debugger, while it waits */
    struct gw_server *srv;
    struct MHD_Connection *c;
    atomic_int commit_state;
    enum gw_rc commit_rc;
};

enum { COMMIT_QUEUED, COMMIT_SUSPENDED, COMMIT_DONE };

/* What a 503 asks the partner to wait before it retries. */
#define RETRY_AFTER_S 5

/* Milliseconds since start (CLOCK_MONOTONIC). */
double gw_server_elapsed_ms(const struct timespec *start);
/* Answers status with answer (taken), and Retry-After when retry_s > 0,
 * Allow when allow is set. */
enum MHD_Result gw_server_send_json(struct MHD_Connection *c, struct conn *cn, int status,
                                    json_object *answer, unsigned retry_s, const char *allow);
/* Answers status with {"success":false,"error":code,"message":msg}. */
enum MHD_Result gw_server_respond_error(struct MHD_Connection *c, struct conn *cn, int status,
                                        const char *code, const char *msg, const char *allow);
/* A request header or query parameter of the connection arg, or NULL. */
const char *gw_server_header(void *arg, const char *name);
const char *gw_server_query(void *arg, const char *name);
/* "1", "true" or "yes". */
bool gw_server_truthy(const char *v);

/* post.c: a POST to /webhooks/{source} (api NULL) or /v1/{api} once its
 * body is read; and its answer once its commit called back. */
enum MHD_Result gw_post_handle(struct gw_server *s, struct MHD_Connection *c, struct conn *cn,
                               const char *source, const char *api);
enum MHD_Result gw_post_finish(struct gw_server *s, struct MHD_Connection *c, struct conn *cn);

#endif
