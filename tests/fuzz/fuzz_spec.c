/* fuzz_spec.c -- the Segment Spec validator and the naming conventions.
 *
 * Input: two flag bytes, then the text.
 *   byte 0: bits 0-2 event casing, bits 3-5 key casing (each mod 5),
 *           bit 6 allow_anonymous, bit 7 a tracking plan
 *   byte 1: bit 0 integration slug "sendgrid" (else any), bit 1 strict plan,
 *           bit 2 casing mode: the text is a name given to gw_casing_parse,
 *           gw_casing_check and gw_casing_convert under every convention
 *           instead of a call
 * Otherwise the text is parsed as JSON (depth 64) and validated as one call,
 * and each element of an array as one call of a batch.
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "spec/spec.h"

static struct gw_spec_plan *plans[2];

static struct gw_spec_plan *make_plan(bool strict)
{
    struct gw_spec_plan *p = gw_spec_plan_create(strict);
    if (gw_spec_plan_add_event(p, "Order Completed") != GW_OK ||
        gw_spec_plan_add_property(p, "order_id", "string", true) != GW_OK ||
        gw_spec_plan_add_property(p, "total", "number", false) != GW_OK ||
        gw_spec_plan_add_property(p, "quantity", "integer", false) != GW_OK ||
        gw_spec_plan_add_property(p, "products", "array", false) != GW_OK ||
        gw_spec_plan_add_property(p, "coupon", "object", false) != GW_OK ||
        gw_spec_plan_add_property(p, "paid", "boolean", false) != GW_OK ||
        gw_spec_plan_add_property(p, "paid_at", "date", false) != GW_OK ||
        gw_spec_plan_add_event(p, "Email Opened") != GW_OK ||
        gw_spec_plan_add_property(p, "email_id", "string", true) != GW_OK) {
        abort();
    }
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    plans[0] = make_plan(false);
    plans[1] = make_plan(true);
    return 0;
}

static void casing_mode(const char *s)
{
    enum gw_casing c;
    if (gw_casing_parse(s, &c) == GW_OK && gw_casing_name(c) == NULL) {
        abort();
    }
    for (int k = 0; k < 5; k++) {
        (void)gw_casing_check((enum gw_casing)k, s);
        char *out = gw_casing_convert((enum gw_casing)k, s);
        if (out == NULL) {
            abort();
        }
        (void)gw_casing_check((enum gw_casing)k, out);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (plans[0] == NULL) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    if (size < 2) {
        return 0;
    }
    unsigned f0 = data[0], f1 = data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    if (f1 & 4) {
        char *s = fuzz_strndup(text, len);
        casing_mode(s);
        free(s);
        return 0;
    }
    struct gw_spec_opts opts;
    gw_spec_opts_init(&opts);
    opts.event_casing = (enum gw_casing)((f0 & 7) % 5);
    opts.key_casing = (enum gw_casing)(((f0 >> 3) & 7) % 5);
    opts.allow_anonymous = (f0 & 0x40) != 0;
    opts.plan = (f0 & 0x80) ? plans[(f1 >> 1) & 1] : NULL;
    opts.integration = (f1 & 1) ? "sendgrid" : NULL;

    json_object *v = NULL;
    char err[160];
    if (gw_json_parse(text, len, 64, &v, err, sizeof(err)) != GW_OK) {
        return 0;
    }
    struct gw_violations found = {0};
    size_t n = gw_spec_validate(&opts, v, 0, &found);
    if (json_type_array == json_object_get_type(v)) {
        size_t calls = json_object_array_length(v);
        for (size_t i = 0; i < calls; i++) {
            n += gw_spec_validate(&opts, json_object_array_get_idx(v, i), i, &found);
        }
    }
    size_t clen = 0;
    (void)gw_json_compact(v, &clen);
    n += gw_spec_check_size(clen, 0, gw_json_get_str(v, "event"), &found);
    json_object *violations = gw_violations_json(&found);
    gw_violations_fini(&found);
    if (n != json_object_array_length(violations)) {
        abort(); /* the count returned must be what was appended */
    }
    (void)json_object_to_json_string(violations);
    json_object_put(violations);
    json_object_put(v);
    return 0;
}
