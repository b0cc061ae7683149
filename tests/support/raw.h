/* raw.h -- a raw TCP client for what libcurl will not send: broken
 * framing, dribbled bytes, bodies written before the answer is read, many
 * connections from chosen loopback addresses.
 * SPDX-License-Identifier: MIT */
#ifndef GW_RAW_H
#define GW_RAW_H

#include <stdbool.h>
#include <stddef.h>

/* A connected blocking socket to 127.0.0.1:port from loopback address
 * from ("127.0.0.2"; NULL: any), or -1. */
int raw_connect(unsigned port, const char *from);

/* Writes all of data; false when the peer closed or reset. */
bool raw_write(int fd, const void *data, size_t len);

struct raw_answer {
    char *text;     /* everything read, NUL-terminated (new) */
    size_t len;
    bool eof;       /* the daemon closed the connection */
    bool reset;     /* ... with a reset */
    int status;     /* of the first answer, 0 when none */
    int answers;    /* "HTTP/1.x " status lines seen at line starts */
};

/* Reads until end of file, a reset or wait_ms without data. */
void raw_read(int fd, unsigned wait_ms, struct raw_answer *a);
/* Reads one whole answer (headers, then Content-Length bytes) within
 * wait_ms; true when it came. */
bool raw_read_answer(int fd, unsigned wait_ms, struct raw_answer *a);
/* Sends request on a new connection, reads until end of file or wait_ms. */
void raw_exchange(unsigned port, const char *request, size_t len, unsigned wait_ms,
                  struct raw_answer *a);
void raw_answer_fini(struct raw_answer *a);
/* The value of header name in the first answer (new), or NULL. */
char *raw_header(const struct raw_answer *a, const char *name);

#endif
