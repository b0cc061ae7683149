/* conns.h -- who is connected: the trusted proxies and the client behind
 * them, open connections capped per untrusted TCP peer, and a deadline by
 * which each request must be read whole (headers and body).
 * SPDX-License-Identifier: MIT */
#ifndef GW_CONNS_H
#define GW_CONNS_H

#include <limits.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "rc.h"

struct gw_conns;

struct gw_conns_opts {
    const char *const *trusted_proxies; /* addresses or CIDRs; bad ones are warned of, ignored */
    size_t n_trusted_proxies;
    unsigned max_per_peer;    /* open connections per untrusted peer */
    unsigned read_timeout_ms; /* a request not read whole by then is cut */
};

/* New bookkeeping; starts the thread that cuts slow reads. */
struct gw_conns *gw_conns_create(const struct gw_conns_opts *o);
/* Stops the thread; call after MHD_stop_daemon. */
void gw_conns_destroy(struct gw_conns *cs);

/* True when addr (text) is one of the trusted proxies. */
bool gw_conns_trusted(const struct gw_conns *cs, const char *addr);

/* The client of a request whose TCP peer is peer (text): the peer, or, when
 * it is a trusted proxy, the nearest untrusted address of xff (may be NULL). */
void gw_conns_client(const struct gw_conns *cs, const char *peer, const char *xff, char *out,
                     size_t len);

/* A socket address as text ("?" when not IP). */
void gw_conns_addr_text(const struct sockaddr *sa, char *out, size_t len);

/* MHD's accept policy (cls: the gw_conns): refuses a peer at its cap. */
enum MHD_Result gw_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_OPTION_NOTIFY_CONNECTION (cls: the gw_conns). */
void gw_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);

#define GW_CONNS_READ_DONE UINT_MAX
/* The request in reading on c must be whole by now + grace_ms +
 * read_timeout; GW_CONNS_READ_DONE: it is, stop the clock. */
void gw_conns_deadline(struct gw_conns *cs, struct MHD_Connection *c, unsigned grace_ms);

/* Splits "host:port", "[v6]:port" or ":port" into host (brackets off, may be
 * empty) and port (borrowed from listen). False when there is no colon or
 * the host is longer than len. */
bool gw_conns_split_listen(const char *listen, char *host, size_t len, const char **port);

/* Parses a listen address (as above, a numeric port) into *ss; *v6 says
 * whether it is IPv6. GW_ERR_INVALID when it does not parse or resolve. */
enum gw_rc gw_conns_parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6);

#endif
