/* test_ops.c -- running it like production: /metrics after known traffic,
 * the JSON access log with trusted X-Forwarded-For, SIGHUP reloads without
 * a dropped request, a broken rules file refused.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"
#include "metrics.h"
#include "mock_upstream.h"

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

/* The value of one sample line of a metrics page, or -1. */
static double sample(const char *page, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = page; line && *line;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            return strtod(line + n + 1, NULL);
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return -1;
}

Test(ops, metrics_count_known_traffic, .timeout = 60)
{
    struct mock_upstream *up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .write_key = "wk_m"};
    mock_upstream_push_reply(up, (struct mock_reply){.status = 500});
    struct gwt_gateway *gw = gwt_gateway_start(&o);
    char *good = gwt_read("sendgrid/email_events.user_id.json", NULL);
    char *bad = gwt_read("sendgrid/batch.all_events.json", NULL);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(http_request("POST", url, json_ct, good, strlen(good), &r), 200);
        http_resp_fini(&r);
    }
    cr_assert_eq(http_request("POST", url, json_ct, bad, strlen(bad), &r), 422);
    http_resp_fini(&r);
    char *nosuch = gwt_url(gw, "/webhooks/nosuch");
    cr_assert_eq(http_request("POST", nosuch, json_ct, "[]", 2, &r), 404);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 14, 10000));
    char *murl = gwt_url(gw, "/metrics");
    /* the relay counts a batch once the stand-in answered it: poll */
    char *page = NULL;
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(http_request("GET", murl, NULL, NULL, 0, &r), 200);
        free(page);
        page = gw_strdup(r.body);
        http_resp_fini(&r);
        if (sample(page, "sourcegate_relayed_total") == 14) {
            break;
        }
        usleep(50000);
    }
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"sendgrid\",status=\"200\"}"), 2,
                 "%s", page);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"sendgrid\",status=\"422\"}"), 1);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"unknown\",status=\"404\"}"), 1);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"sendgrid\",outcome=\"accepted\"}"),
                 14);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"sendgrid\",outcome=\"ignored\"}"),
                 2 + 0);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"sendgrid\",outcome=\"rejected\"}"),
                 7);
    cr_expect_eq(sample(page, "sourcegate_violations_total{rule=\"required\"}"), 7);
    cr_expect_eq(sample(page, "sourcegate_request_duration_seconds_count"), 4);
    cr_expect_eq(sample(page, "sourcegate_relayed_total"), 14);
    cr_expect_eq(sample(page, "sourcegate_relay_requests_total{status=\"500\"}"), 1, "%s", page);
    cr_expect_eq(sample(page, "sourcegate_relay_retries_total"), 1);
    cr_expect_eq(sample(page, "sourcegate_spool_calls"), 0);
    cr_expect_eq(sample(page, "sourcegate_dead_letters_total"), 0);
    cr_expect_null(strstr(page, "wk_m"), "no write key in a label");
    cr_expect_null(strstr(page, "user-1001"), "no user id in a label");
    free(page);
    free(murl);
    free(nosuch);
    free(url);
    free(good);
    free(bad);
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

/* Fetches the metrics page until series reads want (the relay counts a
 * batch once the stand-in answered it); returns the last page (new). */
static char *metrics_when(struct gwt_gateway *gw, const char *series, double want)
{
    char *murl = gwt_url(gw, "/metrics");
    char *page = NULL;
    struct http_resp r;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(http_request("GET", murl, NULL, NULL, 0, &r), 200);
        free(page);
        page = gw_strdup(r.body);
        http_resp_fini(&r);
        if (sample(page, series) == want) {
            break;
        }
        usleep(50000);
    }
    free(murl);
    return page;
}

/* Calls in the batch of the stand-in's request i. */
static size_t batch_calls(struct mock_upstream *up, size_t i)
{
    struct mock_request *req = mock_upstream_request(up, i);
    cr_assert_not_null(req);
    json_object *root = json_tokener_parse(req->body);
    json_object *batch = NULL;
    cr_assert(json_object_object_get_ex(root, "batch", &batch), "%s", req->body);
    size_t n = json_object_array_length(batch);
    json_object_put(root);
    mock_request_free(req);
    return n;
}

