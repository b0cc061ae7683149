/* log.c -- leveled JSON-line logging.
 * SPDX-License-Identifier: MIT */
#include "log.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

void gw_log_fields(enum gw_log_level level, const char *module, struct json_object *fields)
{
    if (!enabled(level)) {
        return;
    }
    char when[40];
    stamp(when, sizeof(when));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_string(when));
    json_object_object_add(o, "level", json_object_new_string(level_names[level]));
    json_object_object_add(o, "module", json_object_new_string(module));
    json_object_object_foreach(fields, k, v)
    {
        json_object_object_add(o, k, json_object_get(v));
    }
    /* one fputs of a whole line: lines from threads do not interleave */
    char *line = NULL;
    if (asprintf(&line, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                      JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0) {
        fputs(line, stderr);
        free(line);
    }
    json_object_put(o);
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
    fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":%s}\n", when,
            level_names[level], module,
            json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(m);
}
