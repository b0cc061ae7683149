#!/bin/sh
# Installs the pinned analytics-next, esbuild and playwright-core
# (package-lock.json) once, then runs the browser tests in Debian's Chromium
# against $SOURCEGATE_BIN. $1, when given, is where the page is bundled.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@segment/analytics-next ] || [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
if [ $# -gt 0 ]; then
    mkdir -p "$1"
    GW_BROWSER_OUT=$1
    export GW_BROWSER_OUT
fi
exec node --test --test-reporter=spec analytics_next.test.mjs
