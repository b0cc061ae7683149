/* mailgun.c -- Mailgun: the signature sits in the body, signature.{timestamp,
 * token, signature} (legacy form posts: top-level fields), hex
 * HMAC-SHA256(signing key, timestamp + token). The event data itself is not
 * covered, so the window and a cache of used tokens are what stop replays;
 * a token is held while its request is in flight and kept only once the
 * request was accepted (gw_verify_commit / gw_verify_release).
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../json.h"
#include "hmac.h"

#define MAX_FIELD 256
#define BODY_DEPTH 32 /* as the decoder's default nesting limit */
#define CACHE_MAX 10000
#define CACHE_BUCKETS 16384 /* a power of two */
#define ID_LEN 16

struct fields {
    const char *ts;
    const char *token;
    const char *sig;
    char ts_buf[24]; /* a numeric JSON timestamp, as text */
    json_object *own; /* the body parsed here, when the caller gave none */
};

/* The replay cache: a ring of token ids in arrival order (the oldest is
 * evicted when full) chained into hash buckets. Ids are a truncated SHA-256
 * of the token, so entries have a fixed size and hold no request text. */
struct seen {
    unsigned char id[ID_LEN];
    uint32_t next; /* ring index + 1 of the next entry in the bucket; 0 ends */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen ring[CACHE_MAX];
static uint32_t bucket[CACHE_BUCKETS]; /* ring index + 1 of the newest entry; 0: empty */
static size_t head;                    /* the next ring slot written */
static size_t count;

static uint32_t bucket_of(const unsigned char *id)
{
    uint32_t h =
        (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
    return h & (CACHE_BUCKETS - 1);
}

static void evict(size_t idx)
{
    uint32_t *link = &bucket[bucket_of(ring[idx].id)];
    while (*link != 0 && *link != idx + 1) {
        link = &ring[*link - 1].next;
    }
    if (*link != 0) {
        *link = ring[idx].next;
    }
}

/* Unlinks a remembered id (its ring slot stays until overwritten). */
static void forget(const unsigned char *id)
{
    pthread_mutex_lock(&cache_lock);
    uint32_t *link = &bucket[bucket_of(id)];
    while (*link != 0 && memcmp(ring[*link - 1].id, id, ID_LEN) != 0) {
        link = &ring[*link - 1].next;
    }
    if (*link != 0) {
        uint32_t idx = *link - 1;
        *link = ring[idx].next;
        ring[idx].next = 0;
    }
    pthread_mutex_unlock(&cache_lock);
}

void gw_verify_commit(struct gw_verify_replay *r)
{
    if (r != NULL) {
        r->held = false; /* stays remembered */
    }
}

void gw_verify_release(struct gw_verify_replay *r)
{
    if (r != NULL && r->held) {
        forget(r->id);
        r->held = false;
    }
}

/* Returns false when id was seen already (or is held by a request in
 * flight); else remembers it. */
static bool remember(const unsigned char *id)
{
    bool fresh = true;
    uint32_t b = bucket_of(id);
    pthread_mutex_lock(&cache_lock);
    for (uint32_t i = bucket[b]; i != 0; i = ring[i - 1].next) {
        if (memcmp(ring[i - 1].id, id, ID_LEN) == 0) {
            fresh = false;
            goto out;
        }
    }
    if (count == CACHE_MAX) {
        evict(head);
    } else {
        count++;
    }
    memcpy(ring[head].id, id, ID_LEN);
    ring[head].next = bucket[b];
    bucket[b] = (uint32_t)head + 1;
    head = (head + 1) % CACHE_MAX;
out:
    pthread_mutex_unlock(&cache_lock);
    return fresh;
}

void gw_verify_reset_replay_cache(void)
{
    pthread_mutex_lock(&cache_lock);
    memset(ring, 0, sizeof(ring));
    memset(bucket, 0, sizeof(bucket));
    head = 0;
    count = 0;
    pthread_mutex_unlock(&cache_lock);
}

static bool from_json(json_object *json, struct fields *f)
{
    json_object *s = gw_json_get(json, "signature");
    if (!json_object_is_type(s, json_type_object)) {
        return false;
    }
    json_object *ts = gw_json_get(s, "timestamp");
    if (json_object_is_type(ts, json_type_int)) {
        snprintf(f->ts_buf, sizeof(f->ts_buf), "%" PRId64, json_object_get_int64(ts));
        f->ts = f->ts_buf;
    } else {
        f->ts = gw_json_get_str(s, "timestamp");
    }
    f->token = gw_json_get_str(s, "token");
    f->sig = gw_json_get_str(s, "signature");
    return true;
}

static bool from_params(const struct gw_verify_input *in, struct fields *f)
{
    const char **slots[] = {&f->ts, &f->token, &f->sig};
    const char *names[] = {"timestamp", "token", "signature"};
    bool any = false;
    for (size_t i = 0; in->params != NULL && i < in->n_params; i++) {
        for (size_t k = 0; k < 3; k++) {
            const struct gw_verify_param *p = &in->params[i];
            if (p->name != NULL && strcmp(p->name, names[k]) == 0 && *slots[k] == NULL) {
                *slots[k] = p->value;
                any = true;
            }
        }
    }
    return any;
}

/* The body as JSON, parsed only for its signature fields when the caller
 * did not decode it (it checks the signature before decoding events). */
static json_object *body_json(const struct gw_verify_input *in, json_object **own)
{
    char err[128];
    size_t skip = 0; /* the body is not NUL-terminated */
    while (in->body != NULL && skip < in->len && strchr(" \t\r\n", in->body[skip]) != NULL &&
           in->body[skip] != '\0') {
        skip++;
    }
    if (in->body == NULL || skip >= in->len || in->body[skip] != '{' ||
        gw_json_parse(in->body, in->len, BODY_DEPTH, own, err, sizeof(err)) != GW_OK) {
        *own = NULL;
    }
    return *own;
}

static enum gw_rc get_fields(const struct gw_verify_input *in, struct fields *f, char *why,
                             size_t whylen)
{
    memset(f, 0, sizeof(*f));
    json_object *json = in->json != NULL ? in->json : body_json(in, &f->own);
    if (!from_json(json, f) && !from_params(in, f)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "body holds no Mailgun signature (timestamp, token, signature)");
    }
    const char *vals[] = {f->ts, f->token, f->sig};
    const char *names[] = {"timestamp", "token", "signature"};
    for (size_t k = 0; k < 3; k++) {
        if (vals[k] == NULL || vals[k][0] == '\0') {
            return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature field %s is missing",
                               names[k]);
        }
        if (strnlen(vals[k], MAX_FIELD + 1) > MAX_FIELD) {
            return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "signature field %s is too long",
                               names[k]);
        }
    }
    return GW_OK;
}

