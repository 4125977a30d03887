# Counts one test suite's TAP (Test Anything Protocol) output: the only
# parser of test results in t/run-all, used for every suite.
#
#   awk -v rc=EXIT_STATUS -f t/tools/tap_count.awk OUTPUT
#
# Prints what a person needs to see (each failing test with the comment and
# YAML lines around it, in the stream's order, and any problem with the
# stream as a whole), then, as the last line, "PASSED FAILED SKIPPED".
#
# What counts:
#  - "ok" is a pass, "not ok" a failure; "# SKIP" (on either: cmocka 1.1.5
#    prints skipped tests as "not ok N # SKIP name") and "not ok ... # TODO"
#    (a known, expected failure) are counted as skipped, apart from both.
#  - Subtests (indented TAP, as node's reporter and the Apache::Test
#    formatter OAC::TAPStream print) count test by test; the line that
#    closes a subtest (a describe(), a .t file) is not a test of its own,
#    but if it says "not ok" while none of its tests failed (a failed hook,
#    a non-zero exit), that is one failure.
#  - A stream that is not trustworthy never passes: no plan, or more than
#    one, is a failure; each planned test that did not run is a failure;
#    more tests than planned is a failure; "Bail out!" is a failure; a
#    non-zero exit status with no failure otherwise is one failure.
# Lines that are not TAP (a server's chatter, a compiler's) are ignored.

function push(ind) {
    d++
    fi[d] = ind; fp[d] = -1; fplans[d] = 0; fs[d] = 0; ff[d] = 0
    # Named by the "# Subtest: NAME" line before it, for a subtest that
    # breaks off before the line that closes it.
    fname[d] = sub_name; sub_name = ""
}

# A failure to show: the comments before it, its header line, where it is
# (set later, when the subtests it is in close), and what follows it.
function detail(header) {
    nd++
    dp[nd] = ""; dh[nd] = header; db[nd] = ""; dn[nd] = 0; dd[nd] = d
    dc[nd] = ""; di[nd] = 0
    return nd
}

function body(k, text) {
    if (dn[k] < 40) db[k] = db[k] "    " text "\n"
    else if (dn[k] == 40) db[k] = db[k] "    ...\n"
    dn[k]++
}

# Whether the frame's plan matches what ran; returns its failures.
function check_plan(   f, k) {
    f = 0
    if (fplans[d] == 0) {
        f++; detail("# no plan (1..N): the tests did not all report")
    } else if (fplans[d] > 1) {
        f++; detail("# " fplans[d] " plans in one stream")
    } else if (fs[d] < fp[d]) {
        f += fp[d] - fs[d]
        detail("# planned " fp[d] " tests, " fs[d] " ran: the rest count as failed")
    } else if (fs[d] > fp[d]) {
        f++; detail("# planned " fp[d] " tests, " fs[d] " ran")
    }
    return f
}

# Closes the innermost subtest, named by the line that closes it; returns
# its failures.
function close_frame(name,   f, k) {
    if (name == "") name = fname[d]
    f = check_plan()
    failed += f
    f += ff[d]
    for (k = 1; k <= nd; k++)
        if (dd[k] == d) {
            if (name != "") dc[k] = dc[k] == "" ? name : name " > " dc[k]
            dd[k] = d - 1
        }
    d--
    return f
}

function close_deeper(ind, name,   f) {
    f = 0
    while (d > 0 && fi[d] > ind) f += close_frame(name)
    if (fi[d] < ind) push(ind)
    return f
}

