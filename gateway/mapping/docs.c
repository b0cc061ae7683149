/* docs.c -- a source's documentation page (markdown) written from its
 * compiled rules, in the shape of Segment's partner documentation.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../json.h"
#include "../mem.h"
#include "../verify/verify.h"
#include "rule.h"


/* Appends to the page; the page is bounded by the rules file, not input. */
#define add(b, ...) GW_ASSERT(gw_buf_printf((b), __VA_ARGS__) == GW_OK)

/* A value as a partner's engineer would read it: `path`, "template", ... */
static void describe_value(struct gw_buf *b, const struct gw_value *v)
{
    switch (v->kind) {
    case GW_VALUE_PATH:
        add(b, "`%s`", v->path.text);
        break;
    case GW_VALUE_TEMPLATE:
        add(b, "`\"");
        for (size_t i = 0; i < v->n_parts; i++) {
            add(b, v->parts[i].literal ? "%s" : "{%s}",
                v->parts[i].literal ? v->parts[i].literal : v->parts[i].path.text);
        }
        add(b, "\"`");
        break;
    case GW_VALUE_CONST:
        add(b, "`%s`", gw_json_compact(v->constant, NULL));
        break;
    case GW_VALUE_FIRST:
        for (size_t i = 0; i < v->n_alts; i++) {
            add(b, "%s", i ? " or " : "");
            describe_value(b, &v->alts[i]);
        }
        break;
    case GW_VALUE_EACH:
        add(b, "each of `%s` as {", v->path.text);
        for (size_t i = 0; i < v->n_fields; i++) {
            add(b, "%s%s", i ? ", " : "", v->fields[i].field);
        }
        add(b, "}");
        break;
    case GW_VALUE_COUNT:
        add(b, "the number of `%s`", v->path.text);
        break;
    case GW_VALUE_SUM:
        add(b, "the sum of `%s`", v->path.text);
        break;
    case GW_VALUE_PAIR:
        add(b, "{");
        describe_value(b, &v->alts[0]);
        add(b, ": ");
        describe_value(b, &v->alts[1]);
        add(b, "} (the key in %s%s)", gw_casing_name(v->key_casing),
            v->keys ? ", some renamed by a table" : "");
        break;
    }
    if (v->table != NULL) {
        add(b, " mapped by a table");
    }
    if (v->as != NULL) {
        add(b, " as %s", v->as->name);
    }
    if (v->arg != NULL) {
        add(b, " of currency ");
        describe_value(b, v->arg);
    }
}

static void describe_targets(struct gw_buf *b, const struct gw_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        add(b, "%s`%s` ← ", i ? "<br>" : "", t[i].field);
        describe_value(b, &t[i].value);
    }
}

static void header(struct gw_buf *b, const struct gw_source *src)
{
    add(b, "# %s source\n\n", src->name);
    if (src->description != NULL) {
        add(b, "%s\n\n", src->description);
    }
    add(b, "sourcegate receives %s's webhooks, maps them to Segment calls with "
           "`rules/%s.yaml`, checks each call against the Segment Spec and relays it to "
           "Segment.\n\n", src->name, src->name);
    add(b, "## Getting started\n\n");
    add(b, "1. In Segment, create an HTTP API source and copy its write key.\n");
    const struct gw_verify_scheme *vs = src->signature ? gw_verify_find(src->signature) : NULL;
    if (vs != NULL && strcmp(src->signature, "basic") == 0) {
        /* the URL's credentials are the partner's, so the key lives in the configuration */
        add(b, "2. Put the write key in sourcegate's configuration as `sources.%s.write_key`.\n"
               "3. %s signs nothing: choose a user and password, put them in the webhook URL "
               "(`https://<user>:<password>@<your sourcegate host>/webhooks/%s`) and in "
               "sourcegate's configuration as `sources.%s.secret: \"<user>:<password>\"`. "
               "sourcegate answers 401 to a request without them. Without a secret it warns "
               "at start-up and accepts any request.\n", src->name, src->name, src->name,
            src->name);
    } else {
        add(b, "2. In %s, set the webhook URL to `https://<writeKey>@<your sourcegate "
               "host>/webhooks/%s` (or set `sources.%s.write_key` in sourcegate's "
               "configuration and leave the key out of the URL).\n", src->name, src->name,
            src->name);
    }
    if (vs != NULL && strcmp(src->signature, "basic") != 0) {
        add(b, "3. Copy %s's signing secret into `sources.%s.secret` (or `verify_key` for "
               "a public key). sourcegate checks the `%s` signature (scheme `%s`) on every "
               "request and answers 401 to a bad one. Without a secret it warns at start-up "
               "and accepts unsigned requests.\n", src->name, src->name, gw_verify_headers(vs),
            src->signature);
    }
    add(b, "\nThe body is %s", gw_body_kind_name(src->body));
    if (src->json_field != NULL) {
        add(b, " with JSON in the form field `%s`", src->json_field);
    }
    if (src->has_events) {
        add(b, ", one event per element of `%s`", src->events.text);
    }
    add(b, "; accepted content types: ");
    for (size_t i = 0; i < src->n_content_types; i++) {
        add(b, "%s`%s`", i ? ", " : "", src->content_types[i]);
    }
    add(b, ".\n\n");
}

