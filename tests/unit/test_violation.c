/* test_violation.c -- violations as values: one list, one JSON form, one
 * table of rule names.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "violation.h"

Test(violation, rule_names_are_the_documented_ones)
{
    static const char *const want[] = {"required",    "type", "format",   "casing",
                                       "integration", "size", "semantic", "unplanned"};
    cr_assert_eq(sizeof(want) / sizeof(want[0]), GW_RULE_COUNT);
    for (size_t i = 0; i < GW_RULE_COUNT; i++) {
        cr_expect_str_eq(gw_violation_rule_name((enum gw_violation_rule)i), want[i]);
    }
    cr_expect_str_eq(gw_violation_rule_name(GW_RULE_COUNT), "unknown");
}

Test(violation, list_grows_and_serializes_once)
{
    struct gw_violations l;
    gw_violations_init(&l);
    for (size_t i = 0; i < 40; i++) {
        gw_violations_add(&l, i, i % 2 ? "Order Completed" : NULL, "properties.revenue",
                          GW_RULE_TYPE, "value %zu is wrong", i);
    }
    cr_assert_eq(l.n, 40);
    cr_expect_str_eq(l.v[39].message, "value 39 is wrong");
    cr_expect_str_eq(l.v[0].event, "");
    json_object *a = gw_violations_json(&l);
    cr_assert_eq(json_object_array_length(a), 40);
    json_object *o = json_object_array_get_idx(a, 1);
    cr_expect_eq(json_object_object_length(o), 5);
    cr_expect_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "{\"index\":1,\"event\":\"Order Completed\",\"field\":\"properties.revenue\","
                     "\"rule\":\"type\",\"message\":\"value 1 is wrong\"}");
    json_object_put(a);
    gw_violations_fini(&l);
    cr_expect_eq(l.n, 0);
    cr_expect_null(l.v);
    gw_violations_fini(&l); /* a second fini is a no-op */
}
