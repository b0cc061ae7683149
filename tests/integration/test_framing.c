/* test_framing.c -- request smuggling and broken framing against the real
 * binary, over raw sockets (curl will not send these): each is refused
 * with 400 (501 for a transfer coding it does not know), Connection: close
 * and the connection closed, before a byte of body is read; nothing of it
 * reaches the Segment stand-in and nothing is kept.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "raw.h"

static struct mock_upstream *up;
static struct gwt_proc proc;
static char spool_dir[64];
static char conf_path[96];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-framing-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir));
    snprintf(conf_path, sizeof(conf_path), "%s.yaml", spool_dir);
    write_file(conf_path, "sources:\n  sendgrid:\n    write_key: wk_framing\n");
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(up), "--spool", spool_dir, "--rules", rules,
                          "--config", conf_path, NULL};
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    free(rules);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void teardown(void)
{
    gwt_proc_stop(&proc, SIGTERM, 10000);
    unlink(proc.log);
    unlink(conf_path);
    nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    mock_upstream_stop(up);
}

/* A valid webhook after the attack arrives first and alone at Segment: so
 * nothing of the attack was relayed; no dead letter was kept either. */
static void expect_nothing_relayed_or_kept(void)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    char *url = gw_asprintf("http://127.0.0.1:%u/webhooks/sendgrid", proc.port);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, ct, open, strlen(open), &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1, "%s", json_object_to_json_string(calls));
    cr_expect_str_eq(json_object_get_string(json_object_object_get(
                         json_object_array_get_idx(calls, 0), "userId")),
                     "marker-user");
    json_object_put(calls);
    free(url);
    url = gw_asprintf("http://127.0.0.1:%u/metrics", proc.port);
    cr_assert_eq(http_request("GET", url, NULL, NULL, 0, &r), 200);
    cr_expect_neq(strstr(r.body, "\nsourcegate_dead_letters_total 0\n"), NULL, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    free(open);
}

#define HEAD "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

/* Sends the attack; the daemon answers status once, says it closes, and does. */
static void attack(const char *request, int status)
{
    struct raw_answer a;
    raw_exchange(proc.port, request, strlen(request), 10000, &a);
    cr_expect_eq(a.status, status, "answer: %s", a.text);
    cr_expect(a.eof, "the connection stayed open after: %s", a.text);
    char *conn = raw_header(&a, "Connection");
    cr_expect(conn != NULL && strcasecmp(conn, "close") == 0, "Connection: %s", conn);
    free(conn);
    raw_answer_fini(&a);
    expect_nothing_relayed_or_kept();
}

static const char *open_event(const char *user)
{
    static char body[4096];
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    char *at = strstr(open, "marker-user");
    cr_assert_not_null(at);
    *at = '\0';
    snprintf(body, sizeof(body), "%s%s%s", open, user, at + strlen("marker-user"));
    free(open);
    return body;
}

Test(framing, content_length_and_transfer_encoding, .init = setup, .fini = teardown,
     .timeout = 60)
{
    char req[8192];
    const char *ev = open_event("smuggled-user");
    snprintf(req, sizeof(req),
             HEAD "Content-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
             strlen(ev), strlen(ev), ev);
    attack(req, 400);
}

Test(framing, conflicting_content_lengths, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Content-Length: 2\r\nContent-Length: 40\r\n\r\n[]", 400);
}

/* nginx refuses a duplicate Content-Length even when equal ("client sent
 * duplicate header line"): so does the daemon */
Test(framing, equal_duplicate_content_lengths, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Content-Length: 2\r\nContent-Length: 2\r\n\r\n[]", 400);
}

/* libmicrohttpd refuses these itself, before any callback: 400 and closed */
Test(framing, malformed_content_lengths, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Content-Length: +2\r\n\r\n[]", 400);
    attack(HEAD "Content-Length: -2\r\n\r\n[]", 400);
    attack(HEAD "Content-Length: 1 2\r\n\r\n[]", 400);
    attack(HEAD "Content-Length: 0x2\r\n\r\n[]", 400);
    attack(HEAD "Content-Length: 2,2\r\n\r\n[]", 400);
}

