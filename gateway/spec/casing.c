/* casing.c -- the Spec's five naming conventions: check a name, convert one.
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "../mem.h"
#include "spec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    enum gw_casing casing;
    const char *name;
    const char *alias;
} casings[] = {
    {GW_CASING_PROPER, "Proper Case", "proper"},       {GW_CASING_SNAKE, "snake_case", "snake"},
    {GW_CASING_CAMEL, "camelCase", "camel"},           {GW_CASING_LOWER, "all lowercase", "lower"},
    {GW_CASING_SENTENCE, "Sentence case", "sentence"},
};

/* The Spec's own Proper Case names keep these lower case after the first
 * word ("Email Marked as Spam", "Product Added to Wishlist"). */
/* clang-format off */
#define W(s) {s, sizeof(s) - 1}
static const struct {
    const char *s;
    size_t n;
} connectors[] = {
    W("a"),  W("an"), W("and"), W("as"), W("at"),  W("by"), W("for"),  W("from"),
    W("in"), W("of"), W("on"),  W("or"), W("the"), W("to"), W("with"),
};
#undef W
/* clang-format on */

enum gw_rc gw_casing_parse(const char *name, enum gw_casing *out)
{
    if (name == NULL) {
        return GW_ERR_INVALID;
    }
    for (size_t i = 0; i < COUNT(casings); i++) {
        if (strcasecmp(name, casings[i].name) == 0 || strcasecmp(name, casings[i].alias) == 0) {
            *out = casings[i].casing;
            return GW_OK;
        }
    }
    return GW_ERR_INVALID;
}

const char *gw_casing_name(enum gw_casing c)
{
    for (size_t i = 0; i < COUNT(casings); i++) {
        if (casings[i].casing == c) {
            return casings[i].name;
        }
    }
    return "unknown casing";
}

/* ASCII only on purpose: the C library's isupper() follows the locale. */
static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_or_digit(char c)
{
    return is_lower(c) || is_digit(c);
}

static bool is_alnum(char c)
{
    return is_upper(c) || is_lower(c) || is_digit(c);
}

static char to_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static char to_upper(char c)
{
    return is_lower(c) ? (char)(c - 'a' + 'A') : c;
}

/* any_case: conversion lower-cases "To" and "TO"; a check takes only "to". */
static bool is_connector(const char *w, size_t n, bool any_case)
{
    for (size_t i = 0; i < COUNT(connectors); i++) {
        if (connectors[i].n != n) {
            continue;
        }
        const char *c = connectors[i].s;
        if (any_case ? strncasecmp(c, w, n) == 0 : memcmp(c, w, n) == 0) {
            return true;
        }
    }
    return false;
}

/* True when s is one or more words, each accepted by ok, separated by exactly
 * one sep: no empty word, no leading or trailing separator. */
static bool words_ok(const char *s, char sep, bool (*ok)(const char *w, size_t n, bool first))
{
    const char *w = s;
    for (const char *p = s;; p++) {
        if (*p != sep && *p != '\0') {
            continue;
        }
        if (p == w || !ok(w, (size_t)(p - w), w == s)) {
            return false;
        }
        if (*p == '\0') {
            return true;
        }
        w = p + 1;
    }
}

static bool all_lower_or_digit(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_lower_or_digit(w[i])) {
            return false;
        }
    }
    return true;
}

/* Upper case or digit first; capitals may follow (acronyms: "SMS", "ID")
 * but not right after a lower-case letter, so "OrderCompleted" is one
 * PascalCase word and not two Proper Case words. */
static bool proper_word(const char *w, size_t n, bool first)
{
    if (!first && is_connector(w, n, false)) {
        return true;
    }
    if (!is_upper(w[0]) && !is_digit(w[0])) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_alnum(w[i]) || (is_upper(w[i]) && is_lower(w[i - 1]))) {
            return false;
        }
    }
    return true;
}

static bool sentence_word(const char *w, size_t n, bool first)
{
    if (first) {
        return (is_upper(w[0]) || is_digit(w[0])) && all_lower_or_digit(w + 1, n - 1);
    }
    return all_lower_or_digit(w, n);
}

