/* main.c -- sourcegate: argv, subcommands, signals, start/stop order.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/client.h"
#include "buf.h"
#include "config.h"
#include "decode.h"
#include "diag.h"
#include "ingest.h"
#include "json.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "relay/relay.h"
#include "replay.h"
#include "runtime.h"
#include "spool/spool.h"
#include "server.h"
#include "settings.h"

#ifndef GW_VERSION
#define GW_VERSION "0.0.0"
#endif

#define MAX_HEADERS 64
#define DRAIN_MS 10000

static const char usage[] =
    "usage: sourcegate [serve] [flags]                run the daemon\n"
    "       sourcegate check --source NAME [--header 'K: V']... [--query 'k=v&...']\n"
    "                        [--received-at T] FILE\n"
    "                                                 map and validate one webhook body offline\n"
    "       sourcegate lint [--config FILE] [RULES...] check configuration and rules files\n"
    "       sourcegate docs RULES_FILE                write the source's documentation (markdown)\n"
    "       sourcegate docs --settings                the README's tables of flags and settings\n"
    "       sourcegate replay --dead-letters [--source S] [--since T] [--include-unverified]\n"
    "                                                 send refused calls and webhooks again\n"
    "       sourcegate spool check | recover          check the spool file; salvage a damaged one\n"
    "       sourcegate --version | --help\n"
    "\n"
    "flags (each overrides the configuration file; SOURCEGATE_<FLAG> sits between):\n";

/* What the command line said besides the configuration flags. */
struct cli {
    const char *command;
    const char *config;
    const char *source;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    const char *query; /* check: the query string, "k=v&k2=v2" */
    const char *since; /* replay */
    const char *received_at; /* check: $received_at, unix seconds or ISO-8601 */
    bool dead_letters; /* replay */
    bool include_unverified; /* replay */
    bool settings;     /* docs */
    struct gw_form_pair *query_pairs;
    size_t n_query;
    const char *args[256];
    size_t n_args;
};

static int usage_error(const char *fmt, ...) GW_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sourcegate: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see sourcegate --help)\n");
    va_end(ap);
    return 2;
}

/* Collects flags into c (applied later, after the file) and cli. Returns 0,
 * or 2 after a usage message. */
static int parse_args(int argc, char **argv, struct cli *cli, const char **flagv, size_t *flagn)
{
    int i = 1;
    cli->command = "serve";
    if (argc > 1 && argv[1][0] != '-') {
        cli->command = argv[1];
        i = 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (cli->n_args == sizeof(cli->args) / sizeof(cli->args[0])) {
                return usage_error("too many arguments%s", "");
            }
            cli->args[cli->n_args++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nlen >= sizeof(name)) {
            return usage_error("unknown flag %s", a);
        }
        snprintf(name, sizeof(name), "%.*s", (int)nlen, a + 2);
        bool known = false;
        bool takes = gw_config_flag_takes_value(name, &known);
        if (strcmp(name, "dead-letters") == 0) {
            cli->dead_letters = true;
            continue;
        }
        if (strcmp(name, "include-unverified") == 0) {
            cli->include_unverified = true;
            continue;
        }
        if (strcmp(name, "settings") == 0) {
            cli->settings = true;
            continue;
        }
        bool local = strcmp(name, "config") == 0 || strcmp(name, "source") == 0 ||
                     strcmp(name, "header") == 0 || strcmp(name, "query") == 0 ||
                     strcmp(name, "since") == 0 || strcmp(name, "received-at") == 0;
        if (!known && !local) {
            return usage_error("unknown flag %s", a);
        }
        const char *val = eq ? eq + 1 : NULL;
        if ((takes || local) && val == NULL) {
            if (i + 1 >= argc) {
                return usage_error("flag %s needs a value", a);
            }
            val = argv[++i];
        }
        if (strcmp(name, "config") == 0) {
            cli->config = val;
        } else if (strcmp(name, "source") == 0) {
            cli->source = val;
        } else if (strcmp(name, "query") == 0) {
            cli->query = val;
        } else if (strcmp(name, "since") == 0) {
            cli->since = val;
        } else if (strcmp(name, "received-at") == 0) {
            cli->received_at = val;
        } else if (strcmp(name, "header") == 0) {
            if (cli->n_headers == MAX_HEADERS) {
                return usage_error("too many --header flags%s", "");
            }
            cli->headers[cli->n_headers++] = val;
        } else {
            if (*flagn + 2 > 2 * 256) {
                return usage_error("too many flags%s", "");
            }
            flagv[(*flagn)++] = gw_strdup(name);
            flagv[(*flagn)++] = val;
        }
    }
    return 0;
}

