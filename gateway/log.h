/* log.h -- leveled logging, one JSON line per record, to stderr.
 * Never pass a write key or signing secret to these functions.
 * SPDX-License-Identifier: MIT */
#ifndef GW_LOG_H
#define GW_LOG_H

#include "rc.h"

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR, GW_LOG_OFF };

/* Sets the lowest level printed (default info). Safe while other threads
 * log (an atomic): SIGHUP sets it as the workers run. */
void gw_log_set_level(enum gw_log_level level);
/* Parses "debug", "info", "warn", "error", "off". */
enum gw_rc gw_log_parse_level(const char *s, enum gw_log_level *out) GW_WUR;

/* Writes {"time":..,"level":..,"module":..,"msg":..} as one line.
 * module borrows a static name ("server", "relay", ...). */
void gw_log(enum gw_log_level level, const char *module, const char *fmt, ...) GW_PRINTF(3, 4);

#include <stdbool.h>
#include <stddef.h>

/* Writes {"time":..,"level":..,"module":..,MEMBERS} as one line: members
 * (len bytes) are JSON object members without braces, already escaped (see
 * gw_json_quote (emit.h)). While buffering is on, the line may wait up to 100 ms. */
void gw_log_members(enum gw_log_level level, const char *module, const char *members,
                    size_t len);

/* On: lines of gw_log_members wait in a 64 KiB buffer, written when it
 * fills and every 100 ms by a thread of their own (every other line still
 * goes out at once, after them). Off: writes what waits and stops the
 * thread. The daemon turns it on while serving. */
void gw_log_buffer(bool on);

#define gw_debug(mod, ...) gw_log(GW_LOG_DEBUG, mod, __VA_ARGS__)
#define gw_info(mod, ...) gw_log(GW_LOG_INFO, mod, __VA_ARGS__)
#define gw_warn(mod, ...) gw_log(GW_LOG_WARN, mod, __VA_ARGS__)
#define gw_error(mod, ...) gw_log(GW_LOG_ERROR, mod, __VA_ARGS__)

#endif
