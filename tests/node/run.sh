#!/bin/sh
# Installs the pinned @segment/analytics-node (package-lock.json) once, then
# runs the node tests against the sourcegate binary in $SOURCEGATE_BIN.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@segment/analytics-node ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-reporter=spec analytics_node.test.mjs