/* SIGHUP: builds a new runtime from the same command line and swaps it in;
 * a set that does not load is refused and the old one keeps serving. */
static void reload(struct gw_server *srv, struct gw_admin *admin, struct gw_runtime **rt,
                   const struct gw_cmdline *cl)
{
    struct gw_diag *d = gw_diag_create();
    int status = 0;
    struct gw_runtime *next = gw_runtime_load(cl, (*rt)->ing.relay, (*rt)->ing.spool, d, &status);
    char *problems = gw_diag_join(d);
    gw_diag_destroy(d);
    if (next == NULL) {
        gw_error("main", "SIGHUP: the new configuration or rules are refused; the old ones keep "
                 "serving:\n%s", problems);
        free(problems);
        return;
    }
    if (problems[0] != '\0') {
        gw_warn("main", "SIGHUP: %s", problems);
    }
    free(problems);
    const struct gw_ingest *old = gw_server_swap(srv, &next->ing);
    GW_ASSERT(old == &(*rt)->ing);
    if (admin != NULL) {
        gw_admin_set_runtime(admin, next); /* waits for a replay on the old one */
    }
    gw_runtime_free(*rt); /* no request uses it now: the swap waited for them */
    *rt = next;
    gw_runtime_warn_unsigned(next);
    gw_info("main", "SIGHUP: reloaded %zu sources", gw_ruleset_count(next->rules));
}

