/* rule.h -- compiled rules: the types shared by the files of mapping/.
 * Not a public header: the rest of the daemon uses mapping.h.
 * SPDX-License-Identifier: MIT */
#ifndef GW_MAPPING_RULE_H
#define GW_MAPPING_RULE_H

#include "../calltype.h"
#include "../json.h"
#include "mapping.h"

struct gw_node;

/* Where a path starts. */
enum gw_path_root { GW_PATH_EVENT, GW_PATH_BODY, GW_PATH_HEADER, GW_PATH_QUERY,
                     GW_PATH_RECEIVED_AT };

struct gw_path_seg {
    char *key;      /* member name, or NULL for an index, a wildcard or a filter */
    struct gw_json_key k; /* key with its hash */
    size_t index;   /* array index when key == NULL && !wildcard && !filter */
    bool wildcard;  /* [*] or .*; with filter: every match */
    bool filter;    /* [?k.k2=v] (first match) or [*?k.k2=v] (every match) */
    char **fkeys;   /* filter: the member path inside each element */
    size_t n_fkeys;
    char *fvalue;   /* filter: the text the member must have */
};

/* "a.b[0].c", "lines[?type=subscription].id", "$body.x",
 * "$header.X-GitHub-Event", "$query.topic", "$received_at" */
struct gw_path {
    char *text;
    enum gw_path_root root;
    char *name; /* header or query parameter name */
    struct gw_path_seg *segs;
    size_t n;
    bool multi; /* holds a wildcard: evaluates to an array */
};

/* path.c */
enum gw_rc gw_path_compile(const char *text, struct gw_path *out, const char **err) GW_WUR;
void gw_path_fini(struct gw_path *p);
/* Returns a new reference to the value at p, or NULL when absent (JSON null
 * counts as absent). */
json_object *gw_path_eval(const struct gw_path *p, const struct gw_map_input *in,
                          json_object *event);

/* A transform: converts a value, or fails with a static reason. A transform
 * with an argument (arg != NULL, such as minor-units' currency) is run with
 * exec_arg and the value of that key of the value map (borrowed, may be NULL). */
struct gw_transform {
    const char *name;
    /* borrows in; on true *out is a new value */
    bool (*exec)(json_object *in, json_object **out, const char **why);
    const char *doc;
    const char *arg;
    bool (*exec_arg)(json_object *in, json_object *arg, json_object **out, const char **why);
};

/* ops.c */
const struct gw_transform *gw_transform_find(const char *name);
const struct gw_transform *gw_transform_at(size_t i); /* NULL past the end */
/* Returns a new string: ms since the epoch as 2006-01-02T15:04:05.000Z, or
 * NULL outside years 1..9999. */
json_object *gw_iso8601_from_ms(long double ms);

/* Reads in (borrowed) as a number: a finite JSON number, or a string that
 * is one by the JSON grammar (no hex, no '+', no inf or nan, no spaces).
 * Returns a new number fit for the wire, in canonical form: an integer as
 * json-c writes it, a decimal with the partner's digits ("12.50"), an
 * integer past 64 bits kept exact as its text; NULL when in is none. */
json_object *gw_number_from(json_object *in);

/* currency.c: the ISO 4217 minor-unit exponents, in one table. */
/* The exponent of code (any case), -1 when unknown; stripe: as Stripe
 * counts its amounts (its documented exceptions to ISO 4217). */
int gw_currency_exponent(const char *code, bool stripe);
/* Converts an integer amount in minor units (a JSON number or numeric
 * string) into units of the currency: 1999 USD -> 19.99, 1999 JPY -> 1999,
 * 12345 KWD -> 12.345. On true *out is new. */
bool gw_currency_units(json_object *amount, json_object *currency, bool stripe,
                       json_object **out, const char **why);

enum gw_value_kind { GW_VALUE_PATH, GW_VALUE_TEMPLATE, GW_VALUE_CONST, GW_VALUE_FIRST,
                     GW_VALUE_EACH, GW_VALUE_COUNT, GW_VALUE_SUM, GW_VALUE_PAIR };

struct gw_target;

struct gw_template_part {
    char *literal;      /* literal text, or NULL for a placeholder */
    struct gw_path path; /* the placeholder */
};

struct gw_value {
    enum gw_value_kind kind;
    struct gw_path path;            /* PATH, EACH, COUNT, SUM */
    struct gw_template_part *parts; /* TEMPLATE */
    size_t n_parts;
    json_object *constant;          /* CONST (owned) */
    struct gw_value *alts;          /* FIRST: first present wins; PAIR: key, value */
    size_t n_alts;
    json_object *keys;              /* PAIR: key renames (owned), or NULL */
    enum gw_casing key_casing;      /* PAIR: other keys converted to it (the source's) */
    struct gw_value *arg;           /* the transform's argument (owned), or NULL */
    struct gw_target *fields;       /* EACH: the object built per element of path */
    size_t n_fields;
    const struct gw_transform *as;  /* applied to the value found, or NULL */
    json_object *table;             /* map: partner value -> output (owned), or NULL */
    json_object *dflt;              /* when absent (owned), or NULL */
    json_object *omit;              /* values that count as absent ("", 0), or NULL (owned) */
};

