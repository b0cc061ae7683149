/* settings.c -- the table of settings, and parsing a value by its row.
 * SPDX-License-Identifier: MIT */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "mem.h"
#include "schema.h"

#define CFG(field)                                                                                 \
    .off = offsetof(struct gw_config, field), .size = sizeof(((struct gw_config *)0)->field)
#define SRC(field)                                                                                 \
    .off = offsetof(struct gw_source_conf, field),                                                 \
    .size = sizeof(((struct gw_source_conf *)0)->field)

static const struct gw_setting_value regions[] = {{"us", NULL}, {"eu", NULL}, {NULL, NULL}};
static const struct gw_setting_value durabilities[] = {
    {"os", "survives a crash of the process"},
    {"fsync", "survives power loss"},
    {NULL, NULL},
};
static const struct gw_setting_value on_invalid[] = {
    {"quarantine", "the valid calls relayed, the invalid ones dead-lettered and listed: 200"},
    {"reject", "one invalid call refuses the whole request: 422"},
    {NULL, NULL},
};
static const struct gw_setting_value log_levels[] = {
    {"debug", NULL}, {"info", NULL}, {"warn", NULL}, {"error", NULL}, {"off", NULL}, {NULL, NULL},
};

static const char *region_endpoint(const char *region)
{
    return strcmp(region, "eu") == 0 ? GW_ENDPOINT_EU : GW_ENDPOINT_US;
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = gw_strdup(v);
}

/* upstream.region picks the endpoint unless one was given */
static void on_region(void *obj, const struct gw_setting *s)
{
    struct gw_config *c = obj;
    if (!c->endpoint_set) {
        replace(&c->endpoint, region_endpoint(c->region));
    }
}

static void on_endpoint(void *obj, const struct gw_setting *s)
{
    ((struct gw_config *)obj)->endpoint_set = true;
}

/* sources.NAME.region: the endpoint of that region, unless one is given */
static void on_source_region(void *obj, const struct gw_setting *s)
{
    struct gw_source_conf *sc = obj;
    if (sc->endpoint == NULL) {
        sc->endpoint = gw_strdup(region_endpoint(sc->region));
    }
}

/* The order of the rows is the order of --help, of the README and of the
 * "expected one of" lists. */
