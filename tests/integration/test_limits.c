/* test_limits.c -- hostile input over real HTTP: each limit crossed gets
 * its status and body, the daemon serves the next request, and nothing of
 * the refused one is relayed; slow clients do not starve a normal webhook.
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"
#include "raw.h"

static struct mock_upstream *up;
static struct gwt_gateway *gw;

static void setup(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    struct gwt_opts o = {.endpoint = mock_upstream_endpoint(up), .write_key = "wk_lim"};
    gw = gwt_gateway_start(&o);
}

static void teardown(void)
{
    gwt_gateway_stop(gw);
    mock_upstream_stop(up);
}

static const char *jstr(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

/* A valid request after the refused one: it arrives first and alone, so
 * nothing of the refused one was relayed, and the daemon still serves. */
static void expect_served_and_nothing_relayed(void)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    cr_assert_eq(http_request("POST", url, ct, open, strlen(open), &r), 200, "%s", r.body);
    http_resp_fini(&r);
    cr_assert(mock_upstream_wait_calls(up, 1, 10000));
    json_object *calls = mock_upstream_accepted_calls(up);
    cr_expect_eq(json_object_array_length(calls), 1);
    cr_expect_str_eq(jstr(json_object_array_get_idx(calls, 0), "userId"), "marker-user");
    json_object_put(calls);
    free(url);
    free(open);
}

static void expect_error(struct http_resp *r, long status, const char *code)
{
    cr_expect_eq(r->status, status, "%s", r->body);
    cr_expect_str_eq(jstr(r->json, "error"), code, "%s", r->body);
    cr_expect_not_null(jstr(r->json, "message"));
}

Test(limits, url_over_the_limit_is_414, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_printf(&b, "%s/webhooks/sendgrid?pad=", gw->base), GW_OK);
    for (int i = 0; i < 9000; i++) {
        cr_assert_eq(gw_buf_adds(&b, "x"), GW_OK);
    }
    struct http_resp r;
    http_request("POST", gw_buf_str(&b), NULL, "[]", 2, &r);
    expect_error(&r, 414, "uri_too_long");
    http_resp_fini(&r);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_headers_is_431, .init = setup, .fini = teardown, .timeout = 30)
{
    const char *hdrs[80];
    char names[70][32];
    for (int i = 0; i < 70; i++) {
        snprintf(names[i], sizeof(names[i]), "X-Pad-%d: %d", i, i);
        hdrs[i] = names[i];
    }
    hdrs[70] = NULL;
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    http_request("POST", url, hdrs, "[]", 2, &r);
    expect_error(&r, 431, "header_fields_too_large");
    http_resp_fini(&r);
    free(url);
    expect_served_and_nothing_relayed();
}

Test(limits, huge_header_is_refused, .init = setup, .fini = teardown, .timeout = 30)
{
    char *big = gw_malloc(40000);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', 40000 - 8);
    big[40000 - 1] = '\0';
    const char *hdrs[] = {big, NULL};
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    struct http_resp r;
    long st = http_request("POST", url, hdrs, "[]", 2, &r);
    /* libmicrohttpd answers it itself, before any callback of ours */
    cr_expect(st == 431 || st == 413, "status %ld", st);
    http_resp_fini(&r);
    free(url);
    free(big);
    expect_served_and_nothing_relayed();
}

Test(limits, json_nested_too_deep_is_400, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_adds(&b, "[{\"a\":"), GW_OK);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_buf_adds(&b, "["), GW_OK);
    }
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_buf_adds(&b, "]"), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "}]"), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 400, "bad_request");
    cr_expect_neq(strstr(jstr(r.json, "message"), "nesting too deep"), NULL, "%s", r.body);
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_events_is_413, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    cr_assert_eq(gw_buf_adds(&b, "["), GW_OK);
    for (int i = 0; i < 2501; i++) {
        cr_assert_eq(gw_buf_printf(&b, "%s{}", i ? "," : ""), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "]"), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 413, "payload_too_large");
    cr_expect_str_eq(jstr(r.json, "message"), "body holds 2501 events, more than the limit of 2500");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, too_many_form_fields_is_413, .init = setup, .fini = teardown, .timeout = 30)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    for (int i = 0; i < 1001; i++) {
        cr_assert_eq(gw_buf_printf(&b, "%sf%d=v", i ? "&" : "", i), GW_OK);
    }
    char *url = gwt_url(gw, "/webhooks/twilio");
    static const char *const ct[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 413, "payload_too_large");
    cr_expect_str_eq(jstr(r.json, "message"), "form has more than 1000 fields");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    expect_served_and_nothing_relayed();
}

