/* config.c -- daemon configuration from defaults, YAML, environment, flags,
 * each by the rows of the settings table.
 * SPDX-License-Identifier: MIT */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "mem.h"
#include "schema.h"
#include "settings.h"
#include "yaml.h"

void gw_config_init(struct gw_config *c)
{
    memset(c, 0, sizeof(*c));
    gw_settings_defaults(gw_settings, gw_settings_count, c);
}

static struct gw_config defaults;
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void make_defaults(void)
{
    gw_config_init(&defaults);
}

const struct gw_config *gw_config_defaults(void)
{
    GW_ASSERT(pthread_once(&defaults_once, make_defaults) == 0);
    return &defaults;
}

static void source_fini(struct gw_source_conf *s)
{
    free(s->name);
    gw_settings_free(gw_source_settings, gw_source_settings_count, s);
}

void gw_config_fini(struct gw_config *c)
{
    gw_settings_free(gw_settings, gw_settings_count, c);
    for (size_t i = 0; i < c->n_sources; i++) {
        source_fini(&c->sources[i]);
    }
    free(c->sources);
    gw_yaml_free(c->doc);
    for (size_t i = 0; i < c->n_old_docs; i++) {
        gw_yaml_free(c->old_docs[i]);
    }
    free(c->old_docs);
    memset(c, 0, sizeof(*c));
}

/* Rows that land in struct gw_config by a single value. */
static const struct gw_setting *config_flag(const char *flag)
{
    const struct gw_setting *s = gw_settings_flag(flag);
    return s != NULL && s->path != NULL ? s : NULL;
}

enum gw_rc gw_config_set(struct gw_config *c, const char *flag, const char *value,
                         const char **err)
{
    const struct gw_setting *s = config_flag(flag);
    enum gw_rc rc = GW_ERR_INVALID;
    if (s == NULL) {
        snprintf(c->err, sizeof(c->err), "unknown flag");
    } else {
        rc = gw_setting_set(s, c, value, c->err, sizeof(c->err));
    }
    if (rc != GW_OK) {
        *err = c->err;
    }
    return rc;
}

bool gw_config_flag_takes_value(const char *flag, bool *known)
{
    const struct gw_setting *s = gw_settings_flag(flag);
    *known = s != NULL;
    return s != NULL && gw_setting_takes_value(s);
}

enum gw_rc gw_config_apply_env(struct gw_config *c, const char **err, const char **which)
{
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        char name[64];
        if (s->path == NULL || !gw_setting_env_name(s, name, sizeof(name))) {
            continue;
        }
        const char *v = getenv(name);
        if (v != NULL && gw_config_set(c, s->flag, v, err) != GW_OK) {
            *which = s->flag;
            return GW_ERR_INVALID;
        }
    }
    return GW_OK;
}

/* Returns new string: the scalar with ${VAR} replaced from the environment,
 * or NULL after a diagnostic. */
static char *expand(const struct gw_node *node, struct gw_diag *diag)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    const char *s = node->scalar;
    while (*s != '\0') {
        const char *open = strstr(s, "${");
        if (open == NULL) {
            GW_ASSERT(gw_buf_adds(&b, s) == GW_OK);
            break;
        }
        GW_ASSERT(gw_buf_add(&b, s, (size_t)(open - s)) == GW_OK);
        const char *close = strchr(open, '}');
        if (close == NULL) {
            gw_diag_error(diag, node, "'${' without a closing '}'");
            gw_buf_fini(&b);
            return NULL;
        }
        char *var = gw_strndup(open + 2, (size_t)(close - open - 2));
        const char *val = getenv(var);
        if (val == NULL) {
            gw_diag_error(diag, node, "environment variable '%s' is not set", var);
            free(var);
            gw_buf_fini(&b);
            return NULL;
        }
        free(var);
        GW_ASSERT(gw_buf_adds(&b, val) == GW_OK);
        s = close + 1;
    }
    return gw_buf_detach(&b);
}

/* A scalar through expand() into the row's field. */
static bool load_scalar(const struct gw_setting *s, void *obj, const struct gw_node *v,
                        struct gw_diag *diag)
{
    char what[96];
    snprintf(what, sizeof(what), "key '%s'", s->path);
    if (!gw_schema_is(diag, v, GW_NODE_SCALAR, what)) {
        return false;
    }
    char *val = expand(v, diag);
    char err[256];
    bool ok = val != NULL && gw_setting_set(s, obj, val, err, sizeof(err)) == GW_OK;
    if (val != NULL && !ok && s->secret) {
        gw_diag_error(diag, v, "%s", err);
    } else if (val != NULL && !ok) {
        gw_diag_error(diag, v, "%s (was given '%s')", err, v->scalar);
    }
    free(val);
    return ok;
}

/* A list of scalars replaces the row's list whole. */
static bool load_list(const struct gw_setting *s, void *obj, const struct gw_node *v,
                      struct gw_diag *diag)
{
    char what[96];
    snprintf(what, sizeof(what), "'%s'", s->path);
    if (!gw_schema_is(diag, v, GW_NODE_SEQ, what)) {
        return false;
    }
    char **list = gw_calloc(v->n + 1, sizeof(char *));
    size_t n = 0;
    bool ok = true;
    snprintf(what, sizeof(what), "an item of '%s'", s->path);
    for (size_t i = 0; i < v->n; i++) {
        char *item = gw_schema_is(diag, v->items[i], GW_NODE_SCALAR, what)
                         ? expand(v->items[i], diag)
                         : NULL;
        ok = item != NULL && ok;
        if (item != NULL) {
            list[n++] = item;
        }
    }
    gw_settings_free(s, 1, obj);
    memcpy((char *)obj + s->off, &list, sizeof(list));
    memcpy((char *)obj + s->count_off, &n, sizeof(n));
    return ok;
}

