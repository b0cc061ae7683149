/* settings.h -- every setting of the daemon as one row of a table: its YAML
 * path, type and range, default, command-line flag, SOURCEGATE_* variable,
 * help and the field it lands in. The flag parser, the environment, the YAML
 * loader and its allowed keys, --help and the README's tables all read it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SETTINGS_H
#define GW_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct gw_buf;

enum gw_setting_type {
    GW_SET_STRING,     /* char * (owned), not empty */
    GW_SET_URL,        /* char *, an http:// or https:// URL */
    GW_SET_BOOL,       /* bool: true, false, yes, no, 1, 0 */
    GW_SET_UINT,       /* a whole number in [min, max]: unsigned, int or uint64_t */
    GW_SET_SIZE,       /* uint64_t bytes, "512KiB", in [min, max] */
    GW_SET_DOUBLE,     /* double in [dmin, dmax] */
    GW_SET_ENUM,       /* char *: one of values, by name */
    GW_SET_ENUM_INDEX, /* bool or unsigned: the index of one of values */
    GW_SET_LIST,       /* char ** plus its size_t count at count_off: a YAML list */
    GW_SET_NODE,       /* const struct gw_node *, borrowed from the file: any value */
    GW_SET_SECTION,    /* a map holding the rows whose path starts with "path." */
    GW_SET_SOURCES,    /* the sources map: NAME to the rows of gw_source_settings */
    GW_SET_FILE,       /* command line only (--config): lands in no field */
};

/* One allowed value of an enum, with what it means (NULL: nothing to say). */
struct gw_setting_value {
    const char *name;
    const char *help;
};

struct gw_setting {
    const char *path;     /* YAML path ("limits.max_body"); NULL: command line only */
    enum gw_setting_type type;
    const char *def;      /* default, written as in a file; NULL: none */
    const char *flag;     /* command-line name without dashes ("max-body"), or NULL */
    const char *metavar;  /* "ADDR:PORT" in --help; NULL: from the type */
    const char *help;     /* one line; status codes in parentheses */
    size_t off;           /* offsetof the field in struct gw_config (gw_source_conf) */
    size_t size;          /* sizeof that field */
    size_t count_off;     /* GW_SET_LIST: offsetof its size_t count */
    uint64_t min, max;    /* GW_SET_UINT, GW_SET_SIZE */
    double dmin, dmax;    /* GW_SET_DOUBLE */
    const struct gw_setting_value *values; /* enums: ends with a NULL name */
    bool secret;          /* never echoed in a message nor shown */
    /* Called on obj after a value landed (borrows both). */
    void (*on_set)(void *obj, const struct gw_setting *s);
};

/* The daemon's settings, landing in struct gw_config, and the per-source
 * ones of sources.NAME, landing in struct gw_source_conf. */
extern const struct gw_setting gw_settings[];
extern const size_t gw_settings_count;
extern const struct gw_setting gw_source_settings[];
extern const size_t gw_source_settings_count;

/* Returns the row of the command-line flag name (without dashes), borrowed,
 * or NULL. */
const struct gw_setting *gw_settings_flag(const char *flag);

/* Returns the row at YAML path within table tab of n rows, or NULL. */
const struct gw_setting *gw_settings_path(const struct gw_setting *tab, size_t n,
                                          const char *path);

/* True when the row takes a value on the command line (all but booleans). */
bool gw_setting_takes_value(const struct gw_setting *s);

/* Writes the row's environment variable, SOURCEGATE_ and its flag in upper
 * case with '_' for '-' ("SOURCEGATE_MAX_RPS"), to buf of size len. Returns
 * false when the row has no flag or buf is too small. */
bool gw_setting_env_name(const struct gw_setting *s, char *buf, size_t len);

/* The name a message uses for the row: its flag, else its path. Borrowed. */
const char *gw_setting_name(const struct gw_setting *s);

/* Parses value (borrowed; NULL for a bare boolean flag) by the row's type
 * and range and stores it in obj's field, then calls on_set. On
 * GW_ERR_INVALID err (size len) says why, without the value, and obj is not
 * modified. Lists, nodes and sections do not take a single value. */
enum gw_rc gw_setting_set(const struct gw_setting *s, void *obj, const char *value, char *err,
                          size_t len) GW_WUR;

/* Stores the default of every row of tab (n rows) that has one in obj. */
void gw_settings_defaults(const struct gw_setting *tab, size_t n, void *obj);

/* Frees what the rows of tab own in obj (strings, lists) and zeroes them. */
void gw_settings_free(const struct gw_setting *tab, size_t n, void *obj);

/* The allowed keys of the map at prefix ("" for the top level, "limits" for
 * a section) in table order, in keys (room for max entries plus the NULL
 * that ends them). Returns the number written. */
size_t gw_settings_keys(const struct gw_setting *tab, size_t n, const char *prefix,
                        const char **keys, size_t max);

/* Appends --help's flag list to b: one line per flag with its default. */
void gw_settings_help(struct gw_buf *b);

/* Appends the README's blocks to b, each between its markers
 * (<!-- settings:NAME --> ... <!-- /settings:NAME -->): the flags, the
 * configuration keys and the limits, as markdown tables. */
void gw_settings_markdown(struct gw_buf *b);

#endif
