/* test_e2e_spool.c -- "acknowledged means delivered": the real binary on a
 * spool directory against the Segment stand-in, through outages, 429s, a
 * hang, kill -9, a request budget, a refused call and a full spool.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "spool/spool.h"
#include "runner_lsan.h"

#define WAIT_MS 60000          /* generous: a loaded 2-core machine */
#define RELAY_TIMEOUT_MS 2000 /* the relay's request timeout: --upstream-timeout 2 */

static struct mock_upstream *mock;
static struct gwt_proc proc;
static char spool_dir[64];
static json_object *acked; /* messageId -> true, for every 200 */
static pthread_mutex_t acked_lock = PTHREAD_MUTEX_INITIALIZER;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-e2espool-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir), "mkdtemp: %s", strerror(errno));
    mock = mock_upstream_start();
    cr_assert_not_null(mock, "the stand-in did not start");
    acked = json_object_new_object();
}

/* Runs even when an assertion failed: no daemon, file or port is left. */
static void teardown(void)
{
    if (proc.pid > 0) {
        gwt_proc_stop(&proc, SIGKILL, 5000);
    }
    if (proc.log[0] != '\0') {
        unlink(proc.log);
        proc.log[0] = '\0';
    }
    nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    mock_upstream_stop(mock);
    mock = NULL;
    json_object_put(acked);
    acked = NULL;
}

TestSuite(integration, .init = setup, .fini = teardown, .timeout = 150);

/* ---- the daemon ---- */

/* Starts the binary on the test's spool; extra is NULL-terminated. */
static void start_daemon(const char *const *extra)
{
    char *rules = gwt_root_path("rules");
    const char *argv[32] = {
        "serve",   "--listen", "127.0.0.1:0", "--endpoint", mock_upstream_endpoint(mock),
        "--spool", spool_dir,  "--rules",     rules, "--upstream-timeout", "2"};
    size_t n = 11;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 30; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    if (proc.log[0] != '\0') {
        unlink(proc.log);
    }
    bool ok = gwt_proc_start(&proc, argv);
    char *log = gwt_proc_log(&proc);
    cr_assert(ok, "the daemon did not start:\n%s", log);
    free(log);
    free(rules);
}

/* ---- SendGrid bodies with distinct events ---- */

/* Returns new: a SendGrid body of n open events, sg_event_id tag-NNNNNN
 * from first on; each maps to one call, messageId "sendgrid-<id>". */
static char *open_events(const char *tag, int first, int n)
{
    char *tmpl = gwt_read("sendgrid/open.user_id.json", NULL);
    json_object *arr = json_tokener_parse(tmpl);
    free(tmpl);
    json_object *ev = json_object_array_get_idx(arr, 0);
    json_object *out = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *copy = NULL;
        cr_assert_eq(json_object_deep_copy(ev, &copy, NULL), 0);
        char id[64];
        snprintf(id, sizeof(id), "%s-%06d", tag, first + i);
        json_object_object_add(copy, "sg_event_id", json_object_new_string(id));
        json_object_array_add(out, copy);
    }
    char *body = gw_strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    json_object_put(arr);
    return body;
}

static void note_acked(const char *tag, int first, int n)
{
    pthread_mutex_lock(&acked_lock);
    for (int i = 0; i < n; i++) {
        char id[80];
        snprintf(id, sizeof(id), "sendgrid-%s-%06d", tag, first + i);
        json_object_object_add(acked, id, json_object_new_boolean(1));
    }
    pthread_mutex_unlock(&acked_lock);
}

/* Posts n events with write key key; notes them when acknowledged.
 * Returns the status (0: no answer); r (may be NULL) gets the answer. */
static long post_events(const char *key, const char *tag, int first, int n, struct http_resp *r)
{
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    char *body = open_events(tag, first, n);
    char *url = gw_asprintf("http://%s@127.0.0.1:%u/webhooks/sendgrid", key, proc.port);
    struct http_resp mine;
    struct http_resp *resp = r != NULL ? r : &mine;
    long st = http_request("POST", url, ct, body, strlen(body), resp);
    if (st == 200) {
        note_acked(tag, first, n);
    }
    if (r == NULL) {
        http_resp_fini(&mine);
    }
    free(url);
    free(body);
    return st;
}

