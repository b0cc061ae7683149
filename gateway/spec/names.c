/* names.c -- sets of static names looked up by hash (FNV-1a).
 * SPDX-License-Identifier: MIT */
#include "names.h"

#include <string.h>

#include "../mem.h"

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint32_t hash_exact(const char *s, size_t n)
{
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    }
    return h;
}

static uint32_t hash_folded(const char *s, size_t n)
{
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '_') {
            h = (h ^ (unsigned char)lower(s[i])) * FNV_PRIME;
        }
    }
    return h;
}

void gw_name_key(struct gw_name_key *k, const char *s, bool fold)
{
    uint32_t h = FNV_BASIS;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        h = (h ^ (unsigned char)s[n]) * FNV_PRIME;
    }
    k->s = s;
    k->len = n;
    k->hash = h;
    k->folded = fold ? hash_folded(s, n) : 0;
}

/* The first slot to probe: the key's hash mixed with its set. */
static size_t home(const struct gw_names *t, const void *set, uint32_t hash)
{
    uint64_t mix = (uint64_t)(uintptr_t)set * 0x9E3779B97F4A7C15u;
    return (size_t)(hash ^ (uint32_t)(mix >> 32)) & (t->cap - 1);
}

/* Equal ignoring ASCII case and every underscore. */
static bool fold_equal(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && a[i] == '_') {
            i++;
        }
        while (j < bn && b[j] == '_') {
            j++;
        }
        if (i == an || j == bn) {
            return i == an && j == bn;
        }
        if (lower(a[i]) != lower(b[j])) {
            return false;
        }
        i++;
        j++;
    }
}

static bool same(const struct gw_names *t, const struct gw_name_slot *s, const char *name,
                 size_t len)
{
    if (t->fold) {
        return fold_equal(s->name, s->len, name, len);
    }
    return s->len == len && memcmp(s->name, name, len) == 0;
}

bool gw_names_put(struct gw_names *t, const void *set, const char *name, size_t len, uint32_t value)
{
    GW_ASSERT(set != NULL && 2 * (t->n + 1) <= t->cap);
    uint32_t hash = t->fold ? hash_folded(name, len) : hash_exact(name, len);
    size_t i = home(t, set, hash);
    for (;; i = (i + 1) & (t->cap - 1)) {
        struct gw_name_slot *s = &t->slots[i];
        if (s->set == NULL) {
            *s = (struct gw_name_slot){set, name, (uint32_t)len, hash, value};
            t->n++;
            return true;
        }
        if (s->set == set && s->hash == hash && same(t, s, name, len)) {
            return false;
        }
    }
}

const struct gw_name_slot *gw_names_get(const struct gw_names *t, const void *set,
                                        const struct gw_name_key *k)
{
    uint32_t hash = t->fold ? k->folded : k->hash;
    for (size_t i = home(t, set, hash);; i = (i + 1) & (t->cap - 1)) {
        const struct gw_name_slot *s = &t->slots[i];
        if (s->set == NULL) {
            return NULL;
        }
        if (s->set != set || s->hash != hash) {
            continue;
        }
        /* the name as listed is the common case, folded or not */
        if ((s->len == k->len && memcmp(s->name, k->s, k->len) == 0) ||
            (t->fold && fold_equal(s->name, s->len, k->s, k->len))) {
            return s;
        }
    }
}
