#!/bin/bash
# scale.sh -- how sourcegate's cost scales: with the events in a request
# (flat), with the number of sources loaded (sources), with time at a
# steady load (soak), and at 50,000 events/s inbound against the relay's
# budget (sustain). Same method as compare.sh: the daemon pinned to cpu 0,
# load generators and the Segment stand-in (standin.c) on cpu 1, loopback
# only, every run bounded, processes and temporary directories removed on
# exit. Each check prints a markdown table and writes scale-NAME.md and
# scale-NAME.tsv; scale.md gathers the checks run so far.
# Method and columns: bench/README.md, "scale.sh".
# SPDX-License-Identifier: MIT
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench

usage() {
    cat <<'EOF'
usage: bench/scale.sh [--only NAME]... [--bin PATH] [--rules DIR] [--quick]
                      [--duration S] [--rounds N] [--soak-seconds S]
                      [--sustain-seconds S] [--sustain-body sg100|sg10] [--out DIR]
  --only NAME          run only this check (repeatable, or comma-separated):
                       flat, sources, soak, sustain (default: all four)
  --bin PATH           the sourcegate binary to measure (default: the working
                       tree's release build, made in BUILD)
  --rules DIR          the shipped rules the daemon loads (RULES, rules/)
  --quick              checks the script: 2 s phases, 1 round, 30 s soak, 10 s sustain
  --duration S         seconds of each wrk phase (DURATION, 10)
  --rounds N           rounds of flat, and A/B pairs of sources (ROUNDS, 3)
  --soak-seconds S     length of the soak (SOAK_SECONDS, 600)
  --soak-rate R        requests/s of the soak (SOAK_RATE; default: 80% of the
                       maximum wrk finds first)
  --sustain-seconds S  length of the sustained 50,000 events/s (SUSTAIN_SECONDS, 60)
  --sustain-body B     sg100: 500 req/s of 100 events (default); sg10: 5,000 req/s
                       of 10 events (SUSTAIN_BODY)
  --out DIR            where scale*.md and scale*.tsv go (OUT, bench/results)
Environment: CONNECTIONS (32), MAX_RPS (50), LOG_LEVEL (info), THREADS (1),
DAEMON_CPU (0), LOAD_CPU (1), BUILD (build-bench), SOAK_SAMPLE_S (10), SUSTAIN_SAMPLE_S (5).
EOF
}

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-$BENCH/results}
RULES=${RULES:-$ROOT/rules}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RATE=${SOAK_RATE:-}
SUSTAIN_SECONDS=${SUSTAIN_SECONDS:-60}
SUSTAIN_BODY=${SUSTAIN_BODY:-sg100}
SOAK_SAMPLE_S=${SOAK_SAMPLE_S:-10}
SUSTAIN_SAMPLE_S=${SUSTAIN_SAMPLE_S:-5}
CONNECTIONS=${CONNECTIONS:-32}
MAX_RPS=${MAX_RPS:-50}
LOG_LEVEL=${LOG_LEVEL:-info}
DAEMON_CPU=${DAEMON_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
THREADS=${THREADS:-1}
BUILD=${BUILD:-$ROOT/build-bench}
BIN=
ONLY=
ALL_CHECKS=(flat sources soak sustain)
SUSTAIN_EVENTS_S=50000 # the inbound rate of sustain
BATCH_BYTES=475000     # the relay's batch budget (bench/README.md, compare.sh's batch fill)
SOURCES_B=100          # sources loaded in the B runs of sources

ARGS=${*:+ $*}
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY="$ONLY${ONLY:+,}$2"; shift ;;
        --bin) BIN=$2; shift ;;
        --rules) RULES=$2; shift ;;
        --quick) DURATION=2; ROUNDS=1; SOAK_SECONDS=30; SUSTAIN_SECONDS=10 ;;
        --duration) DURATION=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --soak-seconds) SOAK_SECONDS=$2; shift ;;
        --soak-rate) SOAK_RATE=$2; shift ;;
        --sustain-seconds) SUSTAIN_SECONDS=$2; shift ;;
        --sustain-body) SUSTAIN_BODY=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
