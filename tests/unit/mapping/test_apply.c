/* test_apply.c -- the mapper: shipped SendGrid rules against a golden file,
 * and each language feature on a small inline rules file.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "diag.h"
#include "gw_test.h"
#include "mapping/mapping.h"
#include "mem.h"

static struct gw_ruleset *load_inline(const char *yaml)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = gw_ruleset_create();
    cr_assert_eq(gw_rules_add_buffer(rs, yaml, strlen(yaml), "inline.yaml", d), GW_OK, "%s",
                 gw_diag_join(d));
    gw_diag_destroy(d);
    return rs;
}

/* Maps every event of a JSON body; returns the calls (new); *ignored counts. */
static json_object *map_body(const struct gw_source *src, const char *body, size_t *ignored,
                             json_object *violations)
{
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    json_object *root = NULL;
    char err[256];
    cr_assert_eq(gw_decode(gw_source_body(src), gw_source_json_field(src), &lim, body, strlen(body),
                           &root, err, sizeof(err)),
                 GW_OK, "%s", err);
    json_object *events = NULL;
    cr_assert_eq(gw_source_events(src, root, &events, err, sizeof(err)), GW_OK, "%s", err);
    json_object *calls = json_object_new_array();
    struct gw_map_input in = {.body = root};
    *ignored = 0;
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        bool ign = false;
        struct gw_violations found = {0};
        enum gw_rc rc = gw_source_apply(src, &in, json_object_array_get_idx(events, i), i, calls,
                                        &found, &ign);
        json_object *as_json = gw_violations_json(&found);
        for (size_t k = 0; k < found.n; k++) {
            json_object_array_add(violations,
                                  json_object_get(json_object_array_get_idx(as_json, k)));
        }
        json_object_put(as_json);
        gw_violations_fini(&found);
        *ignored += rc == GW_OK && ign;
    }
    json_object_put(events);
    json_object_put(root);
    return calls;
}

Test(apply, sendgrid_email_events_match_golden)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    char *body = gwt_read("sendgrid/email_events.user_id.json", NULL);
    char *golden = gwt_read("sendgrid/email_events.user_id.expected.json", NULL);
    json_object *viol = json_object_new_array();
    size_t ignored = 0;
    json_object *calls = map_body(gw_ruleset_find(rs, "sendgrid"), body, &ignored, viol);
    json_object *want = json_tokener_parse(golden);
    cr_assert_not_null(want);
    cr_expect_eq(json_object_array_length(viol), 0);
    cr_expect_eq(ignored, 1, "the processed event is ignored on purpose");
    cr_expect(json_object_equal(calls, want), "got:\n%s",
              json_object_to_json_string_ext(calls, JSON_C_TO_STRING_PRETTY));
    json_object_put(calls);
    json_object_put(want);
    json_object_put(viol);
    free(body);
    free(golden);
    gw_ruleset_destroy(rs);
}

Test(apply, sendgrid_without_user_id_maps_but_has_no_user)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    char *body = gwt_read("sendgrid/open.json", NULL);
    json_object *viol = json_object_new_array();
    size_t ignored = 0;
    json_object *calls = map_body(gw_ruleset_find(rs, "sendgrid"), body, &ignored, viol);
    cr_assert_eq(json_object_array_length(calls), 1);
    json_object *c = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "event")), "Email Opened");
    cr_expect_null(json_object_object_get(c, "userId"));
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "timestamp")),
                     "2017-12-15T00:59:29.000Z");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "messageId")),
                     "sendgrid-FOTFFO0ecsBE-zxFXfs6WA==");
    json_object_put(calls);
    json_object_put(viol);
    free(body);
    gw_ruleset_destroy(rs);
}

static const char lang[] =
    "source: acme\n"
    "integration: { name: acme, version: 2.1.0 }\n"
    "body: json\n"
    "message_id: \"acme-{id}-{$header.X-Delivery}\"\n"
    "unmatched: reject\n"
    "common:\n"
    "  userId: [account.owner_id, owner.id, { const: fallback }]\n"
    "  timestamp: { from: created_ms, as: unix-ms }\n"
    "  context.acme.topic: $query.topic\n"
    "events:\n"
    "  - when: { kind: [order, purchase], \"items[0].sku\": { exists: true } }\n"
    "    track: \"{$header.X-Kind} Placed\"\n"
    "    properties:\n"
    "      revenue: { from: total_cents, as: cents }\n"
    "      skus: \"items[*].sku\"\n"
    "      label: { template: \"#{id} by {owner.id}\" }\n"
    "      tier: { from: plan, map: { p1: gold, p2: silver }, default: none }\n"
    "      quantity: { from: qty, as: integer }\n"
    "  - when: { kind: { prefix: \"user.\" } }\n"
    "    identify: true\n"
    "    traits:\n"
    "      email: owner.email\n"
    "  - when: { kind: noise }\n"
    "    ignore: true\n";

