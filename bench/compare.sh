#!/bin/bash
# compare.sh -- sourcegate beside nginx (the HTTP ceiling), floor.c (the
# libraries it is built on, alone) and a Node express +
# @segment/analytics-node service, in one sitting: each server on
# one core (taskset, cpu 0), load generators and the Segment stand-in on the
# other (cpu 1), loopback only. Per (server, workload): requests/s, events/s,
# p50/p99 at the maximum rate (wrk), p99 at 80% of that rate under a
# constant-rate load (rate.c), peak RSS, CPU per event, and what the stand-in
# received. Writes a markdown table, the raw rows and a PNG plot.
# Method and columns: bench/README.md.
# SPDX-License-Identifier: MIT
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench

usage() {
    cat <<'EOF'
usage: bench/compare.sh [--quick] [--duration S] [--rounds N] [--out DIR]
                        [--rev COMMIT]... [--baseline COMMIT]
                        [--servers LIST] [--workloads LIST]
  --quick            2 s per phase, 1 round (checks the script, not the figures)
  --duration S       seconds of each load phase (DURATION, 10)
  --rounds N         rounds, the servers interleaved in each (ROUNDS, 2)
  --out DIR          where results.md, results.tsv and results.png go (OUT, bench/results)
  --rev COMMIT       also build COMMIT (release) and run it beside the working
                     tree (repeatable; --baseline is the same)
  --servers LIST     comma-separated, of: os fsync dry floor nginx node (SERVERS, all)
  --rev-modes LIST   the sourcegate modes run for each --rev (REV_MODES, os,fsync,dry)
  --workloads LIST   comma-separated, of: sg1 sg10 sg100 sg1000 batch100 github
                     (WORKLOADS, all)
Environment: CONNECTIONS (32), MAX_RPS (50), LOG_LEVEL (info), DAEMON_CPU (0),
LOAD_CPU (1), BUILD (build-bench), THREADS (sourcegate's --threads; unset: 1 at
durability os and dry run, the daemon's default at fsync: 1 per core).
EOF
}

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-$BENCH/results}
SERVERS=${SERVERS:-os,fsync,dry,floor,nginx,node}
REV_MODES=${REV_MODES:-os,fsync,dry}
WORKLOADS=${WORKLOADS:-sg1,sg10,sg100,sg1000,batch100,github}
CONNECTIONS=${CONNECTIONS:-32}
MAX_RPS=${MAX_RPS:-50}
THREADS=${THREADS:-}
LOG_LEVEL=${LOG_LEVEL:-info}
DAEMON_CPU=${DAEMON_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BUILD=${BUILD:-$ROOT/build-bench}
REVS=()

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) DURATION=2; ROUNDS=1 ;;
        --duration) DURATION=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --rev | --baseline) REVS+=("$2"); shift ;;
        --servers) SERVERS=$2; shift ;;
        --rev-modes) REV_MODES=$2; shift ;;
        --workloads) WORKLOADS=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
