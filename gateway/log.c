/* log.c -- leveled JSON-line logging.
 * SPDX-License-Identifier: MIT */
#include "log.h"
#include "thread.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* read by every thread, set on SIGHUP: relaxed is enough, as a late reader
 * only prints or skips one more line at the old level */
static atomic_int min_level = GW_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void gw_log_set_level(enum gw_log_level level)
{
    atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

enum gw_rc gw_log_parse_level(const char *s, enum gw_log_level *out)
{
    for (int i = GW_LOG_DEBUG; i <= GW_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return GW_OK;
        }
    }
    return GW_ERR_INVALID;
}

static void stamp(char *when, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(when, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

static bool enabled(enum gw_log_level level)
{
    return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed) &&
           level < GW_LOG_OFF;
}

/* The output: lines go through one buffer, under one lock, so that lines
 * from threads never interleave and keep their order. Unbuffered (the
 * default, and for every line but access lines), a line is written at once;
 * once gw_log_buffer(true), access lines wait in the buffer until it fills
 * or the flusher's next tick (FLUSH_MS), so that a busy daemon makes one
 * write(2) per many requests rather than one each. */
#define OUT_CAP (64u * 1024)
#define FLUSH_MS 100
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t out_wake = PTHREAD_COND_INITIALIZER;
static char out_buf[OUT_CAP];
static size_t out_len;
static bool out_buffered, out_stop, out_flusher;
static pthread_t out_thread;

/* Writes all of p to stderr; a stderr that is gone takes the lines with
 * it (there is nothing better to do with them). */
static void write_all(const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDERR_FILENO, p + off, n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
}

static void out_drain(void)
{
    write_all(out_buf, out_len);
    out_len = 0;
}

/* Appends one whole line; writes it out now unless it may wait. */
static void out_line(const char *line, size_t len, bool may_wait)
{
    pthread_mutex_lock(&out_lock);
    if (out_len + len > OUT_CAP) {
        out_drain();
    }
    if (len > OUT_CAP) { /* a line larger than the buffer goes alone */
        write_all(line, len);
    } else {
        memcpy(out_buf + out_len, line, len);
        out_len += len;
        if (!may_wait || !out_buffered) {
            out_drain();
        }
    }
    pthread_mutex_unlock(&out_lock);
}

static void *on_flusher(void *arg)
{
    gw_thread_name("sg-log");
    (void)arg;
    pthread_mutex_lock(&out_lock);
    while (!out_stop) {
        struct timespec at;
        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_nsec += FLUSH_MS * 1000000L;
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&out_wake, &out_lock, &at);
        out_drain();
    }
    pthread_mutex_unlock(&out_lock);
    return NULL;
}

void gw_log_buffer(bool on)
{
    pthread_mutex_lock(&out_lock);
    bool running = out_flusher;
    if (on && !running) {
        out_stop = false;
        out_flusher = pthread_create(&out_thread, NULL, on_flusher, NULL) == 0;
        out_buffered = out_flusher; /* no flusher: every line at once */
    } else if (!on && running) {
        out_stop = true;
        out_buffered = false;
        pthread_cond_signal(&out_wake);
    }
    pthread_mutex_unlock(&out_lock);
    if (!on && running) {
        pthread_join(out_thread, NULL);
        pthread_mutex_lock(&out_lock);
        out_flusher = false;
        out_drain();
        pthread_mutex_unlock(&out_lock);
    }
}

void gw_log_members(enum gw_log_level level, const char *module, const char *members,
                    size_t len)
{
    if (!enabled(level)) {
        return;
    }
    char when[40];
    stamp(when, sizeof(when));
    char head[128];
    int h = snprintf(head, sizeof(head), "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"%s\"%s",
                     when, level_names[level], module, len > 0 ? "," : "");
    if (h < 0 || (size_t)h >= sizeof(head)) {
        return;
    }
    char stackline[2048];
    size_t total = (size_t)h + len + 2;
    char *line = total <= sizeof(stackline) ? stackline : malloc(total);
    if (line == NULL) {
        return;
    }
    memcpy(line, head, (size_t)h);
    memcpy(line + h, members, len);
    line[(size_t)h + len] = '}';
    line[(size_t)h + len + 1] = '\n';
    out_line(line, total, true);
    if (line != stackline) {
        free(line);
    }
}

void gw_log(enum gw_log_level level, const char *module, const char *fmt, ...)
{
    if (!enabled(level)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)(tv.tv_usec / 1000));

    /* json-c does the string escaping so that a hostile value cannot break
     * the line format. */
    json_object *m = json_object_new_string(msg);
    char *line = NULL;
    int len = asprintf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":%s}\n",
                       when, level_names[level], module,
                       json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(m);
    if (len > 0) {
        out_line(line, (size_t)len, false);
    }
    free(line);
}
