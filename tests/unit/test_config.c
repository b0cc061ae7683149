/* test_config.c -- configuration: defaults, file, environment, flags.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "decode.h"
#include "diag.h"
#include "gw_test.h"
#include "log.h"
#include "relay/relay.h"
#include "server.h"
#include "settings.h"
#include "spool/spool.h"
#include "yaml.h"

Test(config, defaults_match_the_design)
{
    struct gw_config c;
    gw_config_init(&c);
    cr_expect_str_eq(c.listen, "127.0.0.1:8080");
    cr_expect_str_eq(c.rules, "rules");
    cr_expect_str_eq(c.spool, "./spool");
    cr_expect_str_eq(c.endpoint, "https://api.segment.io/v1");
    cr_expect_eq(c.max_rps, 50);
    cr_expect_eq(c.max_body, 512 * 1024);
    cr_expect(!c.dry_run);
    gw_config_fini(&c);
}

Test(config, file_then_env_then_flags)
{
    setenv("GWT_SENDGRID_KEY", "wk_from_env", 1);
    setenv("SOURCEGATE_MAX_RPS", "20", 1);
    struct gw_config c;
    gw_config_init(&c);
    struct gw_diag *d = gw_diag_create();
    char *path = gwt_data_path("config/ok/full.yaml");
    cr_assert_eq(gw_config_load_file(&c, path, d), GW_OK, "%s", gw_diag_join(d));
    cr_expect_str_eq(c.listen, "0.0.0.0:9090");
    cr_expect_str_eq(c.endpoint, "https://events.eu1.segmentapis.com/v1");
    cr_expect_eq(c.max_rps, 10);
    cr_expect_eq(c.max_body, 256 * 1024);
    const struct gw_source_conf *sg = gw_config_source(&c, "sendgrid");
    cr_assert_not_null(sg);
    cr_expect_str_eq(sg->write_key, "wk_from_env");
    cr_expect_str_eq(gw_config_endpoint(&c, "sendgrid"), "https://events.eu1.segmentapis.com/v1");
    cr_expect_str_eq(gw_config_endpoint(&c, "github"), "http://127.0.0.1:9/v1");
    const char *err = NULL, *which = NULL;
    cr_assert_eq(gw_config_apply_env(&c, &err, &which), GW_OK);
    cr_expect_eq(c.max_rps, 20);
    cr_assert_eq(gw_config_set(&c, "max-rps", "5", &err), GW_OK);
    cr_expect_eq(c.max_rps, 5);
    cr_expect_eq(gw_config_set(&c, "region", "mars", &err), GW_ERR_INVALID);
    cr_expect_str_eq(err, "region must be us or eu");
    cr_expect_eq(gw_config_set(&c, "endpoint", "ftp://x", &err), GW_ERR_INVALID);
    cr_expect_eq(gw_config_set(&c, "max-body", "lots", &err), GW_ERR_INVALID);
    unsetenv("SOURCEGATE_MAX_RPS");
    free(path);
    gw_diag_destroy(d);
    gw_config_fini(&c);
}

Test(config, bad_files_pin_their_diagnostics)
{
    static const char *const names[] = {"unknown_keys", "unset_env", "bad_values"};
    unsetenv("GWT_NOT_SET");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char rel[128], exp_rel[128];
        snprintf(rel, sizeof(rel), "config/bad/%s.yaml", names[i]);
        snprintf(exp_rel, sizeof(exp_rel), "config/bad/%s.expect", names[i]);
        char *path = gwt_data_path(rel);
        char *expect = gwt_read(exp_rel, NULL);
        struct gw_config c;
        gw_config_init(&c);
        struct gw_diag *d = gw_diag_create();
        cr_expect_eq(gw_config_load_file(&c, path, d), GW_ERR_INVALID, "%s", names[i]);
        char *got = gw_diag_join(d);
        /* diagnostics carry the path as given; the expect files say DATA/ */
        char *prefix = gwt_data_path("");
        size_t plen = strlen(prefix);
        struct gw_buf want;
        gw_buf_init(&want, 1u << 20);
        for (const char *s = expect; *s;) {
            const char *at = strstr(s, "DATA/");
            size_t n = at ? (size_t)(at - s) : strlen(s);
            cr_assert_eq(gw_buf_add(&want, s, n), GW_OK);
            if (at == NULL) {
                break;
            }
            cr_assert_eq(gw_buf_add(&want, prefix, plen), GW_OK);
            s = at + 5;
        }
        cr_expect_str_eq(got, gw_buf_str(&want), "%s:\n--- got\n%s--- expected\n%s", names[i], got,
                         gw_buf_str(&want));
        gw_buf_fini(&want);
        free(prefix);
        free(got);
        free(expect);
        free(path);
        gw_diag_destroy(d);
        gw_config_fini(&c);
    }
}

