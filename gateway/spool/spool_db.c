/* spool_db.c -- the spool's SQLite file: layout, statements, open and
 * close, the cache of (write key, endpoint) rows.
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
#include <unistd.h>

#include "../config.h"
#include "../log.h"
#include "../mem.h"
#include "../thread.h"

#define SCHEMA_VERSION 3
#define QUOTE_(x) #x
#define QUOTE(x) QUOTE_(x)
#define CKPT_PAGES 1000      /* WAL pages that call for a background checkpoint */
#define WAL_WRAP_PAGES 16384 /* past these (64 MiB) a commit restarts the WAL itself */
/* The layout; docs/internals/spool.md explains it. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS queues ("
    " id INTEGER PRIMARY KEY, write_key TEXT NOT NULL, endpoint TEXT NOT NULL,"
    " UNIQUE (write_key, endpoint));"
    "CREATE TABLE IF NOT EXISTS calls ("
    " id INTEGER PRIMARY KEY, queue INTEGER NOT NULL, enqueued_ms INTEGER NOT NULL,"
    " json BLOB NOT NULL, n INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS dead ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, source TEXT, write_key TEXT,"
    " endpoint TEXT, content_type TEXT, headers TEXT, body BLOB NOT NULL,"
    " status INTEGER NOT NULL, reason TEXT, at_ms INTEGER NOT NULL,"
    " unverified INTEGER NOT NULL DEFAULT 0);";

/* From format 1: the requests kept then may have been refused before their
 * signature was checked, so every one of them counts as unverified. */
static const char migrate_1_sql[] =
    "ALTER TABLE dead ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;"
    "UPDATE dead SET unverified = 1 WHERE kind = 'request';";

/* From format 2: a row held one call; it still does, n says so. */
static const char migrate_2_sql[] = "ALTER TABLE calls ADD COLUMN n INTEGER NOT NULL DEFAULT 1;";

const char *const gw_spool_db_sql[GW_SPOOL_ST_COUNT] = {
    [GW_SPOOL_ST_BEGIN] = "BEGIN",
    [GW_SPOOL_ST_COMMIT] = "COMMIT",
    [GW_SPOOL_ST_ROLLBACK] = "ROLLBACK",
    [GW_SPOOL_ST_PUT] = "INSERT INTO calls (id, queue, enqueued_ms, json, n)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    /* the rows that may hold a range of calls (a row starts at most
     * GW_SPOOL_ROW_CALLS ids before its last call); length() of a blob
     * reads the row header, not the bytes */
    [GW_SPOOL_ST_ROWS] = "SELECT id, n, queue, length(json) FROM calls WHERE id BETWEEN ?1 AND ?2",
    [GW_SPOOL_ST_ROW_OF] = "SELECT id, n, queue, json, enqueued_ms FROM calls"
                           " WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT 1",
    [GW_SPOOL_ST_DELETE] = "DELETE FROM calls WHERE id = ?1",
    [GW_SPOOL_ST_PAGE] = "SELECT id, queue, enqueued_ms, json, n FROM calls WHERE id > ?1"
                         " ORDER BY id",
    [GW_SPOOL_ST_PAGE_QUEUE] = "SELECT id, queue, enqueued_ms, json, n FROM calls WHERE id > ?1"
                               " AND id <= ?2 AND queue = ?3 ORDER BY id",
    [GW_SPOOL_ST_QUEUE_ADD] = "INSERT INTO queues (write_key, endpoint) VALUES (?1, ?2)",
    /* A refused call keeps what a resend needs; its source is the
     * context.integration.name the rules set. */
    [GW_SPOOL_ST_BURY] =
        "INSERT INTO dead (kind, source, write_key, endpoint, body, status, reason, at_ms)"
        " SELECT 'call', CASE WHEN json_valid(CAST(?5 AS TEXT)) THEN"
        " json_extract(CAST(?5 AS TEXT), '$.context.integration.name') END,"
        " q.write_key, q.endpoint, ?5, ?2, ?3, ?4 FROM queues q WHERE q.id = ?1",
    [GW_SPOOL_ST_DEAD_PUT] =
        "INSERT INTO dead (kind, source, write_key, endpoint, content_type, headers,"
        " body, status, reason, at_ms, unverified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11)",
    [GW_SPOOL_ST_DEAD_OLDEST] = "SELECT id, " GW_SPOOL_DEAD_BYTES " FROM dead ORDER BY id",
    [GW_SPOOL_ST_DEAD_DROP_TO] = "DELETE FROM dead WHERE id <= ?1",
    [GW_SPOOL_ST_DEAD_SIZE] = "SELECT " GW_SPOOL_DEAD_BYTES " FROM dead WHERE id = ?1",
    [GW_SPOOL_ST_DEAD_EACH] =
        "SELECT id, kind, source, write_key, endpoint, content_type, headers, body,"
        " status, reason, at_ms, unverified FROM dead WHERE (?1 IS NULL OR source = ?1)"
        " AND at_ms >= ?2 ORDER BY id",
    [GW_SPOOL_ST_DEAD_REMOVE] = "DELETE FROM dead WHERE id = ?1",
};

