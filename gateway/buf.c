/* buf.c -- bounded growable byte buffer.
 * SPDX-License-Identifier: MIT */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void gw_buf_init(struct gw_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gw_buf_fini(struct gw_buf *b)
{
    GW_FREE(b->ptr);
    b->len = 0;
    b->cap = 0;
}

void gw_buf_reset(struct gw_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) {
        b->ptr[0] = '\0';
    }
}

enum gw_rc gw_buf_room_grow(struct gw_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n) {
        return GW_ERR_TOO_LARGE;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        b->ptr = gw_realloc(b->ptr, cap);
        b->cap = cap;
    }
    return GW_OK;
}

enum gw_rc gw_buf_add_grow(struct gw_buf *b, const void *p, size_t n)
{
    enum gw_rc rc = gw_buf_room(b, n);
    if (rc != GW_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->ptr + b->len, p, n);
    }
    b->len += n;
    b->ptr[b->len] = '\0';
    return GW_OK;
}

void gw_buf_reserve(struct gw_buf *b, size_t n)
{
    if (n <= b->max && b->len + n + 1 > b->cap) {
        b->cap = b->len + n + 1;
        b->ptr = gw_realloc(b->ptr, b->cap);
        b->ptr[b->len] = '\0';
    }
}

enum gw_rc gw_buf_adds(struct gw_buf *b, const char *s)
{
    return gw_buf_add(b, s, strlen(s));
}

enum gw_rc gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return GW_ERR_INVALID;
    }
    if ((size_t)n < sizeof(small)) {
        return gw_buf_add(b, small, (size_t)n);
    }
    char *big = gw_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    enum gw_rc rc = gw_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

char *gw_buf_detach(struct gw_buf *b)
{
    char *p = b->ptr ? b->ptr : gw_strdup("");
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *gw_buf_str(const struct gw_buf *b)
{
    return b->ptr ? b->ptr : "";
}
