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

static int run_replay(const char *config, char **out, char **err)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"replay", "--dead-letters", "--endpoint", mock_upstream_endpoint(mock),
                          "--spool", spool_dir, "--rules", rules,
                          config ? "--config" : NULL, config, NULL};
    int st = gwt_run(argv, out, err);
    free(rules);
    return st;
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
    cr_expect_eq(run_replay(conf_path, &out, &err), 0, "%s", err);
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
