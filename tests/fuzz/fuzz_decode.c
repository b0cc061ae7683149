/* fuzz_decode.c -- body decoding: JSON (object, array, either), form
 * (PHP-style keys) and JSON-in-form (Mandrill's mandrill_events).
 *
 * Input: one flag byte, then the body.
 *   bits 0-1  body kind (json-object, json-array, json, form)
 *   bits 2-3  json_field: none, mandrill_events, payload, data
 *   bit  4    tight limits (depth 4, 3 events, 5 fields) instead of the defaults
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {NULL, "mandrill_events", "payload", "data"};
    if (size < 1) {
        return 0;
    }
    unsigned flags = data[0];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    enum gw_body_kind kind = (enum gw_body_kind)(flags & 3);
    const char *json_field = kind == GW_BODY_FORM ? fields[(flags >> 2) & 3] : NULL;
    struct gw_decode_limits lim;
    gw_decode_limits_init(&lim);
    if (flags & 0x10) {
        lim.max_depth = 4;
        lim.max_events = 3;
        lim.max_fields = 5;
    }

    json_object *body = NULL;
    char err[256] = "";
    enum gw_rc rc = gw_decode(kind, json_field, &lim, buf, len, &body, err, sizeof(err));
    if (rc == GW_OK) {
        /* what the mapping does next: serialize it (logs, dry runs). What
         * was accepted must come out as valid JSON in valid UTF-8, that
         * decodes again. */
        const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        if (s == NULL || gw_decode_utf8_bad((const unsigned char *)s, strlen(s)) != strlen(s)) {
            abort();
        }
        struct gw_decode_limits loose;
        gw_decode_limits_init(&loose);
        loose.max_events = SIZE_MAX;
        loose.max_depth = lim.max_depth + 1;
        json_object *again = NULL;
        char why[256];
        if (kind != GW_BODY_FORM &&
            gw_decode(GW_BODY_JSON, NULL, &loose, s, strlen(s), &again, why, sizeof(why)) !=
                GW_OK) {
            abort();
        }
        json_object_put(again);
        json_object_put(body);
    } else if (body != NULL || err[0] == '\0') {
        abort(); /* the contract: *body untouched, err says why */
    }

    struct gw_form_pair *pairs = NULL;
    size_t n = 0;
    if (gw_decode_form_pairs(buf, len, lim.max_fields, &pairs, &n) == GW_OK) {
        for (size_t i = 0; i < n; i++) {
            if (pairs[i].name == NULL || pairs[i].value == NULL) {
                abort();
            }
        }
        gw_decode_pairs_free(pairs, n);
    }
    return 0;
}
