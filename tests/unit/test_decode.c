/* test_decode.c -- body decoders: shapes, malformed input, caps.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "decode.h"

static enum gw_rc dec(enum gw_body_kind k, const char *body, char *err, json_object **out)
{
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    lim.max_depth = 8;
    lim.max_events = 3;
    *out = NULL;
    return gw_decode(k, &lim, body, strlen(body), out, err, 256);
}

Test(decode, arrays_objects_and_counts)
{
    char err[256];
    json_object *b;
    cr_assert_eq(dec(GW_BODY_JSON_ARRAY, "[{\"a\":1},{\"a\":2}]\r\n", err, &b), GW_OK, "%s", err);
    cr_expect_eq(gw_decode_count(b), 2);
    cr_expect_eq(json_object_get_int(json_object_object_get(gw_decode_event(b, 1), "a")), 2);
    json_object_put(b);
    cr_assert_eq(dec(GW_BODY_JSON, "{\"a\":1}", err, &b), GW_OK);
    cr_expect_eq(gw_decode_count(b), 1);
    cr_expect_eq(gw_decode_event(b, 0), b);
    json_object_put(b);
}

Test(decode, refusals_say_why)
{
    static const struct {
        enum gw_body_kind kind;
        const char *body;
        enum gw_rc rc;
        const char *err;
    } cases[] = {
        {GW_BODY_JSON_ARRAY, "{\"a\":1}", GW_ERR_INVALID, "body must be a JSON array of events"},
        {GW_BODY_JSON_OBJECT, "[]", GW_ERR_INVALID, "body must be a JSON object"},
        {GW_BODY_JSON, "42", GW_ERR_INVALID, "body must be a JSON object or an array of objects"},
        {GW_BODY_JSON_ARRAY, "[{\"a\":1}, 3]", GW_ERR_INVALID, "event 1 of the body is not a JSON object"},
        {GW_BODY_JSON_ARRAY, "[{},{},{},{}]", GW_ERR_TOO_LARGE, "body holds 4 events, more than the limit of 3"},
        {GW_BODY_JSON_ARRAY, "[{\"a\":1}", GW_ERR_INVALID, "body is not valid JSON: unexpected end of JSON"},
        {GW_BODY_JSON_ARRAY, "[{\"a\":1}] x", GW_ERR_INVALID, "body is not valid JSON: unexpected character at byte 10"},
        {GW_BODY_JSON_ARRAY, "", GW_ERR_INVALID, "body is empty"},
        {GW_BODY_JSON_ARRAY, "[[[[[[[[[[[[1]]]]]]]]]]]]", GW_ERR_INVALID, "body is not valid JSON: nesting too deep at byte 8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        json_object *b;
        cr_expect_eq(dec(cases[i].kind, cases[i].body, err, &b), cases[i].rc, "case %zu", i);
        cr_expect_str_eq(err, cases[i].err, "case %zu: %s", i, err);
        cr_expect_null(b);
    }
}

Test(decode, nul_byte_is_refused)
{
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    json_object *b = NULL;
    char err[256];
    cr_expect_eq(gw_decode(GW_BODY_JSON, &lim, "{\"a\":\"\0\"}", 9, &b, err, sizeof(err)),
                 GW_ERR_INVALID);
    cr_expect_null(b);
}
