/* diag.c -- diagnostics sink.
 * SPDX-License-Identifier: MIT */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "yaml.h"

/* Past this many errors in one file the rest are summarised in one line
 * (HAProxy and compilers do the same: the first ones matter). */
#define MAX_ERRORS_PER_FILE 20

struct entry {
    char *file;
    unsigned line;
    unsigned col;
    int is_error;
    char *msg;
};

struct gw_diag {
    struct entry *v;
    size_t n;
    size_t cap;
    size_t errors;
};

struct gw_diag *gw_diag_create(void)
{
    return gw_calloc(1, sizeof(struct gw_diag));
}

void gw_diag_destroy(struct gw_diag *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    free(d);
}

static size_t errors_in(const struct gw_diag *d, const char *file)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].is_error && strcmp(d->v[i].file, file) == 0) {
            n++;
        }
    }
    return n;
}

static void add(struct gw_diag *d, const char *file, unsigned line, unsigned col, int is_error,
                const char *fmt, va_list ap)
{
    file = file ? file : "<input>";
    if (is_error) {
        d->errors++;
        size_t have = errors_in(d, file);
        if (have > MAX_ERRORS_PER_FILE) {
            return;
        }
        if (have == MAX_ERRORS_PER_FILE) {
            line = UINT32_MAX;
            col = 0;
            fmt = "too many errors; stopping here";
        }
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = gw_realloc(d->v, d->cap * sizeof(*d->v));
    }
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) {
        gw_fatal("out of memory");
    }
    d->v[d->n++] = (struct entry){gw_strdup(file), line, col, is_error, msg};
}

void gw_diag_error(struct gw_diag *d, const struct gw_node *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, node ? node->file : NULL, node ? node->line : 0, node ? node->col : 0, 1, fmt, ap);
    va_end(ap);
}

void gw_diag_error_at(struct gw_diag *d, const char *file, unsigned line, unsigned col,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, file, line, col, 1, fmt, ap);
    va_end(ap);
}

void gw_diag_warn(struct gw_diag *d, const struct gw_node *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, node ? node->file : NULL, node ? node->line : 0, node ? node->col : 0, 0, fmt, ap);
    va_end(ap);
}

size_t gw_diag_errors(const struct gw_diag *d)
{
    return d->errors;
}

size_t gw_diag_count(const struct gw_diag *d)
{
    return d->n;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a;
    const struct entry *y = b;
    int c = strcmp(x->file, y->file);
    if (c != 0) {
        return c;
    }
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    if (x->col != y->col) {
        return x->col < y->col ? -1 : 1;
    }
    return 0;
}

char *gw_diag_join(const struct gw_diag *d)
{
    struct entry *sorted = gw_malloc((d->n ? d->n : 1) * sizeof(*sorted));
    if (d->n > 0) {
        memcpy(sorted, d->v, d->n * sizeof(*sorted));
        /* a stable order for equal positions: insertion order */
        for (size_t i = 1; i < d->n; i++) {
            struct entry e = sorted[i];
            size_t j = i;
            while (j > 0 && cmp_entry(&sorted[j - 1], &e) > 0) {
                sorted[j] = sorted[j - 1];
                j--;
            }
            sorted[j] = e;
        }
    }
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < d->n; i++) {
        const struct entry *e = &sorted[i];
        const char *sev = e->is_error ? "error" : "warning";
        enum gw_rc rc;
        if (e->line == 0) {
            rc = gw_buf_printf(&b, "%s: %s: %s\n", e->file, sev, e->msg);
        } else if (e->line == UINT32_MAX) {
            rc = gw_buf_printf(&b, "%s: %s: %s\n", e->file, sev, e->msg);
        } else {
            rc = gw_buf_printf(&b, "%s:%u:%u: %s: %s\n", e->file, e->line, e->col, sev, e->msg);
        }
        GW_ASSERT(rc == GW_OK);
    }
    free(sorted);
    return gw_buf_detach(&b);
}

void gw_diag_print(const struct gw_diag *d, FILE *f)
{
    char *s = gw_diag_join(d);
    fputs(s, f);
    free(s);
}
