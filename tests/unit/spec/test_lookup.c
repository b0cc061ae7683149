/* test_lookup.c -- the hashed lookups of gateway/spec/: sets of names, the
 * catalog's field lists and events (held to a plain scan of the lists), a
 * call's top-level fields, and the paths the walk writes out.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/catalog.h"
#include "spec/names.h"
#include "spec/spec.h"
#include "spec/top.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Sets of names ---- */

static const struct gw_name_slot *get(const struct gw_names *t, const void *set, const char *key)
{
    struct gw_name_key k;
    gw_name_key(&k, key, t->fold);
    return gw_names_get(t, set, &k);
}

Test(names, exact_set_first_value_wins)
{
    static struct gw_name_slot slots[16];
    struct gw_names t = {slots, COUNT(slots), 0, false};
    static const char list[] = "alpha beta gamma";
    static const char set_a = 0, set_b = 0;
    cr_assert(gw_names_put(&t, &set_a, list, 5, 1));
    cr_assert(gw_names_put(&t, &set_a, list + 6, 4, 2));
    cr_assert(gw_names_put(&t, &set_b, list, 5, 3));
    cr_expect_not(gw_names_put(&t, &set_a, "alpha", 5, 9), "a second alpha in one set");
    cr_expect_eq(t.n, 3);

    cr_assert_not_null(get(&t, &set_a, "alpha"));
    cr_expect_eq(get(&t, &set_a, "alpha")->value, 1, "the first value stays");
    cr_expect_eq(get(&t, &set_a, "beta")->value, 2);
    cr_expect_eq(get(&t, &set_b, "alpha")->value, 3, "sets are apart");
    cr_expect_null(get(&t, &set_b, "beta"));
    cr_expect_null(get(&t, &set_a, "gamma"));
    cr_expect_null(get(&t, &set_a, "alph"), "a prefix is not the name");
    cr_expect_null(get(&t, &set_a, "alphas"));
    cr_expect_null(get(&t, &set_a, "Alpha"), "exact sets keep case");
    cr_expect_null(get(&t, &set_a, ""));
}

Test(names, folded_set_ignores_case_and_underscores)
{
    static struct gw_name_slot slots[8];
    struct gw_names t = {slots, COUNT(slots), 0, true};
    static const char set = 0;
    cr_assert(gw_names_put(&t, &set, "firstName", 9, 1));
    cr_expect_not(gw_names_put(&t, &set, "first_name", 10, 2), "the same name folded");
    cr_assert(gw_names_put(&t, &set, "age", 3, 3));
    static const char *const same[] = {"firstName", "first_name", "FIRST_NAME", "firstname",
                                       "_first__name_"};
    for (size_t i = 0; i < COUNT(same); i++) {
        const struct gw_name_slot *s = get(&t, &set, same[i]);
        cr_expect(s != NULL && s->value == 1, "%s", same[i]);
    }
    cr_expect_null(get(&t, &set, "first_nam"));
    cr_expect_null(get(&t, &set, "first name"), "a space is not an underscore");
    cr_expect_eq(get(&t, &set, "A_G_E")->value, 3);
}

/* Every slot taken by names that all probe from the same few homes: the
 * probes wrap around the table and still find each one, or miss cleanly. */
Test(names, full_probe_sequences)
{
    static struct gw_name_slot slots[64];
    struct gw_names t = {slots, COUNT(slots), 0, false};
    static char keys[32][8];
    static const char set = 0;
    for (size_t i = 0; i < COUNT(keys); i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        cr_assert(gw_names_put(&t, &set, keys[i], strlen(keys[i]), (uint32_t)i));
    }
    for (size_t i = 0; i < COUNT(keys); i++) {
        const struct gw_name_slot *s = get(&t, &set, keys[i]);
        cr_expect(s != NULL && s->value == i, "%s", keys[i]);
    }
    cr_expect_null(get(&t, &set, "k32"));
}

