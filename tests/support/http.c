/* http.c -- a real libcurl client for the tests.
 * SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gw_test.h"
#include "mem.h"

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
    struct gw_buf *b = arg;
    return gw_buf_add(b, p, size * n) == GW_OK ? size * n : 0;
}

long http_request(const char *method, const char *url, const char *const *headers,
                  const char *body, size_t len, struct http_resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    struct gw_buf rb, hb;
    gw_buf_init(&rb, 64u << 20);
    gw_buf_init(&hb, 1u << 20);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        hl = curl_slist_append(hl, headers[i]);
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    out->body = gw_buf_detach(&rb);
    out->headers = gw_buf_detach(&hb);
    out->json = json_tokener_parse(out->body);
    return out->status;
}

void http_resp_fini(struct http_resp *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof(*r));
}

char *http_resp_header(const struct http_resp *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line != NULL && *line; ) {
        const char *eol = strchr(line, '\n');
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            v += strspn(v, " \t");
            size_t len = eol ? (size_t)(eol - v) : strlen(v);
            while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == ' ')) {
                len--;
            }
            return gw_strndup(v, len);
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}
