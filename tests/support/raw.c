/* raw.c -- a raw TCP client for the tests (raw.h).
 * SPDX-License-Identifier: MIT */
#include "raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

int raw_connect(unsigned port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (from != NULL) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &local.sin_addr);
        if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool raw_write(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void summarise(struct raw_answer *a, struct gw_buf *b)
{
    a->len = b->len;
    a->text = gw_strndup(gw_buf_str(b), b->len);
    a->status = 0;
    a->answers = 0;
    for (const char *p = a->text; p != NULL && *p != '\0';) {
        if (strncmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ') {
            if (a->answers++ == 0) {
                a->status = (int)strtol(p + 9, NULL, 10);
            }
        }
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
}

/* Reads what comes within wait_ms into b; stops at end of file, at a
 * reset, or when done(b) says the answer is whole. */
static void read_into(int fd, unsigned wait_ms, struct raw_answer *a, struct gw_buf *b,
                      bool (*done)(const struct gw_buf *))
{
    long long until = now_ms() + wait_ms;
    char chunk[16384];
    while (!(done != NULL && done(b))) {
        long long left = until - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            break;
        }
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            a->reset = true;
            a->eof = true;
            break;
        }
        if (n == 0) {
            a->eof = true;
            break;
        }
        if (gw_buf_add(b, chunk, (size_t)n) != GW_OK) {
            break;
        }
    }
}

void raw_read(int fd, unsigned wait_ms, struct raw_answer *a)
{
    memset(a, 0, sizeof(*a));
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    read_into(fd, wait_ms, a, &b, NULL);
    summarise(a, &b);
    gw_buf_fini(&b);
}

static bool whole(const struct gw_buf *b)
{
    const char *t = gw_buf_str(b);
    const char *end = t != NULL ? strstr(t, "\r\n\r\n") : NULL;
    if (end == NULL) {
        return false;
    }
    const char *cl = strcasestr(t, "\r\nContent-Length:");
    unsigned long want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
    return b->len >= (size_t)(end + 4 - t) + want;
}

bool raw_read_answer(int fd, unsigned wait_ms, struct raw_answer *a)
{
    memset(a, 0, sizeof(*a));
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    read_into(fd, wait_ms, a, &b, whole);
    bool ok = whole(&b);
    summarise(a, &b);
    gw_buf_fini(&b);
    return ok;
}

void raw_exchange(unsigned port, const char *request, size_t len, unsigned wait_ms,
                  struct raw_answer *a)
{
    memset(a, 0, sizeof(*a));
    int fd = raw_connect(port, NULL);
    if (fd < 0) {
        a->text = gw_strdup("");
        return;
    }
    raw_write(fd, request, len);
    raw_read(fd, wait_ms, a);
    close(fd);
}

void raw_answer_fini(struct raw_answer *a)
{
    free(a->text);
    memset(a, 0, sizeof(*a));
}

char *raw_header(const struct raw_answer *a, const char *name)
{
    const char *end = a->text != NULL ? strstr(a->text, "\r\n\r\n") : NULL;
    size_t nlen = strlen(name);
    for (const char *p = a->text ? strstr(a->text, "\r\n") : NULL; p != NULL && p < end;
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nlen) == 0 && p[2 + nlen] == ':') {
            const char *v = p + 3 + nlen;
            v += strspn(v, " ");
            return gw_strndup(v, strcspn(v, "\r\n"));
        }
    }
    return NULL;
}
