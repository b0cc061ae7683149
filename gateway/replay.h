/* replay.h -- `sourcegate replay --dead-letters`: what was refused is sent
 * again through validation, so that a rules fix applies.
 * SPDX-License-Identifier: MIT */
#ifndef GW_REPLAY_H
#define GW_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct gw_runtime;
struct gw_spool;

struct gw_replay_counts {
    size_t replayed; /* valid now: handed to the relay and removed (a call Segment
                        refuses again comes back to the dead letters) */
    size_t failed;   /* still refused by validation: kept, with the reason printed */
    size_t unverified; /* requests never verified, not replayed: kept */
    char reason[640]; /* the last refusal: status, message, first violation */
    /* set by the caller, kept by the calls below: told after each letter */
    void (*progress)(void *arg, size_t done, size_t total);
    void *progress_arg;
};

/* Replays the dead letters of source (NULL: all) stored at or after since_ms.
 * A refused call is validated against its source's rules and handed to
 * rt->ing.relay; a refused webhook goes through the whole pipeline again
 * (a signature that passed when it arrived is not checked twice). A webhook
 * kept unverified (its source had no secret) is replayed only when
 * include_unverified is set AND its source still has no secret, and then
 * as what it is: nothing is skipped for it; otherwise it is counted in
 * counts->unverified and kept. Each one accepted is removed from the dead
 * letters. Prints one line per failure to stderr. Borrows all. */
enum gw_rc gw_replay_dead_letters(const struct gw_runtime *rt, struct gw_spool *spool,
                                  const char *source, int64_t since_ms, bool include_unverified,
                                  struct gw_replay_counts *counts) GW_WUR;

/* The same for the one dead letter id. GW_ERR_NOT_FOUND when there is none. */
enum gw_rc gw_replay_dead_letter(const struct gw_runtime *rt, struct gw_spool *spool, int64_t id,
                                 bool include_unverified, struct gw_replay_counts *counts) GW_WUR;

#endif