const struct gw_setting gw_settings[] = {
    {NULL, GW_SET_FILE, NULL, "config", "FILE",
     .help = "YAML configuration file (none: built-in defaults)"},
    {"listen", GW_SET_STRING, "127.0.0.1:8080", "listen", "ADDR:PORT",
     "address to listen on (:0 picks a free port; the log line says which)", CFG(listen)},
    {"rules", GW_SET_STRING, "rules", "rules", "DIR", "rules directory", CFG(rules)},
    {"spool", GW_SET_STRING, "./spool", "spool", "DIR", "the durable queue and dead letters",
     CFG(spool)},
    {"limits", GW_SET_SECTION, NULL, NULL, NULL, .help = "request and storage limits (Operations, Limits)"},
    {"limits.max_body", GW_SET_SIZE, "512KiB", "max-body", NULL, "largest webhook body (413)",
     CFG(max_body), .min = 1, .max = 64ull << 20},
    {"limits.max_spool", GW_SET_SIZE, "1GiB", "max-spool", NULL,
     "queued bytes before webhooks get 503", CFG(max_spool), .min = 1u << 20, .max = UINT64_MAX},
    {"limits.max_spool_per_key", GW_SET_SIZE, "0", "max-spool-per-key", NULL,
     "queued bytes one write key may hold before its requests get 503 (0: half of max_spool)",
     CFG(max_spool_per_key), .min = 0, .max = UINT64_MAX},
    {"limits.max_url", GW_SET_UINT, "8192", NULL, NULL, "longest path and query in bytes (414)",
     CFG(max_url), .min = 64, .max = 1u << 20},
    {"limits.max_headers", GW_SET_UINT, "64", NULL, NULL, "most request headers (431)",
     CFG(max_headers), .min = 8, .max = 10000},
    {"limits.max_header_bytes", GW_SET_SIZE, "32KiB", NULL, NULL,
     "request line and headers per connection (431)", CFG(max_header_bytes), .min = 1024,
     .max = 1u << 20},
    {"limits.max_connections", GW_SET_UINT, "1024", NULL, NULL, "open connections in all",
     CFG(max_connections), .min = 1, .max = 1000000},
    {"limits.max_connections_per_ip", GW_SET_UINT, "64", NULL, NULL,
     "open connections per TCP peer (trusted_proxies are not capped)",
     CFG(max_connections_per_ip), .min = 1, .max = 1000000},
    {"limits.idle_timeout", GW_SET_UINT, "30", NULL, NULL,
     "seconds a silent connection is kept", CFG(idle_timeout_s), .min = 1, .max = 3600},
    {"limits.read_timeout", GW_SET_UINT, "60", NULL, NULL,
     "seconds to read a request: headers or a body dribbled in slower are cut", CFG(read_timeout_s),
     .min = 1, .max = 3600},
    {"limits.max_requests_per_client", GW_SET_UINT, "64", NULL, NULL,
     "requests in progress per client, as resolved through trusted_proxies (429)",
     CFG(max_requests_per_client), .min = 1, .max = 1000000},
    {"limits.lingering_bytes", GW_SET_SIZE, "4MiB", NULL, NULL,
     "body bytes read and discarded after a 413, so that the client reads the answer",
     CFG(lingering_bytes), .min = 0, .max = 1u << 30},
    {"limits.lingering_time", GW_SET_UINT, "30", NULL, NULL,
     "seconds spent discarding a refused body before the 413 is sent anyway",
     CFG(lingering_time_s), .min = 1, .max = 3600},
    {"limits.max_json_depth", GW_SET_UINT, "32", NULL, NULL, "deepest JSON nesting (400)",
     CFG(max_depth), .min = 2, .max = 1000},
    {"limits.max_events", GW_SET_UINT, "2500", NULL, NULL, "most events in one request (413)",
     CFG(max_events), .min = 1, .max = 100000},
    {"limits.max_form_fields", GW_SET_UINT, "1000", NULL, NULL, "most fields in a form body (413)",
     CFG(max_fields), .min = 1, .max = 100000},
    {"limits.max_dead_letters", GW_SET_SIZE, "256MiB", "max-dead-letters", NULL,
     "bytes of dead letters kept; the oldest go first", CFG(max_dead_letters), .min = 1u << 20,
     .max = UINT64_MAX},
    {"upstream", GW_SET_SECTION, NULL, NULL, NULL, .help = "where and how fast calls go to Segment"},
    {"upstream.region", GW_SET_ENUM, "us", "region", NULL,
     "Segment region: us = " GW_ENDPOINT_US ", eu = " GW_ENDPOINT_EU, CFG(region),
     .values = regions, .on_set = on_region},
    {"upstream.endpoint", GW_SET_URL, NULL, "endpoint", "URL",
     "Segment API base URL (default: the region's)", CFG(endpoint), .on_set = on_endpoint},
    {"upstream.max_rps", GW_SET_DOUBLE, "50", "max-rps", NULL,
     "requests per second to Segment, batch requests and retries included", CFG(max_rps),
     .dmin = 0.1, .dmax = 100000},
    {"upstream.timeout", GW_SET_UINT, "10", "upstream-timeout", "SECONDS",
     "one request to Segment, connect included; past it the batch is retried",
     CFG(upstream_timeout_s), .min = 1, .max = 300},
    {"sources", GW_SET_SOURCES, NULL, NULL, NULL, .help = "per-source settings: sources.NAME.KEY below"},
    {"dry_run", GW_SET_BOOL, "false", "dry-run", NULL, "map and validate, never relay",
     CFG(dry_run)},
    {"threads", GW_SET_UINT, "0", "threads", NULL, "HTTP worker threads (0: one per core it may run on)",
     CFG(threads), .min = 0, .max = 256},
    {"log_level", GW_SET_ENUM, "info", "log-level", "LEVEL", "lowest level logged",
     CFG(log_level), .values = log_levels},
    {"segment_source", GW_SET_STRING, NULL, NULL, NULL,
     "the source whose rules check Segment-shaped calls without context.integration.name",
     CFG(segment_source)},
    {"durability", GW_SET_ENUM_INDEX, "os", "durability", NULL,
     "what an acknowledged webhook survives", CFG(spool_fsync), .values = durabilities},
    {"trusted_proxies", GW_SET_LIST, NULL, NULL, NULL,
     "addresses or CIDRs whose X-Forwarded-For is believed", CFG(trusted_proxies),
     .count_off = offsetof(struct gw_config, n_trusted_proxies)},
    {"api", GW_SET_SECTION, NULL, NULL, NULL, .help = "the Segment-shaped endpoints, /v1/..."},
    {"api.integration", GW_SET_SECTION, NULL, NULL, NULL,
     .help = "context.integration stamped into /v1 calls that carry none"},
    {"api.integration.name", GW_SET_STRING, NULL, NULL, NULL, "its name (a slug)",
     CFG(api_integration_name)},
    {"api.integration.version", GW_SET_STRING, NULL, NULL, NULL, "its version (semver)",
     CFG(api_integration_version)},
    {"api.on_invalid", GW_SET_ENUM_INDEX, "quarantine", NULL, NULL,
     "what invalid /v1 calls do", CFG(api_reject), .values = on_invalid},
    {"api.cors_origins", GW_SET_LIST, NULL, NULL, NULL,
     "browser origins allowed to call /v1 (CORS), exactly as sent: https://app.example.com",
     CFG(api_cors_origins), .count_off = offsetof(struct gw_config, n_api_cors_origins)},
    {"api.allow_anonymous", GW_SET_BOOL, "false", NULL, NULL,
     "an anonymousId suffices for /v1 calls (first-party browser traffic)",
     CFG(api_allow_anonymous)},
    {"api.write_keys", GW_SET_LIST, NULL, NULL, NULL,
     "when set, /v1 takes only these write keys (others: 401)", CFG(api_write_keys),
     .count_off = offsetof(struct gw_config, n_api_write_keys), .secret = true},
    {"admin", GW_SET_SECTION, NULL, NULL, NULL,
     .help = "the debugger page and its admin routes (Debugger)"},
    {"admin.listen", GW_SET_STRING, NULL, NULL, "ADDR:PORT",
     "a listener of its own serving only the debugger (none: the main one, when loopback)",
     CFG(admin_listen)},
    {"admin.token", GW_SET_STRING, NULL, NULL, NULL,
     "Bearer token the debugger's routes require (none: no token)", CFG(admin_token),
     .secret = true},
    {"admin.max_requests", GW_SET_UINT, "500", NULL, NULL, "requests kept for the debugger",
     CFG(admin_max_requests), .min = 1, .max = 1000000},
    {"admin.max_bytes", GW_SET_SIZE, "8MiB", NULL, NULL, "bytes of requests kept for the debugger",
     CFG(admin_max_bytes), .min = 64u * 1024, .max = 4ull << 30},
};
const size_t gw_settings_count = sizeof(gw_settings) / sizeof(gw_settings[0]);