static void say(char *err, size_t errlen, const char *fmt, ...) GW_PRINTF(3, 4);

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void gw_spool_opts_init(struct gw_spool_opts *o)
{
    const struct gw_config *d = gw_config_defaults();
    o->dir = NULL;
    o->fsync = d->spool_fsync;
    o->max_bytes = d->max_spool;
    o->max_key_bytes = d->max_spool_per_key;
    o->max_dead = 100000;
    o->max_dead_bytes = d->max_dead_letters;
}

/* ---- SQLite helpers: every failure is logged once, here ---- */

enum gw_rc gw_spool_db_fail(struct gw_spool *s, int e, const char *what)
{
    if (e == SQLITE_NOMEM) {
        gw_fatal("out of memory (sqlite)");
    }
    snprintf(s->last_error, sizeof(s->last_error), "%s", sqlite3_errmsg(s->db));
    gw_error("spool", "%s: %s (%s)", what, s->last_error, s->dir);
    /* SQLite answers SQLITE_FULL when a write gets ENOSPC: a cause of its
     * own, which freeing space cures. */
    return (e & 0xff) == SQLITE_FULL ? GW_ERR_NOSPACE : GW_ERR_IO;
}

/* Steps a statement that returns no row, and resets it. */
enum gw_rc gw_spool_db_run(struct gw_spool *s, enum gw_spool_stmt which)
{
    sqlite3_stmt *st = s->st[which];
    int e = sqlite3_step(st);
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, gw_spool_db_sql[which]);
    sqlite3_reset(st);
    return rc;
}

static void rollback(struct gw_spool *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        (void)gw_spool_db_run(s, GW_SPOOL_ST_ROLLBACK);
    }
}

/* Commits, or rolls back when rc (the transaction's work) failed. */
/* Background checkpoints copy the WAL while commits go on, so that a
 * busy WAL is never copied to its end and never starts over: once it is
 * this long, the committer copies the rest itself and the next commit
 * writes at the head of the file again. */
static void wrap_wal(struct gw_spool *s)
{
    pthread_mutex_lock(&s->ckpt_run);
    int e = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    pthread_mutex_unlock(&s->ckpt_run);
    if (e == SQLITE_OK) {
        s->wal_pages = 0;
    } else {
        gw_warn("spool", "restarting the WAL of %s: %s", s->dir, sqlite3_errmsg(s->db));
    }
}

enum gw_rc gw_spool_db_finish(struct gw_spool *s, enum gw_rc rc)
{
    if (rc == GW_OK) {
        rc = gw_spool_db_run(s, GW_SPOOL_ST_COMMIT);
    }
    if (rc != GW_OK) {
        rollback(s);
    }
    if (rc == GW_OK && s->wal_pages >= WAL_WRAP_PAGES) {
        wrap_wal(s);
    }
    return rc;
}

