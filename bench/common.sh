# shellcheck shell=bash
# common.sh -- what compare.sh and scale.sh share: installing what is
# missing, the helper programs, the Segment stand-in, stopping a daemon and
# reading its CPU time. Sourced after the script has set BENCH, TMP and
# log(); it sets STANDIN_PID and SPORT when the stand-in starts.
# SPDX-License-Identifier: MIT

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_missing PACKAGE...: apt-get install, quietly, when the list is not empty
install_missing() {
    [ $# -gt 0 ] || return 0
    log "installing $*"
    as_root apt-get install -y "$@" >/dev/null
}

# build_helpers: the stand-in, the constant-rate generator, the floor
# server and the bodies, in TMP
build_helpers() {
    cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter "$BENCH/standin.c" \
        -o "$TMP/standin" -lmicrohttpd
    cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra "$BENCH/rate.c" -o "$TMP/rate" -lcurl
    cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra "$BENCH/floor.c" -o "$TMP/floor" \
        -lmicrohttpd -ljson-c -lsqlite3 -lpthread
    node "$BENCH/bodies.js" "$TMP/bodies"
}

wait_for() { # FILE PATTERN: polls up to 15 s
    local i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 150 ] && { log "no '$2' in $1"; cat "$1" >&2; return 1; }
        sleep 0.1
    done
}

# start_standin: the Segment stand-in on LOAD_CPU, for the whole sitting
start_standin() {
    taskset -c "$LOAD_CPU" "$TMP/standin" >"$TMP/standin.out" &
    # shellcheck disable=SC2034 # the sourcing script's cleanup stops it
    STANDIN_PID=$!
    wait_for "$TMP/standin.out" '^port '
    SPORT=$(sed -n 's/^port //p' "$TMP/standin.out")
}

# standin_counts: "requests calls bytes" received so far
standin_counts() { curl -s "http://127.0.0.1:$SPORT/stats" | awk '{print $2, $4, $6}'; }

# stop_server: SIGTERM to SRV_PID; a daemon drains its spool to the
# stand-in first, bounded at 20 s, then SIGKILL
stop_server() {
    local i=0
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null || true
    while kill -0 "$SRV_PID" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 200 ] && { kill -KILL "$SRV_PID" 2>/dev/null || true; break; }
        sleep 0.1
    done
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
}

# cpu_ticks PID: user + system clock ticks of every thread of the process
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
