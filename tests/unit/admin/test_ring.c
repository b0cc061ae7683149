/* test_ring.c -- the debugger's ring: bounds by count and by bytes,
 * eviction oldest first, reading back and resuming by id.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/ring.h"
#include "buf.h"

static struct gw_admin_entry entry(const char *source, int status, const char *body)
{
    return (struct gw_admin_entry){
        .at_ms = 1700000000000, .method = "POST", .path = "/webhooks/x", .source = source,
        .status = status, .accepted = 1, .body = body, .body_len = body ? strlen(body) : 0,
        .headers_json = "{\"Content-Type\":\"application/json\"}",
        .calls_json = "[{\"type\":\"track\",\"event\":\"Email Opened\"}]",
        .violations_json = "[]"};
}

/* The ids in the ring, oldest first, as "1,2,3". */
static void ids(struct gw_admin_ring *r, char *out, size_t len)
{
    out[0] = '\0';
    uint64_t after = 0, id = 0;
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    while (gw_admin_ring_next(r, after, &b, &id)) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%llu", n ? "," : "", (unsigned long long)id);
        after = id;
        gw_buf_reset(&b);
    }
    gw_buf_fini(&b);
}

Test(admin_ring, count_bound_evicts_the_oldest)
{
    struct gw_admin_ring *r = gw_admin_ring_create(3, 1u << 20);
    for (int i = 0; i < 5; i++) {
        struct gw_admin_entry e = entry("sendgrid", 200, "[]");
        cr_assert_eq(gw_admin_ring_push(r, &e), (uint64_t)i + 1);
    }
    char got[64];
    ids(r, got, sizeof(got));
    cr_expect_str_eq(got, "3,4,5");
    size_t count = 0, bytes = 0;
    uint64_t oldest = 0, newest = 0;
    gw_admin_ring_stats(r, &count, &bytes, &oldest, &newest);
    cr_expect_eq(count, 3);
    cr_expect_eq(oldest, 3);
    cr_expect_eq(newest, 5);
    gw_admin_ring_destroy(r);
}

Test(admin_ring, byte_bound_holds_and_counts_what_it_keeps)
{
    char body[1001];
    memset(body, 'x', 1000);
    body[1000] = '\0';
    const size_t max = 5000;
    struct gw_admin_ring *r = gw_admin_ring_create(100, max);
    size_t count = 0, bytes = 0, prev = 0;
    uint64_t oldest = 0, newest = 0;
    for (int i = 0; i < 50; i++) {
        struct gw_admin_entry e = entry("sendgrid", 200, body);
        gw_admin_ring_push(r, &e);
        gw_admin_ring_stats(r, &count, &bytes, &oldest, &newest);
        cr_assert_leq(bytes, max, "bytes %zu over the bound after %d pushes", bytes, i + 1);
        if (i == 0) {
            prev = bytes; /* one entry: what each counts */
        }
    }
    cr_expect_gt(prev, 1000, "an entry counts its body");
    cr_expect_eq(count, max / prev, "as many as fit: %zu of %zu bytes each", count, prev);
    cr_expect_eq(newest, 50);
    cr_expect_eq(oldest, 50 - count + 1, "the newest are kept");
    gw_admin_ring_destroy(r);
}

Test(admin_ring, an_entry_over_the_byte_bound_is_kept_without_its_body)
{
    struct gw_admin_ring *r = gw_admin_ring_create(10, 2000);
    struct gw_admin_entry small = entry("sendgrid", 200, "[1]");
    gw_admin_ring_push(r, &small);
    char *big = malloc(10001);
    memset(big, 'y', 10000);
    big[10000] = '\0';
    struct gw_admin_entry e = entry("stripe", 422, big);
    uint64_t id = gw_admin_ring_push(r, &e);
    free(big);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_admin_ring_get(r, id, &b), GW_OK);
    json_object *o = json_tokener_parse(gw_buf_str(&b));
    cr_assert_not_null(o);
    json_object *v = NULL;
    cr_expect(json_object_object_get_ex(o, "truncated", &v) && json_object_get_boolean(v));
    cr_expect(json_object_object_get_ex(o, "body", &v));
    cr_expect_str_eq(json_object_get_string(v), "");
    cr_expect(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 422);
    json_object_put(o);
    gw_buf_fini(&b);
    size_t count = 0, bytes = 0;
    uint64_t oldest = 0, newest = 0;
    gw_admin_ring_stats(r, &count, &bytes, &oldest, &newest);
    cr_expect_leq(bytes, 2000);
    gw_admin_ring_destroy(r);
}

