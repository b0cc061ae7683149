/* test_fields.c -- what the rules compile once and reuse per event: output
 * fields split into interned keys, the call's objects found once, `when`
 * paths evaluated once, template text past its stack buffer, and the json
 * helpers these rest on.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "gw_test.h"
#include "json.h"
#include "mapping/mapping.h"
#include "mem.h"

/* Maps one event with a ruleset that is destroyed before the calls are
 * read: the calls must not depend on it. Returns the calls' compact text
 * (new). */
static char *map_text(const char *yaml, const char *event, enum gw_rc want)
{
    struct gw_ruleset *rs = gwt_load_inline(yaml);
    json_object *ev = json_tokener_parse(event);
    cr_assert_not_null(ev, "bad test event %s", event);
    json_object *calls = json_object_new_array();
    struct gw_violations found = {0};
    struct gw_map_input in = {.body = ev, .received_at = 1};
    bool ignored = false;
    enum gw_rc rc = gw_source_apply(gw_ruleset_at(rs, 0), &in, ev, 0, calls, &found, &ignored);
    cr_assert_eq(rc, want, "apply gave %d", rc);
    gw_violations_fini(&found);
    json_object_put(ev);
    gw_ruleset_destroy(rs);
    char *text = gw_strdup(gw_json_compact(calls, NULL));
    json_object_put(calls);
    return text;
}

static const char head[] = "source: t\n"
                           "integration: { name: t, version: 1.0.0 }\n"
                           "body: json-object\n"
                           "message_id: \"m-{id}\"\n";

Test(fields, nested_fields_share_their_objects_in_first_set_order)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "common:\n"
             "  userId: uid\n"
             "  context.traits.email: email\n"
             "  context.ip: ip\n"
             "  properties.a: a\n"
             "events:\n"
             "  - when: { kind: x }\n"
             "    track: X\n"
             "    properties:\n"
             "      b.c: b\n"
             "    context:\n"
             "      traits.name: name\n"
             "    set:\n"
             "      context: extra\n",
             head);
    char *got = map_text(yaml,
                         "{\"id\":\"1\",\"kind\":\"x\",\"uid\":\"u\",\"email\":\"e@x\",\"ip\":\"1.2.3.4\","
                         "\"a\":1,\"b\":true,\"name\":\"N\",\"extra\":{\"locale\":\"fr\"}}",
                         GW_OK);
    cr_expect_str_eq(got,
                     "[{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"context\":{\"traits\":"
                     "{\"email\":\"e@x\",\"name\":\"N\"},\"ip\":\"1.2.3.4\",\"locale\":\"fr\","
                     "\"integration\":{\"name\":\"t\",\"version\":\"1.0.0\"}},\"properties\":"
                     "{\"a\":1,\"b\":{\"c\":true}},\"messageId\":\"m-1\"}]");
    free(got);
}

Test(fields, a_value_at_a_field_replaces_what_was_there)
{
    char yaml[2048];
    /* properties.p is first a number, then the parent of p.q: the object
     * takes its place, as a dotted path always did */
    snprintf(yaml, sizeof(yaml),
             "%s"
             "common:\n"
             "  userId: uid\n"
             "  properties.p: n\n"
             "events:\n"
             "  - when: { kind: x }\n"
             "    track: X\n"
             "    properties:\n"
             "      p.q: n\n"
             "      p.q.r: n\n",
             head);
    char *got = map_text(yaml, "{\"id\":\"2\",\"kind\":\"x\",\"uid\":\"u\",\"n\":7}", GW_OK);
    cr_expect(strstr(got, "\"properties\":{\"p\":{\"q\":{\"r\":7}}}") != NULL, "%s", got);
    free(got);
}

Test(fields, long_keys_and_long_templates_are_whole)
{
    char key[300];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    char id[400];
    memset(id, 'i', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "common:\n"
             "  userId: uid\n"
             "  properties.%s.x: uid\n"
             "events:\n"
             "  - when: { kind: x }\n"
             "    track: X\n",
             head, key);
    char event[1024];
    snprintf(event, sizeof(event), "{\"id\":\"%s\",\"kind\":\"x\",\"uid\":\"u\"}", id);
    char *got = map_text(yaml, event, GW_OK);
    char want[1024];
    snprintf(want, sizeof(want), "\"%s\":{\"x\":\"u\"}", key);
    cr_expect(strstr(got, want) != NULL, "%s", got);
    snprintf(want, sizeof(want), "\"messageId\":\"m-%s\"", id);
    cr_expect(strstr(got, want) != NULL, "%s", got);
    free(got);

    /* the same through the dotted-path setter */
    json_object *o = json_object_new_object();
    char dotted[700];
    snprintf(dotted, sizeof(dotted), "a.%s.b", key);
    gw_json_set_path(o, dotted, json_object_new_int(1));
    snprintf(want, sizeof(want), "{\"a\":{\"%s\":{\"b\":1}}}", key);
    cr_expect_str_eq(gw_json_compact(o, NULL), want);
    json_object_put(o);
}

