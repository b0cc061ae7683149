/* floor.c -- the libraries sourcegate is built on, alone: for a POST,
 * libmicrohttpd reads the body into a buffer and answers, json-c parses it
 * (one tokener, reused, strict, as the daemon's), and SQLite (WAL,
 * synchronous NORMAL, as the spool at durability os) commits one row of
 * its bytes; nothing else: no signature, mapping, validation, Spec,
 * relay, deletes, access log or debugger. compare.sh runs it as the server
 * "floor", on the same core and load as the others: what no build of
 * sourcegate on these libraries can beat, since it does this and more (it
 * spools the calls, larger than the body, and the relay deletes them).
 * Answers {"success":true,"accepted":N}: N calls, the length of a top-level
 * array or of an object's "batch", else 1.
 * Usage: floor DIR   (listens on 127.0.0.1, an ephemeral port; prints
 * "port N" once it listens; DIR holds the database)
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (512 * 1024)

static sqlite3 *db;
static sqlite3_stmt *st_begin, *st_insert, *st_commit;
static json_tokener *tok; /* one HTTP thread: one tokener */

struct req {
    char *body;
    size_t len;
    size_t cap;
};

static void die(const char *what)
{
    fprintf(stderr, "floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static int step(sqlite3_stmt *st)
{
    int e = sqlite3_step(st);
    sqlite3_reset(st);
    return e == SQLITE_DONE ? 0 : -1;
}

/* One transaction with one row, as a put of one request. */
static int put(const char *text, size_t len, int n)
{
    if (step(st_begin) != 0) {
        return -1;
    }
    sqlite3_bind_int64(st_insert, 1, 1);
    sqlite3_bind_int64(st_insert, 2, n);
    sqlite3_bind_text(st_insert, 3, text, (int)len, SQLITE_STATIC);
    int rc = step(st_insert);
    sqlite3_clear_bindings(st_insert);
    if (step(st_commit) != 0 || rc != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls, (void)url, (void)version;
    struct req *q = *con_cls;
    if (q == NULL) {
        *con_cls = calloc(1, sizeof(struct req));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        if (q->len + *upload_size > MAX_BODY) {
            return MHD_NO;
        }
        if (q->len + *upload_size > q->cap) {
            size_t cap = q->cap ? q->cap : 1024;
            while (cap < q->len + *upload_size) {
                cap *= 2;
            }
            char *b = realloc(q->body, cap);
            if (b == NULL) {
                return MHD_NO;
            }
            q->body = b;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload, *upload_size);
        q->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) {
        return answer(c, 405, "{\"success\":false}");
    }
    json_tokener_reset(tok);
    json_object *v = json_tokener_parse_ex(tok, q->body ? q->body : "", (int)q->len);
    if (v == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(v);
        return answer(c, 400, "{\"success\":false}");
    }
    json_object *batch = NULL;
    int n = json_object_is_type(v, json_type_array) ? (int)json_object_array_length(v) : 1;
    if (json_object_object_get_ex(v, "batch", &batch) &&
        json_object_is_type(batch, json_type_array)) {
        n = (int)json_object_array_length(batch);
    }
    json_object_put(v);
    if (put(q->body, q->len, n) != 0) {
        return answer(c, 503, "{\"success\":false}");
    }
    char text[64];
    snprintf(text, sizeof(text), "{\"success\":true,\"accepted\":%d}", n);
    return answer(c, 200, text);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct req *q = *con_cls;
    if (q != NULL) {
        free(q->body);
        free(q);
        *con_cls = NULL;
    }
}

static void open_db(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/floor.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        die("open");
    }
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                         "PRAGMA cache_size = -8192;"
                         "CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, queue INTEGER"
                         " NOT NULL, n INTEGER NOT NULL, json TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &st_begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO calls (queue, n, json) VALUES (?, ?, ?)", -1,
                           &st_insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &st_commit, NULL) != SQLITE_OK) {
        die("schema");
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor DIR\n");
        return 2;
    }
    /* the signals wait for sigwait, in every thread */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    open_db(argv[1]);
    tok = json_tokener_new_ex(64);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)32 * 1024, MHD_OPTION_END);
    if (d == NULL) {
        die("listen");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? info->port : 0);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    json_tokener_free(tok);
    sqlite3_finalize(st_begin);
    sqlite3_finalize(st_insert);
    sqlite3_finalize(st_commit);
    sqlite3_close(db);
    return 0;
}
