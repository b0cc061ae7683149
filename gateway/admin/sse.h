/* sse.h -- the debugger's live stream: Server-Sent Events of the requests
 * the ring records, one event per request, resumable by Last-Event-ID.
 * A stream with nothing to send is suspended (it holds no worker thread)
 * and resumed when a request is recorded, for a heartbeat, or to close.
 * The daemon serving it must be started with MHD_ALLOW_SUSPEND_RESUME and
 * MHD_USE_ITC.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ADMIN_SSE_H
#define GW_ADMIN_SSE_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct gw_admin_ring;
struct gw_admin_sse;

/* Returns a new hub over ring (borrowed; must outlive it). */
struct gw_admin_sse *gw_admin_sse_create(struct gw_admin_ring *ring);
/* Frees; every stream must have ended (gw_admin_sse_close, then the
 * daemons stopped). NULL is a no-op. */
void gw_admin_sse_destroy(struct gw_admin_sse *h);

/* Queues on c a stream of the ring's entries above after_id (0: all it
 * holds), then each new one. 503 once closing. */
enum MHD_Result gw_admin_sse_open(struct gw_admin_sse *h, struct MHD_Connection *c,
                                  uint64_t after_id);

/* Wakes the suspended streams: an entry was recorded. Thread-safe. */
void gw_admin_sse_notify(struct gw_admin_sse *h);

/* Has every stream write a comment line, so that proxies and MHD's idle
 * timeout keep it open and a gone client is noticed. Thread-safe. */
void gw_admin_sse_heartbeat(struct gw_admin_sse *h);

/* Ends every stream and refuses new ones: a drain is not held up by them. */
void gw_admin_sse_close(struct gw_admin_sse *h);

/* Open streams. */
size_t gw_admin_sse_count(struct gw_admin_sse *h);

#endif