/* SQLite calls it in the committing thread, under the db lock. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct gw_spool *s = arg;
    s->wal_pages = pages;
    pthread_mutex_lock(&s->ckpt_mutex);
    if (pages < s->ckpt_base) {
        s->ckpt_base = 0; /* the WAL started over */
    }
    if (pages - s->ckpt_base >= CKPT_PAGES && !s->ckpt_wanted) {
        s->ckpt_wanted = true;
        pthread_cond_signal(&s->ckpt_cond);
    }
    pthread_mutex_unlock(&s->ckpt_mutex);
    return SQLITE_OK;
}

static void *checkpointer(void *arg)
{
    gw_thread_name("sg-checkpoint");
    struct gw_spool *s = arg;
    pthread_mutex_lock(&s->ckpt_mutex);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_stop) {
            pthread_cond_wait(&s->ckpt_cond, &s->ckpt_mutex);
        }
        if (s->ckpt_stop) {
            break;
        }
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->ckpt_mutex);
        /* PASSIVE: copies what it can without holding up a commit. */
        int copied = 0;
        pthread_mutex_lock(&s->ckpt_run);
        int e =
            sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);
        pthread_mutex_unlock(&s->ckpt_run);
        if (e != SQLITE_OK && e != SQLITE_BUSY) {
            gw_warn("spool", "checkpoint of %s: %s", s->dir, sqlite3_errmsg(s->ckpt_db));
        }
        pthread_mutex_lock(&s->ckpt_mutex);
        s->ckpt_base = copied > 0 ? copied : 0;
    }
    pthread_mutex_unlock(&s->ckpt_mutex);
    return NULL;
}

/* ---- the (write key, endpoint) cache ---- */

static size_t hash_name(const char *key, const char *endpoint)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = key; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = endpoint; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    return (size_t)(h % GW_SPOOL_KEY_BUCKETS);
}

static void add_key(struct gw_spool *s, int64_t id, const char *key, const char *endpoint)
{
    struct gw_spool_qkey *k = gw_calloc(1, sizeof(*k));
    k->id = id;
    k->write_key = gw_strdup(key);
    k->endpoint = gw_strdup(endpoint);
    size_t hn = hash_name(key, endpoint);
    size_t hi = (size_t)((uint64_t)id % GW_SPOOL_KEY_BUCKETS);
    k->next_name = s->by_name[hn];
    s->by_name[hn] = k;
    k->next_id = s->by_id[hi];
    s->by_id[hi] = k;
    pthread_mutex_lock(&s->lock);
    k->use = gw_spool_db_use(s, key);
    pthread_mutex_unlock(&s->lock);
}

struct gw_spool_kuse *gw_spool_db_use(struct gw_spool *s, const char *key)
{
    size_t h = hash_name(key, "");
    struct gw_spool_kuse *u = s->uses[h];
    while (u != NULL && strcmp(u->write_key, key) != 0) {
        u = u->next;
    }
    if (u == NULL) {
        u = gw_calloc(1, sizeof(*u));
        u->write_key = gw_strdup(key);
        u->next = s->uses[h];
        s->uses[h] = u;
    }
    return u;
}

void gw_spool_db_drop_uses(struct gw_spool *s)
{
    for (size_t i = 0; i < GW_SPOOL_KEY_BUCKETS; i++) {
        while (s->uses[i] != NULL) {
            struct gw_spool_kuse *u = s->uses[i];
            s->uses[i] = u->next;
            free(u->write_key);
            free(u);
        }
    }
}

static void drop_keys(struct gw_spool *s)
{
    for (size_t i = 0; i < GW_SPOOL_KEY_BUCKETS; i++) {
        while (s->by_name[i] != NULL) {
            struct gw_spool_qkey *k = s->by_name[i];
            s->by_name[i] = k->next_name;
            free(k->write_key);
            free(k->endpoint);
            free(k);
        }
        s->by_id[i] = NULL;
    }
}

const struct gw_spool_qkey *gw_spool_db_key(const struct gw_spool *s, int64_t id)
{
    for (const struct gw_spool_qkey *k = s->by_id[(uint64_t)id % GW_SPOOL_KEY_BUCKETS]; k != NULL;
         k = k->next_id) {
        if (k->id == id) {
            return k;
        }
    }
    return NULL;
}

