/* spool.h -- the durable queue between ingest and relay (SQLite, WAL), and
 * the dead-letter store. A request is answered 200 only after its calls are
 * in here; the relay deletes them once Segment took them.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPOOL_H
#define GW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"

struct gw_spool;

struct gw_spool_opts {
    const char *dir;    /* created if missing; holds spool.db */
    bool fsync;         /* durability: fsync (power loss) instead of os (process crash) */
    uint64_t max_bytes; /* queued call bytes; past it gw_spool_put answers GW_ERR_FULL (limits.max_spool) */
    /* of them, one write key's; past it that key's puts answer GW_ERR_QUOTA
     * (limits.max_spool_per_key; 0: half of max_bytes) */
    uint64_t max_key_bytes;
    uint64_t max_dead;  /* dead letters kept, oldest dropped first (100000) */
    uint64_t max_dead_bytes; /* their bytes kept, oldest dropped first (limits.max_dead_letters) */
};

void gw_spool_opts_init(struct gw_spool_opts *o);

/* Opens (or creates) the spool in o->dir: the directory is made (0700) if
 * missing and locked against a second process; the files hold write keys,
 * so keep it private. *out receives a new spool. On error *err (size
 * errlen) says why and nothing is open. */
enum gw_rc gw_spool_open(const struct gw_spool_opts *o, struct gw_spool **out, char *err,
                         size_t errlen) GW_WUR;
/* NULL is a no-op. */
void gw_spool_close(struct gw_spool *s);

/* One queued call as stored. Strings are owned by the struct, except in a
 * callback of gw_spool_each or gw_spool_page: there the struct and its
 * strings are borrowed, valid until the callback returns (do not fini it;
 * gw_spool_call_copy makes an owned copy). */
struct gw_spool_call {
    int64_t id;
    char *write_key; /* secret: never log it */
    char *endpoint;
    char *json;
    size_t len;
    int64_t enqueued_ms; /* unix ms */
};

void gw_spool_call_fini(struct gw_spool_call *c);
/* Fills dst with new copies of src's strings (dst owns them). */
void gw_spool_call_copy(struct gw_spool_call *dst, const struct gw_spool_call *src);

/* Appends n calls (json/len pairs, borrowed) for one write key and
 * endpoint, all or nothing, durable as opts say before it returns; ids[i]
 * (may be NULL) receives each call's id. GW_ERR_FULL when over max_bytes,
 * GW_ERR_QUOTA when the write key's calls would be over max_key_bytes,
 * GW_ERR_NOSPACE when the disk is full, GW_ERR_IO on other write errors
 * (nothing stored). Thread-safe; concurrent puts share one commit. */
enum gw_rc gw_spool_put(struct gw_spool *s, const char *write_key, const char *endpoint,
                        const char *const *json, const size_t *len, size_t n, int64_t *ids) GW_WUR;

/* What a gw_spool_put_async calls once its put committed (rc GW_OK) or
 * failed (GW_ERR_NOSPACE, GW_ERR_IO); from another thread, holding no lock
 * of the spool. */
typedef void (*gw_spool_done_fn)(void *arg, enum gw_rc rc);

/* gw_spool_put without the wait: copies the calls, the write key and the
 * endpoint, queues them for the next group commit, and returns. GW_OK:
 * done(arg, rc) is called exactly once, when the commit is over. Any other
 * code (as gw_spool_put's, checked at once): nothing is queued and done is
 * never called. The puts queued while a commit runs share the next one,
 * made by a thread of the spool (sg-commit) at the lowest priority, so
 * that on a busy core it runs between requests; past 64 waiting puts the
 * caller commits them itself. n must be above 0. */
enum gw_rc gw_spool_put_async(struct gw_spool *s, const char *write_key, const char *endpoint,
                              const char *const *json, const size_t *len, size_t n,
                              gw_spool_done_fn done, void *arg) GW_WUR;

/* Deletes delivered calls, a chunk of them per transaction (a put waits
 * for one chunk at most); on an error the chunks before it stay deleted,
 * and deleting an id again is a no-op. */
enum gw_rc gw_spool_delete(struct gw_spool *s, const int64_t *ids, size_t n) GW_WUR;

/* Calls fn for every queued call, oldest first (replay at start). fn
 * borrows the call; returning false stops. */
enum gw_rc gw_spool_each(struct gw_spool *s, bool (*fn)(void *arg, const struct gw_spool_call *c),
                         void *arg) GW_WUR;

/* Calls fn for at most max (0: no limit) queued calls whose id is above
 * after_id, oldest first: the relay pages its in-memory window in with it.
 * fn borrows the call and returns false to stop. Ids grow with every put
 * while the spool is open (a reopen starts above every queued call), and a
 * call is visible here once its put returned; a put that committed while a
 * page ran shows in the next page. fn must not call into the spool (it runs
 * under the spool's lock), here or in gw_spool_each. */
enum gw_rc gw_spool_page(struct gw_spool *s, int64_t after_id, size_t max,
                         bool (*fn)(void *arg, const struct gw_spool_call *c), void *arg) GW_WUR;

/* The same for the calls of one write key and endpoint (borrowed) whose id
 * is in (after_id, upto_id]: the relay refills a queue it let spill. */
enum gw_rc gw_spool_page_queue(struct gw_spool *s, const char *write_key, const char *endpoint,
                               int64_t after_id, int64_t upto_id, size_t max,
                               bool (*fn)(void *arg, const struct gw_spool_call *c),
                               void *arg) GW_WUR;

/* Depth and bytes of the queue, for readiness and metrics. */
void gw_spool_stats(struct gw_spool *s, uint64_t *calls, uint64_t *bytes);

