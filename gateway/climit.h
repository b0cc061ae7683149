/* climit.h -- counts per address (open connections per TCP peer, requests
 * in progress per client), each under a cap; thread-safe.
 * SPDX-License-Identifier: MIT */
#ifndef GW_CLIMIT_H
#define GW_CLIMIT_H

#include <stdbool.h>

struct gw_climit;

/* A new table whose keys (addresses as text) may each count up to cap. */
struct gw_climit *gw_climit_create(unsigned cap);
void gw_climit_destroy(struct gw_climit *l);

/* Counts one more for key and returns true, or returns false and counts
 * nothing when key is at the cap already. */
bool gw_climit_take(struct gw_climit *l, const char *key);
/* Counts one more for key, over the cap if need be (a connection already
 * accepted). */
void gw_climit_add(struct gw_climit *l, const char *key);
/* Counts one less for key (a take or an add ended). */
void gw_climit_give(struct gw_climit *l, const char *key);
/* True when key is below the cap. */
bool gw_climit_room(struct gw_climit *l, const char *key);

#endif
