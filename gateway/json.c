/* json.c -- json-c helpers.
 * SPDX-License-Identifier: MIT */
#include "json.h"

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
    if (!json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

void gw_json_set_path(json_object *root, const char *dotted, json_object *val)
{
    const char *dot = strchr(dotted, '.');
    if (dot == NULL) {
        json_object_object_add(root, dotted, val);
        return;
    }
    char *head = gw_strndup(dotted, (size_t)(dot - dotted));
    json_object *child = gw_json_get(root, head);
    if (!json_object_is_type(child, json_type_object)) {
        child = json_object_new_object();
        json_object_object_add(root, head, child);
    }
    free(head);
    gw_json_set_path(child, dot + 1, val);
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

enum gw_rc gw_json_parse(const char *buf, size_t len, int max_depth, json_object **out,
                         char *errbuf, size_t errlen)
{
    enum gw_rc rc = GW_ERR_INVALID;
    json_tokener *tok = json_tokener_new_ex(max_depth);
    json_object *v = NULL;
    if (tok == NULL) {
        gw_fatal("out of memory");
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
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
    json_tokener_free(tok);
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

json_object *gw_json_digest_id(const char *prefix, json_object *obj, const char *salt)
{
    size_t len = 0;
    const char *s = gw_json_compact(obj, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, s, len) ||
        (salt != NULL && (!EVP_DigestUpdate(ctx, "\n", 1) ||
                          !EVP_DigestUpdate(ctx, salt, strlen(salt)))) ||
        !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
        gw_fatal("sha256 failed");
    }
    EVP_MD_CTX_free(ctx);
    char hex[33];
    for (size_t i = 0; i < 16; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    char id[128];
    snprintf(id, sizeof(id), "%.60s-%s", prefix, hex);
    return json_object_new_string(id);
}