Test(names, a_table_over_half_full_aborts, .signal = SIGABRT)
{
    static struct gw_name_slot slots[4];
    struct gw_names t = {slots, COUNT(slots), 0, false};
    static const char set = 0;
    cr_assert(gw_names_put(&t, &set, "a", 1, 0));
    cr_assert(gw_names_put(&t, &set, "b", 1, 0));
    (void)gw_names_put(&t, &set, "c", 1, 0);
}

/* ---- The catalog, held to a scan of its lists ---- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool fold_equal(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_') {
            a++;
        }
        while (*b == '_') {
            b++;
        }
        if (lower(*a) != lower(*b)) {
            return false;
        }
        if (*a == '\0') {
            return true;
        }
        a++;
        b++;
    }
}

/* What a lookup must return: the first field of list that matches. */
static const struct gw_catalog_field *scan(const struct gw_catalog_field *list, const char *key,
                                           bool fold)
{
    for (const struct gw_catalog_field *f = list; f != NULL && f->name != NULL; f++) {
        if (fold ? fold_equal(f->name, key) : strcmp(f->name, key) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Spec events whose property lists the sweep also covers (a sample of
 * every category). */
static const char *const events[] = {
    "Products Searched",  "Product List Filtered",
    "Checkout Started",   "Order Completed",
    "Order Refunded",     "Cart Shared",
    "Product Reviewed",   "Email Link Clicked",
    "Unsubscribed",       "Live Chat Message Sent",
    "Experiment Viewed",  "Video Playback Started",
    "Video Ad Started",   "Video Quality Updated",
    "Install Attributed", "Push Notification Tapped",
    "Signed Up",          "Trial Started",
    "Message Sent",       "Feedback Submitted",
};

struct lists {
    const struct gw_catalog_field *l[128];
    size_t n;
};

static void collect(struct lists *ls, const struct gw_catalog_field *list)
{
    if (list == NULL || ls->n == COUNT(ls->l)) {
        return;
    }
    ls->l[ls->n++] = list;
    for (const struct gw_catalog_field *f = list; f->name != NULL; f++) {
        collect(ls, f->nested);
    }
}

static void all_lists(struct lists *ls)
{
    ls->n = 0;
    const struct gw_catalog_field *const reserved[] = {
        gw_catalog_track_props,     gw_catalog_page_props,   gw_catalog_screen_props,
        gw_catalog_identify_traits, gw_catalog_group_traits, gw_catalog_context_fields,
    };
    for (size_t i = 0; i < COUNT(reserved); i++) {
        collect(ls, reserved[i]);
    }
    for (size_t i = 0; i < COUNT(events); i++) {
        const struct gw_catalog_event *ev = gw_catalog_event_find(events[i]);
        cr_assert_not_null(ev, "%s is a Spec event", events[i]);
        cr_expect_str_eq(ev->name, events[i]);
        collect(ls, ev->props);
    }
}

/* Every name of every list, as listed and changed: other case, snake_case
 * of camelCase, underscores added and dropped, cut short, extended. */
static void probe_keys(const struct lists *ls, void (*fn)(const char *key, void *arg), void *arg)
{
    static const char *const odd[] = {"", "_", "x", "id", "ID", "Id", "__", "e-mail", "Name"};
    for (size_t i = 0; i < COUNT(odd); i++) {
        fn(odd[i], arg);
    }
    for (size_t i = 0; i < ls->n; i++) {
        for (const struct gw_catalog_field *f = ls->l[i]; f->name != NULL; f++) {
            char buf[80];
            size_t n = strlen(f->name);
            fn(f->name, arg);
            for (size_t k = 0; k <= n && k < sizeof(buf) - 1; k++) {
                buf[k] =
                    (f->name[k] >= 'a' && f->name[k] <= 'z') ? (char)(f->name[k] - 32) : f->name[k];
            }
            fn(buf, arg);
            size_t j = 0;
            for (size_t k = 0; k < n && j + 2 < sizeof(buf); k++) {
                char c = f->name[k];
                if (c >= 'A' && c <= 'Z') {
                    buf[j++] = '_';
                    c = lower(c);
                }
                if (c != '_') {
                    buf[j++] = c;
                }
            }
            buf[j] = '\0';
            fn(buf, arg);
            snprintf(buf, sizeof(buf), "_%s_", f->name);
            fn(buf, arg);
            snprintf(buf, sizeof(buf), "%.*s", (int)(n > 1 ? n - 1 : 0), f->name);
            fn(buf, arg);
            snprintf(buf, sizeof(buf), "%ss", f->name);
            fn(buf, arg);
        }
    }
}

struct sweep {
    const struct lists *ls;
    size_t probes;
    size_t hits;
};

static void check_key(const char *key, void *arg)
{
    struct sweep *sw = arg;
    for (size_t i = 0; i < sw->ls->n; i++) {
        const struct gw_catalog_field *list = sw->ls->l[i];
        for (int fold = 0; fold < 2; fold++) {
            const struct gw_catalog_field *want = scan(list, key, fold);
            const struct gw_catalog_field *got = gw_catalog_field_find(list, key, fold);
            cr_expect_eq(got, want, "'%s' in the list of '%s' (fold %d): %s, want %s", key,
                         list[0].name, fold, got ? got->name : "none", want ? want->name : "none");
            sw->probes++;
            sw->hits += want != NULL;
        }
    }
}

Test(catalog, field_lookups_agree_with_a_scan)
{
    struct lists ls;
    all_lists(&ls);
    cr_assert_gt(ls.n, 20);
    struct sweep sw = {&ls, 0, 0};
    probe_keys(&ls, check_key, &sw);
    cr_expect_gt(sw.hits, 1000, "the sweep finds fields (%zu of %zu)", sw.hits, sw.probes);
    cr_expect_null(gw_catalog_field_find(NULL, "email", false));
}

Test(catalog, folded_traits_and_spec_keys)
{
    const struct gw_catalog_field *f =
        gw_catalog_field_find(gw_catalog_identify_traits, "first_name", true);
    cr_assert_not_null(f);
    cr_expect_str_eq(f->name, "firstName");
    cr_expect_null(gw_catalog_field_find(gw_catalog_identify_traits, "first_name", false));
    cr_expect(gw_catalog_is_spec_key("postalCode"));
    cr_expect(gw_catalog_is_spec_key("anonymousId"));
    cr_expect_not(gw_catalog_is_spec_key("postalcode"));
    cr_expect_not(gw_catalog_is_spec_key("postal_code"));
    cr_expect_not(gw_catalog_is_spec_key(""));
}

Test(catalog, event_names_are_exact)
{
    static const char *const not_events[] = {
        "order completed",
        "Order completed",
        "Order Completed ",
        " Order Completed",
        "OrderCompleted",
        "Order",
        "",
        "Order Completed\t",
    };
    for (size_t i = 0; i < COUNT(not_events); i++) {
        cr_expect_null(gw_catalog_event_find(not_events[i]), "'%s'", not_events[i]);
    }
    cr_expect_str_eq(gw_catalog_event_find("Email Marked as Spam")->category, "Email");
}

/* ---- Top-level fields ---- */

Test(top, planned_fields_follow_the_call_types)
{
    cr_expect(gw_top_planned("writeKey", GW_CALL_IDENTIFY), "a common field");
    cr_expect(gw_top_planned("_metadata", GW_CALL_ALIAS));
    cr_expect(gw_top_planned("properties", GW_CALL_TRACK));
    cr_expect(gw_top_planned("properties", GW_CALL_PAGE));
    cr_expect_not(gw_top_planned("properties", GW_CALL_IDENTIFY));
    cr_expect(gw_top_planned("traits", GW_CALL_GROUP));
    cr_expect_not(gw_top_planned("traits", GW_CALL_TRACK));
    cr_expect(gw_top_planned("name", GW_CALL_SCREEN), "a field of two types");
    cr_expect_not(gw_top_planned("name", GW_CALL_GROUP));
    cr_expect(gw_top_planned("previousId", GW_CALL_ALIAS));
    cr_expect_not(gw_top_planned("email", GW_CALL_TRACK));
    cr_expect_not(gw_top_planned("UserId", GW_CALL_TRACK));
}

Test(top, one_pass_reads_the_fields)
{
    json_object *call = json_tokener_parse(
        "{\"event\":\"E\",\"type\":\"track\",\"userId\":null,\"context\":{},\"writeKey\":\"k\"}");
    struct gw_top_fields t = {0};
    cr_expect_eq(gw_top_read(call, &t), GW_CALL_TRACK);
    cr_expect_str_eq(json_object_get_string(t.v[GW_TOP_EVENT]), "E");
    cr_expect_null(t.v[GW_TOP_USER_ID], "null reads as absent");
    cr_expect_not_null(t.v[GW_TOP_CONTEXT]);
    cr_expect_null(t.v[GW_TOP_TRAITS]);
    cr_expect_not(t.stray);
    json_object_put(call);

    call = json_tokener_parse("{\"type\":\"identify\",\"traits\":{},\"properties\":{}}");
    struct gw_top_fields u = {0};
    cr_expect_eq(gw_top_read(call, &u), GW_CALL_IDENTIFY);
    cr_expect(u.stray, "properties is no field of identify");
    json_object_put(call);

    call = json_tokener_parse("{\"type\":\"Track\",\"email\":\"x\"}");
    struct gw_top_fields w = {0};
    cr_expect_eq(gw_top_read(call, &w), GW_TOP_UNKNOWN);
    cr_expect_not(w.stray, "no type, nothing is stray");
    json_object_put(call);
    cr_expect_str_eq(gw_top_name(GW_TOP_ORIGINAL_TIMESTAMP), "originalTimestamp");
}

/* ---- Paths of violations ---- */

/* Keys long enough that the path outgrows its inline buffer. */
Test(walk, long_paths_are_written_whole)
{
    char key[121];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    json_object *call = json_tokener_parse(
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Created\","
        "\"context\":{\"integration\":{\"name\":\"acme\",\"version\":\"1.0.0\"}}}");
    json_object *leaf = json_object_new_object();
    json_object_object_add(leaf, "Bad.Key", json_object_new_int(1));
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_new_object());
    json_object_array_add(arr, leaf);
    json_object *mid = json_object_new_object();
    json_object_object_add(mid, key, arr);
    json_object *props = json_object_new_object();
    json_object_object_add(props, key, mid);
    json_object_object_add(call, "properties", props);

    struct gw_violations v = {0};
    cr_assert_eq(gw_spec_validate(NULL, call, 0, &v), 1);
    char want[400];
    snprintf(want, sizeof(want), "properties.%s.%s[1][\"Bad.Key\"]", key, key);
    cr_expect_str_eq(v.v[0].field, want);
    cr_expect_eq(v.v[0].rule, GW_RULE_CASING);
    cr_expect_not_null(strstr(v.v[0].message, "'Bad.Key' is not in snake_case"));
    gw_violations_fini(&v);
    json_object_put(call);
}

/* A name too long for the near-miss check's own buffer is still checked. */
Test(walk, long_event_names_are_checked_for_near_misses)
{
    char name[400];
    memset(name, ' ', sizeof(name));
    memcpy(name, "Order", 5);
    memcpy(name + sizeof(name) - 10, "Completd", 8);
    name[sizeof(name) - 2] = '\0';
    cr_assert_gt(strlen(name), 256);
    const struct gw_catalog_event *ev = gw_catalog_event_near(name);
    cr_assert_not_null(ev);
    cr_expect_str_eq(ev->name, "Order Completed");
    cr_expect_str_eq(gw_catalog_event_near("Order Completd")->name, "Order Completed");
    cr_expect_null(gw_catalog_event_near("Ticket Created"));
}