/* The root of a target decides which calls it applies to. */
enum gw_target_root {
    GW_TGT_USER_ID,
    GW_TGT_ANONYMOUS_ID,
    GW_TGT_TIMESTAMP,
    GW_TGT_GROUP_ID,
    GW_TGT_PREVIOUS_ID,
    GW_TGT_NAME,
    GW_TGT_CATEGORY,
    GW_TGT_PROPERTIES,
    GW_TGT_TRAITS,
    GW_TGT_CONTEXT,
    GW_TGT_INTEGRATIONS,
};

struct gw_target {
    char *field; /* dotted output path, "context.traits.email" */
    const char **keys; /* field split at its dots, interned (gw_json_key_intern) */
    size_t n_keys;
    bool own_keys;     /* keys are copies of t's own: no room was left to intern them */
    unsigned fits;     /* bit t set: the target goes into calls of type t */
    enum gw_target_root root;
    struct gw_value value;
    unsigned line, col;
};

enum gw_match_op { GW_MATCH_ANY_OF, GW_MATCH_EXISTS, GW_MATCH_ABSENT, GW_MATCH_PREFIX };

/* The `when` paths of a source that find_rule evaluates once per event. */
#define GW_MATCH_SLOTS 32

struct gw_match {
    struct gw_path path;
    size_t slot; /* the same for the same path text in a source; none past GW_MATCH_SLOTS */
    enum gw_match_op op;
    char **values; /* ANY_OF: the accepted texts; PREFIX: one */
    size_t n;
};

/* One call a rule emits. */
struct gw_call_tpl {
    enum gw_call_type type;
    struct gw_value name; /* track event / page, screen name */
    bool has_name;
    struct gw_target *targets;
    size_t n_targets;
};

struct gw_rule {
    unsigned line;
    bool has_message_id;        /* the rule's own message_id replaces the source's */
    struct gw_value message_id;
    char *when_text; /* the conditions as written, for docs */
    char *description;
    struct gw_match *when;
    size_t n_when;
    bool ignore;
    struct gw_call_tpl *calls; /* one, or several with `emit:` */
    size_t n_calls;
};

struct gw_source {
    char *name;
    char *file;
    char *description;
    char *integration_name;
    char *integration_version;
    enum gw_body_kind body;
    char *json_field;         /* form field holding JSON, or NULL */
    struct gw_path events;    /* where the events are in the body */
    bool has_events;
    char *signature;          /* scheme name, or NULL */
    struct gw_spec_plan *plan; /* tracking plan, or NULL */
    char **content_types;
    size_t n_content_types;
    struct gw_spec_opts spec;
    bool unmatched_reject;
    bool has_message_id;
    struct gw_value message_id;
    struct gw_target *common;
    size_t n_common;
    struct gw_rule *rules;
    size_t n_rules;
    size_t n_match_slots; /* distinct `when` paths */
};

struct gw_ruleset {
    struct gw_source **sources;
    size_t n;
};

/* compile.c */
struct gw_source *gw_compile_source(const struct gw_node *root, struct gw_diag *diag);
void gw_source_free(struct gw_source *src);
bool gw_compile_value(const struct gw_node *node, const char *what, struct gw_value *out,
                      struct gw_diag *diag);
void gw_value_fini(struct gw_value *v);

void gw_target_fini(struct gw_target *t);
/* Sets t's field (takes field) and what follows from it: its keys and the
 * call types it fits; t->root must be set first. */
void gw_target_set_field(struct gw_target *t, char *field);

/* value.c: pieces the rule compiler shares with the value compiler. */
json_object *gw_compile_json(const struct gw_node *n); /* returns new: a YAML node as JSON */
bool gw_compile_path(const struct gw_node *node, const char *text, struct gw_path *out,
                     struct gw_diag *diag);
bool gw_compile_template(const struct gw_node *node, const char *text, struct gw_value *out,
                         struct gw_diag *diag);
/* Compiles every pair of map as an output field named prefix + key, appended to *v. */
bool gw_compile_targets(const struct gw_node *map, const char *prefix, struct gw_target **v,
                        size_t *n, struct gw_diag *diag);

/* Sets the key casing of every {key:, value:} pair in v (and nested in it). */
void gw_value_set_key_casing(struct gw_value *v, enum gw_casing c);

/* apply.c */
/* Returns a new value, or NULL when absent; a failed transform sets *why. */
json_object *gw_value_eval(const struct gw_value *v, const struct gw_map_input *in,
                           json_object *event, const char **why);

/* reduce.c: the values computed from others: count, sum and key/value pairs.
 * Returns new, NULL when absent; a failure sets *why. */
json_object *gw_value_reduce(const struct gw_value *v, const struct gw_map_input *in,
                             json_object *event, const char **why);
/* Runs v's transform over x (borrowed); on true *out is new. */
bool gw_value_transform(const struct gw_value *v, json_object *x, const struct gw_map_input *in,
                        json_object *event, json_object **out, const char **why);

#endif