static void wait_for_signal(const sigset_t *set, struct gw_server *srv, struct gw_admin *admin,
                            struct gw_runtime **rt, const struct gw_cmdline *cl)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            reload(srv, admin, rt, cl);
            continue;
        }
        gw_info("main", "%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

/* Opens the spool of cfg; NULL after a message on stderr. */
/* The spool's options from the configuration (cfg borrowed by so). */
static void spool_opts(const struct gw_config *cfg, struct gw_spool_opts *so)
{
    gw_spool_opts_init(so);
    so->dir = cfg->spool;
    so->fsync = cfg->spool_fsync;
    so->max_bytes = cfg->max_spool;
    so->max_key_bytes = cfg->max_spool_per_key;
    so->max_dead_bytes = cfg->max_dead_letters;
}

static struct gw_spool *open_spool(const struct gw_config *cfg)
{
    struct gw_spool_opts so;
    spool_opts(cfg, &so);
    struct gw_spool *spool = NULL;
    char err[768];
    if (gw_spool_open(&so, &spool, err, sizeof(err)) != GW_OK) {
        gw_error("main", "cannot open the spool in %s: %s", cfg->spool, err);
        return NULL;
    }
    return spool;
}

/* The relay on the spool; it resends what the spool holds at once. */
static struct gw_relay *start_relay(const struct gw_config *cfg, struct gw_spool *spool)
{
    struct gw_relay_opts ro;
    gw_relay_opts_init(&ro);
    ro.max_rps = cfg->max_rps;
    ro.timeout_ms = cfg->upstream_timeout_s * 1000;
    struct gw_relay *relay = gw_relay_create(&ro, spool);
    if (gw_relay_start(relay) != GW_OK) {
        gw_error("main", "cannot start the relay");
        gw_relay_destroy(relay);
        return NULL;
    }
    return relay;
}


/* The debugger: on the main listener when that is loopback, and on
 * admin.listen when set; NULL when neither, or *failed when its listener
 * cannot start. */
static struct gw_admin *start_admin(const struct gw_config *cfg, struct gw_relay *relay,
                                    struct gw_spool *spool, bool *failed)
{
    if (!gw_admin_loopback(cfg->listen) && cfg->admin_listen == NULL) {
        return NULL;
    }
    struct gw_admin_opts ao;
    gw_admin_opts_init(&ao);
    ao.on_main = gw_admin_loopback(cfg->listen);
    ao.listen = cfg->admin_listen;
    ao.token = cfg->admin_token;
    char spool_dir[PATH_MAX];
    ao.spool_dir = spool != NULL ? realpath(cfg->spool, spool_dir) : NULL;
    ao.max_requests = (size_t)cfg->admin_max_requests;
    ao.max_bytes = (size_t)cfg->admin_max_bytes;
    struct gw_admin *admin = gw_admin_create(&ao, relay, spool);
    uint16_t port = 0;
    if (gw_admin_listen(admin, &port) != GW_OK) {
        gw_admin_destroy(admin);
        *failed = true;
        return NULL;
    }
    if (port != 0) {
        gw_info("main", "debugger and admin endpoints on %.*s:%u%s",
                (int)(strrchr(cfg->admin_listen, ':') - cfg->admin_listen), cfg->admin_listen,
                (unsigned)port, cfg->admin_token ? " (token required)" : "");
    }
    if (port != 0 && cfg->admin_token == NULL && !gw_admin_loopback(cfg->admin_listen)) {
        gw_warn("main", "admin.listen is not a loopback address and admin.token is not set: "
                "anyone who reaches it sees the traffic");
    }
    return admin;
}

static int serve(const struct gw_cmdline *cl)
{
    struct gw_diag *d = gw_diag_create();
    int status = 0;
    struct gw_runtime *rt = gw_runtime_load(cl, NULL, NULL, d, &status);
    gw_diag_print(d, stderr);
    gw_diag_destroy(d);
    if (rt == NULL) {
        return status;
    }
    gw_runtime_warn_unsigned(rt);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* block before any thread starts, so that only sigwait sees them */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct gw_spool *spool = rt->cfg.dry_run ? NULL : open_spool(&rt->cfg);
    struct gw_relay *relay = spool ? start_relay(&rt->cfg, spool) : NULL;
    if (!rt->cfg.dry_run && relay == NULL) {
        gw_spool_close(spool);
        gw_runtime_free(rt);
        return 1;
    }
    rt->ing.relay = relay;
    rt->ing.spool = spool;
    bool admin_failed = false;
    struct gw_admin *admin = start_admin(&rt->cfg, relay, spool, &admin_failed);
    gw_admin_set_runtime(admin, rt);
    struct gw_server_opts so;
    gw_server_opts_init(&so);
    gw_server_opts_from(&so, &rt->cfg);
    so.admin = admin;
    struct gw_server *srv = NULL;
    status = 1;
    if (!admin_failed && gw_server_start(&so, &rt->ing, &srv) == GW_OK) {
        gw_info("main", "sourcegate %s listening on %.*s:%u with %zu sources%s", GW_VERSION,
                (int)(strrchr(rt->cfg.listen, ':') - rt->cfg.listen), rt->cfg.listen,
                (unsigned)gw_server_port(srv), gw_ruleset_count(rt->rules),
                rt->cfg.dry_run ? " (dry run: nothing is relayed)" : "");
        gw_log_buffer(true); /* access lines in batches while serving */
        wait_for_signal(&set, srv, admin, &rt, cl);
        gw_server_quiesce(srv);
        gw_admin_close(admin); /* event streams end: they would hold the drain */
        unsigned left = gw_server_drain(srv, DRAIN_MS);
        if (left > 0) {
            gw_warn("main", "%u requests still in flight at the deadline", left);
        }
        gw_server_stop(srv);
        gw_log_buffer(false);
        status = 0;
    }
    gw_admin_destroy(admin);
    if (relay != NULL) {
        gw_relay_stop(relay, DRAIN_MS);
        gw_relay_destroy(relay);
    }
    gw_spool_close(spool);
    gw_runtime_free(rt);
    gw_info("main", "stopped");
    return status;
}

/* --since: unix seconds, or an ISO-8601 date-time. Returns unix ms or -1. */
static int64_t parse_since(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end != s && *end == '\0' && v >= 0) {
        return v * 1000;
    }
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL) {
        rest = strptime(s, "%Y-%m-%d", &tm);
    }
    if (rest == NULL || (*rest != '\0' && strcmp(rest, "Z") != 0)) {
        return -1;
    }
    return (int64_t)timegm(&tm) * 1000;
}

