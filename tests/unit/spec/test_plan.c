/* test_plan.c -- tracking plans: unplanned events, required and typed
 * properties, loaded from a rules file's tracking_plan.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mapping/mapping.h"
#include "spec/spec.h"

static const char rules[] =
    "source: acme\n"
    "integration: { name: acme, version: 1.0.0 }\n"
    "tracking_plan:\n"
    "  strict: true\n"
    "  events:\n"
    "    Order Completed:\n"
    "      order_id: { type: string, required: true }\n"
    "      revenue: number\n"
    "      placed_at: date\n"
    "    Account Deleted: ~\n"
    "events:\n"
    "  - track: Order Completed\n";

static const char ctx[] = "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":\"1.0.0\"}}";

/* Validates one track call with the given event and properties; returns the
 * violations (new) and checks their count. */
static json_object *check(const struct gw_spec_opts *o, const char *event, const char *props,
                          size_t want)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"%s\",\"properties\":%s,%s}", event,
             props, ctx);
    json_object *call = json_tokener_parse(buf);
    cr_assert_not_null(call, "%s", buf);
    struct gw_violations found = {0};
    size_t n = gw_spec_validate(o, call, 0, &found);
    json_object *v = gw_violations_json(&found);
    gw_violations_fini(&found);
    cr_expect_eq(n, want, "%s -> %s", buf, json_object_to_json_string(v));
    json_object_put(call);
    return v;
}

static const char *field_rule(json_object *v, size_t i, char *out, size_t len)
{
    json_object *o = json_object_array_get_idx(v, i);
    snprintf(out, len, "%s %s", json_object_get_string(json_object_object_get(o, "field")),
             json_object_get_string(json_object_object_get(o, "rule")));
    return out;
}

Test(plan, loaded_from_rules_and_enforced)
{
    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    cr_assert_eq(gw_rules_add_buffer(rs, rules, strlen(rules), "acme.yaml", d), GW_OK, "%s",
                 gw_diag_join(d));
    const struct gw_spec_opts *o = gw_source_spec(gw_ruleset_find(rs, "acme"));
    cr_assert_not_null(o->plan);
    char fr[256];

    json_object *v = check(o, "Order Completed", "{\"order_id\":\"o1\",\"revenue\":3}", 0);
    json_object_put(v);
    v = check(o, "Account Deleted", "{\"whatever\":1}", 0);
    json_object_put(v);

    v = check(o, "Order Completed", "{\"revenue\":3}", 1);
    cr_expect_str_eq(field_rule(v, 0, fr, sizeof(fr)), "properties.order_id required");
    json_object_put(v);

    v = check(o, "Order Completed", "{\"order_id\":7,\"placed_at\":\"yesterday\"}", 2);
    cr_expect_str_eq(field_rule(v, 0, fr, sizeof(fr)), "properties.order_id type");
    cr_expect_str_eq(field_rule(v, 1, fr, sizeof(fr)), "properties.placed_at format");
    json_object_put(v);

    v = check(o, "Cart Abandoned", "{}", 1);
    cr_expect_str_eq(field_rule(v, 0, fr, sizeof(fr)), "event unplanned");
    json_object_put(v);
    gw_diag_destroy(d);
    gw_ruleset_destroy(rs);
}

Test(plan, lenient_plan_allows_unplanned_events)
{
    struct gw_spec_plan *p = gw_spec_plan_create(false);
    cr_assert_eq(gw_spec_plan_add_event(p, "Order Completed"), GW_OK);
    cr_expect_eq(gw_spec_plan_add_event(p, "Order Completed"), GW_ERR_INVALID);
    cr_assert_eq(gw_spec_plan_add_property(p, "order_id", "string", true), GW_OK);
    cr_expect_eq(gw_spec_plan_add_property(p, "order_id", "string", true), GW_ERR_INVALID);
    cr_expect_eq(gw_spec_plan_add_property(p, "x", "text", false), GW_ERR_INVALID);
    struct gw_spec_opts o;
    gw_spec_opts_init(&o);
    o.plan = p;
    json_object *v = check(&o, "Cart Abandoned", "{}", 0);
    json_object_put(v);
    v = check(&o, "Order Completed", "{}", 1);
    json_object_put(v);
    gw_spec_plan_destroy(p);
}

Test(plan, bad_plans_are_diagnosed)
{
    static const char bad[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                              "tracking_plan:\n  strict: maybe\n  events: {}\nevents: []\n";
    static const char bad2[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                               "tracking_plan:\n  events:\n    A Happened:\n      x: text\n"
                               "events: []\n";
    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    cr_expect_neq(gw_rules_add_buffer(rs, bad, strlen(bad), "a.yaml", d), GW_OK);
    cr_expect_neq(gw_rules_add_buffer(rs, bad2, strlen(bad2), "b.yaml", d), GW_OK);
    char *s = gw_diag_join(d);
    cr_expect_str_eq(s, "a.yaml:4:11: error: key 'strict' must be one of: true, false, yes, no, "
                        "on, off (was given 'maybe')\n"
                        "b.yaml:6:10: error: property 'x': type must be one of string, number, "
                        "integer, boolean, object, array, date (was given 'text')\n");
    free(s);
    gw_diag_destroy(d);
    gw_ruleset_destroy(rs);
}
