/* test_yaml.c -- the YAML node tree keeps positions and refuses what the
 * configuration language does not use.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "yaml.h"

static char *parse_err(const char *src)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_doc *doc = NULL;
    cr_expect_neq(gw_yaml_parse(src, strlen(src), "t.yaml", &doc, d), GW_OK);
    cr_expect_null(doc);
    char *s = gw_diag_join(d);
    gw_diag_destroy(d);
    return s;
}

Test(yaml, nodes_keep_line_and_column)
{
    static const char src[] = "a: 1\nb:\n  - x\n  - { c: \"quoted\" }\n";
    struct gw_diag *d = gw_diag_create();
    struct gw_doc *doc = NULL;
    cr_assert_eq(gw_yaml_parse(src, strlen(src), "t.yaml", &doc, d), GW_OK);
    const struct gw_node *b = gw_node_get(doc->root, "b");
    cr_assert_not_null(b);
    cr_expect_eq(b->type, GW_NODE_SEQ);
    cr_expect_eq(b->n, 2);
    cr_expect_eq(b->items[0]->line, 3);
    cr_expect_eq(b->items[0]->col, 5);
    const struct gw_node *c = gw_node_get(b->items[1], "c");
    cr_expect_str_eq(c->scalar, "quoted");
    cr_expect(!c->plain);
    cr_expect_eq(c->line, 4);
    cr_expect_eq(c->col, 10);
    cr_expect_str_eq(c->file, "t.yaml");
    cr_expect(gw_node_get(doc->root, "a")->plain);
    gw_yaml_free(doc);
    gw_diag_destroy(d);
}

Test(yaml, empty_document_has_no_root)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_doc *doc = NULL;
    cr_assert_eq(gw_yaml_parse("", 0, "t.yaml", &doc, d), GW_OK);
    cr_expect_null(doc->root);
    gw_yaml_free(doc);
    gw_diag_destroy(d);
}

Test(yaml, refusals_are_positioned)
{
    char *s = parse_err("a: &x 1\nb: *x\n");
    cr_expect_str_eq(s, "t.yaml:1:4: error: anchors and tags are not supported\n");
    free(s);
    s = parse_err("a: 1\na: 2\n");
    cr_expect_str_eq(s, "t.yaml:2:1: error: duplicate key 'a'\n");
    free(s);
    s = parse_err("? [a]\n: 1\n");
    cr_expect_str_eq(s, "t.yaml:1:3: error: mapping keys must be plain strings\n");
    free(s);
    s = parse_err("a: [1, 2\n");
    cr_expect_eq(strncmp(s, "t.yaml:2:1: error: invalid YAML: did not find expected", 54), 0, "%s", s);
    free(s);
    s = parse_err("a: 1\n---\nb: 2\n");
    cr_expect_str_eq(s, "t.yaml:2:1: error: expected a single YAML document\n");
    free(s);
}

Test(yaml, unreadable_file_is_one_diagnostic)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_doc *doc = NULL;
    cr_expect_eq(gw_yaml_parse_file("/nonexistent/x.yaml", &doc, d), GW_ERR_IO);
    char *s = gw_diag_join(d);
    cr_expect_str_eq(s, "/nonexistent/x.yaml: error: cannot read: No such file or directory\n");
    free(s);
    gw_diag_destroy(d);
}