static size_t acked_count(void)
{
    pthread_mutex_lock(&acked_lock);
    size_t n = (size_t)json_object_object_length(acked);
    pthread_mutex_unlock(&acked_lock);
    return n;
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- what the stand-in took ---- */

/* Returns new: messageId -> times the stand-in accepted it; *total (may be
 * NULL) gets the number of calls it accepted. */
static json_object *arrivals(size_t *total)
{
    json_object *calls = mock_upstream_accepted_calls(mock);
    if (total != NULL) {
        *total = json_object_array_length(calls);
    }
    json_object *seen = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *id = NULL;
        json_object_object_get_ex(json_object_array_get_idx(calls, i), "messageId", &id);
        const char *mid = json_object_get_string(id);
        json_object *count = NULL;
        int prev = json_object_object_get_ex(seen, mid, &count) ? json_object_get_int(count) : 0;
        json_object_object_add(seen, mid, json_object_new_int(prev + 1));
    }
    json_object_put(calls);
    return seen;
}

/* Returns how many acknowledged messageIds have not arrived yet. */
static size_t missing(json_object *seen)
{
    size_t n = 0;
    pthread_mutex_lock(&acked_lock);
    json_object_object_foreach(acked, key, val)
    {
        (void)val;
        n += !json_object_object_get_ex(seen, key, NULL);
    }
    pthread_mutex_unlock(&acked_lock);
    return n;
}

/* Waits until every acknowledged messageId arrived at least once; returns
 * new: the arrivals. */
static json_object *wait_all_arrived(unsigned timeout_ms)
{
    int64_t until = mock_now_ms() + timeout_ms;
    for (;;) {
        size_t total = 0;
        json_object *seen = arrivals(&total);
        size_t left = missing(seen);
        if (left == 0) {
            return seen;
        }
        json_object_put(seen);
        cr_assert_lt(mock_now_ms(), until, "%zu of %zu acknowledged events never arrived", left,
                     acked_count());
        /* Wait for the next accepted batch rather than spin. */
        mock_upstream_wait_calls(mock, total + 1, 500);
    }
}

/* Returns how many acknowledged messageIds arrived more than once. */
static size_t duplicates(json_object *seen)
{
    size_t dup = 0;
    json_object_object_foreach(seen, key, val)
    {
        (void)key;
        dup += json_object_get_int(val) > 1;
    }
    return dup;
}

/* ---- 1. outage, 429 storm, hang, recovery ---- */

/* The stand-in's script, one reply per request, then 200. */
static const struct mock_reply script[] = {
    {.status = 500},
    {.status = 500},
    {.status = 503},
    {.status = 429, .retry_after = "2"},
    {.status = 429, .retry_after = "1"},
    {.delay_ms = RELAY_TIMEOUT_MS + 5000}, /* hangs past the relay's timeout */
};
#define SCRIPTED (sizeof(script) / sizeof(script[0]))

/* The seconds a 429 of the script asked to wait, or 0. */
static int64_t retry_after_of(size_t i)
{
    return i < SCRIPTED && script[i].retry_after != NULL ? strtol(script[i].retry_after, NULL, 10)
                                                         : 0;
}

