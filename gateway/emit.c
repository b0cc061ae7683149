/* emit.c -- compact JSON text of a json-c value, written straight into a
 * buffer. json-c serializes each object into a print buffer of its own and
 * escapes a string one character at a time through a switch; the calls of a
 * request are written here, once each, into one buffer, copying the runs
 * that need no escape whole. Doubles are left to json-c, which knows how
 * each was made (json_object_new_double_s keeps its text). test_emit holds
 * the output to gw_json_compact's.
 * SPDX-License-Identifier: MIT */
#include "emit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

/* The escape of each byte, as json-c writes it: 0 for none, a letter for
 * a two-character escape, 'u' for \u00XX. NOSLASHESCAPE: '/' is plain. */
static const char escape_of[256] = {
    ['\b'] = 'b', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\f'] = 'f',
    ['"'] = '"', ['\\'] = '\\',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

/* Writes the escape of c (escape_of[c] != 0) to out; returns its length. */
static size_t put_escape(char *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e = escape_of[c];
    if (e != 'u') {
        out[0] = '\\';
        out[1] = e;
        return 2;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

size_t gw_json_quote(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    if (cap < 3) {
        return 0;
    }
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = escape_of[c] == 0 ? 1 : escape_of[c] == 'u' ? 6 : 2;
        if (o + need + 1 >= cap) {
            return 0;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            o += put_escape(out + o, c);
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* Whether none of the 8 bytes of w needs an escape: no byte below 0x20,
 * no '"', no '\\' (the exact tests of "Bit Twiddling Hacks", hasless and
 * haszero, for the word at once). */
static bool word_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t quote = w ^ (ones * '"');
    uint64_t slash = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                   ((slash - ones) & ~slash);
    return (hit & (ones * 0x80)) == 0;
}

enum gw_rc gw_emit_str(struct gw_buf *b, const char *s, size_t n)
{
    /* room for the worst case (every byte a \u00XX) once, then written in
     * place: plain runs copied whole */
    if (n > (SIZE_MAX - 2) / 6) {
        return GW_ERR_TOO_LARGE;
    }
    enum gw_rc rc = gw_buf_room(b, 6 * n + 2);
    if (rc != GW_OK) {
        return rc;
    }
    char *o = b->ptr + b->len;
    *o++ = '"';
    size_t run = 0; /* start of the bytes not yet copied */
    size_t i = 0;
    while (i < n) {
        /* eight bytes at a time while none needs an escape */
        size_t end = n - i >= 8 ? i + 8 : n;
        uint64_t w = 0;
        if (end - i == 8) {
            memcpy(&w, s + i, 8);
        }
        if (end - i == 8 && word_plain(w)) {
            i = end;
            continue;
        }
        for (; i < end; i++) {
            unsigned char c = (unsigned char)s[i];
            if (escape_of[c] != 0) {
                memcpy(o, s + run, i - run);
                o += i - run;
                o += put_escape(o, c);
                run = i + 1;
            }
        }
    }
    memcpy(o, s + run, n - run);
    o += n - run;
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->ptr);
    return GW_OK;
}

static enum gw_rc emit_int(struct gw_buf *b, json_object *v)
{
    char text[24];
    int64_t i = json_object_get_int64(v);
    int n;
    if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
        n = snprintf(text, sizeof(text), "%" PRIu64, json_object_get_uint64(v));
    } else if (i >= 0 && i < 10) {
        text[0] = (char)('0' + i);
        n = 1;
    } else {
        n = snprintf(text, sizeof(text), "%" PRId64, i);
    }
    return gw_buf_add(b, text, (size_t)n);
}

enum gw_rc gw_emit_json(struct gw_buf *b, json_object *v)
{
    enum gw_rc rc = GW_OK;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return gw_buf_add(b, "null", 4);
    case json_type_boolean:
        return json_object_get_boolean(v) ? gw_buf_add(b, "true", 4) : gw_buf_add(b, "false", 5);
    case json_type_int:
        return emit_int(b, v);
    case json_type_double: {
        size_t n = 0;
        const char *text = json_object_to_json_string_length(
            v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        return gw_buf_add(b, text, n);
    }
    case json_type_string:
        return gw_emit_str(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: {
        size_t n = json_object_array_length(v);
        rc = gw_buf_add(b, "[", 1);
        for (size_t i = 0; i < n && rc == GW_OK; i++) {
            rc = i > 0 ? gw_buf_add(b, ",", 1) : GW_OK;
            rc = rc == GW_OK ? gw_emit_json(b, json_object_array_get_idx(v, i)) : rc;
        }
        return rc == GW_OK ? gw_buf_add(b, "]", 1) : rc;
    }
    case json_type_object: {
        rc = gw_buf_add(b, "{", 1);
        bool first = true;
        json_object_object_foreach(v, key, val)
        {
            if (rc != GW_OK) {
                break;
            }
            rc = first ? GW_OK : gw_buf_add(b, ",", 1);
            first = false;
            rc = rc == GW_OK ? gw_emit_str(b, key, strlen(key)) : rc;
            rc = rc == GW_OK ? gw_buf_add(b, ":", 1) : rc;
            rc = rc == GW_OK ? gw_emit_json(b, val) : rc;
        }
        return rc == GW_OK ? gw_buf_add(b, "}", 1) : rc;
    }
    }
    return gw_buf_add(b, "null", 4);
}
