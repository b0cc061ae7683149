/* source.h -- each source's compiled rules bound to its configuration once,
 * at load: secret, signature scheme, public URL, write key and endpoint, so
 * that a request finds all of it in one lookup.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SOURCE_H
#define GW_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

struct gw_config;
struct gw_ruleset;
struct gw_source;
struct gw_verify_scheme;

/* One source, ready to serve. Every pointer is borrowed from the ruleset
 * or the configuration it was bound from, and valid while they live. */
struct gw_bound_source {
    size_t id;                            /* its index in the set */
    const char *name;
    const struct gw_source *rules;        /* the compiled rules */
    const struct gw_verify_scheme *scheme; /* NULL: signatures are not checked (no scheme,
                                             or no secret configured) */
    const char *secret;                   /* verify_key or secret: never log it */
    const char *public_url;               /* as the partner calls it, or NULL */
    const char *write_key;                /* the configured one, or NULL: never log it */
    const char *endpoint;                 /* the source's own, else the upstream one */
    bool basic_auth;                      /* the scheme spends the request's Basic auth
                                             on the partner's credentials */
    unsigned tolerance_s;                 /* signed timestamps' window; 0: the scheme's */
    bool allow_legacy;                    /* the partner's weaker legacy form is accepted */
};

struct gw_sources;

/* Binds every source of rs to its settings in cfg (both borrowed; they must
 * outlive the set). Returns a new set. */
struct gw_sources *gw_sources_bind(const struct gw_config *cfg, const struct gw_ruleset *rs);
/* NULL is a no-op. */
void gw_sources_destroy(struct gw_sources *set);

struct gw_diag;

/* Checks cfg's signature settings against the rules of rs (both borrowed)
 * and reports each mistake in d at its place in the file: a secret on a
 * source whose rules name no scheme (it would be silently ignored), an empty
 * secret, a URL-signing scheme (Twilio, Mandrill, HubSpot) with a secret but
 * neither public_url nor trusted_proxies, tolerance_s on a scheme that signs
 * no timestamp, allow_legacy_signatures on one without a legacy form.
 * Returns the number of errors added. */
size_t gw_sources_lint(const struct gw_config *cfg, const struct gw_ruleset *rs,
                       struct gw_diag *d);

/* Returns the source called name (a binary search), or NULL. Borrowed. */
const struct gw_bound_source *gw_sources_find(const struct gw_sources *set, const char *name);

#endif
