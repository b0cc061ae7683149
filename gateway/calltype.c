/* calltype.c -- the table of Segment call types.
 * SPDX-License-Identifier: MIT */
#include "calltype.h"

#include <string.h>

#include "mem.h"

static const struct gw_calltype types[GW_CALL_TYPES] = {
    [GW_CALL_TRACK] = {"track", "event properties", "event", "properties", "properties"},
    [GW_CALL_IDENTIFY] = {"identify", "traits", NULL, "traits", "traits"},
    [GW_CALL_PAGE] = {"page", "name category properties", "name", "properties", "properties"},
    [GW_CALL_SCREEN] = {"screen", "name category properties", "name", "properties", "properties"},
    [GW_CALL_GROUP] = {"group", "groupId traits", "groupId", "traits", "traits"},
    [GW_CALL_ALIAS] = {"alias", "previousId", "previousId", NULL, "context"},
};

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
