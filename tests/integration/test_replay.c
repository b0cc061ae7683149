/* test_replay.c -- `sourcegate replay --dead-letters`: a call Segment
 * refused, and a webhook sourcegate refused, are sent again once the cause
 * is gone (the stand-in accepts; the configuration maps a userId).
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "spool/spool.h"

static struct mock_upstream *mock;
static struct gwt_proc proc;
static char spool_dir[64];
static char conf_path[96];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    mock = mock_upstream_start();
    cr_assert_not_null(mock);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-replay-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir));
    snprintf(conf_path, sizeof(conf_path), "%s.yaml", spool_dir);
}

static void teardown(void)
{
    if (proc.pid > 0) {
        gwt_proc_stop(&proc, SIGKILL, 5000);
    }
    if (proc.log[0] != '\0') {
        unlink(proc.log);
    }
    nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    unlink(conf_path);
    mock_upstream_stop(mock);
}

static void start_daemon(void)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(mock), "--spool", spool_dir, "--rules", rules,
                          NULL};
    cr_assert(gwt_proc_start(&proc, argv));
    free(rules);
}

static int run_replay_with(const char *config, const char *flag, char **out, char **err)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"replay", "--dead-letters", "--endpoint", mock_upstream_endpoint(mock),
                          "--spool", spool_dir, "--rules", rules,
                          flag ? flag : "--dead-letters", config ? "--config" : NULL, config,
                          NULL};
    int st = gwt_run(argv, out, err);
    free(rules);
    return st;
}

static int run_replay(const char *config, char **out, char **err)
{
    return run_replay_with(config, NULL, out, err);
}

static long post(const char *body)
{
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    char *url = gw_asprintf("http://wk_replay@127.0.0.1:%u/webhooks/sendgrid", proc.port);
    struct http_resp r;
    long st = http_request("POST", url, ct, body, strlen(body), &r);
    http_resp_fini(&r);
    free(url);
    return st;
}

static bool arrived(const char *message_id)
{
    json_object *calls = mock_upstream_accepted_calls(mock);
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(calls) && !found; i++) {
        json_object *id = json_object_object_get(json_object_array_get_idx(calls, i), "messageId");
        found = strcmp(json_object_get_string(id), message_id) == 0;
    }
    json_object_put(calls);
    return found;
}

Test(replay, a_call_segment_refused_is_delivered_once_accepted, .init = setup,
     .fini = teardown, .timeout = 60)
{
    mock_upstream_refuse_containing(mock, "sendgrid-FOTFFO0ecsBE-zxFXfs6WA==");
    start_daemon();
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    cr_assert_eq(post(open), 200);
    /* refused whole, then alone: two 400s; the call is buried */
    cr_assert(mock_upstream_wait(mock, 1, 10000));
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    cr_assert(!arrived("sendgrid-FOTFFO0ecsBE-zxFXfs6WA=="));

    /* while Segment still refuses it, a replay sends it and it comes back
     * to the dead letters with the answer */
    char *out = NULL, *err = NULL;
    size_t before = mock_upstream_count(mock);
    cr_expect_eq(run_replay(NULL, &out, &err), 0);
    cr_expect_neq(strstr(out, "replayed 1"), NULL, "%s\n%s", out, err);
    cr_expect_neq(strstr(err, "into the dead letters: upstream answered 400"), NULL, "%s", err);
    cr_expect_gt(mock_upstream_count(mock), before);
    cr_expect(!arrived("sendgrid-FOTFFO0ecsBE-zxFXfs6WA=="));
    free(out);
    free(err);
    mock_upstream_refuse_containing(mock, NULL);
    cr_expect_eq(run_replay(NULL, &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "replayed 1, still refused 0"), NULL, "%s\n%s", out, err);
    cr_expect(arrived("sendgrid-FOTFFO0ecsBE-zxFXfs6WA=="), "the replayed call arrived");
    struct mock_request *q = mock_upstream_request(mock, mock_upstream_count(mock) - 1);
    cr_expect_str_eq(q->authorization, "Basic d2tfcmVwbGF5Og=="); /* wk_replay: */
    mock_request_free(q);
    free(out);
    free(err);
    /* nothing left to replay */
    cr_expect_eq(run_replay(NULL, &out, NULL), 0);
    cr_expect_neq(strstr(out, "replayed 0, still refused 0"), NULL, "%s", out);
    free(out);
    free(open);
}

