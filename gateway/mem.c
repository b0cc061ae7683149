/* mem.c -- allocation wrappers.
 * SPDX-License-Identifier: MIT */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sourcegate: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void *check(void *p)
{
    if (p == NULL) {
        gw_fatal("out of memory");
    }
    return p;
}

void *gw_malloc(size_t n)
{
    return check(malloc(n ? n : 1));
}

void *gw_calloc(size_t n, size_t size)
{
    return check(calloc(n ? n : 1, size ? size : 1));
}

void *gw_realloc(void *p, size_t n)
{
    return check(realloc(p, n ? n : 1));
}

char *gw_strdup(const char *s)
{
    return check(strdup(s));
}

char *gw_strndup(const char *s, size_t n)
{
    return check(strndup(s, n));
}

char *gw_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0) {
        gw_fatal("out of memory");
    }
    return out;
}
