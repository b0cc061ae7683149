/* verify.c -- the table of partner signature schemes and the dispatch to them.
 * SPDX-License-Identifier: MIT */
#include "verify.h"

#include <string.h>

#include "hmac.h"

struct gw_verify_scheme {
    const char *name;
    const char *headers; /* for documentation */
    gw_verify_fn check;
    unsigned tolerance_s; /* default window of the signed timestamp; 0: none signed */
    bool signs_url;       /* the URL the partner called is part of the signature */
    const char *legacy;   /* the weaker form allow_legacy_signatures accepts, or NULL */
};

/* One row per scheme: the docs (README "Security", docs/internals/verify.md)
 * and lint read this table; a test checks the README against it. */
static const struct gw_verify_scheme schemes[] = {
    {"github", "X-Hub-Signature-256", gw_verify_github, 0, false,
     "X-Hub-Signature (HMAC-SHA1)"},
    {"stripe", "Stripe-Signature", gw_verify_stripe, 300, false, NULL},
    {"shopify", "X-Shopify-Hmac-Sha256", gw_verify_shopify, 0, false, NULL},
    {"twilio", "X-Twilio-Signature", gw_verify_twilio, 0, true, NULL},
    {"sendgrid", "X-Twilio-Email-Event-Webhook-Signature, X-Twilio-Email-Event-Webhook-Timestamp",
     gw_verify_sendgrid, 86400, false, NULL},
    {"mailgun", "none (signature.timestamp, .token, .signature in the body)", gw_verify_mailgun,
     900, false, NULL},
    {"mandrill", "X-Mandrill-Signature", gw_verify_mandrill, 0, true, NULL},
    {"hubspot", "X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp", gw_verify_hubspot, 300,
     true, "X-HubSpot-Signature v1 and v2 (SHA-256, no timestamp)"},
    {"typeform", "Typeform-Signature", gw_verify_typeform, 0, false, NULL},
    {"basic", "Authorization (Basic)", gw_verify_basic, 0, false, NULL},
    /* Paddle's SDKs (paddle-node-sdk, paddle-python-sdk) refuse a ts more than
     * 5 s away; Calendly's example a t older than 3 minutes. */
    {"paddle", "Paddle-Signature", gw_verify_paddle, 5, false, NULL},
    {"calendly", "Calendly-Webhook-Signature", gw_verify_calendly, 180, false, NULL},
    {"zendesk", "X-Zendesk-Webhook-Signature, X-Zendesk-Webhook-Signature-Timestamp",
     gw_verify_zendesk, 300, false, NULL},
    {"customerio", "X-CIO-Signature, X-CIO-Timestamp", gw_verify_customerio, 300, false, NULL},
};

#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

const struct gw_verify_scheme *gw_verify_find(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < N_SCHEMES; i++) {
        if (strcmp(schemes[i].name, name) == 0) {
            return &schemes[i];
        }
    }
    return NULL;
}

const struct gw_verify_scheme *gw_verify_at(size_t i)
{
    return i < N_SCHEMES ? &schemes[i] : NULL;
}

const char *gw_verify_name(const struct gw_verify_scheme *s)
{
    return s != NULL ? s->name : NULL;
}

const char *gw_verify_headers(const struct gw_verify_scheme *s)
{
    return s != NULL ? s->headers : NULL;
}

bool gw_verify_signs_url(const struct gw_verify_scheme *s)
{
    return s != NULL && s->signs_url;
}

unsigned gw_verify_tolerance(const struct gw_verify_scheme *s)
{
    return s != NULL ? s->tolerance_s : 0;
}

const char *gw_verify_legacy(const struct gw_verify_scheme *s)
{
    return s != NULL ? s->legacy : NULL;
}

enum gw_rc gw_verify_check(const struct gw_verify_scheme *s, const char *secret,
                           const struct gw_verify_input *in, char *why, size_t whylen)
{
    if (why != NULL && whylen > 0) {
        why[0] = '\0';
    }
    if (s == NULL || in == NULL) {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "no signature scheme or request to check");
    }
    /* An empty key would make every signature forgeable: refuse it as a
     * configuration error rather than let requests through. */
    if (secret == NULL || secret[0] == '\0') {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "no secret is configured for %s", s->name);
    }
    if (in->body == NULL && in->len != 0) {
        return gw_hmac_why(GW_ERR_INVALID, why, whylen, "request body is missing");
    }
    /* The scheme reads its window here only: the table holds the defaults. */
    struct gw_verify_input local = *in;
    if (local.tolerance_s == 0) {
        local.tolerance_s = s->tolerance_s;
    }
    return s->check(secret, &local, why, whylen);
}