/* Reads the queues table into the cache (after a rollback, too). */
enum gw_rc gw_spool_db_load_keys(struct gw_spool *s)
{
    drop_keys(s);
    sqlite3_stmt *st = NULL;
    int e = sqlite3_prepare_v2(s->db, "SELECT id, write_key, endpoint FROM queues", -1, &st, NULL);
    if (e != SQLITE_OK) {
        return gw_spool_db_fail(s, e, "reading queues");
    }
    for (e = sqlite3_step(st); e == SQLITE_ROW; e = sqlite3_step(st)) {
        add_key(s, sqlite3_column_int64(st, 0), gw_spool_db_text(st, 1), gw_spool_db_text(st, 2));
    }
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, "reading queues");
    sqlite3_finalize(st);
    return rc;
}

/* Returns the queue id of (key, endpoint), adding the row inside the
 * current transaction when it is new. */
const struct gw_spool_qkey *gw_spool_db_key_by_name(const struct gw_spool *s, const char *key,
                                                    const char *endpoint)
{
    const struct gw_spool_qkey *k = s->by_name[hash_name(key, endpoint)];
    while (k != NULL && (strcmp(k->write_key, key) != 0 || strcmp(k->endpoint, endpoint) != 0)) {
        k = k->next_name;
    }
    return k;
}

enum gw_rc gw_spool_db_queue_id(struct gw_spool *s, const char *key, const char *endpoint,
                                int64_t *id)
{
    const struct gw_spool_qkey *k = gw_spool_db_key_by_name(s, key, endpoint);
    if (k != NULL) {
        *id = k->id;
        return GW_OK;
    }
    sqlite3_stmt *st = s->st[GW_SPOOL_ST_QUEUE_ADD];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, endpoint, -1, SQLITE_STATIC);
    enum gw_rc rc = gw_spool_db_run(s, GW_SPOOL_ST_QUEUE_ADD);
    if (rc == GW_OK) {
        *id = sqlite3_last_insert_rowid(s->db);
        add_key(s, *id, key, endpoint);
    }
    return rc;
}

/* ---- open and close ---- */

/* mkdir -p, new components private. */
static enum gw_rc make_dir(const char *dir, char *err, size_t errlen)
{
    char *path = gw_strdup(dir);
    enum gw_rc rc = GW_OK;
    for (char *p = path + 1; rc == GW_OK; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end) {
            continue;
        }
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            say(err, errlen, "cannot create spool directory %s: %s", path, strerror(errno));
            rc = GW_ERR_IO;
        }
        if (end) {
            break;
        }
        *p = '/';
    }
    free(path);
    return rc;
}

static enum gw_rc check_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        say(err, errlen, "spool %s is not a directory", dir);
        return GW_ERR_IO;
    }
    if ((st.st_mode & 077) != 0) {
        gw_warn("spool",
                "spool directory %s is open to other users (mode %03o); it holds write "
                "keys: chmod 700 it",
                dir, (unsigned)(st.st_mode & 0777));
    }
    return GW_OK;
}

/* One process per spool: two would send every call twice. */
static enum gw_rc take_lock(struct gw_spool *s, char *err, size_t errlen)
{
    char *path = gw_asprintf("%s/lock", s->dir);
    enum gw_rc rc = GW_ERR_IO;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        say(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        say(err, errlen, "spool %s is in use by another process", s->dir);
        rc = GW_ERR_BUSY;
        goto out;
    }
    rc = GW_OK;
out:
    free(path);
    return rc;
}

/* Returns a pragma's first answer as a number, or -1. */
static long pragma(struct gw_spool *s, const char *sql, char *word, size_t wordlen)
{
    sqlite3_stmt *st = NULL;
    long v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = (long)sqlite3_column_int64(st, 0);
        if (word != NULL) {
            snprintf(word, wordlen, "%s", gw_spool_db_text(st, 0) ? gw_spool_db_text(st, 0) : "");
        }
    }
    sqlite3_finalize(st);
    return v;
}

static const char *sync_pragma(const struct gw_spool *s)
{
    /* os: the WAL is written (not synced) before a put returns, which a
     * crash of the process cannot undo; checkpoints sync. fsync: every
     * commit syncs the WAL too. */
    return s->o.fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
}