case "$DURATION$ROUNDS${THREADS:-0}" in *[!0-9]*) echo "compare: --duration, --rounds and THREADS take whole numbers" >&2; exit 2 ;; esac
[ "$DURATION" -gt 0 ] && [ "$ROUNDS" -gt 0 ] || { echo "compare: --duration and --rounds must be > 0" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# --- what it needs, installed when missing (as bench/README.md says) ---
log() { echo "compare: $*" >&2; }
# shellcheck source=bench/common.sh
. "$BENCH/common.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v node >/dev/null || missing+=(nodejs npm)
command -v curl-config >/dev/null || missing+=(libcurl4-openssl-dev)
install_missing "${missing[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -d "$BENCH/peers/node_modules" ]; then
    (cd "$BENCH/peers" && npm ci --no-audit --no-fund >/dev/null)
fi

TMP=$(mktemp -d /tmp/sourcegate-compare-XXXXXX)
SRV_PID=
STANDIN_PID=
WORKTREES=()
cleanup() {
    for p in $SRV_PID $STANDIN_PID; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    for w in "${WORKTREES[@]}"; do
        git -C "$ROOT" worktree remove --force "$w" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- builds: the working tree, then every --rev (cached by commit) ---

release_build() { # SRC BUILD_DIR
    if [ ! -f "$2/build.ninja" ]; then
        nice -n 5 meson setup "$2" "$1" --buildtype=release -Db_ndebug=true -Dtests=false >/dev/null
    fi
    nice -n 5 ninja -C "$2" gateway/sourcegate >/dev/null
}

log "building the working tree (release) in $BUILD"
release_build "$ROOT" "$BUILD"
TREE_REV=$(git -C "$ROOT" rev-parse --short HEAD)
git -C "$ROOT" diff --quiet HEAD -- gateway rules meson.build 2>/dev/null || TREE_REV="$TREE_REV+"

declare -A BIN RULES
BIN[tree]=$BUILD/gateway/sourcegate
RULES[tree]=$ROOT/rules
REV_IDS=()
for r in "${REVS[@]}"; do
    sha=$(git -C "$ROOT" rev-parse --verify "$r^{commit}")
    short=${sha:0:7}
    cache=$ROOT/build-bench-rev/$sha
    if [ ! -x "$cache/sourcegate" ]; then
        log "building $short (release) in a temporary worktree"
        src=$TMP/src-$short
        git -C "$ROOT" worktree add --detach "$src" "$sha" >/dev/null 2>&1
        WORKTREES+=("$src")
        release_build "$src" "$src/build"
        mkdir -p "$cache"
        cp "$src/build/gateway/sourcegate" "$cache/sourcegate.tmp"
        rm -rf "$cache/rules"
        cp -r "$src/rules" "$cache/rules"
        mv "$cache/sourcegate.tmp" "$cache/sourcegate"
        git -C "$ROOT" worktree remove --force "$src"
    fi
    BIN[$short]=$cache/sourcegate
    RULES[$short]=$cache/rules
    REV_IDS+=("$short")
done

build_helpers

# --- the server list: NAME (kind:arg) and its label ---
SERVER_LIST=()
declare -A LABEL
add_sg() { # REV_ID MODE
    local name="sg:$1:$2" who="sourcegate"
    [ "$1" = tree ] && who="sourcegate tree" || who="sourcegate @$1"
    case "$2" in
        os) LABEL[$name]="$who os" ;;
        fsync) LABEL[$name]="$who fsync" ;;
        dry) LABEL[$name]="$who dry-run" ;;
        *) echo "compare: unknown mode $2" >&2; exit 2 ;;
    esac
    SERVER_LIST+=("$name")
}
IFS=, read -r -a want <<<"$SERVERS"
for s in "${want[@]}"; do
    case "$s" in
        os | fsync | dry) add_sg tree "$s" ;;
        floor) SERVER_LIST+=(floor); LABEL[floor]="floor: MHD + json-c + SQLite alone" ;;
        nginx) SERVER_LIST+=(nginx); LABEL[nginx]="nginx return 200" ;;
        node) SERVER_LIST+=(node); LABEL[node]="node express+analytics-node" ;;
        *) echo "compare: unknown server $s" >&2; exit 2 ;;
    esac
done
IFS=, read -r -a rmodes <<<"$REV_MODES"
for id in "${REV_IDS[@]}"; do
    for m in "${rmodes[@]}"; do add_sg "$id" "$m"; done
done

# --- workloads: path, body, key rewritten per request, events, header ---
declare -A W_PATH W_BODY W_KEY W_EVENTS W_HEADER
for n in 1 10 100 1000; do
    W_PATH[sg$n]=/webhooks/sendgrid; W_BODY[sg$n]=sendgrid-$n.json; W_KEY[sg$n]=sg_event_id
    W_EVENTS[sg$n]=$n; W_HEADER[sg$n]=