Test(integration, outage_429_hang_then_recovery_delivers_every_acknowledged_event)
{
    for (size_t i = 0; i < SCRIPTED; i++) {
        mock_upstream_push_reply(mock, script[i]);
    }
    start_daemon(NULL);
    /* A partner keeps sending through all of it: 20 webhooks a second
     * until the stand-in has played its script and accepted a batch. */
    int sent = 0;
    int64_t until = mock_now_ms() + WAIT_MS;
    while (mock_upstream_count(mock) <= SCRIPTED || mock_upstream_wait_calls(mock, 1, 0) == false) {
        cr_assert_lt(mock_now_ms(), until, "the stand-in saw %zu requests",
                     mock_upstream_count(mock));
        cr_assert_eq(post_events("wk_outage", "outage", sent, 3, NULL), 200,
                     "the spool takes everything while Segment is down");
        sent += 3;
        pause_ms(50);
    }
    for (int i = 0; i < 5; i++, sent += 3) {
        cr_assert_eq(post_events("wk_outage", "outage", sent, 3, NULL), 200);
    }
    json_object *seen = wait_all_arrived(WAIT_MS);
    cr_log_info("outage: %zu acknowledged, %zu duplicates", acked_count(), duplicates(seen));
    json_object_put(seen);
    /* Nothing arrives before a Retry-After has passed. */
    for (size_t i = 0; i + 1 < mock_upstream_count(mock) && i < SCRIPTED; i++) {
        struct mock_request *a = mock_upstream_request(mock, i);
        struct mock_request *b = mock_upstream_request(mock, i + 1);
        int64_t gap = b->at_ms - a->at_ms;
        cr_assert_geq(gap, retry_after_of(i) * 1000,
                      "request %zu came %lld ms after a 429 "
                      "with Retry-After %lld",
                      i + 1, (long long)gap, (long long)retry_after_of(i));
        if (script[i].delay_ms > 0) {
            cr_assert_geq(gap, RELAY_TIMEOUT_MS - 100, "the hang was cut after %lld ms",
                          (long long)gap);
        }
        mock_request_free(a);
        mock_request_free(b);
    }
}

/* ---- 2. kill -9 under load ---- */

struct load {
    atomic_bool stop;
    char tag[16]; /* of its events' ids */
    int sent;   /* events posted */
    int failed; /* posts without a 200 (the daemon died under them) */
};

static void *post_until_stopped(void *arg)
{
    struct load *l = arg;
    while (!atomic_load(&l->stop)) {
        if (post_events("wk_crash", l->tag, l->sent, 5, NULL) != 200) {
            l->failed++;
            pause_ms(20); /* the daemon is gone: do not spin */
        }
        l->sent += 5;
    }
    return NULL;
}

/* Returns new: messageId -> index of the request that carried it, for
 * the first n requests the stand-in received. */
static json_object *carriers(size_t n)
{
    json_object *by_id = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        struct mock_request *r = mock_upstream_request(mock, i);
        json_object *root = json_tokener_parse(r->body);
        json_object *batch = json_object_object_get(root, "batch");
        for (size_t j = 0; j < json_object_array_length(batch); j++) {
            json_object *mid =
                json_object_object_get(json_object_array_get_idx(batch, j), "messageId");
            json_object_object_add(by_id, json_object_get_string(mid),
                                   json_object_new_int64((int64_t)i));
        }
        json_object_put(root);
        mock_request_free(r);
    }
    return by_id;
}

/* Returns how many messageIds arrived twice, and checks they all came in
 * one request, among the last two before the kill: the relay has one
 * request in flight, and it deletes a batch from the spool right after
 * its 2xx, so only the batch the kill caught can come again. */
static size_t check_duplicates(json_object *seen, json_object *by_id, size_t before_kill)
{
    size_t dup = 0;
    int64_t carrier = -1;
    json_object_object_foreach(seen, key, val)
    {
        if (json_object_get_int(val) < 2) {
            continue;
        }
        dup++;
        json_object *idx = NULL;
        cr_assert(json_object_object_get_ex(by_id, key, &idx), "%s came twice", key);
        int64_t i = json_object_get_int64(idx);
        cr_assert(carrier < 0 || carrier == i, "duplicates from requests %lld and %lld",
                  (long long)carrier, (long long)i);
        cr_assert_geq(i + 2, (int64_t)before_kill, "request %lld of %zu came again", (long long)i,
                      before_kill);
        carrier = i;
    }
    return dup;
}

#define LOADERS_MAX 4

/* kill -9 while loaders clients post, then a restart on the same spool:
 * every acknowledged event arrives, and only the batch in flight at the
 * kill may come twice. extra: the daemon's flags (NULL-terminated). */