static void identity(struct gw_buf *b, const struct gw_source *src)
{
    add(b, "## Identity and fields on every call\n\n");
    add(b, "Every call carries `context.integration` = `{name: %s, version: %s}`. ",
        src->integration_name, src->integration_version);
    if (src->has_message_id) {
        add(b, "`messageId` is ");
        describe_value(b, &src->message_id);
        add(b, ", stable across the partner's retries so that Segment deduplicates them.");
    } else {
        add(b, "`messageId` is a hash of the partner event, stable across its retries.");
    }
    add(b, " Events are named in %s, keys in %s.\n\n",
        gw_casing_name(src->spec.event_casing), gw_casing_name(src->spec.key_casing));
    if (src->n_common > 0) {
        add(b, "| field | from |\n|---|---|\n");
        for (size_t i = 0; i < src->n_common; i++) {
            add(b, "| `%s` | ", src->common[i].field);
            describe_value(b, &src->common[i].value);
            add(b, " |\n");
        }
        add(b, "\n");
    }
}

static void events(struct gw_buf *b, const struct gw_source *src)
{
    add(b, "## Events\n\n| %s event | Segment call | event / name | properties and traits | "
           "notes |\n|---|---|---|---|---|\n", src->name);
    for (size_t i = 0; i < src->n_rules; i++) {
        const struct gw_rule *r = &src->rules[i];
        const char *when = r->when_text && r->when_text[0] ? r->when_text : "any event";
        const char *note = r->description ? r->description : "";
        if (r->ignore) {
            add(b, "| %s | ignored on purpose (counted) | | | %s |\n", when, note);
            continue;
        }
        for (size_t k = 0; k < r->n_calls; k++) {
            const struct gw_call_tpl *c = &r->calls[k];
            add(b, "| %s | %s | ", k == 0 ? when : "″", gw_calltype(c->type)->name);
            if (c->has_name && c->name.kind == GW_VALUE_CONST) {
                add(b, "%s", json_object_get_string(c->name.constant));
            } else if (c->has_name) {
                describe_value(b, &c->name);
            }
            add(b, " | ");
            describe_targets(b, c->targets, c->n_targets);
            add(b, " | %s |\n", k == 0 ? note : "");
        }
    }
    add(b, "\nAn event no rule matches is %s.\n",
        src->unmatched_reject ? "rejected (422, rule `unplanned`)" : "acknowledged and ignored");
}

/* The events the rules ignore on purpose, each with its reason: what a
 * reader looks for when an event does not show up in Segment. */
static void ignored(struct gw_buf *b, const struct gw_source *src)
{
    size_t n = 0;
    for (size_t i = 0; i < src->n_rules; i++) {
        const struct gw_rule *r = &src->rules[i];
        if (!r->ignore) {
            continue;
        }
        if (n++ == 0) {
            add(b, "\n## Ignored on purpose\n\nThese events are acknowledged (so %s does "
                   "not retry them) and counted, but not relayed:\n\n", src->name);
        }
        add(b, "- %s%s%s\n", r->when_text && r->when_text[0] ? r->when_text : "any event",
            r->description ? ": " : "", r->description ? r->description : "");
    }
}

char *gw_source_docs(const struct gw_source *src)
{
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    header(&b, src);
    identity(&b, src);
    events(&b, src);
    ignored(&b, src);
    return gw_buf_detach(&b);
}
