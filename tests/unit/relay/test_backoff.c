/* test_backoff.c -- full-jitter backoff and Retry-After parsing.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <limits.h>

#include "mock_upstream.h"
#include "relay/relay.h"

/* Returns the largest of n delays for one attempt. */
static unsigned max_of(unsigned n, unsigned attempt, unsigned base, unsigned cap, uint64_t *st)
{
    unsigned hi = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned d = gw_backoff_delay_ms(attempt, base, cap, st);
        cr_assert_leq(d, cap, "attempt %u: %u over the cap %u", attempt, d, cap);
        hi = d > hi ? d : hi;
    }
    return hi;
}

Test(backoff, delay_within_zero_and_exponential_bound, .timeout = 10)
{
    uint64_t st = 42;
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        unsigned bound = 100u << attempt;
        bound = bound < 30000 ? bound : 30000;
        for (int i = 0; i < 2000; i++) {
            unsigned d = gw_backoff_delay_ms(attempt, 100, 30000, &st);
            cr_assert_leq(d, bound, "attempt %u: %u > %u", attempt, d, bound);
        }
    }
}

Test(backoff, spread_grows_with_attempt, .timeout = 10)
{
    uint64_t st = 7;
    unsigned prev = 0;
    for (unsigned attempt = 0; attempt < 8; attempt++) {
        unsigned bound = 100u << attempt;
        unsigned hi = max_of(3000, attempt, 100, 1000000, &st);
        /* Full jitter: 3000 draws reach the top tenth of [0, bound]. */
        cr_assert_geq(hi, bound - bound / 10, "attempt %u: max %u, bound %u", attempt, hi, bound);
        cr_assert_gt(hi, prev, "attempt %u did not grow (%u <= %u)", attempt, hi, prev);
        prev = hi;
    }
}

Test(backoff, jitter_reaches_low_values, .timeout = 10)
{
    uint64_t st = 99;
    unsigned lo = UINT_MAX;
    for (int i = 0; i < 3000; i++) {
        unsigned d = gw_backoff_delay_ms(6, 100, 30000, &st);
        lo = d < lo ? d : lo;
    }
    cr_assert_lt(lo, 640, "full jitter should reach the bottom tenth, min was %u", lo);
}

Test(backoff, cap_respected_for_any_attempt, .timeout = 10)
{
    uint64_t st = 1;
    unsigned attempts[] = {15, 20, 31, 32, 33, 63, 64, 1000, UINT_MAX};
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        unsigned hi = max_of(2000, attempts[i], 200, 30000, &st);
        cr_assert_geq(hi, 27000, "attempt %u: the cap should be reached, max %u", attempts[i], hi);
    }
    cr_assert_leq(max_of(500, 40, UINT_MAX, UINT_MAX, &st), UINT_MAX);
}

Test(backoff, degenerate_inputs, .timeout = 10)
{
    uint64_t st = 0; /* zero must not get the generator stuck */
    cr_assert_eq(gw_backoff_delay_ms(5, 0, 30000, &st), 0);
    cr_assert_eq(gw_backoff_delay_ms(5, 100, 0, &st), 0);
    unsigned a = gw_backoff_delay_ms(10, 100, 30000, &st);
    unsigned b = gw_backoff_delay_ms(10, 100, 30000, &st);
    unsigned c = gw_backoff_delay_ms(10, 100, 30000, &st);
    cr_assert(a != b || b != c, "generator stuck at %u", a);
    cr_assert_neq(st, 0);
}

Test(backoff, same_seed_same_sequence, .timeout = 10)
{
    uint64_t s1 = 12345;
    uint64_t s2 = 12345;
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_backoff_delay_ms(5, 100, 30000, &s1),
                     gw_backoff_delay_ms(5, 100, 30000, &s2));
    }
}

struct ra_case {
    const char *value;
    int64_t now;
    enum gw_rc rc;
    unsigned ms;
};

/* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example). */
static const struct ra_case ra_cases[] = {
    {"120", 0, GW_OK, 120000},
    {"1", 0, GW_OK, 1000},
    {"0", 0, GW_OK, 0},
    {"  7 \r\n", 0, GW_OK, 7000},
    {"4294967", 0, GW_OK, 4294967000u},
    {"4294968", 0, GW_OK, UINT_MAX},
    {"99999999999999999999999", 0, GW_OK, UINT_MAX},
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 10, GW_OK, 10000},
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777, GW_OK, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 3600, GW_OK, 0},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777 - 2, GW_OK, 2000},
    {"Sun Nov  6 08:49:37 1994", 784111777 - 60, GW_OK, 60000},
    {"Thu, 01 Jan 2099 00:00:00 GMT", 4070908800 - 5, GW_OK, 5000},
    {"Tue, 29 Feb 2028 12:00:00 GMT", 1835438400 - 1, GW_OK, 1000},
    {"", 0, GW_ERR_INVALID, 0},
    {"   ", 0, GW_ERR_INVALID, 0},
    {"abc", 0, GW_ERR_INVALID, 0},
    {"-1", 0, GW_ERR_INVALID, 0},
    {"1.5", 0, GW_ERR_INVALID, 0},
    {"12abc", 0, GW_ERR_INVALID, 0},
    {"+5", 0, GW_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37", 0, GW_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", 0, GW_ERR_INVALID, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", 0, GW_ERR_INVALID, 0},
    {"Sun, 32 Nov 1994 08:49:37 GMT", 0, GW_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 24:49:37 GMT", 0, GW_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT trailing", 0, GW_ERR_INVALID, 0},
};

Test(backoff, retry_after_cases, .timeout = 10)
{
    for (size_t i = 0; i < sizeof(ra_cases) / sizeof(ra_cases[0]); i++) {
        const struct ra_case *c = &ra_cases[i];
        unsigned ms = 424242;
        enum gw_rc rc = gw_backoff_retry_after(c->value, c->now, &ms);
        cr_assert_eq(rc, c->rc, "'%s': rc %s, expected %s", c->value, gw_rc_str(rc),
                     gw_rc_str(c->rc));
        if (c->rc == GW_OK) {
            cr_assert_eq(ms, c->ms, "'%s': %u ms, expected %u", c->value, ms, c->ms);
        } else {
            cr_assert_eq(ms, 424242, "'%s': out-param written on failure", c->value);
        }
    }
}

Test(backoff, retry_after_null, .timeout = 10)
{
    unsigned ms = 0;
    cr_assert_eq(gw_backoff_retry_after(NULL, 0, &ms), GW_ERR_INVALID);
}
