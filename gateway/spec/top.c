/* top.c -- a call's top-level fields: the names every call takes, looked up
 * by hash in one pass over the call's keys.
 * SPDX-License-Identifier: MIT */
#include "top.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "../mem.h"
#include "names.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Top-level fields of every call: the Spec's common fields, what Segment
 * adds on output, and the HTTP API's writeKey. */
#define COMMON_FIELDS                                                                              \
    "type userId anonymousId context integrations messageId timestamp sentAt "                     \
    "originalTimestamp receivedAt version channel writeKey projectId _metadata"

static const char *const names[GW_TOP_COUNT] = {
    [GW_TOP_TYPE] = "type",
    [GW_TOP_USER_ID] = "userId",
    [GW_TOP_ANONYMOUS_ID] = "anonymousId",
    [GW_TOP_CONTEXT] = "context",
    [GW_TOP_INTEGRATIONS] = "integrations",
    [GW_TOP_MESSAGE_ID] = "messageId",
    [GW_TOP_TIMESTAMP] = "timestamp",
    [GW_TOP_SENT_AT] = "sentAt",
    [GW_TOP_ORIGINAL_TIMESTAMP] = "originalTimestamp",
    [GW_TOP_EVENT] = "event",
    [GW_TOP_PROPERTIES] = "properties",
    [GW_TOP_TRAITS] = "traits",
    [GW_TOP_NAME] = "name",
    [GW_TOP_CATEGORY] = "category",
    [GW_TOP_GROUP_ID] = "groupId",
    [GW_TOP_PREVIOUS_ID] = "previousId",
};

/* The value kept with each known name: its enum gw_top (TOP_NONE when no
 * check reads it), whether every call takes it, and the call types that
 * have it as their own. */
#define TOP_ID 0xffu
#define TOP_NONE GW_TOP_COUNT
#define TOP_COMMON 0x100u
#define TOP_TYPE_BIT(k) (0x200u << (k))

static struct gw_name_slot slots[64];
static struct gw_names index_ = {slots, COUNT(slots), 0, false};
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_bool built; /* set once build() is done: skips pthread_once */

const char *gw_top_name(enum gw_top f)
{
    GW_ASSERT((unsigned)f < GW_TOP_COUNT);
    return names[f];
}

/* The value of a name: bits, and its enum gw_top. */
static uint32_t value_of(const char *name, size_t n, uint32_t bits)
{
    uint32_t id = TOP_NONE;
    for (uint32_t i = 0; i < GW_TOP_COUNT; i++) {
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0) {
            id = i;
        }
    }
    return id | bits;
}

/* Puts the names of a space-separated list; a name already there gains bits. */
static void put_list(const char *list, uint32_t bits)
{
    while (*list != '\0') {
        size_t n = strcspn(list, " ");
        if (!gw_names_put(&index_, &index_, list, n, value_of(list, n, bits))) {
            for (size_t i = 0; i < COUNT(slots); i++) {
                if (slots[i].set != NULL && slots[i].len == n &&
                    memcmp(slots[i].name, list, n) == 0) {
                    slots[i].value |= bits;
                }
            }
        }
        list += n + (list[n] == ' ');
    }
}

static void build(void)
{
    put_list(COMMON_FIELDS, TOP_COMMON);
    for (unsigned k = 0; k < GW_CALL_TYPES; k++) {
        put_list(gw_calltype((enum gw_call_type)k)->fields, TOP_TYPE_BIT(k));
    }
    /* every field a check reads is one of the lists' */
    for (size_t i = 0; i < GW_TOP_COUNT; i++) {
        struct gw_name_key key;
        gw_name_key(&key, names[i], false);
        GW_ASSERT(gw_names_get(&index_, &index_, &key) != NULL);
    }
    atomic_store_explicit(&built, true, memory_order_release);
}

/* The value of a top-level key; TOP_NONE alone when the Spec does not know
 * it. */
static uint32_t lookup(const char *key)
{
    if (!atomic_load_explicit(&built, memory_order_acquire)) {
        GW_ASSERT(pthread_once(&once, build) == 0);
    }
    struct gw_name_key k;
    gw_name_key(&k, key, false);
    const struct gw_name_slot *s = gw_names_get(&index_, &index_, &k);
    return s != NULL ? s->value : TOP_NONE;
}

static bool planned(uint32_t value, enum gw_call_type k)
{
    return (value & (TOP_COMMON | TOP_TYPE_BIT(k))) != 0;
}

bool gw_top_planned(const char *key, enum gw_call_type k)
{
    return planned(lookup(key), k);
}

enum gw_call_type gw_top_read(json_object *call, struct gw_top_fields *t)
{
    uint32_t own = ~0u; /* the types whose own field every uncommon key is */
    for (struct lh_entry *e = gw_top_members(call); e != NULL; e = lh_entry_next(e)) {
        uint32_t value = lookup(lh_entry_k(e));
        if ((value & TOP_ID) < GW_TOP_COUNT) {
            t->v[value & TOP_ID] = lh_entry_v(e);
        }
        if (!(value & TOP_COMMON)) {
            own &= value;
        }
    }
    enum gw_call_type k = GW_TOP_UNKNOWN;
    json_object *type = t->v[GW_TOP_TYPE];
    if (!json_object_is_type(type, json_type_string) ||
        !gw_calltype_find(json_object_get_string(type), &k)) {
        k = GW_TOP_UNKNOWN;
    }
    t->stray = k != GW_TOP_UNKNOWN && !planned(own, k);
    return k;
}
