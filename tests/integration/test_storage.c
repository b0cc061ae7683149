/* test_storage.c -- what the daemon keeps and what leaves it, against the
 * real binary and the Segment stand-in: invalid UTF-8 and numbers outside
 * the JSON grammar are refused before anything is kept or sent; Segment's
 * 401/403/404 dead-letter the calls with an error and a metric that name
 * the key's fingerprint, never the key.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "spool/spool.h"
#include "runner_lsan.h"

static struct mock_upstream *mock;
static struct gwt_proc proc;
static char spool_dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    mock = mock_upstream_start();
    cr_assert_not_null(mock);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-storage-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir));
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
    mock_upstream_stop(mock);
}

TestSuite(storage, .init = setup, .fini = teardown, .timeout = 90);

static void start_daemon(void)
{
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(mock), "--spool", spool_dir, "--rules", rules,
                          NULL};
    cr_assert(gwt_proc_start(&proc, argv));
    free(rules);
}

/* POSTs body to /webhooks/source as key; *answer (may be NULL) gets the body. */
static long post(const char *key, const char *source, const char *const *hdrs, const char *body,
                 size_t len, char **answer)
{
    char *url = gw_asprintf("http://%s@127.0.0.1:%u/webhooks/%s", key, proc.port, source);
    struct http_resp r;
    long st = http_request("POST", url, hdrs, body, len, &r);
    if (answer != NULL) {
        *answer = gw_strdup(r.body ? r.body : "");
    }
    http_resp_fini(&r);
    free(url);
    return st;
}

static bool count_dead(void *arg, const struct gw_spool_dead *d)
{
    (*(size_t *)arg)++;
    return true;
}

/* Stops the daemon (draining) and returns the dead letters it kept. */
static size_t stop_and_count_dead(void)
{
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 20000), 0);
    struct gw_spool_opts o;
    gw_spool_opts_init(&o);
    o.dir = spool_dir;
    struct gw_spool *sp = NULL;
    char why[256];
    cr_assert_eq(gw_spool_open(&o, &sp, why, sizeof(why)), GW_OK, "%s", why);
    size_t n = 0;
    cr_assert_eq(gw_spool_dead_each(sp, NULL, 0, count_dead, &n), GW_OK);
    gw_spool_close(sp);
    return n;
}

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

Test(storage, invalid_utf8_is_a_400_that_names_the_byte_and_nothing_leaves)
{
    start_daemon();
    /* an overlong '/' inside an event's string, as a smuggler writes it */
    static const char body[] = "[{\"email\":\"a@b.c\",\"timestamp\":1513299569,\"event\":\"open\","
                               "\"user_id\":\"u\xe0\x80\xaf\",\"sg_event_id\":\"e1\"}]";
    char *answer = NULL;
    cr_expect_eq(post("wk_a", "sendgrid", json_ct, body, strlen(body), &answer), 400);
    cr_expect_neq(strstr(answer, "invalid UTF-8 at byte 68"), NULL, "%s", answer);
    free(answer);
    /* a lone surrogate escape, and U+0000 */
    static const char esc[] = "[{\"email\":\"a@b.c\",\"timestamp\":1513299569,\"event\":\"open\","
                              "\"user_id\":\"\\ud800\",\"sg_event_id\":\"e2\"}]";
    cr_expect_eq(post("wk_a", "sendgrid", json_ct, esc, strlen(esc), NULL), 400);
    /* a form: checked after %-decoding */
    static const char *const form_ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char form[] =
        "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98"
        "&data%5Bemail%5D=api%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=%C0%80";
    cr_expect_eq(post("wk_a", "mailchimp", form_ct, form, strlen(form), &answer), 400);
    cr_expect_neq(strstr(answer, "invalid UTF-8 at byte 0"), NULL, "%s", answer);
    free(answer);
    /* a valid body still passes */
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    cr_expect_eq(post("wk_a", "sendgrid", json_ct, open, strlen(open), NULL), 200);
    free(open);
    cr_assert(mock_upstream_wait_calls(mock, 1, 20000));
    size_t dead = stop_and_count_dead();
    json_object *calls = mock_upstream_accepted_calls(mock);
    cr_expect_eq(json_object_array_length(calls), 1, "only the valid body's call left");
    json_object_put(calls);
    /* the source has no secret: refused bodies are kept, marked unverified */
    cr_expect_eq(dead, 3);
}

