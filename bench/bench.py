#!/usr/bin/python3
"""The measuring half of the mod_oauthclient benchmark (bench/run starts the
servers and calls this; see bench/run for the whole picture).

    /usr/bin/python3 bench/bench.py --dir RUN_DIR [--quick]

Reads the ports and paths from the BENCH_* environment variables bench/run
exports. Standard library only, except matplotlib for the chart.

1. Logs in to each configuration through the real flow (login path ->
   provider's authorize with auto_approve=alice -> callback -> the page),
   as a browser would, and checks once what the backend receives.
2. Measures every configuration with wrk, interleaved: a b c d e g j k a' f
   h1 h2, then again, ROUNDS times. Each wrk run gets a session made just
   before it by a fresh login (mod_auth_openidc rewrites a client-cookie
   session older than 60 s on every request when the client does not store
   the new cookie, as wrk does not; a fresh session per run keeps every row
   on its steady state). Around each run, the CPU of every process group
   (/proc), and for the configurations with sessions in PostgreSQL the
   statements it ran (pg_stat_statements); then those statements for an
   exact number of requests (count_queries).
3. Complete logins per second through the module, and the front httpd's CPU
   per login (utime+stime of its processes from /proc; the provider's and
   the client's CPU are not in it): OAuth 2 through (b), OpenID Connect
   through (i) (discovery, RS256 id_token, userinfo) and the same three
   exchanges without OAuth (httpd's own share), interleaved in rounds after
   a warm-up that leaves the provider's metadata and keys cached. The same
   through mod_auth_openidc, for reference.
4. The microbenchmarks: OAuth 1 signing (sign_bench), a DPoP proof
   (dpop_bench), the id_token checks (jose_bench) and the session codec.
5. Full mode: instructions per request of each configuration, and per
   login of (b), (i) and the login without OAuth, counted by callgrind
   (count_instructions), which the machine's load cannot blur.
6. Prints the report and writes bench/RESULTS.md and bench/results.png.
"""

import argparse
import collections
import concurrent.futures
import datetime
import http.client
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urljoin, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
UA = "oac-bench/1.0"
PAGE_PATH = "/app/hello.txt"
WRK_THREADS, WRK_CONNECTIONS = 2, 16
INSTR_N, INSTR_N_C, INSTR_N_LOGIN = 400, 10, 50


def env(name):
    return os.environ[name]


PROVIDER_PORT = int(env("BENCH_PROVIDER_PORT"))


class Config:
    def __init__(self, key, label, what, instance, port, login, app=None):
        self.key, self.label, self.what = key, label, what
        self.instance, self.port, self.login_kind, self.app = instance, port, login, app
        self.runs = []      # dicts from wrk()
        # the httpd whose CPU serves the requests; behind the balancer, the
        # nodes' with it (node2 stays idle for (h1))
        self.httpd = ("balancer", "node1", "node2") if instance == "balancer" else (instance,)
        # sessions in PostgreSQL: its queries are counted
        self.db = key in ("g", "h1", "h2")


CONFIGS = [
    Config("a", "(a)", "plain ProxyPass, no auth", "front", int(env("BENCH_PORT_A")), None),
    Config("b", "(b)", "AuthType OAuth + OAuthForwardTokens, OAuthSessionPassphrase (module codec)",
           "front", int(env("BENCH_PORT_B")), "oac", "bench2"),
    Config("c", "(c)", "AuthType OAuth + OAuthForwardTokens, mod_session_crypto",
           "front", int(env("BENCH_PORT_C")), "oac", "bench2"),
    Config("d", "(d)", "OAuthProxyAPI, OAuth 2 bearer (codec session)",
           "front", int(env("BENCH_PORT_D")), "oac", "bench2"),
    Config("e", "(e)", "OAuthProxyAPI, OAuth 1 HMAC-SHA1 signature (codec session)",
           "front", int(env("BENCH_PORT_E")), "oac", "bench1"),
    Config("g", "(g)", "(b) with the session in mod_session_dbd on PostgreSQL, OAuthCache dbd",
           "front", int(env("BENCH_PORT_G")), "oac", "bench2"),
    # issue #17's (g) and (h): those letters were already taken here
    Config("j", "(j)", "OAuthProxyAPI, OAuth 2 with DPoP (ES256 proof per request, codec session)",
           "front", int(env("BENCH_PORT_J")), "oac", "benchdpop"),
    Config("k", "(k)", "OAuthProxyAPI NAME client_credentials (service token, no session)",
           "front", int(env("BENCH_PORT_K")), None),
    Config("a2", "(a')", "plain ProxyPass, no auth, in the mod_auth_openidc httpd",
           "oidc", int(env("BENCH_PORT_A2")), None),
    Config("f", "(f)", "mod_auth_openidc, client-cookie session, access token upstream",
           "oidc", int(env("BENCH_PORT_F")), "oidc"),
    Config("h1", "(h1)", "(g) on one node behind an httpd with mod_proxy_balancer",
           "balancer", int(env("BENCH_PORT_H1")), "oac", "bench2"),
    Config("h2", "(h2)", "(g) on two nodes behind mod_proxy_balancer (byrequests, no stickiness)",
           "balancer", int(env("BENCH_PORT_H2")), "oac", "bench2"),
]
BY_KEY = {c.key: c for c in CONFIGS}
# Measured by their logins only (no wrk rows): (i), the OpenID Connect app
# of the front httpd, configured by discovery; and "null", the same three
# exchanges as a login with the front httpd, without OAuth, in (a)'s host.
LOGIN_CONFIGS = [
    Config("i", "(i)", "AuthType OAuth, OpenID Connect app by discovery (RS256 id_token, userinfo), "
                       "codec session", "front", int(env("BENCH_PORT_I")), "oac", "benchoidc"),
    Config("null", "(a)", "no OAuth: redirect, redirect, proxied page", "front",
           int(env("BENCH_PORT_A")), "null"),
]
BY_KEY.update({c.key: c for c in LOGIN_CONFIGS})


# --------------------------------------------------------------------------
# A browser, as far as the logins need one
# --------------------------------------------------------------------------

class Jar:
    """Cookies by name (one jar per login; only httpd sets cookies)."""

    def __init__(self):
        self.cookies = {}

    def update(self, set_cookies):
        for line in set_cookies:
            first, _, attrs = line.partition(";")
            name, _, value = first.strip().partition("=")
            attrs = attrs.lower()
            gone = (not value or "max-age=0" in attrs.replace(" ", "")
                    or "expires=thu, 01 jan 1970" in attrs)
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())


def http_get(port, path, jar=None, accept="text/html,application/xhtml+xml,*/*;q=0.8"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": UA, "Accept": accept}
    if jar is not None and jar.cookies:
        headers["Cookie"] = jar.header()
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if jar is not None:
        jar.update(resp.headers.get_all("Set-Cookie") or [])
    return resp.status, resp.headers, body


def browse(url, jar, user="alice"):
    """GET url and follow redirects; the provider's login page is skipped
    with its auto_approve shortcut. -> (status, body, final url)."""
    for _ in range(12):
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        at_provider = parts.port == PROVIDER_PORT
        if at_provider and parts.path in ("/oauth2/authorize", "/oauth1/authorize"):
            path += "&auto_approve=" + user
        status, headers, body = http_get(parts.port, path, None if at_provider else jar)
        if status in (301, 302, 303, 307) and headers.get("Location"):
            url = urljoin(url, headers["Location"])
            continue
        return status, body, url
    raise RuntimeError("too many redirects from %s" % url)


PAGE = None


def login(cfg, port=None):
    """A fresh session for cfg -> Cookie header value ("" without auth)."""
    if not cfg.login_kind:
        return ""
    jar = Jar()
    port = port or cfg.port
    if cfg.login_kind == "oac":
        start = "http://127.0.0.1:%d/oauth/%s/login?next=%s" % (port, cfg.app, PAGE_PATH)
    elif cfg.login_kind == "null":
        # the same three exchanges with the front httpd, without OAuth:
        # two redirects (mod_alias), then the page through the proxy
        start = "http://127.0.0.1:%d/null/login" % port
    else:
        start = "http://127.0.0.1:%d%s" % (port, PAGE_PATH)
    status, body, final = browse(start, jar)
    if status != 200 or body != PAGE or urlsplit(final).path != PAGE_PATH:
        raise RuntimeError("login to %s ended with %s at %s: %r" % (cfg.label, status, final, body[:300]))
    return jar.header()


def backend_view(cfg, cookie):
    """What the backend receives from cfg (Authorization, X-OAuth-*, OIDC_*), masked."""
    jar = Jar()
    if cookie:
        for part in cookie.split("; "):
            name, _, value = part.partition("=")
            jar.cookies[name] = value
    status, _, body = http_get(cfg.port, "/app/echo", jar, accept="*/*")
    if status != 200:
        raise RuntimeError("%s: GET /app/echo answered %s: %r" % (cfg.label, status, body[:300]))
    seen = []
    for line in body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition("=")
        if name == "BENCH_OIDC_ACCESS_TOKEN":
            # the backend's SetEnvIf copy: CGI never sees underscored headers
            header, name = "OIDC_access_token", "HTTP_OIDC_ACCESS_TOKEN"
        else:
            header = name[5:].replace("_", "-").title()
        if name in ("HTTP_AUTHORIZATION", "HTTP_X_OAUTH_ACCESS_TOKEN", "HTTP_OIDC_ACCESS_TOKEN",
                    "HTTP_X_OAUTH_ACCESS_TOKEN_SECRET"):
            if value.startswith("OAuth "):
                method = re.search(r'oauth_signature_method="([^"]+)"', value)
                value = "OAuth ... oauth_signature_method=%s ... oauth_signature=..." % (
                    method.group(1) if method else "?")
            else:
                value = value[:10] + "..."
        elif len(value) > 40:
            value = value[:37] + "..."
        seen.append("%s: %s" % (header, value))
    return seen


# --------------------------------------------------------------------------
# CPU of an httpd instance, from /proc
# --------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count()


def _stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17
    return int(fields[1]), int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14])


