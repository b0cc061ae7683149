/* test_cluster.c -- three sourcegate instances on loopback behind a real
 * HAProxy, load from a bounded client; one instance killed with SIGKILL and
 * restarted on its spool, another drained with SIGTERM: every acknowledged
 * event reaches the Segment stand-in, and the combined upstream rate stays
 * within the cluster's budget (max_rps split across the instances).
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_test.h"
#include "mem.h"
#include "mock_upstream.h"

#define N 3
#define BUDGET 15 /* requests per second to Segment for the whole cluster */
#define HAPROXY "/usr/sbin/haproxy"

static struct mock_upstream *mock;
static struct gwt_proc inst[N];
static unsigned ports[N];
static char spools[N][64];
static char cfg_path[64];
static pid_t haproxy_pid;
static unsigned lb_port;
static json_object *acked;
static pthread_mutex_t acked_lock = PTHREAD_MUTEX_INITIALIZER;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* A port free now: bound to 0, read back, released. */
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

static void start_instance(int i)
{
    char listen[32], rps[16];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", ports[i]);
    snprintf(rps, sizeof(rps), "%d", BUDGET / N);
    char *rules = gwt_root_path("rules");
    const char *argv[] = {"serve", "--listen", listen, "--endpoint", mock_upstream_endpoint(mock),
                          "--spool", spools[i], "--max-rps", rps, "--rules", rules, NULL};
    bool ok = gwt_proc_start(&inst[i], argv);
    char *log = gwt_proc_log(&inst[i]);
    cr_assert(ok, "instance %d did not start:\n%s", i, log);
    free(log);
    free(rules);
}

static void start_haproxy(void)
{
    snprintf(cfg_path, sizeof(cfg_path), "/tmp/gwtest-haproxy-XXXXXX");
    int fd = mkstemp(cfg_path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "global\n  maxconn 256\n"
               "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n"
               "  timeout server 10s\n  timeout check 1s\n  retries 3\n  option redispatch\n"
               "  option http-buffer-request\n"
               "  retry-on conn-failure empty-response response-timeout 503\n"
               "frontend webhooks\n  bind 127.0.0.1:%u\n  default_backend sourcegate\n"
               "backend sourcegate\n  balance roundrobin\n  option httpchk GET /readyz\n"
               "  http-check expect status 200\n",
            lb_port);
    for (int i = 0; i < N; i++) {
        fprintf(f, "  server s%d 127.0.0.1:%u check inter 200ms fall 1 rise 2\n", i, ports[i]);
    }
    fclose(f);
    haproxy_pid = fork();
    if (haproxy_pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(HAPROXY, HAPROXY, "-db", "-f", cfg_path, (char *)NULL);
        _exit(127);
    }
    /* ready when it answers through to an instance */
    char *url = gw_asprintf("http://127.0.0.1:%u/healthz", lb_port);
    bool up = false;
    for (int i = 0; i < 200 && !up; i++) {
        struct http_resp r;
        up = http_request("GET", url, NULL, NULL, 0, &r) == 200;
        http_resp_fini(&r);
        usleep(50000);
    }
    free(url);
    cr_assert(up, "haproxy did not come up (is %s installed?)", HAPROXY);
}

static void setup(void)
{
    mock = mock_upstream_start();
    cr_assert_not_null(mock);
    acked = json_object_new_object();
    for (int i = 0; i < N; i++) {
        snprintf(spools[i], sizeof(spools[i]), "/tmp/gwtest-cluster-XXXXXX");
        cr_assert_not_null(mkdtemp(spools[i]));
        ports[i] = free_port();
        start_instance(i);
    }
    lb_port = free_port();
    start_haproxy();
}

