/* calltype.c -- the table of Segment call types.
 * SPDX-License-Identifier: MIT */
#include "calltype.h"

#include <string.h>

#include "mem.h"

static const struct gw_calltype types[GW_CALL_TYPES] = {
    [GW_CALL_TRACK] = {"track", "event properties", "event", "properties", "properties", "t"},
    [GW_CALL_IDENTIFY] = {"identify", "traits", NULL, "traits", "traits", "i"},
    [GW_CALL_PAGE] = {"page", "name category properties", "name", "properties", "properties",
                      "p"},
    [GW_CALL_SCREEN] = {"screen", "name category properties", "name", "properties", "properties",
                        "s"},
    [GW_CALL_GROUP] = {"group", "groupId traits", "groupId", "traits", "traits", "g"},
    [GW_CALL_ALIAS] = {"alias", "previousId", "previousId", NULL, "context", "a"},
};

/* The names of the batch endpoint: Segment's, analytics.js's batching
 * delivery, and the one analytics-ruby posts to. */
static const char *const batch_names[] = {GW_CALLTYPE_BATCH, "b", "import"};

const struct gw_calltype *gw_calltype(enum gw_call_type t)
{
    GW_ASSERT((unsigned)t < GW_CALL_TYPES);
    return &types[t];
}

bool gw_calltype_find(const char *name, enum gw_call_type *out)
{
    for (size_t i = 0; name != NULL && i < GW_CALL_TYPES; i++) {
        if (strcmp(name, types[i].name) == 0) {
            *out = (enum gw_call_type)i;
            return true;
        }
    }
    return false;
}

const char *gw_calltype_endpoint(const char *path)
{
    for (size_t i = 0; path != NULL && i < sizeof(batch_names) / sizeof(batch_names[0]); i++) {
        if (strcmp(path, batch_names[i]) == 0) {
            return GW_CALLTYPE_BATCH;
        }
    }
    for (size_t i = 0; path != NULL && i < GW_CALL_TYPES; i++) {
        if (strcmp(path, types[i].name) == 0 || strcmp(path, types[i].browser) == 0) {
            return types[i].name;
        }
    }
    return NULL;
}

bool gw_calltype_has_field(enum gw_call_type t, const char *name, size_t len)
{
    const char *list = gw_calltype(t)->fields;
    while (*list != '\0') {
        size_t k = strcspn(list, " ");
        if (k == len && memcmp(list, name, len) == 0) {
            return true;
        }
        list += k + (list[k] == ' ');
    }
    return false;
}
