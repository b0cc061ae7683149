#!/bin/sh
# run.sh -- how many webhook events one sourcegate core accepts: a release
# build, pinned to one core with --threads 1, on a temporary spool, relaying
# to a local stand-in that answers 200 at once, driven by wrk on loopback
# with the SendGrid Event Webhook body (8 events, 7 mapped; every request
# with fresh sg_event_ids). Run by hand: bench/README.md.
# SPDX-License-Identifier: MIT
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DURATION=${DURATION:-20}          # seconds of load
CONNECTIONS=${CONNECTIONS:-32}    # wrk connections
DURABILITY=${DURABILITY:-os}      # os or fsync
MAX_RPS=${MAX_RPS:-50}            # the relay's budget to the stand-in
LOG_LEVEL=${LOG_LEVEL:-info}      # info writes one access line per request
THREADS=${THREADS:-1}             # HTTP threads (all on the one core)
EXTRA_FLAGS=${EXTRA_FLAGS:-}      # more daemon flags, e.g. --dry-run (no spool: the ceiling)
DAEMON_CPU=${DAEMON_CPU:-0}       # the daemon's one core
LOAD_CPU=${LOAD_CPU:-1}           # wrk and the stand-in
BODY=${BODY:-$ROOT/tests/data/sendgrid/email_events.user_id.json}

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench: curl is missing" >&2; exit 2; }

if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" --buildtype=release -Db_ndebug=true -Dtests=false >/dev/null
fi
ninja -C "$BUILD" gateway/sourcegate >/dev/null

TMP=$(mktemp -d /tmp/sourcegate-bench-XXXXXX)
DPID=
SPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# wait_for FILE PATTERN: polls (100 ms) up to 10 s for PATTERN in FILE.
wait_for() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && { echo "bench: no '$2' in $1" >&2; cat "$1" >&2; exit 1; }
        sleep 0.1
    done
}

cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter "$ROOT/bench/standin.c" \
    -o "$TMP/standin" -lmicrohttpd
taskset -c "$LOAD_CPU" "$TMP/standin" >"$TMP/standin.out" &
SPID=$!
wait_for "$TMP/standin.out" '^port '
SPORT=$(sed -n 's/^port //p' "$TMP/standin.out")

taskset -c "$DAEMON_CPU" "$BUILD/gateway/sourcegate" serve --listen 127.0.0.1:0 \
    --endpoint "http://127.0.0.1:$SPORT/v1" --spool "$TMP/spool" --rules "$ROOT/rules" \
    --threads "$THREADS" --durability "$DURABILITY" --max-rps "$MAX_RPS" --log-level "$LOG_LEVEL" \
    $EXTRA_FLAGS 2>"$TMP/daemon.log" &
DPID=$!
# The port the daemon listens on (its log says it only at info level).
i=0
PORT=
until [ -n "$PORT" ]; do
    i=$((i + 1))
    [ "$i" -gt 100 ] && { echo "bench: the daemon did not listen" >&2; cat "$TMP/daemon.log" >&2; exit 1; }
    sleep 0.1
    PORT=$(ss -Hltnp 2>/dev/null | sed -n "s/.*127\.0\.0\.1:\([0-9]*\) .*pid=$DPID,.*/\1/p" | head -n 1)
done
URL="http://127.0.0.1:$PORT/webhooks/sendgrid"

# One request first: it must be accepted, with the number of events.
ANSWER=$(curl -s -u wk_bench: -H 'Content-Type: application/json' --data-binary @"$BODY" "$URL")
case "$ANSWER" in
    *'"success":true'*) ;;
    *) echo "bench: the daemon refused the body: $ANSWER" >&2; exit 1 ;;
esac

echo "sourcegate $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'):" \
    "1 core (cpu $DAEMON_CPU), --threads $THREADS, durability $DURABILITY, max-rps $MAX_RPS," \
    "log-level $LOG_LEVEL $EXTRA_FLAGS; wrk -t1 -c$CONNECTIONS -d${DURATION}s on cpu $LOAD_CPU"
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$ROOT/bench/sendgrid.lua" "$URL" -- "$BODY" >"$TMP/wrk.out"

RSS=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$DPID/status")
HWM=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$DPID/status")
CPU=$(awk '{print $14 + $15}' "/proc/$DPID/stat")
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null || true
SPID=

awk -v rss="$RSS" -v hwm="$HWM" -v cpu="$CPU" -v hz="$(getconf CLK_TCK)" '
    /^BENCH requests_ok/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    }
    /^BENCH p50_us/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    }
    END {
        s = v["seconds"]
        printf "accepted events/s : %.0f\n", v["accepted"] / s
        printf "requests/s        : %.0f (200: %d, other: %d)\n", (v["requests_ok"] + v["requests_other"]) / s, v["requests_ok"], v["requests_other"]
        printf "latency           : p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", v["p50_us"] / 1000, v["p99_us"] / 1000, v["max_us"] / 1000
        printf "daemon RSS        : %s now, %s peak; cpu %.1f s\n", rss, hwm, cpu / hz
    }' "$TMP/wrk.out"
sed -n 's/^standin: /relayed (stand-in): /p' "$TMP/standin.out"
grep -h '"relay".*stopped' "$TMP/daemon.log" | sed 's/.*"msg":"\(.*\)"}$/relay at stop     : \1/' || true
