#!/bin/sh
# Recomputes the Paddle-Signature of ../paddle.json: h1 = hex HMAC-SHA256 of
# "<ts>:<raw body>" with the destination's secret key. Paddle publishes no
# vector with its secret; the secret is the example endpoint_secret_key of
# https://developer.paddle.com/webhooks/signature-verification (get secret key).
set -eu
cd "$(dirname "$0")"
secret='pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI'
ts=1712917131
h1=$({ printf '%s:' "$ts"; cat transaction.completed.json; } | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
echo "Paddle-Signature: ts=$ts;h1=$h1"