Test(admin_ring, detail_has_the_parts_and_evicted_ids_are_gone)
{
    struct gw_admin_ring *r = gw_admin_ring_create(2, 1u << 20);
    for (int i = 0; i < 3; i++) {
        struct gw_admin_entry e = entry("sendgrid", 200, "[{\"email\":\"a\\\"b\"}]");
        gw_admin_ring_push(r, &e);
    }
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_expect_eq(gw_admin_ring_get(r, 1, &b), GW_ERR_NOT_FOUND);
    cr_expect_eq(gw_admin_ring_get(r, 0, &b), GW_ERR_NOT_FOUND);
    cr_expect_eq(gw_admin_ring_get(r, 9, &b), GW_ERR_NOT_FOUND);
    cr_assert_eq(gw_admin_ring_get(r, 2, &b), GW_OK);
    json_object *o = json_tokener_parse(gw_buf_str(&b));
    cr_assert_not_null(o, "detail is JSON: %s", gw_buf_str(&b));
    json_object *v = NULL;
    cr_expect(json_object_object_get_ex(o, "id", &v) && json_object_get_int(v) == 2);
    cr_expect(json_object_object_get_ex(o, "body", &v));
    cr_expect_str_eq(json_object_get_string(v), "[{\"email\":\"a\\\"b\"}]", "the body as received");
    cr_expect(json_object_object_get_ex(o, "calls", &v) && json_object_array_length(v) == 1);
    cr_expect(json_object_object_get_ex(o, "headers", &v) &&
              json_object_is_type(v, json_type_object));
    json_object_put(o);
    gw_buf_fini(&b);
    gw_admin_ring_destroy(r);
}

Test(admin_ring, resume_after_an_id)
{
    struct gw_admin_ring *r = gw_admin_ring_create(10, 1u << 20);
    for (int i = 0; i < 6; i++) {
        struct gw_admin_entry e = entry(i % 2 ? "stripe" : "sendgrid", 200 + i, NULL);
        gw_admin_ring_push(r, &e);
    }
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    uint64_t id = 0;
    cr_assert(gw_admin_ring_next(r, 4, &b, &id));
    cr_expect_eq(id, 5);
    json_object *o = json_tokener_parse(gw_buf_str(&b));
    json_object *v = NULL;
    cr_expect(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 204);
    cr_expect(json_object_object_get_ex(o, "source", &v));
    cr_expect_str_eq(json_object_get_string(v), "sendgrid");
    cr_expect_not(json_object_object_get_ex(o, "body", &v), "a summary has no body");
    json_object_put(o);
    gw_buf_reset(&b);
    cr_expect_not(gw_admin_ring_next(r, 6, &b, &id), "nothing after the newest");
    cr_expect_eq(b.len, 0);
    gw_buf_fini(&b);
    gw_admin_ring_destroy(r);
}

static void *pusher(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        struct gw_admin_entry e = entry("sendgrid", 200, "[]");
        gw_admin_ring_push(arg, &e);
    }
    return NULL;
}

Test(admin_ring, concurrent_pushes_keep_ids_in_order)
{
    struct gw_admin_ring *r = gw_admin_ring_create(500, 1u << 20);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, pusher, r);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    size_t count = 0, bytes = 0;
    uint64_t oldest = 0, newest = 0;
    gw_admin_ring_stats(r, &count, &bytes, &oldest, &newest);
    cr_expect_eq(newest, 4000);
    cr_expect_eq(count, 500);
    cr_expect_eq(oldest, 3501);
    gw_admin_ring_destroy(r);
}
