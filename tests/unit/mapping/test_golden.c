/* test_golden.c -- every shipped partner against its golden files:
 * tests/data/golden/<source>/<case>.body (exact bytes), optional
 * <case>.headers ("Name: value" lines) and <case>.expected.json, the exact
 * report `sourcegate check --received-at 2026-01-01T00:00:00Z` prints (the
 * receive time is pinned so that $received_at is too). Each source's set
 * must hold a case that maps, one ignored on purpose and one rejected.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode.h"
#include "diag.h"
#include "gw_test.h"
#include "ingest.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "verify/verify.h"

/* 2026-01-01T00:00:00.000Z, as `check --received-at` is given it. */
#define GOLDEN_RECEIVED_MS INT64_C(1767225600000)

/* A .query file: one query string line, "k=v&k2=v2". */
static struct gw_form_pair *query_pairs;
static size_t n_query;

static const char *query_cb(void *arg, const char *name)
{
    for (size_t i = 0; i < n_query; i++) {
        if (strcmp(query_pairs[i].name, name) == 0) {
            return query_pairs[i].value;
        }
    }
    return NULL;
}

/* A .headers file: lines "Name: value", cut in place. */
struct headers {
    char *text;
    const char *name[32];
    const char *value[32];
    size_t n;
};

static void parse_headers(struct headers *h)
{
    for (char *line = h->text; line != NULL && *line && h->n < 32;) {
        char *eol = line + strcspn(line, "\r\n");
        char *next = *eol ? eol + 1 + (eol[0] == '\r' && eol[1] == '\n') : NULL;
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon != NULL) {
            *colon = '\0';
            h->name[h->n] = line;
            h->value[h->n++] = colon + 1 + strspn(colon + 1, " \t");
        }
        line = next;
    }
}

static const char *header_cb(void *arg, const char *name)
{
    struct headers *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->name[i], name) == 0) {
            return h->value[i];
        }
    }
    return NULL;
}

/* Runs one case; returns 1 if it maps, 2 if it ignores, 4 if it is rejected. */
static int run_case(const struct gw_ingest *ing, const char *source, const char *name)
{
    char *rel = gw_asprintf("golden/%s/%s.body", source, name);
    char *hrel = gw_asprintf("golden/%s/%s.headers", source, name);
    char *hpath = gwt_data_path(hrel);
    char *erel = gw_asprintf("golden/%s/%s.expected.json", source, name);
    size_t len = 0;
    char *body = gwt_read(rel, &len);
    struct headers h = {0};
    FILE *f = fopen(hpath, "rb");
    if (f != NULL) {
        fclose(f);
        h.text = gwt_read(hrel, NULL);
        parse_headers(&h);
    }
    char *qrel = gw_asprintf("golden/%s/%s.query", source, name);
    char *qpath = gwt_data_path(qrel);
    FILE *qf = fopen(qpath, "rb");
    if (qf != NULL) {
        fclose(qf);
        char *q = gwt_read(qrel, NULL);
        q[strcspn(q, "\r\n")] = '\0';
        cr_assert_eq(gw_decode_form_pairs(q, strlen(q), 256, &query_pairs, &n_query), GW_OK);
        free(q);
    }
    free(qrel);
    free(qpath);
    struct gw_ingest_req req = {.source = source, .body = body, .len = len, .dry_run = true,
                                .header = header_cb, .query = query_cb, .arg = &h,
                                .received_ms = GOLDEN_RECEIVED_MS};
    struct gw_ingest_res res;
    gw_ingest_run(ing, &req, &res);
    json_object *got = gw_ingest_report(&res);
    char *expected = gwt_read(erel, NULL);
    json_object *want = json_tokener_parse(expected);
    free(expected);
    cr_expect_not_null(want, "%s/%s: expected file is not JSON", source, name);
    cr_expect(json_object_equal(got, want), "%s/%s differs from its golden file; got:\n%s",
              source, name, json_object_to_json_string_ext(got, JSON_C_TO_STRING_PRETTY));
    bool ok = res.outcome == GW_OUTCOME_ACCEPTED || res.outcome == GW_OUTCOME_IGNORED;
    int kind = 0;
    if (ok && json_object_array_length(res.events) > 0) {
        kind |= 1;
    }
    kind |= res.ignored > 0 ? 2 : 0;
    kind |= !ok ? 4 : 0;
    json_object_put(got);
    json_object_put(want);
    gw_ingest_res_fini(&res);
    gw_decode_pairs_free(query_pairs, n_query);
    query_pairs = NULL;
    n_query = 0;
    free(h.text);
    free(body);
    free(rel);
    free(hrel);
    free(hpath);
    free(erel);
    return kind;
}