/* The value at a dotted path of a YAML map, or NULL. */
static const struct gw_node *node_at(const struct gw_node *map, const char *path)
{
    char key[128];
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    snprintf(key, sizeof(key), "%.*s", (int)n, path);
    const struct gw_node *v = map ? gw_node_get(map, key) : NULL;
    return dot && v ? node_at(v, dot + 1) : v;
}

static void load_every_key(struct gw_config *c, struct gw_diag *d)
{
    char *rules = gwt_root_path("rules");
    setenv("GWT_EVERY_RULES", rules, 1);
    char *path = gwt_data_path("config/ok/every_key.yaml");
    cr_assert_eq(gw_config_load_file(c, path, d), GW_OK, "%s", gw_diag_join(d));
    cr_expect_str_eq(c->rules, rules);
    free(path);
    free(rules);
}

static void expect_every_key(const struct gw_config *c)
{
    cr_expect_str_eq(c->listen, "127.0.0.1:0");
    cr_expect_str_eq(c->spool, "/nonexistent/every-key-spool");
    cr_expect_eq(c->max_body, 1u << 20);
    cr_expect_eq(c->max_spool, 2ull << 30);
    cr_expect_eq(c->max_url, 4096);
    cr_expect_eq(c->max_headers, 32);
    cr_expect_eq(c->max_header_bytes, 16 * 1024);
    cr_expect_eq(c->max_connections, 512);
    cr_expect_eq(c->max_connections_per_ip, 16);
    cr_expect_eq(c->idle_timeout_s, 20);
    cr_expect_eq(c->read_timeout_s, 40);
    cr_expect_eq(c->max_depth, 24);
    cr_expect_eq(c->max_events, 1000);
    cr_expect_eq(c->max_fields, 500);
    cr_expect_eq(c->max_dead_letters, 64ull << 20);
    cr_expect_str_eq(c->region, "eu");
    cr_expect_str_eq(c->endpoint, "http://127.0.0.1:9/v1", "an explicit endpoint beats the region");
    cr_expect_eq(c->max_rps, 20);
    cr_expect_eq(c->upstream_timeout_s, 7);
    cr_expect(c->dry_run);
    cr_expect_eq(c->threads, 2);
    cr_expect_str_eq(c->log_level, "debug");
    cr_expect_str_eq(c->segment_source, "sendgrid");
    cr_expect(c->spool_fsync);
    cr_assert_eq(c->n_trusted_proxies, 2);
    cr_expect_str_eq(c->trusted_proxies[0], "127.0.0.0/8");
    cr_expect_str_eq(c->trusted_proxies[1], "::1");
    cr_expect_str_eq(c->admin_listen, "127.0.0.1:0");
    cr_expect_str_eq(c->admin_token, "every-admin-token");
    cr_expect_eq(c->admin_max_requests, 300);
    cr_expect_eq(c->admin_max_bytes, 1u << 20);
    cr_assert_eq(c->n_sources, 1);
    const struct gw_source_conf *s = gw_config_source(c, "sendgrid");
    cr_assert_not_null(s);
    cr_expect_str_eq(s->write_key, "wk_every");
    cr_expect_str_eq(s->endpoint, "http://127.0.0.1:9/eu");
    cr_expect_str_eq(s->region, "eu");
    cr_assert_not_null(s->user_id);
    cr_expect_eq(s->user_id->n, 2);
    cr_expect_str_eq(s->user_id->items[0]->scalar, "customer_id");
    cr_expect_str_eq(s->secret, "every-secret");
    cr_expect_str_eq(s->verify_key, "every-verify-key");
    cr_expect_str_eq(s->public_url, "https://hooks.example.com/webhooks/sendgrid");
}

/* trusted_proxies and segment_source together once freed the list that
 * was just read; a load over a loaded config replaces, never duplicates. */
Test(config, every_key_lands_and_reloads_over_itself)
{
    struct gw_config c;
    gw_config_init(&c);
    struct gw_diag *d = gw_diag_create();
    load_every_key(&c, d);
    expect_every_key(&c);
    load_every_key(&c, d);
    expect_every_key(&c);
    cr_expect_eq(gw_diag_errors(d), 0);
    gw_diag_destroy(d);
    gw_config_fini(&c);
}

