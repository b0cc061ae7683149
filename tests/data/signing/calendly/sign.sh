#!/bin/sh
# Recomputes the Calendly-Webhook-Signature of ../calendly.json: v1 = hex
# HMAC-SHA256 of "<t>.<raw body>" with the subscription's signing key.
# Calendly publishes no vector; the key is made up here.
set -eu
cd "$(dirname "$0")"
key='calendly-test-signing-key'
t=1608660956
v1=$({ printf '%s.' "$t"; cat invitee.created.json; } | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)
echo "Calendly-Webhook-Signature: t=$t,v1=$v1"
