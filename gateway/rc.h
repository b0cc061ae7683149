/* rc.h -- the one result type of sourcegate's fallible functions.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RC_H
#define GW_RC_H

#define GW_WUR __attribute__((warn_unused_result))
#define GW_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum gw_rc {
    GW_OK = 0,
    GW_ERR_NOMEM,
    GW_ERR_INVALID,   /* input is malformed or breaks a rule */
    GW_ERR_TOO_LARGE, /* input is over a configured cap */
    GW_ERR_IO,        /* file or socket error */
    GW_ERR_TIMEOUT,
    GW_ERR_UPSTREAM,  /* Segment (or its stand-in) refused or failed */
    GW_ERR_NOT_FOUND,
    GW_ERR_UNAUTHORIZED,
    GW_ERR_UNSUPPORTED, /* e.g. a content type the source does not take */
    GW_ERR_BUSY,        /* in use (a spool locked by another process): try again later */
    GW_ERR_FULL,        /* a configured capacity is reached (the spool's max_bytes) */
    GW_ERR_NOSPACE,     /* the disk is full (SQLITE_FULL, ENOSPC) */
    GW_ERR_SHUTDOWN,    /* stopping: no new work is taken */
    GW_ERR_QUOTA,       /* one caller's share is reached (a write key's part of the spool) */
};

/* Returns a static, lowercase name for rc ("ok", "invalid", ...). */
const char *gw_rc_str(enum gw_rc rc);

#endif
