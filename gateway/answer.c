/* answer.c -- the one place an ingest outcome becomes an HTTP status and
 * an answer body (gw_server_answer, the server's contract in server.h).
 * SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "ingest.h"
#include "server.h"
#include "violation.h"

static int outcome_status(const struct gw_ingest_res *res, const char **code)
{
    static const struct {
        int status;
        const char *code;
    } failed[] = {
        [GW_CAUSE_NONE] = {500, "internal_error"},
        [GW_CAUSE_UNKNOWN_SOURCE] = {404, "not_found"},
        [GW_CAUSE_MEDIA_TYPE] = {415, "unsupported_media_type"},
        [GW_CAUSE_MALFORMED] = {400, "bad_request"},
        [GW_CAUSE_TOO_LARGE] = {413, "payload_too_large"},
        [GW_CAUSE_SIGNATURE] = {401, "unauthorized"},
        [GW_CAUSE_NO_WRITE_KEY] = {401, "unauthorized"},
        [GW_CAUSE_SECRET] = {500, "internal_error"},
        [GW_CAUSE_RELAY] = {503, "unavailable"},
    };
    switch (res->outcome) {
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_IGNORED:
        *code = NULL;
        return 200;
    case GW_OUTCOME_REFUSED:
        *code = "spec_violation";
        return 422;
    case GW_OUTCOME_FAILED:
        break;
    }
    unsigned c = (unsigned)res->cause < sizeof(failed) / sizeof(failed[0]) ? res->cause : 0;
    *code = failed[c].code;
    return failed[c].status;
}

json_object *gw_server_answer(const struct gw_ingest_res *res, int *status)
{
    const char *code = NULL;
    *status = outcome_status(res, &code);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(*status == 200));
    if (*status == 200) {
        json_object_object_add(o, "accepted", json_object_new_int64((int64_t)res->accepted));
        json_object_object_add(o, "ignored", json_object_new_int64((int64_t)res->ignored));
        if (res->quarantined > 0) {
            /* the violations below list the calls kept in the dead letters */
            json_object_object_add(o, "refused",
                                   json_object_new_int64((int64_t)res->quarantined));
            json_object_object_add(o, "message", json_object_new_string(res->message));
        }
    } else {
        json_object_object_add(o, "error", json_object_new_string(code));
        json_object_object_add(o, "message", json_object_new_string(res->message));
    }
    if (res->violations.n > 0) {
        json_object_object_add(o, "violations", gw_violations_json(&res->violations));
    }
    if (res->dry_run) {
        json_object_object_add(o, "dry_run", json_object_new_boolean(1));
        if (res->events != NULL) {
            json_object_object_add(o, "events", json_object_get(res->events));
        }
    }
    return o;
}