static const char *hdr(void *arg, const char *name)
{
    if (strcmp(name, "X-Kind") == 0) {
        return "Order";
    }
    return strcmp(name, "X-Delivery") == 0 ? "d-7" : NULL;
}

static const char *qry(void *arg, const char *name)
{
    return strcmp(name, "topic") == 0 ? "orders/create" : NULL;
}

static json_object *apply_one(const char *yaml, const char *event, enum gw_rc *rc,
                              json_object **viol, bool *ignored)
{
    struct gw_ruleset *rs = load_inline(yaml);
    json_object *ev = json_tokener_parse(event);
    cr_assert_not_null(ev, "bad test event %s", event);
    json_object *calls = json_object_new_array();
    struct gw_violations found = {0};
    struct gw_map_input in = {.body = ev, .header = hdr, .query = qry};
    *rc = gw_source_apply(gw_ruleset_at(rs, 0), &in, ev, 3, calls, &found, ignored);
    *viol = gw_violations_json(&found);
    gw_violations_fini(&found);
    json_object_put(ev);
    gw_ruleset_destroy(rs);
    return calls;
}

static const char *str_at(json_object *o, const char *path)
{
    char *p = gw_strdup(path);
    for (char *save = NULL, *k = strtok_r(p, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        o = json_object_object_get(o, k);
    }
    free(p);
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(absent)";
}

Test(apply, language_features_on_a_track_call)
{
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *calls = apply_one(
        lang,
        "{\"id\":42,\"kind\":\"purchase\",\"created_ms\":1600000000123,\"owner\":{\"id\":\"u9\"},"
        "\"total_cents\":\"1999\",\"items\":[{\"sku\":\"A\"},{\"sku\":\"B\"}],\"plan\":\"p2\","
        "\"qty\":\"3\"}",
        &rc, &viol, &ignored);
    cr_assert_eq(rc, GW_OK);
    cr_assert_eq(json_object_array_length(calls), 1);
    json_object *c = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(str_at(c, "type"), "\"track\"");
    cr_expect_str_eq(str_at(c, "event"), "\"Order Placed\"");
    cr_expect_str_eq(str_at(c, "userId"), "\"u9\"");
    cr_expect_str_eq(str_at(c, "timestamp"), "\"2020-09-13T12:26:40.123Z\"");
    cr_expect_str_eq(str_at(c, "messageId"), "\"acme-42-d-7\"");
    cr_expect_str_eq(str_at(c, "properties.revenue"), "19.99");
    cr_expect_str_eq(str_at(c, "properties.skus"), "[\"A\",\"B\"]");
    cr_expect_str_eq(str_at(c, "properties.label"), "\"#42 by u9\"");
    cr_expect_str_eq(str_at(c, "properties.tier"), "\"silver\"");
    cr_expect_str_eq(str_at(c, "properties.quantity"), "3");
    cr_expect_str_eq(str_at(c, "context.acme.topic"), "\"orders\\/create\"");
    cr_expect_str_eq(str_at(c, "context.integration"), "{\"name\":\"acme\",\"version\":\"2.1.0\"}");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, fallbacks_defaults_and_identify)
{
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *calls = apply_one(
        lang, "{\"id\":1,\"kind\":\"user.created\",\"owner\":{\"email\":\"a@b.c\"},\"plan\":\"zz\"}",
        &rc, &viol, &ignored);
    cr_assert_eq(rc, GW_OK);
    json_object *c = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(str_at(c, "type"), "\"identify\"");
    cr_expect_str_eq(str_at(c, "userId"), "\"fallback\"");
    cr_expect_str_eq(str_at(c, "traits.email"), "\"a@b.c\"");
    cr_expect_str_eq(str_at(c, "properties"), "(absent)");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, unmatched_rejected_ignored_and_bad_values)
{
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *calls = apply_one(lang, "{\"kind\":\"mystery\"}", &rc, &viol, &ignored);
    cr_expect_eq(rc, GW_ERR_INVALID);
    cr_expect_eq(json_object_array_length(calls), 0);
    cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "rule"), "\"unplanned\"");
    cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "index"), "3");
    json_object_put(calls);
    json_object_put(viol);

    calls = apply_one(lang, "{\"kind\":\"noise\"}", &rc, &viol, &ignored);
    cr_expect_eq(rc, GW_OK);
    cr_expect(ignored);
    cr_expect_eq(json_object_array_length(calls), 0);
    json_object_put(calls);
    json_object_put(viol);

    calls = apply_one(lang,
                      "{\"kind\":\"order\",\"items\":[{\"sku\":\"A\"}],\"created_ms\":\"soon\"}",
                      &rc, &viol, &ignored);
    cr_expect_eq(rc, GW_ERR_INVALID);
    cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "field"), "\"timestamp\"");
    cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "rule"), "\"format\"");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, message_id_falls_back_to_a_stable_hash)
{
    static const char y[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                            "message_id: \"acme-{id}\"\nevents:\n  - track: A Happened\n";
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *a = apply_one(y, "{\"x\":1}", &rc, &viol, &ignored);
    json_object_put(viol);
    json_object *b = apply_one(y, "{\"x\":1}", &rc, &viol, &ignored);
    json_object_put(viol);
    const char *ida = str_at(json_object_array_get_idx(a, 0), "messageId");
    char *keep = gw_strdup(ida);
    cr_expect_str_eq(keep, str_at(json_object_array_get_idx(b, 0), "messageId"));
    cr_expect_eq(strncmp(keep, "\"acme-", 6), 0);
    cr_expect_eq(strlen(keep), strlen("\"acme-\"") + 32);
    free(keep);
    json_object_put(a);
    json_object_put(b);
}

Test(apply, omitted_values_count_as_absent)
{
    static const char y[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                            "common:\n  userId: [{ from: custom_id, omit: [\"\", \"0\"] }, email]\n"
                            "events:\n  - track: A Happened\n";
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *a = apply_one(y, "{\"custom_id\":\"\",\"email\":\"a@b.c\"}", &rc, &viol, &ignored);
    cr_expect_str_eq(str_at(json_object_array_get_idx(a, 0), "userId"), "\"a@b.c\"");
    json_object_put(viol);
    json_object_put(a);
    a = apply_one(y, "{\"custom_id\":0,\"email\":\"a@b.c\"}", &rc, &viol, &ignored);
    cr_expect_str_eq(str_at(json_object_array_get_idx(a, 0), "userId"), "\"a@b.c\"");
    json_object_put(viol);
    json_object_put(a);
    a = apply_one(y, "{\"custom_id\":\"c-1\",\"email\":\"a@b.c\"}", &rc, &viol, &ignored);
    cr_expect_str_eq(str_at(json_object_array_get_idx(a, 0), "userId"), "\"c-1\"");
    json_object_put(viol);
    json_object_put(a);
}

Test(apply, all_six_call_types)
{
    static const char y[] =
        "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
        "common:\n  userId: uid\n  properties.note: note\n  traits.plan: plan\n"
        "events:\n"
        "  - when: {k: p}\n    page: \"{title}\"\n    set: {category: cat}\n"
        "  - when: {k: s}\n    screen: Home\n"
        "  - when: {k: g}\n    group: org.id\n    traits: {name: org.name}\n"
        "  - when: {k: a}\n    alias: old_id\n";
    static const struct {
        const char *event;
        const char *type, *path, *want;
    } cases[] = {
        {"{\"k\":\"p\",\"uid\":\"u\",\"title\":\"Pricing\",\"cat\":\"Docs\",\"note\":\"n\",\"plan\":\"x\"}",
         "page", "name", "\"Pricing\""},
        {"{\"k\":\"p\",\"uid\":\"u\",\"title\":\"Pricing\",\"cat\":\"Docs\",\"note\":\"n\"}",
         "page", "category", "\"Docs\""},
        {"{\"k\":\"p\",\"uid\":\"u\",\"title\":\"T\",\"note\":\"n\",\"plan\":\"x\"}", "page",
         "traits", "(absent)"},
        {"{\"k\":\"s\",\"uid\":\"u\",\"note\":\"n\"}", "screen", "properties.note", "\"n\""},
        {"{\"k\":\"g\",\"uid\":\"u\",\"org\":{\"id\":\"o1\",\"name\":\"Acme\"},\"plan\":\"pro\"}",
         "group", "groupId", "\"o1\""},
        {"{\"k\":\"g\",\"uid\":\"u\",\"org\":{\"id\":\"o1\",\"name\":\"Acme\"},\"plan\":\"pro\"}",
         "group", "traits", "{\"plan\":\"pro\",\"name\":\"Acme\"}"},
        {"{\"k\":\"a\",\"uid\":\"u\",\"old_id\":\"anon-1\",\"note\":\"n\"}", "alias", "previousId",
         "\"anon-1\""},
        {"{\"k\":\"a\",\"uid\":\"u\",\"old_id\":\"anon-1\",\"note\":\"n\"}", "alias", "properties",
         "(absent)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum gw_rc rc;
        json_object *viol;
        bool ignored;
        json_object *calls = apply_one(y, cases[i].event, &rc, &viol, &ignored);
        cr_expect_eq(rc, GW_OK, "case %zu", i);
        json_object *c = json_object_array_get_idx(calls, 0);
        char want_type[32];
        snprintf(want_type, sizeof(want_type), "\"%s\"", cases[i].type);
        cr_expect_str_eq(str_at(c, "type"), want_type, "case %zu", i);
        cr_expect_str_eq(str_at(c, cases[i].path), cases[i].want, "case %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
}
