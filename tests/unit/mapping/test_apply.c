/* test_apply.c -- the mapper: shipped SendGrid rules against a golden file,
 * and each language feature on a small inline rules file.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "diag.h"
#include "gw_test.h"
#include "mapping/mapping.h"
#include "mem.h"

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
    struct gw_ruleset *rs = gwt_load_inline(yaml);
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

/* The fallback hash is salted with the call's name: one body that two
 * rules map to two different events (a partner sending one order as
 * orders/updated and orders/cancelled) gives two ids, never one. */
Test(apply, message_id_hash_differs_per_event_of_one_body)
{
    static const char upd[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                              "events:\n  - track: Order Updated\n";
    static const char can[] = "source: acme\nintegration: {name: acme, version: 1.0.0}\n"
                              "events:\n  - track: Order Cancelled\n";
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *a = apply_one(upd, "{\"id\":7}", &rc, &viol, &ignored);
    json_object_put(viol);
    json_object *b = apply_one(can, "{\"id\":7}", &rc, &viol, &ignored);
    json_object_put(viol);
    char *ida = gw_strdup(str_at(json_object_array_get_idx(a, 0), "messageId"));
    cr_expect_str_neq(ida, str_at(json_object_array_get_idx(b, 0), "messageId"));
    free(ida);
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

/* ---- rules language v2: filters, count, sum, key/value, minor units,
 * $received_at and a rule's own message_id ---------------------------------- */

static const char v2[] =
    "source: acme\n"
    "integration: { name: acme, version: 1.0.0 }\n"
    "casing: { keys: snake_case }\n"
    "message_id: \"acme-{id}\"\n"
    "common:\n"
    "  userId: { from: uid, as: string }\n"
    "  timestamp: [{ from: created, as: unix-seconds }, $received_at]\n"
    "events:\n"
    "  - when: { \"lines[?type=subscription].plan\": gold }\n"
    "    track: Gold Renewed\n"
    "    message_id: \"acme-invoice-{invoice}\"\n"
    "    properties:\n"
    "      sub_id: \"lines[?type=subscription].id\"\n"
    "      item_ids: \"lines[*?type=invoiceitem].id\"\n"
    "      first_nested: \"lines[?price.kind=\\\"one off\\\"].id\"\n"
    "      n_lines: { count: lines }\n"
    "      n_items: { count: \"lines[*?type=invoiceitem]\" }\n"
    "      qty: { sum: \"lines[*].quantity\" }\n"
    "      amounts: { sum: \"lines[*].amount\" }\n"
    "      total: { from: amount, as: minor-units, currency: currency }\n"
    "      lines:\n"
    "        each: \"lines[*?type=subscription]\"\n"
    "        fields: { id: id }\n"
    "  - when: { kind: prop }\n"
    "    identify: true\n"
    "    set:\n"
    "      traits:\n"
    "        key: name\n"
    "        value: { from: value, as: string }\n"
    "        keys: { firstname: firstName }\n"
    "  - when: { kind: sum }\n"
    "    track: Summed\n"
    "    properties: { s: { sum: xs }, c: { count: xs } }\n";

static json_object *apply_at(const char *yaml, const char *event, int64_t received_at,
                             enum gw_rc *rc, json_object **viol)
{
    struct gw_ruleset *rs = gwt_load_inline(yaml);
    json_object *ev = json_tokener_parse(event);
    cr_assert_not_null(ev, "bad test event %s", event);
    json_object *calls = json_object_new_array();
    struct gw_map_input in = {.body = ev, .received_at = received_at};
    bool ignored = false;
    struct gw_violations found = {0};
    *rc = gw_source_apply(gw_ruleset_at(rs, 0), &in, ev, 0, calls, &found, &ignored);
    *viol = gw_violations_json(&found);
    gw_violations_fini(&found);
    json_object_put(ev);
    gw_ruleset_destroy(rs);
    return calls;
}

static const char invoice[] =
    "{\"id\":\"evt_1\",\"uid\":7,\"invoice\":\"in_9\",\"amount\":12345,\"currency\":\"kwd\","
    "\"lines\":[{\"id\":\"ii_1\",\"type\":\"invoiceitem\",\"quantity\":2,\"amount\":\"1.25\","
    "\"price\":{\"kind\":\"one off\"}},"
    "{\"id\":\"sub_1\",\"type\":\"subscription\",\"plan\":\"gold\",\"quantity\":1,"
    "\"amount\":\"10.5\"},"
    "{\"id\":\"ii_2\",\"type\":\"invoiceitem\",\"quantity\":3,\"amount\":\"0.25\"}]}";

Test(apply, filters_count_sum_and_minor_units)
{
    enum gw_rc rc;
    json_object *viol;
    json_object *calls = apply_at(v2, invoice, 1764641400123, &rc, &viol);
    cr_assert_eq(rc, GW_OK, "%s", json_object_to_json_string(viol));
    json_object *c = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(str_at(c, "event"), "\"Gold Renewed\"");
    cr_expect_str_eq(str_at(c, "properties.sub_id"), "\"sub_1\"");
    cr_expect_str_eq(str_at(c, "properties.item_ids"), "[\"ii_1\",\"ii_2\"]");
    cr_expect_str_eq(str_at(c, "properties.first_nested"), "\"ii_1\"");
    cr_expect_str_eq(str_at(c, "properties.n_lines"), "3");
    cr_expect_str_eq(str_at(c, "properties.n_items"), "2");
    cr_expect_str_eq(str_at(c, "properties.qty"), "6");
    cr_expect_str_eq(str_at(c, "properties.amounts"), "12.00");
    cr_expect_str_eq(str_at(c, "properties.total"), "12.345");
    cr_expect_str_eq(str_at(c, "properties.lines"), "[{\"id\":\"sub_1\"}]");
    /* the rule's own message_id; no created: the time it was received */
    cr_expect_str_eq(str_at(c, "messageId"), "\"acme-invoice-in_9\"");
    cr_expect_str_eq(str_at(c, "timestamp"), "\"2025-12-02T02:10:00.123Z\"");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, a_filter_without_a_match_is_absent)
{
    enum gw_rc rc;
    json_object *viol;
    json_object *calls = apply_at(
        v2, "{\"uid\":1,\"created\":1,\"lines\":[{\"type\":\"subscription\",\"plan\":\"free\"}]}",
        1, &rc, &viol);
    cr_expect_eq(rc, GW_OK);
    cr_expect_eq(json_object_array_length(calls), 0, "no rule matches: ignored");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, key_value_pairs_become_a_member_in_the_source_casing)
{
    static const struct {
        const char *name, *value, *want;
    } cases[] = {
        {"firstname", "\"Ada\"", "{\"firstName\":\"Ada\"}"},
        {"hs_lead_status", "\"NEW\"", "{\"hs_lead_status\":\"NEW\"}"},
        {"annualRevenue", "1000", "{\"annual_revenue\":\"1000\"}"},
        {"Job Title", "\"\"", "{\"job_title\":\"\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ev[256];
        snprintf(ev, sizeof(ev), "{\"uid\":\"u\",\"created\":1,\"kind\":\"prop\",\"name\":\"%s\","
                 "\"value\":%s}", cases[i].name, cases[i].value);
        enum gw_rc rc;
        json_object *viol;
        json_object *calls = apply_at(v2, ev, 1, &rc, &viol);
        cr_expect_eq(rc, GW_OK, "case %zu", i);
        json_object *c = json_object_array_get_idx(calls, 0);
        cr_expect_str_eq(str_at(c, "traits"), cases[i].want, "case %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
}

Test(apply, a_pair_without_its_value_adds_nothing)
{
    enum gw_rc rc;
    json_object *viol;
    json_object *calls = apply_at(v2, "{\"uid\":\"u\",\"created\":1,\"kind\":\"prop\",\"name\":\"x\"}",
                                  1, &rc, &viol);
    cr_expect_eq(rc, GW_OK);
    cr_expect_str_eq(str_at(json_object_array_get_idx(calls, 0), "traits"), "{}");
    json_object_put(calls);
    json_object_put(viol);
}

Test(apply, sum_and_count_edge_cases)
{
    static const struct {
        const char *xs, *sum, *count;
    } cases[] = {
        {"[]", "0", "0"},
        {"[1,2,3]", "6", "3"},
        {"[\"10.00\",\"5.50\"]", "15.50", "2"},
        {"[1,\"0.1\",0.2]", "1.3", "3"},
        {"[9223372036854775807,1]", "9223372036854775808", "2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ev[256];
        snprintf(ev, sizeof(ev), "{\"uid\":\"u\",\"created\":1,\"kind\":\"sum\",\"xs\":%s}",
                 cases[i].xs);
        enum gw_rc rc;
        json_object *viol;
        json_object *calls = apply_at(v2, ev, 1, &rc, &viol);
        cr_expect_eq(rc, GW_OK, "case %zu", i);
        json_object *c = json_object_array_get_idx(calls, 0);
        cr_expect_str_eq(str_at(c, "properties.s"), cases[i].sum, "case %zu", i);
        cr_expect_str_eq(str_at(c, "properties.c"), cases[i].count, "case %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
}

Test(apply, sum_and_count_refuse_what_they_cannot_read)
{
    static const char *const bad[] = {"{\"a\":1}", "[1,\"x\"]", "[true]", "\"12\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char ev[128];
        snprintf(ev, sizeof(ev), "{\"uid\":\"u\",\"created\":1,\"kind\":\"sum\",\"xs\":%s}", bad[i]);
        enum gw_rc rc;
        json_object *viol;
        json_object *calls = apply_at(v2, ev, 1, &rc, &viol);
        cr_expect_eq(rc, GW_ERR_INVALID, "case %zu", i);
        cr_expect_eq(json_object_array_length(calls), 0, "case %zu", i);
        json_object *v = json_object_array_get_idx(viol, 0);
        cr_expect_str_eq(str_at(v, "rule"), "\"format\"", "case %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
}

/* Every ISO 4217 exponent, and Stripe's documented exceptions. */
Test(apply, minor_units_by_currency)
{
    static const char y[] =
        "source: acme\n"
        "integration: { name: acme, version: 1.0.0 }\n"
        "events:\n"
        "  - track: Paid\n"
        "    set: { userId: { const: u } }\n"
        "    properties:\n"
        "      iso: { from: amount, as: minor-units, currency: cur }\n"
        "      stripe: { from: amount, as: stripe-amount, currency: cur }\n";
    static const struct {
        const char *amount, *cur, *iso, *stripe;
    } cases[] = {
        {"1999", "usd", "19.99", "19.99"},       {"1999", "EUR", "19.99", "19.99"},
        {"5000", "jpy", "5000", "5000"},         {"5000", "krw", "5000", "5000"},
        {"5000", "VND", "5000", "5000"},         {"5000", "clp", "5000", "5000"},
        {"5000", "xof", "5000", "5000"},         {"5000", "ugx", "5000", "5000"},
        {"5000", "isk", "5000", "50.00"},        {"5000", "mga", "50.00", "5000"},
        {"12345", "kwd", "12.345", "12.345"},    {"12340", "bhd", "12.340", "12.340"},
        {"1", "jod", "0.001", "0.001"},          {"1000", "omr", "1.000", "1.000"},
        {"2500", "tnd", "2.500", "2.500"},       {"2500", "iqd", "2.500", "2.500"},
        {"2500", "lyd", "2.500", "2.500"},       {"12345", "clf", "1.2345", "1.2345"},
        {"-1999", "usd", "-19.99", "-19.99"},    {"\"250\"", "huf", "2.50", "2.50"},
        {"7", "twd", "0.07", "0.07"},            {"0", "gbp", "0.00", "0.00"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ev[128];
        snprintf(ev, sizeof(ev), "{\"amount\":%s,\"cur\":\"%s\"}", cases[i].amount, cases[i].cur);
        enum gw_rc rc;
        json_object *viol;
        json_object *calls = apply_at(y, ev, 1, &rc, &viol);
        cr_expect_eq(rc, GW_OK, "case %zu: %s", i, json_object_to_json_string(viol));
        json_object *c = json_object_array_get_idx(calls, 0);
        cr_expect_str_eq(str_at(c, "properties.iso"), cases[i].iso, "case %zu", i);
        cr_expect_str_eq(str_at(c, "properties.stripe"), cases[i].stripe, "case %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
    /* no currency, a currency without minor units, a fraction of a minor unit */
    static const char *const bad[] = {"{\"amount\":1}", "{\"amount\":1,\"cur\":\"xau\"}",
                                      "{\"amount\":1.5,\"cur\":\"usd\"}",
                                      "{\"amount\":1,\"cur\":\"dollars\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum gw_rc rc;
        json_object *viol;
        json_object *calls = apply_at(y, bad[i], 1, &rc, &viol);
        cr_expect_eq(rc, GW_ERR_INVALID, "bad %zu", i);
        cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "rule"), "\"format\"",
                         "bad %zu", i);
        json_object_put(calls);
        json_object_put(viol);
    }
}

Test(apply, received_at_is_the_clock_when_unset)
{
    static const char y[] = "source: acme\n"
                            "integration: { name: acme, version: 1.0.0 }\n"
                            "events:\n"
                            "  - track: Seen\n"
                            "    set: { userId: { const: u }, timestamp: $received_at }\n";
    enum gw_rc rc;
    json_object *viol;
    time_t before = time(NULL);
    json_object *calls = apply_at(y, "{}", 0, &rc, &viol);
    cr_assert_eq(rc, GW_OK);
    const char *ts = json_object_get_string(
        json_object_object_get(json_object_array_get_idx(calls, 0), "timestamp"));
    struct tm tm = {0};
    cr_assert_not_null(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm), "%s", ts);
    cr_expect_geq(timegm(&tm), before - 1, "%s is not now", ts);
    cr_expect_eq(strlen(ts), 24, "%s has milliseconds and Z", ts);
    json_object_put(calls);
    json_object_put(viol);
}

/* Stripe: a Checkout payment is one Order Completed whichever of its two
 * events arrives first: the session's and the charge's share the messageId
 * of the PaymentIntent; invoice.paid and invoice.payment_succeeded share the
 * invoice's. */
static json_object *stripe_first_call(const struct gw_source *src, const char *rel,
                                      const char *customer)
{
    char *body = gwt_read(rel, NULL);
    json_object *ev = json_tokener_parse(body);
    free(body);
    cr_assert_not_null(ev, "%s", rel);
    if (customer != NULL) {
        json_object *obj = json_object_object_get(json_object_object_get(ev, "data"), "object");
        json_object_object_add(obj, "customer", json_object_new_string(customer));
    }
    json_object *calls = json_object_new_array();
    struct gw_violations found = {0};
    struct gw_map_input in = {.body = ev, .received_at = 1};
    bool ignored = false;
    enum gw_rc rc = gw_source_apply(src, &in, ev, 0, calls, &found, &ignored);
    json_object *viol = gw_violations_json(&found);
    gw_violations_fini(&found);
    cr_assert_eq(rc, GW_OK, "%s: %s", rel, json_object_to_json_string(viol));
    cr_assert_eq(json_object_array_length(calls), 1, "%s", rel);
    json_object *c = json_object_get(json_object_array_get_idx(calls, 0));
    json_object_put(calls);
    json_object_put(viol);
    json_object_put(ev);
    return c;
}

Test(apply, stripe_counts_each_payment_and_invoice_once)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    const struct gw_source *src = gw_ruleset_find(rs, "stripe");
    json_object *session = stripe_first_call(src, "golden/stripe/checkout.session.completed.guest.body",
                                             NULL);
    json_object *charge = stripe_first_call(
        src, "golden/stripe/charge.succeeded.checkout_guest.ignored.body", "cus_RMhKx2LkdIwHu7");
    cr_expect_str_eq(str_at(session, "messageId"), str_at(charge, "messageId"));
    cr_expect_str_eq(str_at(session, "event"), str_at(charge, "event"));
    cr_expect_str_eq(str_at(session, "properties.total"), str_at(charge, "properties.total"));
    cr_expect_str_eq(str_at(session, "userId"), "\"user_8a2f41\"");
    json_object *paid = stripe_first_call(src, "golden/stripe/invoice.paid.body", NULL);
    json_object *succeeded =
        stripe_first_call(src, "golden/stripe/invoice.payment_succeeded.body", NULL);
    cr_expect_str_eq(str_at(paid, "messageId"), str_at(succeeded, "messageId"));
    cr_expect_str_eq(str_at(paid, "properties"), str_at(succeeded, "properties"));
    json_object_put(session);
    json_object_put(charge);
    json_object_put(paid);
    json_object_put(succeeded);
    gw_ruleset_destroy(rs);
}

Test(apply, key_value_pairs_follow_a_camel_case_source)
{
    static const char y[] = "source: acme\n"
                            "integration: { name: acme, version: 1.0.0 }\n"
                            "casing: { keys: camelCase }\n"
                            "events:\n"
                            "  - identify: true\n"
                            "    set:\n"
                            "      userId: { const: u }\n"
                            "      traits: { key: name, value: value }\n";
    enum gw_rc rc;
    json_object *viol;
    json_object *calls = apply_at(y, "{\"name\":\"job_title\",\"value\":\"CTO\"}", 1, &rc, &viol);
    cr_expect_eq(rc, GW_OK);
    cr_expect_str_eq(str_at(json_object_array_get_idx(calls, 0), "traits"),
                     "{\"jobTitle\":\"CTO\"}");
    json_object_put(calls);
    json_object_put(viol);
}

/* ---- numbers leave as valid JSON, or not at all ---- */

static const char numbers[] =
    "source: nums\n"
    "integration: { name: nums, version: 1.0.0 }\n"
    "body: json\n"
    "message_id: \"nums-{id}\"\n"
    "unmatched: reject\n"
    "common:\n"
    "  userId: { const: u1 }\n"
    "events:\n"
    "  - when: { kind: n }\n"
    "    track: Order Completed\n"
    "    properties:\n"
    "      total: { from: v, as: number }\n"
    "      cents: { from: v, as: cents }\n"
    "      qty: { from: v, as: integer }\n"
    "  - when: { kind: s }\n"
    "    track: Order Completed\n"
    "    properties:\n"
    "      total: { sum: \"xs[*]\" }\n"
    "  - when: { kind: t }\n"
    "    track: Order Completed\n"
    "    properties:\n"
    "      total: { from: v, as: number }\n";

/* Each call re-parses, as the wire will: json-c writes what it keeps. */
static void expect_reparses(json_object *calls)
{
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        const char *text = json_object_to_json_string_ext(json_object_array_get_idx(calls, i),
                                                          JSON_C_TO_STRING_PLAIN);
        json_object *back = json_tokener_parse(text);
        cr_expect_not_null(back, "not JSON: %s", text);
        json_object_put(back);
    }
}

Test(apply, a_number_from_partner_text_follows_the_json_grammar)
{
    static const char *const bad[] = {"\"0x1A\"", "\"+5\"", "\"inf\"", "\"nan\"", "\"NaN\"",
                                      "\" 5\"", "\"5 \"", "\"1e400\"", "\".5\"", "\"05\"",
                                      "\"1.\"", "\"\"", "\"Infinity\"", "\"1_000\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char ev[128];
        snprintf(ev, sizeof(ev), "{\"id\":\"e\",\"kind\":\"n\",\"v\":%s}", bad[i]);
        enum gw_rc rc;
        json_object *viol;
        bool ignored;
        json_object *calls = apply_one(numbers, ev, &rc, &viol, &ignored);
        cr_expect_eq(rc, GW_ERR_INVALID, "case %s", bad[i]);
        cr_expect_eq(json_object_array_length(calls), 0, "case %s", bad[i]);
        cr_expect_str_eq(str_at(json_object_array_get_idx(viol, 0), "rule"), "\"format\"",
                         "case %s", bad[i]);
        json_object_put(calls);
        json_object_put(viol);
    }
}

Test(apply, a_number_is_written_in_canonical_form)
{
    static const struct {
        const char *v, *total;
    } cases[] = {
        {"\"12.50\"", "12.50"},
        {"\"-0\"", "-0"},
        {"\"1e3\"", "1e3"},
        {"\"1E+2\"", "1E+2"},
        {"\"1234567890123456789012345678901234567890\"",
         "1234567890123456789012345678901234567890"},
        {"\"-9223372036854775809\"", "-9223372036854775809"},
        {"1250", "1250"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ev[160];
        snprintf(ev, sizeof(ev), "{\"id\":\"e\",\"kind\":\"t\",\"v\":%s}", cases[i].v);
        enum gw_rc rc;
        json_object *viol;
        bool ignored;
        json_object *calls = apply_one(numbers, ev, &rc, &viol, &ignored);
        json_object *c = json_object_array_get_idx(calls, 0);
        cr_expect_str_eq(str_at(c, "properties.total"), cases[i].total, "case %zu: %s", i,
                         str_at(c, "properties.total"));
        expect_reparses(calls);
        json_object_put(calls);
        json_object_put(viol);
    }
}

Test(apply, a_sum_of_partner_text_follows_the_json_grammar)
{
    static const char *const bad[] = {"[\"0x1A\"]", "[1,\"+2\"]", "[\"inf\"]", "[\"nan\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char ev[128];
        snprintf(ev, sizeof(ev), "{\"id\":\"e\",\"kind\":\"s\",\"xs\":%s}", bad[i]);
        enum gw_rc rc;
        json_object *viol;
        bool ignored;
        json_object *calls = apply_one(numbers, ev, &rc, &viol, &ignored);
        cr_expect_eq(rc, GW_ERR_INVALID, "case %s", bad[i]);
        cr_expect_eq(json_object_array_length(calls), 0, "case %s", bad[i]);
        json_object_put(calls);
        json_object_put(viol);
    }
    /* digits too many for the decimals asked: the value, never a cut */
    enum gw_rc rc;
    json_object *viol;
    bool ignored;
    json_object *calls =
        apply_one(numbers, "{\"id\":\"e\",\"kind\":\"s\",\"xs\":[1e299,\"0.000000000001\"]}", &rc,
                  &viol, &ignored);
    cr_expect_eq(rc, GW_OK);
    expect_reparses(calls);
    double total = json_object_get_double(
        json_object_object_get(json_object_object_get(json_object_array_get_idx(calls, 0),
                                                      "properties"),
                               "total"));
    cr_expect(total > 9.9e298 && total < 1.1e299, "%g", total);
    json_object_put(calls);
    json_object_put(viol);
}