/* A row added to the table without a line in every_key.yaml fails here. */
Test(config, every_key_file_sets_every_row)
{
    struct gw_config c;
    gw_config_init(&c);
    struct gw_diag *d = gw_diag_create();
    load_every_key(&c, d);
    for (size_t i = 0; i < gw_settings_count; i++) {
        const char *p = gw_settings[i].path;
        cr_expect(p == NULL || node_at(c.doc->root, p) != NULL, "every_key.yaml lacks %s", p);
    }
    const struct gw_node *sg = node_at(c.doc->root, "sources.sendgrid");
    for (size_t i = 0; i < gw_source_settings_count; i++) {
        cr_expect_not_null(node_at(sg, gw_source_settings[i].path),
                           "every_key.yaml's source lacks %s", gw_source_settings[i].path);
    }
    gw_diag_destroy(d);
    gw_config_fini(&c);
}

Test(config, flags_and_variables_come_from_the_table)
{
    bool known = false;
    cr_expect(gw_config_flag_takes_value("max-rps", &known) && known);
    cr_expect(!gw_config_flag_takes_value("dry-run", &known) && known);
    cr_expect(gw_config_flag_takes_value("config", &known) && known);
    cr_expect(!gw_config_flag_takes_value("max_rps", &known) && !known);
    char name[64];
    cr_assert(gw_setting_env_name(gw_settings_flag("max-body"), name, sizeof(name)));
    cr_expect_str_eq(name, "SOURCEGATE_MAX_BODY");
    cr_expect(!gw_setting_env_name(gw_settings_flag("max-body"), name, 12), "too small a buffer");

    setenv("SOURCEGATE_THREADS", "lots", 1);
    struct gw_config c;
    gw_config_init(&c);
    const char *err = NULL, *which = NULL;
    cr_expect_eq(gw_config_apply_env(&c, &err, &which), GW_ERR_INVALID);
    cr_expect_str_eq(which, "threads");
    cr_expect_str_eq(err, "threads must be a whole number from 0 to 256");
    cr_expect_eq(c.threads, 0, "a refused value changes nothing");
    unsetenv("SOURCEGATE_THREADS");
    cr_expect_eq(gw_config_set(&c, "durability", "disk", &err), GW_ERR_INVALID);
    cr_expect_str_eq(err, "durability must be os (survives a crash of the process) or fsync "
                          "(survives power loss)");
    cr_expect_eq(gw_config_set(&c, "max-spool", "1KiB", &err), GW_ERR_INVALID);
    cr_expect_str_eq(err, "max-spool must be a size of at least 1MiB, such as 1GiB");
    cr_expect_eq(gw_config_set(&c, "config", "x.yaml", &err), GW_ERR_INVALID,
                 "--config is the command line's, not a setting");
    cr_expect_eq(gw_config_set(&c, "dry-run", NULL, &err), GW_OK);
    cr_expect(c.dry_run);
    gw_config_fini(&c);
}

/* Every value the log_level row takes is a level the log knows. */
Test(config, log_level_values_are_the_logs)
{
    const struct gw_setting *s = gw_settings_flag("log-level");
    cr_assert_not_null(s);
    for (size_t i = 0; s->values[i].name != NULL; i++) {
        enum gw_log_level l;
        cr_expect_eq(gw_log_parse_level(s->values[i].name, &l), GW_OK, "%s", s->values[i].name);
    }
}

/* The option structs of the server, decoder, relay and spool take their
 * defaults from the table. */
Test(config, option_defaults_are_the_tables)
{
    const struct gw_config *d = gw_config_defaults();
    struct gw_server_opts so;
    gw_server_opts_init(&so);
    cr_expect_str_eq(so.listen, d->listen);
    cr_expect_eq(so.max_body, d->max_body);
    cr_expect_eq(so.max_url, d->max_url);
    cr_expect_eq(so.max_headers, d->max_headers);
    cr_expect_eq(so.max_header_bytes, d->max_header_bytes);
    cr_expect_eq(so.max_connections_per_ip, d->max_connections_per_ip);
    cr_expect_eq(so.read_timeout_ms, d->read_timeout_s * 1000);
    struct gw_decode_limits dl;
    gw_decode_limits_init(&dl);
    cr_expect_eq(dl.max_depth, d->max_depth);
    cr_expect_eq(dl.max_events, d->max_events);
    cr_expect_eq(dl.max_fields, d->max_fields);
    struct gw_relay_opts ro;
    gw_relay_opts_init(&ro);
    cr_expect_eq(ro.max_rps, d->max_rps);
    struct gw_spool_opts sp;
    gw_spool_opts_init(&sp);
    cr_expect_eq(sp.max_bytes, d->max_spool);
    cr_expect_eq(sp.fsync, d->spool_fsync);
    /* and those are the README's: 512KiB, 50 requests/s */
    cr_expect_eq(d->max_body, 512 * 1024);
    cr_expect_eq(d->max_rps, 50);
}