for v in DURATION ROUNDS SOAK_SECONDS SUSTAIN_SECONDS SOAK_SAMPLE_S SUSTAIN_SAMPLE_S; do
    case "${!v}" in
        '' | *[!0-9]*) echo "scale: $v takes a whole number" >&2; exit 2 ;;
    esac
    [ "${!v}" -gt 0 ] || { echo "scale: $v must be > 0" >&2; exit 2; }
done
case "$SOAK_RATE" in
    '' | [0-9]* ) ;;
    *) echo "scale: --soak-rate takes requests/s" >&2; exit 2 ;;
esac
awk -v r="${SOAK_RATE:-1}" 'BEGIN { exit !(r + 0 > 0 && r ~ /^[0-9]+(\.[0-9]+)?$/) }' ||
    { echo "scale: --soak-rate takes requests/s > 0" >&2; exit 2; }
case "$SUSTAIN_BODY" in
    sg100 | sg10) ;;
    *) echo "scale: --sustain-body is sg100 or sg10" >&2; exit 2 ;;
esac
CHECKS=()
IFS=, read -r -a want <<<"${ONLY:-$(IFS=,; echo "${ALL_CHECKS[*]}")}"
for c in "${want[@]}"; do
    case " ${ALL_CHECKS[*]} " in
        *" $c "*) CHECKS+=("$c") ;;
        *) echo "scale: unknown check $c (flat, sources, soak, sustain)" >&2; exit 2 ;;
    esac
done
RULES=$(cd "$RULES" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { echo "scale: $*" >&2; }

# --- what it needs, installed when missing (as compare.sh does) ---
# shellcheck source=bench/common.sh
. "$BENCH/common.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v node >/dev/null || missing+=(nodejs)
command -v curl >/dev/null || missing+=(curl)
command -v curl-config >/dev/null || missing+=(libcurl4-openssl-dev)
[ -f /usr/include/microhttpd.h ] || missing+=(libmicrohttpd-dev)
install_missing "${missing[@]}"

TMP=$(mktemp -d /tmp/sourcegate-scale-XXXXXX)
SRV_PID=
STANDIN_PID=
LOAD_PID=
cleanup() {
    for p in $LOAD_PID $SRV_PID $STANDIN_PID; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the binary: --bin, else the working tree's release build ---
if [ -n "$BIN" ]; then
    BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
    [ -x "$BIN" ] || { echo "scale: $BIN is not executable" >&2; exit 2; }
    BIN_DESC="$BIN"
else
    log "building the working tree (release) in $BUILD"
    if [ ! -f "$BUILD/build.ninja" ]; then
        nice -n 5 meson setup "$BUILD" "$ROOT" --buildtype=release -Db_ndebug=true -Dtests=false >/dev/null
    fi
    nice -n 5 ninja -C "$BUILD" gateway/sourcegate >/dev/null
    BIN=$BUILD/gateway/sourcegate
    rev=$(git -C "$ROOT" rev-parse --short HEAD)
    git -C "$ROOT" diff --quiet HEAD -- gateway rules meson.build 2>/dev/null || rev="$rev+"
    BIN_DESC="working tree on $rev (release build)"
fi

build_helpers

MACHINE="$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024)) MB, $(uname -sr)"

# --- the stand-in, for the whole sitting ---
start_standin

# start_server DIR RULES_DIR: the daemon on DAEMON_CPU, as compare.sh's
# "sourcegate tree os"; sets SRV_PID and PORT.
start_server() {
    local dir=$1 rules=$2 i=0
    PORT=
    mkdir -p "$dir"
    taskset -c "$DAEMON_CPU" "$BIN" serve --listen 127.0.0.1:0 \
        --endpoint "http://127.0.0.1:$SPORT/v1" --spool "$dir/spool" --rules "$rules" \
        --threads "$THREADS" --max-rps "$MAX_RPS" --log-level "$LOG_LEVEL" --durability os \
        2>"$dir/server.log" &
    SRV_PID=$!
    until [ -n "$PORT" ]; do
        i=$((i + 1))
        [ "$i" -gt 150 ] && { log "the daemon did not listen"; cat "$dir/server.log" >&2; return 1; }
        sleep 0.1
        kill -0 "$SRV_PID" 2>/dev/null || { log "the daemon exited"; cat "$dir/server.log" >&2; return 1; }
        PORT=$(ss -Hltnp 2>/dev/null |
            sed -n "s/.*127\.0\.0\.1:\([0-9]*\) .*pid=$SRV_PID,.*/\1/p" | head -n 1)
    done
}

# accepted BODY PATH: one request, which must be a 200 with every event accepted
accepted() {
    local body=$1 url="http://127.0.0.1:$PORT$2" answer
    answer=$(curl -s -u wk_bench: -H 'Content-Type: application/json' --data-binary @"$body" "$url" || true)
    case "$answer" in
        *'"success":true'*) ;;
        *) log "refused $2: ${answer:0:200}"; return 1 ;;
    esac
}

sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
spool_gauges() { # prints "bytes calls" from the daemon's /metrics
    curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" |
        awk '$1 == "sourcegate_spool_bytes" { b = $2 } $1 == "sourcegate_spool_calls" { c = $2 }
            END { printf "%.0f %.0f\n", b, c }'
}
now() { date +%s.%N; }

# wrk_phase BODY EVENTS OUT: wrk at the maximum rate for DURATION s on
# /webhooks/sendgrid; appends "CPU ticks=N sys=N" (the daemon's user+system
# and system clock ticks over the phase)
wrk_phase() {
    local body=$1 epr=$2 out=$3 c0 c1 y0 y1
    c0=$(cpu_ticks "$SRV_PID")
    y0=$(sys_ticks "$SRV_PID")
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency \
        -s "$BENCH/post.lua" "http://127.0.0.1:$PORT/webhooks/sendgrid" -- "$body" sg_event_id "$epr" \
        >"$out"
    c1=$(cpu_ticks "$SRV_PID")
    y1=$(sys_ticks "$SRV_PID")
    echo "CPU ticks=$((c1 - c0)) sys=$((y1 - y0))" >>"$out"
}

# wrk_fields FILE: "requests accepted seconds cpu_s failed sys_s"
wrk_fields() {
    awk -v hz="$HZ" '/^BENCH|^CPU/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { printf "%d\t%d\t%.2f\t%.2f\t%d\t%.2f\n", v["requests_ok"], v["accepted"], v["seconds"],
            v["ticks"] / hz, v["requests_other"] + v["errors"], v["sys"] / hz }' "$1"
}

