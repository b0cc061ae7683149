/* conns.c -- trusted proxies, per-peer connection caps, read deadlines.
 *
 * Behind a load balancer every connection comes from the balancer: capping
 * connections per TCP peer would cap the balancer, so a trusted proxy is
 * not capped here (its clients are, per request, in server.c); any other
 * peer is refused at accept once it holds max_per_peer connections.
 *
 * MHD's idle timeout restarts with every byte, so a client sending one
 * byte a second (headers or body) would hold its connection for ever: once
 * a second every connection whose request is not whole by its deadline is
 * shut down, and MHD closes it on the end of file it then reads. The
 * socket stays MHD's: an entry leaves the list (under the lock) before MHD
 * closes its socket, so a shutdown never hits a reused descriptor.
 * SPDX-License-Identifier: MIT */
#include "conns.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "climit.h"
#include "log.h"
#include "mem.h"
#include "rc.h"
#include "thread.h"

/* An address prefix: "10.0.0.0/8", or one address ("::1": all its bits). */
struct prefix {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned bits;
};

/* Per-connection state (MHD's socket context), from accept to close. */
struct peer {
    struct peer *prev, *next;
    int fd;
    bool counted;     /* in cs->peers (an untrusted peer) */
    int64_t deadline; /* monotonic ms by which the request in reading must be whole; 0: none */
    char addr[64];
};

struct gw_conns {
    struct prefix *trusted;
    size_t n_trusted;
    unsigned max_per_peer;
    unsigned read_timeout_ms;
    struct gw_climit *peers; /* open connections per untrusted peer */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct peer *list;
    bool sweeping;
    pthread_t sweeper;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses "10.0.0.0/8", "127.0.0.1" or "::1" into p. */
static enum gw_rc parse_prefix(const char *text, struct prefix *p)
{
    char net[64];
    if (snprintf(net, sizeof(net), "%s", text) >= (int)sizeof(net)) {
        return GW_ERR_INVALID;
    }
    p->family = strchr(net, ':') ? AF_INET6 : AF_INET;
    unsigned max = p->family == AF_INET ? 32 : 128;
    p->bits = max;
    char *slash = strchr(net, '/');
    if (slash != NULL) {
        char *end = NULL;
        *slash = '\0';
        unsigned long bits = strtoul(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || bits > max) {
            return GW_ERR_INVALID;
        }
        p->bits = (unsigned)bits;
    }
    return inet_pton(p->family, net, p->addr) == 1 ? GW_OK : GW_ERR_INVALID;
}

bool gw_conns_trusted(const struct gw_conns *cs, const char *addr)
{
    unsigned char a[16];
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (cs->n_trusted == 0 || inet_pton(fam, addr, a) != 1) {
        return false;
    }
    for (size_t i = 0; i < cs->n_trusted; i++) {
        const struct prefix *p = &cs->trusted[i];
        unsigned full = p->bits / 8, rest = p->bits % 8;
        if (p->family == fam && memcmp(a, p->addr, full) == 0 &&
            (rest == 0 || ((a[full] ^ p->addr[full]) & (0xff << (8 - rest))) == 0)) {
            return true;
        }
    }
    return false;
}

/* A client can write X-Forwarded-For, so it is believed only as far as the
 * trusted proxies vouch for it: the hops are walked right to left. */
void gw_conns_client(const struct gw_conns *cs, const char *peer, const char *xff, char *out,
                     size_t len)
{
    snprintf(out, len, "%s", peer);
    if (xff == NULL) {
        return;
    }
    /* a private copy, cut at each comma */
    char hops[1024];
    snprintf(hops, sizeof(hops), "%s", xff);
    while (gw_conns_trusted(cs, out)) {
        char *comma = strrchr(hops, ',');
        char *last = comma ? comma + 1 : hops;
        last += strspn(last, " ");
        last[strcspn(last, " ")] = '\0';
        if (last[0] == '\0') {
            break;
        }
        snprintf(out, len, "%s", last);
        if (comma == NULL) {
            break;
        }
        *comma = '\0';
    }
}

void gw_conns_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
    snprintf(out, len, "?");
    if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
        return;
    }
    const void *bin = sa->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    inet_ntop(sa->sa_family, bin, out, (socklen_t)len);
}

