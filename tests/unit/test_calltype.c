/* test_calltype.c -- the /v1 endpoint names the call-type table gives:
 * each type's own and analytics.js's short one, and the batch's aliases.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "calltype.h"

Test(calltype, every_type_answers_to_its_name_and_its_browser_alias)
{
    static const char *const browser[] = {"t", "i", "p", "s", "g", "a"};
    cr_assert_eq(sizeof(browser) / sizeof(browser[0]), GW_CALL_TYPES);
    for (size_t i = 0; i < GW_CALL_TYPES; i++) {
        const struct gw_calltype *ct = gw_calltype((enum gw_call_type)i);
        cr_expect_str_eq(gw_calltype_endpoint(ct->name), ct->name);
        cr_expect_str_eq(ct->browser, browser[i], "%s", ct->name);
        const char *got = gw_calltype_endpoint(browser[i]);
        cr_expect_str_eq(got ? got : "(none)", ct->name);
    }
}

Test(calltype, batch_answers_to_b_and_import)
{
    static const char *const names[] = {"batch", "b", "import"};
    for (size_t i = 0; i < 3; i++) {
        const char *got = gw_calltype_endpoint(names[i]);
        cr_expect_str_eq(got ? got : "(none)", GW_CALLTYPE_BATCH, "%s", names[i]);
    }
}

Test(calltype, other_paths_are_none)
{
    static const char *const names[] = {"", "x", "tracks", "Track", "batch/", "T", "v1", "m"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cr_expect_null(gw_calltype_endpoint(names[i]), "'%s'", names[i]);
    }
    cr_expect_null(gw_calltype_endpoint(NULL));
}