header() { # TITLE: the first lines of a check's markdown
    echo "## $1"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $BIN_DESC; $MACHINE; daemon on cpu $DAEMON_CPU" \
        "(\`--threads $THREADS --durability os --max-rps $MAX_RPS --log-level $LOG_LEVEL\`), load and" \
        "stand-in on cpu $LOAD_CPU; load average before: $LOAD0. Command: \`bench/scale.sh$ARGS\`."
    echo
}

# --- flat: CPU per event and per request, 1 to 1,000 events per request ---
check_flat() {
    local tsv=$OUT/scale-flat.tsv md=$OUT/scale-flat.md
    printf 'round\tevents_per_request\trequests\taccepted\tseconds\tcpu_s\tcpu_us_per_request\tcpu_us_per_event\tfailed\tsys_s\n' >"$tsv"
    local round n dir f
    for round in $(seq 1 "$ROUNDS"); do
        for n in 1 10 100 1000; do
            log "flat: round $round/$ROUNDS, $n events per request"
            dir=$TMP/flat-$round-$n
            start_server "$dir" "$RULES"
            accepted "$TMP/bodies/sendgrid-$n.json" /webhooks/sendgrid || { stop_server; return 1; }
            wrk_phase "$TMP/bodies/sendgrid-$n.json" "$n" "$dir/wrk.out"
            stop_server
            f=$(wrk_fields "$dir/wrk.out")
            awk -F'\t' -v round="$round" -v n="$n" '{
                printf "%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.1f\t%.2f\t%d\t%.2f\n", round, n, $1, $2, $3, $4,
                    ($1 > 0 ? $4 * 1e6 / $1 : 0), ($2 > 0 ? $4 * 1e6 / $2 : 0), $5, $6 }' <<<"$f" >>"$tsv"
            rm -rf "$dir"
        done
    done
    {
        header "flat: CPU per event, 1 to 1,000 events per request"
        echo "wrk -t1 -c$CONNECTIONS at the maximum rate, $DURATION s per cell, $ROUNDS round(s), a" \
            "fresh daemon per cell; CPU is the daemon's utime+stime over the phase (every thread)," \
            "the system share its stime part." \
            "Acceptance: the cost per event is flat from 1 to 1,000 events per request (here: within" \
            "±25% of the 100-event figure)."
        echo
        echo "| events/request | events/s | CPU µs/request | CPU µs/event (range) | system share | ratio to 100 | flat | failed |"
        echo "|---|---|---|---|---|---|---|---|"
        awk -F'\t' 'NR > 1 {
                n = $2; k[n]++; ev[n] += $4 / $5; req[n] += $7; e[n] += $8; fail[n] += $9; cs[n] += $6; ys[n] += $10
                if (k[n] == 1 || $8 < lo[n]) lo[n] = $8
                if (k[n] == 1 || $8 > hi[n]) hi[n] = $8
            }
            END {
                ref = (k[100] > 0 ? e[100] / k[100] : 0)
                split("1 10 100 1000", ns, " ")
                for (i = 1; i <= 4; i++) {
                    n = ns[i]; if (k[n] == 0) continue
                    m = e[n] / k[n]; r = (ref > 0 ? m / ref : 0)
                    printf "| %d | %.0f | %.0f | %.1f (%.1f-%.1f) | %.0f%% | %.2f | %s | %d |\n", n, ev[n] / k[n],
                        req[n] / k[n], m, lo[n], hi[n], (cs[n] > 0 ? 100 * ys[n] / cs[n] : 0), r,
                        (r >= 0.75 && r <= 1.25 ? "yes" : "no"), fail[n]
                }
            }' "$tsv"
    } >"$md"
}

# --- sources: the 10-event body with 16 and with 100 sources loaded ---
make_rules_100() { # DIR: the shipped rules plus renamed copies, 100 in all
    local dir=$1 k=2 n f s
    mkdir -p "$dir"
    cp "$RULES"/*.yaml "$dir"/
    n=$(find "$dir" -name '*.yaml' | wc -l)
    while [ "$n" -lt "$SOURCES_B" ]; do
        for f in "$RULES"/*.yaml; do
            [ "$n" -ge "$SOURCES_B" ] && break
            s=$(sed -n 's/^source:[[:space:]]*\([A-Za-z0-9_-]*\)[[:space:]]*$/\1/p' "$f" | head -n 1)
            [ -n "$s" ] || { log "no source: line in $f"; return 1; }
            sed "s/^source:[[:space:]]*${s}[[:space:]]*\$/source: $s-$k/" "$f" >"$dir/$s-$k.yaml"
            n=$((n + 1))
        done
        k=$((k + 1))
    done
    "$BIN" lint "$dir"/*.yaml >"$TMP/lint.out" 2>&1 || { cat "$TMP/lint.out" >&2; return 1; }
    grep -q "rules OK: $SOURCES_B sources" "$TMP/lint.out" ||
        { log "lint did not count $SOURCES_B sources"; cat "$TMP/lint.out" >&2; return 1; }
}

check_sources() {
    local tsv=$OUT/scale-sources.tsv md=$OUT/scale-sources.md many=$TMP/rules-$SOURCES_B
    local nshipped round v dir f rules
    make_rules_100 "$many"
    nshipped=$(find "$RULES" -maxdepth 1 -name '*.yaml' | wc -l)
    printf 'round\tsources\trequests\taccepted\tseconds\tcpu_s\tcpu_us_per_request\tcpu_us_per_event\tfailed\tsys_s\n' >"$tsv"
    for round in $(seq 1 "$ROUNDS"); do
        for v in A B; do
            rules=$RULES; [ "$v" = B ] && rules=$many
            log "sources: round $round/$ROUNDS, $v ($(find "$rules" -maxdepth 1 -name '*.yaml' | wc -l) sources)"
            dir=$TMP/sources-$round-$v
            start_server "$dir" "$rules"
            accepted "$TMP/bodies/sendgrid-10.json" /webhooks/sendgrid || { stop_server; return 1; }
            if [ "$v" = B ]; then # a renamed copy is served too
                accepted "$TMP/bodies/sendgrid-10.json" /webhooks/sendgrid-6 || { stop_server; return 1; }
            fi
            wrk_phase "$TMP/bodies/sendgrid-10.json" 10 "$dir/wrk.out"
            stop_server
            f=$(wrk_fields "$dir/wrk.out")
            awk -F'\t' -v round="$round" -v s="$([ "$v" = A ] && echo "$nshipped" || echo "$SOURCES_B")" '{
                printf "%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.1f\t%.2f\t%d\t%.2f\n", round, s, $1, $2, $3, $4,
                    ($1 > 0 ? $4 * 1e6 / $1 : 0), ($2 > 0 ? $4 * 1e6 / $2 : 0), $5, $6 }' <<<"$f" >>"$tsv"
            rm -rf "$dir"
        done
    done
    {
        header "sources: $nshipped sources against $SOURCES_B"
        echo "The 10-event SendGrid body, wrk -t1 -c$CONNECTIONS at the maximum rate, $DURATION s per" \
            "run, A ($nshipped shipped sources) and B (the shipped ones plus renamed copies, $SOURCES_B" \
            "sources, \`sourcegate lint\` clean) interleaved A/B over $ROUNDS round(s), a fresh daemon" \
            "per run. Acceptance: loading $SOURCES_B sources does not change the cost per request" \
            "(here: the B-A difference of the means lies within the run-to-run noise, the larger of" \
            "the A/A and B/B spreads, max-min of the A runs and of the B runs)."
        echo
        echo "| sources | runs | events/s | CPU µs/request, mean (range) | failed |"
        echo "|---|---|---|---|---|"
        awk -F'\t' 'NR > 1 {
                s = $2; k[s]++; ev[s] += $4 / $5; m[s] += $7; fail[s] += $9
                if (k[s] == 1 || $7 < lo[s]) lo[s] = $7
                if (k[s] == 1 || $7 > hi[s]) hi[s] = $7
                if (!(s in seen)) { seen[s] = 1; order[++no] = s }
            }
            END {
                for (i = 1; i <= no; i++) {
                    s = order[i]
                    printf "| %d | %d | %.0f | %.1f (%.1f-%.1f) | %d |\n", s, k[s], ev[s] / k[s],
                        m[s] / k[s], lo[s], hi[s], fail[s]
                }
                a = order[1]; b = order[2]
                if (k[a] == 0 || k[b] == 0) exit
                ma = m[a] / k[a]; mb = m[b] / k[b]; sa = hi[a] - lo[a]; sb = hi[b] - lo[b]
                noise = (sa > sb ? sa : sb)
                printf "\nB-A: %+.1f µs per request (%+.1f%%); A/A spread: %.1f µs (%.1f%%); B/B spread: %.1f µs (%.1f%%); within the noise: %s.\n",
                    mb - ma, 100 * (mb - ma) / ma, sa, 100 * sa / ma, sb, 100 * sb / mb,
                    (k[a] < 2 ? "no A/A pair (--rounds 1)" : ((mb - ma <= noise && ma - mb <= noise) ? "yes" : "no"))
            }' "$tsv"
    } >"$md"
}

# slope FILE COL: least-squares slope of column COL against column 1, per
# second, over the rows of the file's second half; and over all rows
slopes() {
    awk -F'\t' -v col="$2" 'NR > 1 { t[++n] = $1; y[n] = $col }
        function fit(a, b,   i, k, st, sy, stt, sty) {
            k = b - a + 1; if (k < 2) return 0
            for (i = a; i <= b; i++) { st += t[i]; sy += y[i]; stt += t[i] * t[i]; sty += t[i] * y[i] }
            return (k * stt - st * st) != 0 ? (k * sty - st * sy) / (k * stt - st * st) : 0
        }
        END { printf "%.6f %.6f\n", fit(int(n / 2) + 1, n), fit(1, n) }' "$1"
}

# max_rate BODY EVENTS: the daemon's requests/s under wrk, on a fresh daemon
max_rate() {
    local dir=$TMP/maxrate-$1-$RANDOM
    start_server "$dir" "$RULES"
    accepted "$TMP/bodies/sendgrid-$2.json" /webhooks/sendgrid || { stop_server; return 1; }
    wrk_phase "$TMP/bodies/sendgrid-$2.json" "$2" "$dir/wrk.out"
    stop_server
    awk '/^BENCH requests_ok/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { printf "%.1f\n", v["requests_ok"] / v["seconds"] }' "$dir/wrk.out"
    rm -rf "$dir"
}

# --- soak: 80% of the maximum rate for SOAK_SECONDS, RSS every 10 s ---
check_soak() {
    local tsv=$OUT/scale-soak.tsv md=$OUT/scale-soak.md dir=$TMP/soak max target t0 t
    local how
    if [ -n "$SOAK_RATE" ]; then
        target=$SOAK_RATE
        how="rate.c at $target req/s (\`--soak-rate\`)"
    else
        log "soak: the maximum rate of the 10-event body ($DURATION s of wrk)"
        max=$(max_rate sg10 10)
        target=$(awk -v m="$max" 'BEGIN { r = 0.8 * m; printf "%.1f", (r > 1 ? r : 1) }')
        how="wrk found $max req/s at most ($DURATION s); then a fresh daemon took rate.c at $target req/s (80%)"
    fi
    log "soak: $target req/s for $SOAK_SECONDS s"
    start_server "$dir" "$RULES"
    accepted "$TMP/bodies/sendgrid-10.json" /webhooks/sendgrid || { stop_server; return 1; }
    local c0 c1
    c0=$(cpu_ticks "$SRV_PID")
    taskset -c "$LOAD_CPU" "$TMP/rate" "http://127.0.0.1:$PORT/webhooks/sendgrid" \
        "$TMP/bodies/sendgrid-10.json" "$target" "$SOAK_SECONDS" "$CONNECTIONS" >"$dir/rate.out" &
    LOAD_PID=$!
    t0=$(now)
    printf 't_s\trss_kb\tspool_bytes\tspool_calls\n' >"$tsv"
    local k=0
    while :; do
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        printf '%s\t%s\t%s\n' "$t" "$(rss_kb "$SRV_PID")" "$(spool_gauges | tr ' ' '\t')" >>"$tsv"
        kill -0 "$LOAD_PID" 2>/dev/null || break
        k=$((k + 1))
        # the next sample at t0 + k * SOAK_SAMPLE_S, or when the load ends
        while kill -0 "$LOAD_PID" 2>/dev/null &&
            awk -v a="$t0" -v b="$(now)" -v d="$((k * SOAK_SAMPLE_S))" 'BEGIN { exit !(b - a < d) }'; do
            sleep 0.5
        done
    done
    wait "$LOAD_PID" || true
    LOAD_PID=
    c1=$(cpu_ticks "$SRV_PID")
    stop_server
    local sl
    sl=$(slopes "$tsv" 2)
    {
        header "soak: memory at a steady rate"
        echo "The 10-event SendGrid body: $how over $CONNECTIONS connections for $SOAK_SECONDS s;" \
            "VmRSS every $SOAK_SAMPLE_S s (\`scale-soak.tsv\`). Acceptance: memory flat (here: the" \
            "second half's trend adds under 5% of the RSS over that half)."
        echo
        echo "| asked req/s | held req/s | p99 ms (from due) | failed | CPU µs/request | first RSS MB | last RSS MB | max RSS MB | slope, all (KB/min) | slope, 2nd half (KB/min) | 2nd half trend | flat |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' -v target="$target" -v sl="$sl" -v hz="$HZ" -v cpu="$((c1 - c0))" '
            FNR == NR { if (/^RATE/) { nf = split($0, f, " "); for (i = 2; i <= nf; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] } } next }
            FNR > 1 { n++; t[n] = $1; r[n] = $2; if ($2 > mx) mx = $2 }
            END {
                split(sl, s, " ")
                h = int(n / 2) + 1; span = t[n] - t[h]
                grow = s[1] * span; base = r[h] > 0 ? r[h] : 1
                printf "| %.0f | %.1f | %.1f | %d | %.0f | %.1f | %.1f | %.1f | %+.1f | %+.1f | %+.1f MB (%+.1f%%) | %s |\n",
                    target, v["ok"] / v["seconds"], v["p99_us"] / 1000, v["other"],
                    (v["ok"] > 0 ? cpu * 1e6 / hz / v["ok"] : 0), r[1] / 1024, r[n] / 1024, mx / 1024,
                    s[2] * 60, s[1] * 60, grow / 1024, 100 * grow / base,
                    (grow < 0.05 * base ? "yes" : "no")
            }' "$dir/rate.out" "$tsv"
    } >"$md"
    rm -rf "$dir"
}

# --- sustain: 50,000 events/s inbound, the relay at --max-rps ---
check_sustain() {
    local tsv=$OUT/scale-sustain.tsv md=$OUT/scale-sustain.md dir=$TMP/sustain
    local epr=${SUSTAIN_BODY#sg} rps t0 t s0 s1 c0 c1
    rps=$((SUSTAIN_EVENTS_S / epr))
    log "sustain: $rps req/s of $epr events for $SUSTAIN_SECONDS s"
    start_server "$dir" "$RULES"
    accepted "$TMP/bodies/sendgrid-$epr.json" /webhooks/sendgrid || { stop_server; return 1; }
    # the relay sends that first request's calls before the phase starts
    sleep 2
    s0=$(standin_counts)
    c0=$(cpu_ticks "$SRV_PID")
    taskset -c "$LOAD_CPU" "$TMP/rate" "http://127.0.0.1:$PORT/webhooks/sendgrid" \
        "$TMP/bodies/sendgrid-$epr.json" "$rps" "$SUSTAIN_SECONDS" "$CONNECTIONS" >"$dir/rate.out" &
    LOAD_PID=$!
    t0=$(now)
    printf 't_s\tspool_bytes\tspool_calls\tupstream_requests\tupstream_calls\tupstream_bytes\trss_kb\n' >"$tsv"
    local k=0 st
    while :; do
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        st=$(standin_counts)
        printf '%s\t%s\t%s\t%s\n' "$t" "$(spool_gauges | tr ' ' '\t')" \
            "$(awk -v a="$s0" -v b="$st" 'BEGIN { split(a, x, " "); split(b, y, " ")
                printf "%d\t%d\t%d", y[1] - x[1], y[2] - x[2], y[3] - x[3] }')" \
            "$(rss_kb "$SRV_PID")" >>"$tsv"
        kill -0 "$LOAD_PID" 2>/dev/null || break
        k=$((k + 1))
        while kill -0 "$LOAD_PID" 2>/dev/null &&
            awk -v a="$t0" -v b="$(now)" -v d="$((k * SUSTAIN_SAMPLE_S))" 'BEGIN { exit !(b - a < d) }'; do
            sleep 0.25
        done
    done
    wait "$LOAD_PID" || true
    LOAD_PID=
    c1=$(cpu_ticks "$SRV_PID")
    s1=$(standin_counts)
    stop_server
    local sl
    sl=$(slopes "$tsv" 2)
    {
        header "sustain: $SUSTAIN_EVENTS_S events/s inbound against the relay's budget"
        echo "rate.c at $rps req/s of the $epr-event SendGrid body ($SUSTAIN_EVENTS_S events/s asked)" \
            "over $CONNECTIONS connections for $SUSTAIN_SECONDS s; the relay at \`--max-rps $MAX_RPS\`;" \
            "the stand-in's \`GET /stats\` before and after give the batch fill (bytes per upstream" \
            "request / $BATCH_BYTES); the spool's queued bytes (\`sourcegate_spool_bytes\` of" \
            "\`/metrics\`) every $SUSTAIN_SAMPLE_S s (\`scale-sustain.tsv\`). Acceptance: batches average" \
            ">= 90% of the byte limit, and the spool stays bounded (here: the second half's trend adds" \
            "under 25% of the spool's maximum over that half)."
        echo
        echo "| asked events/s | held events/s (req/s) | p99 ms (from due) | failed | CPU µs/event | upstream req/s | bytes/call | batch fill | relay ceiling calls/s | max spool MB | spool trend, 2nd half | bounded |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' -v epr="$epr" -v asked="$SUSTAIN_EVENTS_S" -v s0="$s0" -v s1="$s1" -v sl="$sl" \
            -v hz="$HZ" -v cpu="$((c1 - c0))" -v budget="$BATCH_BYTES" -v rps="$rps" -v maxrps="$MAX_RPS" '
            FNR == NR { if (/^RATE/) { nf = split($0, f, " "); for (i = 2; i <= nf; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] } } next }
            FNR > 1 { n++; t[n] = $1; b[n] = $2; if ($2 > mx) mx = $2 }
            END {
                split(sl, s, " "); split(s0, a, " "); split(s1, z, " ")
                secs = v["seconds"]; up = z[1] - a[1]; calls = z[2] - a[2]; bytes = z[3] - a[3]
                per = (calls > 0 ? bytes / calls : 0)
                h = int(n / 2) + 1; span = t[n] - t[h]; grow = s[1] * span
                fill = (up > 0 ? bytes / up / budget : 0)
                ev = v["ok"] * epr
                printf "| %d | %.0f (%.0f of %d) | %.1f | %d | %.1f | %.1f | %.0f | %.2f | %.0f | %.1f | %+.2f MB/min (%+.2f MB) | %s |\n",
                    asked, ev / secs, v["ok"] / secs, rps, v["p99_us"] / 1000, v["other"],
                    (ev > 0 ? cpu * 1e6 / hz / ev : 0), up / secs, per, fill,
                    (per > 0 ? maxrps * budget / per : 0), mx / 1e6, s[1] * 60 / 1e6, grow / 1e6,
                    (grow < 0.25 * mx || mx < 2 * budget ? "yes" : "no")
                printf "\nfill >= 0.90: %s; the stand-in got %d requests, %d calls, %.1f MB from the start of the load to its end (%d s and the answers to its last requests). Relay ceiling: --max-rps %d full batches of %d bytes over the bytes of a call.\n",
                    (fill >= 0.90 ? "yes" : "no"), up, calls, bytes / 1e6, secs, maxrps, budget
            }' "$dir/rate.out" "$tsv"
    } >"$md"
    rm -rf "$dir"
}

for c in "${CHECKS[@]}"; do
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    "check_$c" || { log "$c failed"; exit 1; }
    cat "$OUT/scale-$c.md"
    echo
done

# scale.md: every check's latest section
{
    echo "# sourcegate scale checks (bench/scale.sh)"
    echo
    echo "Each section is the latest run of that check; raw rows in scale-NAME.tsv. Method: bench/README.md, \"scale.sh\"."
    for c in "${ALL_CHECKS[@]}"; do
        [ -f "$OUT/scale-$c.md" ] || continue
        echo
        cat "$OUT/scale-$c.md"
    done
} >"$OUT/scale.md"
log "$OUT/scale.md"
