/* verify.c -- the table of partner signature schemes and the dispatch to them.
 * SPDX-License-Identifier: MIT */
#include "verify.h"

#include <string.h>

#include "hmac.h"

struct gw_verify_scheme {
    const char *name;
    const char *headers; /* for documentation */
    gw_verify_fn check;
};

static const struct gw_verify_scheme schemes[] = {
    {"github", "X-Hub-Signature-256 (legacy X-Hub-Signature)", gw_verify_github},
    {"stripe", "Stripe-Signature", gw_verify_stripe},
    {"shopify", "X-Shopify-Hmac-Sha256", gw_verify_shopify},
    {"twilio", "X-Twilio-Signature", gw_verify_twilio},
    {"sendgrid", "X-Twilio-Email-Event-Webhook-Signature, X-Twilio-Email-Event-Webhook-Timestamp",
     gw_verify_sendgrid},
    {"mailgun", "none (signature.timestamp, .token, .signature in the body)", gw_verify_mailgun},
    {"mandrill", "X-Mandrill-Signature", gw_verify_mandrill},
    {"hubspot",
     "X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp (or X-HubSpot-Signature, "
     "X-HubSpot-Signature-Version)",
     gw_verify_hubspot},
    {"typeform", "Typeform-Signature", gw_verify_typeform},
    {"basic", "Authorization (Basic)", gw_verify_basic},
    {"paddle", "Paddle-Signature", gw_verify_paddle},
    {"calendly", "Calendly-Webhook-Signature", gw_verify_calendly},
    {"zendesk", "X-Zendesk-Webhook-Signature, X-Zendesk-Webhook-Signature-Timestamp",
     gw_verify_zendesk},
    {"customerio", "X-CIO-Signature, X-CIO-Timestamp", gw_verify_customerio},
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
    return s->check(secret, in, why, whylen);
}
