/* test_log.c -- buffered lines from many threads come out whole, in order,
 * and all; an access line is one JSON object, its path escaped and without
 * the query string.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "log.h"

#define THREADS 4
#define LINES 3000

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < LINES; i++) {
        char members[128];
        int n = snprintf(members, sizeof(members), "\"thread\":%d,\"seq\":%d,\"pad\":\"%0*d\"", t,
                         i, 1 + i % 97, 0);
        gw_log_members(GW_LOG_INFO, "access", members, (size_t)n);
        if (i % 500 == 0) {
            gw_log(GW_LOG_WARN, "test", "an unbuffered line from thread %d", t);
        }
    }
    return NULL;
}

Test(log, buffered_lines_from_threads_are_whole_ordered_and_all_written)
{
    char path[] = "/tmp/gw-test-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    int saved = dup(STDERR_FILENO);
    cr_assert(dup2(fd, STDERR_FILENO) >= 0);
    gw_log_buffer(true);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        cr_assert(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    gw_log_buffer(false); /* writes what waits */
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);

    FILE *f = fopen(path, "r");
    cr_assert(f != NULL);
    int next[THREADS] = {0};
    int warns = 0;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        json_object *o = json_tokener_parse(line);
        cr_assert(o != NULL, "not a whole JSON line: %s", line);
        json_object *v;
        if (json_object_object_get_ex(o, "thread", &v)) {
            int t = json_object_get_int(v);
            json_object_object_get_ex(o, "seq", &v);
            cr_assert(t >= 0 && t < THREADS);
            cr_expect_eq(json_object_get_int(v), next[t], "thread %d out of order", t);
            next[t] = json_object_get_int(v) + 1;
        } else {
            warns++;
        }
        json_object_put(o);
    }
    fclose(f);
    unlink(path);
    for (int t = 0; t < THREADS; t++) {
        cr_expect_eq(next[t], LINES, "thread %d: %d lines of %d", t, next[t], LINES);
    }
    cr_expect_eq(warns, THREADS * (LINES / 500));
}

/* Runs fn with stderr sent to a file; returns what was written (new). */
static char *captured(void (*fn)(const void *), const void *arg)
{
    char path[] = "/tmp/gw-test-access-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn(arg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL);
    static char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    return strdup(text);
}

static void write_access(const void *arg)
{
    gw_access_log(arg);
}

Test(log, access_line_is_one_json_object_with_every_field)
{
    struct gw_access a = {.request_id = "abc123", .method = "POST",
                          .uri = "/webhooks/sen\"d\\grid\x01?secret=1", .source = "sendgrid",
                          .api = "", .status = 503, .cause = "spool_full", .events = 7,
                          .ignored = 1, .dry_run = true, .duration_ms = 1.5,
                          .client = "127.0.0.1", .aborted = true};
    char *out = captured(write_access, &a);
    json_object *o = json_tokener_parse(out);
    cr_assert(o != NULL, "not JSON: %s", out);
    json_object *v;
    cr_expect(json_object_object_get_ex(o, "path", &v));
    cr_expect_str_eq(json_object_get_string(v), "/webhooks/sen\"d\\grid\x01", "no query string");
    cr_expect(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 503);
    cr_expect(json_object_object_get_ex(o, "cause", &v));
    cr_expect(json_object_object_get_ex(o, "events", &v) && json_object_get_int(v) == 7);
    cr_expect(json_object_object_get_ex(o, "dry_run", &v) && json_object_get_boolean(v));
    cr_expect(json_object_object_get_ex(o, "aborted", &v) && json_object_get_boolean(v));
    cr_expect(!json_object_object_get_ex(o, "api", NULL), "an empty api is left out");
    cr_expect(json_object_object_get_ex(o, "module", &v));
    cr_expect_str_eq(json_object_get_string(v), "access");
    cr_expect(strstr(out, "secret") == NULL);
    json_object_put(o);
    free(out);

    static char longpath[9000];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    a.uri = longpath;
    out = captured(write_access, &a);
    o = json_tokener_parse(out);
    cr_assert(o != NULL, "not JSON: %.200s", out);
    cr_expect(strstr(out, "path too long to log") != NULL, "%.300s", out);
    json_object_put(o);
    free(out);
}
