/* client.c -- one upstream POST of a batch body through libcurl.
 * SPDX-License-Identifier: MIT */
#include "client.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../mem.h"

#ifndef GW_VERSION
#define GW_VERSION "0.1.0"
#endif

_Static_assert(CURL_ERROR_SIZE <= sizeof(((struct gw_relay_answer *)0)->error),
               "answer error buffer too small");

/* The multi interface runs the single easy handle so that a post blocked on
 * a hanging upstream can be woken (curl_multi_wakeup) and cut at the
 * shutdown deadline, to the millisecond. */
struct gw_relay_client {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    _Atomic uint64_t cut_ns; /* 0: none */
};

uint64_t gw_relay_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gw_relay_answer_init(struct gw_relay_answer *a)
{
    a->status = 0;
    a->retry_after[0] = '\0';
    a->error[0] = '\0';
    gw_buf_init(&a->body, GW_RELAY_ANSWER_MAX);
}

void gw_relay_answer_fini(struct gw_relay_answer *a)
{
    gw_buf_fini(&a->body);
}

static struct curl_slist *append_header(struct curl_slist *list, const char *h)
{
    struct curl_slist *next = curl_slist_append(list, h);
    if (next == NULL) {
        gw_fatal("out of memory");
    }
    return next;
}

struct gw_relay_client *gw_relay_client_create(void)
{
    struct gw_relay_client *c = gw_calloc(1, sizeof(*c));
    c->multi = curl_multi_init();
    c->easy = curl_easy_init();
    if (c->multi == NULL || c->easy == NULL) {
        gw_fatal("out of memory");
    }
    c->headers = append_header(NULL, "Content-Type: application/json");
    /* An empty Expect: saves the 100-continue round trip on big bodies. */
    c->headers = append_header(c->headers, "Expect:");
    atomic_init(&c->cut_ns, 0);
    return c;
}

void gw_relay_client_destroy(struct gw_relay_client *c)
{
    if (c == NULL) {
        return;
    }
    curl_easy_cleanup(c->easy);
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    free(c);
}

void gw_relay_client_cut(struct gw_relay_client *c, uint64_t deadline_ns)
{
    atomic_store(&c->cut_ns, deadline_ns == 0 ? 1 : deadline_ns);
    curl_multi_wakeup(c->multi);
}

static size_t on_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct gw_relay_answer *a = userdata;
    size_t n = size * nmemb;
    size_t room = a->body.max - a->body.len;
    /* Keep the head of the answer for the log; reading on keeps the
     * connection reusable. */
    if (gw_buf_add(&a->body, ptr, n < room ? n : room) != GW_OK) {
        return 0;
    }
    return n;
}

static void keep_retry_after(struct gw_relay_answer *a, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) {
        n--;
    }
    if (n >= sizeof(a->retry_after)) {
        n = sizeof(a->retry_after) - 1;
    }
    memcpy(a->retry_after, v, n);
    a->retry_after[n] = '\0';
}

static size_t on_curl_header(char *line, size_t size, size_t nitems, void *userdata)
{
    struct gw_relay_answer *a = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    /* A new status line starts a new header block (1xx answers). */
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        a->retry_after[0] = '\0';
    } else if (n >= sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        keep_retry_after(a, line + sizeof(name) - 1, n - (sizeof(name) - 1));
    }
    return n;
}

static void set_options(struct gw_relay_client *c, const struct gw_relay_post *p,
                        struct gw_relay_answer *a)
{
    CURL *e = c->easy;
    long timeout = p->timeout_ms == 0 ? 1 : (long)p->timeout_ms;
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sourcegate/" GW_VERSION);
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, p->write_key);
    curl_easy_setopt(e, CURLOPT_PASSWORD, "");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
}

/* Returns how long to poll: at most 1 s, less when the cut is nearer. */
static int poll_ms(uint64_t now, uint64_t cut)
{
    if (cut == 0 || cut - now >= 1000000000u) {
        return 1000;
    }
    return (int)((cut - now) / 1000000u) + 1;
}

/* Drives the transfer to its end. Returns its result code. */
static CURLcode run(struct gw_relay_client *c)
{
    int running = 1;
    for (;;) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            return CURLE_FAILED_INIT;
        }
        if (running == 0) {
            break;
        }
        uint64_t cut = atomic_load(&c->cut_ns);
        uint64_t now = gw_relay_now_ns();
        if (cut != 0 && now >= cut) {
            snprintf(c->errbuf, sizeof(c->errbuf), "cut at the shutdown deadline");
            return CURLE_OPERATION_TIMEDOUT;
        }
        if (curl_multi_poll(c->multi, NULL, 0, poll_ms(now, cut), NULL) != CURLM_OK) {
            return CURLE_FAILED_INIT;
        }
    }
    CURLcode res = CURLE_FAILED_INIT;
    int left = 0;
    CURLMsg *msg = curl_multi_info_read(c->multi, &left);
    while (msg != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            res = msg->data.result;
        }
        msg = curl_multi_info_read(c->multi, &left);
    }
    return res;
}

enum gw_rc gw_relay_client_post(struct gw_relay_client *c, const struct gw_relay_post *p,
                                struct gw_relay_answer *a)
{
    enum gw_rc rc = GW_ERR_IO;
    a->status = 0;
    a->retry_after[0] = '\0';
    a->error[0] = '\0';
    gw_buf_reset(&a->body);
    c->errbuf[0] = '\0';
    set_options(c, p, a);
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
        snprintf(a->error, sizeof(a->error), "curl_multi_add_handle failed");
        goto out;
    }
    CURLcode res = run(c);
    curl_multi_remove_handle(c->multi, c->easy);
    if (res != CURLE_OK) {
        snprintf(a->error, sizeof(a->error), "%s",
                 c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(res));
        rc = res == CURLE_OPERATION_TIMEDOUT ? GW_ERR_TIMEOUT : GW_ERR_IO;
        goto out;
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &a->status);
    rc = GW_OK;
out:
    if (rc != GW_OK) {
        a->status = 0;
    }
    return rc;
}
