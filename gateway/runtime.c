/* runtime.c -- configuration, rules and ingest context built as one piece.
 * SPDX-License-Identifier: MIT */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "settings.h"
#include "source.h"

int gw_runtime_config(struct gw_config *cfg, const struct gw_cmdline *cl, struct gw_diag *d)
{
    gw_config_init(cfg);
    char name[64];
    GW_ASSERT(gw_setting_env_name(gw_settings_flag("config"), name, sizeof(name)));
    const char *path = cl->config ? cl->config : getenv(name);
    if (path != NULL && gw_config_load_file(cfg, path, d) != GW_OK) {
        return 1;
    }
    const char *err = NULL, *which = NULL;
    if (gw_config_apply_env(cfg, &err, &which) != GW_OK) {
        GW_ASSERT(gw_setting_env_name(gw_settings_flag(which), name, sizeof(name)));
        gw_diag_error_at(d, name, 0, 0, "%s", err);
        return 2;
    }
    for (size_t i = 0; i < cl->flagn; i += 2) {
        if (gw_config_set(cfg, cl->flagv[i], cl->flagv[i + 1], &err) != GW_OK) {
            char flag[80];
            snprintf(flag, sizeof(flag), "--%s", cl->flagv[i]);
            gw_diag_error_at(d, flag, 0, 0, "%s", err);
            return 2;
        }
    }
    enum gw_log_level lvl = GW_LOG_INFO;
    /* the table's row took only the names gw_log_parse_level knows */
    GW_ASSERT(gw_log_parse_level(cfg->log_level, &lvl) == GW_OK);
    gw_log_set_level(lvl);
    return 0;
}

struct gw_ruleset *gw_runtime_rules(const struct gw_config *cfg, const char *const *paths,
                                    size_t n, struct gw_diag *d)
{
    struct gw_ruleset *rs = NULL;
    if (gw_rules_load_paths(paths, n, &rs, d) != GW_OK) {
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const struct gw_source_conf *sc = &cfg->sources[i];
        if (gw_ruleset_find(rs, sc->name) == NULL) {
            gw_diag_warn(d, NULL, "configuration names source '%s' but no rules file defines it",
                         sc->name);
            continue;
        }
        if (sc->user_id != NULL && gw_source_set_user_id(rs, sc->name, sc->user_id, d) != GW_OK) {
            gw_ruleset_destroy(rs);
            return NULL;
        }
    }
    /* Signature settings the rules cannot use are errors: lint fails and
     * serve refuses to start rather than accept what it cannot check. */
    if (gw_sources_lint(cfg, rs, d) > 0) {
        gw_ruleset_destroy(rs);
        return NULL;
    }
    return rs;
}

struct gw_runtime *gw_runtime_load(const struct gw_cmdline *cl, struct gw_relay *relay,
                                   struct gw_spool *spool, struct gw_diag *d, int *status)
{
    struct gw_runtime *rt = gw_calloc(1, sizeof(*rt));
    *status = gw_runtime_config(&rt->cfg, cl, d);
    if (*status == 0) {
        const char *path = rt->cfg.rules;
        rt->rules = gw_runtime_rules(&rt->cfg, &path, 1, d);
        *status = rt->rules == NULL ? 1 : 0;
    }
    if (*status != 0) {
        gw_runtime_free(rt);
        return NULL;
    }
    gw_ingest_init(&rt->ing, &rt->cfg, rt->rules);
    rt->ing.relay = relay;
    rt->ing.spool = spool;
    return rt;
}

void gw_runtime_free(struct gw_runtime *rt)
{
    if (rt == NULL) {
        return;
    }
    gw_ingest_fini(&rt->ing);
    gw_ruleset_destroy(rt->rules);
    gw_config_fini(&rt->cfg);
    free(rt);
}

void gw_runtime_warn_unsigned(const struct gw_runtime *rt)
{
    for (size_t i = 0; i < gw_ruleset_count(rt->rules); i++) {
        const struct gw_source *src = gw_ruleset_at(rt->rules, i);
        const char *scheme = gw_source_signature(src);
        const struct gw_source_conf *sc = gw_config_source(&rt->cfg, gw_source_name(src));
        if (scheme != NULL && (sc == NULL || (sc->secret == NULL && sc->verify_key == NULL))) {
            gw_warn("main", "source %s: no secret configured (sources.%s.%s); its %s "
                    "signatures are not checked", gw_source_name(src), gw_source_name(src),
                    strcmp(scheme, "sendgrid") == 0 ? "verify_key" : "secret", scheme);
        }
    }
}
