/* framing.h -- is a request's message framing sound? Content-Length and
 * Transfer-Encoding checked as strictly as nginx does, once the headers are
 * complete and before any body is read: the lengths a proxy in front and
 * this daemon compute must never differ (request smuggling).
 * SPDX-License-Identifier: MIT */
#ifndef GW_FRAMING_H
#define GW_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_framing {
    int status;          /* 0: sound; 400 or 501 (an unknown transfer coding) */
    const char *message; /* static: why, when status != 0 */
    bool chunked;        /* Transfer-Encoding: chunked */
    bool has_length;     /* one valid Content-Length */
    uint64_t length;     /* its value */
};

/* Checks the request line's version ("HTTP/1.1") and its n headers, as
 * name[i]: value[i] (values without surrounding blanks, as libmicrohttpd
 * gives them). Pure: no allocation, no global state. */
void gw_framing_check(const char *version, const char *const *name, const char *const *value,
                      size_t n, struct gw_framing *out);

#endif
