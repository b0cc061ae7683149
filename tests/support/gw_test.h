/* gw_test.h -- helpers shared by the test suites: fixture files, a real
 * libcurl client, an in-process gateway on port 0, the real binary spawned.
 * SPDX-License-Identifier: MIT */
#ifndef GW_TEST_H
#define GW_TEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "ingest.h"

/* Returns the new, NUL-terminated content of tests/data/<rel>; aborts the test if missing. */
char *gwt_read(const char *rel, size_t *len);
/* The same for <source root>/<rel> (examples/, rules/). */
char *gwt_read_root(const char *rel, size_t *len);
/* Returns a new absolute path: tests/data/<rel> or <source root>/<rel>. */
char *gwt_data_path(const char *rel);
char *gwt_root_path(const char *rel);

struct http_resp {
    long status;        /* 0: transport failure */
    char *body;
    json_object *json;  /* body parsed, or NULL */
    char *headers;      /* raw header block */
};

/* Sends one request with real libcurl. headers is NULL-terminated "K: V" list
 * (may be NULL). body may be NULL. Returns the status (0 on failure). */
long http_request(const char *method, const char *url, const char *const *headers,
                  const char *body, size_t len, struct http_resp *out);
void http_resp_fini(struct http_resp *r);
/* Returns the value of a response header (new string) or NULL. */
char *http_resp_header(const struct http_resp *r, const char *name);

struct gw_ruleset;

/* Returns the shipped rules/ compiled (new); fails the test if they do not load. */
struct gw_ruleset *gwt_load_shipped(void);
/* Returns the rules of one YAML text compiled (new, as "inline.yaml");
 * fails the test if they do not load. */
struct gw_ruleset *gwt_load_inline(const char *yaml);

struct gwt_opts {
    const char *endpoint;  /* upstream base URL; NULL: global dry run */
    const char *write_key; /* sources.sendgrid.write_key, or NULL */
    const char *config;    /* a YAML configuration file path (tests/data relative), or NULL */
    const char *rules;     /* a rules directory (tests/data relative); NULL: the shipped rules/ */
    unsigned long long max_body; /* 0: default */
    double max_rps;        /* 0: default */
    unsigned flush_ms;     /* 0: 50 ms for quick tests */
};

struct gwt_gateway {
    struct gw_config cfg;
    struct gw_ruleset *rules;
    struct gw_spool *spool; /* in a temporary directory, removed at stop */
    char spool_dir[64];
    struct gw_relay *relay;
    struct gw_ingest ing;
    struct gw_server *srv;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts the gateway in this process on 127.0.0.1:0 with the shipped rules. */
struct gwt_gateway *gwt_gateway_start(const struct gwt_opts *o);
void gwt_gateway_stop(struct gwt_gateway *g);
/* Returns new "http://[user@]127.0.0.1:PORT<path>". */
char *gwt_url(const struct gwt_gateway *g, const char *path);

/* The real binary ($SOURCEGATE_BIN) started with argv (NULL-terminated, not
 * including the program); stderr goes to a file read by gwt_proc_log. */
struct gwt_proc {
    pid_t pid;
    char log[256];
    unsigned port;
};

/* Spawns and waits (10 s) for the "listening on" line; port is read from it. */
bool gwt_proc_start(struct gwt_proc *p, const char *const *argv);
/* Returns new: everything the process wrote to stderr so far. */
char *gwt_proc_log(const struct gwt_proc *p);
/* Sends sig and waits up to timeout_ms; returns the exit status, or -1. */
int gwt_proc_stop(struct gwt_proc *p, int sig, unsigned timeout_ms);
/* Runs the binary to completion; returns the exit status; *out gets stdout (new). */
int gwt_run(const char *const *argv, char **out, char **err);

#endif