/* Bytes queued for write_key (borrowed; all its endpoints), as counted
 * against max_key_bytes. */
uint64_t gw_spool_key_bytes(struct gw_spool *s, const char *write_key);

/* Bytes of a dead letter's reason kept; the rest is cut. */
#define GW_SPOOL_REASON_MAX 2048

/* Dead letters. kind "call": a call Segment refused (source NULL, body the
 * call, the write key and endpoint kept to resend it). kind "request": a
 * webhook sourcegate refused (source, content type, headers as a JSON
 * object of the ones rules may read, body the raw bytes). status and reason
 * say why. */
struct gw_spool_dead {
    int64_t id;
    char *kind;
    char *source;
    char *write_key;
    char *endpoint;
    char *content_type;
    char *headers; /* JSON object text, or NULL */
    char *body;
    size_t len;
    int status;
    char *reason;
    int64_t at_ms;
    /* A request is kept only once its partner's signature passed, or when
     * its source had no secret to check it with: then unverified is true
     * and a replay must not treat it as the partner's. Calls are always
     * verified (they were spooled). */
    bool verified;
    bool unverified;
};

/* Frees d's strings (a struct filled by gw_spool_dead_copy; the ones passed
 * to gw_spool_dead_each callbacks are borrowed, valid until it returns). */
void gw_spool_dead_fini(struct gw_spool_dead *d);
/* Fills dst with new copies of src's strings and body (dst owns them). */
void gw_spool_dead_copy(struct gw_spool_dead *dst, const struct gw_spool_dead *src);

/* Moves queued calls to the dead letters (one transaction); ids no longer
 * queued are skipped. reason (borrowed, may be NULL) is cut at
 * GW_SPOOL_REASON_MAX bytes. Oldest dropped past max_dead. */
enum gw_rc gw_spool_bury(struct gw_spool *s, const int64_t *ids, size_t n, int status,
                         const char *reason) GW_WUR;

/* Stores a refused request (d->id and d->at_ms are ignored; the rest is
 * borrowed). Oldest dropped past max_dead. A request must say how it was
 * trusted: exactly one of d->verified and d->unverified is true, else
 * GW_ERR_INVALID and nothing is kept. */
enum gw_rc gw_spool_dead_put(struct gw_spool *s, const struct gw_spool_dead *d) GW_WUR;

/* Calls fn for each dead letter, oldest first, whose source is source (NULL:
 * any; calls match by their context.integration.name) and at_ms >= since_ms. */
enum gw_rc gw_spool_dead_each(struct gw_spool *s, const char *source, int64_t since_ms,
                              bool (*fn)(void *arg, const struct gw_spool_dead *d),
                              void *arg) GW_WUR;

/* What the dead letters hold, and what their bounds evicted since open. A
 * dead letter's bytes are its body's, headers' and reason's. */
struct gw_spool_dead_stats {
    uint64_t dead, dead_bytes;
    uint64_t evicted, evicted_bytes;
};
void gw_spool_dead_stats(struct gw_spool *s, struct gw_spool_dead_stats *out);

/* Removes one dead letter (after a successful replay). GW_ERR_NOT_FOUND
 * when there is none with that id. */
enum gw_rc gw_spool_dead_remove(struct gw_spool *s, int64_t id) GW_WUR;

/* `sourcegate spool check`: SQLite's integrity check of the spool in dir
 * (stopped: GW_ERR_BUSY while a daemon holds it), and the rows each table
 * yields. GW_OK when it could look (rep says what it saw), GW_ERR_NOT_FOUND
 * without a spool file, else err (size errlen) says why. */
struct gw_spool_check_report {
    bool ok;                /* no problem found */
    unsigned problems;      /* lines of the integrity check, tables unreadable */
    char first_problem[256];
    int64_t rows[3];        /* queues, calls, dead letters; -1: unreadable */
};
enum gw_rc gw_spool_check(const char *dir, struct gw_spool_check_report *rep, char *err,
                          size_t errlen) GW_WUR;

/* `sourcegate spool recover`: moves o->dir's spool.db (with its WAL) aside
 * as spool.db.damaged-<UTC stamp>, opens a fresh spool (as o says), and
 * copies into it every row of the damaged file that can still be read,
 * table by table; calls whose write key was lost are left out. The damaged
 * file is kept. GW_OK once the fresh spool is there (rep says what was
 * saved); GW_ERR_BUSY while a daemon holds the spool. */
struct gw_spool_recover_report {
    char moved_to[512];
    uint64_t queues, calls, dead; /* rows saved */
    uint64_t calls_without_key;   /* read but dropped: their write key was lost */
    unsigned gaps;                /* reads that failed, skipped past */
};
enum gw_rc gw_spool_recover(const struct gw_spool_opts *o, struct gw_spool_recover_report *rep,
                            char *err, size_t errlen) GW_WUR;
/* Calls fn for at most limit dead letters of source (NULL: any), newest
 * first, after skipping offset of them; *total (may be NULL) receives how
 * many match in all. fn borrows the letter as in gw_spool_dead_each. */
enum gw_rc gw_spool_dead_list(struct gw_spool *s, const char *source, size_t offset,
                              size_t limit, bool (*fn)(void *arg, const struct gw_spool_dead *d),
                              void *arg, uint64_t *total) GW_WUR;

/* Calls fn for the dead letter id. GW_ERR_NOT_FOUND when there is none. */
enum gw_rc gw_spool_dead_get(struct gw_spool *s, int64_t id,
                             bool (*fn)(void *arg, const struct gw_spool_dead *d),
                             void *arg) GW_WUR;

#endif
