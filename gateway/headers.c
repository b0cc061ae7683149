/* headers.c -- what the server reads from a request's headers as
 * libmicrohttpd holds them: the request id, the headers less credentials,
 * X-Forwarded-For joined, their count, and the framing check with obs-fold.
 * SPDX-License-Identifier: MIT */
#include "headers.h"

#include <json-c/json.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "log.h"
#include "mem.h"

/* Keeps a caller's X-Request-Id when it is short and plain, else makes one. */
void gw_headers_request_id(struct MHD_Connection *c, char *out, size_t len)
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given != NULL && given[0] != '\0' && strlen(given) < len &&
        strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") ==
            strlen(given)) {
        snprintf(out, len, "%s", given);
        return;
    }
    /* 64 bits from a per-thread splitmix64 sequence seeded from OpenSSL's
     * generator once: distinct per request, without a call into the
     * generator (and its locks) each time. An id names a request; it is no
     * secret (every answer echoes it in X-Request-Id). */
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&state, sizeof(state)) != 1) {
            gw_fatal("no randomness for request ids");
        }
        seeded = true;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    for (; i < 16 && i + 1 < len; i++) {
        out[i] = hex[(z >> (60 - 4 * i)) & 15];
    }
    if (len > 0) {
        out[i] = '\0';
    }
}

static int add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    static const char *const secret[] = {"Authorization", "Proxy-Authorization", "Cookie"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (strcasecmp(key, secret[i]) == 0) {
            return MHD_YES;
        }
    }
    json_object_object_add(cls, key, json_object_new_string(value ? value : ""));
    return MHD_YES;
}

/* The request's headers but credentials, as JSON text (new): kept with a
 * refused request so that its replay sees what the rules may read. */
char *gw_headers_json(void *arg)
{
    json_object *o = json_object_new_object();
    MHD_get_connection_values(arg, MHD_HEADER_KIND, (MHD_KeyValueIterator)add_header, o);
    char *s = gw_strdup(gw_json_compact(o, NULL));
    json_object_put(o);
    return s;
}

/* Every X-Forwarded-For line joined in order, as one list: a proxy such
 * as HAProxy (option forwardfor) adds a line of its own after the
 * client's, so the first line alone is the client's word. Past the
 * buffer, the nearest hops (the right end) are kept. */
struct xff {
    char text[1024];
    size_t len;
    bool any;
};

static int add_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct xff *x = cls;
    if (strcasecmp(key, "X-Forwarded-For") != 0 || value == NULL) {
        return MHD_YES;
    }
    char joined[2 * sizeof(x->text)];
    size_t n = x->len;
    memcpy(joined, x->text, n);
    if (x->any) {
        joined[n++] = ',';
    }
    size_t vlen = strlen(value);
    size_t take = vlen < sizeof(joined) - n - 1 ? vlen : sizeof(joined) - n - 1;
    memcpy(joined + n, value + (vlen - take), take);
    n += take;
    size_t from = n >= sizeof(x->text) ? n - (sizeof(x->text) - 1) : 0;
    memcpy(x->text, joined + from, n - from);
    x->len = n - from;
    x->text[x->len] = '\0';
    x->any = true;
    return MHD_YES;
}


bool gw_headers_xff(struct MHD_Connection *c, char *out, size_t len)
{
    struct xff x = {.len = 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)add_xff, &x);
    snprintf(out, len, "%s", x.text);
    return x.any;
}

static int count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (*(unsigned *)cls)++;
    return MHD_YES;
}

unsigned gw_headers_count(struct MHD_Connection *c)
{
    unsigned n = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)count_header, &n);
    return n;
}

struct header_list {
    const char **name;
    const char **value;
    size_t n, cap;
    bool folded;
};

/* libmicrohttpd 0.9.75 joins an obs-fold continuation line to the header's
 * NAME ("Transfer-Encoding:" CRLF " chunked" becomes a header named
 * "Transfer-Encodingchunked"), in memory of its own. A header MHD left in
 * place is "name" NUL blanks "value" in its read buffer; one it moved was
 * folded, which RFC 9112 lets a server refuse (nginx does: 400). */
static bool line_intact(const char *key, const char *value)
{
    uintptr_t k = (uintptr_t)key, v = (uintptr_t)value, end = k + strlen(key) + 1;
    if (v < end || v - end > 64) {
        return false;
    }
    for (const char *p = key + (end - k); p < value; p++) {
        if (*p != ' ' && *p != '\t') {
            return false;
        }
    }
    return true;
}

static int list_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct header_list *l = cls;
    if (value != NULL && !line_intact(key, value)) {
        l->folded = true;
    }
    if (l->n < l->cap) {
        l->name[l->n] = key;
        l->value[l->n++] = value != NULL ? value : "";
    }
    return MHD_YES;
}

/* The message framing (gateway/framing.c) of the request whose n headers
 * MHD holds. */
void gw_headers_framing(struct MHD_Connection *c, const char *version, unsigned n,
                        struct gw_framing *f)
{
    struct header_list l = {.name = gw_calloc(n + 1, sizeof(char *)),
                            .value = gw_calloc(n + 1, sizeof(char *)), .cap = n};
    MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)list_header, &l);
    gw_framing_check(version, l.name, l.value, l.n, f);
    if (f->status == 0 && l.folded) {
        f->status = 400;
        f->message = "a header line is folded (obs-fold)";
    }
    free(l.name);
    free(l.value);
}