Test(golden, every_shipped_source_matches_its_golden_files, .timeout = 120)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    struct gw_config cfg;
    gw_config_init(&cfg);
    struct gw_ingest ing;
    gw_ingest_init(&ing, &cfg, rs);
    for (size_t i = 0; i < gw_ruleset_count(rs); i++) {
        const char *source = gw_source_name(gw_ruleset_at(rs, i));
        char *rel = gw_asprintf("golden/%s", source);
        char *dir = gwt_data_path(rel);
        DIR *dh = opendir(dir);
        cr_expect_not_null(dh, "shipped source %s has no golden directory %s", source, dir);
        int kinds = 0, cases = 0;
        struct dirent *e;
        while (dh != NULL && (e = readdir(dh)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n > 5 && strcmp(e->d_name + n - 5, ".body") == 0) {
                char *name = gw_strndup(e->d_name, n - 5);
                kinds |= run_case(&ing, source, name);
                cases++;
                free(name);
            }
        }
        if (dh != NULL) {
            closedir(dh);
        }
        cr_expect(kinds & 1, "%s: no golden case maps to calls", source);
        cr_expect(kinds & 2, "%s: no golden case ignores an event on purpose", source);
        cr_expect(kinds & 4, "%s: no golden case is rejected", source);
        cr_expect_geq(cases, 3, "%s: only %d golden cases", source, cases);
        free(dir);
        free(rel);
    }
    gw_config_fini(&cfg);
    gw_ingest_fini(&ing);
    gw_ruleset_destroy(rs);
}

/* Mailgun signs fields inside its JSON body: the pipeline checks them on
 * the raw body, before decoding it as events; a forged one stops there. */
Test(golden, mailgun_signature_checked_on_the_raw_body, .timeout = 30)
{
    struct gw_ruleset *rs = gwt_load_shipped();
    struct gw_config cfg;
    gw_config_init(&cfg);
    cfg.sources = gw_calloc(1, sizeof(*cfg.sources));
    cfg.n_sources = 1;
    cfg.sources[0].name = gw_strdup("mailgun");
    /* the key of tests/data/signing/mailgun.json */
    cfg.sources[0].secret = gw_strdup("key-0p6mqbf74lb20gzq9f4dhpn9rg3zyk26");
    struct gw_ingest ing;
    gw_ingest_init(&ing, &cfg, rs);
    size_t len = 0;
    char *body = gwt_read("signing/mailgun/delivered.json", &len);
    struct gw_ingest_req req = {.source = "mailgun", .content_type = "application/json",
                                .body = body, .len = len, .dry_run = true,
                                .now = 1661621787 + 10};
    struct gw_ingest_res res;
    gw_verify_reset_replay_cache();
    gw_ingest_run(&ing, &req, &res);
    cr_expect_neq(res.cause, GW_CAUSE_SIGNATURE, "%s", res.message);
    cr_expect_neq(res.outcome, GW_OUTCOME_FAILED, "%s", res.message);
    gw_ingest_res_fini(&res);
    /* a dry run spends no token: the same one passes again; a forged
     * signature is refused, nothing decoded */
    gw_ingest_run(&ing, &req, &res);
    cr_expect_neq(res.cause, GW_CAUSE_SIGNATURE, "%s", res.message);
    gw_ingest_res_fini(&res);
    char *forged = gw_strdup(body);
    char *sig = strstr(forged, "1aed11dc");
    cr_assert_not_null(sig);
    sig[0] = '2';
    req.body = forged;
    gw_verify_reset_replay_cache();
    gw_ingest_run(&ing, &req, &res);
    cr_expect_eq(res.cause, GW_CAUSE_SIGNATURE, "%s", res.message);
    cr_expect_null(res.events);
    gw_ingest_res_fini(&res);
    free(forged);
    free(body);
    gw_ingest_fini(&ing);
    gw_config_fini(&cfg);
    gw_ruleset_destroy(rs);
}