done
W_PATH[batch100]=/v1/batch; W_BODY[batch100]=batch-100.json; W_KEY[batch100]=messageId
W_EVENTS[batch100]=100; W_HEADER[batch100]=
W_PATH[github]=/webhooks/github; W_BODY[github]=github.json; W_KEY[github]=-
W_EVENTS[github]=1; W_HEADER[github]="X-GitHub-Event: push"
IFS=, read -r -a WL <<<"$WORKLOADS"
for w in "${WL[@]}"; do
    [ -n "${W_PATH[$w]:-}" ] || { echo "compare: unknown workload $w" >&2; exit 2; }
done

# --- the stand-in, for the whole sitting ---
start_standin
standin_stats() { standin_counts | awk '{print $1, $3}'; } # requests bytes

free_port() {
    node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_server NAME DIR: starts it on DAEMON_CPU; sets SRV_PID and PORT.
start_server() {
    local name=$1 dir=$2 i=0
    PORT=
    case "$name" in
        sg:*)
            local id=${name#sg:} mode
            mode=${id#*:}
            id=${id%%:*}
            local flags=(--durability os)
            case "$mode" in
                fsync) flags=(--durability fsync) ;;
                dry) flags=(--dry-run) ;;
            esac
            # one core, one thread, unless THREADS says; fsync keeps the
            # daemon's default (one per core: requests wait for their
            # commit suspended, not each in a thread)
            local threads=(--threads "${THREADS:-1}")
            [ -z "$THREADS" ] && [ "$mode" = fsync ] && threads=()
            taskset -c "$DAEMON_CPU" "${BIN[$id]}" serve --listen 127.0.0.1:0 \
                --endpoint "http://127.0.0.1:$SPORT/v1" --spool "$dir/spool" --rules "${RULES[$id]}" \
                "${threads[@]}" --max-rps "$MAX_RPS" --log-level "$LOG_LEVEL" "${flags[@]}" \
                2>"$dir/server.log" &
            SRV_PID=$!
            until [ -n "$PORT" ]; do
                i=$((i + 1))
                [ "$i" -gt 150 ] && { log "$name did not listen"; cat "$dir/server.log" >&2; return 1; }
                sleep 0.1
                PORT=$(ss -Hltnp 2>/dev/null |
                    sed -n "s/.*127\.0\.0\.1:\([0-9]*\) .*pid=$SRV_PID,.*/\1/p" | head -n 1)
            done
            ;;
        nginx)
            PORT=$(free_port)
            mkdir -p "$dir/nginx"
            cat >"$dir/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    client_max_body_size 4m;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT;
        default_type application/json;
        location / { return 200 '{"success":true}'; }
    }
}
EOF
            taskset -c "$DAEMON_CPU" "$NGINX" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" \
                2>"$dir/server.log" &
            SRV_PID=$!
            until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do
                i=$((i + 1))
                [ "$i" -gt 150 ] && { log "nginx did not listen"; cat "$dir/server.log" >&2; return 1; }
                sleep 0.1
            done
            ;;
        floor)
            taskset -c "$DAEMON_CPU" "$TMP/floor" "$dir" >"$dir/floor.out" 2>"$dir/server.log" &
            SRV_PID=$!
            wait_for "$dir/floor.out" '^port ' || return 1
            PORT=$(sed -n 's/^port //p' "$dir/floor.out")
            ;;
        node)
            taskset -c "$DAEMON_CPU" node "$BENCH/peers/server.js" 0 "http://127.0.0.1:$SPORT" \
                >"$dir/node.out" 2>"$dir/server.log" &
            SRV_PID=$!
            wait_for "$dir/node.out" '^port ' || return 1
            PORT=$(sed -n 's/^port //p' "$dir/node.out")
            ;;
    esac
}

HZ=$(getconf CLK_TCK)

