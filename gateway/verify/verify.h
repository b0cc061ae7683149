/* verify.h -- partner signature schemes, one file each, behind one table.
 * Every comparison is constant-time; no secret or expected signature ever
 * reaches an error message.
 * SPDX-License-Identifier: MIT */
#ifndef GW_VERIFY_H
#define GW_VERIFY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "../rc.h"

/* One decoded form field, in the order received. */
struct gw_verify_param {
    const char *name;
    const char *value;
};

/* What a scheme may look at. All borrowed. */
struct gw_verify_input {
    const char *method; /* "POST" */
    const char *url;    /* the public URL the partner called, with its query string
                           (Twilio, Mandrill, HubSpot sign it) */
    const char *body;   /* raw bytes, exactly as received */
    size_t len;
    const char *(*header)(void *arg, const char *name); /* case-insensitive; NULL when absent */
    void *arg;
    const struct gw_verify_param *params; /* decoded form fields, or NULL for other bodies */
    size_t n_params;
    json_object *json;  /* the decoded JSON body, or NULL: Mailgun, which signs fields
                           inside it, then parses body for them itself */
    const char *basic_user;     /* the request's Basic auth, for the "basic" scheme, or NULL */
    const char *basic_password;
    int64_t now;        /* unix seconds, for timestamp windows */
    unsigned tolerance_s; /* 0: the scheme's default window */
};

struct gw_verify_scheme;

/* Returns the scheme called name ("github", "stripe", "shopify", "twilio",
 * "sendgrid", "mailgun", "mandrill", "hubspot", "typeform", "basic", "paddle", "calendly",
 * "zendesk", "customerio"), or NULL. */
const struct gw_verify_scheme *gw_verify_find(const char *name);
/* Returns scheme i of the table, or NULL past the end (for docs and lint). */
const struct gw_verify_scheme *gw_verify_at(size_t i);
const char *gw_verify_name(const struct gw_verify_scheme *s);
/* The header(s) the scheme reads, for documentation ("X-Hub-Signature-256"). */
const char *gw_verify_headers(const struct gw_verify_scheme *s);

/* Checks in against secret (for "sendgrid", the base64 SPKI public key; for
 * "basic", "user:password"). GW_OK when valid; GW_ERR_UNAUTHORIZED with why
 * (size whylen) saying what was wrong in words safe to send back: "header
 * X-Hub-Signature-256 is missing", "signature does not match", "timestamp is
 * 412 s old, over the 300 s window", "token was already used". */
enum gw_rc gw_verify_check(const struct gw_verify_scheme *s, const char *secret,
                           const struct gw_verify_input *in, char *why, size_t whylen) GW_WUR;

/* Forgets the Mailgun tokens seen (tests). */
void gw_verify_reset_replay_cache(void);

#endif