const struct gw_setting gw_source_settings[] = {
    {"write_key", GW_SET_STRING, NULL, NULL, NULL, "the Segment write key calls are sent with",
     SRC(write_key), .secret = true},
    {"endpoint", GW_SET_URL, NULL, NULL, "URL",
     "Segment API base URL for this source (default: its region's, else upstream's)",
     SRC(endpoint)},
    {"region", GW_SET_ENUM, NULL, NULL, NULL, "us or eu: a write key belongs to one region",
     SRC(region), .values = regions, .on_set = on_source_region},
    {"user_id", GW_SET_NODE, NULL, NULL, NULL,
     "overrides the rules' userId: a value, such as a list of paths (first present wins)",
     SRC(user_id)},
    {"secret", GW_SET_STRING, NULL, NULL, NULL, "signing secret of the source's scheme",
     SRC(secret), .secret = true},
    {"verify_key", GW_SET_STRING, NULL, NULL, NULL, "public key of ECDSA schemes (SendGrid)",
     SRC(verify_key)},
    {"public_url", GW_SET_STRING, NULL, NULL, "URL",
     "the URL as the partner calls it, where the scheme signs it (Twilio, Mandrill, HubSpot)",
     SRC(public_url)},
    {"tolerance_s", GW_SET_UINT, "0", NULL, NULL,
     "seconds a signed timestamp may be off, either way (0: the scheme's default, see Security)",
     SRC(tolerance_s), .max = 604800},
    {"allow_legacy_signatures", GW_SET_BOOL, "false", NULL, NULL,
     "also accept the partner's weaker legacy signature (GitHub SHA-1, HubSpot v1/v2)",
     SRC(allow_legacy_signatures)},
};
const size_t gw_source_settings_count = sizeof(gw_source_settings) / sizeof(gw_source_settings[0]);