function test_point(ind, text,   name, lt, notok, skip, todo, child_f, closed) {
    name = text
    sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", name)
    closed = d
    child_f = close_deeper(ind, name)
    closed = d < closed
    fs[d]++
    lt = tolower(" " text)
    notok = (lt ~ /^ not /)
    skip = (lt ~ /[^\\]#[ \t]*skip/)
    todo = (lt ~ /[^\\]#[ \t]*todo/)
    cur = 0
    if (closed) {
        ff[d] += child_f
        if (notok && !skip && !todo && child_f == 0) {
            failed++; ff[d]++
            cur = detail(text)
        } else if (notok) {
            # Already counted by its tests; the reason printed after it
            # (OAC::TAPStream's "# exit status ...") is still worth showing.
            cur = detail(text)
            di[cur] = 1
        }
        pre = ""; pre_keep = 0
        return
    }
    if (skip || (notok && todo)) skipped++
    else if (notok) {
        failed++; ff[d]++
        cur = detail(text)
        dp[cur] = pre
    } else passed++
    pre = ""; pre_keep = 0
}

BEGIN {
    d = 0; fi[0] = 0; fp[0] = -1; fplans[0] = 0; fs[0] = 0; ff[0] = 0
    passed = failed = skipped = nd = 0
    cur = 0; pre = ""; pre_keep = 0; in_yaml = 0; after_point = 0; nt = 0
    sub_name = ""; fname[0] = ""
}

{
    line = $0
    sub(/\r$/, "", line)
    # The last lines, for a stream that broke off.
    tail[nt++ % 30] = line
    match(line, /^ */)
    ind = RLENGTH
    text = substr(line, ind + 1)

    if (in_yaml) {
        if (text ~ /^\.\.\.[ \t]*$/) {
            in_yaml = 0
            # A subtest whose tests failed says only that; one that failed
            # of itself (node: a before hook's error, its timeout) says why,
            # and nothing else would.
            if (cur && di[cur] && ytext !~ /failureType: '(subtestsFailed|cancelledByParent)'/)
                for (k = 1; k <= yn; k++) body(cur, yl[k])
        }
        # YAML keeps its indentation (node's multi-line error messages).
        else if (cur && !di[cur]) body(cur, substr(line, yaml_ind + 1))
        else if (cur && yn < 60) { yl[++yn] = substr(line, yaml_ind + 1); ytext = ytext "\n" line }
        next
    }
    if (after_point && text ~ /^---[ \t]*$/) {
        in_yaml = 1; after_point = 0; yaml_ind = ind; yn = 0; ytext = ""
        next
    }
    after_point = 0

    if (text ~ /^(not )?ok([ \t]|$)/) {
        test_point(ind, text)
        after_point = 1
    } else if (text ~ /^1\.\.[0-9]+/) {
        f = close_deeper(ind, "")
        ff[d] += f
        fplans[d]++
        fp[d] = substr(text, 4) + 0
        cur = 0; pre = ""; pre_keep = 0
    } else if (text ~ /^Bail out!/) {
        failed++; ff[d]++
        cur = detail(text)
    } else if (text ~ /^# Subtest:/) {
        sub_name = substr(text, 12)
    } else if (text ~ /^#/) {
        # After a failing test, its diagnostics (cmocka, unittest, Test::More
        # print them there); else perhaps the next test's (Test.pm prints
        # its expected and received values before "ok").
        if (cur) body(cur, text)
        else if (pre_keep < 20) { pre = pre "    " text "\n"; pre_keep++ }
    }
}

END {
    # A subtest cut off before its closing line stands for one test of the
    # level above it, so that level's plan is not short by it too.
    while (d > 0) { f = close_frame(""); ff[d] += f; fs[d]++ }
    root_f = check_plan()
    failed += root_f
    if (rc != 0 && failed == 0) {
        failed = 1
        root_f = 1
        detail("# exit status " rc ", and no test failed")
    }
    # In the order of the stream: comments before a failing test belong to
    # it with some producers, those after it with others.
    for (k = 1; k <= nd; k++) {
        if (di[k] && db[k] == "") continue
        printf "%s%s%s\n", dp[k], dh[k], dc[k] == "" ? "" : "   (in " dc[k] ")"
        printf "%s", db[k]
    }
    # A stream that broke off: its last lines, as they were, say why.
    if (root_f) {
        print "# the last lines of the output" (rc != 0 ? ", exit status " rc : "") ":"
        for (k = (nt > 30 ? nt - 30 : 0); k < nt; k++) print tail[k % 30]
    }
    print passed, failed, skipped
}