# run_cell ROUND SERVER WORKLOAD: one row of results.tsv
run_cell() {
    local round=$1 srv=$2 w=$3 dir
    dir=$TMP/cell-$round-${srv//:/_}-$w
    mkdir -p "$dir"
    local url body=$TMP/bodies/${W_BODY[$w]} hdr=()
    [ -n "${W_HEADER[$w]}" ] && hdr=("${W_HEADER[$w]}")
    start_server "$srv" "$dir" || { stop_server; return 1; }
    url="http://127.0.0.1:$PORT${W_PATH[$w]}"
    local curl_h=(-H 'Content-Type: application/json')
    [ ${#hdr[@]} -gt 0 ] && curl_h+=(-H "${hdr[0]}")
    local answer
    answer=$(curl -s -u wk_bench: "${curl_h[@]}" --data-binary @"$body" "$url" || true)
    case "$answer" in
        *'"success":true'*) ;;
        *) log "$srv refused $w: ${answer:0:200}"; stop_server; return 1 ;;
    esac

    local c0 c1 s0 s1
    c0=$(cpu_ticks "$SRV_PID")
    s0=$(standin_stats)
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency \
        -s "$BENCH/post.lua" "$url" -- "$body" "${W_KEY[$w]}" "${W_EVENTS[$w]}" "${hdr[@]}" \
        >"$dir/wrk.out"
    c1=$(cpu_ticks "$SRV_PID")
    s1=$(standin_stats)
    local target
    target=$(awk '/^BENCH requests_ok/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { r = 0.8 * v["requests_ok"] / v["seconds"]; printf "%.2f", (r > 0.5 ? r : 0.5) }' "$dir/wrk.out")
    taskset -c "$LOAD_CPU" "$TMP/rate" "$url" "$body" "$target" "$DURATION" "$CONNECTIONS" \
        "${hdr[@]}" >"$dir/rate.out"
    local hwm
    hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SRV_PID/status")
    stop_server

    awk -v round="$round" -v srv="$srv" -v w="$w" -v epr="${W_EVENTS[$w]}" -v hz="$HZ" \
        -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" -v hwm="$hwm" -v target="$target" '
        /^BENCH|^RATE/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1 kv[1]] = kv[2] } }
        END {
            secs = v["BENCHseconds"]
            ev = v["BENCHaccepted"]
            split(s0, a, " "); split(s1, b, " ")
            upreq = b[1] - a[1]; upbytes = b[2] - a[2]
            printf "%d\t%s\t%s\t%d\t%.1f\t%.1f\t%.3f\t%.3f\t%.1f\t%.1f\t%.3f\t%d\t%.2f\t%.1f\t%.3f\t%d\n",
                round, srv, w, epr,
                (v["BENCHrequests_ok"] + v["BENCHrequests_other"]) / secs, ev / secs,
                v["BENCHp50_us"] / 1000, v["BENCHp99_us"] / 1000,
                target, v["RATEok"] / v["RATEseconds"], v["RATEp99_us"] / 1000,
                hwm, (ev > 0 ? (c1 - c0) * 1e6 / hz / ev : 0),
                upreq / secs, (upreq > 0 ? upbytes / upreq / 475000 : 0),
                v["BENCHrequests_other"] + v["BENCHerrors"] + v["RATEother"]
        }' "$dir/wrk.out" "$dir/rate.out"
    rm -rf "$dir"
}

TSV=$OUT/results.tsv
printf 'round\tserver\tworkload\tevents_per_request\trequests_s\tevents_s\tp50_ms\tp99_ms\ttarget_rps\tconst_rps\tconst_p99_ms\tpeak_rss_kb\tcpu_us_per_event\tupstream_rps\tbatch_fill\tfailed\n' >"$TSV"