static void kill_9_then_restart(const char *const *extra, int loaders)
{
    /* A slow stand-in keeps batches in flight when the kill lands. */
    mock_upstream_set_default(mock, (struct mock_reply){.delay_ms = 30});
    start_daemon(extra);
    struct load l[LOADERS_MAX];
    pthread_t t[LOADERS_MAX];
    for (int i = 0; i < loaders; i++) {
        l[i] = (struct load){.stop = false};
        snprintf(l[i].tag, sizeof(l[i].tag), "crash%d", i);
        cr_assert_eq(pthread_create(&t[i], NULL, post_until_stopped, &l[i]), 0);
    }
    int64_t until = mock_now_ms() + WAIT_MS;
    while ((acked_count() < 1500 || mock_upstream_count(mock) < 2) && mock_now_ms() < until) {
        pause_ms(20);
    }
    int status = gwt_proc_stop(&proc, SIGKILL, 5000);
    for (int i = 0; i < loaders; i++) {
        atomic_store(&l[i].stop, true);
        pthread_join(t[i], NULL);
    }
    cr_assert_geq(acked_count(), 1500, "only %zu events acknowledged", acked_count());
    cr_assert_eq(status, 128 + SIGKILL);
    size_t before = acked_count();
    size_t requests = mock_upstream_count(mock);
    json_object *by_id = carriers(requests);
    json_object *early = arrivals(NULL);
    size_t pending = missing(early);
    json_object_put(early);
    start_daemon(extra); /* the same spool */
    json_object *seen = wait_all_arrived(WAIT_MS);
    size_t dup = check_duplicates(seen, by_id, requests);
    json_object_put(seen);
    json_object_put(by_id);
    fprintf(stderr,
            "kill -9: %zu events acknowledged, %zu of them not yet delivered at the "
            "kill, %zu delivered twice\n",
            before, pending, dup);
    cr_log_info("kill -9: %zu acknowledged, %zu delivered after the restart, %zu duplicates",
                before, pending, dup);
    cr_assert_gt(pending, 0, "the kill should have caught events in the spool");
}

Test(integration, kill_9_under_load_then_restart_delivers_every_acknowledged_event)
{
    kill_9_then_restart(NULL, 1);
}

/* At fsync a request waits for its commit suspended, and the requests
 * waiting together share the committer's next commit: with one HTTP
 * thread and four clients, a 200 still means on disk. */
Test(integration, kill_9_at_fsync_on_one_thread_loses_no_acknowledged_event)
{
    const char *const fsync_one[] = {"--durability", "fsync", "--threads", "1", NULL};
    kill_9_then_restart(fsync_one, LOADERS_MAX);
}

/* ---- 3. the request budget at the receiver ---- */

Test(integration, max_rps_holds_at_the_receiver_and_batches_stay_in_limits)
{
    start_daemon((const char *const[]){"--max-rps", "5", NULL});
    /* 24 write keys each need their own request every flush: several
     * times the budget; one key's backlog needs batches at the limits. */
    for (int k = 0; k < 24; k++) {
        char key[16];
        snprintf(key, sizeof(key), "wk_%02d", k);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(post_events(key, key, i * 3, 3, NULL), 200);
        }
    }
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(post_events("wk_bulk", "bulk", i * 100, 100, NULL), 200);
    }
    json_object *seen = wait_all_arrived(WAIT_MS);
    json_object_put(seen);
    size_t n = mock_upstream_count(mock);
    cr_assert_geq(n, 24 + 2, "%zu requests", n);
    int64_t *at = gw_calloc(n, sizeof(*at));
    size_t max_calls = 0;
    for (size_t i = 0; i < n; i++) {
        struct mock_request *r = mock_upstream_request(mock, i);
        at[i] = r->at_ms;
        cr_assert_leq(r->body_len, 475000, "request %zu: %zu bytes", i, r->body_len);
        json_object *root = json_tokener_parse(r->body);
        size_t calls = json_object_array_length(json_object_object_get(root, "batch"));
        cr_assert_leq(calls, 2500, "request %zu: %zu calls", i, calls);
        max_calls = calls > max_calls ? calls : max_calls;
        json_object_put(root);
        mock_request_free(r);
    }
    cr_assert_gt(max_calls, 500, "the bulk key's batches were small: %zu calls", max_calls);
    for (size_t i = 0; i + 5 < n; i++) {
        cr_assert_geq(at[i + 5] - at[i], 1000, "requests %zu..%zu arrived within %lld ms", i, i + 5,
                      (long long)(at[i + 5] - at[i]));
    }
    free(at);
}

