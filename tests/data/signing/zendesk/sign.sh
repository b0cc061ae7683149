#!/bin/sh
# Recomputes the signatures of ../zendesk.json: X-Zendesk-Webhook-Signature =
# base64 HMAC-SHA256 of "<X-Zendesk-Webhook-Signature-Timestamp><raw body>"
# with the webhook's signing secret.
set -eu
cd "$(dirname "$0")"
sign() { openssl dgst -sha256 -hmac "$1" -binary | base64; }
# 1. the inputs Zendesk's verification page published (secret, body, timestamp)
printf '%s%s' '2021-07-25T10:00:00Z' '{"say": "hello"}' | sign 'HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA='
# ... and the signature that page printed, which is over body + timestamp
printf '%s%s' '{"say": "hello"}' '2021-07-25T10:00:00Z' | sign 'HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA='
# 2. the ticket.created body, with the secret of the page's Express example
{ printf '%s' '2024-04-17T17:18:11Z'; cat ticket.created.json; } | sign 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=='
