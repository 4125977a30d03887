#!/usr/bin/env bash
# Runs the real-browser end-to-end tests of the demo (t/browser/*.test.mjs):
# headless Chromium from Debian's chromium package, driven by playwright-core
# (pinned in package-lock.json), against the demo stack (demo/stack,
# conf/demo.conf) on free ports of 127.0.0.1 / localhost.
#
#   bash t/browser/run.sh [extra node --test arguments]
#
# Installs the npm dependencies when missing (npm ci), builds the module
# when .libs/mod_oauthclient.so is missing, and exits with the tests'
# status. Output is TAP; node's runner ends it with "# pass N" and
# "# fail M". Screenshots of each step, and on failure the page's HTML,
# its console log and the servers' logs: t/browser/artifacts/<test>/.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

chromium=${OAC_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "t/browser: $chromium is missing: apt-get install chromium (scripts/install-deps)" >&2
    exit 1
fi
for tool in node npm; do
    command -v "$tool" >/dev/null || {
        echo "t/browser: $tool is missing: apt-get install nodejs npm" >&2; exit 1; }
done

# npm ci when node_modules is absent or differs from the lock file.
bash t/tools/npm-deps "$top" || { echo "t/browser: npm ci failed" >&2; exit 1; }

if [ ! -f .libs/mod_oauthclient.so ]; then
    if [ ! -f Makefile ]; then
        { autoreconf -fi && ./configure; } || { echo "t/browser: configure failed" >&2; exit 1; }
    fi
    make -j"$(nproc)" || { echo "t/browser: building the module failed" >&2; exit 1; }
fi

# make check of a build outside the source tree (make distcheck) runs this
# from its copy of t/, with OAC_SRCDIR naming the sources: the demo scripts
# run from there, and must load this build's module, not look for one
# beside them.
if [ -n "${OAC_SRCDIR:-}" ] && [ "$OAC_SRCDIR" != "$top" ]; then
    export OAC_DEMO_MODULE=${OAC_DEMO_MODULE:-$top/.libs/mod_oauthclient.so}
fi

rm -rf t/browser/artifacts
mkdir -p t/browser/artifacts
# The outer timeout only guards against a wedged runner; each test has its
# own 60 s limit. --test-force-exit: a test file whose tests have all
# reported ends then, even if something it started (a server's pipes)
# would keep it alive; the lib's exit handler stops the servers.
# (Node.js 20.14 and later; Debian 12's own nodejs 18 lacks it.)
force=()
node --help 2>/dev/null | grep -q -- --test-force-exit && force=(--test-force-exit)
timeout -k 10 600 node --test "${force[@]}" --test-reporter=tap "$@" t/browser/*.test.mjs
rc=$?
[ "$rc" -eq 124 ] && echo "t/browser: the tests took more than 600 s" >&2
exit "$rc"