# The processes bench/run starts, by pid file DIR/NAME.pid: httpd
# instances, PostgreSQL's postmaster, the provider.
INSTANCES = ("front", "oidc", "balancer", "node1", "node2", "backend", "postgres", "provider")


def cpu_snapshot():
    """CPU seconds so far: of each of INSTANCES (the process, the children
    it has reaped, its live children: httpd's and PostgreSQL's processes
    come and go), of this script's reaped children ("wrk": only wrk runs
    while a measurement lasts), and the machine's from /proc/stat: busy,
    stolen by the hypervisor, idle. (This kernel charges interrupts, the
    loopback's network stack among them, to the process they interrupt:
    CONFIG_TICK_CPU_ACCOUNTING without IRQ_TIME_ACCOUNTING.)"""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                procs[int(entry)] = _stat(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    out = {}
    for name in INSTANCES:
        try:
            with open(os.path.join(ARGS.dir, name + ".pid")) as f:
                parent = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if parent not in procs:
            continue
        _, ut, st, cut, cst = procs[parent]
        ticks = ut + st + cut + cst + sum(p[1] + p[2] for p in procs.values() if p[0] == parent)
        out[name] = ticks / TICK
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["wrk"] = usage.ru_utime + usage.ru_stime
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (
            int(x) / TICK for x in f.readline().split()[1:9])
    out.update({"busy": user + nice + system + irq + softirq, "steal": steal, "idle": idle + iowait})
    return out


def cpu_delta(before, after):
    return {k: after[k] - before[k] for k in after if k in before}


# --------------------------------------------------------------------------
# PostgreSQL's statements (pg_stat_statements, bench/pg.py)
# --------------------------------------------------------------------------

def pg_calls():
    """{statement: times executed so far}, these reads left out. Each
    prepared statement counts under its PREPARE text; preparing one (on
    every new connection of mod_dbd's pools) does not count."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-h", "127.0.0.1", "-p", env("BENCH_PG_PORT"),
         "-U", "oac", "-d", "oac", "-c",
         "SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
         "WHERE query NOT LIKE '%pg_stat_statements%'"],
        check=True, capture_output=True, text=True, timeout=60).stdout
    calls = {}
    for line in out.splitlines():
        n, _, query = line.partition("\x1f")
        m = re.match(r"PREPARE (\w+)", query)
        name = m.group(1) if m else query[:60]
        calls[name] = calls.get(name, 0) + int(n)
    return calls


def pg_calls_since(before):
    """The statements run since before, once the requests still in flight
    (wrk stops without waiting for its last answers) are done."""
    after = pg_calls()
    while True:
        time.sleep(0.2)
        again = pg_calls()
        if again == after:
            break
        after = again
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def get_pages(port, cookie, n):
    """n GETs of the page on one keep-alive connection, each checked."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"User-Agent": UA}
    if cookie:
        headers["Cookie"] = cookie
    try:
        for _ in range(n):
            conn.request("GET", PAGE_PATH, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or body != PAGE:
                raise RuntimeError("port %d answered %s" % (port, resp.status))
    finally:
        conn.close()


def count_queries(cfg, n, connections=4):
    """The statements PostgreSQL runs for exactly n requests of cfg, on
    `connections` keep-alive connections at once, with a fresh session:
    a count without wrk's uncounted last requests."""
    cookie = login(cfg)
    before = pg_calls()
    per = n // connections
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda _: get_pages(cfg.port, cookie, per), range(connections)))
    return {"requests": per * connections, "connections": connections,
            "queries": pg_calls_since(before)}


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------

def _ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk_command(cfg, seconds, cookie, connections=None):
    cmd = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % (connections or WRK_CONNECTIONS), "-d%ds" % seconds,
           "--latency", "--timeout", "5s"]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    return cmd + ["http://127.0.0.1:%d%s" % (cfg.port, PAGE_PATH)]


