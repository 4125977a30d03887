#!/usr/bin/env bash
# Tests t/tools/tap_count.awk, which decides every suite's count in
# t/run-all: each case feeds it a TAP stream and an exit status and checks
# the "PASSED FAILED SKIPPED" it returns. Above all, a broken stream must
# never come out as passed. Reports in TAP itself.
set -u
awk_file=$(cd "$(dirname "$0")" && pwd)/tap_count.awk
n=0
bad=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

case_() {   # name, exit status, expected "P F S", stream (printf %b)
    local got
    n=$((n + 1))
    printf '%b' "$4" > "$tmp"
    got=$(awk -v rc="$2" -f "$awk_file" "$tmp" | tail -1)
    if [ "$got" = "$3" ]; then
        echo "ok $n - $1"
    else
        bad=$((bad + 1))
        echo "not ok $n - $1"
        echo "# expected '$3', got '$got'"
    fi
}

shows_() {  # name, exit status, extended regex the report must (or, with !, must not) match, stream
    local out
    n=$((n + 1))
    printf '%b' "$4" > "$tmp"
    out=$(awk -v rc="$2" -f "$awk_file" "$tmp")
    if { [ "${3#!}" = "$3" ] && grep -Eq -- "$3" <<<"$out"; } ||
       { [ "${3#!}" != "$3" ] && ! grep -Eq -- "${3#!}" <<<"$out"; }; then
        echo "ok $n - $1"
    else
        bad=$((bad + 1))
        echo "not ok $n - $1"
        sed 's/^/# /' <<<"$out"
    fi
}

echo "1..21"
case_ "all pass" 0 "2 0 0" "1..2\nok 1 - a\nok 2 - b\n"
case_ "plan at the end" 0 "2 0 0" "ok 1 - a\nok 2 - b\n1..2\n"
case_ "a failure, cmocka 1.1.5's skip line" 1 "2 1 1" \
    "1..4\nok 1 - a\nnot ok 2 - b\n# 0x1 != 0x2\nnot ok 3 # SKIP c\nok 4 - d\n"
case_ "SKIP and TODO apart; a passing TODO passes" 0 "1 0 2" \
    "1..3\nnot ok 1 - x # TODO later\nok 2 - y # TODO\nok 3 - z # skip no net\n"
case_ "no plan" 0 "1 1 0" "ok 1 - a\n"
case_ "no output at all" 134 "0 1 0" ""
case_ "crash: the tests not run fail" 134 "2 3 0" "1..5\nok 1\nok 2\n"
case_ "more tests than planned" 0 "2 1 0" "1..1\nok 1\nok 2\n"
case_ "two plans" 0 "2 1 0" "1..1\nok 1\n1..1\nok 1\n"
case_ "non-zero exit, nothing failed" 1 "1 1 0" "1..1\nok 1\n"
case_ "Bail out!" 255 "1 3 0" "1..3\nok 1\nBail out! db gone\n"
case_ "not TAP: ignored" 0 "1 0 0" \
    "server ok\nokay\n  # not ok in a comment\n1..1\nok 1 - a\n"
case_ "subtests count test by test, YAML skipped" 0 "3 0 0" \
    "TAP version 13\n# Subtest: A\n    ok 1 - a1\n      ---\n      error: |-\n        not ok 7\n      ...\n    ok 2 - a2\n    1..2\nok 1 - A\n  ---\n  type: 'suite'\n  ...\nok 2 - B\n1..2\n"
case_ "a failing subtest counts once" 1 "2 1 0" \
    "# Subtest: A\n    ok 1 - a1\n    not ok 2 - a2\n    1..2\nnot ok 1 - A\nok 2 - B\n1..2\n"
case_ "a subtest failing with all its tests ok (a hook)" 1 "3 1 0" \
    "# Subtest: A\n    ok 1 - a1\n    ok 2 - a2\n    1..2\nnot ok 1 - A\nok 2 - B\n1..2\n"
case_ "a subtest short of its plan" 1 "1 2 0" \
    "1..1\n# Subtest: t/a.t\n    1..3\n    ok 1\nnot ok 1 - t/a.t\n"
case_ "a stream cut off inside a subtest" 255 "3 3 0" \
    "1..3\n# Subtest: t/a.t\n    1..2\n    ok 1\n    ok 2\nok 1 - t/a.t\n# Subtest: t/b.t\n    1..3\n    ok 1\n"
case_ "a skipped file" 0 "1 0 0" \
    "1..2\n# Subtest: t/a.t\n    1..1\n    ok 1\nok 1 - t/a.t\n# Subtest: t/b.t\n    1..0 # skipped: no foo\nok 2 - t/b.t # SKIP no foo\n"

# node's report of a describe() whose before hook failed: its test is
# "cancelled", and only the suite's own YAML says why.
hook="# Subtest: S\n    # Subtest: t1\n    not ok 1 - t1\n      ---\n      failureType: 'cancelledByParent'\n      error: 'test did not finish before its parent and was cancelled'\n      ...\n    1..1\nnot ok 1 - S\n  ---\n  type: 'suite'\n  failureType: 'hookFailed'\n  error: |-\n    httpd does not answer\n      --- error.log:\n        AH00052 child pid 7 exit signal\n  ...\n1..1\n"
shows_ "a suite's failed hook: its error is shown" 1 "AH00052 child pid 7" "$hook"
shows_ "... and counted once" 1 "^0 1 0$" "$hook"
shows_ "a suite whose tests failed: not its boilerplate" 1 "!subtestsFailed" \
    "# Subtest: S\n    not ok 1 - t1\n    1..1\nnot ok 1 - S\n  ---\n  failureType: 'subtestsFailed'\n  error: '1 subtest failed'\n  ...\n1..1\n"

[ "$bad" -eq 0 ]