Test(ops, relay_histograms_count_requests_and_calls, .timeout = 60)
{
    struct mock_upstream *up = mock_upstream_start();
    cr_assert_not_null(up);
    /* Two requests of 7 calls, one batch each (flush_ms gathers each
     * request's calls); the first batch fails once and is sent again. */
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .write_key = "wk_h"};
    mock_upstream_push_reply(up, (struct mock_reply){.status = 500});
    struct gwt_gateway *gw = gwt_gateway_start(&o);
    char *good = gwt_read("sendgrid/email_events.user_id.json", NULL);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(http_request("POST", url, json_ct, good, strlen(good), &r), 200);
        http_resp_fini(&r);
        cr_assert(mock_upstream_wait_calls(up, 7 * (size_t)(i + 1), 10000));
    }
    char *page = metrics_when(gw, "sourcegate_relayed_total", 14);
    size_t requests = mock_upstream_count(up);
    size_t calls = 0;
    for (size_t i = 0; i < requests; i++) {
        calls += batch_calls(up, i);
    }
    cr_assert_geq(requests, 3, "a retry and two batches at least");
    cr_expect_eq(calls, 14 + batch_calls(up, 0), "the failed batch counts twice");
    cr_expect_eq(sample(page, "sourcegate_relay_duration_seconds_count"), (double)requests, "%s",
                 page);
    cr_expect_eq(sample(page, "sourcegate_relay_duration_seconds_bucket{le=\"+Inf\"}"),
                 (double)requests);
    cr_expect_gt(sample(page, "sourcegate_relay_duration_seconds_sum"), 0);
    cr_expect_eq(sample(page, "sourcegate_batch_calls_count"), (double)requests);
    cr_expect_eq(sample(page, "sourcegate_batch_calls_sum"), (double)calls);
    /* Every batch here is under 25 calls and over 5. */
    cr_expect_eq(sample(page, "sourcegate_batch_calls_bucket{le=\"5\"}"), 0);
    cr_expect_eq(sample(page, "sourcegate_batch_calls_bucket{le=\"25\"}"), (double)requests);
    cr_expect_eq(sample(page, "sourcegate_relay_requests_total{status=\"500\"}"), 1);
    cr_expect_eq(sample(page, "sourcegate_relay_requests_total{status=\"done\"}"),
                 (double)requests - 1);
    cr_expect_eq(sample(page, "sourcegate_spool_failures_total{cause=\"full\"}"), 0);
    free(page);
    free(url);
    free(good);
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

#define COUNTERS 4
#define COUNTS 20000

static void *count_requests(void *arg)
{
    (void)arg;
    unsigned slot = gw_metrics_source("stripe");
    for (int i = 0; i < COUNTS; i++) {
        gw_metrics_request_at(slot, 200, 0.001);
        gw_metrics_request("github", NULL, i % 2 == 0 ? 200 : 401, 0.002);
        gw_metrics_events("github", 2, 1, 0);
        gw_metrics_violation("required");
    }
    return NULL;
}