/* A terminal's progress bar for a large replay, redrawn in place. */
static void progress_bar(void *arg, size_t done, size_t total)
{
    if (total < 20) {
        return;
    }
    char bar[41];
    size_t full = total ? done * 40 / total : 40;
    memset(bar, '#', full);
    memset(bar + full, '.', 40 - full);
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu%s", bar, done, total, done == total ? "\n" : "");
}

static int replay(const struct gw_cmdline *cl, const struct cli *cli)
{
    if (!cli->dead_letters || cli->n_args != 0) {
        return usage_error("replay takes --dead-letters [--source S] [--since T] "
                           "[--include-unverified]%s", "");
    }
    int64_t since = cli->since ? parse_since(cli->since) : 0;
    if (since < 0) {
        return usage_error("--since '%s' is neither unix seconds nor an ISO-8601 date", cli->since);
    }
    struct gw_diag *d = gw_diag_create();
    int status = 0;
    struct gw_runtime *rt = gw_runtime_load(cl, NULL, NULL, d, &status);
    gw_diag_print(d, stderr);
    gw_diag_destroy(d);
    if (rt == NULL) {
        return status;
    }
    struct gw_replay_counts n = {0};
    enum gw_rc online = gw_admin_replay_remote(&rt->cfg, cli->source, since,
                                               cli->include_unverified, &n);
    if (online != GW_ERR_NOT_FOUND) {
        /* a daemon runs: it owns the spool and replayed there */
        printf("replayed %zu, still refused %zu, unverified kept %zu (on the running daemon)%s%s\n",
               n.replayed, n.failed, n.unverified, n.reason[0] ? ": " : "", n.reason);
        gw_runtime_free(rt);
        return online == GW_OK ? 0 : 1;
    }
    n.progress = isatty(STDERR_FILENO) ? progress_bar : NULL;
    struct gw_spool *spool = open_spool(&rt->cfg);
    struct gw_relay *relay = spool ? start_relay(&rt->cfg, spool) : NULL;
    status = 1;
    if (relay != NULL) {
        rt->ing.relay = relay;
        status = gw_replay_dead_letters(rt, spool, cli->source, since, cli->include_unverified,
                                        &n) == GW_OK ? 0 : 1;
        size_t left = gw_relay_stop(relay, DRAIN_MS);
        gw_relay_destroy(relay);
        printf("replayed %zu, still refused %zu, unverified kept %zu%s\n", n.replayed, n.failed,
               n.unverified, left ? " (some calls wait in the spool for the daemon)" : "");
    }
    gw_spool_close(spool);
    gw_runtime_free(rt);
    return status;
}

/* `spool check` and `spool recover`, on the configured spool (stopped). */
static int spool_cmd(const struct gw_config *cfg, const struct cli *cli)
{
    bool check = cli->n_args == 1 && strcmp(cli->args[0], "check") == 0;
    if (!check && (cli->n_args != 1 || strcmp(cli->args[0], "recover") != 0)) {
        return usage_error("spool takes check or recover%s", "");
    }
    char err[512] = "";
    if (check) {
        struct gw_spool_check_report rep;
        if (gw_spool_check(cfg->spool, &rep, err, sizeof(err)) != GW_OK) {
            fprintf(stderr, "sourcegate: %s\n", err);
            return 1;
        }
        printf("spool %s/spool.db: %s; queues %lld, calls %lld, dead letters %lld "
               "(-1: unreadable)\n", cfg->spool, rep.ok ? "ok" : "DAMAGED",
               (long long)rep.rows[0], (long long)rep.rows[1], (long long)rep.rows[2]);
        if (!rep.ok) {
            printf("%u problem(s), the first: %s\nrun `sourcegate spool recover` to move it "
                   "aside and keep what can be read\n", rep.problems, rep.first_problem);
        }
        return rep.ok ? 0 : 1;
    }
    struct gw_spool_opts so;
    spool_opts(cfg, &so);
    struct gw_spool_recover_report rep;
    if (gw_spool_recover(&so, &rep, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "sourcegate: %s\n", err);
        return 1;
    }
    printf("moved the damaged file to %s (kept)\nsaved into a fresh spool: %llu call(s), "
           "%llu write key(s), %llu dead letter(s); %llu call(s) lost their write key, %u "
           "unreadable stretch(es) skipped\n", rep.moved_to, (unsigned long long)rep.calls,
           (unsigned long long)rep.queues, (unsigned long long)rep.dead,
           (unsigned long long)rep.calls_without_key, rep.gaps);
    return 0;
}

