/* admin_int.h -- what admin.c (lifecycle, listener, sampler) and routes.c
 * (the handlers) share; not for other modules.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ADMIN_INT_H
#define GW_ADMIN_INT_H

#include <json-c/json.h>
#include <pthread.h>

#include "../relay/relay.h"
#include "admin.h"

/* Relay samples kept: one a second, ten minutes. */
#define GW_ADMIN_SAMPLES 600

struct gw_admin_sample {
    int64_t t_ms;
    uint64_t queued, queued_bytes, relayed, requests, retries, dropped, dead;
    uint64_t timed, time_us; /* upstream requests timed, their durations summed */
    uint64_t retried[GW_RELAY_RETRY_CAUSES];
};

struct gw_admin {
    char *listen;
    char *token;
    size_t max_requests, max_bytes;
    bool on_main;
    char *spool_dir;
    struct gw_admin_ring *ring;
    struct gw_admin_sse *sse;
    struct gw_relay *relay;
    struct gw_spool *spool;
    /* replays hold it shared while they use rt; set_runtime exclusive */
    pthread_rwlock_t rt_lock;
    const struct gw_runtime *rt;
    pthread_mutex_t replay_lock; /* one replay at a time */
    struct MHD_Daemon *mhd;      /* the listener of its own, or NULL */
    /* the sampler thread and its samples, a circle under lock */
    pthread_t sampler;
    bool sampling;
    bool stopping;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct gw_admin_sample samples[GW_ADMIN_SAMPLES];
    size_t n_samples, next_sample;
};

/* The page and the examples, generated at build time (embed.py). */
extern const unsigned char gw_admin_page[];
extern const size_t gw_admin_page_len;
extern const unsigned char gw_admin_examples[];
extern const size_t gw_admin_examples_len;

/* Queues body (takes it) as a JSON answer; *status receives status. */
enum MHD_Result gw_admin_send_json(struct MHD_Connection *c, int status, json_object *body,
                                   int *out_status);

/* The routes, once authorized: see gw_admin_handle. */
enum MHD_Result gw_admin_route(struct gw_admin *a, struct MHD_Connection *c, const char *url,
                               const char *method, const char *body, size_t len, int *status);

#endif
