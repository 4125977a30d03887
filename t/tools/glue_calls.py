#!/usr/bin/python3
"""The glue files call each other without a cycle (issue: 'no include/call
circle between glue files'). Reads the built objects with nm: an edge
A -> B when A uses a function or variable B defines, the module record
(oauthclient_module, which every file names to log and find its
configuration) left out. Reports in TAP, one test (no cycle), the graph
as comments (t/run-all counts it).

    t/tools/glue_calls.py [BUILD_DIR]
"""
import glob
import os
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "."
objs = glob.glob(os.path.join(build, ".libs", "mod_oauthclient.o")) + sorted(
    glob.glob(os.path.join(build, "src", ".libs", "mod_oauthclient_*.o")))
print("1..1")
if len(objs) < 2:
    print("not ok 1 - no call cycle between glue files")
    print("# glue objects not found under %s (build first)" % build)
    sys.exit(1)

defined, used = {}, {}
for o in objs:
    name = os.path.basename(o)[:-2]
    lines = subprocess.run(["nm", o], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    defined[name] = {l.split()[2] for l in lines
                     if len(l.split()) == 3 and l.split()[1] in "TDBR"}
    used[name] = {l.split()[1] for l in lines if l.split()[:1] == ["U"]}

edges = {a: sorted(b for b in defined if b != a
                   and (used[a] & defined[b]) - {"oauthclient_module"})
         for a in defined}
for a in sorted(edges):
    print("# %s -> %s" % (a, " ".join(edges[a]) or "(nothing)"))

state, cycles = {}, []
def visit(node, path):
    state[node] = "open"
    for nxt in edges[node]:
        if state.get(nxt) == "open":
            cycles.append(path[path.index(nxt):] + [nxt])
        elif nxt not in state:
            visit(nxt, path + [nxt])
    state[node] = "done"
for n in edges:
    if n not in state:
        visit(n, [n])
print("%s 1 - no call cycle between glue files" % ("not ok" if cycles else "ok"))
for c in cycles:
    print("# cycle: " + " -> ".join(c))
sys.exit(1 if cycles else 0)
