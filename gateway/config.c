/* config.c -- daemon configuration from defaults, YAML, environment, flags.
 * SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "mem.h"
#include "schema.h"
#include "yaml.h"

#define MAX_BODY_LIMIT (64ull << 20)

struct flag {
    const char *name;
    bool takes_value;
};

static const struct flag flags[] = {
    {"rules", true},    {"listen", true},  {"spool", true},     {"endpoint", true},
    {"region", true},   {"dry-run", false}, {"max-rps", true},  {"max-body", true},
    {"threads", true},  {"log-level", true}, {"durability", true}, {"max-spool", true},
};

void gw_config_init(struct gw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = gw_strdup("127.0.0.1:8080");
    c->rules = gw_strdup("rules");
    c->spool = gw_strdup("./spool");
    c->endpoint = gw_strdup(GW_ENDPOINT_US);
    c->region = gw_strdup("us");
    c->max_rps = 50;
    c->max_spool = 1ull << 30;
    c->max_url = 8192;
    c->max_headers = 64;
    c->max_header_bytes = 32 * 1024;
    c->max_connections = 1024;
    c->max_connections_per_ip = 64;
    c->idle_timeout_s = 30;
    c->read_timeout_s = 60;
    c->max_depth = 32;
    c->max_events = 2500;
    c->max_fields = 1000;
    c->max_body = 512 * 1024;
    c->log_level = gw_strdup("info");
}

static void source_fini(struct gw_source_conf *s)
{
    free(s->name);
    free(s->write_key);
    free(s->endpoint);
    free(s->secret);
    free(s->verify_key);
    free(s->public_url);
}

void gw_config_fini(struct gw_config *c)
{
    free(c->listen);
    free(c->rules);
    free(c->spool);
    free(c->endpoint);
    free(c->region);
    free(c->log_level);
    free(c->segment_source);
    free(c->admin_listen);
    free(c->admin_token);
    for (size_t i = 0; i < c->n_trusted_proxies; i++) {
        free(c->trusted_proxies[i]);
    }
    free(c->trusted_proxies);
    for (size_t i = 0; i < c->n_sources; i++) {
        source_fini(&c->sources[i]);
    }
    free(c->sources);
    gw_yaml_free(c->doc);
    memset(c, 0, sizeof(*c));
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = gw_strdup(v);
}

static const char *region_endpoint(const char *region)
{
    if (strcmp(region, "us") == 0) {
        return GW_ENDPOINT_US;
    }
    if (strcmp(region, "eu") == 0) {
        return GW_ENDPOINT_EU;
    }
    return NULL;
}

static bool valid_endpoint(const char *v)
{
    return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) &&
           strchr(v, ' ') == NULL;
}

static enum gw_rc set_number(const char *flag, const char *value, double min, double max,
                             double *out, const char **err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (value[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        *err = strcmp(flag, "max-rps") == 0 ? "max-rps must be a number from 0.1 to 100000"
                                            : "threads must be a whole number from 0 to 256";
        return GW_ERR_INVALID;
    }
    *out = v;
    return GW_OK;
}

static enum gw_rc set_bool(const char *value, bool *out, const char **err)
{
    if (value == NULL || strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
        strcmp(value, "yes") == 0) {
        *out = true;
        return GW_OK;
    }
    if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0) {
        *out = false;
        return GW_OK;
    }
    *err = "dry-run takes true or false";
    return GW_ERR_INVALID;
}

static enum gw_rc set_region(struct gw_config *c, const char *value, const char **err)
{
    const char *ep = region_endpoint(value);
    if (ep == NULL) {
        *err = "region must be us or eu";
        return GW_ERR_INVALID;
    }
    replace(&c->region, value);
    if (!c->endpoint_set) {
        replace(&c->endpoint, ep);
    }
    return GW_OK;
}

enum gw_rc gw_config_set(struct gw_config *c, const char *flag, const char *value,
                         const char **err)
{
    if (strcmp(flag, "dry-run") == 0) {
        return set_bool(value, &c->dry_run, err);
    }
    if (value == NULL || value[0] == '\0') {
        *err = "this flag needs a value";
        return GW_ERR_INVALID;
    }
    if (strcmp(flag, "rules") == 0) {
        replace(&c->rules, value);
    } else if (strcmp(flag, "listen") == 0) {
        replace(&c->listen, value);
    } else if (strcmp(flag, "spool") == 0) {
        replace(&c->spool, value);
    } else if (strcmp(flag, "endpoint") == 0) {
        if (!valid_endpoint(value)) {
            *err = "endpoint must be an http:// or https:// URL";
            return GW_ERR_INVALID;
        }
        replace(&c->endpoint, value);
        c->endpoint_set = true;
    } else if (strcmp(flag, "region") == 0) {
        return set_region(c, value, err);
    } else if (strcmp(flag, "max-rps") == 0) {
        return set_number(flag, value, 0.1, 100000, &c->max_rps, err);
    } else if (strcmp(flag, "threads") == 0) {
        double t = 0;
        enum gw_rc rc = set_number(flag, value, 0, 256, &t, err);
        c->threads = rc == GW_OK ? (unsigned)t : c->threads;
        return rc;
    } else if (strcmp(flag, "max-body") == 0) {
        uint64_t v = 0;
        if (!gw_parse_size(value, &v) || v < 1 || v > MAX_BODY_LIMIT) {
            *err = "max-body must be a size from 1 byte to 64MiB, such as 512KiB";
            return GW_ERR_INVALID;
        }
        c->max_body = v;
    } else if (strcmp(flag, "durability") == 0) {
        if (strcmp(value, "os") != 0 && strcmp(value, "fsync") != 0) {
            *err = "durability must be os (survives a crash of the process) or fsync (survives "
                   "power loss)";
            return GW_ERR_INVALID;
        }
        c->spool_fsync = strcmp(value, "fsync") == 0;
    } else if (strcmp(flag, "max-spool") == 0) {
        uint64_t v = 0;
        if (!gw_parse_size(value, &v) || v < (1u << 20)) {
            *err = "max-spool must be a size of at least 1MiB, such as 1GiB";
            return GW_ERR_INVALID;
        }
        c->max_spool = v;
    } else if (strcmp(flag, "log-level") == 0) {
        replace(&c->log_level, value);
    } else {
        *err = "unknown flag";
        return GW_ERR_INVALID;
    }
    return GW_OK;
}

bool gw_config_flag_takes_value(const char *flag, bool *known)
{
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(flag, flags[i].name) == 0) {
            *known = true;
            return flags[i].takes_value;
        }
    }
    *known = false;
    return false;
}

enum gw_rc gw_config_apply_env(struct gw_config *c, const char **err, const char **which)
{
    static char name[64];
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        snprintf(name, sizeof(name), "SOURCEGATE_");
        for (const char *s = flags[i].name; *s; s++) {
            size_t n = strlen(name);
            name[n] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
            name[n + 1] = '\0';
        }
        const char *v = getenv(name);
        if (v != NULL && gw_config_set(c, flags[i].name, v, err) != GW_OK) {
            *which = name;
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

/* Reads the scalar member key through expand() and hands it to the flag setter. */
static bool file_flag(struct gw_config *c, const struct gw_node *map, const char *key,
                      const char *flag, struct gw_diag *diag)
{
    const struct gw_node *v = gw_node_get(map, key);
    if (v == NULL) {
        return true;
    }
    char what[64];
    snprintf(what, sizeof(what), "key '%s'", key);
    if (!gw_schema_is(diag, v, GW_NODE_SCALAR, what)) {
        return false;
    }
    char *val = expand(v, diag);
    const char *err = NULL;
    bool ok = val != NULL && gw_config_set(c, flag, val, &err) == GW_OK;
    if (val != NULL && !ok) {
        gw_diag_error(diag, v, "%s (was given '%s')", err, v->scalar);
    }
    free(val);
    return ok;
}

