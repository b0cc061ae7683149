/* spool_check.c -- `sourcegate spool check` and `spool recover`: SQLite's
 * integrity check of a stopped spool, and the salvage of a damaged one into
 * a fresh file, row by row, the damaged file kept aside.
 * SPDX-License-Identifier: MIT */
#include "spool_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../mem.h"

static void say(char *err, size_t errlen, const char *fmt, ...) GW_PRINTF(3, 4);

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The spool's lock, as the daemon takes it: a check or a salvage under a
 * running daemon would read a file being written. Returns the fd or -1. */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
    char *path = gw_asprintf("%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0) {
        say(err, errlen, "cannot open the lock of spool %s: %s", dir, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        say(err, errlen, "spool %s is in use by a running sourcegate: stop it first", dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* The first column of sql's first row as a number, or -1. */
static int64_t total(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* The rows of a table; of calls, the calls its rows hold (one a row in a
 * spool of format 2 or older, which has no n). */
static int64_t count_rows(sqlite3 *db, const char *table)
{
    if (strcmp(table, "calls") == 0 &&
        total(db, "SELECT count(*) FROM pragma_table_info('calls') WHERE name = 'n'") == 1) {
        return total(db, "SELECT total(n) FROM calls");
    }
    char *sql = gw_asprintf("SELECT count(*) FROM %s", table);
    int64_t n = total(db, sql);
    free(sql);
    return n;
}

static const char *const tables[] = {"queues", "calls", "dead"};

static void check_db(sqlite3 *db, struct gw_spool_check_report *rep)
{
    sqlite3_stmt *st = NULL;
    int e = sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, NULL);
    rep->problems = 0;
    if (e == SQLITE_OK) {
        for (e = sqlite3_step(st); e == SQLITE_ROW; e = sqlite3_step(st)) {
            const char *line = (const char *)sqlite3_column_text(st, 0);
            if (line != NULL && strcmp(line, "ok") != 0) {
                if (rep->problems++ == 0) {
                    snprintf(rep->first_problem, sizeof(rep->first_problem), "%s", line);
                }
            }
        }
    }
    if (e != SQLITE_DONE) {
        rep->problems++;
        snprintf(rep->first_problem, sizeof(rep->first_problem), "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < 3; i++) {
        rep->rows[i] = count_rows(db, tables[i]);
        rep->problems += rep->rows[i] < 0;
    }
    rep->ok = rep->problems == 0;
}

enum gw_rc gw_spool_check(const char *dir, struct gw_spool_check_report *rep, char *err,
                          size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    int fd = lock_dir(dir, err, errlen);
    if (fd < 0) {
        return GW_ERR_BUSY;
    }
    char *path = gw_asprintf("%s/spool.db", dir);
    enum gw_rc rc = GW_ERR_NOT_FOUND;
    sqlite3 *db = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        say(err, errlen, "there is no spool file %s", path);
        goto out;
    }
    rc = GW_ERR_IO;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        say(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        goto out;
    }
    check_db(db, rep);
    rc = GW_OK;
out:
    sqlite3_close(db);
    free(path);
    close(fd);
    return rc;
}

/* ---- recover ---- */

/* What each table keeps, in the columns of the current layout, and how a
 * spool of a format before `since` is read: for dead, format 1 has no
 * unverified column (its requests count as unverified, as the migration
 * says); for calls, formats 1 and 2 have no n (a row was one call). */
static const struct {
    const char *table;
    const char *cols;
    const char *select;
    long since;
    const char *select_old;
} copies[] = {
    {"queues", "id, write_key, endpoint", "id, write_key, endpoint", 0, NULL},
    {"calls", "id, queue, enqueued_ms, json, n", "id, queue, enqueued_ms, json, n", 3,
     "id, queue, enqueued_ms, json, 1"},
    {"dead",
     "id, kind, source, write_key, endpoint, content_type, headers, body, status, reason, at_ms,"
     " unverified",
     "id, kind, source, write_key, endpoint, content_type, headers, body, status, reason, at_ms,"
     " unverified", 2,
     "id, kind, source, write_key, endpoint, content_type, headers, body, status, reason, at_ms,"
     " kind = 'request'"},
};
#define N_COPIES (sizeof(copies) / sizeof(copies[0]))

static int n_cols(const char *cols)
{
    int n = 1;
    for (const char *c = cols; *c; c++) {
        n += *c == ',';
    }
    return n;
}

/* Copies the rows of one table that can be read, in rowid order; past a
 * row that cannot, it seeks further and further ahead (1, 2, 4, ... ids)
 * so that one damaged page does not lose the rows behind it. */
static uint64_t copy_table(sqlite3 *old, sqlite3 *db, size_t t, long version, unsigned *gaps)
{
    const char *sel_cols = version < copies[t].since ? copies[t].select_old : copies[t].select;
    char *sel_sql = gw_asprintf("SELECT %s FROM %s WHERE rowid > ?1 ORDER BY rowid", sel_cols,
                                copies[t].table);
    int n = n_cols(copies[t].cols);
    char marks[256] = "";
    for (int i = 0; i < n; i++) {
        size_t k = strlen(marks);
        snprintf(marks + k, sizeof(marks) - k, "%s?", i ? ", " : "");
    }
    char *ins_sql = gw_asprintf("INSERT OR IGNORE INTO %s (%s) VALUES (%s)", copies[t].table,
                                copies[t].cols, marks);
    sqlite3_stmt *sel = NULL, *ins = NULL;
    uint64_t copied = 0;
    if (sqlite3_prepare_v2(old, sel_sql, -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ins_sql, -1, &ins, NULL) != SQLITE_OK) {
        (*gaps)++;
        goto out;
    }
    int64_t last = INT64_MIN;
    int64_t skip = 1;
    for (unsigned tries = 0; tries < 64;) {
        sqlite3_bind_int64(sel, 1, last);
        int e = sqlite3_step(sel);
        for (; e == SQLITE_ROW; e = sqlite3_step(sel)) {
            for (int i = 0; i < n; i++) {
                sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
            }
            copied += sqlite3_step(ins) == SQLITE_DONE && sqlite3_changes(db) > 0;
            sqlite3_reset(ins);
            last = sqlite3_column_int64(sel, 0);
            skip = 1;
        }
        sqlite3_reset(sel);
        if (e == SQLITE_DONE) {
            break;
        }
        (*gaps)++;
        tries++;
        last = last == INT64_MIN ? 0 : (last > INT64_MAX - skip ? INT64_MAX : last + skip);
        skip = skip < (INT64_C(1) << 40) ? skip * 2 : skip;
    }
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    free(sel_sql);
    free(ins_sql);
    return copied;
}

/* The damaged file is read on a connection of its own: a read error there
 * cannot touch the transaction that writes the fresh spool. */
static void salvage(const char *fresh, const char *damaged, struct gw_spool_recover_report *rep)
{
    sqlite3 *db = NULL, *old = NULL;
    sqlite3_stmt *st = NULL;
    long version = 0;
    if (sqlite3_open_v2(fresh, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_open_v2(damaged, &old, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rep->gaps++;
        goto out;
    }
    if (sqlite3_prepare_v2(old, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        version = (long)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    uint64_t *out[N_COPIES] = {&rep->queues, &rep->calls, &rep->dead};
    for (size_t t = 0; t < N_COPIES; t++) {
        *out[t] = copy_table(old, db, t, version, &rep->gaps);
    }
    /* a call whose write key was lost cannot be sent; calls are counted
     * as such, not as the rows that hold them */
    int64_t lost = total(db, "SELECT total(n) FROM calls WHERE queue NOT IN (SELECT id FROM queues)");
    if (lost >= 0 && sqlite3_exec(db, "DELETE FROM calls WHERE queue NOT IN (SELECT id FROM queues)",
                                  NULL, NULL, NULL) == SQLITE_OK) {
        rep->calls_without_key = (uint64_t)lost;
    }
    int64_t kept = total(db, "SELECT total(n) FROM calls");
    rep->calls = kept >= 0 ? (uint64_t)kept : 0;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rep->queues = rep->calls = rep->dead = 0;
        rep->gaps++;
    }
out:
    sqlite3_close(old);
    sqlite3_close(db);
}

/* Moves spool.db and its -wal and -shm to spool.db.damaged-STAMP*. */
static enum gw_rc move_aside(const char *dir, char *moved, size_t movedlen, char *err,
                             size_t errlen)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    snprintf(moved, movedlen, "%s/spool.db.damaged-%s", dir, stamp);
    for (size_t i = 0; i < 3; i++) {
        char *from = gw_asprintf("%s/spool.db%s", dir, suffix[i]);
        char *to = gw_asprintf("%s%s", moved, suffix[i]);
        int r = rename(from, to);
        int e = errno;
        free(from);
        free(to);
        if (r != 0 && !(i > 0 && e == ENOENT)) {
            say(err, errlen, "cannot move %s/spool.db%s aside: %s", dir, suffix[i], strerror(e));
            return i == 0 && e == ENOENT ? GW_ERR_NOT_FOUND : GW_ERR_IO;
        }
    }
    return GW_OK;
}

enum gw_rc gw_spool_recover(const struct gw_spool_opts *o, struct gw_spool_recover_report *rep,
                            char *err, size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    int fd = lock_dir(o->dir, err, errlen);
    if (fd < 0) {
        return GW_ERR_BUSY;
    }
    enum gw_rc rc = move_aside(o->dir, rep->moved_to, sizeof(rep->moved_to), err, errlen);
    close(fd); /* the fresh spool takes it again */
    if (rc != GW_OK) {
        return rc;
    }
    struct gw_spool *s = NULL;
    rc = gw_spool_open(o, &s, err, errlen);
    gw_spool_close(s);
    if (rc != GW_OK) {
        return rc;
    }
    fd = lock_dir(o->dir, err, errlen);
    if (fd < 0) {
        return GW_ERR_BUSY;
    }
    char *fresh = gw_asprintf("%s/spool.db", o->dir);
    salvage(fresh, rep->moved_to, rep);
    free(fresh);
    close(fd);
    return GW_OK;
}
