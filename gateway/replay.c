/* replay.c -- dead letters sent again through validation.
 * SPDX-License-Identifier: MIT */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "ingest.h"
#include "json.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "runtime.h"
#include "source.h"
#include "spool/spool.h"

struct collected {
    struct gw_spool_dead *v;
    size_t n;
};

static bool collect(void *arg, const struct gw_spool_dead *d)
{
    struct collected *c = arg;
    c->v = gw_realloc(c->v, (c->n + 1) * sizeof(*c->v));
    gw_spool_dead_copy(&c->v[c->n++], d);
    return true;
}

/* Stored headers (a JSON object) looked up case-insensitively. */
static const char *stored_header(void *arg, const char *name)
{
    json_object *h = arg;
    json_object_object_foreach(h, k, v)
    {
        if (strcasecmp(k, name) == 0) {
            return json_object_get_string(v);
        }
    }
    return NULL;
}

/* What still stops a dead letter, in words: the outcome, its cause, the
 * first violation; kept in counts->reason and printed. */
static void report(const struct gw_spool_dead *d, const struct gw_ingest_res *res,
                   struct gw_replay_counts *counts)
{
    const struct gw_violation *v0 = res->violations.n > 0 ? &res->violations.v[0] : NULL;
    const char *cause = gw_ingest_cause_name(res);
    snprintf(counts->reason, sizeof(counts->reason), "%s %s%s%s",
             cause != NULL ? cause : "violations", res->message, v0 ? ": " : "",
             v0 ? v0->message : "");
    fprintf(stderr, "dead letter %lld (%s%s%s) still refused: %s\n", (long long)d->id, d->kind,
            d->source ? " " : "", d->source ? d->source : "", counts->reason);
}

/* A webhook sourcegate refused: the whole pipeline again. */
static bool replay_request(const struct gw_runtime *rt, const struct gw_spool_dead *d,
                           struct gw_replay_counts *counts)
{
    json_object *headers = d->headers ? json_tokener_parse(d->headers) : NULL;
    struct gw_ingest_req req = {
        .source = d->source, .content_type = d->content_type, .body = d->body, .len = d->len,
        .write_key = d->write_key, .header = stored_header, .arg = headers,
        .skip_signature = d->verified && !d->unverified, .replay = true};
    struct gw_ingest_res res;
    bool ok = gw_ingest_run(&rt->ing, &req, &res) == GW_OK;
    if (!ok) {
        report(d, &res, counts);
    }
    gw_ingest_res_fini(&res);
    json_object_put(headers);
    return ok;
}

/* A call Segment refused: validated against its source's rules, resent. */
static bool replay_call(const struct gw_runtime *rt, const struct gw_spool_dead *d,
                        struct gw_replay_counts *counts)
{
    struct gw_ingest_res res;
    memset(&res, 0, sizeof(res));
    res.events = json_object_new_array();
    json_object *call = json_tokener_parse(d->body);
    bool ok = false;
    if (call == NULL) {
        gw_ingest_fail(&res, GW_CAUSE_MALFORMED, GW_ERR_INVALID, "the stored call is not JSON");
    } else {
        json_object_array_add(res.events, call);
        const char *name = gw_json_get_str(
            gw_json_get(gw_json_get(call, "context"), "integration"), "name");
        const struct gw_bound_source *bs = gw_sources_find(rt->ing.sources, name);
        const struct gw_spec_opts *opts = bs ? gw_source_spec(bs->rules) : NULL;
        size_t origin = 0;
        gw_ingest_deliver(&rt->ing, &opts, &origin, d->write_key, d->endpoint, &res);
    }
    ok = gw_ingest_rc(&res) == GW_OK;
    if (!ok) {
        report(d, &res, counts);
    }
    gw_ingest_res_fini(&res);
    return ok;
}

