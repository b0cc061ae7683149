#!/bin/sh
# run.sh -- builds the libFuzzer harnesses with clang (build-fuzz) and fuzzes
# each for SECONDS, JOBS at a time, with its dictionary. New inputs go to a
# scratch directory (OUT/<harness>/corpus), never into the committed corpus,
# and findings (crash-*, leak-*, timeout-*, oom-*) to OUT/<harness>/.
#
# usage: tests/fuzz/run.sh [SECONDS [HARNESS...]]      (default 600, all seven)
#        tests/fuzz/run.sh --merge [HARNESS...]
#            minimises tests/fuzz/corpus/<harness> together with the scratch
#            inputs (libFuzzer -set_cover_merge=1): the committed corpus then
#            carries the coverage the run found, in few files
#        tests/fuzz/run.sh --summary [HARNESS...]   the table of the last run
# env:   JOBS (2), BUILD (<root>/build-fuzz), OUT (/tmp/sourcegate-fuzz),
#        CC (clang), FUZZ_ARGS (more libFuzzer flags, e.g. -max_len=8192)
# SPDX-License-Identifier: MIT
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-fuzz}
OUT=${OUT:-/tmp/sourcegate-fuzz}
JOBS=${JOBS:-2}
ALL="decode mapping spec rules config verify framing"

export GW_SOURCE_ROOT="$ROOT"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

dicts_of() {
    case $1 in
        decode|mapping|verify) echo "json.dict form.dict" ;;
        spec) echo "json.dict" ;;
        rules) echo "yaml.dict json.dict form.dict" ;;
        config) echo "yaml.dict" ;;
        framing) echo "http.dict" ;;
    esac
}

build() {
    if [ ! -f "$BUILD/build.ninja" ]; then
        CC=${CC:-clang} meson setup "$BUILD" "$ROOT" -Dfuzzing=true \
            -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true
    fi
    targets=""
    for h in $ALL; do targets="$targets tests/fuzz/fuzz_$h"; done
    # shellcheck disable=SC2086
    ninja -C "$BUILD" $targets
}

# One harness: run it for $2 seconds (called back through xargs).
one() {
    h=$1
    secs=$2
    dir="$OUT/$h"
    mkdir -p "$dir/corpus"
    : > "$dir/$h.dict"
    for d in $(dicts_of "$h"); do cat "$HERE/$d" >> "$dir/$h.dict"; done
    echo "fuzz_$h: $secs s, log in $dir/log"
    # shellcheck disable=SC2086
    "$BUILD/tests/fuzz/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
        -dict="$dir/$h.dict" -artifact_prefix="$dir/" -print_final_stats=1 ${FUZZ_ARGS:-} \
        "$dir/corpus" "$HERE/corpus/$h" > "$dir/log" 2>&1 || true
}

summary() {
    printf '%-8s %8s %10s %8s %8s %-24s %s\n' harness seconds execs cov ft corpus findings
    for h in $1; do
        log="$OUT/$h/log"
        [ -f "$log" ] || continue
        secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        last=$(grep -E '^#[0-9]+' "$log" | tail -1)
        cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
        ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
        corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
        finds=$(find "$OUT/$h" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
                -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
        printf '%-8s %8s %10s %8s %8s %-24s %s\n' "$h" "${secs:-?}" "${execs:-?}" "${cov:-?}" \
            "${ft:-?}" "${corp:-?}" "$finds"
    done
    found=$(find "$OUT" -maxdepth 2 -type f \( -name 'crash-*' -o -name 'leak-*' \
            -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null)
    if [ -n "$found" ]; then
        echo
        echo "FINDINGS (reproduce: $BUILD/tests/fuzz/fuzz_<harness> <file>):"
        echo "$found"
        for h in $1; do
            grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|^==[0-9]+== ERROR' "$OUT/$h/log" 2>/dev/null |
                sed "s/^/  [$h] /" || true
        done
        return 1
    fi
}

# Replaces tests/fuzz/corpus/<h> by the smallest set (greedy set cover over
# edges, libFuzzer -set_cover_merge) of its inputs and the scratch ones that
# keeps all their coverage. Inputs equal to a seed keep their seed-* name;
# crash-* reproducers are always kept.
merge() {
    for h in $1; do
        corpus="$HERE/corpus/$h"
        tmp="$OUT/$h/merged"
        rm -rf "$tmp"
        mkdir -p "$tmp" "$OUT/$h/corpus"
        echo "merging $OUT/$h/corpus into tests/fuzz/corpus/$h"
        "$BUILD/tests/fuzz/fuzz_$h" -set_cover_merge=1 -use_counters=0 -timeout=10 \
            "$tmp" "$corpus" "$OUT/$h/corpus" > "$OUT/$h/merge.log" 2>&1
        tail -1 "$OUT/$h/merge.log"
        for f in "$corpus"/seed-* "$corpus"/crash-*; do
            [ -f "$f" ] || continue
            sum=$(sha1sum "$f" | cut -d' ' -f1)
            if [ -f "$tmp/$sum" ]; then
                mv "$tmp/$sum" "$tmp/$(basename "$f")"
            elif [ "${f##*/crash-}" != "$f" ]; then
                cp "$f" "$tmp/"
            fi
        done
        rm -f "$corpus"/*
        mv "$tmp"/* "$corpus"/
        echo "tests/fuzz/corpus/$h: $(ls "$corpus" | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB"
    done
}

case ${1:-} in
    --one) one "$2" "$3"; exit 0 ;;
    --merge) shift; build; merge "${*:-$ALL}"; exit 0 ;;
    --summary) shift; summary "${*:-$ALL}"; exit $? ;;
esac

SECS=${1:-600}
[ $# -gt 0 ] && shift
HARNESSES=${*:-$ALL}
build
mkdir -p "$OUT"
for h in $HARNESSES; do echo "$h"; done | xargs -P "$JOBS" -I{} "$0" --one {} "$SECS"
summary "$HARNESSES"
