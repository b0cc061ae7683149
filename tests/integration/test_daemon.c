/* test_daemon.c -- the real sourcegate binary: serve in dry-run mode,
 * signals, and the check / lint commands with their exit statuses.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"

static const char *jstr(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

/* The daemon a test started; .fini stops it even when an assertion failed. */
static struct gwt_proc proc;

static void kill_leftover(void)
{
    if (proc.pid > 0) {
        gwt_proc_stop(&proc, SIGKILL, 5000);
    }
    if (proc.log[0] != '\0') {
        unlink(proc.log);
    }
}

static void serve_dry_run(struct gwt_proc *p)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--dry-run", "--listen", "127.0.0.1:0", "--rules", rules, NULL};
    bool ok = gwt_proc_start(p, argv);
    char *log = gwt_proc_log(p);
    cr_assert(ok, "daemon did not start:\n%s", log);
    free(log);
    free(rules);
}

static void post_open(const struct gwt_proc *p)
{
    /* the README's example request */
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid?dry_run=1", p->port);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, ct, open, strlen(open), &r), 200, "%s", r.body);
    json_object *ev = json_object_array_get_idx(json_object_object_get(r.json, "events"), 0);
    cr_expect_str_eq(jstr(ev, "event"), "Email Opened");
    cr_expect_str_eq(jstr(ev, "type"), "track");
    http_resp_fini(&r);
    free(url);
    free(open);
}

Test(daemon, serves_dry_run_and_stops_on_sigterm, .fini = kill_leftover, .timeout = 30)
{
    serve_dry_run(&proc);
    post_open(&proc);
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    char *log = gwt_proc_log(&proc);
    cr_expect_neq(strstr(log, "SIGTERM: draining"), NULL, "%s", log);
    cr_expect_neq(strstr(log, "\"stopped\""), NULL, "%s", log);
    free(log);
}

Test(daemon, stops_on_sigint, .fini = kill_leftover, .timeout = 30)
{
    serve_dry_run(&proc);
    post_open(&proc);
    cr_expect_eq(gwt_proc_stop(&proc, SIGINT, 15000), 0);
}

Test(daemon, refuses_bad_rules_at_start, .timeout = 30)
{
    char *bad = gwt_data_path("rules/bad");
    const char *argv[] = {"serve", "--dry-run", "--listen", "127.0.0.1:0", "--rules", bad, NULL};
    char *err = NULL;
    cr_expect_eq(gwt_run(argv, NULL, &err), 1);
    cr_expect_neq(strstr(err, "unknown_key.yaml:4:1: error: unknown key 'colour'"), NULL, "%s",
                  err);
    free(err);
    free(bad);
}

static int check(const char *file, char **out)
{
    char *rules = gwt_root_path("rules");
    char *path = gwt_data_path(file);
    const char *argv[] = {"check", "--source", "sendgrid", "--rules", rules, path, NULL};
    int st = gwt_run(argv, out, NULL);
    free(rules);
    free(path);
    return st;
}

Test(daemon, check_reports_and_exits_0_1_2, .timeout = 30)
{
    char *out = NULL;
    cr_expect_eq(check("sendgrid/email_events.user_id.json", &out), 0, "%s", out);
    json_object *rep = json_tokener_parse(out);
    cr_assert_not_null(rep, "%s", out);
    cr_expect(json_object_get_boolean(json_object_object_get(rep, "valid")));
    cr_expect_eq(json_object_array_length(json_object_object_get(rep, "events")), 7);
    cr_expect_eq(json_object_get_int(json_object_object_get(rep, "ignored")), 1);
    json_object_put(rep);
    free(out);

    cr_expect_eq(check("sendgrid/open.json", &out), 1, "%s", out);
    rep = json_tokener_parse(out);
    cr_expect(!json_object_get_boolean(json_object_object_get(rep, "valid")));
    json_object *v0 = json_object_array_get_idx(json_object_object_get(rep, "violations"), 0);
    cr_expect_str_eq(jstr(v0, "field"), "userId");
    json_object_put(rep);
    free(out);

    cr_expect_eq(check("sendgrid/does-not-exist.json", &out), 2);
    free(out);
    const char *argv[] = {"check", "x.json", NULL};
    cr_expect_eq(gwt_run(argv, NULL, NULL), 2, "check without --source is a usage error");
}

Test(daemon, lint_good_and_bad, .timeout = 30)
{
    char *rules = gwt_root_path("rules");
    const char *good[] = {"lint", rules, NULL};
    char *out = NULL;
    cr_expect_eq(gwt_run(good, &out, NULL), 0);
    cr_expect_neq(strstr(out, "OK"), NULL, "%s", out);
    free(out);
    char *bad = gwt_data_path("rules/bad/bad_integration.yaml");
    const char *badv[] = {"lint", bad, NULL};
    char *err = NULL;
    cr_expect_eq(gwt_run(badv, NULL, &err), 1);
    cr_expect_neq(strstr(err, "bad_integration.yaml:2:22: error: integration name 'Acme Corp'"),
                  NULL, "%s", err);
    free(err);
    free(bad);
    free(rules);
}

Test(daemon, version_help_and_usage_errors, .timeout = 30)
{
    char *out = NULL;
    const char *v[] = {"--version", NULL};
    cr_expect_eq(gwt_run(v, &out, NULL), 0);
    cr_expect_eq(strncmp(out, "sourcegate ", 11), 0);
    free(out);
    const char *h[] = {"--help", NULL};
    cr_expect_eq(gwt_run(h, &out, NULL), 0);
    cr_expect_neq(strstr(out, "--dry-run"), NULL);
    free(out);
    const char *bad[] = {"serve", "--no-such-flag", NULL};
    cr_expect_eq(gwt_run(bad, NULL, NULL), 2);
    const char *badv[] = {"serve", "--max-rps", "lots", NULL};
    cr_expect_eq(gwt_run(badv, NULL, NULL), 2);
}

