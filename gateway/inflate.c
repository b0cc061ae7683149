/* inflate.c -- gzip and deflate request bodies inflated by zlib, streaming,
 * with a hard cap on the inflated size.
 * SPDX-License-Identifier: MIT */
#include "inflate.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "mem.h"

enum kind { IDENTITY, GZIP, DEFLATE };

struct gw_inflate {
    z_stream zs;
    enum kind kind;
    bool started;          /* inflateInit2 done */
    bool ended;            /* the current stream (or gzip member) ended */
    unsigned char head[2]; /* deflate: the first bytes, zlib header or not */
    size_t nhead;
    enum gw_rc err; /* sticky: the first error */
};

/* Each step inflates into this much stack before appending to the buffer, so
 * a bomb costs at most the buffer's max plus one step. */
#define STEP 16384

static bool is_token(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

static enum gw_rc parse_coding(const char *coding, enum kind *out)
{
    if (coding == NULL) {
        *out = IDENTITY;
        return GW_OK;
    }
    const char *s = coding + strspn(coding, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    if (n == 0 || is_token(s, n, "identity")) {
        *out = IDENTITY;
    } else if (is_token(s, n, "gzip") || is_token(s, n, "x-gzip")) {
        *out = GZIP;
    } else if (is_token(s, n, "deflate")) {
        *out = DEFLATE;
    } else {
        return GW_ERR_UNSUPPORTED;
    }
    return GW_OK;
}

static enum gw_rc fail(struct gw_inflate *z, enum gw_rc rc)
{
    z->err = rc;
    return rc;
}

static enum gw_rc start(struct gw_inflate *z, int window_bits)
{
    int zrc = inflateInit2(&z->zs, window_bits);
    if (zrc != Z_OK) {
        return fail(z, zrc == Z_MEM_ERROR ? GW_ERR_NOMEM : GW_ERR_INVALID);
    }
    z->started = true;
    return GW_OK;
}

enum gw_rc gw_inflate_create(const char *coding, struct gw_inflate **out)
{
    enum kind kind;
    enum gw_rc rc = parse_coding(coding, &kind);
    if (rc != GW_OK) {
        return rc;
    }
    struct gw_inflate *z = gw_calloc(1, sizeof(*z));
    z->kind = kind;
    if (kind == GZIP) {
        /* 16 + MAX_WBITS: gzip only, so a zlib stream sent as gzip is refused. */
        rc = start(z, 16 + MAX_WBITS);
    }
    if (rc != GW_OK) {
        gw_inflate_destroy(z);
        return rc;
    }
    *out = z;
    return GW_OK;
}

/* Inflates what zs holds for input into out, step by step. A gzip member
 * that ends is followed by the next one; a zlib or raw stream that ends must
 * be the last thing in the body. */
static enum gw_rc run(struct gw_inflate *z, const unsigned char *in, size_t n, struct gw_buf *out)
{
    unsigned char step[STEP];
    z->zs.next_in = (unsigned char *)in;
    z->zs.avail_in = (uInt)n;
    bool pending = false; /* the last step filled up: zlib may hold more */
    while (z->zs.avail_in > 0 || (pending && !z->ended)) {
        if (z->ended) {
            if (z->kind != GZIP) {
                return fail(z, GW_ERR_INVALID);
            }
            if (inflateReset(&z->zs) != Z_OK) {
                return fail(z, GW_ERR_INVALID);
            }
            z->ended = false;
        }
        z->zs.next_out = step;
        z->zs.avail_out = sizeof(step);
        int zrc = inflate(&z->zs, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END) {
            z->ended = true;
        } else if (zrc == Z_BUF_ERROR && z->zs.avail_in == 0) {
            pending = false; /* nothing was pending after all */
        } else if (zrc != Z_OK) {
            return fail(z, zrc == Z_MEM_ERROR ? GW_ERR_NOMEM : GW_ERR_INVALID);
        }
        size_t got = sizeof(step) - z->zs.avail_out;
        enum gw_rc rc = gw_buf_add(out, step, got);
        if (rc != GW_OK) {
            return fail(z, rc);
        }
        pending = z->zs.avail_out == 0;
    }
    return GW_OK;
}

/* The zlib header (RFC 1950): method 8, a window of at most 32 KiB, and a
 * check making the first two bytes a multiple of 31. Raw deflate rarely
 * starts so; browsers tell the two apart the same way. */
static bool zlib_header(const unsigned char *h)
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

enum gw_rc gw_inflate_feed(struct gw_inflate *z, const void *in, size_t n, struct gw_buf *out)
{
    const unsigned char *p = in;
    if (z->err != GW_OK) {
        return z->err;
    }
    if (z->kind == IDENTITY) {
        enum gw_rc rc = gw_buf_add(out, in, n);
        return rc == GW_OK ? GW_OK : fail(z, rc);
    }
    if (n > UINT32_MAX) {
        return fail(z, GW_ERR_TOO_LARGE);
    }
    if (z->kind == DEFLATE && !z->started) {
        while (z->nhead < sizeof(z->head) && n > 0) {
            z->head[z->nhead++] = *p++;
            n--;
        }
        if (z->nhead < sizeof(z->head)) {
            return GW_OK;
        }
        enum gw_rc rc = start(z, zlib_header(z->head) ? MAX_WBITS : -MAX_WBITS);
        if (rc == GW_OK) {
            rc = run(z, z->head, sizeof(z->head), out);
        }
        if (rc != GW_OK) {
            return rc;
        }
    }
    return n > 0 ? run(z, p, n, out) : GW_OK;
}

enum gw_rc gw_inflate_finish(struct gw_inflate *z)
{
    if (z->err != GW_OK) {
        return z->err;
    }
    if (z->kind == IDENTITY) {
        return GW_OK;
    }
    return z->started && z->ended ? GW_OK : fail(z, GW_ERR_INVALID);
}

void gw_inflate_destroy(struct gw_inflate *z)
{
    if (z == NULL) {
        return;
    }
    if (z->started) {
        inflateEnd(&z->zs);
    }
    GW_FREE(z);
}

enum gw_rc gw_inflate_body_feed(struct gw_inflate **z, const char *coding, const void *in,
                                size_t n, struct gw_buf *out)
{
    enum gw_rc rc = *z == NULL ? gw_inflate_create(coding, z) : GW_OK;
    return rc == GW_OK ? gw_inflate_feed(*z, in, n, out) : rc;
}

enum gw_rc gw_inflate_body_finish(struct gw_inflate **z, const char *coding)
{
    enum gw_rc rc = *z == NULL ? gw_inflate_create(coding, z) : GW_OK;
    return rc == GW_OK ? gw_inflate_finish(*z) : rc;
}

enum gw_rc gw_inflate_all(const char *coding, const void *in, size_t n, struct gw_buf *out)
{
    struct gw_inflate *z = NULL;
    enum gw_rc rc = gw_inflate_create(coding, &z);
    if (rc != GW_OK) {
        return rc;
    }
    rc = gw_inflate_feed(z, in, n, out);
    if (rc == GW_OK) {
        rc = gw_inflate_finish(z);
    }
    gw_inflate_destroy(z);
    return rc;
}