Test(ops, metrics_exact_under_threads_and_labels_bounded, .timeout = 60)
{
    gw_metrics_reset();
    /* As at load: the sources resolved first. */
    cr_assert_eq(gw_metrics_source("stripe"), 0);
    cr_assert_eq(gw_metrics_source("github"), 1);
    cr_assert_eq(gw_metrics_source("stripe"), 0);
    pthread_t t[COUNTERS];
    for (int i = 0; i < COUNTERS; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, count_requests, NULL), 0);
    }
    /* Meanwhile, more names than the table holds, and names no label may
     * carry: they count as "unknown". */
    char name[32];
    for (int i = 0; i < GW_METRICS_MAX_NAMES + 6; i++) {
        snprintf(name, sizeof(name), "src-%d", i);
        gw_metrics_request(name, NULL, 404, 0.01);
    }
    gw_metrics_request("Bad\"Name", NULL, 404, 0.01);
    gw_metrics_request(NULL, NULL, 404, 0.01);
    gw_metrics_request(NULL, "batch", 200, 0.01);
    for (int i = 0; i < COUNTERS; i++) {
        pthread_join(t[i], NULL);
    }
    char *page = gw_metrics_render(NULL);
    double n = COUNTERS * COUNTS;
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"stripe\",status=\"200\"}"), n,
                 "%s", page);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"github\",status=\"200\"}"),
                 n / 2);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"github\",status=\"401\"}"),
                 n / 2);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"github\",outcome=\"accepted\"}"),
                 2 * n);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"github\",outcome=\"ignored\"}"),
                 n);
    cr_expect_eq(sample(page, "sourcegate_events_total{source=\"github\",outcome=\"rejected\"}"),
                 -1, "a series never counted is not shown");
    cr_expect_eq(sample(page, "sourcegate_violations_total{rule=\"required\"}"), n);
    cr_expect_eq(sample(page, "sourcegate_request_duration_seconds_count"),
                 2 * n + GW_METRICS_MAX_NAMES + 6 + 3);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"api\",endpoint=\"batch\","
                              "status=\"200\"}"),
                 1);
    /* 64 names fit, "stripe" and "github" first: src-0 to src-61. */
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"src-0\",status=\"404\"}"), 1);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"src-61\",status=\"404\"}"), 1);
    cr_expect_eq(sample(page, "sourcegate_requests_total{source=\"unknown\",status=\"404\"}"),
                 8 + 2, "src-62 to src-69, the bad name and NULL");
    cr_expect_null(strstr(page, "Bad"), "a name that is not a slug makes no label");
    cr_expect_null(strstr(page, "src-69"), "past the table, no new label");
    cr_expect_null(strstr(page, "sourcegate_relayed_total"), "no relay, no relay figures");
    free(page);
}

/* ---- the real binary ---- */

static struct gwt_proc proc;
static char rules_dir[64];
static char conf_path[128];

