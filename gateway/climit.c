/* climit.c -- a small chained hash table of counts per address. An entry
 * lives while its count is above zero, so the table holds no more entries
 * than there are connections or requests in progress.
 * SPDX-License-Identifier: MIT */
#include "climit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define CLIMIT_BUCKETS 1024 /* a power of two */
#define CLIMIT_KEY 64       /* INET6_ADDRSTRLEN and more */

struct entry {
    struct entry *next;
    unsigned count;
    char key[CLIMIT_KEY];
};

struct gw_climit {
    pthread_mutex_t mu;
    unsigned cap;
    struct entry *bucket[CLIMIT_BUCKETS];
};

/* FNV-1a */
static size_t hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h & (CLIMIT_BUCKETS - 1);
}

struct gw_climit *gw_climit_create(unsigned cap)
{
    GW_ASSERT(cap > 0);
    struct gw_climit *l = gw_calloc(1, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    l->cap = cap;
    return l;
}

void gw_climit_destroy(struct gw_climit *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < CLIMIT_BUCKETS; i++) {
        struct entry *e = l->bucket[i];
        while (e != NULL) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* The entry of key, made with count 0 when create; NULL when absent.
 * Holds l->mu. */
static struct entry *find(struct gw_climit *l, const char *key, bool create)
{
    struct entry **slot = &l->bucket[hash(key)];
    for (struct entry *e = *slot; e != NULL; e = e->next) {
        if (strncmp(e->key, key, sizeof(e->key)) == 0) {
            return e;
        }
    }
    if (!create) {
        return NULL;
    }
    struct entry *e = gw_calloc(1, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->next = *slot;
    *slot = e;
    return e;
}

bool gw_climit_take(struct gw_climit *l, const char *key)
{
    pthread_mutex_lock(&l->mu);
    struct entry *e = find(l, key, true);
    bool ok = e->count < l->cap;
    if (ok) {
        e->count++;
    }
    pthread_mutex_unlock(&l->mu);
    return ok; /* refused: count >= cap >= 1, so the entry was not made here */
}

void gw_climit_add(struct gw_climit *l, const char *key)
{
    pthread_mutex_lock(&l->mu);
    find(l, key, true)->count++;
    pthread_mutex_unlock(&l->mu);
}

void gw_climit_give(struct gw_climit *l, const char *key)
{
    pthread_mutex_lock(&l->mu);
    struct entry **slot = &l->bucket[hash(key)];
    for (struct entry *e = *slot; e != NULL; slot = &e->next, e = e->next) {
        if (strncmp(e->key, key, sizeof(e->key)) == 0) {
            if (e->count > 0) {
                e->count--;
            }
            if (e->count == 0) {
                *slot = e->next;
                free(e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&l->mu);
}

bool gw_climit_room(struct gw_climit *l, const char *key)
{
    pthread_mutex_lock(&l->mu);
    struct entry *e = find(l, key, false);
    bool room = e == NULL || e->count < l->cap;
    pthread_mutex_unlock(&l->mu);
    return room;
}
