/* test_decode.c -- body decoders: shapes, malformed input, caps.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "json.h"

static enum gw_rc dec(enum gw_body_kind k, const char *body, char *err, json_object **out)
{
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    lim.max_depth = 8;
    lim.max_events = 3;
    lim.max_fields = 3;
    *out = NULL;
    return gw_decode(k, NULL, &lim, body, strlen(body), out, err, 256);
}

Test(decode, arrays_objects_and_counts)
{
    char err[256];
    json_object *b;
    cr_assert_eq(dec(GW_BODY_JSON_ARRAY, "[{\"a\":1},{\"a\":2}]\r\n", err, &b), GW_OK, "%s", err);
    cr_expect_eq(json_object_array_length(b), 2);
    cr_expect_eq(json_object_get_int(json_object_object_get(json_object_array_get_idx(b, 1), "a")),
                 2);
    json_object_put(b);
    cr_assert_eq(dec(GW_BODY_JSON, "{\"a\":1}", err, &b), GW_OK);
    cr_expect(json_object_is_type(b, json_type_object));
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
    cr_expect_eq(gw_decode(GW_BODY_JSON, NULL, &lim, "{\"a\":\"\0\"}", 9, &b, err, sizeof(err)),
                 GW_ERR_INVALID);
    cr_expect_null(b);
}

static const char *form_at(json_object *o, const char *a, const char *b)
{
    json_object *v = json_object_object_get(o, a);
    if (b != NULL) {
        v = json_object_object_get(v, b);
    }
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "(absent)";
}

Test(decode, form_with_php_style_keys)
{
    static const char body[] =
        "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bmerges%5D%5BFNAME%5D="
        "Mail&data[merges][INTERESTS]=a%2Cb&data[tags][]=x&data[tags][]=y&flag\n";
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    char err[256] = "";
    json_object *b = NULL;
    cr_assert_eq(gw_decode(GW_BODY_FORM, NULL, &lim, body, strlen(body), &b, err, sizeof(err)),
                 GW_OK, "%s", err);
    cr_expect_str_eq(form_at(b, "type", NULL), "\"subscribe\"");
    cr_expect_str_eq(form_at(b, "fired_at", NULL), "\"2009-03-26 21:35:57\"");
    cr_expect_str_eq(form_at(b, "data", "merges"), "{\"FNAME\":\"Mail\",\"INTERESTS\":\"a,b\"}");
    cr_expect_str_eq(form_at(b, "data", "tags"), "[\"x\",\"y\"]");
    cr_expect_str_eq(form_at(b, "flag", NULL), "\"\"");
    json_object_put(b);
}

Test(decode, form_refusals)
{
    static const struct {
        const char *body;
        enum gw_rc rc;
        const char *err;
    } cases[] = {
        {"a=%zz", GW_ERR_INVALID, "body is not a valid form (bad %-escape, empty name or NUL)"},
        {"a=%00", GW_ERR_INVALID, "body is not a valid form (bad %-escape, empty name or NUL)"},
        {"=v", GW_ERR_INVALID, "body is not a valid form (bad %-escape, empty name or NUL)"},
        {"a=1&a=2", GW_ERR_INVALID, "form field 'a' is repeated or clashes with another"},
        {"a=1&a[b]=2", GW_ERR_INVALID, "form field 'a[b]' is repeated or clashes with another"},
        {"a[b=1", GW_ERR_INVALID, "form field 'a[b' is repeated or clashes with another"},
        {"a&b&c&d", GW_ERR_TOO_LARGE, "form has more than 3 fields"},
        {"a[][][][][][][][][]=1", GW_ERR_INVALID, "form field 'a[][][][][][][][][]' is nested more than 8 levels deep"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        json_object *b;
        cr_expect_eq(dec(GW_BODY_FORM, cases[i].body, err, &b), cases[i].rc, "case %zu", i);
        cr_expect_str_eq(err, cases[i].err, "case %zu: %s", i, err);
        cr_expect_null(b);
    }
}

Test(decode, json_inside_a_form_field)
{
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    static const char body[] = "mandrill_events=%5B%7B%22event%22%3A%22open%22%7D%5D";
    json_object *b = NULL;
    char err[256] = "";
    cr_assert_eq(gw_decode(GW_BODY_FORM, "mandrill_events", &lim, body, strlen(body), &b, err,
                           sizeof(err)),
                 GW_OK, "%s", err);
    cr_expect_str_eq(form_at(b, "mandrill_events", NULL), "[{\"event\":\"open\"}]");
    json_object_put(b);
    cr_expect_eq(gw_decode(GW_BODY_FORM, "missing", &lim, body, strlen(body), &b, err, sizeof(err)),
                 GW_ERR_INVALID);
    cr_expect_str_eq(err, "form field 'missing' is missing");
    static const char bad[] = "mandrill_events=%5B%7B";
    cr_expect_eq(gw_decode(GW_BODY_FORM, "mandrill_events", &lim, bad, strlen(bad), &b, err,
                           sizeof(err)),
                 GW_ERR_INVALID);
    cr_expect_str_eq(err, "form field 'mandrill_events' is not valid JSON: unexpected end of JSON");
}

/* ---- only well-formed UTF-8 ---- */