Test(limits, a_call_over_32000_bytes_is_422, .init = setup, .fini = teardown, .timeout = 30)
{
    char *open = gwt_read("sendgrid/open.user_id.json", NULL);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    /* a category string of 40,000 bytes makes one mapped call too large */
    const char *at = strstr(open, "\"cat facts\"");
    cr_assert_not_null(at);
    cr_assert_eq(gw_buf_add(&b, open, (size_t)(at - open)), GW_OK);
    cr_assert_eq(gw_buf_adds(&b, "\""), GW_OK);
    for (int i = 0; i < 40000; i++) {
        cr_assert_eq(gw_buf_adds(&b, "c"), GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, at + strlen("\"cat facts")), GW_OK);
    char *url = gwt_url(gw, "/webhooks/sendgrid");
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct http_resp r;
    http_request("POST", url, ct, gw_buf_str(&b), b.len, &r);
    expect_error(&r, 422, "spec_violation");
    json_object *v0 = json_object_array_get_idx(json_object_object_get(r.json, "violations"), 0);
    cr_expect_str_eq(jstr(v0, "rule"), "size");
    http_resp_fini(&r);
    free(url);
    gw_buf_fini(&b);
    free(open);
    expect_served_and_nothing_relayed();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

/* Slow clients: 50 connections each send headers and then one body byte at
 * a time; a normal webhook sent meanwhile is answered promptly, and the
 * process's memory stays bounded. */
Test(limits, slow_clients_do_not_starve_a_webhook, .init = setup, .fini = teardown,
     .timeout = 60)
{
    enum { N = 50 };
    int fds[N];
    unsigned port = (unsigned)strtoul(strrchr(gw->base, ':') + 1, NULL, 10);
    long before = rss_kb();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
        static const char head[] = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[";
        cr_assert(write(fds[i], head, sizeof(head) - 1) > 0);
    }
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++) {
            if (write(fds[i], " ", 1) < 0) {
                break; /* the daemon may close a dribbler: that is allowed */
            }
        }
        int64_t t0 = now_ms();
        char *open = gwt_read("sendgrid/open.user_id.json", NULL);
        char *url = gwt_url(gw, "/webhooks/sendgrid?dry_run=1");
        static const char *const ct[] = {"Content-Type: application/json", NULL};
        struct http_resp r;
        cr_expect_eq(http_request("POST", url, ct, open, strlen(open), &r), 200);
        int64_t took = now_ms() - t0;
        cr_expect_lt(took, 2000, "a normal webhook took %lld ms among slow clients",
                     (long long)took);
        http_resp_fini(&r);
        free(url);
        free(open);
    }
    long after = rss_kb();
    cr_expect_lt(after - before, 64 * 1024, "memory grew by %ld KiB", after - before);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
}

static unsigned gw_port(void)
{
    return (unsigned)strtoul(strrchr(gw->base, ':') + 1, NULL, 10);
}

/* 413 read by a client that writes its whole body before it reads (as
 * Python's http.client does): the daemon reads and discards the body
 * (lingering) and then answers, instead of closing on unread data (a TCP
 * reset that loses the answer). */
Test(limits, a_413_is_read_by_a_client_that_writes_first, .init = setup, .fini = teardown,
     .timeout = 60)
{
    enum { BODY = 2 << 20 }; /* over max_body (512KiB), under lingering_bytes (4MiB) */
    int fd = raw_connect(gw_port(), NULL);
    cr_assert_geq(fd, 0);
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                     BODY);
    cr_assert(raw_write(fd, head, (size_t)n));
    char *body = gw_malloc(BODY);
    memset(body, ' ', BODY);
    body[0] = '[';
    body[BODY - 1] = ']';
    cr_assert(raw_write(fd, body, BODY), "the daemon stopped reading the body");
    struct raw_answer a;
    cr_assert(raw_read_answer(fd, 20000, &a), "no whole answer: %s", a.text);
    cr_expect_eq(a.status, 413, "%s", a.text);
    cr_expect_neq(strstr(a.text, "\"payload_too_large\""), NULL, "%s", a.text);
    raw_answer_fini(&a);
    close(fd);
    free(body);
    expect_served_and_nothing_relayed();
}

