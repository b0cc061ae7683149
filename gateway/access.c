/* access.c -- the access line of an answered request, formatted straight
 * into a stack buffer: no object tree per request.
 * SPDX-License-Identifier: MIT */
#include "access.h"

#include <stdio.h>
#include <string.h>

#include "emit.h"
#include "log.h"

/* Appends ,"key":"value" (value quoted and escaped) to a line being built;
 * false when it does not fit. */
static bool put_str(char *line, size_t cap, size_t *at, const char *key, const char *v, size_t n)
{
    int w = snprintf(line + *at, cap - *at, "%s\"%s\":", *at ? "," : "", key);
    if (w < 0 || (size_t)w >= cap - *at) {
        return false;
    }
    size_t q = gw_json_quote(line + *at + (size_t)w, cap - *at - (size_t)w, v, n);
    if (q == 0) {
        return false;
    }
    *at += (size_t)w + q;
    return true;
}

/* Appends a formatted piece; false when it does not fit. */
static bool put_fmt(char *line, size_t cap, size_t *at, int w)
{
    if (w < 0 || (size_t)w >= cap - *at) {
        return false;
    }
    *at += (size_t)w;
    return true;
}

void gw_access_log(const struct gw_access *a)
{
    char line[8192];
    const size_t cap = sizeof(line);
    size_t at = 0;
    bool ok = put_str(line, cap, &at, "request_id", a->request_id, strlen(a->request_id)) &&
              put_str(line, cap, &at, "method", a->method, strlen(a->method)) &&
              put_str(line, cap, &at, "path", a->uri, strcspn(a->uri, "?")) &&
              (a->source[0] == '\0' ||
               put_str(line, cap, &at, "source", a->source, strlen(a->source))) &&
              (a->api[0] == '\0' || put_str(line, cap, &at, "api", a->api, strlen(a->api))) &&
              put_fmt(line, cap, &at, snprintf(line + at, cap - at, ",\"status\":%d", a->status)) &&
              (a->cause == NULL || put_str(line, cap, &at, "cause", a->cause, strlen(a->cause))) &&
              put_fmt(line, cap, &at,
                      snprintf(line + at, cap - at,
                               ",\"events\":%zu,\"ignored\":%zu%s,\"duration_ms\":%.3f", a->events,
                               a->ignored, a->dry_run ? ",\"dry_run\":true" : "",
                               a->duration_ms)) &&
              put_str(line, cap, &at, "client", a->client, strlen(a->client)) &&
              (!a->aborted ||
               put_fmt(line, cap, &at, snprintf(line + at, cap - at, ",\"aborted\":true")));
    if (ok) {
        gw_log_members(GW_LOG_INFO, "access", line, at);
    } else { /* a path longer than the line: said without it */
        gw_log(GW_LOG_INFO, "access", "request %s: %s (path too long to log), status %d",
               a->request_id, a->method, a->status);
    }
}