static void *sweep(void *arg)
{
    gw_thread_name("sg-sweeper");
    struct gw_conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (cs->sweeping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&cs->cv, &cs->mu, &until);
        int64_t now = now_ms();
        for (struct peer *p = cs->list; p != NULL; p = p->next) {
            if (p->deadline != 0 && now > p->deadline) {
                p->deadline = 0;
                gw_warn("server", "a request from %s was not read whole within %u ms; closing",
                        p->addr, cs->read_timeout_ms);
                shutdown(p->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

struct gw_conns *gw_conns_create(const struct gw_conns_opts *o)
{
    struct gw_conns *cs = gw_calloc(1, sizeof(*cs));
    cs->trusted = gw_calloc(o->n_trusted_proxies ? o->n_trusted_proxies : 1,
                            sizeof(*cs->trusted));
    for (size_t i = 0; i < o->n_trusted_proxies; i++) {
        if (parse_prefix(o->trusted_proxies[i], &cs->trusted[cs->n_trusted]) == GW_OK) {
            cs->n_trusted++;
        } else {
            gw_warn("server", "trusted proxy '%s' is not an address or prefix; ignored",
                    o->trusted_proxies[i]);
        }
    }
    cs->max_per_peer = o->max_per_peer;
    cs->read_timeout_ms = o->read_timeout_ms;
    cs->peers = gw_climit_create(o->max_per_peer);
    pthread_mutex_init(&cs->mu, NULL);
    pthread_cond_init(&cs->cv, NULL);
    cs->sweeping = true;
    if (pthread_create(&cs->sweeper, NULL, sweep, cs) != 0) {
        gw_fatal("cannot start the read-deadline thread");
    }
    return cs;
}

void gw_conns_destroy(struct gw_conns *cs)
{
    if (cs == NULL) {
        return;
    }
    pthread_mutex_lock(&cs->mu);
    cs->sweeping = false;
    pthread_cond_signal(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    pthread_join(cs->sweeper, NULL);
    gw_climit_destroy(cs->peers);
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs->trusted);
    free(cs);
}

enum MHD_Result gw_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct gw_conns *cs = cls;
    char text[64];
    gw_conns_addr_text(addr, text, sizeof(text));
    if (gw_conns_trusted(cs, text) || gw_climit_room(cs->peers, text)) {
        return MHD_YES;
    }
    gw_warn("server", "peer %s is at its limit of %u connections; refused", text,
            cs->max_per_peer);
    return MHD_NO;
}

void gw_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    struct gw_conns *cs = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct peer *p = gw_calloc(1, sizeof(*p));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        gw_conns_addr_text(ci != NULL ? ci->client_addr : NULL, p->addr, sizeof(p->addr));
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        p->fd = ci != NULL ? ci->connect_fd : -1;
        p->counted = !gw_conns_trusted(cs, p->addr);
        if (p->counted) {
            /* gw_conns_accept saw room; two accepts at once may pass it by one */
            gw_climit_add(cs->peers, p->addr);
        }
        pthread_mutex_lock(&cs->mu);
        p->deadline = p->fd >= 0 ? now_ms() + cs->read_timeout_ms : 0;
        p->next = cs->list;
        if (cs->list != NULL) {
            cs->list->prev = p;
        }
        cs->list = p;
        pthread_mutex_unlock(&cs->mu);
        *socket_context = p;
        return;
    }
    struct peer *p = *socket_context;
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&cs->mu);
    if (p->prev != NULL) {
        p->prev->next = p->next;
    } else {
        cs->list = p->next;
    }
    if (p->next != NULL) {
        p->next->prev = p->prev;
    }
    pthread_mutex_unlock(&cs->mu);
    if (p->counted) {
        gw_climit_give(cs->peers, p->addr);
    }
    free(p);
    *socket_context = NULL;
}

void gw_conns_deadline(struct gw_conns *cs, struct MHD_Connection *c, unsigned grace_ms)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct peer *p = ci != NULL ? ci->socket_context : NULL;
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&cs->mu);
    p->deadline = grace_ms == GW_CONNS_READ_DONE ? 0
                                                 : now_ms() + grace_ms + cs->read_timeout_ms;
    pthread_mutex_unlock(&cs->mu);
}

bool gw_conns_split_listen(const char *listen, char *host, size_t len, const char **port)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= len) {
        return false;
    }
    snprintf(host, len, "%.*s", (int)(colon - listen), listen);
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    *port = colon + 1;
    return true;
}

enum gw_rc gw_conns_parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
    char host[256];
    const char *port = NULL;
    if (!gw_conns_split_listen(listen, host, sizeof(host), &port)) {
        return GW_ERR_INVALID;
    }
    char *end = NULL;
    unsigned long p = strtoul(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || p > 65535) {
        return GW_ERR_INVALID;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || res == NULL) {
        return GW_ERR_INVALID;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return GW_OK;
}
