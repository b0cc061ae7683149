/* verify.h -- partner signature schemes, one file each, behind one table.
 * Every comparison is constant-time; no secret or expected signature ever
 * reaches an error message.
 * SPDX-License-Identifier: MIT */
#ifndef GW_VERIFY_H
#define GW_VERIFY_H

#include <json-c/json.h>
#include <stdbool.h>
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
    unsigned tolerance_s; /* 0: the scheme's default window (gw_verify_tolerance) */
    bool allow_legacy;  /* accept the partner's weaker legacy form (GitHub SHA-1,
                           HubSpot v1/v2); off unless the source's configuration says so */
    struct gw_verify_replay *replay; /* NULL: a one-use token (Mailgun) is spent at once;
                                        else it is held here until the caller commits or
                                        releases it */
};

/* A one-use token a scheme held for the request (Mailgun): while held, the
 * same token is refused; gw_verify_commit keeps it spent once the request's
 * calls are durable, gw_verify_release forgets it (a refused or failed
 * request must not burn the partner's retry). Zero it before use. */
struct gw_verify_replay {
    unsigned char id[16];
    bool held;
};

void gw_verify_commit(struct gw_verify_replay *r);
void gw_verify_release(struct gw_verify_replay *r);

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
/* True when the scheme signs the URL the partner called (Twilio, Mandrill,
 * HubSpot): it needs sources.NAME.public_url or a trusted proxy. */
bool gw_verify_signs_url(const struct gw_verify_scheme *s);
/* The scheme's default window in seconds for its signed timestamp; 0 when
 * it signs none (tolerance_s then has no effect). */
unsigned gw_verify_tolerance(const struct gw_verify_scheme *s);
/* The weaker form allow_legacy turns on, in words, or NULL when none. */
const char *gw_verify_legacy(const struct gw_verify_scheme *s);

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
