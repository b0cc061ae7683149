/* diag.h -- diagnostics sink for configuration and rules files:
 * "file:line:col: error: message", collected, printed sorted.
 * SPDX-License-Identifier: MIT */
#ifndef GW_DIAG_H
#define GW_DIAG_H

#include <stdio.h>

#include "rc.h"

struct gw_node;

/* Returns a new, empty sink. */
struct gw_diag *gw_diag_create(void);
/* NULL is a no-op. */
void gw_diag_destroy(struct gw_diag *d);

/* Records an error at node's position (borrows node; NULL: no position). */
void gw_diag_error(struct gw_diag *d, const struct gw_node *node, const char *fmt, ...)
    GW_PRINTF(3, 4);
/* Records an error at an explicit position; line 0 means "the file". */
void gw_diag_error_at(struct gw_diag *d, const char *file, unsigned line, unsigned col,
                      const char *fmt, ...) GW_PRINTF(5, 6);
void gw_diag_warn(struct gw_diag *d, const struct gw_node *node, const char *fmt, ...)
    GW_PRINTF(3, 4);

/* Number of errors (warnings not counted). */
size_t gw_diag_errors(const struct gw_diag *d);
/* Number of entries of any severity. */
size_t gw_diag_count(const struct gw_diag *d);

/* Writes every entry, sorted by file, line, column, one per line. */
void gw_diag_print(const struct gw_diag *d, FILE *f);
/* Returns new string holding what gw_diag_print would write. */
char *gw_diag_join(const struct gw_diag *d);

#endif