Test(fields, many_when_paths_each_match)
{
    /* more distinct `when` paths than are remembered per event */
    char yaml[8192];
    int n = snprintf(yaml, sizeof(yaml), "%scommon:\n  userId: uid\nevents:\n", head);
    for (int i = 0; i < 40; i++) {
        n += snprintf(yaml + n, sizeof(yaml) - (size_t)n,
                      "  - when: { k%d: yes, kind: x }\n    track: E%d\n", i, i);
    }
    for (int i = 0; i < 40; i += 13) {
        char event[128];
        snprintf(event, sizeof(event), "{\"id\":\"3\",\"kind\":\"x\",\"uid\":\"u\",\"k%d\":\"yes\"}",
                 i);
        char *got = map_text(yaml, event, GW_OK);
        char want[64];
        snprintf(want, sizeof(want), "\"event\":\"E%d\"", i);
        cr_expect(strstr(got, want) != NULL, "k%d: %s", i, got);
        free(got);
    }
}

Test(fields, interned_keys_are_one_copy_per_text)
{
    const char *a = gw_json_key_intern("context.x", 7);
    const char *b = gw_json_key_intern("context", 7);
    const char *c = gw_json_key_intern("contexts", 8);
    cr_expect_str_eq(a, "context");
    cr_expect_eq(a, b);
    cr_expect_neq(a, c);
    cr_expect_str_eq(c, "contexts");
}

Test(fields, scalar_text_in_a_buffer_is_what_json_c_writes)
{
    json_object *v[] = {json_object_new_int64(0),          json_object_new_int64(-1),
                        json_object_new_int64(1234567890123), json_object_new_int64(INT64_MIN),
                        json_object_new_int64(INT64_MAX),  json_object_new_uint64(UINT64_MAX),
                        json_object_new_boolean(1),        json_object_new_boolean(0),
                        json_object_new_double(2.5),       json_object_new_string("s")};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char buf[32];
        const char *got = gw_json_scalar_text_buf(v[i], buf, sizeof(buf));
        const char *want = json_object_is_type(v[i], json_type_string)
                               ? json_object_get_string(v[i])
                               : json_object_to_json_string_ext(v[i], JSON_C_TO_STRING_PLAIN);
        cr_expect_str_eq(got, want, "value %zu", i);
        json_object_put(v[i]);
    }
    char buf[32];
    cr_expect_null(gw_json_scalar_text_buf(NULL, buf, sizeof(buf)));
}

Test(fields, keys_with_their_hash_find_members)
{
    json_object *o = json_tokener_parse("{\"a\":1,\"bb\":{\"c\":2}}");
    struct gw_json_key a, bb, none;
    gw_json_key_init(&a, "a");
    gw_json_key_init(&bb, "bb");
    gw_json_key_init(&none, "zz");
    cr_expect_eq(json_object_get_int(gw_json_get_key(o, &a)), 1);
    cr_expect(json_object_is_type(gw_json_get_key(o, &bb), json_type_object));
    cr_expect_null(gw_json_get_key(o, &none));
    cr_expect_null(gw_json_get_key(gw_json_get_key(o, &a), &a)); /* not an object */
    cr_expect_null(gw_json_get_key(NULL, &a));
    json_object_put(o);
}

Test(fields, times_are_written_with_fixed_widths)
{
    static const struct {
        const char *value;
        const char *want;
    } cases[] = {
        {"0", "1970-01-01T00:00:00.000Z"},
        {"1.5", "1970-01-01T00:00:01.500Z"},
        {"1.9996", "1970-01-01T00:00:02.000Z"},
        {"253402300799", "9999-12-31T23:59:59.000Z"},
        {"951782400.007", "2000-02-29T00:00:00.007Z"},
    };
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "%scommon:\n  userId: uid\n  timestamp: { from: t, as: unix-seconds }\n"
             "events:\n  - when: { kind: x }\n    track: X\n",
             head);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char event[128];
        snprintf(event, sizeof(event), "{\"id\":\"4\",\"kind\":\"x\",\"uid\":\"u\",\"t\":%s}",
                 cases[i].value);
        char *got = map_text(yaml, event, GW_OK);
        char want[64];
        snprintf(want, sizeof(want), "\"timestamp\":\"%s\"", cases[i].want);
        cr_expect(strstr(got, want) != NULL, "%s: %s", cases[i].value, got);
        free(got);
    }
}

Test(fields, past_the_interned_names_fields_keep_their_own)
{
    /* fill the set of kept names (this test runs in its own process) */
    size_t kept = 0;
    for (size_t i = 0; i <= GW_JSON_KEYS_MAX; i++) {
        char name[32];
        int n = snprintf(name, sizeof(name), "fill%zu", i);
        if (gw_json_key_intern(name, (size_t)n) == NULL) {
            break;
        }
        kept++;
    }
    cr_assert_leq(kept, GW_JSON_KEYS_MAX);
    cr_expect_null(gw_json_key_intern("never-seen", 10));
    cr_expect_not_null(gw_json_key_intern("fill0", 5)); /* a kept name still is */
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "common:\n"
             "  userId: uid\n"
             "  context.brand_new.deep: uid\n"
             "events:\n"
             "  - when: { kind: x }\n"
             "    track: X\n"
             "    properties:\n"
             "      fresh_name: uid\n"
             "    set:\n"
             "      properties: obj\n",
             head);
    char *got = map_text(yaml, "{\"id\":\"5\",\"kind\":\"x\",\"uid\":\"u\",\"obj\":{\"o\":1}}",
                         GW_OK);
    cr_expect_str_eq(got, "[{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"context\":"
                          "{\"brand_new\":{\"deep\":\"u\"},\"integration\":{\"name\":\"t\","
                          "\"version\":\"1.0.0\"}},\"properties\":{\"fresh_name\":\"u\",\"o\":1},"
                          "\"messageId\":\"m-5\"}]");
    free(got);
}