static void cleanup(void)
{
    if (proc.pid > 0) {
        gwt_proc_stop(&proc, SIGKILL, 5000);
    }
    if (proc.log[0] != '\0') {
        unlink(proc.log);
    }
    if (rules_dir[0] != '\0') {
        char *cmd = gw_asprintf("rm -rf %s", rules_dir);
        cr_expect_eq(system(cmd), 0);
        free(cmd);
    }
    if (conf_path[0] != '\0') {
        unlink(conf_path);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A private copy of the shipped SendGrid rules, and a configuration that
 * trusts 127.0.0.1 as a proxy; the daemon started on them in dry run. */
static void start_daemon(void)
{
    snprintf(rules_dir, sizeof(rules_dir), "/tmp/gwtest-rules-XXXXXX");
    cr_assert_not_null(mkdtemp(rules_dir));
    char *rules = gwt_read_root("rules/sendgrid.yaml", NULL);
    char *path = gw_asprintf("%s/sendgrid.yaml", rules_dir);
    write_file(path, rules);
    snprintf(conf_path, sizeof(conf_path), "%s.yaml", rules_dir);
    char *conf = gw_asprintf("rules: %s\ntrusted_proxies: [127.0.0.0/8]\n", rules_dir);
    write_file(conf_path, conf);
    const char *argv[] = {"serve", "--dry-run", "--listen", "127.0.0.1:0", "--config", conf_path,
                          NULL};
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    free(conf);
    free(path);
    free(rules);
}

struct load {
    unsigned port;
    atomic_bool stop;
    atomic_uint sent, failed;
};

static void *post_loop(void *arg)
{
    struct load *l = arg;
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid", l->port);
    /* bounded: stops on the flag or after 20,000 requests */
    for (unsigned i = 0; i < 20000 && !atomic_load(&l->stop); i++) {
        struct http_resp r;
        long st = http_request("POST", url, json_ct, open, strlen(open), &r);
        atomic_fetch_add(&l->sent, 1);
        if (st != 200) {
            atomic_fetch_add(&l->failed, 1);
        }
        http_resp_fini(&r);
    }
    free(url);
    free(open);
    return NULL;
}

static char *event_name(unsigned port)
{
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid", port);
    struct http_resp r;
    long st = http_request("POST", url, json_ct, open, strlen(open), &r);
    cr_expect_eq(st, 200, "a request during reloads answered %ld: %s", st, r.body);
    json_object *events = json_object_object_get(r.json, "events");
    json_object *ev = json_object_is_type(events, json_type_array)
                          ? json_object_array_get_idx(events, 0)
                          : NULL;
    char *name = gw_strdup(ev ? json_object_get_string(json_object_object_get(ev, "event")) : "");
    http_resp_fini(&r);
    free(url);
    free(open);
    return name;
}

static bool wait_event_name(unsigned port, const char *want)
{
    for (int i = 0; i < 100; i++) {
        char *got = event_name(port);
        bool ok = strcmp(got, want) == 0;
        free(got);
        if (ok) {
            return true;
        }
        usleep(50000);
    }
    return false;
}

Test(ops, sighup_reloads_without_dropping_and_refuses_broken_rules, .fini = cleanup,
     .timeout = 60)
{
    start_daemon();
    struct load l = {.port = proc.port};
    pthread_t t;
    pthread_create(&t, NULL, post_loop, &l);
    cr_assert(wait_event_name(proc.port, "Email Opened"));

    char *path = gw_asprintf("%s/sendgrid.yaml", rules_dir);
    char *rules = gwt_read_root("rules/sendgrid.yaml", NULL);
    char *changed = gw_strdup(rules);
    char *at = strstr(changed, "track: Email Opened");
    cr_assert_not_null(at);
    memcpy(at, "track: Email Viewed", 19);
    write_file(path, changed);
    kill(proc.pid, SIGHUP);
    cr_expect(wait_event_name(proc.port, "Email Viewed"), "the changed rule took effect");

    char *broken = gw_asprintf("%scolour: red\n", changed);
    write_file(path, broken);
    kill(proc.pid, SIGHUP);
    unsigned line = 1;
    for (const char *c = changed; *c; c++) {
        line += *c == '\n';
    }
    char *diag = gw_asprintf("sendgrid.yaml:%u:1: error: unknown key 'colour'", line);
    bool refused = false;
    for (int i = 0; i < 100 && !refused; i++) {
        char *log = gwt_proc_log(&proc);
        refused = strstr(log, "refused; the old ones keep serving") != NULL &&
                  strstr(log, diag) != NULL;
        free(log);
        usleep(50000);
    }
    cr_expect(refused, "the broken file is refused with its diagnostic %s", diag);
    free(diag);
    char *name = event_name(proc.port);
    cr_expect_str_eq(name, "Email Viewed", "the old (reloaded) rules keep serving");
    free(name);

    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    cr_expect_gt(atomic_load(&l.sent), 10);
    cr_expect_eq(atomic_load(&l.failed), 0, "%u of %u requests failed during reloads",
                 atomic_load(&l.failed), atomic_load(&l.sent));
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    free(broken);
    free(changed);
    free(rules);
    free(path);
}

Test(ops, access_log_lines_and_trusted_forwarded_for, .fini = cleanup, .timeout = 60)
{
    start_daemon();
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid", proc.port);
    static const char *const hdrs[] = {"Content-Type: application/json",
                                       "X-Request-Id: req-42",
                                       "X-Forwarded-For: 203.0.113.7, 127.0.0.9", NULL};
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, hdrs, open, strlen(open), &r), 200);
    http_resp_fini(&r);
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    char *log = gwt_proc_log(&proc);
    const char *line = strstr(log, "\"request_id\":\"req-42\"");
    cr_assert_not_null(line, "%s", log);
    while (line > log && line[-1] != '\n') {
        line--;
    }
    char *one = gw_strndup(line, strcspn(line, "\n"));
    json_object *o = json_tokener_parse(one);
    cr_assert_not_null(o, "not JSON: %s", one);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "module")), "access");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "source")), "sendgrid");
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "status")), 200);
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "events")), 1);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "client")), "203.0.113.7",
                     "the nearest untrusted hop of X-Forwarded-For");
    cr_expect_not_null(json_object_object_get(o, "duration_ms"));
    cr_expect_null(strstr(log, "user-1001"), "no user id in the log");
    json_object_put(o);
    free(one);
    free(log);
    free(url);
    free(open);
}
