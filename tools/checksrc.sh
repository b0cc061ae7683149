#!/bin/sh
# Refuses the C library calls sourcegate does not use (see README, Style):
# unbounded copies and unchecked conversions.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|strncpy)[[:space:]]*\('
if grep -rnE "$banned" gateway/ --include='*.c' --include='*.h'; then
    echo "checksrc: banned function above (use snprintf, strtol with an end pointer)" >&2
    exit 1
fi
echo "checksrc: OK"
