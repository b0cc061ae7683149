/* test_compile.c -- the rules loader and compiler: shipped rules load clean,
 * every broken file gives its exact diagnostics at file:line:col.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "calltype.h"
#include "diag.h"
#include "gw_test.h"
#include "mapping/mapping.h"
#include "mapping/rule.h"
#include "mem.h"
#include "yaml.h"

Test(compile, shipped_rules_load_clean)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = NULL;
    char *dir = gwt_root_path("rules");
    cr_assert_eq(gw_rules_load_dir(dir, &rs, d), GW_OK, "%s", gw_diag_join(d));
    cr_expect_eq(gw_diag_count(d), 0);
    const struct gw_source *sg = gw_ruleset_find(rs, "sendgrid");
    cr_assert_not_null(sg);
    cr_expect_eq(gw_source_body(sg), GW_BODY_JSON_ARRAY);
    cr_expect_str_eq(gw_source_spec(sg)->integration, "sendgrid");
    cr_expect(gw_source_accepts(sg, "application/json; charset=utf-8"));
    cr_expect(!gw_source_accepts(sg, "application/x-www-form-urlencoded"));
    free(dir);
    gw_ruleset_destroy(rs);
    gw_diag_destroy(d);
}

/* Every tests/data/rules/bad/X.yaml must produce exactly X.expect. */
Test(compile, broken_files_pin_their_diagnostics)
{
    char *dir = gwt_data_path("rules/bad");
    DIR *dh = opendir(dir);
    cr_assert_not_null(dh);
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(dh)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0) {
            continue;
        }
        char *rel = gw_asprintf("rules/bad/%s", e->d_name);
        char *exp_rel = gw_asprintf("rules/bad/%.*s.expect", (int)(n - 5), e->d_name);
        size_t len = 0;
        char *buf = gwt_read(rel, &len);
        char *expect = gwt_read(exp_rel, NULL);
        struct gw_ruleset *rs = gw_ruleset_create();
        struct gw_diag *d = gw_diag_create();
        cr_expect_neq(gw_rules_add_buffer(rs, buf, len, e->d_name, d), GW_OK, "%s loaded",
                      e->d_name);
        char *got = gw_diag_join(d);
        cr_expect_str_eq(got, expect, "%s:\n--- got\n%s--- expected\n%s", e->d_name, got, expect);
        cr_expect_eq(gw_ruleset_count(rs), 0);
        free(got);
        gw_diag_destroy(d);
        gw_ruleset_destroy(rs);
        free(buf);
        free(expect);
        free(rel);
        free(exp_rel);
        checked++;
    }
    closedir(dh);
    free(dir);
    cr_expect_geq(checked, 8, "only %d broken files found", checked);
}

Test(compile, duplicate_source_names_the_first_file)
{
    static const char a[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                            "events:\n  - track: A Happened\n";
    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    cr_assert_eq(gw_rules_add_buffer(rs, a, strlen(a), "one.yaml", d), GW_OK);
    cr_assert_neq(gw_rules_add_buffer(rs, a, strlen(a), "two.yaml", d), GW_OK);
    char *got = gw_diag_join(d);
    cr_expect_str_eq(got,
                     "two.yaml:1:9: error: duplicate source 'acme': already defined in one.yaml\n");
    cr_expect_eq(gw_ruleset_count(rs), 1);
    free(got);
    gw_diag_destroy(d);
    gw_ruleset_destroy(rs);
}

Test(compile, every_error_of_a_file_is_reported_at_once)
{
    char *buf = gwt_read("rules/bad/bad_path.yaml", NULL);
    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    cr_assert_neq(gw_rules_add_buffer(rs, buf, strlen(buf), "bad_path.yaml", d), GW_OK);
    cr_expect_eq(gw_diag_errors(d), 3);
    gw_diag_destroy(d);
    gw_ruleset_destroy(rs);
    free(buf);
}

Test(compile, user_id_override_from_configuration)
{
    static const char rules[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                                "common:\n  userId: user_id\nevents:\n  - track: A Happened\n";
    static const char conf[] = "[customer_id, user_id]\n";
    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    cr_assert_eq(gw_rules_add_buffer(rs, rules, strlen(rules), "acme.yaml", d), GW_OK);
    struct gw_doc *doc = NULL;
    cr_assert_eq(gw_yaml_parse(conf, strlen(conf), "conf.yaml", &doc, d), GW_OK);
    cr_assert_eq(gw_source_set_user_id(rs, "acme", doc->root, d), GW_OK);
    cr_expect_eq(gw_source_set_user_id(rs, "nope", doc->root, d), GW_ERR_NOT_FOUND);

    json_object *ev = json_tokener_parse("{\"customer_id\":\"c-9\",\"user_id\":\"u-1\"}");
    json_object *calls = json_object_new_array();
    struct gw_violations viol = {0};
    struct gw_map_input in = {.body = ev};
    bool ignored = true;
    cr_assert_eq(gw_source_apply(gw_ruleset_find(rs, "acme"), &in, ev, 0, calls, &viol, &ignored),
                 GW_OK);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(
                         json_object_array_get_idx(calls, 0), "userId")),
                     "c-9");
    json_object_put(ev);
    json_object_put(calls);
    gw_violations_fini(&viol);
    gw_yaml_free(doc);
    gw_diag_destroy(d);
    gw_ruleset_destroy(rs);
}

/* The transform table is the one list of transforms: README's "Mapping
 * rules" section names every one of them. */
Test(compile, readme_names_every_transform)
{
    char *readme = gwt_read_root("README.md", NULL);
    const char *sec = strstr(readme, "## Mapping rules");
    cr_assert_not_null(sec);
    const char *end = strstr(sec + 1, "\n## ");
    size_t n = end ? (size_t)(end - sec) : strlen(sec);
    char *text = gw_strndup(sec, n);
    const struct gw_transform *t;
    for (size_t i = 0; (t = gw_transform_at(i)) != NULL; i++) {
        char *quoted = gw_asprintf("`%s`", t->name);
        cr_expect_not_null(strstr(text, quoted), "README's Mapping rules do not name %s", quoted);
        free(quoted);
    }
    free(text);
    free(readme);
}

/* The call types' names in messages are the table's, in its order, and each
 * name is found back as its type. */
Test(compile, call_type_list_is_the_table)
{
    char list[128] = "";
    size_t len = 0;
    for (size_t i = 0; i < GW_CALL_TYPES; i++) {
        const char *name = gw_calltype((enum gw_call_type)i)->name;
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", name);
        enum gw_call_type t = GW_CALL_TYPES;
        cr_expect(gw_calltype_find(name, &t));
        cr_expect_eq(t, (enum gw_call_type)i);
    }
    cr_expect_str_eq(list, GW_CALL_TYPE_LIST);
    enum gw_call_type t;
    cr_expect(!gw_calltype_find("batch", &t));
    cr_expect(!gw_calltype_find(NULL, &t));
}
