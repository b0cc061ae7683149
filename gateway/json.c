/* json.c -- json-c helpers.
 * SPDX-License-Identifier: MIT */
#include "json.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#include <openssl/evp.h>

const char *gw_json_get_str(json_object *obj, const char *key)
{
    json_object *v = gw_json_get(obj, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *gw_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    /* NULL for a member of anything but an object (json-c checks the type) */
    json_object_object_get_ex(obj, key, &v);
    return v;
}

void gw_json_key_init(struct gw_json_key *k, const char *name)
{
    /* the hash json-c's objects use: the one of a table it makes */
    json_object *o = json_object_new_object();
    const struct lh_table *t = json_object_get_object(o);
    k->name = name;
    k->hash_fn = t->hash_fn;
    k->hash = lh_get_hash(t, name);
    json_object_put(o);
}

json_object *gw_json_get_key(json_object *obj, const struct gw_json_key *k)
{
    struct lh_table *t = json_object_get_object(obj); /* NULL unless an object */
    if (t == NULL) {
        return NULL;
    }
    if (t->hash_fn != k->hash_fn) {
        return gw_json_get(obj, k->name);
    }
    struct lh_entry *e = lh_table_lookup_entry_w_hash(t, k->name, k->hash);
    return e != NULL ? (json_object *)lh_entry_v(e) : NULL;
}

/* Returns the object member key of root, made (or replacing a member that
 * is not an object) when needed; borrowed. flags go to json-c with the key. */
static json_object *child_object(json_object *root, const char *key, unsigned flags)
{
    json_object *child = NULL;
    if (!json_object_object_get_ex(root, key, &child) ||
        !json_object_is_type(child, json_type_object)) {
        child = json_object_new_object();
        json_object_object_add_ex(root, key, child, flags);
    }
    return child;
}

void gw_json_set_path(json_object *root, const char *dotted, json_object *val)
{
    const char *dot = NULL;
    while ((dot = strchr(dotted, '.')) != NULL) {
        size_t n = (size_t)(dot - dotted);
        char small[128];
        char *head = n < sizeof(small) ? small : gw_malloc(n + 1);
        memcpy(head, dotted, n);
        head[n] = '\0';
        root = child_object(root, head, 0);
        if (head != small) {
            free(head);
        }
        dotted = dot + 1;
    }
    json_object_object_add(root, dotted, val);
}

json_object *gw_json_child_object(json_object *root, const char *key, bool interned)
{
    return child_object(root, key, interned ? JSON_C_OBJECT_ADD_CONSTANT_KEY : 0);
}

void gw_json_set_keys(json_object *root, const char *const *keys, size_t n, json_object *val,
                      bool interned)
{
    const unsigned flags = interned ? JSON_C_OBJECT_ADD_CONSTANT_KEY : 0;
    GW_ASSERT(n > 0);
    for (size_t i = 0; i + 1 < n; i++) {
        root = child_object(root, keys[i], flags);
    }
    json_object_object_add_ex(root, keys[n - 1], val, flags);
}

/* The interned keys: a json-c object whose member names are the strings,
 * made once and kept for the life of the process. */
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static json_object *interned;

const char *gw_json_key_intern(const char *key, size_t len)
{
    char small[128];
    char *k = len < sizeof(small) ? small : gw_malloc(len + 1);
    memcpy(k, key, len);
    k[len] = '\0';
    GW_ASSERT(pthread_mutex_lock(&intern_lock) == 0);
    if (interned == NULL) {
        interned = json_object_new_object();
    }
    struct lh_table *t = json_object_get_object(interned);
    struct lh_entry *e = lh_table_lookup_entry(t, k);
    if (e == NULL && t->count >= GW_JSON_KEYS_MAX) {
        GW_ASSERT(pthread_mutex_unlock(&intern_lock) == 0);
        if (k != small) {
            free(k);
        }
        return NULL;
    }
    if (e == NULL) {
        json_object_object_add(interned, k, NULL);
        e = lh_table_lookup_entry(t, k);
    }
    GW_ASSERT(e != NULL);
    const char *out = lh_entry_k(e);
    GW_ASSERT(pthread_mutex_unlock(&intern_lock) == 0);
    if (k != small) {
        free(k);
    }
    return out;
}

const char *gw_json_compact(json_object *obj, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (len != NULL) {
        *len = n;
    }
    return s;
}

/* One tokener per thread and nesting cap, reset per parse: making one per
 * request costs its stack and buffer each time. Freed at thread exit. */
enum { TOKENERS = 4 }; /* the body's cap, a number's (1), a signature scheme's, one more */

struct tokeners {
    json_tokener *tok[TOKENERS];
    int depth[TOKENERS];
    size_t next; /* the slot replaced when a new cap comes */
};

static pthread_key_t tokeners_key;
static pthread_once_t tokeners_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *arg)
{
    struct tokeners *t = arg;
    for (size_t i = 0; i < TOKENERS; i++) {
        if (t->tok[i] != NULL) {
            json_tokener_free(t->tok[i]);
        }
    }
    free(t);
}

