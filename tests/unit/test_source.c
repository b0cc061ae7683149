/* test_source.c -- sources bound to their configuration once: the secret
 * and scheme a request will be checked with, its write key and endpoint,
 * found by name.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gw_test.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "source.h"
#include "verify/verify.h"

static struct gw_source_conf *add(struct gw_config *c, const char *name)
{
    c->sources = gw_realloc(c->sources, (c->n_sources + 1) * sizeof(*c->sources));
    struct gw_source_conf *s = &c->sources[c->n_sources++];
    memset(s, 0, sizeof(*s));
    s->name = gw_strdup(name);
    return s;
}

Test(source, bound_once_with_its_configuration)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    struct gw_config cfg;
    gw_config_init(&cfg);
    struct gw_source_conf *gh = add(&cfg, "github");
    gh->secret = gw_strdup("s3cret");
    gh->write_key = gw_strdup("wk_github");
    gh->endpoint = gw_strdup("http://127.0.0.1:9/v1");
    struct gw_source_conf *sg = add(&cfg, "sendgrid");
    sg->secret = gw_strdup("ignored: the public key wins");
    sg->verify_key = gw_strdup("MFkw...");
    sg->write_key = gw_strdup("");
    add(&cfg, "postmark")->public_url = gw_strdup("https://hooks.example.com/webhooks/postmark");
    struct gw_sources *set = gw_sources_bind(&cfg, rs);

    const struct gw_bound_source *b = gw_sources_find(set, "github");
    cr_assert_not_null(b);
    cr_expect_str_eq(b->name, "github");
    cr_expect_eq(b->rules, gw_ruleset_find(rs, "github"));
    cr_expect_eq(b->scheme, gw_verify_find("github"));
    cr_expect_str_eq(b->secret, "s3cret");
    cr_expect_str_eq(b->write_key, "wk_github");
    cr_expect_str_eq(b->endpoint, "http://127.0.0.1:9/v1");
    cr_expect(!b->basic_auth);

    b = gw_sources_find(set, "sendgrid");
    cr_assert_not_null(b);
    cr_expect_str_eq(b->secret, "MFkw...");
    cr_expect_eq(b->scheme, gw_verify_find("sendgrid"));
    cr_expect_null(b->write_key, "an empty write key is none");
    cr_expect_str_eq(b->endpoint, cfg.endpoint);

    /* a scheme without a secret is not checked (start-up says so) */
    b = gw_sources_find(set, "postmark");
    cr_assert_not_null(b);
    cr_expect_null(b->scheme);
    cr_expect(b->basic_auth);
    cr_expect_str_eq(b->public_url, "https://hooks.example.com/webhooks/postmark");
    b = gw_sources_find(set, "stripe");
    cr_assert_not_null(b);
    cr_expect_null(b->scheme);
    cr_expect_null(b->secret);

    cr_expect_null(gw_sources_find(set, "nope"));
    cr_expect_null(gw_sources_find(set, "githu"));
    cr_expect_null(gw_sources_find(set, NULL));
    gw_sources_destroy(set);
    gw_config_fini(&cfg);
    gw_ruleset_destroy(rs);
}

/* Every source of the ruleset is found by its name, under its own id. */
Test(source, every_source_found_with_a_distinct_id)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    struct gw_config cfg;
    gw_config_init(&cfg);
    struct gw_sources *set = gw_sources_bind(&cfg, rs);
    size_t n = gw_ruleset_count(rs);
    bool *seen = gw_calloc(n, sizeof(*seen));
    for (size_t i = 0; i < n; i++) {
        const char *name = gw_source_name(gw_ruleset_at(rs, i));
        const struct gw_bound_source *b = gw_sources_find(set, name);
        cr_assert_not_null(b, "%s", name);
        cr_expect_str_eq(b->name, name);
        cr_assert_lt(b->id, n);
        cr_expect(!seen[b->id], "%s shares id %zu", name, b->id);
        seen[b->id] = true;
    }
    free(seen);
    gw_sources_destroy(set);
    gw_config_fini(&cfg);
    gw_ruleset_destroy(rs);
}