/* The same with Python's own client: it reads the 413, no broken pipe. */
Test(limits, python_http_client_reads_the_413, .init = setup, .fini = teardown, .timeout = 60)
{
    char *cmd = gw_asprintf(
        "python3 -c 'import http.client, json\n"
        "c = http.client.HTTPConnection(\"127.0.0.1\", %u, timeout=20)\n"
        "c.request(\"POST\", \"/webhooks/sendgrid\", body=b\"[\" + b\" \" * (2 << 20) + b\"]\",\n"
        "          headers={\"Content-Type\": \"application/json\"})\n"
        "r = c.getresponse()\n"
        "print(r.status, json.loads(r.read())[\"error\"])' 2>&1",
        gw_port());
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[512] = "";
    size_t got = fread(out, 1, sizeof(out) - 1, p);
    out[got] = '\0';
    pclose(p);
    cr_expect_str_eq(out, "413 payload_too_large\n");
    free(cmd);
    expect_served_and_nothing_relayed();
}

/* A client that says Expect: 100-continue gets its 413 before it sends. */
Test(limits, a_413_before_100_continue, .init = setup, .fini = teardown, .timeout = 30)
{
    static const char req[] = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                              "Content-Length: 99999999\r\n\r\n";
    struct raw_answer a;
    raw_exchange(gw_port(), req, sizeof(req) - 1, 10000, &a);
    cr_expect_eq(a.status, 413, "%s", a.text);
    cr_expect(a.eof);
    raw_answer_fini(&a);
    expect_served_and_nothing_relayed();
}

/* The real binary behind a "load balancer": 127.0.0.3 is a trusted proxy,
 * 127.0.0.2 an untrusted peer; small caps and a 3 s read deadline. */
static struct gwt_proc proc;
static char spool_dir[64];
static char conf_path[96];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static const char *read_timeout = "3";

static void setup_daemon(void)
{
    up = mock_upstream_start();
    cr_assert_not_null(up);
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/gwtest-limits-XXXXXX");
    cr_assert_not_null(mkdtemp(spool_dir));
    snprintf(conf_path, sizeof(conf_path), "%s.yaml", spool_dir);
    FILE *f = fopen(conf_path, "wb");
    cr_assert_not_null(f);
    fprintf(f,
            "trusted_proxies: [127.0.0.3]\n"
            "limits:\n  max_connections: 5000\n  max_connections_per_ip: 8\n"
            "  max_requests_per_client: 4\n  read_timeout: %s\n"
            "sources:\n  sendgrid:\n    write_key: wk_lim\n",
            read_timeout);
    fclose(f);
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--endpoint",
                          mock_upstream_endpoint(up), "--spool", spool_dir, "--rules", rules,
                          "--config", conf_path, NULL};
    cr_assert(gwt_proc_start(&proc, argv), "daemon did not start");
    free(rules);
}

static void teardown_daemon(void)
{
    gwt_proc_stop(&proc, SIGTERM, 10000);
    unlink(proc.log);
    unlink(conf_path);
    nftw(spool_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    mock_upstream_stop(up);
}

/* A normal webhook from `from` (with X-Forwarded-For xff unless NULL): its
 * status, read within the 2 s the acceptance gives it (0: none came). */
static int webhook(const char *from, const char *xff)
{
    const char *ev = gwt_read("sendgrid/open.user_id.json", NULL);
    char *req = gw_asprintf("POST /webhooks/sendgrid?dry_run=1 HTTP/1.1\r\nHost: x\r\n"
                            "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
                            xff ? "X-Forwarded-For: " : "", xff ? xff : "", xff ? "\r\n" : "",
                            strlen(ev), ev);
    int fd = raw_connect(proc.port, from);
    cr_assert_geq(fd, 0);
    cr_assert(raw_write(fd, req, strlen(req)));
    struct raw_answer a;
    raw_read_answer(fd, 2000, &a);
    int status = a.status;
    raw_answer_fini(&a);
    close(fd);
    free(req);
    free((void *)ev);
    return status;
}

/* Opens n connections from `from`, each sending headers (and xff) and the
 * first byte of a 100,000-byte body, to dribble the rest. */
static void open_dribblers(int *fds, int n, const char *from, const char *xff)
{
    char *head = gw_asprintf("POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n%s%s%s"
                             "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[",
                             xff ? "X-Forwarded-For: " : "", xff ? xff : "", xff ? "\r\n" : "");
    for (int i = 0; i < n; i++) {
        fds[i] = raw_connect(proc.port, from);
        cr_assert_geq(fds[i], 0, "connect %d", i);
        raw_write(fds[i], head, strlen(head)); /* a refused one may fail: allowed */
    }
    free(head);
}

/* How many of fds the daemon has closed (end of file or reset), and how
 * many answered 429 first. */
static int closed_by_daemon(const int *fds, int n, int *n429)
{
    int closed = 0;
    *n429 = 0;
    for (int i = 0; i < n; i++) {
        struct raw_answer a;
        raw_read(fds[i], 50, &a);
        closed += a.eof;
        *n429 += a.status == 429;
        raw_answer_fini(&a);
    }
    return closed;
}

/* 200 connections dribbling from one untrusted address: it keeps
 * max_connections_per_ip (8) of them, the rest are closed at once, and a
 * webhook from another address is answered. */
Test(limits, dribblers_from_one_peer_are_capped, .init = setup_daemon, .fini = teardown_daemon,
     .timeout = 120)
{
    enum { N = 200 };
    int fds[N];
    open_dribblers(fds, N, "127.0.0.2", NULL);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            send(fds[i], " ", 1, MSG_NOSIGNAL);
        }
        cr_expect_eq(webhook("127.0.0.1", NULL), 200, "round %d", round);
    }
    int n429 = 0;
    int closed = closed_by_daemon(fds, N, &n429);
    cr_expect_geq(closed, N - 8 - 2, "only %d of %d connections were refused", closed, N);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
}