cells=0
for round in $(seq 1 "$ROUNDS"); do
    for w in "${WL[@]}"; do
        # interleaved: every workload visits every server, in an order that
        # turns by one each round, so that a noisy minute hits all alike
        n=${#SERVER_LIST[@]}
        for k in $(seq 0 $((n - 1))); do
            srv=${SERVER_LIST[$(((k + round - 1) % n))]}
            if [ "$srv" = node ] && [ "${W_KEY[$w]}" = - ]; then
                continue # the Node service maps SendGrid (and passes /v1/batch) only
            fi
            log "round $round/$ROUNDS: ${LABEL[$srv]}, $w"
            if ! run_cell "$round" "$srv" "$w" >>"$TSV"; then
                log "round $round: ${LABEL[$srv]}, $w failed"
            fi
            cells=$((cells + 1))
        done
    done
done

# --- the table (means over rounds; events/s with its range) and the plot ---
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "# sourcegate compare: $(date -u '+%Y-%m-%d %H:%M UTC'), working tree (tree) on $TREE_REV"
    echo
    echo "$(nproc) CPUs, server on cpu $DAEMON_CPU, load on cpu $LOAD_CPU; ${DURATION} s per phase," \
        "$ROUNDS round(s), wrk -t1 -c$CONNECTIONS, sourcegate --threads ${THREADS:-1 (fsync: its default)}; constant rate over $CONNECTIONS connections;" \
        "load average at the end: $LOAD. Columns: bench/README.md."
    echo
    echo "| server | workload | ev/req | req/s | events/s (range) | p50 ms | p99 ms | p99 ms at 80% (rate held) | peak RSS MB | CPU µs/event | upstream req/s | batch fill | failed |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for w in "${WL[@]}"; do
        for srv in "${SERVER_LIST[@]}"; do
            awk -F'\t' -v srv="$srv" -v w="$w" -v label="${LABEL[$srv]}" '
                NR > 1 && $2 == srv && $3 == w {
                    n++; for (i = 5; i <= 16; i++) s[i] += $i
                    if (n == 1 || $6 < lo) lo = $6
                    if (n == 1 || $6 > hi) hi = $6
                    epr = $4
                }
                END {
                    if (n == 0) exit
                    for (i = 5; i <= 16; i++) m[i] = s[i] / n
                    printf "| %s | %s | %d | %.1f | %.0f (%.0f-%.0f) | %.2f | %.2f | %.2f (%.0f of %.0f/s) | %.1f | %.1f | %.1f | %.2f | %d |\n",
                        label, w, epr, m[5], m[6], lo, hi, m[7], m[8], m[11], m[10], m[9],
                        m[12] / 1024, m[13], m[14], m[15], s[16]
                }' "$TSV"
        done
    done
} >"$OUT/results.md"

# plot: the SendGrid workloads, events/s and p99 against events per request
PLOT_DATA=$TMP/plot
mkdir -p "$PLOT_DATA"
plot_ev=""
plot_p99=""
for srv in "${SERVER_LIST[@]}"; do
    f=$PLOT_DATA/${srv//:/_}.dat
    awk -F'\t' -v srv="$srv" 'NR > 1 && $2 == srv && $3 ~ /^sg[0-9]+$/ {
            n[$4]++; e[$4] += $6; p[$4] += $8 }
        END { for (k in n) printf "%d %.1f %.3f\n", k, e[k] / n[k], p[k] / n[k] }' "$TSV" |
        sort -n >"$f"
    [ -s "$f" ] || continue
    plot_ev="$plot_ev${plot_ev:+, }'$f' using 1:2 with linespoints title '${LABEL[$srv]}'"
    plot_p99="$plot_p99${plot_p99:+, }'$f' using 1:3 with linespoints title '${LABEL[$srv]}'"
done
if [ -n "$plot_ev" ]; then
    gnuplot <<EOF
set terminal pngcairo size 1200,600 font ",10" noenhanced
set output '$OUT/results.png'
set multiplot layout 1,2 title "SendGrid Event Webhook, one core per server, $(date -u +%Y-%m-%d) ($TREE_REV)"
set logscale x
set xlabel 'events per request'
set grid
set key below
set ylabel 'events/s (max rate, wrk)'
set logscale y
plot $plot_ev
set ylabel 'p99 ms (max rate, wrk)'
set key below
plot $plot_p99
unset multiplot
EOF
fi
log "$cells cells; $OUT/results.md, $OUT/results.tsv, $OUT/results.png"
cat "$OUT/results.md"
