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

struct json_object;

/* Writes {"time":..,"level":..,"module":..} followed by the members of
 * fields (borrowed) as one line. */
void gw_log_fields(enum gw_log_level level, const char *module, struct json_object *fields);

#define gw_debug(mod, ...) gw_log(GW_LOG_DEBUG, mod, __VA_ARGS__)
#define gw_info(mod, ...) gw_log(GW_LOG_INFO, mod, __VA_ARGS__)
#define gw_warn(mod, ...) gw_log(GW_LOG_WARN, mod, __VA_ARGS__)
#define gw_error(mod, ...) gw_log(GW_LOG_ERROR, mod, __VA_ARGS__)

#endif