def wrk(cfg, seconds, cookie, connections=None):
    queries0 = pg_calls() if cfg.db else None
    cpu0, t0 = cpu_snapshot(), time.monotonic()
    out = subprocess.run(wrk_command(cfg, seconds, cookie, connections), capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    cpu = cpu_delta(cpu0, cpu_snapshot())
    wall = time.monotonic() - t0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    if not (m and n and p50 and p99):
        raise RuntimeError("cannot read wrk's output for %s:\n%s" % (cfg.label, out))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    requests = int(n.group(1))
    return {"rps": float(m.group(1)), "p50": _ms(*p50.groups()), "p99": _ms(*p99.groups()),
            "requests": requests, "errors": errors,
            "cpu_us": sum(cpu.get(i, 0.0) for i in cfg.httpd) * 1e6 / max(requests, 1),
            "cores": {k: v / wall for k, v in cpu.items()},
            "queries": pg_calls_since(queries0) if cfg.db else None}


# --------------------------------------------------------------------------
# logins per second
# --------------------------------------------------------------------------

PROVIDER_COUNTERS = ("oidc_requests", "jwks_requests", "userinfo_requests", "token_requests")


def provider_counters():
    """The provider's request counters (/_control/stats) that show what a
    login asked of it: discovery documents, key sets, userinfo, tokens."""
    import json
    status, _, body = http_get(PROVIDER_PORT, "/_control/stats", accept="application/json")
    if status != 200:
        raise RuntimeError("the provider's /_control/stats answered %s" % status)
    stats = json.loads(body)
    return {k: stats.get(k, 0) for k in PROVIDER_COUNTERS}


def login_bench(cfg, n, concurrency):
    """n complete logins through cfg by `concurrency` browsers at once:
    their wall time, each login's time, and the CPU that the front httpd
    (cfg.httpd) and the provider spent meanwhile, from /proc."""
    todo = list(range(n))
    lock = threading.Lock()
    times, failures = [], []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            t0 = time.monotonic()
            try:
                login(cfg)
            except Exception as exc:  # counted, reported
                with lock:
                    failures.append(str(exc)[:200])
                continue
            with lock:
                times.append(time.monotonic() - t0)

    asked0 = provider_counters()
    cpu0 = cpu_snapshot()
    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    cpu = cpu_delta(cpu0, cpu_snapshot())
    asked = provider_counters()
    ok = len(times)
    return {"n": n, "ok": ok, "failures": failures, "wall": wall, "concurrency": concurrency,
            "times": times, "httpd_cpu_s": sum(cpu[i] for i in cfg.httpd),
            "provider_cpu_s": cpu["provider"],
            "asked": {k: asked[k] - asked0[k] for k in PROVIDER_COUNTERS}}


def login_series(cfgs, n, rounds, concurrency=4, log=None):
    """n logins through each of cfgs per round, the configurations
    interleaved (b, i, null, b, i, null ...), `rounds` rounds, so that the
    machine's drift falls on all of them alike; then, per configuration,
    the sums over the rounds: logins/s = logins / wall time, CPU per login
    = CPU seconds / logins (/proc counts in clock ticks, 10 ms: the more
    logins, the finer), with each round's CPU per login for its spread."""
    parts = {c.key: [] for c in cfgs}
    for i in range(rounds):
        for c in cfgs:
            r = login_bench(c, n, concurrency)
            parts[c.key].append(r)
            if log:
                log("  round %d/%d %-4s %4d logins  %6.1f logins/s  front httpd CPU %.2f ms/login"
                    % (i + 1, rounds, c.label if c.key != "null" else "null", r["ok"],
                       r["ok"] / r["wall"] if r["wall"] else 0.0,
                       r["httpd_cpu_s"] * 1e3 / max(r["ok"], 1)))
    out = {}
    for key, runs in parts.items():
        ok = sum(r["ok"] for r in runs)
        wall = sum(r["wall"] for r in runs)
        times = [t for r in runs for t in r["times"]]
        out[key] = {
            "n": sum(r["n"] for r in runs), "ok": ok, "rounds": len(runs),
            "failures": [f for r in runs for f in r["failures"]], "wall": wall,
            "concurrency": concurrency, "per_s": ok / wall if wall else 0.0,
            "httpd_cpu_ms": sum(r["httpd_cpu_s"] for r in runs) * 1e3 / max(ok, 1),
            "httpd_cpu_ms_rounds": [r["httpd_cpu_s"] * 1e3 / max(r["ok"], 1) for r in runs],
            "provider_cpu_ms": sum(r["provider_cpu_s"] for r in runs) * 1e3 / max(ok, 1),
            "latency_ms": statistics.median(times) * 1e3 if times else float("nan"),
            "asked": {k: sum(r["asked"][k] for r in runs) for k in PROVIDER_COUNTERS}}
    return out


# --------------------------------------------------------------------------
# microbenchmarks
# --------------------------------------------------------------------------

def run_sign_bench(seconds, name="sign_bench"):
    """bench/sign_bench.c or bench/jose_bench.c (the same output: a
    markdown table, then key=value lines)."""
    out = subprocess.run([os.path.join(ARGS.dir, name), str(seconds)], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        return {"error": out.stderr.strip() or "%s exited %d" % (name, out.returncode), "text": ""}
    values = dict(re.findall(r"^(\w+)=([\d.]+)$", out.stdout, re.M))
    text = "\n".join(l for l in out.stdout.splitlines() if not re.match(r"^\w+=[\d.]+$", l)).strip()
    return {"values": {k: float(v) for k, v in values.items()}, "text": text}


def run_codec_bench(seconds):
    script = os.path.join(HERE, "codec_bench.sh")
    binary = os.path.join(ARGS.dir, "codec_bench")
    if os.path.exists(script):
        cmd, how = ["bash", script, str(seconds)], "bash bench/codec_bench.sh %s" % seconds
    elif os.path.exists(binary):
        cmd, how = [binary, str(seconds)], "bench/codec_bench.c (bench/codec_bench.sh is missing)"
    else:
        return {"missing": True, "how": "neither bench/codec_bench.sh nor bench/codec_bench.c exists"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=TOP)
    text = (out.stdout + ("\n" + out.stderr if out.stderr.strip() else "")).strip()
    m = re.search(r"\(2\)/\(1\)\s*=\s*([\d.]+)", out.stdout)
    return {"how": how, "text": text, "ratio": float(m.group(1)) if m else None,
            "returncode": out.returncode}


# --------------------------------------------------------------------------
# instructions per request (valgrind --tool=callgrind)
# --------------------------------------------------------------------------

PORT_VARS = {"a": "BENCH_PORT_A", "b": "BENCH_PORT_B", "c": "BENCH_PORT_C", "d": "BENCH_PORT_D",
             "e": "BENCH_PORT_E", "g": "BENCH_PORT_G", "j": "BENCH_PORT_J", "k": "BENCH_PORT_K",
             "a2": "BENCH_PORT_A2", "f": "BENCH_PORT_F",
             "i": "BENCH_PORT_I", "null": "BENCH_PORT_A"}


def reduced_conf(cfg, path):
    """The instance's configuration with only cfg's virtual host (the others
    would cost callgrind a PBKDF2 derivation each at startup)."""
    with open(os.path.join(ARGS.dir, "conf", cfg.instance + ".conf")) as f:
        text = f.read()
    parts = re.split(r"(?m)^(?=# \([a-z]'?\) )", text)
    keep = [parts[0]] + [p for p in parts[1:] if p.startswith("# %s " % cfg.label)]
    with open(path, "w") as f:
        f.write("".join(keep))
    os.chmod(path, 0o644)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_instructions(cfg, n, logins=False):
    """Instructions the front httpd executes per request of cfg, counted by
    callgrind inside ap_run_process_connection (reading, processing and
    answering requests; the event loop is left out) over n requests on one
    keep-alive connection, in a single-process copy of the instance (httpd
    -X, only cfg's virtual host, on a port of its own) with a session made
    by a fresh login. The first request's one-time work (per-thread
    OpenSSL state, mod_auth_openidc's metadata fetch) is averaged in.
    With logins, each of the n rounds is a complete login instead (the
    login path, the callback with its calls to the provider, the page)."""
    vdir = os.path.join(ARGS.dir, "vg-" + cfg.key + ("-login" if logins else ""))
    os.makedirs(vdir, exist_ok=True)
    os.chmod(vdir, 0o777)          # httpd -X as root still runs as User
    conf = os.path.join(vdir, "httpd.conf")
    reduced_conf(cfg, conf)
    out = os.path.join(vdir, "callgrind.out")
    port = free_port()
    cookie = login(cfg)
    run_env = dict(os.environ)
    run_env[PORT_VARS[cfg.key]] = str(port)
    cmd = ["valgrind", "--tool=callgrind", "--vgdb=no", "--collect-atstart=no",
           "--toggle-collect=ap_run_process_connection", "--callgrind-out-file=" + out,
           env("BENCH_HTTPD"), "-X", "-f", conf, "-c", "PidFile %s/httpd.pid" % vdir,
           "-c", "ErrorLog %s/error.log" % vdir, "-c", "DefaultRuntimeDir %s" % vdir]
    with open(os.path.join(vdir, "valgrind.log"), "w") as log:
        proc = subprocess.Popen(cmd, env=run_env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                http_get(port, "/", accept="*/*")   # a 404, outside the location
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("httpd under callgrind did not start for %s; see %s"
                                       % (cfg.label, vdir))
                time.sleep(0.5)
        if os.path.exists(out):
            os.chmod(out, 0o666)   # written at exit, after httpd became User
        if logins:
            for _ in range(n):
                login(cfg, port)
            n = n or 1
        else:
            try:
                get_pages(port, cookie, n)
            except RuntimeError as exc:
                raise RuntimeError("%s under callgrind: %s" % (cfg.label, exc))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with open(out) as f:
        m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M)
    if not m:
        raise RuntimeError("no totals in %s" % out)
    # (plus one readiness probe: a 404 outside the location, a few
    # thousand instructions, not subtracted)
    return int(m.group(1)) / n


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def summarize(cfg):
    runs = cfg.runs
    return {"rps": median([r["rps"] for r in runs]), "min": min(r["rps"] for r in runs),
            "max": max(r["rps"] for r in runs), "p50": median([r["p50"] for r in runs]),
            "p99": median([r["p99"] for r in runs]), "cpu_us": median([r["cpu_us"] for r in runs]),
            "errors": sum(r["errors"] for r in runs), "n": len(runs)}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine():
    model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").strip() or platform.processor()
    return {
        "nproc": sh("nproc"), "cpu": model, "kernel": platform.release(),
        "debian": sh("cat /etc/debian_version"),
        "httpd": sh("apache2 -v 2>/dev/null | head -1 | sed 's/Server version: //'") or sh("httpd -v | head -1"),
        "openidc": sh("dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc"),
        "wrk": sh("dpkg-query -W -f='${Version}' wrk"),
        "openssl": sh("openssl version"),
        "python": platform.python_version(),
        "commit": sh("cd %s && git rev-parse --short HEAD" % TOP) + (
            " (with uncommitted changes)" if sh("cd %s && git status --porcelain --untracked-files=no" % TOP) else ""),
    }


def fmt(x, digits=0):
    return ("%%.%df" % digits) % x


def chart(path, stats, info):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (python3-matplotlib): no chart"
    labels = ["%s\n%s" % (c.label, SHORT[c.key]) for c in CONFIGS]
    values = [stats[c.key]["rps"] for c in CONFIGS]
    lo = [stats[c.key]["rps"] - stats[c.key]["min"] for c in CONFIGS]
    hi = [stats[c.key]["max"] - stats[c.key]["rps"] for c in CONFIGS]
    colors = [COLORS[c.key] for c in CONFIGS]
    fig, ax = plt.subplots(figsize=(16, 6), dpi=100)
    bars = ax.bar(range(len(CONFIGS)), values, color=colors, yerr=[lo, hi], capsize=5,
                  edgecolor="black", linewidth=0.6)
    a = stats["a"]["rps"]
    top = max(s["max"] for s in stats.values())
    # each target's line over the bars it is for
    index = {c.key: i for i, c in enumerate(CONFIGS)}
    for floor, keys in ((0.90, ("b",)), (0.85, ("d", "e")), (0.60, ("g",)), (0.80, ("j",)),
                        (0.95, ("k",))):
        x0, x1 = min(index[k] for k in keys) - 0.48, max(index[k] for k in keys) + 0.48
        ax.hlines(floor * a, x0, x1, color="black", linestyle="--", linewidth=1.2)
        ax.text((x0 + x1) / 2, floor * a + top * 0.01, "target %.2f x (a)" % floor, ha="center",
                va="bottom", fontsize=8, bbox=dict(facecolor="white", alpha=0.8, edgecolor="none", pad=1))
    # the configurations are grouped by the httpd that serves them
    groups = {"front": "httpd with mod_oauthclient",
              "oidc": "second httpd: mod_auth_openidc,\nno mod_oauthclient",
              "balancer": "mod_proxy_balancer in front of\n(g)'s nodes: one, then two"}
    for i, c in enumerate(CONFIGS):
        if i == 0 or CONFIGS[i - 1].instance != c.instance:
            if i:
                ax.axvline(i - 0.5, color="black", linewidth=0.8)
            ax.text(i - 0.45, top * 1.08, groups[c.instance], va="top", ha="left", fontsize=8)
    for i, (bar, c) in enumerate(zip(bars, CONFIGS)):
        base = stats["a2" if c.instance == "oidc" else "a"]["rps"]
        label = "%s\n%.2f x %s" % (fmt(values[i]), values[i] / base,
                                    "(a')" if c.instance == "oidc" else "(a)")
        if values[i] > 0.2 * top:
            ax.text(bar.get_x() + bar.get_width() / 2, values[i] * 0.5, label,
                    ha="center", va="center", fontsize=9, color="white", fontweight="bold")
        else:
            ax.text(bar.get_x() + bar.get_width() / 2, values[i] + hi[i] + top * 0.01, label,
                    ha="center", va="bottom", fontsize=9, color="black", fontweight="bold")
    ax.set_xticks(range(len(CONFIGS)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("requests/s (median of %d; whiskers: min-max)" % stats["a"]["n"])
    ax.set_title("mod_oauthclient benchmark: the same proxied 1 KiB page, wrk -t%d -c%d\n%s, %s CPUs, %s"
                 % (WRK_THREADS, WRK_CONNECTIONS, info["cpu"], info["nproc"], info["date"]), fontsize=11)
    ax.set_ylim(0, top * 1.12)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


SHORT = {"a": "ProxyPass,\nno auth", "b": "AuthType OAuth\n+ codec", "c": "AuthType OAuth\n+ session_crypto",
         "d": "OAuthProxyAPI\nOAuth 2 bearer", "e": "OAuthProxyAPI\nOAuth 1 HMAC-SHA1",
         "g": "AuthType OAuth\n+ session_dbd\n(PostgreSQL)",
         "j": "OAuthProxyAPI\nDPoP ES256", "k": "OAuthProxyAPI\nclient_credentials",
         "a2": "ProxyPass, no auth\n(openidc httpd)", "f": "mod_auth_openidc\nclient cookie",
         "h1": "balancer\n-> 1 node (g)", "h2": "balancer\n-> 2 nodes (g)"}
COLORS = {"a": "#8c8c8c", "b": "#1f77b4", "c": "#ff7f0e", "d": "#2a9d8f", "e": "#6a4c93",
          "g": "#8a5a00", "j": "#3a7d44", "k": "#9b5de5", "a2": "#b0b0b0", "f": "#d62728", "h1": "#c49a45", "h2": "#e0b860"}


def queries_per_request(count):
    return sum(count["queries"].values()) / count["requests"]


def wrk_queries(cfg):
    """cfg's statements over its wrk runs, the requests wrk counted, and
    how many more it may have left in flight (answered, uncounted)."""
    total = collections.Counter()
    for r in cfg.runs:
        total.update(r["queries"])
    return {"queries": sum(total.values()), "requests": sum(r["requests"] for r in cfg.runs),
            "in_flight": WRK_CONNECTIONS * len(cfg.runs), "by_statement": statements(total)}


def statements(counts):
    return ", ".join("%d %s" % (n, name) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])) \
        or "none"


GROUP_NAMES = (("wrk", "wrk"), ("front", "front httpd"), ("oidc", "mod_auth_openidc httpd"),
               ("balancer", "balancer"), ("node1", "node 1"), ("node2", "node 2"),
               ("backend", "backend"), ("postgres", "PostgreSQL"))


def report_db_nodes(w, stats, exact):
    """Sessions in PostgreSQL, two nodes, and where the CPU went."""
    a = stats["a"]["rps"]
    w("## Sessions in PostgreSQL, two nodes")
    w("")
    w("(g) is (b) with its session in mod_session_dbd: the browser holds only the session's "
      "key, and every request reads the session with one prepared SELECT through mod_dbd's "
      "pool of kept connections (`SessionExpiryUpdateInterval 3600`: a request that changes "
      "nothing writes nothing). PostgreSQL 15 runs on the same machine (bench/pg.py: a "
      "throw-away cluster, fsync off, pg_stat_statements loaded). (h1) and (h2) run (g)'s "
      "configuration on nodes of their own (bench/conf/node.conf), behind a third httpd with "
      "mod_proxy_balancer (byrequests, no stickiness; bench/conf/balancer.conf): one node, "
      "then two, sharing the sessions and `OAuthCache dbd` in the one PostgreSQL.")
    w("")
    w("Database statements per protected request, counted by pg_stat_statements (each "
      "statement's executions, read before and after; the logins that made the sessions are "
      "not in the counts). First for an exact number of requests, on %d keep-alive "
      "connections at once; then over the wrk runs, against the requests wrk counted: wrk "
      "stops without waiting for its last answers, so up to %d requests per run were served "
      "(and read their session) without being counted."
      % (next(iter(exact.values()))["connections"], WRK_CONNECTIONS))
    w("")
    w("| config | requests | statements | per request | under wrk: answered requests | statements | per answered request |")
    w("|---|---:|---|---:|---:|---|---:|")
    for key, e in exact.items():
        u = wrk_queries(BY_KEY[key])
        w("| %s | %d | %s | %.3f | %d | %s | %.4f |"
          % (BY_KEY[key].label, e["requests"], statements(e["queries"]), queries_per_request(e),
             u["requests"], u["by_statement"], u["queries"] / u["requests"]))
    w("")

    # cores busy: CPU seconds per second of each run, medians over the runs
    shown = [(k, name) for k, name in GROUP_NAMES
             if any(r["cores"].get(k, 0) >= 0.005 for c in CONFIGS for r in c.runs)]
    w("Where the CPU went during the wrk runs, from /proc: cores busy (CPU seconds per second "
      "of the run, median over the runs) in each group of processes (interrupts included: "
      "the kernel charges them to the process they interrupt); then, from the kernel's count "
      "for the whole machine (/proc/stat), the rest of its busy time (other work on the host, "
      "this script), the time stolen by the hypervisor, and idle time. The machine has %d "
      "cores; a row adds up to them." % CORES)
    w("")
    w("| config | " + " | ".join(name for _, name in shown)
      + " | these together | rest of the machine | stolen | idle |")
    w("|---|" + "---:|" * (len(shown) + 4))
    for c in CONFIGS:
        def med(f):
            return median([f(r["cores"]) for r in c.runs])
        cells = [med(lambda x, k=k: x.get(k, 0.0)) for k, _ in shown]
        cells += [med(lambda x: sum(x.get(k, 0.0) for k, _ in shown)),
                  med(lambda x: x["busy"] - sum(x.get(k, 0.0) for k, _ in shown)),
                  med(lambda x: x["steal"]), med(lambda x: x["idle"])]
        w("| %s | %s |" % (c.label, " | ".join("%.2f" % x if abs(x) >= 0.005 else "-" for x in cells)))
    w("")
    h1, h2, g = stats["h1"]["rps"], stats["h2"]["rps"], stats["g"]["rps"]

    def busy(key, group=None):
        return median([r["cores"][group] if group else CORES - r["cores"]["idle"]
                       for r in BY_KEY[key].runs])

    us = {k: median([r["cores"].get(k, 0.0) * 1e6 / r["rps"] for r in BY_KEY["h2"].runs])
          for k in ("wrk", "balancer", "node1", "node2", "backend", "postgres")}
    total = sum(us.values())
    saturated = busy("h1") >= CORES - 0.1 and busy("h2") >= CORES - 0.1
    w("Two nodes: (h2) = %.3f x (h1), %.3f x (a). wrk, the balancer, both nodes, the backend "
      "and PostgreSQL share the machine's %d cores, which were busy %.2f during (h1) and %.2f "
      "during (h2)%s (node 1 used %.2f cores in (h1); in (h2) node 1 %.2f and node 2 %.2f). "
      "Per request of (h2), CPU in microseconds: wrk %.0f, balancer %.0f, the nodes %.0f "
      "(node 1 %.0f, node 2 %.0f), backend %.0f, PostgreSQL %.0f: %.0f in "
      "all, which %d cores turn into at most %.0f requests/s. On machines of their own, only "
      "the nodes' share would be divided between them. (h1) = %.3f x (g): the balancer's "
      "extra hop (one more httpd receiving, proxying and answering each request) on the same "
      "cores."
      % (h2 / h1, h2 / a, CORES, busy("h1"), busy("h2"),
         ": the machine bounds it, not a node, and a second node has no core of its own to add"
         if saturated else ": the machine was not saturated, so something else bounds it",
         busy("h1", "node1"), busy("h2", "node1"), busy("h2", "node2"), us["wrk"],
         us["balancer"], us["node1"] + us["node2"], us["node1"], us["node2"], us["backend"],
         us["postgres"], total, CORES, CORES * 1e6 / total, h1 / g))
    w("")


def report(stats, logins, sign, codec, info, views, commands, instr, exact, jose, instr_login,
           dpop):
    a, a2 = stats["a"]["rps"], stats["a2"]["rps"]
    L = []
    w = L.append
    w("# mod_oauthclient benchmark results")
    w("")
    w("Generated by `%s` on %s (%s mode: %d rounds of %d s per configuration, interleaved)."
      % (commands["run"], info["date"], "quick" if ARGS.quick else "full", ROUNDS, SECONDS))
    w("")
    w("Machine: %s CPUs, %s; Linux %s, Debian %s; %s; mod_auth_openidc %s; wrk %s; %s. "
      "Load average before / after: %s / %s. Tree: %s."
      % (info["nproc"], info["cpu"], info["kernel"], info["debian"], info["httpd"], info["openidc"],
         info["wrk"], info["openssl"], info["load_before"], info["load_after"], info["commit"]))
    w("")
    rest = [r["cores"]["busy"] - sum(r["cores"].get(k, 0.0) for k, _ in GROUP_NAMES)
            for c in CONFIGS for r in c.runs]
    w("Other work on the host during the wrk runs (the machine's busy time beyond the benchmark's "
      "own processes, from /proc; see \"Where the CPU went\"): median %.2f cores of %d, the "
      "most in one run %.2f." % (median(rest), CORES, max(rest)))
    w("")
    w("## Requests through each configuration")
    w("")
    w("Every row fetches the same 1 KiB page `%s` from the same static backend httpd through a "
      "front httpd (mod_proxy_http, pooled backend connections). wrk runs %d threads and %d "
      "connections on the same 2 cores as the servers, so these are whole-machine numbers. "
      "Ratios of (a)-(e), (g), (j) and (k) are to (a), measured in the same httpd. (j) and "
      "(k) are issue #17's (g) and (h), renamed here because (g) and (h1)/(h2) already "
      "existed: (j) proxies with a DPoP-bound token (the local provider binds it to the "
      "module's ES256 key), a fresh proof signed for every request; (k) proxies with the "
      "app's service token from the client credentials grant, without a session (wrk sends "
      "no cookie). (f) runs in its own httpd "
      "(mod_auth_openidc loaded, mod_oauthclient not) and its ratio is to (a') of that httpd "
      "(ratio to (a) in brackets). (g) reads its session from PostgreSQL, another process on "
      "the same cores. (h1) and (h2) pass through one more httpd, with mod_proxy_balancer, to "
      "one or two nodes that run (g)'s configuration, each an httpd of its own; their ratios "
      "are to (a) too. httpd CPU is the user+system CPU per request of the front httpd, or of "
      "the balancer and the nodes for (h1) and (h2) (from /proc, all their processes)."
      % (PAGE_PATH, WRK_THREADS, WRK_CONNECTIONS))
    w("")
    w("| config | what | req/s (median of %d) | min - max | p50 ms | p99 ms | ratio | per-round ratios: median (min - max) | httpd CPU us/req |"
      % stats["a"]["n"])
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in CONFIGS:
        s = stats[c.key]
        if c.key == "f":
            ratio = "%.3f x (a') [%.3f x (a)]" % (s["rps"] / a2, s["rps"] / a)
        elif c.key == "a2":
            ratio = "%.3f x (a)" % (s["rps"] / a)
        else:
            ratio = "%.3f" % (s["rps"] / a)
        base = BY_KEY["a2" if c.key == "f" else "a"]
        rounds = [r["rps"] / b["rps"] for r, b in zip(c.runs, base.runs)]
        per_round = "-" if c.key in ("a",) else "%.3f (%.3f - %.3f)" % (median(rounds), min(rounds), max(rounds))
        w("| %s | %s | %s | %s - %s | %.2f | %.2f | %s | %s | %.0f |"
          % (c.label, c.what, fmt(s["rps"]), fmt(s["min"]), fmt(s["max"]), s["p50"], s["p99"],
             ratio, per_round, s["cpu_us"]))
    errors = sum(s["errors"] for s in stats.values())
    w("")
    w("Non-2xx responses or socket errors over all runs: %d. \"ratio\" is the ratio of the "
      "medians (the targets use it); the per-round ratios pair each run with the run of its "
      "baseline in the same round, which shows how far the machine drifted." % errors)
    w("")
    w("Per-round req/s (round by round, in the order measured):")
    w("")
    w("| round | " + " | ".join(c.label for c in CONFIGS) + " |")
    w("|---|" + "---:|" * len(CONFIGS))
    for i in range(ROUNDS):
        w("| %d | " % (i + 1) + " | ".join(fmt(c.runs[i]["rps"]) for c in CONFIGS) + " |")
    w("")
    w("What the backend received (checked once per configuration with a CGI that prints the "
      "request headers; tokens cut):")
    w("")
    for c in CONFIGS:
        w("- %s %s" % (c.label, "; ".join("`%s`" % v for v in views[c.key]) or "no token headers"))
    w("")

    # targets
    cost_b = (1 / stats["b"]["rps"] - 1 / a) * 1e6
    cost_f = (1 / stats["f"]["rps"] - 1 / a2) * 1e6
    cost_f_a = (1 / stats["f"]["rps"] - 1 / a) * 1e6
    cpu_b = stats["b"]["cpu_us"] - stats["a"]["cpu_us"]
    cpu_f = stats["f"]["cpu_us"] - stats["a2"]["cpu_us"]
    targets = []

    def target(name, measured, ok, note=""):
        targets.append((name, measured, ok, note))

    for key, floor in (("b", 0.90), ("d", 0.85), ("e", 0.85), ("g", 0.60), ("j", 0.80),
                       ("k", 0.95)):
        r = stats[key]["rps"] / a
        target("(%s) >= %.2f x (a)%s" % (key, floor, {"j": " (issue #17's (g): DPoP)",
                                                       "k": " (issue #17's (h): service token)"}
                                         .get(key, "")), "%.3f x (a)" % r, r >= floor,
               "" if r >= floor else "missed by %.3f (%.1f %% of (a))" % (floor - r, (floor - r) * 100))
    per, under_wrk = queries_per_request(exact["g"]), wrk_queries(BY_KEY["g"])
    ok = per <= 1 and under_wrk["queries"] <= under_wrk["requests"] + under_wrk["in_flight"]
    target("(g) database queries per protected request <= 1",
           "%.3f (pg_stat_statements: %s for %d requests); under wrk %.4f (%d for %d answered "
           "requests, and up to %d in flight when the runs stopped)"
           % (per, statements(exact["g"]["queries"]), exact["g"]["requests"],
              under_wrk["queries"] / under_wrk["requests"], under_wrk["queries"],
              under_wrk["requests"], under_wrk["in_flight"]), ok, "" if ok else "more than one")
    ok = cost_b <= 0.25 * cost_f
    target("module's added cost per request <= 1/4 of mod_auth_openidc's",
           "(b): 1/rate(b) - 1/rate(a) = %.1f us; (f): 1/rate(f) - 1/rate(a') = %.1f us "
           "[- 1/rate(a): %.1f us]; ratio %.2f" % (cost_b, cost_f, cost_f_a,
                                                   cost_b / cost_f if cost_f > 0 else float("nan")),
           ok, "" if ok else "ratio above 0.25")
    if instr:
        ib, if_ = instr["b"] - instr["a"], instr["f"] - instr["a2"]
        ok = ib <= 0.25 * if_
        target("the same, counted in instructions (cross-check, callgrind)",
               "(b) adds %.0f, (f) adds %.0f instructions per request; ratio %.2f"
               % (ib, if_, ib / if_ if if_ > 0 else float("nan")), ok, "" if ok else "ratio above 0.25")
    if "values" in sign:
        v = sign["values"]["sign_per_s"]
        target("OAuth 1 signing >= 200,000 signatures/s per core",
               "%s /s (oac_oauth1_sign_request, fresh nonce; raw HMAC-SHA1 limit %s /s)"
               % (fmt(v), fmt(sign["values"]["raw_hmac_ctx_per_s"])), v >= 200000,
               "" if v >= 200000 else "missed by %.1f %%" % ((200000 - v) / 2000))
    else:
        target("OAuth 1 signing >= 200,000 signatures/s per core", "not measured: %s" % sign.get("error"),
               False, "sign_bench failed")
    if "values" in dpop:
        v = dpop["values"]
        us = v["dpop_es256_us"]
        target("a DPoP proof (ES256) <= 50 us of CPU (issue #17)",
               "%.1f us (oac_dpop_proof: jti, htu, ath over a 1 KB token, nonce, JWK header, "
               "signature; the raw ES256 signature alone %.1f us)" % (us, v["raw_es256_us"]),
               us <= 50, "" if us <= 50 else "over by %.1f us" % (us - 50))
    else:
        target("a DPoP proof (ES256) <= 50 us of CPU (issue #17)",
               "not measured: %s" % dpop.get("error"), False, "dpop_bench failed")
    if codec.get("ratio") is not None:
        r = codec["ratio"]
        target("codec >= 50 % of raw AES-256-GCM (1 KiB session)", "%.0f %% (%s)" % (r * 100, codec["how"]),
               r >= 0.5, "" if r >= 0.5 else "missed by %.0f points" % ((0.5 - r) * 100))
    else:
        target("codec >= 50 % of raw AES-256-GCM (1 KiB session)",
               "not measured: %s" % (codec.get("how") or "no ratio in the codec benchmark's output"),
               None, "")
    # httpd's own share of a login: the same client making the same three
    # exchanges (redirect, redirect, proxied page) with no OAuth.
    base = (logins.get("null") or {}).get("httpd_cpu_ms", 0.0)
    for key, name, what in (
            ("b", "the module's own CPU per completed OAuth 2 login (b) <= 1 ms", ""),
            ("i", "the module's own CPU per completed OpenID Connect login (i) <= 1 ms, "
                  "id_token signature included", "; each id_token's RS256 signature and claims "
                                                 "verified, userinfo's sub checked")):
        lg = logins.get(key) or {}
        if lg.get("ok") and not lg["failures"]:
            total = lg["httpd_cpu_ms"]
            own = total - base
            if key == "i":
                what += ("; the provider's metadata and keys cached" if not lg["asked"]["oidc_requests"]
                         and not lg["asked"]["jwks_requests"] else
                         "; NOT cached: %d metadata and %d key fetches in the measured logins"
                         % (lg["asked"]["oidc_requests"], lg["asked"]["jwks_requests"]))
            target(name, "%.2f ms (the front httpd's %.2f ms per login, less %.2f ms for the same "
                         "three exchanges without OAuth; %d logins%s)"
                   % (own, total, base, lg["ok"], what), own <= 1.0,
                   "" if own <= 1.0 else "over by %.2f ms" % (own - 1.0))
        else:
            target(name, "not measured: %s" % ("%d logins failed" % len(lg["failures"])
                                               if lg.get("failures") else "no login completed"),
                   False, "")
    w("## Targets")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    for name, measured, ok, note in targets:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        w("| %s | %s | %s%s |" % (name, measured, verdict, (": " + note) if note else ""))
    w("")
    w("In CPU instead of wall time (the front httpd's own CPU per request, which wrk and the "
      "backend do not share): the module adds %.1f us per request in (b), mod_session_crypto's "
      "(c) adds %.1f us, (d) %.1f us, (e) %.1f us, (j) %.1f us, (k) %.1f us; mod_auth_openidc "
      "adds %.1f us in (f) (ratio "
      "(b)/(f) %.2f)." % (cpu_b, stats["c"]["cpu_us"] - stats["a"]["cpu_us"],
                          stats["d"]["cpu_us"] - stats["a"]["cpu_us"],
                          stats["e"]["cpu_us"] - stats["a"]["cpu_us"],
                          stats["j"]["cpu_us"] - stats["a"]["cpu_us"],
                          stats["k"]["cpu_us"] - stats["a"]["cpu_us"], cpu_f,
                          cpu_b / cpu_f if cpu_f > 0 else float("nan")))
    w("")

    report_db_nodes(w, stats, exact)

    if instr:
        w("## Instructions per request")
        w("")
        w("Counted by `valgrind --tool=callgrind` in a single-process copy of the front httpd "
          "(`httpd -X`, only that configuration's virtual host), inside `ap_run_process_connection` "
          "(reading, processing and answering the request, including the backend round trip), "
          "over %d requests on one keep-alive connection with a fresh session (%d for (c)). "
          "Instruction counts do not depend on what else the machine is doing. (i) is (b)'s "
          "protection and forwarding, in the virtual host of the OpenID Connect app, with a "
          "session made by an OpenID Connect login." % (INSTR_N, INSTR_N_C))
        if "i" in instr:
            w("")
            w("(i) runs %.0f instructions per request more than (b): its session holds the "
              "id_token too (the cookie is %d bytes instead of %d, see Logins), which every "
              "request decrypts and splits, and `OAuthForwardTokens` sends it on as "
              "`X-OAuth-Id-Token`. (b), (d) and (e) are configured as before (i) was added, "
              "in virtual hosts of their own."
              % (instr["i"] - instr["b"], logins["i"]["cookie_bytes"], logins["b"]["cookie_bytes"]))
        w("")
        w("| config | instructions/request | added to its baseline | x baseline |")
        w("|---|---:|---:|---:|")
        for c in CONFIGS + [BY_KEY["i"]]:
            if c.key not in instr:
                continue
            base = instr["a2" if c.instance == "oidc" else "a"]
            w("| %s | %s | %s | %.2f |" % (c.label, fmt(instr[c.key]),
                                           "-" if c.key in ("a", "a2") else "+" + fmt(instr[c.key] - base),
                                           instr[c.key] / base))
        w("")
    w("## Logins")
    w("")
    lb, li, ln = logins["b"], logins["i"], logins["null"]
    w("Complete logins, each a new browser, through the front httpd: the login path (state, "
      "PKCE, for (i) the nonce, into the session), the provider's authorize (auto_approve), the "
      "callback (from httpd to the provider: the code exchange, for (i) the id_token's RS256 "
      "signature against the provider's keys and its claims (iss, aud, exp, iat, nonce, "
      "at_hash), then userinfo, whose sub (i) checks against the id_token's; the tokens into "
      "the session), then the protected page. (i) is an OpenID Connect app configured by "
      "discovery (`server_metadata_url`, `scope=\"openid email profile\"`); before the "
      "measured logins, 40 of each warm up, so its metadata and keys are fetched and cached "
      "(for the machine, an hour) and parsed by each child. A Python client with %d threads "
      "drives them, %d rounds of %d logins of each kind, interleaved ((b), (i), no OAuth, then "
      "again: short rounds, so that the three meet the same load from elsewhere); the provider is the single-process Python one (it signs each id_token with "
      "RS256 too), so logins/s is bounded by the provider and the client. The CPU columns are "
      "what the front httpd itself (all its processes) and the provider spent, read from /proc "
      "before and after each round, summed over the rounds and divided by the logins."
      % (lb["concurrency"], lb["rounds"], lb["n"] // max(lb["rounds"], 1)))
    w("")
    w("| through | logins | failed | wall s | logins/s | median login ms | front httpd CPU ms/login | per round | provider CPU ms/login |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, name in (("b", "mod_oauthclient, (b): OAuth 2 + PKCE + userinfo, codec session"),
                      ("i", "mod_oauthclient, (i): OpenID Connect by discovery, RS256 id_token "
                            "verified, userinfo with its sub checked, codec session"),
                      ("null", "no OAuth: the same three exchanges with the front httpd, in (a) "
                               "(redirect, redirect, proxied page): httpd's own share"),
                      ("f", "mod_auth_openidc, (f) (OIDC code flow, RS256 id_token, userinfo), for reference")):
        lg = logins.get(key)
        if not lg:
            continue
        rounds = lg["httpd_cpu_ms_rounds"]
        w("| %s | %d | %d | %.2f | %.1f | %.1f | %.2f | %s | %.2f |"
          % (name, lg["ok"], len(lg["failures"]), lg["wall"], lg["per_s"], lg["latency_ms"],
             lg["httpd_cpu_ms"], "%.2f - %.2f" % (min(rounds), max(rounds)) if len(rounds) > 1 else "-",
             lg["provider_cpu_ms"]))
    for key in ("b", "i", "null", "f"):
        lg = logins.get(key)
        if lg and lg["failures"]:
            w("")
            w("Failures (%s), first: `%s`" % (key, lg["failures"][0]))
    w("")
    own_b, own_i = lb["httpd_cpu_ms"] - ln["httpd_cpu_ms"], li["httpd_cpu_ms"] - ln["httpd_cpu_ms"]
    asked = li["asked"]

    def paired(x, y):
        """x - y round by round (both measured in the same round): the
        median, and the middle half of the rounds."""
        d = sorted(p - q for p, q in zip(x["httpd_cpu_ms_rounds"], y["httpd_cpu_ms_rounds"]))
        if not d:
            return "-"
        return "%.2f (%.2f to %.2f)" % (median(d), d[len(d) // 4], d[(3 * len(d)) // 4])
    w("The module's own CPU per login is the front httpd's CPU per login less the same three "
      "exchanges' without OAuth (httpd receiving, routing and answering three requests and "
      "proxying one), measured alike in the same rounds: what is left is the module's work and "
      "what it makes httpd and the libraries do (the session, its calls to the provider through "
      "libcurl, the JSON, the id_token's signature), system time of its connections included. "
      "(b) OAuth 2: %.2f - %.2f = **%.2f ms**; (i) OpenID Connect: %.2f - %.2f = **%.2f ms**. "
      "What OpenID Connect adds to an OAuth 2 login, (i) - (b): **%.2f ms** of the front "
      "httpd's CPU per login (the nonce, the larger token response with its id_token, the "
      "id_token's RS256 signature and claims, userinfo's sub; both fetch userinfo), and %.2f ms "
      "of the provider's (it signs the id_token). During the measured logins (i) asked the "
      "provider for its metadata %d times and for its keys %d times (%s), for userinfo %d "
      "times and for tokens %d times (%d logins)."
      % (lb["httpd_cpu_ms"], ln["httpd_cpu_ms"], own_b, li["httpd_cpu_ms"], ln["httpd_cpu_ms"],
         own_i, li["httpd_cpu_ms"] - lb["httpd_cpu_ms"],
         li["provider_cpu_ms"] - lb["provider_cpu_ms"], asked["oidc_requests"],
         asked["jwks_requests"],
         "both cached, as the target asks" if not asked["oidc_requests"] and not asked["jwks_requests"]
         else "NOT cached: the figures include fetching them",
         asked["userinfo_requests"], asked["token_requests"], li["ok"]))
    if lb["rounds"] > 1:
        w("")
        w("Round by round, the median of the differences between figures of the same round "
          "(the machine's drift from one round to the next falls out), and in brackets the "
          "middle half of the rounds: (b) - no OAuth %s ms, (i) - no OAuth %s ms, (i) - (b) %s "
          "ms. On a shared machine a round's CPU per login still moves with what the neighbours "
          "do to the caches and the cores, and a round of %d logins counts in 10 ms ticks."
          % (paired(lb, ln), paired(li, ln), paired(li, lb), lb["n"] // lb["rounds"]))
    w("")
    w("The session a login leaves: a cookie of %d bytes after an OAuth 2 login through (b), "
      "%d after an OpenID Connect login through (i), which also keeps the id_token (for "
      "`OAuthForwardTokens`' `X-OAuth-Id-Token` and logout's `id_token_hint`)."
      % (lb["cookie_bytes"], li["cookie_bytes"]))
    w("")
    if "values" in jose:
        v = jose["values"]
        w("The id_token's checks alone (bench/jose_bench.c, below): %.1f us per id_token "
          "(oac_jose_verify + oac_jose_check_id_token; raw RS256 verification %.1f us), %.1f %% "
          "of the 1 ms budget." % (v["id_token_us"], v["raw_rs256_us"], v["id_token_us"] / 10))
        w("")
    if instr_login:
        ib, ii, inull = instr_login["b"], instr_login["i"], instr_login["null"]
        w("Cross-check in instructions (callgrind, %d complete logins in a single-process copy "
          "of the front httpd, inside `ap_run_process_connection`; user space only, so the "
          "kernel's share of the connections is not in them, and the one-time fetch of the "
          "metadata and keys is averaged in): a login without OAuth %.0f instructions, (b) %.0f, "
          "(i) %.0f. The module's share of a login: (b) %.0f (%.0f %% of its instructions), (i) "
          "%.0f (%.0f %%); OpenID Connect adds %.0f to an OAuth 2 login. `bench/run "
          "--profile=i-login,null-login` lists the functions and libraries that run them."
          % (INSTR_N_LOGIN, inull, ib, ii, ib - inull, (ib - inull) * 100 / ib, ii - inull,
             (ii - inull) * 100 / ii, ii - ib))
        w("")

    w("## Microbenchmarks")
    w("")
    w("### OAuth 1 signing (bench/sign_bench.c)")
    w("")
    w(sign.get("text") or ("sign_bench failed: %s" % sign.get("error")))
    w("")
    w("### DPoP proof (bench/dpop_bench.c)")
    w("")
    w(dpop.get("text") or ("dpop_bench failed: %s" % dpop.get("error")))
    w("")
    w("### OpenID Connect id_token checks (bench/jose_bench.c)")
    w("")
    w(jose.get("text") or ("jose_bench failed: %s" % jose.get("error")))
    w("")
    w("### Session codec (%s)" % (codec.get("how") or "missing"))
    w("")
    if codec.get("missing"):
        w("Not run: %s." % codec["how"])
    else:
        w(codec["text"])
    w("")

    w("## Commands")
    w("")
    w("```")
    for line in commands["list"]:
        w(line)
    w("```")
    w("")
    notes = os.path.join(HERE, "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            w(f.read().strip())
        w("")
    return "\n".join(L) + "\n", targets


# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# side modes: --profile (where the instructions go), --soak (memory)
# --------------------------------------------------------------------------

def profile(keys):
    """Instructions per request of each configuration in keys, and the
    functions that spend them (callgrind_annotate, inclusive), and the
    libraries they run in (self cost by ELF object). KEY-login: per
    complete login through KEY (oidc-login is i-login; null-login is the
    same three exchanges without OAuth, which the other logins are then
    compared with)."""
    per_login = {}
    for key in keys:
        key = "i-login" if key == "oidc-login" else key
        logins = key.endswith("-login")
        key = key[:-len("-login")] if logins else key
        cfg = BY_KEY[key]
        n = INSTR_N_LOGIN if logins else INSTR_N_C if key == "c" else INSTR_N
        per = count_instructions(cfg, n, logins)
        out = os.path.join(ARGS.dir, "vg-" + key + ("-login" if logins else ""), "callgrind.out")
        print("%s %.0f instructions/%s; callgrind output: %s"
              % ("null" if key == "null" else cfg.label, per, "login" if logins else "request", out))
        if logins:
            per_login[key] = per
        objects = instructions_by_object(out)
        total = sum(objects.values()) or 1
        print("  by library (self instructions per %s):" % ("login" if logins else "request"))
        for name, count in objects.most_common(12):
            print("  %9.0f  %5.1f%%  %s" % (count / n, count * 100 / total, name))
        print("  functions (inclusive):")
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                             capture_output=True, text=True).stdout
        rows = [l for l in ann.splitlines() if re.match(r"^\s*[\d,]+ \(", l)][:40]
        for line in rows:
            m = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$", line)
            if m:
                print("  %9.0f  %5s%%  %s" % (int(m.group(1).replace(",", "")) / n, m.group(2),
                                              m.group(3)[:110]))
    if "null" in per_login:
        for key, per in per_login.items():
            if key != "null":
                print("%s login: %.0f instructions beyond the same three exchanges without OAuth "
                      "(%.0f): %.1f %% of the login's"
                      % (BY_KEY[key].label, per - per_login["null"], per_login["null"],
                         (per - per_login["null"]) * 100 / per))


def instructions_by_object(path):
    """Self instructions (Ir) per ELF object (shared library, httpd) in a
    callgrind output file: its cost lines under each ob=, the inclusive
    cost lines that follow a calls= line left out."""
    names, counts = {}, collections.Counter()
    current, after_call = None, False
    with open(path) as f:
        for line in f:
            head = line[:1]
            if head.isdigit() or head in "+-*":
                if after_call:
                    after_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and current is not None:
                    counts[current] += int(parts[1])
            elif line.startswith(("ob=", "cob=")):
                field, _, value = line.rstrip("\n").partition("=")
                m = re.match(r"\((\d+)\)(?: (.*))?$", value)
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    value = names.get(m.group(1), value)
                if field == "ob":
                    current = os.path.basename(value)
            elif line.startswith("calls="):
                after_call = True
    return counts


def rss_of_children(name):
    """{pid: VmRSS in KiB} of the live children of the httpd DIR/NAME.pid."""
    with open(os.path.join(ARGS.dir, name + ".pid")) as f:
        parent = int(f.read().strip())
    sizes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = _stat(int(entry))[0]
            if ppid != parent:
                continue
            with open("/proc/%s/status" % entry) as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        except (OSError, IndexError, ValueError):
            continue
        if m:
            sizes[int(entry)] = int(m.group(1))
    return sizes


def soak(total, keys=("b", "d")):
    """wrk against each configuration until `total` requests have been
    answered, in segments; the front's children's RSS after each segment.
    First a warm-up on 32 connections, so that many worker threads have
    served requests (each has its own allocator, which keeps up to
    MaxMemFree of freed memory); 64, one per thread, makes the event MPM
    close kept-alive connections even without the module. The first
    measured segment is the baseline the others are compared with; errors
    are counted over the measured segments (the warm-up's are shown)."""
    segment_s = 10
    lines = ["# Memory over %d requests" % total, "",
             "Generated by `bench/run --soak` on %s. Front httpd: event MPM, 2 children "
             "of 32 threads, no child recycling (`MaxConnectionsPerChild 0`), so the same "
             "processes serve every request. RSS is the sum of the children's `VmRSS` "
             "(/proc), read after each wrk segment of %d s (2 threads, 16 connections), "
             "after a warm-up of the same length on 32 connections (so that many worker "
             "threads have served requests; not counted). Target: flat within 5 %% after the first segment."
             % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                segment_s), ""]
    verdicts = []
    for key in keys:
        cfg = BY_KEY[key]
        cookie = login(cfg)
        warm = wrk(cfg, segment_s, cookie, connections=32)
        print("  %s warm-up: %d requests on 32 connections, RSS %d KiB"
              % (cfg.label, warm["requests"], sum(rss_of_children(cfg.instance).values())),
              file=sys.stderr, flush=True)
        done, samples, errors, children = 0, [], 0, None
        while done < total:
            r = wrk(cfg, segment_s, cookie)
            done += r["requests"]
            errors += r["errors"]
            sizes = rss_of_children(cfg.instance)
            if children is None:
                children = sorted(sizes)
            elif sorted(sizes) != children:
                children = "changed"
            samples.append((done, sum(sizes.values()), r["rps"]))
            print("  %s %9d requests  RSS %7d KiB  %6.0f req/s" % (cfg.label, done, samples[-1][1],
                                                                   r["rps"]), file=sys.stderr,
                  flush=True)
        base = samples[0][1]
        peak = max(sz for _, sz, _ in samples[1:]) if len(samples) > 1 else base
        growth = (samples[-1][1] - base) / base
        ok = peak <= base * 1.05 and errors == 0 and children != "changed"
        verdicts.append((cfg.label, ok))
        lines += ["## %s %s" % (cfg.label, cfg.what), "",
                  "| requests answered | children's RSS (KiB) | req/s in the segment |",
                  "|---:|---:|---:|"]
        lines += ["| %d | %d | %.0f |" % smp for smp in samples]
        lines += ["", "After the first segment: %d KiB; at the end: %d KiB (%+.1f %%); "
                  "highest after the first segment: %d KiB (%+.1f %%). Errors: %d (warm-up: %d). "
                  "Children: %s. Result: **%s**."
                  % (base, samples[-1][1], growth * 100, peak, (peak - base) * 100 / base, errors,
                     warm["errors"],
                     "replaced during the run" if children == "changed"
                     else "the same %d processes throughout" % len(children),
                     "PASS" if ok else "FAIL"), ""]
    text = "\n".join(lines)
    with open(os.path.join(ARGS.out, "SOAK.md"), "w") as f:
        f.write(text)
    print(text)
    print("soak: %d passed, %d failed" % (sum(1 for _, ok in verdicts if ok),
                                          sum(1 for _, ok in verdicts if not ok)))


def main():
    global ARGS, ROUNDS, SECONDS, PAGE
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=HERE, help="where RESULTS.md and results.png go")
    ap.add_argument("--profile", metavar="KEYS",
                    help="only count instructions of these configurations (e.g. b,e) and "
                         "show where they go")
    ap.add_argument("--soak", metavar="N", type=int,
                    help="only the memory test: N requests to (b) and (d), RSS after each "
                         "segment, written to SOAK.md")
    ARGS = ap.parse_args()
    # Full mode: 7 rounds, because one 5 s run of a configuration moves by
    # up to +-8 % from round to round on 2 shared cores.
    ROUNDS, SECONDS = (3, 2) if ARGS.quick else (7, 5)
    # logins: (b), (i) and the null login interleaved, ROUNDS_L rounds of
    # N_LOGINS each; mod_auth_openidc's once
    # Short rounds, so that the three kinds meet the same neighbours on a
    # shared machine; many of them, because /proc counts CPU in 10 ms
    # ticks (a round of 100 logins of ~1 ms is good to ~0.1 ms, the sum of
    # 12 rounds to ~0.02 ms).
    rounds_l, n_logins, n_logins_f = (12, 100, 100) if ARGS.quick else (20, 250, 400)
    micro_seconds = 0.3 if ARGS.quick else 1.0
    with open(os.path.join(ARGS.dir, "htdocs", "app", "hello.txt"), "rb") as f:
        PAGE = f.read()
    if ARGS.profile:
        profile([k.strip() for k in ARGS.profile.split(",") if k.strip()])
        return
    if ARGS.soak:
        soak(ARGS.soak)
        return

    info = machine()
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["load_before"] = " ".join(open("/proc/loadavg").read().split()[:3])
    t_start = time.monotonic()

    def log(msg):
        print("[%5.0fs] %s" % (time.monotonic() - t_start, msg), file=sys.stderr, flush=True)

    # 1. log in everywhere once, check what the backend sees, warm up
    views = {}
    for c in CONFIGS:
        cookie = login(c)
        views[c.key] = backend_view(c, cookie)
        log("%s logged in; backend sees: %s" % (c.label, "; ".join(views[c.key]) or "no token headers"))
        warm = wrk(c, 1, cookie)
        if warm["errors"]:
            raise SystemExit("%s: %d bad responses while warming up; see the error logs (bench/run --keep)"
                             % (c.label, warm["errors"]))

    # 2. interleaved rounds
    for i in range(ROUNDS):
        for c in CONFIGS:
            cookie = login(c)
            r = wrk(c, SECONDS, cookie)
            c.runs.append(r)
            log("round %d/%d %-4s %8.0f req/s  p50 %.2f ms  p99 %.2f ms  httpd CPU %.0f us/req%s%s"
                % (i + 1, ROUNDS, c.label, r["rps"], r["p50"], r["p99"], r["cpu_us"],
                   "  %.4f queries/req" % (sum(r["queries"].values()) / max(r["requests"], 1))
                   if c.db else "", "  ERRORS %d" % r["errors"] if r["errors"] else ""))
    stats = {c.key: summarize(c) for c in CONFIGS}

    # database statements for an exact number of requests
    exact = {}
    for c in CONFIGS:
        if c.db:
            exact[c.key] = count_queries(c, 400 if ARGS.quick else 2000)
            log("%s: %d requests, %d database statements %s"
                % (c.label, exact[c.key]["requests"], sum(exact[c.key]["queries"].values()),
                   exact[c.key]["queries"]))

    # 3. logins: a warm-up first, so that the OpenID Connect app has fetched
    # the provider's metadata and keys and each child process has parsed
    # them (they are kept an hour); the measured rounds must then ask the
    # provider for neither (checked in the report)
    login_keys = ("b", "i", "null")
    warm = {k: login_bench(BY_KEY[k], 40, 4) for k in login_keys}
    for k, r in warm.items():
        if r["failures"]:
            raise SystemExit("%s: %d of 40 logins failed while warming up, first: %s"
                             % (BY_KEY[k].label, len(r["failures"]), r["failures"][0]))
    log("warm-up logins done; (i) asked the provider for %s" % warm["i"]["asked"])
    log("%d rounds of %d logins each through (b) OAuth 2, (i) OpenID Connect and without OAuth ..."
        % (rounds_l, n_logins))
    logins = login_series([BY_KEY[k] for k in login_keys], n_logins, rounds_l, 4, log)
    # what each login leaves in the browser: the session cookie (name=value)
    for k in ("b", "i"):
        logins[k]["cookie_bytes"] = len(login(BY_KEY[k]))
    for k in ("b", "i"):
        log("  %s %.1f logins/s, front httpd CPU %.2f ms/login"
            % (BY_KEY[k].label, logins[k]["per_s"], logins[k]["httpd_cpu_ms"]))
    log("%d logins through mod_auth_openidc ..." % n_logins_f)
    logins["f"] = login_series([BY_KEY["f"]], n_logins_f, 1)["f"]
    log("  %.1f logins/s, front httpd CPU %.2f ms/login" % (logins["f"]["per_s"], logins["f"]["httpd_cpu_ms"]))

    # 4. microbenchmarks
    log("OAuth 1 signing microbenchmark ...")
    sign = run_sign_bench(micro_seconds)
    log("DPoP proof microbenchmark ...")
    dpop = run_sign_bench(micro_seconds, "dpop_bench")
    log("id_token checks microbenchmark ...")
    jose = run_sign_bench(micro_seconds, "jose_bench")
    log("session codec microbenchmark ...")
    codec = run_codec_bench(micro_seconds)
    info["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])

    # 5. instructions per request (full mode; ~1.5 minutes)
    instr, instr_login = {}, {}
    if not ARGS.quick:
        for c in CONFIGS + [BY_KEY["i"]]:
            if c.instance == "balancer":
                continue    # several processes; callgrind follows one
            log("instructions per request under callgrind: %s ..." % c.label)
            instr[c.key] = count_instructions(c, INSTR_N_C if c.key == "c" else INSTR_N)
            log("  %.0f" % instr[c.key])
        for k in login_keys:
            log("instructions per login under callgrind: %s ..." % k)
            instr_login[k] = count_instructions(BY_KEY[k], INSTR_N_LOGIN, logins=True)
            log("  %.0f" % instr_login[k])

    commands = {
        "run": "bench/run" + (" --quick" if ARGS.quick else ""),
        "list": [
            "sudo bash bench/run%s" % (" --quick" if ARGS.quick else ""),
            "# per configuration and round, after a fresh login:",
            " ".join(wrk_command(BY_KEY["b"], SECONDS, "<session cookie>")).replace(
                "Cookie: <session cookie>", "'Cookie: <session cookie>'").replace(
                str(BY_KEY["b"].port), "<port of the configuration>"),
            "# microbenchmarks:",
            "gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) -o sign_bench "
            "bench/sign_bench.c liboac.a $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)",
            "./sign_bench %s" % micro_seconds,
            "gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) -o dpop_bench "
            "bench/dpop_bench.c liboac.a $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)",
            "./dpop_bench %s" % micro_seconds,
            "gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) -o jose_bench "
            "bench/jose_bench.c liboac.a $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)",
            "./jose_bench %s" % micro_seconds,
            codec.get("how", "").split(" (")[0] if not codec.get("missing") else "# codec benchmark: missing",
        ],
    }
    if instr:
        commands["list"] += [
            "# instructions per request, per configuration (bench.py count_instructions):",
            "valgrind --tool=callgrind --vgdb=no --collect-atstart=no "
            "--toggle-collect=ap_run_process_connection --callgrind-out-file=OUT "
            "apache2 -X -f <that configuration alone> ...",
        ]
    text, targets = report(stats, logins, sign, codec, info, views, commands, instr, exact,
                           jose, instr_login, dpop)
    problem = chart(os.path.join(ARGS.out, "results.png"), stats, info)
    if problem:
        text = text.replace("## Targets", "(%s)\n\n## Targets" % problem, 1)
    else:
        text = text.replace("## Targets", "![req/s by configuration](results.png)\n\n## Targets", 1)
    with open(os.path.join(ARGS.out, "RESULTS.md"), "w") as f:
        f.write(text)
    print(text)
    log("wrote %s and %s" % (os.path.join(ARGS.out, "RESULTS.md"), os.path.join(ARGS.out, "results.png")))
    failed = [t for t in targets if t[2] is False]
    print("targets: %d passed, %d failed%s" % (sum(1 for t in targets if t[2]), len(failed),
                                               "" if not failed else ": " + "; ".join(t[0] for t in failed)))


if __name__ == "__main__":
    main()