static bool camel_ok(const char *s)
{
    if (!is_lower(s[0])) {
        return false;
    }
    for (const char *p = s + 1; *p != '\0'; p++) {
        if (!is_alnum(*p)) {
            return false;
        }
    }
    return true;
}

/* Lower-case letters and digits in words separated by exactly one sep (the
 * common case of words_ok(), in one loop). */
static bool plain_words_ok(const char *s, char sep)
{
    bool at_start = true;
    for (; *s != '\0'; s++) {
        if (*s == sep) {
            if (at_start) {
                return false;
            }
            at_start = true;
        } else if (!is_lower_or_digit(*s)) {
            return false;
        } else {
            at_start = false;
        }
    }
    return !at_start;
}

bool gw_casing_check(enum gw_casing c, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    switch (c) {
    case GW_CASING_PROPER:
        return words_ok(s, ' ', proper_word);
    case GW_CASING_SNAKE:
        return plain_words_ok(s, '_');
    case GW_CASING_CAMEL:
        return camel_ok(s);
    case GW_CASING_LOWER:
        return plain_words_ok(s, ' ');
    case GW_CASING_SENTENCE:
        return words_ok(s, ' ', sentence_word);
    }
    return false;
}

/* Bytes of UTF-8 sequences belong to words (they have no case here), so a
 * conversion never drops a letter it does not understand. */
static bool is_word_byte(char c)
{
    return is_alnum(c) || (unsigned char)c >= 0x80;
}

/* A word ends inside a run of word bytes at a camel hump ("order|Completed")
 * and before the last capital of an acronym that starts a word
 * ("HTML|Parser"). */
static bool is_boundary(const char *s, size_t i)
{
    if (is_upper(s[i]) && is_lower(s[i - 1])) {
        return true;
    }
    return is_upper(s[i]) && is_upper(s[i - 1]) && is_lower(s[i + 1]);
}

/* Finds the next word at or after *pos; returns its length (0 at the end)
 * and sets *start. */
static size_t next_word(const char *s, size_t *pos, size_t *start)
{
    size_t i = *pos;
    while (s[i] != '\0' && !is_word_byte(s[i])) {
        i++;
    }
    *start = i;
    if (s[i] != '\0') {
        i++;
    }
    while (s[i] != '\0' && is_word_byte(s[i]) && !is_boundary(s, i)) {
        i++;
    }
    *pos = i;
    return i - *start;
}

static bool capitalize(enum gw_casing c, size_t k, const char *w, size_t n)
{
    switch (c) {
    case GW_CASING_PROPER:
        return k == 0 || !is_connector(w, n, true);
    case GW_CASING_CAMEL:
        return k > 0;
    case GW_CASING_SENTENCE:
        return k == 0;
    case GW_CASING_SNAKE:
    case GW_CASING_LOWER:
        break;
    }
    return false;
}

/* Writes s converted to c into out, which holds at least 2 * strlen(s) + 1
 * bytes: each word adds at most one separator byte. */
static void convert(enum gw_casing c, const char *s, char *out)
{
    size_t len = 0;
    size_t pos = 0;
    size_t start = 0;
    size_t n = next_word(s, &pos, &start);
    for (size_t k = 0; n > 0; k++) {
        if (k > 0 && c != GW_CASING_CAMEL) {
            out[len++] = c == GW_CASING_SNAKE ? '_' : ' ';
        }
        bool cap = capitalize(c, k, s + start, n);
        for (size_t i = 0; i < n; i++) {
            char ch = s[start + i];
            out[len++] = i == 0 && cap ? to_upper(ch) : to_lower(ch);
        }
        n = next_word(s, &pos, &start);
    }
    out[len] = '\0';
}

char *gw_casing_convert(enum gw_casing c, const char *s)
{
    char *out = gw_malloc(2 * strlen(s) + 1);
    convert(c, s, out);
    return out;
}

bool gw_casing_convert_to(enum gw_casing c, const char *s, char *out, size_t cap)
{
    if (cap == 0 || strlen(s) > (cap - 1) / 2) {
        return false;
    }
    convert(c, s, out);
    return true;
}
