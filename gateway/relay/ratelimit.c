/* ratelimit.c -- token bucket for the upstream request budget (pure).
 * SPDX-License-Identifier: MIT */
#include "relay.h"

/* Absorbs the rounding of (ns * rate / 1e9): a caller that waited exactly
 * the time take() asked for must get its token. Far below one request. */
#define TOKEN_EPSILON 1e-12

void gw_ratelimit_init(struct gw_ratelimit *rl, double rate, double burst, uint64_t now_ns)
{
    rl->rate = rate;
    rl->burst = burst < 1.0 ? 1.0 : burst;
    rl->tokens = rl->burst;
    rl->last_ns = now_ns;
}

uint64_t gw_ratelimit_take(struct gw_ratelimit *rl, uint64_t now_ns)
{
    if (!(rl->rate > 0.0)) {
        return 0;
    }
    /* A clock that steps back adds nothing and keeps the older mark. */
    if (now_ns > rl->last_ns) {
        rl->tokens += (double)(now_ns - rl->last_ns) * rl->rate / 1e9;
        if (rl->tokens > rl->burst) {
            rl->tokens = rl->burst;
        }
        rl->last_ns = now_ns;
    }
    if (rl->tokens >= 1.0 - TOKEN_EPSILON) {
        rl->tokens -= 1.0;
        if (rl->tokens < 0.0) {
            rl->tokens = 0.0;
        }
        return 0;
    }
    double wait = (1.0 - rl->tokens) * 1e9 / rl->rate;
    if (wait >= 1.8e19) {
        return UINT64_MAX;
    }
    /* Round up, by hand to keep libm out. */
    uint64_t ns = (uint64_t)wait;
    if ((double)ns < wait || ns == 0) {
        ns++;
    }
    return ns;
}