const struct gw_setting *gw_settings_flag(const char *flag)
{
    for (size_t i = 0; i < gw_settings_count; i++) {
        if (gw_settings[i].flag != NULL && strcmp(gw_settings[i].flag, flag) == 0) {
            return &gw_settings[i];
        }
    }
    return NULL;
}

const struct gw_setting *gw_settings_path(const struct gw_setting *tab, size_t n,
                                          const char *path)
{
    for (size_t i = 0; i < n; i++) {
        if (tab[i].path != NULL && strcmp(tab[i].path, path) == 0) {
            return &tab[i];
        }
    }
    return NULL;
}

bool gw_setting_takes_value(const struct gw_setting *s)
{
    return s->type != GW_SET_BOOL;
}

bool gw_setting_env_name(const struct gw_setting *s, char *buf, size_t len)
{
    if (s->flag == NULL) {
        return false;
    }
    int n = snprintf(buf, len, "SOURCEGATE_%s", s->flag);
    if (n < 0 || (size_t)n >= len) {
        return false;
    }
    for (char *p = buf; *p != '\0'; p++) {
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    }
    return true;
}

const char *gw_setting_name(const struct gw_setting *s)
{
    return s->flag != NULL ? s->flag : s->path;
}

static void *field(void *obj, const struct gw_setting *s)
{
    return (char *)obj + s->off;
}

/* Fields of whole numbers are bool, unsigned (or int) or uint64_t. */
static void store_uint(void *obj, const struct gw_setting *s, uint64_t v)
{
    if (s->size == sizeof(bool)) {
        bool b = v != 0;
        memcpy(field(obj, s), &b, sizeof(b));
    } else if (s->size == sizeof(unsigned)) {
        unsigned u = (unsigned)v;
        memcpy(field(obj, s), &u, sizeof(u));
    } else {
        GW_ASSERT(s->size == sizeof(uint64_t));
        memcpy(field(obj, s), &v, sizeof(v));
    }
}

