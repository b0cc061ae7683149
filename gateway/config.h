/* config.h -- the daemon's configuration: built-in defaults, then the YAML
 * file, then SOURCEGATE_<FLAG> environment variables, then flags.
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
    bool spool_fsync;   /* durability: fsync (survives power loss) rather than os */
    uint64_t max_spool; /* queued bytes before webhooks get 503 (1 GiB) */
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
    int max_depth;              /* limits.max_json_depth (400) */
    unsigned max_events;        /* limits.max_events (413) */
    unsigned max_fields;        /* limits.max_form_fields (413) */
    char **trusted_proxies;     /* X-Forwarded-For is believed from these (addresses, CIDRs) */
    size_t n_trusted_proxies;
    char *segment_source; /* rules for Segment-shaped calls without context.integration.name */
    /* admin: the debugger's listener of its own, its token (a secret), its
     * ring's bounds; NULL and 0 leave gw_admin_opts_init's defaults */
    char *admin_listen;
    char *admin_token;
    uint64_t admin_max_requests;
    uint64_t admin_max_bytes;
    struct gw_source_conf *sources;
    size_t n_sources;
    struct gw_doc *doc; /* the file, kept for node positions */
};

/* Fills c with the built-in defaults. */
void gw_config_init(struct gw_config *c);
/* Frees what c owns; a zeroed config is a no-op. */
void gw_config_fini(struct gw_config *c);

/* Reads the YAML file path over c. ${VAR} in values reads the environment
 * (an unset variable is an error). All problems go to diag. */
enum gw_rc gw_config_load_file(struct gw_config *c, const char *path, struct gw_diag *diag) GW_WUR;

/* The same from a buffer (borrowed); name is the file name in diagnostics. */
enum gw_rc gw_config_load_buffer(struct gw_config *c, const char *buf, size_t len,
                                 const char *name, struct gw_diag *diag) GW_WUR;

/* Sets one flag by its command-line name without dashes ("listen", "max-rps",
 * "dry-run", ...). value is NULL for a boolean flag given bare. On error *err
 * is a static or new message... always static. */
enum gw_rc gw_config_set(struct gw_config *c, const char *flag, const char *value,
                         const char **err) GW_WUR;

/* Applies SOURCEGATE_<FLAG> environment variables for every known flag. */
enum gw_rc gw_config_apply_env(struct gw_config *c, const char **err, const char **which) GW_WUR;

/* True when name is a flag that takes a value; *known says whether it exists. */
bool gw_config_flag_takes_value(const char *flag, bool *known);

/* Returns the settings of source name, borrowed, or NULL. */
const struct gw_source_conf *gw_config_source(const struct gw_config *c, const char *name);

/* The endpoint to use for a source (its own, else the upstream one), borrowed. */
const char *gw_config_endpoint(const struct gw_config *c, const char *source);

#endif
