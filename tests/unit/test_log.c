/* test_log.c -- buffered lines from many threads come out whole, in order,
 * and all.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