/* Behind a trusted proxy all 200 connections come from the proxy's address:
 * none is refused for that (the proxy is not capped per peer); requests are
 * capped per client as X-Forwarded-For resolves it: 4 dribble on, the 196
 * others get 429 with Retry-After, and another client is served. */
Test(limits, behind_a_trusted_proxy_requests_are_capped_per_client, .init = setup_daemon,
     .fini = teardown_daemon, .timeout = 120)
{
    enum { N = 200 };
    int fds[N];
    open_dribblers(fds, N, "127.0.0.3", "203.0.113.9");
    cr_expect_eq(webhook("127.0.0.3", "203.0.113.1"), 200);
    int n429 = 0;
    int closed = closed_by_daemon(fds, N, &n429);
    cr_expect_eq(n429, N - 4, "%d of %d got 429", n429, N);
    cr_expect_eq(closed, N - 4, "%d closed", closed);
    cr_expect_eq(webhook("127.0.0.3", "203.0.113.9"), 429, "the client at its cap");
    struct raw_answer a;
    int fd = raw_connect(proc.port, "127.0.0.3");
    static const char req[] = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\n"
                              "X-Forwarded-For: 203.0.113.9\r\nContent-Length: 2\r\n\r\n[]";
    raw_write(fd, req, sizeof(req) - 1);
    raw_read_answer(fd, 5000, &a);
    char *ra = raw_header(&a, "Retry-After");
    cr_expect_not_null(ra, "%s", a.text);
    free(ra);
    raw_answer_fini(&a);
    close(fd);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
    /* the slots come back with the connections */
    int status = 0;
    for (int i = 0; i < 50 && status != 200; i++) {
        status = webhook("127.0.0.3", "203.0.113.9");
    }
    cr_expect_eq(status, 200);
}

/* A slowloris sends its headers one byte every 500 ms: MHD's idle timeout
 * restarts with each byte, the read deadline (3 s here) does not. */
Test(limits, headers_dribbled_are_cut_at_the_read_deadline, .init = setup_daemon,
     .fini = teardown_daemon, .timeout = 60)
{
    static const char head[] = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\nX-Slow: "
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fd = raw_connect(proc.port, "127.0.0.1");
    cr_assert_geq(fd, 0);
    bool cut = false;
    for (size_t i = 0; i < sizeof(head) - 1 && !cut; i++) {
        if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1) {
            cut = true;
            break;
        }
        struct raw_answer a;
        raw_read(fd, 500, &a);
        cut = a.eof;
        raw_answer_fini(&a);
    }
    cr_expect(cut, "a request dribbled for %zu s was not cut", (sizeof(head) - 1) / 2);
    close(fd);
    cr_expect_eq(webhook("127.0.0.1", NULL), 200);
}

static long proc_rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

/* the 2,000 connections below must stay open while they are counted */
static void setup_daemon_patient(void)
{
    read_timeout = "60";
    setup_daemon();
}

/* 2,000 idle connections (open, nothing sent yet) cost the daemon less
 * than 64 MiB, and it still serves. */
