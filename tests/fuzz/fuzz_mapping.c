/* fuzz_mapping.c -- the whole webhook pipeline of every shipped source
 * (rules/NAME.yaml): decode, events, (signature), mapping, Spec validation, in
 * dry run (no relay), through gw_ingest_run.
 *
 * Input: one byte picking the source (mod the number of shipped sources, in
 * name order: calendly customerio github hubspot mailchimp mailgun mailjet
 * mandrill paddle postmark sendgrid shopify stripe twilio typeform zendesk),
 * one flag byte, then a header block (fuzz_common.h) and the raw body.
 *   flag bit 0: the configuration holds the source's test secret, so the
 *               signature is checked first (tests/data/signing vectors pass)
 * Headers are the request's; Content-Type among them is the request's
 * content type. Pseudo-headers: ":uri" the path and query, ":user" and
 * ":password" the Basic auth, ":now" unix seconds. "?name: value" lines are
 * query parameters ($query.name in rules).
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "fuzz_common.h"
#include "ingest.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "server.h"
#include "verify/verify.h"

static struct gw_ruleset *rules;
static struct gw_config plain_cfg;  /* no secrets: signatures are not checked */
static struct gw_config signed_cfg; /* every signed source has its test secret */
static bool debug;                  /* FUZZ_DEBUG set: print each result */

static void add_source(struct gw_config *c, const char *name, const char *scheme)
{
    c->sources = gw_realloc(c->sources, (c->n_sources + 1) * sizeof(*c->sources));
    struct gw_source_conf *s = &c->sources[c->n_sources++];
    memset(s, 0, sizeof(*s));
    s->name = gw_strdup(name);
    if (strcmp(scheme, "sendgrid") == 0) {
        s->verify_key = gw_strdup(fuzz_test_secret(scheme));
    } else {
        s->secret = gw_strdup(fuzz_test_secret(scheme));
    }
    if (strcmp(scheme, "mandrill") == 0) {
        s->public_url = gw_strdup("https://example.com/webhooks/mandrill");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gw_log_set_level(GW_LOG_OFF);
    debug = getenv("FUZZ_DEBUG") != NULL;
    struct gw_diag *d = gw_diag_create();
    char *dir = fuzz_root_path("rules");
    if (gw_rules_load_dir(dir, &rules, d) != GW_OK || gw_ruleset_count(rules) == 0) {
        gw_diag_print(d, stderr);
        fprintf(stderr, "fuzz_mapping: cannot load the shipped rules from %s "
                        "(set GW_SOURCE_ROOT)\n", dir);
        abort();
    }
    free(dir);
    gw_diag_destroy(d);
    gw_config_init(&plain_cfg);
    gw_config_init(&signed_cfg);
    for (size_t i = 0; i < gw_ruleset_count(rules); i++) {
        const struct gw_source *src = gw_ruleset_at(rules, i);
        if (gw_source_signature(src) != NULL) {
            add_source(&signed_cfg, gw_source_name(src), gw_source_signature(src));
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rules == NULL) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    if (size < 2) {
        return 0;
    }
    const struct gw_source *src = gw_ruleset_at(rules, data[0] % gw_ruleset_count(rules));
    bool is_signed = (data[1] & 1) != 0;
    struct fuzz_headers h;
    fuzz_headers_parse(&h, (const char *)data + 2, size - 2);
    const char *now = fuzz_header_cb(&h, ":now");

    struct gw_ingest ing;
    gw_ingest_init(&ing, is_signed ? &signed_cfg : &plain_cfg, rules);
    struct gw_ingest_req req = {
        .source = gw_source_name(src),
        .content_type = fuzz_header_cb(&h, "Content-Type"),
        .body = h.body,
        .len = h.len,
        .write_key = fuzz_header_cb(&h, ":user"),
        .basic_password = fuzz_header_cb(&h, ":password"),
        .uri = fuzz_header_cb(&h, ":uri"),
        .dry_run = true,
        .now = now != NULL ? strtoll(now, NULL, 10) : 1700000000,
        .header = fuzz_header_cb,
        .query = fuzz_query_cb,
        .arg = &h,
    };
    if (is_signed) {
        gw_verify_reset_replay_cache(); /* Mailgun's: no state across inputs */
    }
    struct gw_ingest_res res;
    gw_ingest_run(&ing, &req, &res);
    int status = 0;
    json_object *answer = gw_server_answer(&res, &status);
    if (status < 200 || status > 599 ||
        (status == 200) != (json_object_object_get(answer, "error") == NULL)) {
        abort();
    }
    /* every call produced is what the relay would send: valid JSON, in
     * valid UTF-8, that the strictest reader here (a JSON body) takes */
    for (size_t i = 0; res.events != NULL && i < json_object_array_length(res.events); i++) {
        const char *call = json_object_to_json_string_ext(
            json_object_array_get_idx(res.events, i), JSON_C_TO_STRING_PLAIN);
        struct gw_decode_limits lim;
        gw_decode_limits_init(&lim);
        lim.max_depth = 64;
        json_object *again = NULL;
        char why[256];
        if (gw_decode(GW_BODY_JSON_OBJECT, NULL, &lim, call, strlen(call), &again, why,
                      sizeof(why)) != GW_OK) {
            fprintf(stderr, "fuzz_mapping: a %s call is not valid JSON: %s: %.4000s\n",
                    gw_source_name(src), why, call);
            abort();
        }
        json_object_put(again);
    }
    json_object *report = gw_ingest_report(&res);
    const char *text = json_object_to_json_string(answer);
    if (debug) {
        fprintf(stderr, "fuzz_mapping: %s%s: %d %.300s\n", gw_source_name(src),
                is_signed ? " (signed)" : "", status, text);
    }
    (void)json_object_to_json_string(report);
    json_object_put(answer);
    json_object_put(report);
    gw_ingest_res_fini(&res);
    gw_ingest_fini(&ing);
    fuzz_headers_fini(&h);
    return 0;
}