/* "512KiB", "1MiB", "1 byte", "1500 bytes": sizes as people write them. */
static void fmt_size(uint64_t v, char *buf, size_t len)
{
    static const struct {
        uint64_t mult;
        const char *unit;
    } units[] = {{1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (v >= units[i].mult && v % units[i].mult == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(v / units[i].mult), units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%llu byte%s", (unsigned long long)v, v == 1 ? "" : "s");
}

/* "a, b or c", each with its help in parentheses when it has one. */
static void fmt_values(const struct gw_setting_value *v, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; v[i].name != NULL && at < len; i++) {
        const char *sep = i == 0 ? "" : v[i + 1].name == NULL ? " or " : ", ";
        int n = v[i].help != NULL ? snprintf(buf + at, len - at, "%s%s (%s)", sep, v[i].name,
                                             v[i].help)
                                  : snprintf(buf + at, len - at, "%s%s", sep, v[i].name);
        at = n < 0 ? len : at + (size_t)n;
    }
}

static bool parse_uint(const char *value, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes"};
    static const char *const no[] = {"0", "false", "no"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
            *out = strcmp(value, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool find_value(const struct gw_setting_value *v, const char *value, size_t *idx)
{
    for (size_t i = 0; v[i].name != NULL; i++) {
        if (strcmp(v[i].name, value) == 0) {
            *idx = i;
            return true;
        }
    }
    return false;
}

static bool valid_url(const char *v)
{
    return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) &&
           strchr(v, ' ') == NULL;
}

/* The message of a value the row refuses. */
static void refuse(const struct gw_setting *s, char *err, size_t len)
{
    const char *name = gw_setting_name(s);
    char a[48], b[48], list[256];
    switch (s->type) {
    case GW_SET_URL:
        snprintf(err, len, "%s must be an http:// or https:// URL", name);
        break;
    case GW_SET_BOOL:
        snprintf(err, len, "%s takes true or false", name);
        break;
    case GW_SET_UINT:
        snprintf(err, len, "%s must be a whole number from %llu to %llu", name,
                 (unsigned long long)s->min, (unsigned long long)s->max);
        break;
    case GW_SET_SIZE:
        fmt_size(s->min, a, sizeof(a));
        fmt_size(s->max, b, sizeof(b));
        if (s->max == UINT64_MAX) {
            snprintf(err, len, "%s must be a size of at least %s, such as %s", name, a, s->def);
        } else {
            snprintf(err, len, "%s must be a size from %s to %s, such as %s", name, a, b, s->def);
        }
        break;
    case GW_SET_DOUBLE:
        snprintf(err, len, "%s must be a number from %g to %g", name, s->dmin, s->dmax);
        break;
    case GW_SET_ENUM:
    case GW_SET_ENUM_INDEX:
        fmt_values(s->values, list, sizeof(list));
        snprintf(err, len, "%s must be %s", name, list);
        break;
    case GW_SET_LIST:
    case GW_SET_NODE:
    case GW_SET_SECTION:
    case GW_SET_SOURCES:
    case GW_SET_FILE:
        snprintf(err, len, "%s is not a single value", name);
        break;
    default:
        snprintf(err, len, "%s needs a value", name);
        break;
    }
}

/* Parses value into a whole number for the numeric and enum-index rows. */
static bool parse_number(const struct gw_setting *s, const char *value, uint64_t *out)
{
    bool b = false;
    size_t idx = 0;
    switch (s->type) {
    case GW_SET_BOOL:
        if (!parse_bool(value, &b)) {
            return false;
        }
        *out = b;
        return true;
    case GW_SET_UINT:
        return parse_uint(value, out) && *out >= s->min && *out <= s->max;
    case GW_SET_SIZE:
        return gw_parse_size(value, out) && *out >= s->min && *out <= s->max;
    case GW_SET_ENUM_INDEX:
        if (!find_value(s->values, value, &idx)) {
            return false;
        }
        *out = idx;
        return true;
    default:
        return false;
    }
}

enum gw_rc gw_setting_set(const struct gw_setting *s, void *obj, const char *value, char *err,
                          size_t len)
{
    if (value == NULL && s->type == GW_SET_BOOL) {
        value = "true";
    }
    if (value == NULL || value[0] == '\0') {
        snprintf(err, len, "%s needs a value", gw_setting_name(s));
        return GW_ERR_INVALID;
    }
    size_t idx = 0;
    uint64_t u = 0;
    char *end = NULL;
    double d = 0;
    switch (s->type) {
    case GW_SET_STRING:
        replace(field(obj, s), value);
        break;
    case GW_SET_URL:
    case GW_SET_ENUM:
        if (s->type == GW_SET_URL ? !valid_url(value) : !find_value(s->values, value, &idx)) {
            refuse(s, err, len);
            return GW_ERR_INVALID;
        }
        replace(field(obj, s), value);
        break;
    case GW_SET_DOUBLE:
        errno = 0;
        d = strtod(value, &end);
        if (*end != '\0' || errno != 0 || !(d >= s->dmin && d <= s->dmax)) {
            refuse(s, err, len);
            return GW_ERR_INVALID;
        }
        memcpy(field(obj, s), &d, sizeof(d));
        break;
    case GW_SET_BOOL:
    case GW_SET_UINT:
    case GW_SET_SIZE:
    case GW_SET_ENUM_INDEX:
        if (!parse_number(s, value, &u)) {
            refuse(s, err, len);
            return GW_ERR_INVALID;
        }
        store_uint(obj, s, u);
        break;
    default:
        refuse(s, err, len);
        return GW_ERR_INVALID;
    }
    if (s->on_set != NULL) {
        s->on_set(obj, s);
    }
    return GW_OK;
}

void gw_settings_defaults(const struct gw_setting *tab, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++) {
        char err[256];
        if (tab[i].def != NULL) {
            /* a default the row itself refuses is a bug in the table */
            GW_ASSERT(gw_setting_set(&tab[i], obj, tab[i].def, err, sizeof(err)) == GW_OK);
        }
    }
}

void gw_settings_free(const struct gw_setting *tab, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++) {
        const struct gw_setting *s = &tab[i];
        if (s->type == GW_SET_STRING || s->type == GW_SET_URL || s->type == GW_SET_ENUM) {
            GW_FREE(*(char **)field(obj, s));
        } else if (s->type == GW_SET_LIST) {
            char ***list = field(obj, s);
            size_t *count = (size_t *)((char *)obj + s->count_off);
            for (size_t j = 0; j < *count; j++) {
                free((*list)[j]);
            }
            GW_FREE(*list);
            *count = 0;
        }
    }
}

size_t gw_settings_keys(const struct gw_setting *tab, size_t n, const char *prefix,
                        const char **keys, size_t max)
{
    size_t plen = strlen(prefix), k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        const char *p = tab[i].path;
        if (p == NULL) {
            continue;
        }
        if (plen > 0 && (strncmp(p, prefix, plen) != 0 || p[plen] != '.')) {
            continue;
        }
        const char *key = plen > 0 ? p + plen + 1 : p;
        if (strchr(key, '.') == NULL) {
            keys[k++] = key;
        }
    }
    keys[k] = NULL;
    return k;
}

/* ---- --help and the README's tables ---- */

/* The word after the flag in --help; an enum's values joined by sep ("|",
 * or "\\|" inside a markdown table). */
static const char *metavar(const struct gw_setting *s, const char *sep, char *buf, size_t len)
{
    static const char *const by_type[] = {
        [GW_SET_STRING] = "VALUE", [GW_SET_URL] = "URL",  [GW_SET_BOOL] = "",
        [GW_SET_UINT] = "N",       [GW_SET_SIZE] = "SIZE", [GW_SET_DOUBLE] = "N",
        [GW_SET_FILE] = "FILE",
    };
    if (s->metavar != NULL) {
        return s->metavar;
    }
    if (s->type == GW_SET_ENUM || s->type == GW_SET_ENUM_INDEX) {
        size_t at = 0;
        buf[0] = '\0';
        for (size_t i = 0; s->values[i].name != NULL && at < len; i++) {
            int n = snprintf(buf + at, len - at, "%s%s", i ? sep : "", s->values[i].name);
            at = n < 0 ? len : at + (size_t)n;
        }
        return buf;
    }
    return s->type < sizeof(by_type) / sizeof(by_type[0]) && by_type[s->type] ? by_type[s->type]
                                                                             : "VALUE";
}

/* The row's help, with an enum's values when the metavar does not show them
 * or they carry meanings. */
static void describe(const struct gw_setting *s, char *buf, size_t len)
{
    bool meanings = false;
    for (size_t i = 0; s->values != NULL && s->values[i].name != NULL; i++) {
        meanings = meanings || s->values[i].help != NULL;
    }
    if (s->values != NULL && (s->metavar != NULL || meanings)) {
        char list[256];
        fmt_values(s->values, list, sizeof(list));
        snprintf(buf, len, "%s: %s", s->help, list);
    } else {
        snprintf(buf, len, "%s", s->help);
    }
}

/* "--flag METAVAR" of the row in lhs; returns its length. */
static int flag_words(const struct gw_setting *s, char *lhs, size_t len)
{
    char mv[64];
    const char *m = metavar(s, "|", mv, sizeof(mv));
    return snprintf(lhs, len, "--%s%s%s", s->flag, m[0] ? " " : "", m);
}

void gw_settings_help(struct gw_buf *b)
{
    char lhs[96], what[512];
    int width = 0;
    for (size_t i = 0; i < gw_settings_count; i++) {
        int n = gw_settings[i].flag ? flag_words(&gw_settings[i], lhs, sizeof(lhs)) : 0;
        width = n > width ? n : width;
    }
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        if (s->flag == NULL) {
            continue;
        }
        flag_words(s, lhs, sizeof(lhs));
        describe(s, what, sizeof(what));
        GW_ASSERT(gw_buf_printf(b, "  %-*s %s%s%s%s\n", width, lhs, what,
                                s->def ? " (default: " : "", s->def ? s->def : "",
                                s->def ? ")" : "") == GW_OK);
    }
}