Test(limits, two_thousand_idle_connections_cost_under_64mib, .init = setup_daemon_patient,
     .fini = teardown_daemon, .timeout = 180)
{
    enum { N = 2000 };
    static int fds[N];
    cr_assert_eq(webhook("127.0.0.1", NULL), 200); /* warm */
    long before = proc_rss_kb(proc.pid);
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(proc.port, "127.0.0.3");
        cr_assert_geq(fds[i], 0, "connect %d", i);
    }
    /* a request on the last one: the daemon has taken every connection */
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert(raw_write(fds[N - 1], req, sizeof(req) - 1));
    struct raw_answer a;
    cr_assert(raw_read_answer(fds[N - 1], 10000, &a), "%s", a.text);
    cr_assert_eq(a.status, 200);
    raw_answer_fini(&a);
    long after = proc_rss_kb(proc.pid);
    cr_log_info("RSS %ld KiB before, %ld KiB with %d idle connections", before, after, N);
    cr_expect_gt(before, 0);
    cr_expect_lt(after - before, 64 * 1024, "%d idle connections cost %ld KiB", N,
                 after - before);
    cr_expect_eq(webhook("127.0.0.1", NULL), 200);
    for (int i = 0; i < N; i++) {
        struct raw_answer b;
        raw_read(fds[i], 0, &b);
        cr_expect(!b.eof, "connection %d was closed", i);
        raw_answer_fini(&b);
        close(fds[i]);
    }
}

/* Behind a real HAProxy (as deploy/haproxy: option forwardfor, 512
 * connections per server), connecting from 127.0.0.3, the daemon's trusted
 * proxy: 100 clients dribbling from 127.0.0.2, each with a forged
 * X-Forwarded-For, are capped as the one client they are (4 requests, the
 * rest 429), none is reset for the proxy's sake, and a
 * webhook from 127.0.0.1 through the proxy is answered. */
#define HAPROXY "/usr/sbin/haproxy"

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t len = sizeof(sa);
    cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

Test(limits, behind_haproxy_dribblers_are_capped_per_client, .init = setup_daemon,
     .fini = teardown_daemon, .timeout = 120)
{
    enum { N = 100 };
    unsigned lb = free_port();
    char cfg[] = "/tmp/gwtest-lb-XXXXXX";
    int cfd = mkstemp(cfg);
    cr_assert_geq(cfd, 0);
    FILE *f = fdopen(cfd, "w");
    fprintf(f,
            "global\n  maxconn 4096\n"
            "defaults\n  mode http\n  option forwardfor\n  timeout connect 2s\n"
            "  timeout client 30s\n  timeout server 30s\n  timeout http-request 30s\n"
            "frontend webhooks\n  bind 127.0.0.1:%u\n  default_backend sourcegate\n"
            "backend sourcegate\n  server s1 127.0.0.1:%u source 127.0.0.3 maxconn 512\n",
            lb, proc.port);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(HAPROXY, HAPROXY, "-db", "-f", cfg, (char *)NULL);
        _exit(127);
    }
    char *url = gw_asprintf("http://127.0.0.1:%u/healthz", lb);
    bool ready = false;
    for (int i = 0; i < 200 && !ready; i++) {
        struct http_resp r;
        ready = http_request("GET", url, NULL, NULL, 0, &r) == 200;
        http_resp_fini(&r);
        usleep(50000);
    }
    free(url);
    cr_assert(ready, "haproxy did not come up (is %s installed?)", HAPROXY);
    unsigned daemon_port = proc.port;
    proc.port = lb; /* webhook() and open_dribblers() now go through the proxy */
    int fds[N];
    /* each forges an X-Forwarded-For of its own: the proxy adds its own
     * line after it, and that is the one believed */
    for (int i = 0; i < N; i++) {
        char xff[32];
        snprintf(xff, sizeof(xff), "198.51.100.%d", i);
        open_dribblers(&fds[i], 1, "127.0.0.2", xff);
    }
    usleep(500000); /* let the proxy pass every request on */
    cr_expect_eq(webhook("127.0.0.1", NULL), 200);
    int n429 = 0;
    closed_by_daemon(fds, N, &n429);
    cr_expect_eq(n429, N - 4, "%d of %d got 429 through the proxy", n429, N);
    cr_expect_eq(webhook("127.0.0.1", NULL), 200);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
    proc.port = daemon_port;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(cfg);
}
