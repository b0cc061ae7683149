#!/bin/sh
# Installs the Debian packages sourcegate builds, tests and runs with (the
# last line: the tools the deployment files are checked with).
# SPDX-License-Identifier: MIT
set -eu
if [ "$(id -u)" -ne 0 ]; then
    exec sudo "$0" "$@"
fi
packages="meson ninja-build pkg-config gcc libc6-dev
  libmicrohttpd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev libssl-dev libsqlite3-dev
  libcriterion-dev curl chromium
  systemd haproxy nginx prometheus python3-yaml procps"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# the analytics-node test needs Node.js 20 or newer with npm
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
