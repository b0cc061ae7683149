/* test_emit.c -- gw_emit_json writes what json-c's compact serialization
 * (gw_json_compact) writes, byte for byte: every byte in strings and keys,
 * every kind of number, nesting, and the calls of every golden case.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "emit.h"
#include "json.h"

static void expect_same(json_object *v, const char *what)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 26);
    cr_assert_eq(gw_emit_json(&b, v), GW_OK, "%s", what);
    size_t len = 0;
    const char *want = gw_json_compact(v, &len);
    cr_expect_eq(b.len, len, "%s: length %zu, json-c %zu", what, b.len, len);
    cr_expect(memcmp(gw_buf_str(&b), want, len) == 0, "%s:\n%s\njson-c:\n%s", what,
              gw_buf_str(&b), want);
    gw_buf_fini(&b);
}

static void expect_quote_as_json_c(const char *s, size_t n)
{
    json_object *o = json_object_new_string_len(s, (int)n);
    size_t wlen = 0;
    const char *want = gw_json_compact(o, &wlen);
    char got[1024];
    cr_expect_eq(gw_json_quote(got, sizeof(got), s, n), wlen, "length of %s", want);
    cr_expect_str_eq(got, want);
    expect_same(o, want);
    json_object_put(o);
}

Test(emit, strings_escape_every_byte_as_json_c_does)
{
    for (unsigned c = 0; c < 256; c++) {
        char s[4] = {'a', (char)c, 'z', '\0'};
        expect_quote_as_json_c(s, 3);
        expect_quote_as_json_c(s + 1, 1);
    }
    expect_quote_as_json_c("", 0);
    expect_quote_as_json_c("/webhooks/sendgrid?x=\"1\"\\", 25);
    expect_quote_as_json_c("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xff\xfe", 17);
    expect_quote_as_json_c("a\0b", 3); /* a NUL inside a value */
}

/* Strings are scanned eight bytes at a time: every byte at every place
 * of the words of a string, and at its tail. */
Test(emit, every_byte_at_every_place_of_a_word)
{
    for (unsigned c = 0; c < 256; c++) {
        for (size_t at = 0; at < 19; at++) {
            char s[20];
            memset(s, 'x', sizeof(s));
            s[at] = (char)c;
            expect_quote_as_json_c(s, sizeof(s));
            expect_quote_as_json_c(s, at + 1); /* the byte last */
        }
    }
    char two[16] = "ab\"cdefgh\\ijklm";
    expect_quote_as_json_c(two, 15);
    char high[24];
    memset(high, '\xe9', sizeof(high));
    expect_quote_as_json_c(high, sizeof(high));
}

Test(emit, quote_refuses_what_does_not_fit)
{
    char out[8];
    cr_expect_eq(gw_json_quote(out, sizeof(out), "abcde", 5), 7);
    cr_expect_eq(gw_json_quote(out, sizeof(out), "abcdef", 6), 0, "no room for the NUL");
    cr_expect_eq(gw_json_quote(out, sizeof(out), "\x01", 1), 0, "an escape of 6 bytes");
    cr_expect_eq(gw_json_quote(out, 2, "", 0), 0);
}

Test(emit, numbers_literals_and_nesting)
{
    json_object *o = json_object_new_object();
    int64_t ints[] = {0, 1, 9, 10, -1, -9, 123456789, INT64_MAX, INT64_MIN, -1000000000000};
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_object_array_add(a, json_object_new_int64(ints[i]));
    }
    json_object_array_add(a, json_object_new_uint64(UINT64_MAX));
    json_object_array_add(a, json_object_new_uint64((uint64_t)INT64_MAX + 1));
    json_object_array_add(a, json_object_new_int(-42));
    double ds[] = {0.0, -0.0, 0.1, 1.5, 5.0, -2.25, 1e300, 1e-300, 123456789.125};
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        json_object_array_add(a, json_object_new_double(ds[i]));
    }
    json_object_array_add(a, json_object_new_double_s(9.99, "9.990"));
    json_object_array_add(a, NULL);
    json_object_array_add(a, json_object_new_boolean(1));
    json_object_array_add(a, json_object_new_boolean(0));
    json_object_array_add(a, json_object_new_array());
    json_object_array_add(a, json_object_new_object());
    json_object_object_add(o, "numbers", a);
    json_object_object_add(o, "null", NULL);
    json_object_object_add(o, "k\"ey\n\x01/", json_object_new_string("v"));
    json_object *deep = json_object_new_object();
    json_object_object_add(deep, "inner", json_object_new_array());
    json_object_object_add(o, "deep", deep);
    json_object_object_add(o, "", json_object_new_string(""));
    expect_same(o, "mixed");
    expect_same(NULL, "NULL");
    json_object_put(o);
}

/* Every golden case's calls, and every parsed body: what the daemon
 * spools is what json-c would have written. */
Test(emit, golden_calls_and_bodies)
{
    const char *root = getenv("GW_TEST_DATA");
    cr_assert(root != NULL);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/golden", root);
    DIR *parts = opendir(dir);
    cr_assert(parts != NULL, "%s", dir);
    size_t files = 0, calls = 0;
    struct dirent *p;
    while ((p = readdir(parts)) != NULL) {
        if (p->d_name[0] == '.') {
            continue;
        }
        char sub[1280];
        snprintf(sub, sizeof(sub), "%s/%s", dir, p->d_name);
        DIR *d = opendir(sub);
        if (d == NULL) {
            continue;
        }
        struct dirent *f;
        while ((f = readdir(d)) != NULL) {
            size_t n = strlen(f->d_name);
            bool expected = n > 14 && strcmp(f->d_name + n - 14, ".expected.json") == 0;
            bool body = n > 5 && strcmp(f->d_name + n - 5, ".body") == 0;
            if (!expected && !body) {
                continue;
            }
            char path[1600];
            snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
            json_object *doc = json_object_from_file(path);
            if (doc == NULL) {
                continue; /* a form body, not JSON */
            }
            files++;
            expect_same(doc, path);
            json_object *events = NULL;
            if (expected && json_object_object_get_ex(doc, "events", &events)) {
                for (size_t i = 0; i < json_object_array_length(events); i++) {
                    expect_same(json_object_array_get_idx(events, i), path);
                    calls++;
                }
            }
            json_object_put(doc);
        }
        closedir(d);
    }
    closedir(parts);
    cr_expect_gt(files, 150, "golden files read: %zu", files);
    cr_expect_gt(calls, 150, "golden calls compared: %zu", calls);
}