static bool load_source(struct gw_config *c, const struct gw_node *key, const struct gw_node *v,
                        struct gw_diag *diag)
{
    static const char *const keys[] = {"write_key", "endpoint", "region", "user_id", "secret",
                                       "verify_key", "public_url", NULL};
    char what[128];
    snprintf(what, sizeof(what), "source '%s'", key->scalar);
    if (!gw_schema_keys(diag, v, what, keys)) {
        return false;
    }
    struct gw_source_conf s = {.name = gw_strdup(key->scalar), .user_id = gw_node_get(v, "user_id")};
    bool ok = true;
    const char *names[] = {"write_key", "endpoint", "secret", "verify_key", "public_url", "region"};
    char **slots[] = {&s.write_key, &s.endpoint, &s.secret, &s.verify_key, &s.public_url, NULL};
    for (size_t i = 0; i < 6; i++) {
        const struct gw_node *n = gw_node_get(v, names[i]);
        char *val = NULL;
        if (n == NULL) {
            continue;
        }
        if (!gw_schema_is(diag, n, GW_NODE_SCALAR, names[i]) || (val = expand(n, diag)) == NULL) {
            ok = false;
        } else if (i == 5) {
            const char *ep = region_endpoint(val);
            if (ep == NULL) {
                gw_diag_error(diag, n, "region must be us or eu (was given '%s')", n->scalar);
                ok = false;
            } else if (s.endpoint == NULL) {
                s.endpoint = gw_strdup(ep);
            }
            free(val);
        } else if (i == 1 && !valid_endpoint(val)) {
            gw_diag_error(diag, n, "endpoint must be an http:// or https:// URL");
            free(val);
            ok = false;
        } else {
            free(*slots[i]);
            *slots[i] = val;
        }
    }
    c->sources = gw_realloc(c->sources, (c->n_sources + 1) * sizeof(*c->sources));
    c->sources[c->n_sources++] = s;
    return ok;
}