/* A /v1 call quarantined: validated again as the endpoint would, resent. */
static bool replay_api_call(const struct gw_runtime *rt, const struct gw_spool_dead *d,
                            struct gw_replay_counts *counts)
{
    struct gw_ingest_res res;
    bool ok = gw_api_replay(&rt->ing, d->body, d->write_key, d->endpoint, &res) == GW_OK;
    if (!ok) {
        report(d, &res, counts);
    }
    gw_ingest_res_fini(&res);
    return ok;
}

/* An unverified request may go again only when the operator asked for
 * it and its source still has nothing to verify it with: once a secret is
 * configured, a body nobody signed must not pass as the partner's. */
static bool may_replay(const struct gw_runtime *rt, const struct gw_spool_dead *d,
                       bool include_unverified, struct gw_replay_counts *counts)
{
    if (strcmp(d->kind, "request") != 0 || (d->verified && !d->unverified)) {
        return true;
    }
    const struct gw_bound_source *bs = gw_sources_find(rt->ing.sources, d->source);
    if (bs != NULL && bs->scheme != NULL) {
        snprintf(counts->reason, sizeof(counts->reason),
                 "never verified, and source '%s' now checks signatures", d->source);
        fprintf(stderr, "dead letter %lld (request %s) not replayed: %s\n", (long long)d->id,
                d->source, counts->reason);
        return false;
    }
    if (!include_unverified) {
        snprintf(counts->reason, sizeof(counts->reason),
                 "never verified (its source has no secret): replay it with "
                 "`sourcegate replay --include-unverified`");
        fprintf(stderr, "dead letter %lld (request %s) not replayed: %s\n", (long long)d->id,
                d->source ? d->source : "?", counts->reason);
        return false;
    }
    return true;
}

/* One dead letter sent again; removed when accepted. */
static void replay_one(const struct gw_runtime *rt, struct gw_spool *spool,
                       const struct gw_spool_dead *d, bool include_unverified,
                       struct gw_replay_counts *counts)
{
    if (!may_replay(rt, d, include_unverified, counts)) {
        counts->unverified++;
        return;
    }
    bool ok = strcmp(d->kind, "request") == 0                 ? replay_request(rt, d, counts)
              : strcmp(d->kind, GW_INGEST_DEAD_API_CALL) == 0 ? replay_api_call(rt, d, counts)
                                                              : replay_call(rt, d, counts);
    if (ok && gw_spool_dead_remove(spool, d->id) == GW_OK) {
        counts->replayed++;
    } else {
        counts->failed++;
    }
}

enum gw_rc gw_replay_dead_letters(const struct gw_runtime *rt, struct gw_spool *spool,
                                  const char *source, int64_t since_ms, bool include_unverified,
                                  struct gw_replay_counts *counts)
{
    struct collected c = {0};
    struct gw_replay_counts keep = *counts;
    memset(counts, 0, sizeof(*counts));
    counts->progress = keep.progress;
    counts->progress_arg = keep.progress_arg;
    enum gw_rc rc = gw_spool_dead_each(spool, source, since_ms, collect, &c);
    for (size_t i = 0; rc == GW_OK && i < c.n; i++) {
        replay_one(rt, spool, &c.v[i], include_unverified, counts);
        if (counts->progress != NULL) {
            counts->progress(counts->progress_arg, i + 1, c.n);
        }
    }
    for (size_t i = 0; i < c.n; i++) {
        gw_spool_dead_fini(&c.v[i]);
    }
    free(c.v);
    return rc;
}

enum gw_rc gw_replay_dead_letter(const struct gw_runtime *rt, struct gw_spool *spool, int64_t id,
                                 bool include_unverified, struct gw_replay_counts *counts)
{
    struct collected c = {0};
    memset(counts, 0, sizeof(*counts));
    enum gw_rc rc = gw_spool_dead_get(spool, id, collect, &c);
    if (rc == GW_OK && c.n == 1) {
        replay_one(rt, spool, &c.v[0], include_unverified, counts);
    }
    for (size_t i = 0; i < c.n; i++) {
        gw_spool_dead_fini(&c.v[i]);
    }
    free(c.v);
    return rc;
}