static bool load_map(const struct gw_setting *tab, size_t n, const char *prefix, void *obj,
                     const struct gw_node *map, const char *what, struct gw_diag *diag);

/* sources.NAME: a new entry, or the one of that name replaced. */
static bool load_source(struct gw_config *c, const struct gw_node *key, const struct gw_node *v,
                        struct gw_diag *diag)
{
    char what[128];
    snprintf(what, sizeof(what), "source '%s'", key->scalar);
    struct gw_source_conf s = {0};
    bool ok = load_map(gw_source_settings, gw_source_settings_count, "", &s, v, what, diag);
    s.name = gw_strdup(key->scalar);
    size_t i = 0;
    while (i < c->n_sources && strcmp(c->sources[i].name, s.name) != 0) {
        i++;
    }
    if (i == c->n_sources) {
        c->sources = gw_realloc(c->sources, (c->n_sources + 1) * sizeof(*c->sources));
        c->n_sources++;
    } else {
        source_fini(&c->sources[i]);
    }
    c->sources[i] = s;
    return ok;
}

static bool load_sources(struct gw_config *c, const struct gw_node *v, struct gw_diag *diag)
{
    if (!gw_schema_is(diag, v, GW_NODE_MAP, "'sources'")) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        ok = load_source(c, v->keys[i], v->items[i], diag) && ok;
    }
    return ok;
}

static bool load_row(const struct gw_setting *tab, size_t n, const struct gw_setting *s,
                     void *obj, const struct gw_node *v, struct gw_diag *diag)
{
    char what[96];
    switch (s->type) {
    case GW_SET_SECTION:
        snprintf(what, sizeof(what), "'%s'", s->path);
        return load_map(tab, n, s->path, obj, v, what, diag);
    case GW_SET_SOURCES:
        return load_sources(obj, v, diag);
    case GW_SET_LIST:
        return load_list(s, obj, v, diag);
    case GW_SET_NODE:
        memcpy((char *)obj + s->off, &v, sizeof(v));
        return true;
    default:
        return load_scalar(s, obj, v, diag);
    }
}

/* The map at prefix ("" for the top): its keys checked against the table,
 * then each row present loaded. */
static bool load_map(const struct gw_setting *tab, size_t n, const char *prefix, void *obj,
                     const struct gw_node *map, const char *what, struct gw_diag *diag)
{
    const char *keys[64];
    gw_settings_keys(tab, n, prefix, keys, sizeof(keys) / sizeof(keys[0]) - 1);
    if (!gw_schema_keys(diag, map, what, keys)) {
        return false;
    }
    size_t plen = strlen(prefix);
    bool ok = true;
    for (size_t i = 0; keys[i] != NULL; i++) {
        const struct gw_node *v = gw_node_get(map, keys[i]);
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, plen ? "." : "", keys[i]);
        const struct gw_setting *s = gw_settings_path(tab, n, path);
        if (v != NULL && s != NULL) {
            ok = load_row(tab, n, s, obj, v, diag) && ok;
        }
    }
    return ok;
}

/* Applies a parsed document (takes doc: c keeps it for node positions). */
static enum gw_rc load_doc(struct gw_config *c, struct gw_doc *doc, struct gw_diag *diag)
{
    const struct gw_node *root = doc->root;
    bool ok = root != NULL &&
              load_map(gw_settings, gw_settings_count, "", c, root, "the configuration", diag);
    if (root == NULL) {
        gw_diag_error_at(diag, doc->file, 0, 0, "the configuration file is empty");
    }
    if (c->doc != NULL) {
        c->old_docs = gw_realloc(c->old_docs, (c->n_old_docs + 1) * sizeof(*c->old_docs));
        c->old_docs[c->n_old_docs++] = c->doc;
    }
    c->doc = doc;
    return ok ? GW_OK : GW_ERR_INVALID;
}

enum gw_rc gw_config_load_file(struct gw_config *c, const char *path, struct gw_diag *diag)
{
    struct gw_doc *doc = NULL;
    enum gw_rc rc = gw_yaml_parse_file(path, &doc, diag);
    return rc == GW_OK ? load_doc(c, doc, diag) : rc;
}

enum gw_rc gw_config_load_buffer(struct gw_config *c, const char *buf, size_t len,
                                 const char *name, struct gw_diag *diag)
{
    struct gw_doc *doc = NULL;
    enum gw_rc rc = gw_yaml_parse(buf, len, name, &doc, diag);
    return rc == GW_OK ? load_doc(c, doc, diag) : rc;
}

const struct gw_source_conf *gw_config_source(const struct gw_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_sources; i++) {
        if (strcmp(c->sources[i].name, name) == 0) {
            return &c->sources[i];
        }
    }
    return NULL;
}

const char *gw_config_endpoint(const struct gw_config *c, const char *source)
{
    const struct gw_source_conf *s = gw_config_source(c, source);
    return s != NULL && s->endpoint != NULL ? s->endpoint : c->endpoint;
}
