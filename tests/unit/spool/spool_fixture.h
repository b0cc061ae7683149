/* spool_fixture.h -- what the spool's test files share: LeakSanitizer kept
 * out of criterion's runner, and a spool directory per test, made in .init
 * and removed in .fini (failure or not). Included by one test file per
 * executable; each names its suite with SPOOL_SUITE(name, prefix).
 * SPDX-License-Identifier: MIT */
#ifndef SPOOL_FIXTURE_H
#define SPOOL_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "spool/spool.h"
#include "runner_lsan.h"

static char dir[64];
static struct gw_spool *spool;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static inline void spool_dir_make(const char *prefix)
{
    snprintf(dir, sizeof(dir), "/tmp/gwtest-%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Closes the test's spool and removes its directory. */
static inline void spool_dir_remove(void)
{
    gw_spool_close(spool);
    spool = NULL;
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The queues and calls tables of formats 1 and 2 (a row per call), for
 * writing the spool an older sourcegate left. */
#define SPOOL_OLD_QUEUES_CALLS                                                                     \
    "CREATE TABLE queues (id INTEGER PRIMARY KEY, write_key TEXT NOT NULL,"                        \
    " endpoint TEXT NOT NULL, UNIQUE (write_key, endpoint));"                                      \
    "CREATE TABLE calls (id INTEGER PRIMARY KEY, queue INTEGER NOT NULL,"                          \
    " enqueued_ms INTEGER NOT NULL, json BLOB NOT NULL);"

/* The suite: a fresh directory per test in dir, /tmp/gwtest-PREFIX-*. */
#define SPOOL_SUITE(name, prefix)                                                                  \
    static void name##_init(void)                                                                  \
    {                                                                                              \
        spool_dir_make(prefix);                                                                    \
    }                                                                                              \
    TestSuite(name, .init = name##_init, .fini = spool_dir_remove, .timeout = 60)

#endif