static int read_file(const char *path, struct gw_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "sourcegate: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (gw_buf_add(b, chunk, n) != GW_OK) {
            fprintf(stderr, "sourcegate: %s is larger than the body limit\n", path);
            rc = 2;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "sourcegate: cannot read %s: %s\n", path, strerror(errno));
        rc = 2;
    }
    if (f != stdin) {
        fclose(f);
    }
    return rc;
}

/* --header values, looked up case-insensitively as HTTP does. */
static const char *cli_header(void *arg, const char *name)
{
    const struct cli *cli = arg;
    size_t n = strlen(name);
    for (size_t i = 0; i < cli->n_headers; i++) {
        const char *h = cli->headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            return h + n + 1 + strspn(h + n + 1, " \t");
        }
    }
    return NULL;
}

/* --query values, as the query string would give them. */
static const char *cli_query(void *arg, const char *name)
{
    const struct cli *cli = arg;
    for (size_t i = 0; i < cli->n_query; i++) {
        if (strcmp(cli->query_pairs[i].name, name) == 0) {
            return cli->query_pairs[i].value;
        }
    }
    return NULL;
}

static int check(const struct gw_config *cfg, struct cli *cli)
{
    if (cli->source == NULL || cli->n_args != 1) {
        return usage_error("check needs --source NAME and one FILE%s", "");
    }
    struct gw_buf body;
    gw_buf_init(&body, cfg->max_body);
    int rc = read_file(cli->args[0], &body);
    struct gw_diag *d = gw_diag_create();
    const char *rules_path = cfg->rules;
    struct gw_ruleset *rs = rc == 0 ? gw_runtime_rules(cfg, &rules_path, 1, d) : NULL;
    gw_diag_print(d, stderr);
    gw_diag_destroy(d);
    if (rs == NULL) {
        gw_buf_fini(&body);
        return rc ? rc : 2;
    }
    if (cli->query != NULL &&
        gw_decode_form_pairs(cli->query, strlen(cli->query), 256, &cli->query_pairs,
                             &cli->n_query) != GW_OK) {
        gw_ruleset_destroy(rs);
        gw_buf_fini(&body);
        return usage_error("--query '%s' is not a query string (k=v&k2=v2)", cli->query);
    }
    int64_t received_ms = cli->received_at ? parse_since(cli->received_at) : 0;
    if (received_ms < 0) {
        gw_ruleset_destroy(rs);
        gw_buf_fini(&body);
        return usage_error("--received-at '%s' is not unix seconds or ISO-8601", cli->received_at);
    }
    struct gw_ingest_req req = {.source = cli->source, .body = gw_buf_str(&body),
                                .len = body.len, .dry_run = true, .header = cli_header,
                                .query = cli_query, .arg = cli, .received_ms = received_ms};
    struct gw_ingest ing;
    gw_ingest_init(&ing, cfg, rs);
    struct gw_ingest_res res;
    enum gw_rc run = gw_ingest_run(&ing, &req, &res);
    json_object *rep = gw_ingest_report(&res);
    printf("%s\n", json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    /* 0 valid, 2 an unknown source (a usage error), 1 anything else */
    rc = run == GW_OK ? 0 : res.cause == GW_CAUSE_UNKNOWN_SOURCE ? 2 : 1;
    json_object_put(rep);
    gw_ingest_res_fini(&res);
    gw_ingest_fini(&ing);
    gw_ruleset_destroy(rs);
    gw_buf_fini(&body);
    gw_decode_pairs_free(cli->query_pairs, cli->n_query);
    return rc;
}

static int lint(const struct gw_config *cfg, const struct cli *cli)
{
    struct gw_diag *d = gw_diag_create();
    const char *dflt = cfg->rules;
    const char *const *paths = cli->n_args ? cli->args : &dflt;
    size_t n = cli->n_args ? cli->n_args : 1;
    struct gw_ruleset *rs = gw_runtime_rules(cfg, paths, n, d);
    gw_diag_print(d, stderr);
    int rc = rs != NULL && gw_diag_errors(d) == 0 ? 0 : 1;
    if (rc == 0) {
        printf("%s OK: %zu source%s\n", cli->config ? "configuration" : "rules",
               gw_ruleset_count(rs), gw_ruleset_count(rs) == 1 ? "" : "s");
    }
    gw_ruleset_destroy(rs);
    gw_diag_destroy(d);
    return rc;
}

/* docs --settings: the README's blocks, from the settings table. */
static int docs_settings(void)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    gw_settings_markdown(&b);
    fputs(gw_buf_str(&b), stdout);
    gw_buf_fini(&b);
    return 0;
}