Test(decode, invalid_utf8_is_refused_with_its_offset)
{
    static const struct {
        enum gw_body_kind kind;
        const char *body;
        const char *err;
    } cases[] = {
        {GW_BODY_JSON, "{\"a\":\"\xc3\x28\"}", "invalid UTF-8 at byte 6"},        /* bad continuation */
        {GW_BODY_JSON, "{\"a\":\"\xc0\x80\"}", "invalid UTF-8 at byte 6"},        /* overlong NUL */
        {GW_BODY_JSON, "{\"a\":\"\xe0\x80\xaf\"}", "invalid UTF-8 at byte 6"},    /* overlong '/' */
        {GW_BODY_JSON, "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 at byte 6"},    /* U+D800 */
        {GW_BODY_JSON, "{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 at byte 6"}, /* > U+10FFFF */
        {GW_BODY_JSON, "{\"a\":\"x\xe2\x82\"}", "invalid UTF-8 at byte 7"},       /* truncated */
        {GW_BODY_JSON, "{\"\xff\":1}", "invalid UTF-8 at byte 2"},                /* in a key */
        {GW_BODY_JSON, "{\"a\":\"\x80\"}", "invalid UTF-8 at byte 6"},            /* lone continuation */
        {GW_BODY_JSON, "{\"a\":\"x\\u0000y\"}", "a \\u escape at byte 7"},
        {GW_BODY_JSON, "{\"a\":\"\\ud800x\"}", "a \\u escape at byte 6"},
        {GW_BODY_JSON, "{\"a\":\"\\udc00\"}", "a \\u escape at byte 6"},
        {GW_BODY_JSON, "{\"a\":\"\\ud800\\u0041\"}", "a \\u escape at byte 6"},
        {GW_BODY_FORM, "a=%C0%80", "form field 1: its value holds invalid UTF-8 at byte 0"},
        {GW_BODY_FORM, "a=1&b%ED%A0%80=2", "form field 2: its name holds invalid UTF-8 at byte 1"},
        {GW_BODY_FORM, "a=x%FF", "form field 1: its value holds invalid UTF-8 at byte 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        json_object *b;
        cr_expect_eq(dec(cases[i].kind, cases[i].body, err, &b), GW_ERR_INVALID, "case %zu", i);
        cr_expect_neq(strstr(err, cases[i].err), NULL, "case %zu: %s", i, err);
        cr_expect_null(b);
    }
}

Test(decode, well_formed_utf8_and_escapes_pass)
{
    static const struct {
        enum gw_body_kind kind;
        const char *body;
    } cases[] = {
        {GW_BODY_JSON, "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf\"}"},
        {GW_BODY_JSON, "{\"a\":\"\\ud83d\\ude00 \\u00e9 \\\\u0000 \\\\ud800\"}"},
        {GW_BODY_FORM, "a=caf%C3%A9&b=%F0%9F%98%80"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        json_object *b;
        cr_expect_eq(dec(cases[i].kind, cases[i].body, err, &b), GW_OK, "case %zu: %s", i, err);
        json_object_put(b);
    }
    /* the checker alone: every boundary */
    cr_expect_eq(gw_decode_utf8_bad((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    cr_expect_eq(gw_decode_utf8_bad((const unsigned char *)"\xed\x9f\xbf", 3), 3);
    cr_expect_eq(gw_decode_utf8_bad((const unsigned char *)"\xee\x80\x80", 3), 3);
    cr_expect_eq(gw_decode_utf8_bad((const unsigned char *)"\xf0\x8f\xbf\xbf", 4), 0);
    cr_expect_eq(gw_decode_utf8_bad((const unsigned char *)"ab\xf5\x80\x80\x80", 6), 2);
}

/* json-c reads these and would write them back as they came: not JSON */
Test(decode, numbers_outside_the_json_grammar_are_refused)
{
    static const char *const bad[] = {"{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
                                      "{\"a\":1.}", "{\"a\":[1e400]}", "{\"b\":{\"a\":1.e5}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        json_object *b;
        cr_expect_eq(dec(GW_BODY_JSON, bad[i], err, &b), GW_ERR_INVALID, "case %s", bad[i]);
        cr_expect_null(b, "case %s", bad[i]);
    }
    char err[256] = "";
    json_object *b;
    cr_expect_eq(dec(GW_BODY_JSON, "{\"a\":[1.50,-0.0,1E+2,2e-3,0]}", err, &b), GW_OK, "%s", err);
    json_object_put(b);
}

/* Past an ASCII run checked a word at a time, a bad byte or escape is
 * still found at its exact offset, whatever its alignment. */
Test(decode, offsets_past_long_ascii_runs)
{
    for (size_t pad = 0; pad < 20; pad++) {
        char body[128];
        char want[64];
        char err[256] = "";
        json_object *b;
        snprintf(body, sizeof(body), "{\"a\":\"%.*s\xc3\x28\"}", (int)pad,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        cr_expect_eq(dec(GW_BODY_JSON, body, err, &b), GW_ERR_INVALID, "pad %zu", pad);
        snprintf(want, sizeof(want), "invalid UTF-8 at byte %zu", 6 + pad);
        cr_expect_neq(strstr(err, want), NULL, "pad %zu: %s", pad, err);
        snprintf(body, sizeof(body), "{\"a\":\"%.*s\\u0000\"}", (int)pad,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        cr_expect_eq(dec(GW_BODY_JSON, body, err, &b), GW_ERR_INVALID, "pad %zu", pad);
        snprintf(want, sizeof(want), "a \\u escape at byte %zu", 6 + pad);
        cr_expect_neq(strstr(err, want), NULL, "pad %zu: %s", pad, err);
    }
    char err[256] = "";
    json_object *b;
    /* a backslash as the last byte is the tokener's to refuse */
    cr_expect_eq(dec(GW_BODY_JSON, "{\"a\":\"x\\", err, &b), GW_ERR_INVALID);
    cr_expect_str_eq(err, "body is not valid JSON: unexpected end of JSON");
}

/* The tokener is kept per thread: a parse that failed half-way, or one
 * with another nesting cap, leaves nothing behind for the next. */
Test(decode, each_parse_starts_afresh)
{
    static const struct {
        const char *text;
        int depth;
        const char *err; /* NULL: parses */
    } cases[] = {
        {"{\"a\":[1,2", 8, "unexpected end of JSON"},
        {"{\"b\":1}", 8, NULL},
        {"[[1]]", 1, "nesting too deep at byte 1"},
        {"{\"a\":1} x", 8, "unexpected character at byte 8"},
        {"[[1]]", 3, NULL},
        {"{\"a\":tru", 4, "unexpected end of JSON"},
        {"1", 1, NULL},
        {"[[1]]", 2, "nesting too deep at byte 2"},
        {"12", 8, NULL},
        {"{\"a\" 1}", 8, "object property name separator ':' expected at byte 5"},
        {"{\"c\":[{}]}", 8, NULL},
    };
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            json_object *v = NULL;
            char err[160] = "";
            enum gw_rc rc = gw_json_parse(cases[i].text, strlen(cases[i].text), cases[i].depth,
                                          &v, err, sizeof(err));
            if (cases[i].err == NULL) {
                cr_expect_eq(rc, GW_OK, "case %zu: %s", i, err);
                json_object *again = json_tokener_parse(cases[i].text);
                cr_expect(json_object_equal(v, again), "case %zu", i);
                json_object_put(again);
                json_object_put(v);
            } else {
                cr_expect_eq(rc, GW_ERR_INVALID, "case %zu", i);
                cr_expect_str_eq(err, cases[i].err, "case %zu: %s", i, err);
            }
        }
    }
}

static void *parse_many(void *arg)
{
    int depth = *(int *)arg;
    for (int i = 0; i < 200; i++) {
        char text[64];
        snprintf(text, sizeof(text), "[{\"n\":%d,\"s\":\"t%d\"}]", i, i);
        json_object *v = NULL;
        char err[160];
        if (gw_json_parse(text, strlen(text), depth, &v, err, sizeof(err)) != GW_OK ||
            json_object_get_int(json_object_object_get(json_object_array_get_idx(v, 0), "n")) !=
                i) {
            json_object_put(v);
            return (void *)1;
        }
        json_object_put(v);
    }
    return NULL;
}

Test(decode, threads_parse_with_their_own_tokener)
{
    pthread_t t[4];
    int depths[4] = {3, 8, 3, 32};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, parse_many, &depths[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        cr_assert_eq(pthread_join(t[i], &res), 0);
        cr_expect_null(res, "thread %d", i);
    }
}

/* PHP-style keys are cut from one copy of the name, short or long. */
Test(decode, form_keys_long_and_nested)
{
    char name[300];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char body[1024];
    snprintf(body, sizeof(body), "%s[a][b]=1&%s[a][c][]=2&%s[a][c][]=3&x=4", name, name, name);
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    json_object *b = NULL;
    char err[256] = "";
    cr_assert_eq(gw_decode(GW_BODY_FORM, NULL, &lim, body, strlen(body), &b, err, sizeof(err)),
                 GW_OK, "%s", err);
    json_object *a = json_object_object_get(json_object_object_get(b, name), "a");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(a, "b")), "1");
    cr_expect_str_eq(json_object_to_json_string_ext(json_object_object_get(a, "c"),
                                                    JSON_C_TO_STRING_PLAIN),
                     "[\"2\",\"3\"]");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(b, "x")), "4");
    json_object_put(b);
    snprintf(body, sizeof(body), "%s[a]=1&%s[a][b]=2", name, name);
    cr_expect_eq(gw_decode(GW_BODY_FORM, NULL, &lim, body, strlen(body), &b, err, sizeof(err)),
                 GW_ERR_INVALID);
}
