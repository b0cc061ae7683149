/* source.c -- sources bound to their configuration, sorted by name.
 * SPDX-License-Identifier: MIT */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "verify/verify.h"
#include "yaml.h"

struct gw_sources {
    struct gw_bound_source *v; /* sorted by name */
    size_t n;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct gw_bound_source *)a)->name,
                  ((const struct gw_bound_source *)b)->name);
}

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static void bind_one(const struct gw_config *cfg, const struct gw_source *src,
                     struct gw_bound_source *b)
{
    const struct gw_source_conf *sc = gw_config_source(cfg, gw_source_name(src));
    const char *scheme = gw_source_signature(src);
    b->name = gw_source_name(src);
    b->rules = src;
    b->secret = sc != NULL ? (sc->verify_key != NULL ? sc->verify_key : sc->secret) : NULL;
    /* without a secret nothing is checked, as the start-up warning says */
    b->scheme = b->secret != NULL ? gw_verify_find(scheme) : NULL;
    b->public_url = sc != NULL ? sc->public_url : NULL;
    b->write_key = sc != NULL ? nonempty(sc->write_key) : NULL;
    b->endpoint = sc != NULL && sc->endpoint != NULL ? sc->endpoint : cfg->endpoint;
    b->basic_auth = scheme != NULL && strcmp(scheme, "basic") == 0;
    b->tolerance_s = sc != NULL ? sc->tolerance_s : 0;
    b->allow_legacy = sc != NULL && sc->allow_legacy_signatures;
}

struct gw_sources *gw_sources_bind(const struct gw_config *cfg, const struct gw_ruleset *rs)
{
    struct gw_sources *set = gw_calloc(1, sizeof(*set));
    set->n = gw_ruleset_count(rs);
    set->v = gw_calloc(set->n ? set->n : 1, sizeof(*set->v));
    for (size_t i = 0; i < set->n; i++) {
        bind_one(cfg, gw_ruleset_at(rs, i), &set->v[i]);
    }
    qsort(set->v, set->n, sizeof(*set->v), by_name);
    for (size_t i = 0; i < set->n; i++) {
        set->v[i].id = i;
    }
    return set;
}

void gw_sources_destroy(struct gw_sources *set)
{
    if (set == NULL) {
        return;
    }
    free(set->v);
    free(set);
}

const struct gw_bound_source *gw_sources_find(const struct gw_sources *set, const char *name)
{
    if (set == NULL || name == NULL) {
        return NULL;
    }
    struct gw_bound_source key = {.name = name};
    return bsearch(&key, set->v, set->n, sizeof(*set->v), by_name);
}

/* The node of sources.NAME.KEY in the newest file that sets it, or NULL
 * (set from the environment or a flag). */
static const struct gw_node *conf_node(const struct gw_config *cfg, const char *name,
                                       const char *key)
{
    for (size_t i = 0; i <= cfg->n_old_docs; i++) {
        const struct gw_doc *doc = i == 0 ? cfg->doc : cfg->old_docs[cfg->n_old_docs - i];
        const struct gw_node *srcs = doc != NULL ? gw_node_get(doc->root, "sources") : NULL;
        const struct gw_node *src = srcs != NULL ? gw_node_get(srcs, name) : NULL;
        const struct gw_node *v = src != NULL ? gw_node_get(src, key) : NULL;
        if (v != NULL) {
            return v;
        }
    }
    return NULL;
}

static void lint_error(struct gw_diag *d, const struct gw_config *cfg, const char *name,
                       const char *key, const char *msg, size_t *errors)
{
    const struct gw_node *n = conf_node(cfg, name, key);
    if (n != NULL) {
        gw_diag_error(d, n, "sources.%s.%s: %s", name, key, msg);
    } else {
        char where[160];
        snprintf(where, sizeof(where), "sources.%s.%s", name, key);
        gw_diag_error_at(d, where, 0, 0, "%s", msg);
    }
    (*errors)++;
}

static void lint_one(const struct gw_config *cfg, const struct gw_source_conf *sc,
                     const struct gw_source *src, struct gw_diag *d, size_t *errors)
{
    const struct gw_verify_scheme *scheme = gw_verify_find(gw_source_signature(src));
    const char *key = sc->verify_key != NULL ? "verify_key" : "secret";
    const char *secret = sc->verify_key != NULL ? sc->verify_key : sc->secret;
    if (secret != NULL && scheme == NULL) {
        lint_error(d, cfg, sc->name, key,
                   "the source's rules name no signature scheme, so this would be ignored "
                   "(remove it, or add `signature: { scheme: ... }` to the rules)", errors);
        return;
    }
    if (secret != NULL && secret[0] == '\0') {
        lint_error(d, cfg, sc->name, key, "is empty: every signature would be forgeable", errors);
    }
    if (secret != NULL && gw_verify_signs_url(scheme) && sc->public_url == NULL &&
        cfg->n_trusted_proxies == 0) {
        lint_error(d, cfg, sc->name, key,
                   "the scheme signs the URL the partner calls, which cannot be known: set "
                   "public_url to it, or list the proxy in trusted_proxies", errors);
    }
    if (sc->public_url != NULL && strncmp(sc->public_url, "https://", 8) != 0 &&
        strncmp(sc->public_url, "http://", 7) != 0) {
        lint_error(d, cfg, sc->name, "public_url", "must be an http:// or https:// URL", errors);
    }
    if (sc->tolerance_s != 0 && gw_verify_tolerance(scheme) == 0) {
        lint_error(d, cfg, sc->name, "tolerance_s",
                   "has no effect: the source's scheme signs no timestamp", errors);
    }
    if (sc->allow_legacy_signatures && gw_verify_legacy(scheme) == NULL) {
        lint_error(d, cfg, sc->name, "allow_legacy_signatures",
                   "has no effect: the source's scheme has no legacy form", errors);
    }
}

size_t gw_sources_lint(const struct gw_config *cfg, const struct gw_ruleset *rs,
                       struct gw_diag *d)
{
    size_t errors = 0;
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const struct gw_source_conf *sc = &cfg->sources[i];
        const struct gw_source *src = gw_ruleset_find(rs, sc->name);
        if (src != NULL) {
            lint_one(cfg, sc, src, d, &errors);
        }
    }
    return errors;
}
