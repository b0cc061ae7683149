/* json.h -- json-c helpers and the reference-count rules, in one place.
 *
 * Ownership with json-c: whoever calls json_object_new_*() or
 * json_object_get() owns one reference and must json_object_put() it.
 * json_object_object_add() and json_object_array_add() TAKE the reference
 * passed in. Getters (json_object_object_get_ex, json_object_array_get_idx)
 * return borrowed values, valid while their parent lives.
 * SPDX-License-Identifier: MIT */
#ifndef GW_JSON_H
#define GW_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

/* Returns the string member key of obj, borrowed, or NULL when absent or not
 * a string. */
const char *gw_json_get_str(json_object *obj, const char *key);

/* Returns the member key of obj, borrowed, or NULL. */
json_object *gw_json_get(json_object *obj, const char *key);

/* A member name with its hash, computed once (the keys of compiled paths):
 * json-c's lookup without hashing the name again on every request. */
struct gw_json_key {
    const char *name; /* borrowed: lives as long as the key */
    unsigned long hash;
    unsigned long (*hash_fn)(const void *); /* what hash was made with */
};

/* Fills k for name (borrowed). */
void gw_json_key_init(struct gw_json_key *k, const char *name);

/* Returns the member k of obj, borrowed, or NULL (as gw_json_get). */
json_object *gw_json_get_key(json_object *obj, const struct gw_json_key *k);

/* Sets a dotted path ("context.traits.email") in root to val, creating the
 * intermediate objects. Takes val. An intermediate that exists but is not an
 * object is replaced. */
void gw_json_set_path(json_object *root, const char *dotted, json_object *val);

/* Sets keys[0].keys[1]...keys[n-1] (n > 0) in root to val, as
 * gw_json_set_path does with a dotted path. Takes val. Borrows keys; when
 * interned (from gw_json_key_intern), json-c keeps them without copying. */
void gw_json_set_keys(json_object *root, const char *const *keys, size_t n, json_object *val,
                      bool interned);

/* Returns the object member key of root, borrowed: made, or replacing a
 * member that is not an object, when needed (the step gw_json_set_keys
 * takes for each intermediate key). Borrows key as gw_json_set_keys does. */
json_object *gw_json_child_object(json_object *root, const char *key, bool interned);

/* Returns key[0..len) as a string kept for the life of the process, the
 * same pointer for the same text: object keys json-c need not copy. For
 * the names of compiled rules, not for request data; NULL once
 * GW_JSON_KEYS_MAX names are kept (the caller then keeps its own copy). */
#define GW_JSON_KEYS_MAX 65536
const char *gw_json_key_intern(const char *key, size_t len);

/* Returns the compact serialization of obj, borrowed: valid until obj is
 * changed or put. *len (if not NULL) receives its length. */
const char *gw_json_compact(json_object *obj, size_t *len);

/* Parses buf as one JSON value with nesting at most max_depth. Returns GW_OK
 * with *out a new value; GW_ERR_INVALID with err (size errlen) saying why and
 * at which byte. */
enum gw_rc gw_json_parse(const char *buf, size_t len, int max_depth, json_object **out,
                         char *err, size_t errlen) GW_WUR;

/* Returns a new string "<prefix>-<32 hex>": the first 128 bits of the
 * SHA-256 of obj's compact serialization (then a newline and salt, when salt
 * is not NULL), so that the same content always gives the same id (a stable
 * messageId across retries). */
json_object *gw_json_digest_id(const char *prefix, json_object *obj, const char *salt);

/* Textual form of a scalar for matching and templates: strings as they are,
 * numbers and booleans as JSON writes them. Returns borrowed text or NULL for
 * objects, arrays and null. */
const char *gw_json_scalar_text(json_object *v);

/* The same text, written into buf (size bytes, 21 or more) for an integer
 * or a boolean instead of into v's own print buffer. Returns buf, borrowed
 * text of v, or NULL. */
const char *gw_json_scalar_text_buf(json_object *v, char *buf, size_t size);

/* Fetches SHA-256 for gw_json_digest_id once; called when rules load so
 * that requests do not pay for it. Safe from any thread. */
void gw_json_digest_init(void);

#endif
