/* rate.c -- a constant-rate load generator for bench/compare.sh: sends
 * RATE requests per second, the k-th at start + k/RATE whatever the answers
 * before it did (an open loop), over at most CONNS keep-alive connections
 * (libcurl multi), for SECONDS; a request's latency runs from the time it
 * was due, so a queue behind a slow answer is counted, not hidden. Prints
 * "RATE sent=N ok=N other=N seconds=S p50_us=N p99_us=N max_us=N connects=N".
 * Usage: rate URL BODY_FILE RATE SECONDS CONNS ["Header: value"]...
 * SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNS 256
#define DRAIN_S 10.0 /* how long answers are awaited once sending stops */

struct slot {
    CURL *h;
    double due;
    int busy;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0)) {
        return -1;
    }
    *out = v;
    return 0;
}

static char *read_file(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        if (f != NULL) {
            fclose(f);
        }
        return NULL;
    }
    char *b = malloc((size_t)*len + 1);
    if (b != NULL && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    double rate = 0, seconds = 0, conns_d = 0;
    long len = 0;
    if (argc < 6 || parse_double(argv[3], &rate) != 0 || parse_double(argv[4], &seconds) != 0 ||
        parse_double(argv[5], &conns_d) != 0 || conns_d > MAX_CONNS) {
        fprintf(stderr, "usage: rate URL BODY_FILE RATE SECONDS CONNS [\"Header: value\"]...\n");
        return 2;
    }
    char *body = read_file(argv[2], &len);
    if (body == NULL) {
        fprintf(stderr, "rate: cannot read %s\n", argv[2]);
        return 2;
    }
    int conns = (int)conns_d;
    size_t cap = (size_t)(rate * seconds) + 16;
    double *lat = malloc(cap * sizeof(*lat));
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (int i = 6; i < argc; i++) {
        hdrs = curl_slist_append(hdrs, argv[i]);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conns);
    static struct slot slots[MAX_CONNS];
    for (int i = 0; i < conns; i++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, argv[1]);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_USERPWD, "wk_bench:");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &slots[i]);
        slots[i].h = h;
    }
    if (lat == NULL || m == NULL) {
        fprintf(stderr, "rate: out of memory\n");
        return 1;
    }

    unsigned long sent = 0, ok = 0, other = 0, done = 0, connects = 0;
    double start = now_s();
    double stop = start + seconds;
    int running = 0;
    for (;;) {
        double t = now_s();
        /* start every request that is due, while a connection is free */
        while (t < stop && start + (double)sent / rate <= t) {
            int i = 0;
            while (i < conns && slots[i].busy) {
                i++;
            }
            if (i == conns) {
                break; /* all busy: it waits, and its wait is counted */
            }
            slots[i].busy = 1;
            slots[i].due = start + (double)sent / rate;
            curl_multi_add_handle(m, slots[i].h);
            sent++;
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            struct slot *s = NULL;
            long code = 0;
            long nc = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &nc);
            connects += (unsigned long)nc;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code == 200) {
                ok++;
            } else {
                other++;
            }
            if (done < cap) {
                lat[done++] = now_s() - s->due;
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            s->busy = 0;
        }
        t = now_s();
        if (t >= stop && running == 0) {
            break;
        }
        if (t >= stop + DRAIN_S) {
            break;
        }
        /* until the next request is due (rounded up to the millisecond:
         * a send is at most 1 ms late, and that counts in its latency) or
         * an answer arrives; one due already waits only while every
         * connection is busy */
        int wait_ms = 100;
        if (t < stop) {
            double next = start + (double)sent / rate - t;
            int idle = 0;
            for (int i = 0; i < conns && !idle; i++) {
                idle = !slots[i].busy;
            }
            if (next > 0) {
                wait_ms = (int)(next * 1000.0) + 1;
            } else if (idle) {
                wait_ms = 0;
            }
        }
        curl_multi_poll(m, NULL, 0, wait_ms > 100 ? 100 : wait_ms, NULL);
    }
    qsort(lat, done, sizeof(*lat), by_value);
    double p50 = done > 0 ? lat[(size_t)((double)(done - 1) * 0.50)] : 0;
    double p99 = done > 0 ? lat[(size_t)((double)(done - 1) * 0.99)] : 0;
    double mx = done > 0 ? lat[done - 1] : 0;
    printf("RATE sent=%lu ok=%lu other=%lu seconds=%.2f p50_us=%.0f p99_us=%.0f max_us=%.0f"
           " connects=%lu\n",
           sent, ok, other, seconds, p50 * 1e6, p99 * 1e6, mx * 1e6, connects);
    for (int i = 0; i < conns; i++) {
        if (slots[i].busy) {
            curl_multi_remove_handle(m, slots[i].h);
        }
        curl_easy_cleanup(slots[i].h);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    free(lat);
    free(body);
    return 0;
}