static enum gw_rc check_replay(const char *token, struct gw_verify_replay *hold, char *why,
                               size_t whylen)
{
    unsigned char id[GW_HMAC_SHA256_LEN];
    if (gw_hmac_sha256(token, strlen(token), id) != GW_OK) {
        return gw_hmac_why(GW_ERR_NOMEM, why, whylen, "token hash could not be computed");
    }
    if (!remember(id)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen, "token was already used");
    }
    if (hold != NULL) {
        memcpy(hold->id, id, ID_LEN);
        hold->held = true;
    }
    return GW_OK;
}

static enum gw_rc check_fields(const char *secret, const struct gw_verify_input *in,
                               const struct fields *f, char *why, size_t whylen)
{
    int64_t t = 0;
    if (!gw_hmac_parse_ts(f->ts, strlen(f->ts), &t)) {
        return gw_hmac_why(GW_ERR_UNAUTHORIZED, why, whylen,
                           "signature field timestamp must be unix seconds");
    }
    struct gw_hmac h;
    unsigned char mac[GW_HMAC_MAX];
    size_t maclen = 0;
    gw_hmac_begin(&h, GW_HMAC_SHA256, secret);
    gw_hmac_adds(&h, f->ts);
    gw_hmac_adds(&h, f->token);
    enum gw_rc rc = gw_hmac_end(&h, mac, &maclen);
    if (rc == GW_OK) {
        rc = gw_hmac_match(GW_ENC_HEX, f->sig, strlen(f->sig), mac, maclen,
                           "signature field signature", why, whylen);
    } else {
        gw_hmac_why(rc, why, whylen, "signature could not be computed");
    }
    if (rc == GW_OK) {
        rc = gw_hmac_window(t, in->now, in->tolerance_s, why, whylen);
    }
    /* Only a genuine, in-window token is cached: forged ones cannot fill it.
     * With in->replay it is held, and the caller commits it once the calls
     * are durable or releases it: a 503 must not burn Mailgun's retry. */
    if (rc == GW_OK) {
        rc = check_replay(f->token, in->replay, why, whylen);
    }
    return rc;
}

enum gw_rc gw_verify_mailgun(const char *secret, const struct gw_verify_input *in, char *why,
                             size_t whylen)
{
    struct fields f;
    enum gw_rc rc = get_fields(in, &f, why, whylen);
    if (rc == GW_OK) {
        rc = check_fields(secret, in, &f, why, whylen);
    }
    json_object_put(f.own);
    return rc;
}
