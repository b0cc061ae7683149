/* fuzz_rules.c -- the rules loader (YAML parser, schema checks, the compiler
 * of paths, templates, transforms and conditions) from a buffer, then the
 * compiled rules at work.
 *
 * Input: a rules file; optionally a NUL byte and then a request: a header
 * block (fuzz_common.h) and a body. When the file compiles, every source in
 * it renders its documentation page, and the request (if any) goes through
 * gw_ingest_run (dry run) against each source, so fuzzed rules meet events.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "fuzz_common.h"
#include "ingest.h"
#include "log.h"
#include "mapping/mapping.h"

static struct gw_config cfg;
static int ready;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gw_log_set_level(GW_LOG_OFF);
    gw_config_init(&cfg);
    ready = 1;
    return 0;
}

static void run_request(const struct gw_ruleset *rs, const struct gw_source *src,
                        const char *req_data, size_t req_len)
{
    struct fuzz_headers h;
    fuzz_headers_parse(&h, req_data, req_len);
    struct gw_ingest ing;
    gw_ingest_init(&ing, &cfg, rs);
    struct gw_ingest_req req = {
        .source = gw_source_name(src),
        .content_type = fuzz_header_cb(&h, "Content-Type"),
        .body = h.body,
        .len = h.len,
        .dry_run = true,
        .now = 1700000000,
        .header = fuzz_header_cb,
        .query = fuzz_query_cb,
        .arg = &h,
    };
    struct gw_ingest_res res;
    gw_ingest_run(&ing, &req, &res);
    json_object *report = gw_ingest_report(&res);
    (void)json_object_to_json_string(report);
    json_object_put(report);
    gw_ingest_res_fini(&res);
    gw_ingest_fini(&ing);
    fuzz_headers_fini(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    const char *buf = (const char *)data;
    const char *nul = memchr(buf, '\0', size);
    size_t ylen = nul != NULL ? (size_t)(nul - buf) : size;

    struct gw_ruleset *rs = gw_ruleset_create();
    struct gw_diag *d = gw_diag_create();
    enum gw_rc rc = gw_rules_add_buffer(rs, buf, ylen, "fuzz.yaml", d);
    char *msgs = gw_diag_join(d);
    if (rc != GW_OK && gw_diag_errors(d) == 0) {
        abort(); /* a refused file must say why */
    }
    free(msgs);
    gw_diag_destroy(d);
    for (size_t i = 0; rc == GW_OK && i < gw_ruleset_count(rs); i++) {
        const struct gw_source *src = gw_ruleset_at(rs, i);
        char *doc = gw_source_docs(src);
        free(doc);
        (void)gw_source_accepts(src, "application/json; charset=utf-8");
        if (nul != NULL) {
            run_request(rs, src, nul + 1, size - ylen - 1);
        }
    }
    gw_ruleset_destroy(rs);
    return 0;
}