Test(replay, a_refused_webhook_is_delivered_after_a_rules_fix, .init = setup, .fini = teardown,
     .timeout = 60)
{
    start_daemon();
    /* SendGrid's own example has no user_id: 422, kept as a dead letter */
    char *open = gwt_read("sendgrid/open.json", NULL);
    cr_assert_eq(post(open), 422);
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    cr_expect_eq(mock_upstream_count(mock), 0);

    /* the fix: this deployment identifies users by their email */
    FILE *f = fopen(conf_path, "w");
    cr_assert_not_null(f);
    fputs("sources:\n  sendgrid:\n    user_id: [user_id, email]\n", f);
    fclose(f);
    char *out = NULL, *err = NULL;
    /* sendgrid has no secret here: the request was kept unverified, and
     * goes again only when the operator says so */
    cr_expect_eq(run_replay(conf_path, &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "replayed 0, still refused 0, unverified kept 1"), NULL, "%s\n%s",
                  out, err);
    cr_expect_neq(strstr(err, "--include-unverified"), NULL, "%s", err);
    cr_expect_eq(mock_upstream_count(mock), 0);
    free(out);
    free(err);
    cr_expect_eq(run_replay_with(conf_path, "--include-unverified", &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "replayed 1, still refused 0"), NULL, "%s\n%s", out, err);
    cr_assert(mock_upstream_wait_calls(mock, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(mock);
    json_object *c = json_object_array_get_idx(calls, 0);
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "userId")),
                     "alex@example.com");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "event")), "Email Opened");
    json_object_put(calls);
    free(out);
    free(err);
    free(open);
}

/* ---- only verified requests are kept ---- */

struct dead_seen {
    size_t n;
    struct gw_spool_dead d;
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead_seen *f = arg;
    if (f->n++ == 0) {
        gw_spool_dead_copy(&f->d, d);
    }
    return true;
}

/* The dead letters of the spool (the daemon stopped): their number, and a
 * copy of the first in *first (fini it) when there is one. */
static size_t dead_letters(struct gw_spool_dead *first)
{
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = spool_dir;
    struct gw_spool *sp = NULL;
    char why[256];
    cr_assert_eq(gw_spool_open(&o, &sp, why, sizeof(why)), GW_OK, "%s", why);
    struct dead_seen f = {0};
    cr_assert_eq(gw_spool_dead_each(sp, NULL, 0, on_dead, &f), GW_OK);
    gw_spool_close(sp);
    if (f.n > 0) {
        *first = f.d;
    }
    return f.n;
}

static void write_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void start_daemon_conf(void)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(mock), "--spool", spool_dir, "--rules", rules,
                          "--config", conf_path, NULL};
    cr_assert(gwt_proc_start(&proc, argv));
    free(rules);
}

static long post_github(const char *body, const char *signature)
{
    char sig[128];
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: %s", signature);
    const char *hdrs[] = {"Content-Type: application/json", "X-GitHub-Event: push",
                          "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958", sig, NULL};
    char *url = gw_asprintf("http://wk_replay@127.0.0.1:%u/webhooks/github", proc.port);
    struct http_resp r;
    long st = http_request("POST", url, hdrs, body, strlen(body), &r);
    http_resp_fini(&r);
    free(url);
    return st;
}

#define FORGED_SIG "sha256=0000000000000000000000000000000000000000000000000000000000000000"
#define GITHUB_SECRET "sources:\n  github:\n    secret: \"It's a Secret to Everybody\"\n"

Test(replay, a_forged_body_to_a_source_with_a_secret_is_never_kept, .init = setup,
     .fini = teardown, .timeout = 60)
{
    write_conf(GITHUB_SECRET);
    start_daemon_conf();
    /* undecodable and refusable bodies alike: the signature comes first */
    cr_expect_eq(post_github("{\"zen\": broken", FORGED_SIG), 401);
    cr_expect_eq(post_github("{\"zen\":\"x\",\"hook_id\":1}", FORGED_SIG), 401);
    cr_expect_eq(post_github("[]", "none"), 401);
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    struct gw_spool_dead d;
    cr_expect_eq(dead_letters(&d), 0, "a forged request was kept");
    char *out = NULL, *err = NULL;
    cr_expect_eq(run_replay_with(conf_path, "--include-unverified", &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "replayed 0, still refused 0, unverified kept 0"), NULL, "%s", out);
    cr_expect_eq(mock_upstream_count(mock), 0, "nothing reached Segment");
    free(out);
    free(err);
}

Test(replay, an_unsigned_request_is_kept_unverified_and_not_replayed_once_a_secret_is_set,
     .init = setup, .fini = teardown, .timeout = 60)
{
    write_conf("sources:\n  github: {}\n");
    start_daemon_conf();
    cr_expect_eq(post_github("{\"zen\": broken", "none"), 400);
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    struct gw_spool_dead d = {0};
    cr_assert_eq(dead_letters(&d), 1);
    cr_expect_str_eq(d.kind, "request");
    cr_expect(d.unverified, "kept without a signature check: marked unverified");
    cr_expect(!d.verified);
    gw_spool_dead_fini(&d);

    /* the source now has a secret: even with the flag, a body nobody
     * signed does not go as the partner's */
    write_conf(GITHUB_SECRET);
    char *out = NULL, *err = NULL;
    cr_expect_eq(run_replay_with(conf_path, "--include-unverified", &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "replayed 0, still refused 0, unverified kept 1"), NULL, "%s", out);
    cr_expect_neq(strstr(err, "now checks signatures"), NULL, "%s", err);
    cr_expect_eq(mock_upstream_count(mock), 0, "nothing reached Segment");
    cr_expect_eq(dead_letters(&d), 1, "the dead letter is kept");
    gw_spool_dead_fini(&d);
    free(out);
    free(err);
}
