/* sse.c -- Server-Sent Events from the ring, on suspended connections.
 * SPDX-License-Identifier: MIT */
#include "sse.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../mem.h"
#include "ring.h"

/* The largest event: a summary holds at most a URL path (8 KiB by default,
 * 1 MiB at most) and a message. */
#define EVENT_MAX (2u << 20)
#define BLOCK 16384

struct stream {
    struct gw_admin_sse *hub;
    struct MHD_Connection *c;
    uint64_t last_id;
    unsigned beat_seen;
    bool suspended;
    struct gw_buf pending; /* what is still to write of the current event */
    size_t off;
    struct stream *prev, *next;
};

struct gw_admin_sse {
    pthread_mutex_t lock;
    struct gw_admin_ring *ring;
    struct stream *streams;
    size_t n;
    unsigned beat;
    bool closing;
};

struct gw_admin_sse *gw_admin_sse_create(struct gw_admin_ring *ring)
{
    struct gw_admin_sse *h = gw_calloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->ring = ring;
    return h;
}

void gw_admin_sse_destroy(struct gw_admin_sse *h)
{
    if (h == NULL) {
        return;
    }
    GW_ASSERT(h->streams == NULL);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* Fills st->pending with the next event, or a heartbeat; false when there
 * is nothing to say. Under the hub's lock. */
static bool next_event(struct stream *st)
{
    struct gw_admin_sse *h = st->hub;
    gw_buf_reset(&st->pending);
    st->off = 0;
    struct gw_buf data;
    gw_buf_init(&data, EVENT_MAX);
    uint64_t id = 0;
    bool found = gw_admin_ring_next(h->ring, st->last_id, &data, &id);
    if (found) {
        st->last_id = id;
        found = gw_buf_printf(&st->pending, "id: %llu\nevent: request\ndata: %s\n\n",
                              (unsigned long long)id, gw_buf_str(&data)) == GW_OK;
    } else if (st->beat_seen != h->beat) {
        st->beat_seen = h->beat;
        found = gw_buf_adds(&st->pending, ": keep-alive\n\n") == GW_OK;
    }
    gw_buf_fini(&data);
    return found;
}

static ssize_t on_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    struct gw_admin_sse *h = st->hub;
    pthread_mutex_lock(&h->lock);
    if (h->closing) {
        pthread_mutex_unlock(&h->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = 0;
    while (n < max && (st->off < st->pending.len || next_event(st))) {
        size_t k = st->pending.len - st->off;
        k = k < max - n ? k : max - n;
        memcpy(buf + n, gw_buf_str(&st->pending) + st->off, k);
        st->off += k;
        n += k;
    }
    if (n == 0) {
        /* nothing to send: give the worker back until notify, heartbeat
         * or close resumes it (MHD calls again at once after a 0) */
        st->suspended = true;
        MHD_suspend_connection(st->c);
    }
    pthread_mutex_unlock(&h->lock);
    return (ssize_t)n;
}

static void on_stream_free(void *cls)
{
    struct stream *st = cls;
    struct gw_admin_sse *h = st->hub;
    pthread_mutex_lock(&h->lock);
    if (st->prev != NULL) {
        st->prev->next = st->next;
    } else {
        h->streams = st->next;
    }
    if (st->next != NULL) {
        st->next->prev = st->prev;
    }
    h->n--;
    pthread_mutex_unlock(&h->lock);
    gw_buf_fini(&st->pending);
    free(st);
}

enum MHD_Result gw_admin_sse_open(struct gw_admin_sse *h, struct MHD_Connection *c,
                                  uint64_t after_id)
{
    struct stream *st = gw_calloc(1, sizeof(*st));
    st->hub = h;
    st->c = c;
    st->last_id = after_id;
    gw_buf_init(&st->pending, EVENT_MAX + 64);
    /* the browser reconnects after 1 s, with the last id it saw */
    GW_ASSERT(gw_buf_adds(&st->pending, "retry: 1000\n\n") == GW_OK);
    pthread_mutex_lock(&h->lock);
    bool closing = h->closing;
    st->beat_seen = h->beat;
    if (!closing) {
        st->next = h->streams;
        if (h->streams != NULL) {
            h->streams->prev = st;
        }
        h->streams = st;
        h->n++;
    }
    pthread_mutex_unlock(&h->lock);
    if (closing) {
        gw_buf_fini(&st->pending);
        free(st);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
        MHD_destroy_response(r);
        return ret;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK,
                                                               on_stream_read, st, on_stream_free);
    if (r == NULL) {
        on_stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Resumes every suspended stream. Takes the hub's lock to pick them, and
 * resumes outside it: MHD's own locks are never taken under ours here. A
 * picked stream stays suspended, so alive, until its resume; no one else
 * picks it meanwhile. */
static void resume_all(struct gw_admin_sse *h, unsigned beat, bool close)
{
    pthread_mutex_lock(&h->lock);
    h->beat += beat;
    h->closing = h->closing || close;
    struct MHD_Connection **picked = gw_calloc(h->n + 1, sizeof(*picked));
    size_t n = 0;
    for (struct stream *st = h->streams; st != NULL; st = st->next) {
        if (st->suspended) {
            st->suspended = false;
            picked[n++] = st->c;
        }
    }
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        MHD_resume_connection(picked[i]);
    }
    free(picked);
}

void gw_admin_sse_notify(struct gw_admin_sse *h)
{
    resume_all(h, 0, false);
}

void gw_admin_sse_heartbeat(struct gw_admin_sse *h)
{
    resume_all(h, 1, false);
}

void gw_admin_sse_close(struct gw_admin_sse *h)
{
    resume_all(h, 0, true);
}

size_t gw_admin_sse_count(struct gw_admin_sse *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}
