/* admin.h -- the debugger page and its admin routes: the live stream of
 * requests, one request opened, the relay's numbers, the dead letters and
 * their replay on the running daemon.
 *
 * Where it is served: on the main listener when that is a loopback address
 * (gw_admin_loopback), and on opts.listen, a listener of its own serving
 * only these routes, when set. With opts.token every route wants
 * "Authorization: Bearer <token>"; /admin/events also takes ?token=, as
 * the browser's EventSource cannot set a header.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"
#include "ring.h"

struct gw_admin;
struct gw_ingest;
struct gw_ingest_req;
struct gw_ingest_res;
struct gw_relay;
struct gw_runtime;
struct gw_spool;

struct gw_admin_opts {
    const char *listen;  /* "127.0.0.1:9091": a second listener, or NULL */
    const char *token;   /* required as a Bearer token, or NULL */
    bool on_main;        /* gw_admin_handle serves the routes (the main listener is loopback) */
    const char *spool_dir; /* the spool's real path: a remote replay names it, or NULL */
    size_t max_requests; /* requests kept for the page (admin.max_requests) */
    size_t max_bytes;    /* bytes kept for the page (admin.max_bytes) */
};

/* Clears o: not on the main listener, no listener of its own, no token;
 * the ring's bounds must be set (their defaults are admin.* settings rows). */
void gw_admin_opts_init(struct gw_admin_opts *o);

/* Returns a new admin module. relay and spool (borrowed, may be NULL in a
 * dry run) must outlive it; opts is copied. Starts a thread sampling the
 * relay every second. */
struct gw_admin *gw_admin_create(const struct gw_admin_opts *opts, struct gw_relay *relay,
                                 struct gw_spool *spool);

/* The runtime replays run with (borrowed). Waits for a replay in progress,
 * so that the previous one may be freed when it returns. a NULL: no-op. */
void gw_admin_set_runtime(struct gw_admin *a, const struct gw_runtime *rt);

/* Starts opts.listen's listener when it is set; *port receives its port.
 * GW_OK with *port 0 when there is none to start. */
enum gw_rc gw_admin_listen(struct gw_admin *a, uint16_t *port) GW_WUR;

/* Keeps one answered request for the page and tells the open streams. A
 * top-level "writeKey" of a JSON body is kept as its fingerprint only. */
void gw_admin_record(struct gw_admin *a, const struct gw_admin_entry *e);

/* For the main listener: serves url when opts.on_main and url is /debugger
 * or under /admin/, with the request's body (borrowed); *ret is MHD's
 * result and *status the HTTP status. Returns false, touching nothing,
 * otherwise, and for a request that came through a proxy (via_proxy: its
 * peer is a trusted proxy; or it carries X-Forwarded-For or Forwarded). */
bool gw_admin_handle(struct gw_admin *a, struct MHD_Connection *c, bool via_proxy,
                     const char *url, const char *method, const char *body, size_t len,
                     enum MHD_Result *ret, int *status);

/* One answered POST, as the server saw it (all borrowed). */
struct gw_admin_post {
    const struct gw_ingest *ing;      /* the one the request ran on */
    const struct gw_ingest_req *req;  /* its credentials still alive */
    const struct gw_ingest_res *res;
    json_object *answer;              /* the answer body gw_server_answer made */
    int status;                       /* its HTTP status */
    const char *method, *uri, *api;   /* api: the /v1 endpoint's name, or NULL */
    const char *request_id;
    double duration_ms;
};

/* gw_admin_record for an answered POST: the write key as its fingerprint,
 * headers less credentials, the calls and violations of the result. Call
 * it while p->ing is in use (under the server's lock). */
void gw_admin_record_post(struct gw_admin *a, const struct gw_admin_post *p);

/* A body (len bytes) with every "writeKey" replaced by its fingerprint,
 * at any depth, as a new string (the first fingerprint goes to fp when that
 * is empty); a body that mentions writeKey but is not JSON is replaced
 * whole. NULL when there is nothing to hide. */
char *gw_admin_scrub(const char *body, size_t len, char fp[9]);

/* Ends the event streams and refuses new ones (before a drain). */
void gw_admin_close(struct gw_admin *a);

/* Stops its listener and frees. The main listener must be stopped first.
 * NULL is a no-op. */
void gw_admin_destroy(struct gw_admin *a);

/* True when listen ("127.0.0.1:8080", "[::1]:0", "localhost:80") names a
 * loopback address only; a wildcard or any other address is false. */
bool gw_admin_loopback(const char *listen);

/* Writes the first 8 hex digits of SHA-256(write_key) and a NUL to out:
 * a write key told apart without being shown. */
void gw_admin_fingerprint(const char *write_key, char out[9]);

#endif
