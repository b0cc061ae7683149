/* runtime.h -- what the daemon serves with: the configuration (file,
 * environment, flags), the compiled rules and the ingest context, built as
 * one piece so that SIGHUP can build a new one and swap it in whole.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RUNTIME_H
#define GW_RUNTIME_H

#include <stddef.h>

#include "config.h"
#include "ingest.h"

struct gw_diag;
struct gw_relay;
struct gw_spool;
struct gw_ruleset;

/* How the command line configured the daemon; kept to rebuild on reload. */
struct gw_cmdline {
    const char *config;        /* --config, or NULL ($SOURCEGATE_CONFIG then) */
    const char *const *flagv;  /* flag name, value, flag name, value, ... */
    size_t flagn;
};

struct gw_runtime {
    struct gw_config cfg;
    struct gw_ruleset *rules;
    struct gw_ingest ing;
};

/* Builds cfg from defaults, the file, SOURCEGATE_* and the flags; applies
 * the log level. Returns 0, 1 (a bad file) or 2 (a bad flag or variable);
 * every problem is in d. */
int gw_runtime_config(struct gw_config *cfg, const struct gw_cmdline *cl, struct gw_diag *d);

/* Loads rules from paths (files or directories) and applies the per-source
 * settings of cfg. Returns a new ruleset, or NULL with the problems in d. */
struct gw_ruleset *gw_runtime_rules(const struct gw_config *cfg, const char *const *paths,
                                    size_t n, struct gw_diag *d);

/* Both of the above plus the ingest context (relay and spool borrowed, may
 * be NULL). Returns new, or NULL with *status (1 or 2) and the problems in d. */
struct gw_runtime *gw_runtime_load(const struct gw_cmdline *cl, struct gw_relay *relay,
                                   struct gw_spool *spool, struct gw_diag *d, int *status);

/* NULL is a no-op. */
void gw_runtime_free(struct gw_runtime *rt);

/* Warns once, at start-up or reload, of sources whose signatures will not be
 * checked for want of a secret. */
void gw_runtime_warn_unsigned(const struct gw_runtime *rt);

#endif
