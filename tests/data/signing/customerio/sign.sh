#!/bin/sh
# Recomputes the X-CIO-Signature of ../customerio.json: hex HMAC-SHA256 of
# "v0:<X-CIO-Timestamp>:<raw body>" with the webhook signing key.
# Customer.io publishes no vector; the key is made up here.
set -eu
cd "$(dirname "$0")"
key='customerio-test-signing-key'
ts=1675196820
sig=$({ printf 'v0:%s:' "$ts"; cat email.delivered.json; } | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)
echo "X-CIO-Timestamp: $ts"
echo "X-CIO-Signature: $sig"