static enum gw_rc set_pragmas(struct gw_spool *s, char *err, size_t errlen)
{
    char mode[16] = "";
    pragma(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
    if (strcmp(mode, "wal") != 0) {
        say(err, errlen, "spool %s: cannot use WAL mode: %s", s->dir, sqlite3_errmsg(s->db));
        return GW_ERR_IO;
    }
    pragma(s, sync_pragma(s), NULL, 0);
    /* 2 MiB: the pages puts append to and the relay reads back soon after;
     * what a backlog reads later comes from the OS's cache either way */
    pragma(s, "PRAGMA cache_size = -2048", NULL, 0);
    pragma(s, "PRAGMA journal_size_limit = 67108864", NULL, 0);
    /* Debian builds SQLite to zero every deleted row and every freed page
     * (secure delete): 11% of the relay's deletes, measured. FAST still
     * zeroes deleted rows in the pages in use, not the freed pages, which
     * keep their bytes until reused (the file is private, mode 0600). */
    pragma(s, "PRAGMA secure_delete = FAST", NULL, 0);
    return GW_OK;
}

static enum gw_rc make_schema(struct gw_spool *s, char *err, size_t errlen)
{
    long version = pragma(s, "PRAGMA user_version", NULL, 0);
    if (version > SCHEMA_VERSION || version < 0) {
        say(err, errlen, "spool %s has format %ld; this sourcegate reads %d", s->dir, version,
            SCHEMA_VERSION);
        return GW_ERR_INVALID;
    }
    char *msg = NULL;
    /* An older file gets its migrations in the same transaction as the
     * version that records them; the CREATEs then find the tables. */
    char *sql = gw_asprintf("BEGIN; %s %s %s PRAGMA user_version = %d; COMMIT;",
                            version == 1 ? migrate_1_sql : "",
                            version == 1 || version == 2 ? migrate_2_sql : "", schema_sql,
                            SCHEMA_VERSION);
    int e = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    free(sql);
    if (e != SQLITE_OK) {
        say(err, errlen, "spool %s: cannot create tables: %s", s->dir, msg ? msg : "?");
        sqlite3_free(msg);
        rollback(s);
        return GW_ERR_IO;
    }
    return GW_OK;
}

static enum gw_rc open_db(struct gw_spool *s, char *err, size_t errlen)
{
    char *path = gw_asprintf("%s/spool.db", s->dir);
    enum gw_rc rc = GW_ERR_IO;
    /* Created here so that it (and the WAL, which takes its mode) is
     * private: it holds write keys. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        say(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    close(fd);
    int e = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (e != SQLITE_OK) {
        say(err, errlen, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    rc = set_pragmas(s, err, errlen);
    if (rc == GW_OK) {
        rc = make_schema(s, err, errlen);
    }
out:
    free(path);
    return rc;
}

static enum gw_rc prepare_all(struct gw_spool *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < GW_SPOOL_ST_COUNT; i++) {
        int e = sqlite3_prepare_v3(s->db, gw_spool_db_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                   &s->st[i], NULL);
        if (e != SQLITE_OK) {
            say(err, errlen, "spool %s: %s: %s", s->dir, gw_spool_db_sql[i], sqlite3_errmsg(s->db));
            return GW_ERR_IO;
        }
    }
    return GW_OK;
}

/* Counts the queue per key; marks the keys that still have calls. */
static enum gw_rc count_calls(struct gw_spool *s)
{
    sqlite3_stmt *st = NULL;
    /* a row's bytes are its calls' and the newlines between them */
    const char *sql = "SELECT queue, total(n), total(length(json)) - total(n) + count(*),"
                      " max(id + n - 1), min(n) >= 1 AND max(n) <= " QUOTE(GW_SPOOL_ROW_CALLS)
                      " FROM calls GROUP BY queue";
    int e = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (e != SQLITE_OK) {
        return gw_spool_db_fail(s, e, sql);
    }
    s->next_id = 1;
    for (e = sqlite3_step(st); e == SQLITE_ROW; e = sqlite3_step(st)) {
        struct gw_spool_qkey *k =
            (struct gw_spool_qkey *)gw_spool_db_key(s, sqlite3_column_int64(st, 0));
        uint64_t bytes = (uint64_t)sqlite3_column_double(st, 2);
        if (k != NULL) {
            k->live = true;
            k->use->bytes += bytes;
        }
        if (!sqlite3_column_int(st, 4)) {
            snprintf(s->last_error, sizeof(s->last_error), "a row of calls holds a count of calls "
                     "out of 1..%d", GW_SPOOL_ROW_CALLS);
            e = SQLITE_CORRUPT;
            break;
        }
        s->calls += (uint64_t)sqlite3_column_double(st, 1);
        s->bytes += bytes;
        int64_t max = sqlite3_column_int64(st, 3);
        s->next_id = max >= s->next_id ? max + 1 : s->next_id;
    }
    enum gw_rc rc = e == SQLITE_DONE ? GW_OK
                    : e == SQLITE_CORRUPT ? GW_ERR_IO : gw_spool_db_fail(s, e, sql);
    sqlite3_finalize(st);
    return rc;
}

/* Forgets the write keys no queued call needs any more. */
static enum gw_rc prune_keys(struct gw_spool *s)
{
    sqlite3_stmt *st = NULL;
    int e = sqlite3_prepare_v2(s->db, "DELETE FROM queues WHERE id = ?1", -1, &st, NULL);
    if (e != SQLITE_OK) {
        return gw_spool_db_fail(s, e, "pruning queues");
    }
    enum gw_rc rc = GW_OK;
    for (size_t i = 0; i < GW_SPOOL_KEY_BUCKETS && rc == GW_OK; i++) {
        for (struct gw_spool_qkey *k = s->by_name[i]; k != NULL && rc == GW_OK; k = k->next_name) {
            if (k->live) {
                continue;
            }
            sqlite3_bind_int64(st, 1, k->id);
            e = sqlite3_step(st);
            rc = e == SQLITE_DONE ? GW_OK : gw_spool_db_fail(s, e, "pruning queues");
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    return rc == GW_OK ? gw_spool_db_load_keys(s) : rc;
}

static enum gw_rc load_state(struct gw_spool *s)
{
    enum gw_rc rc = gw_spool_db_load_keys(s);
    if (rc == GW_OK) {
        rc = count_calls(s);
    }
    if (rc == GW_OK) {
        rc = prune_keys(s);
    }
    long dead = pragma(s, "SELECT count(*) FROM dead", NULL, 0);
    s->dead = dead > 0 ? (uint64_t)dead : 0;
    long bytes = pragma(s, "SELECT coalesce(sum(" GW_SPOOL_DEAD_BYTES "), 0) FROM dead", NULL, 0);
    s->dead_bytes = bytes > 0 ? (uint64_t)bytes : 0;
    return rc;
}

static enum gw_rc start_checkpointer(struct gw_spool *s, char *err, size_t errlen)
{
    char *path = gw_asprintf("%s/spool.db", s->dir);
    int e = sqlite3_open_v2(path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    free(path);
    if (e != SQLITE_OK) {
        say(err, errlen, "spool %s: cannot open it twice: %s", s->dir,
            s->ckpt_db ? sqlite3_errmsg(s->ckpt_db) : "no memory");
        return GW_ERR_IO;
    }
    char *msg = NULL;
    e = sqlite3_exec(s->ckpt_db, sync_pragma(s), NULL, NULL, &msg);
    sqlite3_free(msg);
    if (e != SQLITE_OK || pthread_create(&s->ckpt_thread, NULL, checkpointer, s) != 0) {
        say(err, errlen, "spool %s: cannot start the checkpointer", s->dir);
        return GW_ERR_IO;
    }
    s->ckpt_started = true;
    /* Replaces SQLite's checkpoint in the committing thread. */
    sqlite3_wal_hook(s->db, on_wal_commit, s);
    sqlite3_busy_timeout(s->db, 10000);
    return GW_OK;
}

static void stop_checkpointer(struct gw_spool *s)
{
    if (s->ckpt_started) {
        pthread_mutex_lock(&s->ckpt_mutex);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->ckpt_mutex);
        pthread_join(s->ckpt_thread, NULL);
        s->ckpt_started = false;
    }
    if (s->ckpt_db != NULL && sqlite3_close(s->ckpt_db) != SQLITE_OK) {
        gw_error("spool", "closing %s: %s", s->dir, sqlite3_errmsg(s->ckpt_db));
    }
    s->ckpt_db = NULL;
}

static struct gw_spool *spool_new(const struct gw_spool_opts *o)
{
    struct gw_spool *s = gw_calloc(1, sizeof(*s));
    s->o = *o;
    s->dir = gw_strdup(o->dir);
    s->o.dir = s->dir;
    s->lock_fd = -1;
    s->pending_tail = &s->pending;
    gw_buf_init(&s->row, (size_t)1 << 31);
    pthread_mutex_init(&s->db_mutex, NULL);
    pthread_mutex_init(&s->ckpt_run, NULL);
    pthread_mutex_init(&s->ckpt_mutex, NULL);
    pthread_cond_init(&s->ckpt_cond, NULL);
    pthread_cond_init(&s->db_turn, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->commit_cond, NULL);
    return s;
}

enum gw_rc gw_spool_open(const struct gw_spool_opts *o, struct gw_spool **out, char *err,
                         size_t errlen)
{
    enum gw_rc rc = GW_ERR_INVALID;
    struct gw_spool *s = NULL;
    if (o == NULL || o->dir == NULL || o->dir[0] == '\0' || out == NULL) {
        say(err, errlen, "no spool directory given");
        goto out;
    }
    s = spool_new(o);
    rc = make_dir(s->dir, err, errlen);
    if (rc == GW_OK) {
        rc = check_dir(s->dir, err, errlen);
    }
    if (rc == GW_OK) {
        rc = take_lock(s, err, errlen);
    }
    if (rc == GW_OK) {
        rc = open_db(s, err, errlen);
        if (rc == GW_OK) {
            rc = prepare_all(s, err, errlen);
        }
        if (rc == GW_OK) {
            rc = load_state(s);
            if (rc != GW_OK) {
                say(err, errlen, "spool %s: cannot read it: %s", s->dir, s->last_error);
            }
        }
        if (rc == GW_ERR_IO) {
            /* the file is there but SQLite cannot use it: say what to do */
            size_t k = strnlen(err, errlen);
            say(err + k, errlen - k,
                ". The file %s/spool.db may be damaged: stop here, run `sourcegate spool check` "
                "to see, and `sourcegate spool recover` to move it aside and keep what can be "
                "read (same --spool or configuration)", s->dir);
        }
    }
    if (rc == GW_OK) {
        rc = start_checkpointer(s, err, errlen);
    }
    if (rc != GW_OK) {
        goto out;
    }
    gw_info("spool", "spool %s: %llu call(s), %llu bytes queued, %llu dead letter(s)%s", s->dir,
            (unsigned long long)s->calls, (unsigned long long)s->bytes, (unsigned long long)s->dead,
            s->o.fsync ? " (durability fsync)" : "");
    *out = gw_take(&s);
out:
    gw_spool_close(s);
    return rc;
}

void gw_spool_close(struct gw_spool *s)
{
    if (s == NULL) {
        return;
    }
    gw_spool_db_stop_committer(s);
    GW_ASSERT(s->pending == NULL && !s->leading);
    stop_checkpointer(s);
    for (size_t i = 0; i < GW_SPOOL_ST_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
    }
    if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
        gw_error("spool", "closing %s: %s", s->dir, sqlite3_errmsg(s->db));
    }
    if (s->lock_fd >= 0) {
        close(s->lock_fd); /* releases the flock */
    }
    drop_keys(s);
    gw_spool_db_drop_uses(s);
    gw_spool_rows_fini(s);
    pthread_cond_destroy(&s->commit_cond);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->db_turn);
    pthread_mutex_destroy(&s->db_mutex);
    pthread_cond_destroy(&s->ckpt_cond);
    pthread_mutex_destroy(&s->ckpt_mutex);
    pthread_mutex_destroy(&s->ckpt_run);
    free(s->dir);
    free(s);
}
