/* config.h -- the daemon's configuration: built-in defaults, then the YAML
 * file, then SOURCEGATE_<FLAG> environment variables, then flags. Every
 * setting is one row of the table in settings.c, which says where it lands
 * in struct gw_config.
 * SPDX-License-Identifier: MIT */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct gw_diag;
struct gw_doc;
struct gw_node;

#define GW_ENDPOINT_US "https://api.segment.io/v1"
#define GW_ENDPOINT_EU "https://events.eu1.segmentapis.com/v1"

/* Per-source settings from the file's `sources:` map. Strings are owned. */
struct gw_source_conf {
    char *name;
    char *write_key;  /* secret: never log it */
    char *endpoint;   /* NULL: the upstream one */
    const struct gw_node *user_id; /* borrowed from the config document, or NULL */
    char *secret;     /* signing secret (HMAC schemes); secret */
    char *verify_key; /* public verification key (ECDSA schemes) */
    char *public_url; /* the URL as the partner calls it (Twilio, Mandrill, HubSpot sign it) */
    char *region;     /* "us", "eu" or NULL; it gave endpoint unless one was given */
    unsigned tolerance_s; /* window of signed timestamps; 0: the scheme's default */
    bool allow_legacy_signatures; /* accept the partner's weaker legacy signature form */
};

struct gw_config {
    char *listen;      /* "127.0.0.1:8080" */
    char *rules;       /* rules directory */
    char *spool;
    char *endpoint;    /* upstream base URL, ".../v1" */
    bool endpoint_set; /* given explicitly (else derived from region) */
    char *region;      /* "us" or "eu" */
    bool dry_run;
    double max_rps;
    unsigned upstream_timeout_s; /* upstream.timeout */
    bool spool_fsync;   /* durability: fsync (survives power loss) rather than os */
    uint64_t max_spool; /* queued bytes before webhooks get 503 (1 GiB) */
    uint64_t max_spool_per_key; /* of them, one write key's (0: half of max_spool) */
    uint64_t max_body;
    unsigned threads;  /* HTTP worker threads; 0: one per core */
    char *log_level;
    unsigned max_url;           /* limits.max_url (414) */
    unsigned max_headers;       /* limits.max_headers (431) */
    uint64_t max_header_bytes;  /* limits.max_header_bytes (431) */
    unsigned max_connections;   /* limits.max_connections */
    unsigned max_connections_per_ip;
    unsigned idle_timeout_s;    /* limits.idle_timeout */
    unsigned read_timeout_s;    /* limits.read_timeout */
    unsigned max_requests_per_client; /* limits.max_requests_per_client (429) */
    uint64_t lingering_bytes;   /* limits.lingering_bytes: discarded after a 413 */
    unsigned lingering_time_s;  /* limits.lingering_time */
    int max_depth;              /* limits.max_json_depth (400) */
    unsigned max_events;        /* limits.max_events (413) */
    unsigned max_fields;        /* limits.max_form_fields (413) */
    uint64_t max_dead_letters;  /* limits.max_dead_letters: bytes, oldest evicted */
    char **trusted_proxies;     /* X-Forwarded-For is believed from these (addresses, CIDRs) */
    size_t n_trusted_proxies;
    char *segment_source; /* rules for Segment-shaped calls without context.integration.name */
    /* api: the Segment-shaped endpoints (/v1/...) */
    char *api_integration_name;    /* stamped into context.integration of calls with none */
    char *api_integration_version;
    bool api_reject;               /* on_invalid: reject (422, all or nothing), not quarantine */
    char **api_cors_origins;       /* browser origins allowed to call /v1 */
    size_t n_api_cors_origins;
    bool api_allow_anonymous;      /* an anonymousId suffices for /v1 calls */
    char **api_write_keys;         /* when set, only these keys (secret) */
    size_t n_api_write_keys;
    /* admin: the debugger's listener of its own, its token (a secret), its
     * ring's bounds; defaults in gateway/settings.c */
    char *admin_listen;
    char *admin_token;
    uint64_t admin_max_requests;
    uint64_t admin_max_bytes;
    struct gw_source_conf *sources;
    size_t n_sources;
    struct gw_doc *doc; /* the file, kept for node positions */
    struct gw_doc **old_docs; /* files loaded before it: user_id nodes may point there */
    size_t n_old_docs;
    char err[192];      /* the message of the last refused gw_config_set */
};

/* Fills c with the built-in defaults: the table's. */
void gw_config_init(struct gw_config *c);

/* The built-in defaults, made once; borrowed, valid for the process's life,
 * never to be modified. Option structs of other modules take theirs here. */
const struct gw_config *gw_config_defaults(void);
/* Frees what c owns; a zeroed config is a no-op. */
void gw_config_fini(struct gw_config *c);

/* Reads the YAML file path over c: each setting the file gives replaces
 * c's, a source replaces the one of its name. ${VAR} in values reads the
 * environment (an unset variable is an error). All problems go to diag. */
enum gw_rc gw_config_load_file(struct gw_config *c, const char *path, struct gw_diag *diag) GW_WUR;

/* The same from a buffer (borrowed); name is the file name in diagnostics. */
enum gw_rc gw_config_load_buffer(struct gw_config *c, const char *buf, size_t len,
                                 const char *name, struct gw_diag *diag) GW_WUR;

/* Sets one flag by its command-line name without dashes ("listen", "max-rps",
 * "dry-run", ...). value is NULL for a boolean flag given bare. On error *err
 * borrows c->err, valid until the next call, and c is not modified. */
enum gw_rc gw_config_set(struct gw_config *c, const char *flag, const char *value,
                         const char **err) GW_WUR;

/* Applies SOURCEGATE_<FLAG> environment variables for every flag of the
 * table that lands in c. On error *err is as for gw_config_set and *which
 * borrows the flag whose variable was refused (gw_setting_env_name names
 * the variable). */
enum gw_rc gw_config_apply_env(struct gw_config *c, const char **err, const char **which) GW_WUR;

/* True when name is a flag that takes a value; *known says whether it exists. */
bool gw_config_flag_takes_value(const char *flag, bool *known);

/* Returns the settings of source name, borrowed, or NULL. */
const struct gw_source_conf *gw_config_source(const struct gw_config *c, const char *name);

/* The endpoint to use for a source (its own, else the upstream one), borrowed. */
const char *gw_config_endpoint(const struct gw_config *c, const char *source);

#endif