/* What a file takes for the row, for the keys table. */
static void kind(const struct gw_setting *s, char *buf, size_t len)
{
    char a[48], b[48], list[256];
    switch (s->type) {
    case GW_SET_URL:
        snprintf(buf, len, "URL");
        break;
    case GW_SET_BOOL:
        snprintf(buf, len, "true or false");
        break;
    case GW_SET_UINT:
        snprintf(buf, len, "%llu to %llu", (unsigned long long)s->min,
                 (unsigned long long)s->max);
        break;
    case GW_SET_SIZE:
        fmt_size(s->min, a, sizeof(a));
        fmt_size(s->max, b, sizeof(b));
        snprintf(buf, len, s->max == UINT64_MAX ? "size, at least %s" : "size, %s to %s", a, b);
        break;
    case GW_SET_DOUBLE:
        snprintf(buf, len, "%g to %g", s->dmin, s->dmax);
        break;
    case GW_SET_ENUM:
    case GW_SET_ENUM_INDEX:
        snprintf(buf, len, "`%s`",
                 metavar(&(struct gw_setting){.type = s->type, .values = s->values}, "\\|",
                         list, sizeof(list)));
        break;
    case GW_SET_LIST:
        snprintf(buf, len, "list of strings");
        break;
    case GW_SET_NODE:
        snprintf(buf, len, "value (as in rules)");
        break;
    case GW_SET_SECTION:
    case GW_SET_SOURCES:
        snprintf(buf, len, "map");
        break;
    default:
        snprintf(buf, len, "string");
        break;
    }
    if (s->secret) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, ", secret");
    }
}

