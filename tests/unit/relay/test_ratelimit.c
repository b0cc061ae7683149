/* test_ratelimit.c -- token bucket arithmetic on synthetic times.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "mock_upstream.h"
#include "relay/relay.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define T0 (1000 * SEC) /* any start, away from 0 */

/* A greedy caller: takes whenever allowed, else waits exactly the answer.
 * Returns the take times in times[0..n). */
static void greedy(struct gw_ratelimit *rl, uint64_t start, uint64_t *times, size_t n)
{
    uint64_t now = start;
    for (size_t i = 0; i < n; i++) {
        uint64_t wait = gw_ratelimit_take(rl, now);
        if (wait > 0) {
            now += wait;
            cr_assert_eq(gw_ratelimit_take(rl, now), 0,
                         "no token after waiting the %llu ns asked for", (unsigned long long)wait);
        }
        times[i] = now;
    }
}

/* Waits are exact to the nanosecond but for float rounding, always up. */
#define assert_wait(got, want)                                                                     \
    do {                                                                                           \
        uint64_t g_ = (got), w_ = (want);                                                          \
        cr_assert(g_ >= w_ && g_ <= w_ + 2, "waited %llu ns, expected %llu",                       \
                  (unsigned long long)g_, (unsigned long long)w_);                                 \
    } while (0)

/* Any half-open window of one second holds at most max takes. */
static void assert_window(const uint64_t *times, size_t n, size_t max)
{
    for (size_t i = 0; i + max < n; i++) {
        cr_assert_geq(times[i + max] - times[i], SEC,
                      "takes %zu..%zu (%zu of them) fit in %llu ns < 1 s", i, i + max, max + 1,
                      (unsigned long long)(times[i + max] - times[i]));
    }
}

Test(ratelimit, burst_one_first_take_free_then_spaced, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 5, 1, T0);
    cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    assert_wait(gw_ratelimit_take(&rl, T0), 200 * MS);
    assert_wait(gw_ratelimit_take(&rl, T0 + 50 * MS), 150 * MS);
    assert_wait(gw_ratelimit_take(&rl, T0 + 199 * MS), 1 * MS);
    cr_assert_eq(gw_ratelimit_take(&rl, T0 + 200 * MS), 0);
    assert_wait(gw_ratelimit_take(&rl, T0 + 200 * MS), 200 * MS);
}

Test(ratelimit, failed_take_takes_nothing, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 10, 1, T0);
    cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    for (int i = 0; i < 5; i++) {
        assert_wait(gw_ratelimit_take(&rl, T0 + 40 * MS), 60 * MS);
    }
    cr_assert_eq(gw_ratelimit_take(&rl, T0 + 100 * MS), 0);
}

Test(ratelimit, greedy_caller_at_most_rate_per_second, .timeout = 10)
{
    static const double rates[] = {1, 3, 5, 7, 50, 1000};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        struct gw_ratelimit rl;
        gw_ratelimit_init(&rl, rates[r], 1, T0);
        uint64_t times[3001];
        size_t n = (size_t)rates[r] * 3 + 1;
        greedy(&rl, T0, times, n);
        assert_window(times, n, (size_t)rates[r]);
        /* Not slower than the rate either: n takes in (n - 1) / rate s. */
        uint64_t span = times[n - 1] - times[0];
        cr_assert_leq(span, (uint64_t)((double)(n - 1) * SEC / rates[r]) + n,
                      "rate %g: %zu takes took %llu ns", rates[r], n, (unsigned long long)span);
    }
}

Test(ratelimit, random_arrivals_at_most_rate_per_second, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 5, 1, T0);
    uint64_t times[400];
    size_t n = 0;
    uint64_t now = T0;
    uint64_t seed = 0x1234567;
    while (n < 400) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        now += (seed >> 33) % (300 * MS);
        if (gw_ratelimit_take(&rl, now) == 0) {
            times[n++] = now;
        }
    }
    assert_window(times, n, 5);
}

Test(ratelimit, bigger_burst_allows_that_many_at_once, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 10, 5, T0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(gw_ratelimit_take(&rl, T0), 0, "take %d of the burst", i);
    }
    assert_wait(gw_ratelimit_take(&rl, T0), 100 * MS);
    /* This is why the relay uses a burst of one: 5 + 10 takes in 1 s. */
    uint64_t times[14];
    gw_ratelimit_init(&rl, 10, 5, T0);
    greedy(&rl, T0, times, 14);
    cr_assert_lt(times[13] - times[0], SEC);
}

Test(ratelimit, idle_refill_capped_at_burst, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 2, 3, T0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    }
    uint64_t later = T0 + 3600 * SEC;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(gw_ratelimit_take(&rl, later), 0);
    }
    assert_wait(gw_ratelimit_take(&rl, later), 500 * MS);
}

Test(ratelimit, clock_going_back_adds_nothing, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 4, 1, T0);
    cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    assert_wait(gw_ratelimit_take(&rl, T0 - 10 * SEC), 250 * MS);
    assert_wait(gw_ratelimit_take(&rl, T0 + 100 * MS), 150 * MS);
    cr_assert_eq(gw_ratelimit_take(&rl, T0 + 250 * MS), 0);
}

Test(ratelimit, fractional_rate_and_burst_floor, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 0.5, 0, T0); /* a burst below one is raised to one */
    cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    assert_wait(gw_ratelimit_take(&rl, T0), 2 * SEC);
    cr_assert_eq(gw_ratelimit_take(&rl, T0 + 2 * SEC), 0);
}

Test(ratelimit, zero_rate_is_unlimited, .timeout = 10)
{
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 0, 1, T0);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_ratelimit_take(&rl, T0), 0);
    }
}
