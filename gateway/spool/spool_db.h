/* spool_db.h -- internal to spool*.c: the spool's state, its prepared
 * statements and the SQLite helpers they share. Not for other modules.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPOOL_DB_H
#define GW_SPOOL_DB_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../buf.h"
#include "spool.h"

#define GW_SPOOL_KEY_BUCKETS 256
/* A row of calls holds up to this many calls of one put, with consecutive
 * ids (the row's id is the first's), their texts joined by newlines: one
 * B-tree insert and delete per row rather than per call (spool.md). */
#define GW_SPOOL_ROW_CALLS 64
#define GW_SPOOL_ROW_HEADS 32 /* rows a delete reads on the stack */

enum gw_spool_stmt {
    GW_SPOOL_ST_BEGIN,
    GW_SPOOL_ST_COMMIT,
    GW_SPOOL_ST_ROLLBACK,
    GW_SPOOL_ST_PUT,
    GW_SPOOL_ST_ROWS,
    GW_SPOOL_ST_ROW_OF,
    GW_SPOOL_ST_DELETE,
    GW_SPOOL_ST_PAGE,
    GW_SPOOL_ST_PAGE_QUEUE,
    GW_SPOOL_ST_QUEUE_ADD,
    GW_SPOOL_ST_BURY,
    GW_SPOOL_ST_DEAD_PUT,
    GW_SPOOL_ST_DEAD_OLDEST,
    GW_SPOOL_ST_DEAD_DROP_TO,
    GW_SPOOL_ST_DEAD_SIZE,
    GW_SPOOL_ST_DEAD_EACH,
    GW_SPOOL_ST_DEAD_REMOVE,
    GW_SPOOL_ST_COUNT
};

/* The bytes one write key has queued (all its endpoints), against
 * max_key_bytes: one per write key seen since open, freed at close.
 * bytes and reserved are under lock; gone and next_gone under the db lock. */
struct gw_spool_kuse {
    struct gw_spool_kuse *next;
    struct gw_spool_kuse *next_gone;
    char *write_key;
    uint64_t bytes;    /* committed */
    uint64_t reserved; /* of puts not yet committed */
    uint64_t gone;     /* deleted by the open transaction */
    bool in_gone;
};

/* A (write key, endpoint) pair and its row in queues: calls refer to it by
 * id, so a key is stored once, not with every call. */
struct gw_spool_qkey {
    struct gw_spool_qkey *next_name;
    struct gw_spool_qkey *next_id;
    int64_t id;
    bool live; /* seen while counting at open */
    struct gw_spool_kuse *use; /* its write key's bytes */
    char *write_key;
    char *endpoint;
};

/* One put waiting for (or in) a group commit. A gw_spool_put's is on its
 * caller's stack, borrowed by the leader until done is set; a
 * gw_spool_put_async's is on the heap with copies of what it puts, and
 * whoever commits it calls then (outside every lock) and frees it. */
struct gw_spool_put {
    struct gw_spool_put *next;
    gw_spool_done_fn then; /* NULL: a gw_spool_put's */
    void *then_arg;
    const char *write_key;
    const char *endpoint;
    const char *const *json;
    const size_t *len;
    size_t n;
    uint64_t bytes;
    struct gw_spool_kuse *use;
    int64_t first_id;
    enum gw_rc rc;
    bool done;
};

struct gw_spool {
    struct gw_spool_opts o;
    char *dir;
    int lock_fd;
    /* The db lock (gw_spool_db_lock) covers the connection, its
     * statements, next_id, the keys and dead; it is taken before lock,
     * never after. It is a ticket lock: the relay's deletes and reads take
     * their turn between group commits instead of starving under them. */
    pthread_mutex_t db_mutex;
    pthread_cond_t db_turn;
    uint64_t db_next;
    uint64_t db_serving;
    sqlite3 *db;
    sqlite3_stmt *st[GW_SPOOL_ST_COUNT];
    struct gw_buf row; /* a row's text being joined, read or cut */
    char last_error[160]; /* SQLite's message of the last failed step */
    int64_t next_id;
    uint64_t dead;
    uint64_t dead_bytes;               /* GW_SPOOL_DEAD_BYTES of every dead letter */
    uint64_t evicted, evicted_bytes;   /* by max_dead and max_dead_bytes */
    struct gw_spool_qkey *by_name[GW_SPOOL_KEY_BUCKETS];
    struct gw_spool_qkey *by_id[GW_SPOOL_KEY_BUCKETS];
    struct gw_spool_kuse *uses[GW_SPOOL_KEY_BUCKETS]; /* under lock */
    struct gw_spool_kuse *gone;                        /* under the db lock */
    /* The checkpointer: a thread with its own connection copies the WAL
     * into the database file, and syncs it, off the put path. */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    bool ckpt_started;
    pthread_mutex_t ckpt_run;   /* held by whoever checkpoints */
    pthread_mutex_t ckpt_mutex; /* covers the three below */
    pthread_cond_t ckpt_cond;
    bool ckpt_wanted;
    bool ckpt_stop;
    int ckpt_base; /* WAL frames the last checkpoint had copied */
    int wal_pages; /* in the WAL after the last commit; under the db lock */
    /* lock covers the group commit and the counters. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct gw_spool_put *pending;
    struct gw_spool_put **pending_tail;
    bool leading;
    size_t n_pending;
    /* The committer: commits asynchronous puts when no leader does. */
    pthread_t commit_thread;
    pthread_cond_t commit_cond;
    bool commit_started;
    bool commit_stop;
    uint64_t calls;
    uint64_t bytes;
    uint64_t reserved; /* bytes of puts not yet committed */
};

