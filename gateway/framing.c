/* framing.c -- Content-Length and Transfer-Encoding, as strict as nginx.
 *
 * libmicrohttpd 0.9.75 (parse_connection_headers) believes the first
 * Transfer-Encoding and ignores Content-Length when one is present; any
 * coding but exactly "chunked" makes it read the body until the peer
 * closes; it looks at the first Content-Length only. Each of these is a
 * way for a proxy in front and this daemon to disagree on where a request
 * ends, so each is refused here before a byte of body is read:
 *   - a header name that is not an RFC 9110 token ("Content-Length :"),
 *     a value with a control character: 400
 *   - Transfer-Encoding twice, with Content-Length, or in HTTP/1.0: 400
 *   - a transfer coding other than "chunked" ("xchunked", "chunked, gzip",
 *     "identity"): 501
 *   - Content-Length twice (even equal: nginx says "duplicate header
 *     line"), or not 1 to 18 digits (sign, blanks, hex, overflow): 400
 * SPDX-License-Identifier: MIT */
#include "framing.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static bool is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum && strchr(extra, ch) == NULL) {
            return false;
        }
    }
    return true;
}

/* No CR, LF, NUL or other control character but HTAB. */
static bool is_field_value(const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return false;
        }
    }
    return s != NULL;
}

/* The value without leading and trailing blanks (SP, HTAB), as [*b, *e). */
static void trim(const char *v, const char **b, const char **e)
{
    *b = v + strspn(v, " \t");
    *e = *b + strlen(*b);
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) {
        (*e)--;
    }
}

/* 1 to 18 decimal digits (below 10^18: no overflow in any integer type
 * the length meets). */
static bool parse_length(const char *v, uint64_t *out)
{
    const char *b, *e;
    trim(v, &b, &e);
    size_t n = (size_t)(e - b);
    if (n == 0 || n > 18) {
        return false;
    }
    uint64_t x = 0;
    for (const char *p = b; p < e; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return true;
}

static void fail(struct gw_framing *out, int status, const char *message)
{
    out->status = status;
    out->message = message;
}

void gw_framing_check(const char *version, const char *const *name, const char *const *value,
                      size_t n, struct gw_framing *out)
{
    memset(out, 0, sizeof(*out));
    size_t n_te = 0, n_cl = 0;
    const char *te = NULL, *cl = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!is_token(name[i])) {
            fail(out, 400, "a header name is not a token (blank or separator in it)");
            return;
        }
        if (!is_field_value(value[i])) {
            fail(out, 400, "a header value holds a control character");
            return;
        }
        if (strcasecmp(name[i], "Transfer-Encoding") == 0) {
            n_te++;
            te = value[i];
        } else if (strcasecmp(name[i], "Content-Length") == 0) {
            n_cl++;
            cl = value[i];
        }
    }
    if (n_te > 1) {
        fail(out, 400, "Transfer-Encoding is given more than once");
        return;
    }
    if (n_cl > 1) {
        fail(out, 400, "Content-Length is given more than once");
        return;
    }
    if (te != NULL) {
        if (cl != NULL) {
            fail(out, 400, "both Content-Length and Transfer-Encoding are given");
            return;
        }
        if (version == NULL || strcmp(version, "HTTP/1.1") != 0) {
            fail(out, 400, "Transfer-Encoding is given in a request older than HTTP/1.1");
            return;
        }
        const char *b, *e;
        trim(te, &b, &e);
        if ((size_t)(e - b) != 7 || strncasecmp(b, "chunked", 7) != 0) {
            fail(out, 501, "the only transfer coding accepted is chunked");
            return;
        }
        out->chunked = true;
        return;
    }
    if (cl != NULL) {
        if (!parse_length(cl, &out->length)) {
            fail(out, 400, "Content-Length is not a decimal number of bytes");
            return;
        }
        out->has_length = true;
    }
}
