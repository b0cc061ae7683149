/* rc.c -- names of the result codes.
 * SPDX-License-Identifier: MIT */
#include "rc.h"

const char *gw_rc_str(enum gw_rc rc)
{
    switch (rc) {
    case GW_OK:
        return "ok";
    case GW_ERR_NOMEM:
        return "out of memory";
    case GW_ERR_INVALID:
        return "invalid";
    case GW_ERR_TOO_LARGE:
        return "too large";
    case GW_ERR_IO:
        return "i/o error";
    case GW_ERR_TIMEOUT:
        return "timeout";
    case GW_ERR_UPSTREAM:
        return "upstream error";
    case GW_ERR_NOT_FOUND:
        return "not found";
    case GW_ERR_UNAUTHORIZED:
        return "unauthorized";
    case GW_ERR_UNSUPPORTED:
        return "unsupported";
    case GW_ERR_BUSY:
        return "busy";
    case GW_ERR_FULL:
        return "full";
    case GW_ERR_NOSPACE:
        return "no space left on the disk";
    case GW_ERR_SHUTDOWN:
        return "shutting down";
    case GW_ERR_QUOTA:
        return "over its share";
    }
    return "unknown";
}