/* Stops the committer (spool.c) once nothing waits for a commit. */
void gw_spool_db_stop_committer(struct gw_spool *s);

/* The bytes of a dead letter, as counted against max_dead_bytes. */
#define GW_SPOOL_DEAD_BYTES                                                                        \
    "(length(body) + coalesce(length(CAST(headers AS BLOB)), 0) +"                                 \
    " coalesce(length(CAST(reason AS BLOB)), 0))"

/* The SQL of each statement, for error messages. */
extern const char *const gw_spool_db_sql[GW_SPOOL_ST_COUNT];

/* Logs a failed step (what names it) and returns GW_ERR_IO; aborts on
 * SQLITE_NOMEM (the OOM policy). */
enum gw_rc gw_spool_db_fail(struct gw_spool *s, int e, const char *what);
/* Steps a statement that returns no row, then resets it. */
enum gw_rc gw_spool_db_run(struct gw_spool *s, enum gw_spool_stmt which);
/* Commits when rc is GW_OK, else (or when the commit fails) rolls back;
 * returns the outcome. */
enum gw_rc gw_spool_db_finish(struct gw_spool *s, enum gw_rc rc);


/* Returns the cached queue of id (borrowed), or NULL. */
const struct gw_spool_qkey *gw_spool_db_key(const struct gw_spool *s, int64_t id);
/* Returns the cached queue of (key, endpoint) (borrowed), or NULL. */
const struct gw_spool_qkey *gw_spool_db_key_by_name(const struct gw_spool *s, const char *key,
                                                    const char *endpoint);
/* Sets *id to the queue of (key, endpoint), adding its row in the current
 * transaction when new. */
enum gw_rc gw_spool_db_queue_id(struct gw_spool *s, const char *key, const char *endpoint,
                                int64_t *id);
/* Reloads the queue cache from the table (after a rollback). */
enum gw_rc gw_spool_db_load_keys(struct gw_spool *s);

/* Returns the bytes of key (borrowed), new when unseen; called under lock. */
struct gw_spool_kuse *gw_spool_db_use(struct gw_spool *s, const char *key);
/* Frees every write key's bytes (at close). */
void gw_spool_db_drop_uses(struct gw_spool *s);

/* spool_rows.c. Inserts n calls of queue qid, the first with id first_id,
 * in rows of up to GW_SPOOL_ROW_CALLS (in the open transaction). */
enum gw_rc gw_spool_rows_put(struct gw_spool *s, int64_t qid, int64_t now_ms, int64_t first_id,
                             const char *const *json, const size_t *len, size_t n);
/* Steps st (a page statement, bound) and hands fn each call of its rows
 * with an id in (after, upto], at most max (0: all). */
enum gw_rc gw_spool_rows_page(struct gw_spool *s, sqlite3_stmt *st, int64_t after, int64_t upto,
                              size_t max, bool (*fn)(void *arg, const struct gw_spool_call *c),
                              void *arg);
/* Copies queued call id's text into out and its queue into *qid; *found
 * false when the call is not queued. */
enum gw_rc gw_spool_rows_call(struct gw_spool *s, int64_t id, int64_t *qid, struct gw_buf *out,
                              bool *found);
/* Frees what the rows keep in memory (at close). */
void gw_spool_rows_fini(struct gw_spool *s);

/* Deletes the queued calls with ids first..last in the current
 * transaction (a row that keeps some of its calls is written again with
 * only those), adding their number and bytes to *calls and *bytes and
 * noting each write key's share of them. */
enum gw_rc gw_spool_db_delete_range(struct gw_spool *s, int64_t first, int64_t last,
                                    uint64_t *calls, uint64_t *bytes);
/* After the transaction of deletes ended with rc (still under the db lock):
 * when it committed, takes calls and bytes off the counters, and each
 * write key's deleted bytes off its own (locks lock). */
void gw_spool_db_uncount(struct gw_spool *s, enum gw_rc rc, uint64_t calls, uint64_t bytes);

/* Takes the db lock, in turn. */
static inline void gw_spool_db_lock(struct gw_spool *s)
{
    pthread_mutex_lock(&s->db_mutex);
    uint64_t ticket = s->db_next++;
    while (ticket != s->db_serving) {
        pthread_cond_wait(&s->db_turn, &s->db_mutex);
    }
    pthread_mutex_unlock(&s->db_mutex);
}

static inline void gw_spool_db_unlock(struct gw_spool *s)
{
    pthread_mutex_lock(&s->db_mutex);
    s->db_serving++;
    pthread_cond_broadcast(&s->db_turn);
    pthread_mutex_unlock(&s->db_mutex);
}

static inline const char *gw_spool_db_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static inline int64_t gw_spool_db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
