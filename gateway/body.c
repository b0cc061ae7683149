/* body.c -- the names of the body kinds.
 * SPDX-License-Identifier: MIT */
#include "body.h"

#include <string.h>

#include "mem.h"

const char *const gw_body_kind_names[GW_BODY_KINDS + 1] = {
    [GW_BODY_JSON_OBJECT] = "json-object",
    [GW_BODY_JSON_ARRAY] = "json-array",
    [GW_BODY_JSON] = "json",
    [GW_BODY_FORM] = "form",
    [GW_BODY_KINDS] = NULL,
};

enum gw_rc gw_body_kind_parse(const char *name, enum gw_body_kind *out)
{
    for (size_t i = 0; i < GW_BODY_KINDS; i++) {
        if (strcmp(name, gw_body_kind_names[i]) == 0) {
            *out = (enum gw_body_kind)i;
            return GW_OK;
        }
    }
    return GW_ERR_INVALID;
}

const char *gw_body_kind_name(enum gw_body_kind kind)
{
    GW_ASSERT((unsigned)kind < GW_BODY_KINDS);
    return gw_body_kind_names[kind];
}
