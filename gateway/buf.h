/* buf.h -- bounded growable byte buffer (after curl's dynbuf).
 * SPDX-License-Identifier: MIT */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <stddef.h>

#include "rc.h"

/* Embedded by value. The content is always NUL-terminated when ptr != NULL. */
struct gw_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass this fail with GW_ERR_TOO_LARGE */
};

void gw_buf_init(struct gw_buf *b, size_t max);
/* Frees the content; a zeroed or already-finished buffer is a no-op. */
void gw_buf_fini(struct gw_buf *b);
void gw_buf_reset(struct gw_buf *b);
/* Append n bytes (borrows p). On GW_ERR_TOO_LARGE nothing is appended. */
enum gw_rc gw_buf_add_grow(struct gw_buf *b, const void *p, size_t n) GW_WUR;
/* gw_buf_add_grow, inline while the bytes fit: the JSON writers append a
 * byte or two at a time. */
static inline GW_WUR enum gw_rc gw_buf_add(struct gw_buf *b, const void *p, size_t n)
{
    if (n < b->cap - b->len && n <= b->max - b->len && n <= 16) {
        char *o = b->ptr + b->len;
        for (size_t i = 0; i < n; i++) {
            o[i] = ((const char *)p)[i];
        }
        b->len += n;
        o[n] = '\0';
        return GW_OK;
    }
    return gw_buf_add_grow(b, p, n);
}
/* Makes room for n more bytes (and the NUL), growing by doubling, so that
 * a writer may fill ptr + len directly and then advance len. On
 * GW_ERR_TOO_LARGE nothing changes. */
enum gw_rc gw_buf_room_grow(struct gw_buf *b, size_t n) GW_WUR;
/* gw_buf_room_grow, inline when the room is there. */
static inline GW_WUR enum gw_rc gw_buf_room(struct gw_buf *b, size_t n)
{
    if (n < b->cap - b->len && n <= b->max - b->len) {
        return GW_OK;
    }
    return gw_buf_room_grow(b, n);
}
/* Makes room for n more bytes at once (a body of a known length), when n
 * is within max; otherwise a no-op, and appends grow as they go. */
void gw_buf_reserve(struct gw_buf *b, size_t n);
enum gw_rc gw_buf_adds(struct gw_buf *b, const char *s) GW_WUR;
enum gw_rc gw_buf_printf(struct gw_buf *b, const char *fmt, ...) GW_WUR GW_PRINTF(2, 3);
/* Returns the content (new memory, caller frees) and leaves b empty. */
char *gw_buf_detach(struct gw_buf *b);
/* Returns the content, borrowed: valid until the next change; "" when empty. */
const char *gw_buf_str(const struct gw_buf *b);

#endif