/* The numeric limits: each a whole number in its range. */
static bool load_limits(struct gw_config *c, const struct gw_node *lim, struct gw_diag *diag)
{
    struct {
        const char *key;
        uint64_t min, max;
        unsigned *slot;
    } u[] = {
        {"max_url", 64, 1u << 20, &c->max_url},
        {"max_headers", 8, 10000, &c->max_headers},
        {"max_connections", 1, 1000000, &c->max_connections},
        {"max_connections_per_ip", 1, 1000000, &c->max_connections_per_ip},
        {"idle_timeout", 1, 3600, &c->idle_timeout_s},
        {"read_timeout", 1, 3600, &c->read_timeout_s},
        {"max_events", 1, 100000, &c->max_events},
        {"max_form_fields", 1, 100000, &c->max_fields},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        const struct gw_node *n = gw_node_get(lim, u[i].key);
        uint64_t v = 0;
        char what[64];
        snprintf(what, sizeof(what), "limits.%s", u[i].key);
        if (n != NULL && gw_schema_uint(diag, n, what, u[i].min, u[i].max, &v)) {
            *u[i].slot = (unsigned)v;
        } else if (n != NULL) {
            ok = false;
        }
    }
    const struct gw_node *n = gw_node_get(lim, "max_json_depth");
    uint64_t v = 0;
    if (n != NULL && gw_schema_uint(diag, n, "limits.max_json_depth", 2, 1000, &v)) {
        c->max_depth = (int)v;
    } else if (n != NULL) {
        ok = false;
    }
    n = gw_node_get(lim, "max_header_bytes");
    if (n != NULL && gw_schema_size(diag, n, "limits.max_header_bytes", 1024, 1u << 20, &v)) {
        c->max_header_bytes = v;
    } else if (n != NULL) {
        ok = false;
    }
    return ok;
}

static bool load_trusted(struct gw_config *c, const struct gw_node *root, struct gw_diag *diag)
{
    const struct gw_node *tp = gw_node_get(root, "trusted_proxies");
    if (tp == NULL) {
        return true;
    }
    if (!gw_schema_is(diag, tp, GW_NODE_SEQ, "'trusted_proxies'")) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < tp->n; i++) {
        if (!gw_schema_is(diag, tp->items[i], GW_NODE_SCALAR, "a trusted proxy")) {
            ok = false;
            continue;
        }
        c->trusted_proxies = gw_realloc(c->trusted_proxies,
                                        (c->n_trusted_proxies + 1) * sizeof(char *));
        c->trusted_proxies[c->n_trusted_proxies++] = gw_strdup(tp->items[i]->scalar);
    }
    return ok;
}