/* ---- 4. a refused call is isolated into the dead letters ---- */

struct dead_found {
    size_t n;
    struct gw_spool_dead d;
};

static bool on_dead(void *arg, const struct gw_spool_dead *d)
{
    struct dead_found *f = arg;
    if (f->n++ == 0) {
        gw_spool_dead_copy(&f->d, d);
    }
    return true;
}

/* The lead's `sourcegate replay --dead-letters` goes here: resend what the
 * dead letters of spool hold (the refusal cleared at the stand-in) and
 * check that message_id arrives. Until then it only reports. */
static void replay_hook(const char *spool, struct mock_upstream *m, const char *message_id)
{
    (void)m;
    cr_log_info("replay of %s from %s: not wired yet", message_id, spool);
}

Test(integration, refused_call_goes_to_the_dead_letters_the_rest_is_delivered)
{
    mock_upstream_refuse_containing(mock, "\"sendgrid-refuse-000003\"");
    start_daemon(NULL);
    cr_assert_eq(post_events("wk_dead", "refuse", 0, 6, NULL), 200);
    cr_assert(mock_upstream_wait_calls(mock, 5, WAIT_MS));
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0);
    json_object *seen = arrivals(NULL);
    cr_assert_eq(json_object_object_length(seen), 5);
    cr_assert(!json_object_object_get_ex(seen, "sendgrid-refuse-000003", NULL));
    json_object_put(seen);

    struct gw_spool_opts so;
    gw_spool_opts_init(&so);
    so.dir = spool_dir;
    struct gw_spool *spool = NULL;
    char err[256] = "";
    cr_assert_eq(gw_spool_open(&so, &spool, err, sizeof(err)), GW_OK, "%s", err);
    struct dead_found f = {0};
    cr_assert_eq(gw_spool_dead_each(spool, "sendgrid", 0, on_dead, &f), GW_OK);
    uint64_t queued = 1;
    gw_spool_stats(spool, &queued, NULL);
    gw_spool_close(spool);
    cr_assert_eq(f.n, 1, "%zu dead letters", f.n);
    cr_assert_str_eq(f.d.kind, "call");
    cr_assert_eq(f.d.status, 400);
    cr_assert_str_eq(f.d.write_key, "wk_dead");
    cr_assert_str_eq(f.d.endpoint, mock_upstream_endpoint(mock));
    cr_assert_not_null(strstr(f.d.body, "\"sendgrid-refuse-000003\""), "%s", f.d.body);
    cr_assert_not_null(strstr(f.d.reason, "refused by mock"), "%s", f.d.reason);
    cr_assert_eq(queued, 0, "nothing is left queued");
    gw_spool_dead_fini(&f.d);
    mock_upstream_refuse_containing(mock, NULL);
    replay_hook(spool_dir, mock, "sendgrid-refuse-000003");
}

/* ---- 5. a full spool answers 503 until it drains ---- */

Test(integration, full_spool_answers_503_then_200_once_drained)
{
    mock_upstream_set_default(mock, (struct mock_reply){.delay_ms = 120000}); /* hangs */
    /* one key fills it: its share is the whole spool */
    start_daemon(
        (const char *const[]){"--max-spool", "1MiB", "--max-spool-per-key", "1MiB", NULL});
    struct http_resp r;
    long st = 200;
    int first = 0;
    for (; st == 200 && first < 100 * 200; first += 100) {
        st = post_events("wk_full", "full", first, 100, &r);
        if (st == 200) {
            http_resp_fini(&r);
        }
    }
    cr_assert_eq(st, 503, "status %ld after %d events: %s", st, first, r.body);
    char *ra = http_resp_header(&r, "Retry-After");
    cr_assert_not_null(ra, "a 503 says when to come back");
    cr_assert_gt(strtol(ra, NULL, 10), 0, "Retry-After: %s", ra);
    free(ra);
    http_resp_fini(&r);
    size_t full_at = acked_count();
    cr_assert_gt(full_at, 1000, "the spool took %zu events before it was full", full_at);

    /* Segment recovers; the hanging request is cut at the relay's timeout
     * and its retry drains the spool. */
    mock_upstream_set_default(mock, (struct mock_reply){.status = 200});
    int64_t until = mock_now_ms() + WAIT_MS;
    for (int i = 0;; i++) {
        st = post_events("wk_full", "again", i, 1, NULL);
        if (st == 200) {
            break;
        }
        cr_assert_eq(st, 503, "status %ld", st);
        cr_assert_lt(mock_now_ms(), until, "still 503 after the stand-in recovered");
        pause_ms(200);
    }
    json_object *seen = wait_all_arrived(WAIT_MS);
    json_object_put(seen);
}