static void tokeners_init(void)
{
    GW_ASSERT(pthread_key_create(&tokeners_key, on_thread_exit) == 0);
}

/* Returns this thread's tokener for max_depth, reset, borrowed. */
static json_tokener *thread_tokener(int max_depth)
{
    GW_ASSERT(pthread_once(&tokeners_once, tokeners_init) == 0);
    struct tokeners *t = pthread_getspecific(tokeners_key);
    if (t == NULL) {
        t = gw_calloc(1, sizeof(*t));
        GW_ASSERT(pthread_setspecific(tokeners_key, t) == 0);
    }
    for (size_t i = 0; i < TOKENERS; i++) {
        if (t->tok[i] != NULL && t->depth[i] == max_depth) {
            json_tokener_reset(t->tok[i]);
            return t->tok[i];
        }
    }
    size_t i = t->next;
    t->next = (t->next + 1) % TOKENERS;
    if (t->tok[i] != NULL) {
        json_tokener_free(t->tok[i]);
    }
    t->tok[i] = json_tokener_new_ex(max_depth);
    if (t->tok[i] == NULL) {
        gw_fatal("out of memory");
    }
    t->depth[i] = max_depth;
    json_tokener_set_flags(t->tok[i], JSON_TOKENER_STRICT);
    return t->tok[i];
}

enum gw_rc gw_json_parse(const char *buf, size_t len, int max_depth, json_object **out,
                         char *errbuf, size_t errlen)
{
    enum gw_rc rc = GW_ERR_INVALID;
    json_tokener *tok = thread_tokener(max_depth);
    json_object *v = NULL;
    if (len > (size_t)INT32_MAX) {
        snprintf(errbuf, errlen, "too large to parse");
        goto out;
    }
    v = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* all input taken: a bare number is complete only once the tokener
         * sees the end; anything else open is truncated */
        v = json_tokener_parse_ex(tok, "", 1);
        if (v == NULL || json_tokener_get_error(tok) != json_tokener_success) {
            snprintf(errbuf, errlen, "unexpected end of JSON");
            goto out;
        }
        end = len;
    } else if (jerr != json_tokener_success || v == NULL) {
        snprintf(errbuf, errlen, "%s at byte %zu", json_tokener_error_desc(jerr), end);
        goto out;
    }
    /* Only white space may follow the value. */
    for (size_t i = end; i < len; i++) {
        if (buf[i] == '\0' || strchr(" \t\r\n", buf[i]) == NULL) {
            snprintf(errbuf, errlen, "trailing data after the JSON value at byte %zu", i);
            goto out;
        }
    }
    *out = gw_take(&v);
    rc = GW_OK;
out:
    json_object_put(v);
    json_tokener_reset(tok); /* frees what an unfinished parse holds */
    return rc;
}

const char *gw_json_scalar_text(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return json_object_get_string(v);
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    default:
        return NULL;
    }
}

const char *gw_json_scalar_text_buf(json_object *v, char *buf, size_t size)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return json_object_get_string(v);
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int: {
        /* as json-c writes it ("%" PRId64); past INT64_MAX it holds an
         * unsigned value: left to json-c */
        int64_t x = json_object_get_int64(v);
        if (x == INT64_MAX || size < 21) {
            return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        }
        char digits[20];
        size_t n = 0;
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        do {
            digits[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u != 0);
        size_t k = 0;
        if (x < 0) {
            buf[k++] = '-';
        }
        while (n > 0) {
            buf[k++] = digits[--n];
        }
        buf[k] = '\0';
        return buf;
    }
    case json_type_double:
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    default:
        return NULL;
    }
}

/* SHA-256 fetched once from the provider: an EVP_sha256() handed to
 * EVP_DigestInit_ex is looked up again on every call. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void sha256_fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256 == NULL) {
        gw_fatal("sha256 is not available");
    }
}

void gw_json_digest_init(void)
{
    GW_ASSERT(pthread_once(&sha256_once, sha256_fetch) == 0);
}

json_object *gw_json_digest_id(const char *prefix, json_object *obj, const char *salt)
{
    size_t len = 0;
    const char *s = gw_json_compact(obj, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    gw_json_digest_init();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, sha256, NULL) ||
        !EVP_DigestUpdate(ctx, s, len) ||
        (salt != NULL && (!EVP_DigestUpdate(ctx, "\n", 1) ||
                          !EVP_DigestUpdate(ctx, salt, strlen(salt)))) ||
        !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
        gw_fatal("sha256 failed");
    }
    EVP_MD_CTX_free(ctx);
    static const char digits[] = "0123456789abcdef";
    char id[128];
    size_t n = strnlen(prefix, 60);
    memcpy(id, prefix, n);
    id[n++] = '-';
    for (size_t i = 0; i < 16; i++) {
        id[n++] = digits[md[i] >> 4];
        id[n++] = digits[md[i] & 0xf];
    }
    return json_object_new_string_len(id, (int)n);
}
