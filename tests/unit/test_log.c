/* test_log.c -- the log's own JSON string escaping matches json-c's, and
 * buffered lines from many threads come out whole, in order, and all.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void expect_as_json_c(const char *s, size_t n)
{
    json_object *o = json_object_new_string_len(s, (int)n);
    const char *want =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char got[1024];
    size_t len = gw_log_quote(got, sizeof(got), s, n);
    cr_expect_eq(len, strlen(want), "length of %s", want);
    cr_expect_str_eq(got, want);
    json_object_put(o);
}

Test(log, quote_escapes_every_byte_as_json_c_does)
{
    for (unsigned c = 1; c < 256; c++) {
        char s[4] = {'a', (char)c, 'z', '\0'};
        expect_as_json_c(s, 3);
    }
    expect_as_json_c("", 0);
    expect_as_json_c("/webhooks/sendgrid?x=\"1\"\\", 25);
    expect_as_json_c("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
    expect_as_json_c("a\0b", 3); /* a NUL inside a value */
}

Test(log, quote_refuses_what_does_not_fit)
{
    char out[8];
    cr_expect_eq(gw_log_quote(out, sizeof(out), "abcde", 5), 7);
    cr_expect_eq(gw_log_quote(out, sizeof(out), "abcdef", 6), 0, "no room for the NUL");
    cr_expect_eq(gw_log_quote(out, sizeof(out), "\x01", 1), 0, "an escape of 6 bytes");
    cr_expect_eq(gw_log_quote(out, 2, "", 0), 0);
}

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
