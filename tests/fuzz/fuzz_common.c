/* fuzz_common.c -- helpers shared by the fuzz harnesses (see fuzz_common.h).
 * SPDX-License-Identifier: MIT */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

#ifndef GW_SOURCE_ROOT
#define GW_SOURCE_ROOT "."
#endif

char *fuzz_strndup(const char *p, size_t n)
{
    char *s = gw_malloc(n + 1);
    if (n > 0) {
        memcpy(s, p, n);
    }
    s[n] = '\0';
    return s;
}

/* Finds the first empty line: "\n\n" or "\n\r\n"; returns the offset of the
 * body after it, or 0 when there is none. */
static size_t body_offset(const char *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (d[i] != '\n') {
            continue;
        }
        if (d[i + 1] == '\n') {
            return i + 2;
        }
        if (d[i + 1] == '\r' && i + 2 < n && d[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

void fuzz_headers_parse(struct fuzz_headers *h, const char *data, size_t size)
{
    memset(h, 0, sizeof(*h));
    size_t off = 0;
    if (size > 0 && data[0] == '\n') {
        off = 1; /* no headers */
    } else if (size > 1 && data[0] == '\r' && data[1] == '\n') {
        off = 2;
    } else {
        off = body_offset(data, size);
    }
    h->body = data + off;
    h->len = size - off;
    h->text = fuzz_strndup(data, off);
    for (char *line = h->text; line != NULL && *line != '\0' && h->n < FUZZ_MAX_HEADERS;) {
        char *eol = line + strcspn(line, "\r\n");
        char *next = *eol != '\0' ? eol + 1 : NULL;
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon == line && colon != NULL) {
            colon = strchr(line + 1, ':'); /* a pseudo-header: ":url: ..." */
        }
        if (colon != NULL) {
            *colon = '\0';
            h->name[h->n] = line;
            h->value[h->n++] = colon + 1 + strspn(colon + 1, " \t");
        }
        line = next;
    }
}

void fuzz_headers_fini(struct fuzz_headers *h)
{
    free(h->text);
    h->text = NULL;
}

const char *fuzz_header_cb(void *arg, const char *name)
{
    const struct fuzz_headers *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->name[i], name) == 0) {
            return h->value[i];
        }
    }
    return NULL;
}

const char *fuzz_query_cb(void *arg, const char *name)
{
    const struct fuzz_headers *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        if (h->name[i][0] == '?' && strcmp(h->name[i] + 1, name) == 0) {
            return h->value[i];
        }
    }
    return NULL;
}

char *fuzz_root_path(const char *rel)
{
    const char *root = getenv("GW_SOURCE_ROOT");
    if (root == NULL || root[0] == '\0') {
        root = GW_SOURCE_ROOT;
    }
    return gw_asprintf("%s/%s", root, rel);
}

char *fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = gw_malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = gw_realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return buf;
}

static const struct {
    const char *scheme;
    const char *secret;
} secrets[] = {
    {"github", "It's a Secret to Everybody"},
    {"stripe", "whsec_test_secret"},
    {"shopify", "hush"},
    {"twilio", "12345"},
    {"sendgrid", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3"
                 "GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="},
    {"mailgun", "key-0p6mqbf74lb20gzq9f4dhpn9rg3zyk26"},
    {"mandrill", "TEST_WEBHOOK_KEY"},
    {"hubspot", "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"},
    {"typeform", "typeform-test-secret"},
    {"basic", "user:pass"},
    {"paddle", "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI"},
    {"calendly", "calendly-test-signing-key"},
    {"zendesk", "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="},
    {"customerio", "customerio-test-signing-key"},
};

const char *fuzz_test_secret(const char *scheme)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (strcmp(secrets[i].scheme, scheme) == 0) {
            return secrets[i].secret;
        }
    }
    return "fuzz-secret";
}
