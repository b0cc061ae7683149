/* standin.c -- the fastest Segment stand-in for the benchmark: answers
 * every POST with 200 {"success":true} at once, counts requests, calls and
 * body bytes. GET /stats answers "requests N calls N bytes N" (the counts so
 * far, for a caller that takes differences around a run). Prints "port N"
 * when listening; on SIGINT/SIGTERM prints its counts.
 * SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_ulong requests;
static atomic_ulong calls;
static atomic_ulong bytes;
static volatile sig_atomic_t done;

static void on_signal(int sig)
{
    (void)sig;
    done = 1;
}

/* A body arrives in chunks: the last bytes of one are kept, so that a
 * "messageId" cut in two by a chunk's end is still counted, once. */
#define NEEDLE "\"messageId\""
#define CARRY (sizeof(NEEDLE) - 2)
struct upload {
    char carry[CARRY];
    size_t ncarry;
};

/* Counts the calls of a batch body without parsing it. */
static unsigned long count_calls(const char *p, size_t n)
{
    static const char needle[] = NEEDLE;
    unsigned long k = 0;
    const char *end = p + n;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), needle, sizeof(needle) - 1);
        if (hit == NULL) {
            break;
        }
        k++;
        p = hit + sizeof(needle) - 1;
    }
    return k;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **state)
{
    static const char ok[] = "{\"success\":true}";
    if (strcmp(method, "GET") == 0) {
        char text[128];
        int n = snprintf(text, sizeof(text), "requests %lu calls %lu bytes %lu\n",
                         atomic_load(&requests), atomic_load(&calls), atomic_load(&bytes));
        if (n < 0 || (size_t)n >= sizeof(text) || strcmp(url, "/stats") != 0) {
            n = 0;
        }
        struct MHD_Response *r =
            MHD_create_response_from_buffer((size_t)n, text, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "text/plain");
        enum MHD_Result ret = MHD_queue_response(c, n > 0 ? 200 : 404, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (*state == NULL) {
        *state = calloc(1, sizeof(struct upload));
        return *state != NULL ? MHD_YES : MHD_NO;
    }
    if (*size > 0) {
        struct upload *u = *state;
        char *joined = malloc(u->ncarry + *size);
        if (joined == NULL) {
            return MHD_NO;
        }
        memcpy(joined, u->carry, u->ncarry);
        memcpy(joined + u->ncarry, data, *size);
        size_t n = u->ncarry + *size;
        atomic_fetch_add(&bytes, *size);
        atomic_fetch_add(&calls, count_calls(joined, n));
        /* fewer bytes than a needle: none counted here can be counted again */
        u->ncarry = n < CARRY ? n : CARRY;
        memcpy(u->carry, joined + n - u->ncarry, u->ncarry);
        free(joined);
        *size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&requests, 1);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    free(*state);
    *state = NULL;
}

int main(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request,
                         NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL) {
        fprintf(stderr, "standin: cannot listen\n");
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("port %u\n", (unsigned)info->port);
    fflush(stdout);
    while (!done) {
        pause();
    }
    MHD_stop_daemon(d);
    printf("standin: %lu requests, %lu calls, %lu bytes\n", atomic_load(&requests),
           atomic_load(&calls), atomic_load(&bytes));
    return 0;
}
