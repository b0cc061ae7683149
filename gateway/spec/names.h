/* names.h -- internal to gateway/spec/: sets of static names looked up by
 * hash, built once (the catalog's field lists and events, a call's
 * top-level fields), so that a lookup costs one hash of the key and a probe
 * or two instead of a string compare per name.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_NAMES_H
#define GW_SPEC_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One name of one set. The table borrows set and name, which are static. */
struct gw_name_slot {
    const void *set;  /* which set it belongs to (a field list, ...); NULL: a free slot */
    const char *name; /* len bytes, not always NUL-terminated ("a b c" lists) */
    uint32_t len;
    uint32_t hash;
    uint32_t value; /* what the set's owner keeps with the name */
};

/* An open-addressing table over slots the owner provides (static storage);
 * cap is a power of two and stays at least twice the names put in. fold: names
 * compare ignoring case and underscores ("first_name" is firstName). */
struct gw_names {
    struct gw_name_slot *slots;
    size_t cap;
    size_t n;
    bool fold;
};

/* A key as looked up: hashed once, then looked up in as many sets as need
 * be. */
struct gw_name_key {
    const char *s; /* borrowed */
    size_t len;
    uint32_t hash;   /* of the bytes */
    uint32_t folded; /* of the bytes lower-cased, underscores skipped; 0 unless asked */
};

/* Fills k for s (borrowed, NUL-terminated); fold also hashes its folded form. */
void gw_name_key(struct gw_name_key *k, const char *s, bool fold);

/* Puts name (len bytes, borrowed, static) with value in set. A name already
 * in the set keeps its first value (lists are searched in order); returns
 * false then. Aborts when the table would be over half full. */
bool gw_names_put(struct gw_names *t, const void *set, const char *name, size_t len,
                  uint32_t value);

/* Returns the slot of key in set, or NULL. */
const struct gw_name_slot *gw_names_get(const struct gw_names *t, const void *set,
                                        const struct gw_name_key *k);

#endif