static void key_row(struct gw_buf *b, const char *prefix, const struct gw_setting *s)
{
    char k[128], t[128], d[96], f[64], what[512];
    snprintf(k, sizeof(k), "`%s%s`", prefix, s->path);
    kind(s, t, sizeof(t));
    snprintf(d, sizeof(d), s->def ? "`%s`" : "", s->def ? s->def : "");
    snprintf(f, sizeof(f), s->flag ? "`--%s`" : "", s->flag ? s->flag : "");
    describe(s, what, sizeof(what));
    GW_ASSERT(gw_buf_printf(b, "| %s | %s | %s | %s | %s |\n", k, t, d, f, what) == GW_OK);
}

static void markdown_flags(struct gw_buf *b)
{
    GW_ASSERT(gw_buf_adds(b, "<!-- settings:flags -->\n| flag | environment | default | what |\n"
                             "|---|---|---|---|\n") == GW_OK);
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        char mv[64], env[64], lhs[96], d[96], what[512];
        if (s->flag == NULL) {
            continue;
        }
        const char *m = metavar(s, "\\|", mv, sizeof(mv));
        snprintf(lhs, sizeof(lhs), "`--%s%s%s`", s->flag, m[0] ? " " : "", m);
        GW_ASSERT(gw_setting_env_name(s, env, sizeof(env)));
        snprintf(d, sizeof(d), s->def ? "`%s`" : "none", s->def ? s->def : "");
        describe(s, what, sizeof(what));
        GW_ASSERT(gw_buf_printf(b, "| %s | `%s` | %s | %s |\n", lhs, env, d, what) == GW_OK);
    }
    GW_ASSERT(gw_buf_adds(b, "<!-- /settings:flags -->\n") == GW_OK);
}

static void markdown_keys(struct gw_buf *b)
{
    GW_ASSERT(gw_buf_adds(b, "<!-- settings:keys -->\n| key | takes | default | flag | what |\n"
                             "|---|---|---|---|---|\n") == GW_OK);
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        if (s->path != NULL && strncmp(s->path, "limits.", 7) != 0) {
            key_row(b, "", s);
        }
        for (size_t j = 0; s->type == GW_SET_SOURCES && j < gw_source_settings_count; j++) {
            key_row(b, "sources.NAME.", &gw_source_settings[j]);
        }
    }
    GW_ASSERT(gw_buf_adds(b, "<!-- /settings:keys -->\n") == GW_OK);
}

static void markdown_limits(struct gw_buf *b)
{
    GW_ASSERT(gw_buf_adds(b, "<!-- settings:limits -->\n| `limits.` key | takes | default | "
                             "flag | what |\n|---|---|---|---|---|\n") == GW_OK);
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        if (s->path != NULL && strncmp(s->path, "limits.", 7) == 0) {
            struct gw_setting row = *s;
            row.path = s->path + 7;
            key_row(b, "", &row);
        }
    }
    GW_ASSERT(gw_buf_adds(b, "<!-- /settings:limits -->\n") == GW_OK);
}

void gw_settings_markdown(struct gw_buf *b)
{
    markdown_flags(b);
    GW_ASSERT(gw_buf_adds(b, "\n") == GW_OK);
    markdown_keys(b);
    GW_ASSERT(gw_buf_adds(b, "\n") == GW_OK);
    markdown_limits(b);
}
