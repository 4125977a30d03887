#!/usr/bin/env bash
# Builds (if needed) and runs every libFuzzer target of t/fuzz/ for a while
# on a copy of its committed corpus. Reports in TAP (one test per target,
# "ok N - fuzz_url: 508786 executions", a failure's report as "# " lines),
# the format t/run-all counts, and ends with the comment "# N passed, M
# failed". Exit status 1 on any failure.
#
#   t/fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]
#
# SECONDS_PER_TARGET defaults to 10, BUILD_DIR to t/fuzz/build. A crash
# leaves its input in BUILD_DIR/artifacts/ and is printed in hex.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-10}
build=${2:-$here/build}

targets=("$here"/fuzz_*.c)
# build.sh's own output is not TAP: as comments.
if ! bash "$here/build.sh" "$build" 2>&1 | sed 's/^/# /'; then
    echo "1..1"
    echo "not ok 1 - the fuzz targets build"
    echo "# 0 passed, 1 failed"
    exit 1
fi
echo "1..${#targets[@]}"
build=$(cd "$build" && pwd)
artifacts="$build/artifacts"
mkdir -p "$artifacts"
# The committed corpus is never written to: each run works on a copy.
work=$(mktemp -d /tmp/oac-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
n=0
for src in "${targets[@]}"; do
    n=$((n + 1))
    name=$(basename "$src" .c)
    bin="$build/$name"
    mkdir -p "$work/$name/corpus"
    if [ -d "$here/corpus/$name" ]; then
        cp -R "$here/corpus/$name/." "$work/$name/corpus/"
    fi
    log="$work/$name/log"
    # -timeout: an input that hangs is a failure, not a stuck CI job.
    "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name-" "$work/$name/corpus" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        echo "ok $n - $name: $execs executions"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "not ok $n - $name: exit status $rc"
    # The report: the invariant or sanitizer line and the stack, without
    # libFuzzer's and libc's own frames.
    grep -E -A40 '^(invariant violated|==[0-9]+== ?ERROR|.*runtime error:)' "$log" \
        | grep -vE 'fuzzer::|libc\.so|libc_start|in _start|__sanitizer_|pthread_kill|raise\.c|abort\.c|^NOTE|^ +Combine|^$' \
        | sed -n '1,/^SUMMARY/p' | head -30 | sed 's/^/#   /'
    input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    if [ -n "$input" ] && [ -f "$input" ]; then
        echo "#   input: $input"
        od -An -tx1 -v "$input" | head -20 | sed 's/^/#   /'
    elif [ -z "$execs" ]; then
        tail -20 "$log" | sed 's/^/#   /'
    fi
done

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
