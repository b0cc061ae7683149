/* client.c -- replay through a running daemon's admin endpoint (libcurl).
 * SPDX-License-Identifier: MIT */
#include "client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../config.h"
#include "../json.h"
#include "../replay.h"
#include "admin.h"

/* A running daemon answers in well under this when it is there at all. */
#define CONNECT_MS 1000L

static size_t on_curl_write(char *data, size_t size, size_t n, void *arg)
{
    return gw_buf_add(arg, data, size * n) == GW_OK ? size * n : 0;
}

/* "http://HOST:PORT/admin/replay" for a listen address; a wildcard host is
 * reached on loopback. False for port 0 (nothing to reach). */
static bool replay_url(const char *listen, char *out, size_t len)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || strcmp(colon + 1, "0") == 0 || colon[1] == '\0') {
        return false;
    }
    int hlen = (int)(colon - listen);
    const char *host = listen;
    if (hlen == 0 || (hlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0)) {
        host = "127.0.0.1";
        hlen = 9;
    } else if (hlen == 4 && strncmp(listen, "[::]", 4) == 0) {
        host = "[::1]";
        hlen = 5;
    }
    int n = snprintf(out, len, "http://%.*s:%s/admin/replay", hlen, host, colon + 1);
    return n > 0 && (size_t)n < len;
}

static enum gw_rc read_answer(long status, const struct gw_buf *b, struct gw_replay_counts *c)
{
    json_object *o = json_tokener_parse(gw_buf_str(b));
    enum gw_rc rc = GW_ERR_UPSTREAM;
    if (status == 200 && o != NULL) {
        json_object *v = NULL;
        c->replayed =
            json_object_object_get_ex(o, "replayed", &v) ? (size_t)json_object_get_int64(v) : 0;
        c->failed =
            json_object_object_get_ex(o, "failed", &v) ? (size_t)json_object_get_int64(v) : 0;
        c->unverified =
            json_object_object_get_ex(o, "unverified", &v) ? (size_t)json_object_get_int64(v) : 0;
        const char *why = gw_json_get_str(o, "reason");
        snprintf(c->reason, sizeof(c->reason), "%s", why ? why : "");
        rc = GW_OK;
    } else {
        const char *why = o ? gw_json_get_str(o, "message") : NULL;
        snprintf(c->reason, sizeof(c->reason), "%ld %s", status, why ? why : "no answer");
    }
    json_object_put(o);
    return rc;
}

enum gw_rc gw_admin_replay_remote(const struct gw_config *cfg, const char *source,
                                  int64_t since_ms, bool include_unverified,
                                  struct gw_replay_counts *counts)
{
    char url[320];
    const char *listen = cfg->admin_listen;
    if (listen == NULL && gw_admin_loopback(cfg->listen)) {
        listen = cfg->listen;
    }
    /* only the daemon on this very spool may replay it */
    char spool[PATH_MAX];
    if (listen == NULL || !replay_url(listen, url, sizeof(url)) ||
        realpath(cfg->spool, spool) == NULL) {
        return GW_ERR_NOT_FOUND;
    }
    json_object *sel = json_object_new_object();
    json_object_object_add(sel, "spool", json_object_new_string(spool));
    if (source != NULL) {
        json_object_object_add(sel, "source", json_object_new_string(source));
    }
    json_object_object_add(sel, "since", json_object_new_int64(since_ms));
    json_object_object_add(sel, "include_unverified", json_object_new_boolean(include_unverified));
    struct gw_buf answer;
    gw_buf_init(&answer, 1u << 20);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[1024];
    if (cfg->admin_token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->admin_token);
        h = curl_slist_append(h, auth);
    }
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, gw_json_compact(sel, NULL));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 3600L); /* a large set takes its time */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_curl_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    CURLcode e = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    enum gw_rc rc = GW_ERR_NOT_FOUND;
    /* 404: a daemon that does not serve the admin routes there; 409: one
     * on another spool */
    if (e == CURLE_OK && status != 404 && status != 409) {
        rc = read_answer(status, &answer, counts);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(h);
    gw_buf_fini(&answer);
    json_object_put(sel);
    return rc;
}
