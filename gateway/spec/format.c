/* format.c -- the formats of an integration's name and version, and the
 * length of a messageId.
 * SPDX-License-Identifier: MIT */
#include "format.h"

#include <string.h>

/* Lowercase letters, digits and hyphens; no hyphen at either end. */
bool gw_format_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '-' || s[n - 1] == '-') {
        return false;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

#define IDENT_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

/* Dot-separated identifiers; in a pre-release a numeric one has no leading
 * zero. Returns the length read, 0 when malformed. */
static size_t semver_idents(const char *s, bool prerelease)
{
    size_t n = 0;
    for (;;) {
        size_t k = strspn(s + n, IDENT_CHARS);
        bool numeric = strspn(s + n, "0123456789") == k;
        if (k == 0 || (prerelease && numeric && k > 1 && s[n] == '0')) {
            return 0;
        }
        n += k;
        if (s[n] != '.') {
            return n;
        }
        n++;
    }
}

/* MAJOR.MINOR.PATCH[-pre.release][+build], as semver.org 2.0.0 says. */
bool gw_format_semver(const char *s)
{
    for (int i = 0; i < 3; i++) {
        size_t n = strspn(s, "0123456789");
        if (n == 0 || (n > 1 && s[0] == '0') || (i < 2 && s[n] != '.')) {
            return false;
        }
        s += n + (i < 2);
    }
    if (*s == '-') {
        size_t n = semver_idents(s + 1, true);
        if (n == 0) {
            return false;
        }
        s += n + 1;
    }
    if (*s == '+') {
        size_t n = semver_idents(s + 1, false);
        if (n == 0) {
            return false;
        }
        s += n + 1;
    }
    return *s == '\0';
}

size_t gw_format_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}