Test(storage, a_partner_number_outside_the_json_grammar_never_reaches_segment)
{
    start_daemon();
    size_t len = 0;
    char *text = gwt_read("golden/shopify/orders.create.body", &len);
    json_object *order = json_tokener_parse(text);
    cr_assert_not_null(order);
    free(text);
    static const char *const odd[] = {"0x1A", "+5", "Infinity", "1."};
    static const char *const hdrs[] = {"Content-Type: application/json",
                                       "X-Shopify-Topic: orders/create", NULL};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        json_object_object_add(order, "total_price", json_object_new_string(odd[i]));
        const char *body = json_object_to_json_string_ext(order, JSON_C_TO_STRING_PLAIN);
        char *answer = NULL;
        cr_expect_eq(post("wk_s", "shopify", hdrs, body, strlen(body), &answer), 422, "%s",
                     odd[i]);
        cr_expect_neq(strstr(answer, "properties.total\",\"rule\":\"format"), NULL, "%s: %s",
                      odd[i], answer);
        free(answer);
    }
    /* the same order with a decimal the grammar allows goes, digits kept */
    json_object_object_add(order, "total_price", json_object_new_string("26.50"));
    const char *body = json_object_to_json_string_ext(order, JSON_C_TO_STRING_PLAIN);
    cr_expect_eq(post("wk_s", "shopify", hdrs, body, strlen(body), NULL), 200);
    json_object_put(order);
    cr_assert(mock_upstream_wait(mock, 1, 20000));
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 20000), 0);
    size_t n = mock_upstream_count(mock);
    for (size_t i = 0; i < n; i++) {
        struct mock_request *q = mock_upstream_request(mock, i);
        cr_expect_null(strstr(q->body, "0x1A"), "%s", q->body);
        cr_expect_null(strstr(q->body, "Infinity"), "%s", q->body);
        cr_expect_neq(strstr(q->body, "\"total\":26.50"), NULL, "%.400s", q->body);
        json_object *again = json_tokener_parse(q->body);
        cr_expect_not_null(again, "the batch is JSON");
        json_object_put(again);
        mock_request_free(q);
    }
}

static void fingerprint(const char *key, char out[9])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    cr_assert_eq(EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL), 1);
    snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

Test(storage, segment_401_403_404_dead_letter_with_the_key_fingerprint)
{
    start_daemon();
    static const int statuses[] = {401, 403, 404};
    static const char *const keys[] = {"wk_secret_401_AAAA", "wk_secret_403_BBBB",
                                       "wk_secret_404_CCCC"};
    char *open = gwt_read_root("examples/sendgrid/open.json", NULL);
    for (size_t i = 0; i < 3; i++) {
        mock_upstream_set_default(mock, (struct mock_reply){.status = statuses[i]});
        size_t before = mock_upstream_count(mock);
        cr_assert_eq(post(keys[i], "sendgrid", json_ct, open, strlen(open), NULL), 200);
        cr_assert(mock_upstream_wait(mock, before + 1, 20000));
    }
    free(open);
    mock_upstream_set_default(mock, (struct mock_reply){.status = 200});
    /* the metric names the fingerprint and the status; poll: the relay
     * settles the batch after the stand-in answered */
    char *murl = gw_asprintf("http://127.0.0.1:%u/metrics", proc.port);
    char *metrics = NULL;
    bool all = false;
    for (int tries = 0; tries < 200 && !all; tries++) {
        struct http_resp r;
        cr_assert_eq(http_request("GET", murl, NULL, NULL, 0, &r), 200);
        free(metrics);
        metrics = gw_strdup(r.body);
        http_resp_fini(&r);
        all = true;
        for (size_t i = 0; i < 3; i++) {
            char fp[9], line[160];
            fingerprint(keys[i], fp);
            snprintf(line, sizeof(line),
                     "sourcegate_relay_auth_failures_total{key=\"%s\",status=\"%d\"} 1", fp,
                     statuses[i]);
            all = all && strstr(metrics, line) != NULL;
        }
        if (!all) {
            usleep(50000);
        }
    }
    cr_expect(all, "%s", metrics);
    for (size_t i = 0; i < 3; i++) {
        cr_expect_null(strstr(metrics, keys[i]), "the key itself is no label");
    }
    free(metrics);
    free(murl);
    char *log = gwt_proc_log(&proc);
    for (size_t i = 0; i < 3; i++) {
        char fp[9], line[128];
        fingerprint(keys[i], fp);
        snprintf(line, sizeof(line), "upstream answered %d: write key %s", statuses[i], fp);
        cr_expect_neq(strstr(log, line), NULL, "%s", line);
        cr_expect_null(strstr(log, keys[i]), "the key is never logged");
    }
    cr_expect_neq(strstr(log, "error"), NULL);
    free(log);
    cr_expect_eq(stop_and_count_dead(), 3, "each refused call is a dead letter");
    json_object *calls = mock_upstream_accepted_calls(mock);
    cr_expect_eq(json_object_array_length(calls), 0, "Segment took nothing");
    json_object_put(calls);
}

/* ---- one write key's share of the spool ---- */