/* admin: { listen, token, max_requests, max_bytes } */
static bool load_admin(struct gw_config *c, const struct gw_node *root, struct gw_diag *diag)
{
    static const char *const keys[] = {"listen", "token", "max_requests", "max_bytes", NULL};
    const struct gw_node *adm = gw_node_get(root, "admin");
    if (adm == NULL) {
        return true;
    }
    if (!gw_schema_keys(diag, adm, "'admin'", keys)) {
        return false;
    }
    bool ok = true;
    const char *names[] = {"listen", "token"};
    char **slots[] = {&c->admin_listen, &c->admin_token};
    for (size_t i = 0; i < 2; i++) {
        const struct gw_node *n = gw_node_get(adm, names[i]);
        char *val = NULL;
        if (n != NULL && (!gw_schema_is(diag, n, GW_NODE_SCALAR, names[i]) ||
                          (val = expand(n, diag)) == NULL)) {
            ok = false;
        } else if (val != NULL) {
            free(*slots[i]);
            *slots[i] = val;
        }
    }
    const struct gw_node *n = gw_node_get(adm, "max_requests");
    if (n != NULL && !gw_schema_uint(diag, n, "admin.max_requests", 1, 1000000,
                                     &c->admin_max_requests)) {
        ok = false;
    }
    n = gw_node_get(adm, "max_bytes");
    if (n != NULL && !gw_schema_size(diag, n, "admin.max_bytes", 64 * 1024, 4ull << 30,
                                     &c->admin_max_bytes)) {
        ok = false;
    }
    return ok;
}

static bool load_sections(struct gw_config *c, const struct gw_node *root, struct gw_diag *diag)
{
    static const char *const lim_keys[] = {"max_body",        "max_spool",       "max_url",
                                           "max_headers",     "max_header_bytes", "max_connections",
                                           "max_connections_per_ip", "idle_timeout",
                                           "read_timeout",    "max_json_depth",  "max_events",
                                           "max_form_fields", NULL};
    static const char *const up_keys[] = {"region", "endpoint", "max_rps", NULL};
    bool ok = true;
    const struct gw_node *lim = gw_node_get(root, "limits");
    if (lim != NULL) {
        ok = gw_schema_keys(diag, lim, "'limits'", lim_keys) &&
             file_flag(c, lim, "max_body", "max-body", diag) &&
             file_flag(c, lim, "max_spool", "max-spool", diag) && load_limits(c, lim, diag);
    }
    const struct gw_node *up = gw_node_get(root, "upstream");
    if (up != NULL && gw_schema_keys(diag, up, "'upstream'", up_keys)) {
        ok = file_flag(c, up, "region", "region", diag) && ok;
        ok = file_flag(c, up, "endpoint", "endpoint", diag) && ok;
        ok = file_flag(c, up, "max_rps", "max-rps", diag) && ok;
    } else if (up != NULL) {
        ok = false;
    }
    const struct gw_node *src = gw_node_get(root, "sources");
    if (src != NULL && gw_schema_is(diag, src, GW_NODE_MAP, "'sources'")) {
        for (size_t i = 0; i < src->n; i++) {
            ok = load_source(c, src->keys[i], src->items[i], diag) && ok;
        }
    } else if (src != NULL) {
        ok = false;
    }
    return ok;
}

/* Applies a parsed document (takes doc: c keeps it for node positions). */
static enum gw_rc load_doc(struct gw_config *c, struct gw_doc *doc, struct gw_diag *diag)
{
    static const char *const keys[] = {"listen",  "rules",   "spool",   "limits",
                                       "upstream", "sources", "dry_run", "threads",
                                       "log_level", "segment_source", "durability",
                                       "trusted_proxies", "admin", NULL};
    const struct gw_node *root = doc->root;
    bool ok = root != NULL && gw_schema_keys(diag, root, "the configuration", keys);
    if (root == NULL) {
        gw_diag_error_at(diag, doc->file, 0, 0, "the configuration file is empty");
    }
    if (ok) {
        static const char *const pairs[][2] = {{"listen", "listen"},       {"rules", "rules"},
                                               {"spool", "spool"},         {"dry_run", "dry-run"},
                                               {"threads", "threads"},     {"log_level", "log-level"},
                                               {"durability", "durability"}};
        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
            ok = file_flag(c, root, pairs[i][0], pairs[i][1], diag) && ok;
        }
        ok = load_sections(c, root, diag) && ok;
        ok = load_trusted(c, root, diag) && ok;
        ok = load_admin(c, root, diag) && ok;
        const char *ss = NULL;
        if (gw_schema_str(diag, root, "segment_source", false, &ss) && ss != NULL) {
            free(c->segment_source);
    for (size_t i = 0; i < c->n_trusted_proxies; i++) {
        free(c->trusted_proxies[i]);
    }
    free(c->trusted_proxies);
            c->segment_source = gw_strdup(ss);
        } else if (ss == NULL && gw_node_get(root, "segment_source") != NULL) {
            ok = false;
        }
    }
    gw_yaml_free(c->doc);
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