/* Every shipped source renders its page, and the committed page under
 * docs/sources/ is what the rules say today. */
Test(daemon, docs_for_every_shipped_source, .timeout = 60)
{
    char *dir = gwt_root_path("rules");
    DIR *dh = opendir(dir);
    cr_assert_not_null(dh);
    struct dirent *e;
    int pages = 0;
    while ((e = readdir(dh)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0) {
            continue;
        }
        char *rules = gw_asprintf("%s/%s", dir, e->d_name);
        const char *argv[] = {"docs", rules, NULL};
        char *out = NULL;
        cr_expect_eq(gwt_run(argv, &out, NULL), 0, "%s", e->d_name);
        char *title = gw_asprintf("# %.*s source\n", (int)(n - 5), e->d_name);
        cr_expect_eq(strncmp(out, title, strlen(title)), 0, "%s", out);
        cr_expect_neq(strstr(out, "## Events"), NULL);
        char *page = gw_asprintf("docs/sources/%.*s.md", (int)(n - 5), e->d_name);
        char *committed = gwt_read_root(page, NULL);
        cr_expect_str_eq(out, committed, "%s is stale: run sourcegate docs rules/%s > %s", page,
                         e->d_name, page);
        free(committed);
        free(page);
        free(title);
        free(out);
        free(rules);
        pages++;
    }
    closedir(dh);
    free(dir);
    cr_expect_geq(pages, 16);
}

/* Many HTTP threads map with one set of rules at once: a rule's constants,
 * defaults and tables are shared, and json-c counts references without
 * atomics, so each request must get its own copies. Every answer must be
 * the same calls, and the daemon must stop cleanly (ASan in CI sees a
 * use after free; a plain build crashes or corrupts an answer). */
struct hammer {
    unsigned port;
    const char *body;
    const char *want; /* the events of the first answer, as text */
    int bad;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid?dry_run=1", h->port);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    for (int i = 0; i < 150; i++) {
        struct http_resp r;
        long st = http_request("POST", url, ct, h->body, strlen(h->body), &r);
        const char *got = st == 200 ? json_object_to_json_string_ext(
                                          json_object_object_get(r.json, "events"),
                                          JSON_C_TO_STRING_PLAIN)
                                    : "";
        if (strcmp(got, h->want) != 0) {
            h->bad++;
        }
        http_resp_fini(&r);
    }
    free(url);
    return NULL;
}

Test(daemon, many_http_threads_share_the_rules_safely, .fini = kill_leftover, .timeout = 120)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--dry-run", "--listen", "127.0.0.1:0", "--rules", rules,
                          "--threads", "4", NULL};
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    free(rules);
    char *body = gwt_read("sendgrid/email_events.user_id.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid?dry_run=1", proc.port);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp first;
    cr_assert_eq(http_request("POST", url, ct, body, strlen(body), &first), 200);
    json_object *events = json_object_object_get(first.json, "events");
    cr_assert_gt(json_object_array_length(events), 5);
    char *want = gw_strdup(json_object_to_json_string_ext(events, JSON_C_TO_STRING_PLAIN));
    http_resp_fini(&first);
    free(url);

    enum { CLIENTS = 8 };
    struct hammer h[CLIENTS];
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        h[i] = (struct hammer){.port = proc.port, .body = body, .want = want};
        cr_assert(pthread_create(&th[i], NULL, hammer_run, &h[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        bad += h[i].bad;
    }
    cr_expect_eq(bad, 0, "%d of %d answers differ from the first", bad, CLIENTS * 150);
    int status = gwt_proc_stop(&proc, SIGTERM, 20000);
    char *log = gwt_proc_log(&proc);
    size_t len = strlen(log);
    cr_expect_eq(status, 0, "the daemon did not stop cleanly; the end of its log:\n%s",
                 log + (len > 3000 ? len - 3000 : 0));
    free(log);
    free(want);
    free(body);
}

/* Its threads carry names, as `top -H` and `ps -L` show them. */
static bool has_thread(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    bool found = false;
    for (struct dirent *e = readdir(d); e != NULL && !found; e = readdir(d)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char comm[400];
        snprintf(comm, sizeof(comm), "%s/%s/comm", path, e->d_name);
        char text[32] = "";
        FILE *f = fopen(comm, "r");
        if (f != NULL && fgets(text, sizeof(text), f) != NULL) {
            text[strcspn(text, "\n")] = '\0';
            found = strcmp(text, name) == 0;
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    closedir(d);
    return found;
}

Test(daemon, names_its_threads, .fini = kill_leftover, .timeout = 30)
{
    char *rules = gwt_root_path("rules");
    char spool[] = "/tmp/gwtest-threads-XXXXXX";
    cr_assert_not_null(mkdtemp(spool));
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--rules", rules, "--spool", spool,
                          "--endpoint", "http://127.0.0.1:9/v1", NULL};
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    free(rules);
    static const char *const names[] = {"sg-sender", "sg-checkpoint", "sg-log", "sg-sweeper",
                                        "sg-sampler"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cr_expect(has_thread(proc.pid, names[i]), "no thread named %s", names[i]);
    }
    cr_expect(!has_thread(proc.pid, "sg-nothing"));
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    char *cmd = gw_asprintf("rm -rf '%s'", spool);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}
