#!/bin/sh
# The README's source layout names every C file of gateway/, and every file it
# names exists: the section is the map of the tree, kept true by this test.
# SPDX-License-Identifier: MIT
set -eu
root="${GW_SOURCE_ROOT:?}"
cd "$root"
section=$(awk '/^## Source layout/{p=1; next} p && /^## /{exit} p' README.md)
status=0
for f in $(find gateway -name '*.c' | sort); do
    rel=${f#gateway/}
    base=$(basename "$f")
    if ! printf '%s\n' "$section" | grep -q -e "gateway/$rel" -e "[ ,(]$base"; then
        echo "README's source layout does not name $f"
        status=1
    fi
done
for f in $(printf '%s\n' "$section" | grep -o '^gateway/[^ ]*\.c'); do
    [ -f "$f" ] || { echo "README's source layout names $f, which does not exist"; status=1; }
done
[ $status -eq 0 ] && echo "source layout: every file of gateway/ named"
exit $status
