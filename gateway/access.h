/* access.h -- the access line of an answered request.
 * SPDX-License-Identifier: MIT */
#ifndef GW_ACCESS_H
#define GW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

/* What the line says of a request. Strings are borrowed; empty source and
 * api, and a NULL cause, are left out of the line. */
struct gw_access {
    const char *request_id;
    const char *method;
    const char *uri; /* as received: the line keeps the path, not the query */
    const char *source;
    const char *api;
    int status;
    const char *cause;
    size_t events, ignored;
    bool dry_run;
    double duration_ms;
    const char *client;
    bool aborted;
};

/* Writes the access line of a (gw_log_members: at info, in batches while
 * the daemon serves), formatted into a stack buffer with no object tree. A
 * path too long for the line is said without it. */
void gw_access_log(const struct gw_access *a);

#endif