/* A SendGrid body of n open events whose sg_event_id are tag-000000 on. */
static char *open_events(const char *tag, int first, int n)
{
    char *tmpl = gwt_read("sendgrid/open.user_id.json", NULL);
    json_object *arr = json_tokener_parse(tmpl);
    free(tmpl);
    cr_assert_not_null(arr);
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

/* POSTs n events as key with X-Request-Id rid; *r keeps the answer. */
static long post_events(const char *key, const char *rid, const char *tag, int first, int n,
                        struct http_resp *r)
{
    char idh[96];
    snprintf(idh, sizeof(idh), "X-Request-Id: %s", rid);
    const char *const hdrs[] = {"Content-Type: application/json", idh, NULL};
    char *body = open_events(tag, first, n);
    char *url = gw_asprintf("http://%s@127.0.0.1:%u/webhooks/sendgrid", key, proc.port);
    long st = http_request("POST", url, hdrs, body, strlen(body), r);
    free(url);
    free(body);
    return st;
}

/* The access log's line of request rid, parsed. */
static json_object *access_line(const char *log, const char *rid)
{
    char *needle = gw_asprintf("\"request_id\":\"%s\"", rid);
    const char *line = strstr(log, needle);
    free(needle);
    cr_assert_not_null(line, "no access line for %s", rid);
    while (line > log && line[-1] != '\n') {
        line--;
    }
    char *one = gw_strndup(line, strcspn(line, "\n"));
    json_object *o = json_tokener_parse(one);
    cr_assert_not_null(o, "not JSON: %s", one);
    free(one);
    return o;
}

Test(storage, a_key_over_its_share_gets_503_while_another_key_is_taken)
{
    /* Segment hangs: nothing drains, every accepted call stays queued. */
    mock_upstream_set_default(mock, (struct mock_reply){.delay_ms = 120000});
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve",      "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(mock), "--spool", spool_dir, "--rules", rules,
                          "--max-spool", "1MiB", "--upstream-timeout", "2", NULL};
    cr_assert(gwt_proc_start(&proc, argv));
    free(rules);
    /* key A fills its share (half of 1 MiB by default) */
    struct http_resp r;
    long st = 200;
    int sent = 0;
    char rid[32];
    for (; st == 200 && sent < 100 * 100; sent += 100) {
        snprintf(rid, sizeof(rid), "hog-%d", sent);
        st = post_events("wk_hog", rid, "hog", sent, 100, &r);
        if (st == 200) {
            http_resp_fini(&r);
        }
    }
    int accepted = sent - 100;
    cr_assert_eq(st, 503, "status %ld after %d events", st, accepted);
    cr_assert_gt(accepted, 0, "the key had room before its share was full");
    char *ra = http_resp_header(&r, "Retry-After");
    cr_assert_not_null(ra, "a 503 says when to come back");
    cr_expect_gt(strtol(ra, NULL, 10), 0, "Retry-After: %s", ra);
    free(ra);
    cr_expect_neq(strstr(r.body, "max_spool_per_key"), NULL, "%s", r.body);
    http_resp_fini(&r);
    /* the spool as a whole is not full: another key is taken */
    cr_assert_eq(post_events("wk_other", "other-1", "other", 0, 1, &r), 200, "%s", r.body);
    http_resp_fini(&r);
    /* A stays refused while nothing drains */
    cr_expect_eq(post_events("wk_hog", "hog-again", "hog-again", 0, 100, &r), 503);
    http_resp_fini(&r);

    char *murl = gw_asprintf("http://127.0.0.1:%u/metrics", proc.port);
    cr_assert_eq(http_request("GET", murl, NULL, NULL, 0, &r), 200);
    cr_expect_neq(strstr(r.body, "sourcegate_spool_failures_total{cause=\"key_quota\"} 2"), NULL,
                  "%s", r.body);
    cr_expect_neq(strstr(r.body, "sourcegate_spool_failures_total{cause=\"full\"} 0"), NULL);
    http_resp_fini(&r);
    free(murl);

    /* Segment answers again: the hanging request is cut at the relay's
     * timeout and the retries carry every accepted call, B's among them. */
    mock_upstream_set_default(mock, (struct mock_reply){.status = 200});
    cr_assert(mock_upstream_wait_calls(mock, (size_t)accepted + 1, 60000));
    cr_assert_eq(gwt_proc_stop(&proc, SIGTERM, 20000), 0);
    json_object *calls = mock_upstream_accepted_calls(mock);
    const char *all = json_object_to_json_string_ext(calls, JSON_C_TO_STRING_PLAIN);
    cr_expect_neq(strstr(all, "sendgrid-other-000000"), NULL, "B's call arrived");
    cr_expect_null(strstr(all, "sendgrid-hog-again-"), "a refused request kept nothing");
    char last[64];
    snprintf(last, sizeof(last), "sendgrid-hog-%06d\"", accepted);
    cr_expect_null(strstr(all, last), "nor did the first refused one");
    json_object_put(calls);

    char *log = gwt_proc_log(&proc);
    json_object *o = access_line(log, rid); /* the first refused request */
    cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "cause")), "key_quota");
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "status")), 503);
    json_object_put(o);
    o = access_line(log, "hog-again");
    cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "cause")), "key_quota");
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "status")), 503);
    json_object_put(o);
    o = access_line(log, "other-1");
    cr_expect_eq(json_object_get_int(json_object_object_get(o, "status")), 200);
    json_object_put(o);
    cr_expect_null(strstr(log, "wk_hog"), "the write key is never logged");
    free(log);
}