static int docs(const struct gw_config *cfg, const struct cli *cli)
{
    if (cli->settings) {
        return cli->n_args ? usage_error("docs --settings takes no file%s", "") : docs_settings();
    }
    if (cli->n_args != 1) {
        return usage_error("docs takes one rules file%s", "");
    }
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = gw_runtime_rules(cfg, cli->args, 1, d);
    gw_diag_print(d, stderr);
    gw_diag_destroy(d);
    if (rs == NULL) {
        return 1;
    }
    for (size_t i = 0; i < gw_ruleset_count(rs); i++) {
        char *md = gw_source_docs(gw_ruleset_at(rs, i));
        fputs(md, stdout);
        free(md);
    }
    gw_ruleset_destroy(rs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("sourcegate %s\n", GW_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                     strcmp(argv[1], "help") == 0)) {
        struct gw_buf b;
        gw_buf_init(&b, 1u << 20);
        gw_settings_help(&b);
        fputs(usage, stdout);
        fputs(gw_buf_str(&b), stdout);
        gw_buf_fini(&b);
        return 0;
    }
    struct cli cli = {0};
    const char *flagv[2 * 256];
    size_t flagn = 0;
    int rc = parse_args(argc, argv, &cli, flagv, &flagn);
    struct gw_config cfg = {0};
    struct gw_cmdline cl = {.config = cli.config, .flagv = flagv, .flagn = flagn};
    if (rc == 0 && strcmp(cli.command, "serve") == 0) {
        rc = cli.n_args ? usage_error("serve takes no argument '%s'", cli.args[0]) : serve(&cl);
    } else if (rc == 0 && strcmp(cli.command, "replay") == 0) {
        rc = replay(&cl, &cli);
    } else if (rc == 0) {
        struct gw_diag *d = gw_diag_create();
        rc = gw_runtime_config(&cfg, &cl, d);
        gw_diag_print(d, stderr);
        gw_diag_destroy(d);
    }
    if (rc == 0 && strcmp(cli.command, "serve") != 0 && strcmp(cli.command, "replay") != 0) {
        if (strcmp(cli.command, "check") == 0) {
            rc = check(&cfg, &cli);
        } else if (strcmp(cli.command, "lint") == 0) {
            rc = lint(&cfg, &cli);
        } else if (strcmp(cli.command, "docs") == 0) {
            rc = docs(&cfg, &cli);
        } else if (strcmp(cli.command, "spool") == 0) {
            rc = spool_cmd(&cfg, &cli);
        } else {
            rc = usage_error("unknown command '%s'", cli.command);
        }
    }
    for (size_t i = 0; i < flagn; i += 2) {
        free((char *)flagv[i]);
    }
    gw_config_fini(&cfg);
    return rc;
}
