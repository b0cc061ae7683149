/* mem.h -- allocation wrappers; out of memory aborts (the spool replays).
 * SPDX-License-Identifier: MIT */
#ifndef GW_MEM_H
#define GW_MEM_H

#include <stddef.h>

/* Print "sourcegate: fatal: <msg>" to stderr and abort(). */
_Noreturn void gw_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like malloc/calloc/realloc/strdup, but never return NULL (abort instead).
 * Each returns new memory the caller frees with free(). */
void *gw_malloc(size_t n);
void *gw_calloc(size_t n, size_t size);
void *gw_realloc(void *p, size_t n);
char *gw_strdup(const char *s);
char *gw_strndup(const char *s, size_t n);

/* Returns new "printf"-formatted string. */
char *gw_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free and NULL a pointer lvalue. */
#define GW_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

/* Invariant check that stays on in release builds. */
#define GW_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            gw_fatal("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__);                      \
        }                                                                                          \
    } while (0)

/* Returns *pp and sets *pp to NULL: an explicit transfer of ownership. */
static inline void *gw_take(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}

#endif
