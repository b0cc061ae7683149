#!/bin/sh
# Rewrites README.md's settings blocks (<!-- settings:NAME --> ... <!-- /settings:NAME -->)
# with what `sourcegate docs --settings` prints from the settings table.
# Usage: tools/readme-settings.sh [BUILD_DIR]   (default: build)
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
bin="${1:-build}/gateway/sourcegate"
new=$(mktemp)
trap 'rm -f "$new" "$new.md"' EXIT
"$bin" docs --settings >"$new"
awk -v blocks="$new" '
    BEGIN {
        while ((getline line < blocks) > 0) {
            if (line ~ /^<!-- settings:/) { name = line; text[name] = "" }
            if (name != "") { text[name] = text[name] line "\n" }
            if (line ~ /^<!-- \/settings:/) { name = "" }
        }
    }
    /^<!-- settings:/ { if (!($0 in text)) { print "unknown block " $0 > "/dev/stderr"; exit 1 }
                        printf "%s", text[$0]; skip = 1; seen[$0] = 1; next }
    /^<!-- \/settings:/ { skip = 0; next }
    !skip { print }
    END { for (b in text) if (!(b in seen)) { print "README.md lacks " b > "/dev/stderr"; exit 1 } }
' README.md >"$new.md"
mv "$new.md" README.md
echo "README.md: settings blocks written"
