#!/bin/sh
# Installs the pinned clients (package-lock.json) once, then runs the
# real-client tests of the Segment-shaped endpoints against $SOURCEGATE_BIN.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@rudderstack/rudder-sdk-node ] || [ ! -d node_modules/@segment/analytics-node ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-reporter=spec segment_clients.test.mjs
