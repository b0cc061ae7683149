/* auth.h -- the Authorization header of Segment-shaped calls, read as
 * Segment's own API reads it.
 * SPDX-License-Identifier: MIT */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include "rc.h"

/* Longest base64 credential taken, in characters (3 KiB decoded). */
#define GW_AUTH_MAX_B64 4096

/* Parses value, an Authorization header (borrowed), as Segment does: the
 * scheme "Basic" (any case), blanks, then the base64 (padded, no blanks) of
 * "key:", "key:secret" or "key" alone, without the colon. Returns GW_OK with
 * *user (the write key, never empty) and *password ("" when there is none
 * or no colon), both new (free()). Errors, with nothing written:
 * GW_ERR_NOT_FOUND when value is NULL, empty or another scheme (no Basic
 * credentials to read); GW_ERR_INVALID when the base64 is malformed or the
 * credentials are empty, hold a NUL or control character, or start with the
 * colon (no user); GW_ERR_TOO_LARGE past GW_AUTH_MAX_B64 characters. */
enum gw_rc gw_auth_basic(const char *value, char **user, char **password) GW_WUR;

#endif
