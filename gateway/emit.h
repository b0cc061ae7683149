/* emit.h -- compact JSON text of a json-c value, written straight into a
 * buffer: byte for byte what gw_json_compact gives (json-c's
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), without
 * json-c's print buffer per object. The one JSON string escaper.
 * SPDX-License-Identifier: MIT */
#ifndef GW_EMIT_H
#define GW_EMIT_H

#include <json-c/json.h>
#include <stddef.h>

#include "rc.h"

struct gw_buf;

/* Appends the compact text of v (NULL is null) to b. GW_ERR_TOO_LARGE when
 * b's limit would be passed (b then holds part of it). */
enum gw_rc gw_emit_json(struct gw_buf *b, json_object *v) GW_WUR;

/* Appends s (n bytes) as a JSON string, quotes included, escaped as json-c
 * escapes it. */
enum gw_rc gw_emit_str(struct gw_buf *b, const char *s, size_t n) GW_WUR;

/* The same into out (cap bytes, NUL-terminated, no allocation). Returns its
 * length, or 0 when it does not fit. */
size_t gw_json_quote(char *out, size_t cap, const char *s, size_t n);

#endif