/* ---- 8. a damaged spool file: named at start, checked, recovered ---- */

static int run_cmd(const char *const *argv, char **out, char **err)
{
    int st = gwt_run(argv, out, err);
    return st;
}

Test(integration, a_damaged_spool_is_named_at_start_checked_and_recovered)
{
    /* Segment is down: every acknowledged call stays in the spool */
    mock_upstream_set_default(mock, (struct mock_reply){.status = 503});
    start_daemon(NULL);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(post_events("wk_damaged", "dmg", i * 50, 50, NULL), 200);
    }
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 30000), 0);
    /* two pages in the middle of the file become noise */
    char *db = gw_asprintf("%s/spool.db", spool_dir);
    FILE *f = fopen(db, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    cr_assert_gt(size, 40 * 4096, "the spool is %ld bytes", size);
    cr_assert_eq(fseek(f, 20 * 4096, SEEK_SET), 0);
    for (int i = 0; i < 2 * 4096; i++) {
        fputc((i * 131 + 7) & 0xff, f);
    }
    fclose(f);

    char *rules = gwt_root_path("rules");
    const char *serve[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                           mock_upstream_endpoint(mock), "--spool", spool_dir, "--rules", rules,
                           NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(run_cmd(serve, &out, &err), 1, "a damaged spool stops the start");
    cr_expect_neq(strstr(err, db), NULL, "the message names the file: %s", err);
    cr_expect_neq(strstr(err, "sourcegate spool check"), NULL, "%s", err);
    cr_expect_neq(strstr(err, "sourcegate spool recover"), NULL, "%s", err);
    cr_expect_null(strstr(err, "not an error"), "%s", err);
    free(out);
    free(err);

    const char *check[] = {"spool", "check", "--spool", spool_dir, "--rules", rules, NULL};
    cr_expect_eq(run_cmd(check, &out, &err), 1);
    cr_expect_neq(strstr(out, "DAMAGED"), NULL, "%s\n%s", out, err);
    free(out);
    free(err);

    const char *recover[] = {"spool", "recover", "--spool", spool_dir, "--rules", rules, NULL};
    cr_expect_eq(run_cmd(recover, &out, &err), 0, "%s", err);
    unsigned long saved = 0;
    const char *at = strstr(out, "saved into a fresh spool: ");
    cr_assert_not_null(at, "%s", out);
    cr_assert_eq(sscanf(at, "saved into a fresh spool: %lu call(s)", &saved), 1);
    cr_expect_gt(saved, 0, "the readable calls were saved: %s", out);
    cr_expect_lt(saved, 1000, "two pages were noise: %s", out);
    cr_expect_neq(strstr(out, "spool.db.damaged-"), NULL, "%s", out);
    free(out);
    free(err);
    cr_expect_eq(run_cmd(check, &out, &err), 0, "%s", out);
    free(out);
    free(err);

    /* the daemon starts on the fresh spool and sends what was saved */
    mock_upstream_set_default(mock, (struct mock_reply){.status = 200});
    start_daemon(NULL);
    cr_assert(mock_upstream_wait_calls(mock, saved, WAIT_MS));
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 30000), 0);
    size_t total = 0;
    json_object *seen = arrivals(&total);
    cr_expect_eq(json_object_object_length(seen), (int)saved, "each saved call once");
    json_object_object_foreach(seen, mid, times)
    {
        cr_expect_eq(json_object_get_int(times), 1, "%s", mid);
        cr_expect_eq(strncmp(mid, "sendgrid-dmg-", 13), 0, "%s", mid);
    }
    json_object_put(seen);
    free(rules);
    free(db);
}
