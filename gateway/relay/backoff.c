/* backoff.c -- full-jitter exponential backoff and Retry-After parsing (pure).
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* xorshift64*: tiny, good enough to spread retries; not for secrets. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    if (x == 0) {
        /* A zero state would stay zero forever. */
        x = 0x9E3779B97F4A7C15ULL;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

unsigned gw_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned max_ms, uint64_t *state)
{
    uint64_t cap = max_ms;
    /* base_ms < 2^32, so a shift below 32 cannot overflow 64 bits. */
    if (attempt < 32) {
        uint64_t grown = (uint64_t)base_ms << attempt;
        if (grown < cap) {
            cap = grown;
        }
    }
    if (base_ms == 0 || cap == 0) {
        return 0;
    }
    return (unsigned)(next_random(state) % (cap + 1));
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* Returns the length of value without trailing blanks. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    return n;
}

static unsigned seconds_to_ms(uint64_t seconds)
{
    if (seconds > UINT_MAX / 1000) {
        return UINT_MAX;
    }
    return (unsigned)(seconds * 1000);
}

/* delay-seconds = 1*DIGIT (RFC 9110 10.2.3) */
static enum gw_rc parse_seconds(const char *s, size_t len, unsigned *ms)
{
    if (len == 0 || len > 30) {
        return GW_ERR_INVALID;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return GW_ERR_INVALID;
        }
    }
    char digits[32];
    memcpy(digits, s, len);
    digits[len] = '\0';
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, 10);
    *ms = errno == ERANGE ? UINT_MAX : seconds_to_ms(v);
    return GW_OK;
}

static int month_index(const char *name)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++) {
        if (strcmp(name, months[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), after
 * Howard Hinnant's days_from_civil: no timegm(), no time zone. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct http_date {
    char month[4];
    int day, year, hour, min, sec;
};

/* The three forms a recipient must accept (RFC 9110 5.6.7): IMF-fixdate,
 * obsolete RFC 850 and asctime. Day names are not checked. */
static bool scan_http_date(const char *s, struct http_date *t)
{
    char wd[10];
    int n = 0;
    if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &t->day, t->month,
               &t->year, &t->hour, &t->min, &t->sec, &n) == 7 &&
        s[n] == '\0') {
        return true;
    }
    n = 0;
    if (sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wd, &t->day, t->month,
               &t->year, &t->hour, &t->min, &t->sec, &n) == 7 &&
        s[n] == '\0') {
        /* Two-digit years: RFC 9110 says to pick the most recent past
         * century; 1970-2069 is the same for any date a server sends now. */
        t->year += t->year < 70 ? 2000 : 1900;
        return true;
    }
    n = 0;
    return sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, t->month, &t->day, &t->hour,
                  &t->min, &t->sec, &t->year, &n) == 7 &&
           s[n] == '\0';
}

static enum gw_rc parse_http_date(const char *s, int64_t now_unix, unsigned *ms)
{
    struct http_date t;
    if (!scan_http_date(s, &t)) {
        return GW_ERR_INVALID;
    }
    int month = month_index(t.month);
    if (month < 0 || t.day < 1 || t.day > 31 || t.year < 1970 || t.hour > 23 || t.min > 59 ||
        t.sec > 60 || t.hour < 0 || t.min < 0 || t.sec < 0) {
        return GW_ERR_INVALID;
    }
    int64_t when =
        days_from_civil(t.year, month + 1, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
    *ms = when <= now_unix ? 0 : seconds_to_ms((uint64_t)(when - now_unix));
    return GW_OK;
}

enum gw_rc gw_backoff_retry_after(const char *value, int64_t now_unix, unsigned *ms)
{
    if (value == NULL) {
        return GW_ERR_INVALID;
    }
    const char *s = skip_space(value);
    size_t len = trimmed_len(s);
    if (len > 0 && s[0] >= '0' && s[0] <= '9') {
        return parse_seconds(s, len, ms);
    }
    char copy[64];
    if (len == 0 || len >= sizeof(copy)) {
        return GW_ERR_INVALID;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    return parse_http_date(copy, now_unix, ms);
}
