/* client.h -- `sourcegate replay` on a running daemon: POST /admin/replay
 * to its admin address, so the spool stays with the process that owns it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ADMIN_CLIENT_H
#define GW_ADMIN_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "../rc.h"

struct gw_config;
struct gw_replay_counts;

/* Asks the daemon cfg describes (admin.listen, else a loopback listen) to
 * replay the dead letters of source (NULL: all) stored at or after
 * since_ms (include_unverified: as `replay --include-unverified`). GW_OK with *counts when it answered; GW_ERR_NOT_FOUND when no
 * daemon is reachable there (replay offline then); GW_ERR_UPSTREAM with
 * counts->reason when one answered with an error. Borrows all. */
enum gw_rc gw_admin_replay_remote(const struct gw_config *cfg, const char *source,
                                  int64_t since_ms, bool include_unverified,
                                  struct gw_replay_counts *counts) GW_WUR;

#endif