static void teardown(void)
{
    if (haproxy_pid > 0) {
        kill(haproxy_pid, SIGKILL);
        waitpid(haproxy_pid, NULL, 0);
    }
    unlink(cfg_path);
    for (int i = 0; i < N; i++) {
        if (inst[i].pid > 0) {
            gwt_proc_stop(&inst[i], SIGKILL, 5000);
        }
        unlink(inst[i].log);
        nftw(spools[i], rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
    json_object_put(acked);
    mock_upstream_stop(mock);
}

struct load {
    atomic_bool stop;
    atomic_int sent, ok;
};

/* Posts one SendGrid event per request with a unique sg_event_id; notes the
 * acknowledged ones. Bounded: 600 requests, or until told to stop. */
static void *client(void *arg)
{
    struct load *l = arg;
    char *tpl = gwt_read_root("examples/sendgrid/open.json", NULL);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    for (int i = 0; i < 600 && !atomic_load(&l->stop); i++) {
        /* twenty customers: batches never mix write keys, so this load
         * wants many more upstream requests than the budget allows */
        char *url = gw_asprintf("http://wk_cluster_%d@127.0.0.1:%u/webhooks/sendgrid", i % 20,
                                lb_port);
        json_object *arr = json_tokener_parse(tpl);
        char id[32];
        snprintf(id, sizeof(id), "cl-%05d", i);
        json_object_object_add(json_object_array_get_idx(arr, 0), "sg_event_id",
                               json_object_new_string(id));
        const char *body = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
        struct http_resp r;
        long st = http_request("POST", url, ct, body, strlen(body), &r);
        atomic_fetch_add(&l->sent, 1);
        if (st == 200) {
            atomic_fetch_add(&l->ok, 1);
            char mid[48];
            snprintf(mid, sizeof(mid), "sendgrid-%s", id);
            pthread_mutex_lock(&acked_lock);
            json_object_object_add(acked, mid, json_object_new_boolean(1));
            pthread_mutex_unlock(&acked_lock);
        }
        http_resp_fini(&r);
        json_object_put(arr);
        free(url);
        usleep(10000);
    }
    free(tpl);
    return NULL;
}

static size_t missing(void)
{
    json_object *calls = mock_upstream_accepted_calls(mock);
    json_object *seen = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(calls); i++) {
        json_object *id = json_object_object_get(json_object_array_get_idx(calls, i), "messageId");
        json_object_object_add(seen, json_object_get_string(id), json_object_new_boolean(1));
    }
    size_t n = 0;
    pthread_mutex_lock(&acked_lock);
    json_object_object_foreach(acked, key, val)
    {
        (void)val;
        n += json_object_object_get(seen, key) == NULL;
    }
    pthread_mutex_unlock(&acked_lock);
    json_object_put(seen);
    json_object_put(calls);
    return n;
}

Test(cluster, kill_drain_and_budget_behind_haproxy, .init = setup, .fini = teardown,
     .timeout = 180)
{
    struct load l = {0};
    pthread_t t;
    pthread_create(&t, NULL, client, &l);
    while (atomic_load(&l.ok) < 100) {
        usleep(20000);
    }
    /* a crash: SIGKILL, then a restart on the same spool and port */
    kill(inst[0].pid, SIGKILL);
    waitpid(inst[0].pid, NULL, 0);
    inst[0].pid = 0;
    unlink(inst[0].log);
    while (atomic_load(&l.ok) < 200) {
        usleep(20000);
    }
    start_instance(0);
    /* a drain: SIGTERM answers in flight, flushes, exits 0 */
    cr_expect_eq(gwt_proc_stop(&inst[1], SIGTERM, 20000), 0);
    unlink(inst[1].log);
    while (atomic_load(&l.ok) < 300 && atomic_load(&l.sent) < 600) {
        usleep(20000);
    }
    start_instance(1); /* whatever its deadline left in its spool goes now */
    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    cr_log_info("sent %d, acknowledged %d", atomic_load(&l.sent), atomic_load(&l.ok));
    cr_expect_geq(atomic_load(&l.ok), 300);

    int64_t until = mock_now_ms() + 90000;
    size_t left = missing();
    while (left > 0 && mock_now_ms() < until) {
        mock_upstream_wait_calls(mock, (size_t)json_object_object_length(acked) + 1, 500);
        left = missing();
    }
    cr_expect_eq(left, 0, "%zu of %d acknowledged events never reached Segment", left,
                 json_object_object_length(acked));

    /* the budget: no one-second window at the stand-in holds more than it */
    size_t n = mock_upstream_count(mock);
    int64_t *at = gw_calloc(n ? n : 1, sizeof(*at));
    for (size_t i = 0; i < n; i++) {
        struct mock_request *q = mock_upstream_request(mock, i);
        at[i] = q->at_ms;
        mock_request_free(q);
    }
    size_t worst = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (at[i] - at[j] >= 1000) {
            j++;
        }
        worst = i - j + 1 > worst ? i - j + 1 : worst;
    }
    cr_log_info("%zu requests to the stand-in, at most %zu in one second", n, worst);
    cr_expect_leq(worst, BUDGET, "%zu requests in one second, over the budget of %d", worst,
                  BUDGET);
    free(at);
}
