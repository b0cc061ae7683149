#!/bin/sh
# Installs the pinned playwright-core (package-lock.json) once, then drives
# Debian's Chromium against the sourcegate binary in $SOURCEGATE_BIN.
# $1: where screenshots go (the meson log directory).
# SPDX-License-Identifier: MIT
set -eu
export GW_ARTIFACTS="${1:-${TMPDIR:-/tmp}}"
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-concurrency=1 --test-reporter=spec access.test.mjs debugger.test.mjs
