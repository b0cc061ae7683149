/* test_config.c -- configuration: defaults, file, environment, flags.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "diag.h"
#include "gw_test.h"

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
