/* inflate.h -- request bodies sent with Content-Encoding gzip or deflate,
 * inflated by zlib into a bounded buffer.
 * SPDX-License-Identifier: MIT */
#ifndef GW_INFLATE_H
#define GW_INFLATE_H

#include <stddef.h>

#include "buf.h"
#include "rc.h"

/* One body being inflated; opaque. */
struct gw_inflate;

/* Starts inflating a body sent with the Content-Encoding header value coding
 * (borrowed; NULL, "" and "identity" copy the body as it is). Taken, in any
 * case and with surrounding blanks: "gzip" and "x-gzip" (one or more gzip
 * members, one after the other), "deflate" (zlib-wrapped as RFC 9110 says, or
 * raw deflate as some senders do; told apart by the zlib header). Not taken:
 * any other coding and lists of codings ("gzip, br"): GW_ERR_UNSUPPORTED, the
 * server's 415. Returns GW_OK and *out (new; gw_inflate_destroy) on success. */
enum gw_rc gw_inflate_create(const char *coding, struct gw_inflate **out) GW_WUR;

/* Inflates the next n bytes of the body (borrows in) and appends what they
 * give to out. out's max is the cap on the INFLATED size: past it the result
 * is GW_ERR_TOO_LARGE and nothing more is inflated. A corrupt stream, or bytes
 * after the end of a zlib or raw deflate stream, give GW_ERR_INVALID. After an
 * error every later call returns the same error; out then holds part of the
 * body, which the caller throws away. */
enum gw_rc gw_inflate_feed(struct gw_inflate *z, const void *in, size_t n,
                           struct gw_buf *out) GW_WUR;

/* Called once the whole body was fed: GW_OK when the stream ended cleanly,
 * GW_ERR_INVALID when it is truncated (or empty for gzip and deflate), else
 * the error an earlier feed returned. */
enum gw_rc gw_inflate_finish(struct gw_inflate *z) GW_WUR;

/* Frees z; NULL is a no-op. */
void gw_inflate_destroy(struct gw_inflate *z);

/* A body read piece by piece: creates *z for coding (borrowed) on the first
 * call (*z NULL), then feeds it n bytes of in, as gw_inflate_create and
 * gw_inflate_feed; the caller destroys *z. */
enum gw_rc gw_inflate_body_feed(struct gw_inflate **z, const char *coding, const void *in,
                                size_t n, struct gw_buf *out) GW_WUR;

/* The body read whole: gw_inflate_finish, *z created first when no byte
 * came (so that a coding sent with no body is refused as for any body). */
enum gw_rc gw_inflate_body_finish(struct gw_inflate **z, const char *coding) GW_WUR;

/* The whole of create, feed and finish for a body already in memory (borrows
 * coding and in): out gets the inflated body, within its max. */
enum gw_rc gw_inflate_all(const char *coding, const void *in, size_t n, struct gw_buf *out) GW_WUR;

#endif