/* a length past 64 bits: libmicrohttpd answers 413 itself, and closes */
Test(framing, overflowing_content_length, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Content-Length: 184467440737095516160\r\n\r\n[]", 413);
}

Test(framing, unknown_transfer_codings_are_501, .init = setup, .fini = teardown, .timeout = 60)
{
    /* xchunked used to hang: read until the client closed */
    attack(HEAD "Transfer-Encoding: xchunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n", 501);
    attack(HEAD "Transfer-Encoding: chunked, identity\r\n\r\n2\r\n[]\r\n0\r\n\r\n", 501);
    attack(HEAD "Transfer-Encoding: chunked, gzip\r\n\r\n2\r\n[]\r\n0\r\n\r\n", 501);
    attack(HEAD "Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n[]", 400);
    attack(HEAD "Transfer-Encoding: identity\r\n\r\n[]", 501);
}

Test(framing, duplicate_transfer_encoding, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           400);
}

Test(framing, transfer_encoding_in_http_1_0, .init = setup, .fini = teardown, .timeout = 60)
{
    attack("POST /webhooks/sendgrid HTTP/1.0\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
           400);
}

/* whitespace and folding tricks that a proxy in front may read otherwise */
Test(framing, whitespace_and_obs_fold, .init = setup, .fini = teardown, .timeout = 60)
{
    attack(HEAD "Transfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\n[]", 400);
    attack(HEAD "Content-Length : 2\r\n\r\n[]", 400);
    attack(HEAD "Transfer-Encoding:\r\n chunked\r\nContent-Length: 2\r\n\r\n[]", 400);
    attack(HEAD "Transfer-Encoding: chunked\r\n , identity\r\n\r\n0\r\n\r\n", 400);
    attack(HEAD "Content-Length: 2\r\nX-Fold: a\r\n\tb\r\n\r\n[]", 400);
    attack(HEAD "Transfer-Encoding: \tchunked\t\r\nContent-Length: 2\r\n\r\n[]", 400);
}

/* A second request hidden after a chunked body is not answered: the
 * connection closes after the first answer, and the hidden request's event
 * never reaches Segment. */
Test(framing, request_smuggled_after_a_chunked_body, .init = setup, .fini = teardown,
     .timeout = 60)
{
    char req[8192];
    const char *ev = open_event("smuggled-user");
    snprintf(req, sizeof(req),
             HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n" HEAD
                  "Content-Length: %zu\r\n\r\n%s",
             strlen(ev), ev);
    struct raw_answer a;
    raw_exchange(proc.port, req, strlen(req), 10000, &a);
    cr_expect_eq(a.status, 200, "%s", a.text);
    cr_expect_eq(a.answers, 1, "the hidden request was answered: %s", a.text);
    cr_expect(a.eof, "the connection stayed open");
    raw_answer_fini(&a);
    expect_nothing_relayed_or_kept();
}

/* The well-formed cases still work: chunked alone, one Content-Length. */
Test(framing, sound_framing_is_served, .init = setup, .fini = teardown, .timeout = 60)
{
    struct raw_answer a;
    raw_exchange(proc.port, HEAD "Transfer-Encoding: Chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n", 
                 strlen(HEAD "Transfer-Encoding: Chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n"), 10000, &a);
    cr_expect_eq(a.status, 200, "%s", a.text);
    raw_answer_fini(&a);
    int fd = raw_connect(proc.port, NULL);
    cr_assert_geq(fd, 0);
    static const char two[] = HEAD "Content-Length: 2\r\n\r\n[]" HEAD "Content-Length: 2\r\n\r\n[]";
    cr_assert(raw_write(fd, two, sizeof(two) - 1));
    cr_expect(raw_read_answer(fd, 10000, &a));
    cr_expect_eq(a.status, 200, "%s", a.text);
    raw_answer_fini(&a);
    close(fd);
    expect_nothing_relayed_or_kept();
}
