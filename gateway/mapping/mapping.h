/* mapping.h -- the rules engine: the YAML files of rules/ compiled once into rulesets,
 * applied per webhook event to produce Segment calls.
 * SPDX-License-Identifier: MIT */
#ifndef GW_MAPPING_H
#define GW_MAPPING_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../body.h"
#include "../rc.h"
#include "../spec/spec.h"

struct gw_diag;
struct gw_node;
struct gw_ruleset;
struct gw_source;

/* Loads every *.yaml / *.yml file of dir (sorted by name). */
enum gw_rc gw_rules_load_dir(const char *dir, struct gw_ruleset **out, struct gw_diag *diag) GW_WUR;

/* Loads the named files; a directory among them is loaded as by
 * gw_rules_load_dir. On GW_ERR_INVALID every problem is in diag, *out untouched. */
enum gw_rc gw_rules_load_paths(const char *const *paths, size_t n, struct gw_ruleset **out,
                               struct gw_diag *diag) GW_WUR;

/* Compiles one rules document from a buffer (borrowed) into rs; name is the
 * file name shown in diagnostics. For tests and fuzzers. */
enum gw_rc gw_rules_add_buffer(struct gw_ruleset *rs, const char *buf, size_t len,
                               const char *name, struct gw_diag *diag) GW_WUR;

/* Returns a new, empty ruleset. */
struct gw_ruleset *gw_ruleset_create(void);
/* NULL is a no-op. */
void gw_ruleset_destroy(struct gw_ruleset *rs);

size_t gw_ruleset_count(const struct gw_ruleset *rs);
/* Returns source i or the source named name, borrowed (valid while rs lives), or NULL. */
const struct gw_source *gw_ruleset_at(const struct gw_ruleset *rs, size_t i);
const struct gw_source *gw_ruleset_find(const struct gw_ruleset *rs, const char *name);

/* Replaces the userId mapping of source by the value node (a path, or a list
 * of paths: the first present wins), from the configuration's
 * sources.NAME.user_id. Errors go to diag at the node. Call before the
 * ruleset is shared between threads. */
enum gw_rc gw_source_set_user_id(struct gw_ruleset *rs, const char *source,
                                 const struct gw_node *value, struct gw_diag *diag) GW_WUR;

/* Accessors; returned pointers are borrowed, valid while the ruleset lives. */
const char *gw_source_name(const struct gw_source *src);
const char *gw_source_file(const struct gw_source *src);
enum gw_body_kind gw_source_body(const struct gw_source *src);
const struct gw_spec_opts *gw_source_spec(const struct gw_source *src);
/* True when the media type (parameters such as charset ignored) is one the
 * source accepts; NULL (no Content-Type) is accepted. */
bool gw_source_accepts(const struct gw_source *src, const char *content_type);

/* The form field holding JSON, or NULL; the signature scheme, or NULL. */
const char *gw_source_json_field(const struct gw_source *src);
const char *gw_source_signature(const struct gw_source *src);

/* Returns new markdown: the source's documentation page (`sourcegate docs`). */
char *gw_source_docs(const struct gw_source *src);

/* What a request exposes to rules besides the event itself. */
struct gw_map_input {
    json_object *body;                               /* the whole decoded body, borrowed */
    const char *(*header)(void *arg, const char *name); /* NULL when absent */
    const char *(*query)(void *arg, const char *name);
    void *arg;
    int64_t received_at; /* unix ms when the request arrived ($received_at); 0: now */
};

/* Applies src to one event (borrowed). Appends the calls it emits (new objects)
 * to calls. Returns:
 *   GW_OK        with *ignored set when a rule ignores the event on purpose
 *                (or no rule matched and the source ignores unmatched events);
 *   GW_ERR_INVALID when the event cannot be mapped: violations (borrowed)
 *                received why, each with index as its index. */
enum gw_rc gw_source_apply(const struct gw_source *src, const struct gw_map_input *in,
                           json_object *event, size_t index, json_object *calls,
                           struct gw_violations *violations, bool *ignored) GW_WUR;

/* Collects the events of a decoded body (borrowed): the array or object at
 * the source's events path, else the body itself. On GW_OK *events is a new
 * array; GW_ERR_INVALID with err (size errlen) when there are none or one is
 * not an object. */
enum gw_rc gw_source_events(const struct gw_source *src, json_object *body, json_object **events,
                            char *err, size_t errlen) GW_WUR;

#endif
