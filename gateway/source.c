/* source.c -- sources bound to their configuration, sorted by name.
 * SPDX-License-Identifier: MIT */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "verify/verify.h"

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
