/* test_spool_quota.c -- one write key's share of the spool
 * (max_key_bytes): refused past it, all or nothing, other keys still taken,
 * room again after deletes and burials, counts rebuilt at reopen.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spool/spool.h"
#include "spool_fixture.h"


SPOOL_SUITE(spool_quota, "quota");

/* A spool of 1000 bytes; share 0 is the default (half of it). */
static void open_small(uint64_t share)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = dir;
    o.max_bytes = 1000;
    o.max_key_bytes = share;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&o, &spool, err, sizeof(err)), GW_OK, "open: %s", err);
}

static char body[1001];

/* Puts n calls of len bytes each for key on endpoint. */
static enum gw_rc put(const char *key, const char *endpoint, size_t len, size_t n, int64_t *ids)
{
    const char *json[8];
    size_t lens[8];
    cr_assert_leq(n, 8);
    memset(body, 'x', sizeof(body) - 1);
    for (size_t i = 0; i < n; i++) {
        json[i] = body;
        lens[i] = len;
    }
    return gw_spool_put(spool, key, endpoint, json, lens, n, ids);
}

struct count {
    size_t a, b;
};

static bool on_call(void *arg, const struct gw_spool_call *c)
{
    struct count *n = arg;
    if (strcmp(c->write_key, "wk_a") == 0) {
        n->a++;
    } else if (strcmp(c->write_key, "wk_b") == 0) {
        n->b++;
    }
    return true;
}

static struct count queued(void)
{
    struct count n = {0};
    cr_assert_eq(gw_spool_each(spool, on_call, &n), GW_OK);
    return n;
}

Test(spool_quota, a_key_past_half_the_spool_is_refused_and_others_are_not)
{
    open_small(0);
    int64_t a[4] = {0};
    cr_assert_eq(put("wk_a", "http://x/v1", 200, 2, a), GW_OK);
    /* the share counts every endpoint of the key */
    cr_assert_eq(put("wk_a", "http://y/v1", 100, 1, &a[2]), GW_OK);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 500);
    cr_assert_eq(put("wk_a", "http://x/v1", 1, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(put("wk_b", "http://x/v1", 400, 1, NULL), GW_OK,
                 "another key is taken while wk_a holds its share");
    struct count n = queued();
    cr_assert_eq(n.a, 3);
    cr_assert_eq(n.b, 1);
    uint64_t calls = 0;
    uint64_t bytes = 0;
    gw_spool_stats(spool, &calls, &bytes);
    cr_assert_eq(bytes, 900);
    /* the spool's own bound still comes first */
    cr_assert_eq(put("wk_b", "http://x/v1", 101, 1, NULL), GW_ERR_FULL);
}

Test(spool_quota, all_or_nothing)
{
    open_small(0);
    cr_assert_eq(put("wk_a", "http://x/v1", 300, 1, NULL), GW_OK);
    int64_t ids[2] = {-1, -1};
    cr_assert_eq(put("wk_a", "http://x/v1", 101, 2, ids), GW_ERR_QUOTA,
                 "two calls that would cross the share");
    cr_assert_eq(ids[0], -1);
    cr_assert_eq(queued().a, 1, "nothing of the refused put is kept");
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 300);
    cr_assert_eq(put("wk_a", "http://x/v1", 100, 2, NULL), GW_OK, "up to the share exactly");
}

Test(spool_quota, room_again_after_deletes_and_burials)
{
    open_small(0);
    int64_t a[2] = {0};
    cr_assert_eq(put("wk_a", "http://x/v1", 250, 2, a), GW_OK);
    cr_assert_eq(put("wk_a", "http://x/v1", 10, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(gw_spool_delete(spool, &a[0], 1), GW_OK);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 250);
    cr_assert_eq(put("wk_a", "http://x/v1", 250, 1, NULL), GW_OK, "a delivered call freed room");
    cr_assert_eq(put("wk_a", "http://x/v1", 10, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(gw_spool_bury(spool, &a[1], 1, 400, "refused"), GW_OK);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 250);
    cr_assert_eq(put("wk_a", "http://x/v1", 250, 1, NULL), GW_OK, "a dead-lettered call too");
}

/* One delete of consecutive ids that belong to two keys gives each key
 * back its own bytes. */
Test(spool_quota, a_delete_across_keys_gives_each_key_its_bytes)
{
    open_small(0);
    int64_t a[2] = {0};
    int64_t b = 0;
    int64_t c = 0;
    cr_assert_eq(put("wk_a", "http://x/v1", 100, 2, a), GW_OK);
    cr_assert_eq(put("wk_b", "http://x/v1", 50, 1, &b), GW_OK);
    cr_assert_eq(put("wk_a", "http://y/v1", 70, 1, &c), GW_OK);
    cr_assert(a[1] + 1 == b && b + 1 == c, "consecutive ids: one range");
    int64_t mid[] = {a[1], b};
    cr_assert_eq(gw_spool_delete(spool, mid, 2), GW_OK);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 170);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_b"), 0);
    int64_t all[] = {a[0], a[1], b, c};
    cr_assert_eq(gw_spool_delete(spool, all, 4), GW_OK, "ids already gone are skipped");
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 0);
    struct count n = queued();
    cr_assert_eq(n.a + n.b, 0);
}

Test(spool_quota, counts_are_rebuilt_at_reopen)
{
    open_small(0);
    int64_t b = 0;
    cr_assert_eq(put("wk_a", "http://x/v1", 200, 2, NULL), GW_OK);
    cr_assert_eq(put("wk_a", "http://y/v1", 100, 1, NULL), GW_OK);
    cr_assert_eq(put("wk_b", "http://x/v1", 100, 1, &b), GW_OK);
    cr_assert_eq(gw_spool_delete(spool, &b, 1), GW_OK);
    gw_spool_close(spool);
    spool = NULL;
    open_small(0);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_a"), 500);
    cr_assert_eq(gw_spool_key_bytes(spool, "wk_b"), 0);
    cr_assert_eq(put("wk_a", "http://x/v1", 1, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(put("wk_b", "http://x/v1", 500, 1, NULL), GW_OK);
}

Test(spool_quota, a_share_set_apart_from_the_spool)
{
    open_small(100);
    cr_assert_eq(put("wk_a", "http://x/v1", 100, 1, NULL), GW_OK);
    cr_assert_eq(put("wk_a", "http://x/v1", 1, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(put("wk_b", "http://x/v1", 101, 1, NULL), GW_ERR_QUOTA);
    cr_assert_eq(put("wk_b", "http://x/v1", 100, 1, NULL), GW_OK);
}
