"""Several httpd nodes with the module, behind a third httpd with
mod_proxy_balancer (no stickiness), and what they share: PostgreSQL for
sessions (mod_session_dbd) and OAuthCache dbd, memcached for OAuthCache
memcache, and the project's test provider. Everything runs on 127.0.0.1,
on free ports, in temporary directories, as an unprivileged user when run
as root, and goes away with the test (t/cluster/test_cluster.py).

Environment (set by make check; defaults for a run from the tree):
  HTTPD_BIN   the httpd to run (default: apxs -q SBINDIR/TARGET)
  APXS        apxs (default /usr/bin/apxs)
  OAC_BUILD_DIR, OAC_SRCDIR   where .libs/mod_oauthclient.so and t/ are
"""
import concurrent.futures
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
T_DIR = os.path.dirname(HERE)
# The tree whose t/ this is holds the module (t/run-all may run a copy
# that httpd's user can read); else the build tree make check names.
TOP = os.path.dirname(T_DIR)
if not os.path.exists(os.path.join(TOP, ".libs", "mod_oauthclient.so")):
    TOP = os.environ.get("OAC_BUILD_DIR") or TOP
PG_BIN = "/usr/lib/postgresql/15/bin"

# What each node loads: the test suite's list plus the balancer's.
MODULES = ("mpm_event authn_core authz_core authz_host authz_user mime dir "
           "alias env setenvif headers session session_cookie proxy "
           "proxy_http dbd session_dbd").split()
BALANCER_MODULES = ("mpm_event authn_core authz_core mime headers env proxy "
                    "proxy_http proxy_balancer slotmem_shm "
                    "lbmethod_byrequests").split()


def apxs(what):
    return subprocess.run([os.environ.get("APXS", "/usr/bin/apxs"), "-q", what],
                          check=True, capture_output=True, text=True).stdout.strip()


def httpd_bin():
    return os.environ.get("HTTPD_BIN") or os.path.join(apxs("SBINDIR"), apxs("TARGET"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=20, proc=None, what="server"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (what, port))


def service_user():
    """Who runs the servers: PostgreSQL refuses root, and so should they."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise RuntimeError("no unprivileged user to run the servers as")


def as_user(argv):
    user = service_user()
    return ["runuser", "-u", user.pw_name, "--"] + argv if user else argv


def private_dir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    user = service_user()
    if user:
        os.chown(d, user.pw_uid, user.pw_gid)
    return d


class Postgres:
    """A throw-away PostgreSQL 15 cluster (Debian's postgresql-15).
    settings: more server settings, {name: value}, given as -c name=value
    (the benchmark preloads pg_stat_statements to count queries)."""

    def __init__(self, settings=None):
        self.settings = dict(settings or {})
        self.dir = private_dir("oac-pg-")
        self.port = free_port()
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        subprocess.run(as_user([PG_BIN + "/initdb", "-D", self.data, "-U", "oac",
                                "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True)
        self.start()
        self.psql("CREATE DATABASE oac", db="postgres")
        # mod_session_dbd's table, as the README gives it for PostgreSQL
        self.psql("CREATE TABLE session (key VARCHAR(256) PRIMARY KEY, "
                  "value TEXT, expiry BIGINT)")

    def start(self):
        log = open(os.path.join(self.dir, "postgres.log"), "ab")
        self.proc = subprocess.Popen(
            as_user([PG_BIN + "/postgres", "-D", self.data, "-k", self.dir,
                     "-h", "127.0.0.1", "-p", str(self.port), "-c", "fsync=off",
                     "-c", "max_connections=800", "-c", "synchronous_commit=off"]
                    + [a for kv in self.settings.items() for a in ("-c", "%s=%s" % kv)]),
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited; see %s/postgres.log" % self.dir)
            if subprocess.run([PG_BIN + "/pg_isready", "-q", "-h", "127.0.0.1", "-p",
                               str(self.port)]).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            # the postmaster itself (runuser does not pass signals on):
            # SIGINT is PostgreSQL's fast shutdown
            try:
                with open(os.path.join(self.data, "postmaster.pid")) as f:
                    os.kill(int(f.readline()), signal.SIGINT)
            except (OSError, ValueError):
                self.proc.terminate()
            self.proc.wait(30)
        self.proc = None

    def psql(self, sql, db="oac"):
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p",
                              str(self.port), "-U", "oac", "-d", db, "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def params(self):
        return "host=127.0.0.1 port=%d dbname=oac user=oac" % self.port

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Memcached:
    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        argv = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.getuid() == 0:
            argv += ["-u", "nobody"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port, proc=self.proc, what="memcached")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()

    def command(self, line, data=None):
        """One command of memcached's text protocol; its whole answer."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(line.encode() + b"\r\n"
                      + (data.encode() + b"\r\n" if data is not None else b""))
            out = b""
            while not out.endswith((b"END\r\n", b"STORED\r\n", b"ERROR\r\n")):
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def get(self, name):
        """The value stored under name, or None."""
        out = self.command("get " + name)
        if not out.startswith(b"VALUE "):
            return None
        return out.split(b"\r\n", 2)[1].decode()

    def set(self, name, value, ttl=3600):
        return self.command("set %s 0 %d %d" % (name, ttl, len(value)), value)


class Provider:
    """t/provider/provider.py on a free port, with its control API."""

    def __init__(self, logdir):
        self.port = free_port()
        self.log = os.path.join(logdir, "provider.log")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(T_DIR, "provider", "provider.py"),
             "--host", "127.0.0.1", "--port", str(self.port), "--log", self.log,
             "--exit-with-parent"],
            stdout=subprocess.PIPE, stderr=open(self.log, "ab"), text=True)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            raise RuntimeError("the provider did not start; see " + self.log)

    def call(self, method, path, doc=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = json.dumps(doc).encode() if doc is not None else None
        c.request(method, path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError("provider %s %s: %d %s" % (method, path, r.status, data[:200]))
        return json.loads(data)

    def config(self, reset=False, **cfg):
        if reset:
            self.call("POST", "/_control/reset", {})
        if cfg:
            self.call("POST", "/_control/config", cfg)

    def stats(self):
        return self.call("GET", "/_control/stats")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


class Httpd:
    """One httpd with its own ServerRoot, started in the foreground's
    stead with -k start, stopped with -k stop."""

    def __init__(self, name, body, modules, oauthclient=True, port=None, processes=None):
        self.name = name
        self.port = port or free_port()
        self.root = private_dir("oac-node-%s-" % name)
        self.conf = os.path.join(self.root, "httpd.conf")
        self.error_log = os.path.join(self.root, "error_log")
        libexec = apxs("LIBEXECDIR")
        lines = ["LoadModule %s_module %s/mod_%s.so" % (m, libexec, m) for m in modules]
        if oauthclient:
            lines.append("LoadModule oauthclient_module %s/.libs/mod_oauthclient.so" % TOP)
        user = service_user()
        run_as = ""
        if os.getuid() == 0:
            run_as = "User nobody\nGroup nogroup\n"
        with open(self.conf, "w") as f:
            f.write("""ServerRoot "%(root)s"
ServerName 127.0.0.1:%(port)d
Listen 127.0.0.1:%(port)d
PidFile "%(root)s/httpd.pid"
DefaultRuntimeDir "%(root)s"
ErrorLog "%(root)s/error_log"
LogLevel warn %(loglevel)s
%(run_as)s%(modules)s
TypesConfig /dev/null
%(mpm)sMaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
Timeout 30
DocumentRoot "%(root)s"
Header always set X-Node %(name)s
%(body)s
""" % {"root": self.root, "port": self.port, "run_as": run_as,
       "modules": "\n".join(lines), "name": name, "body": body,
       # processes=1: one child, whose connections a test can count on
       "mpm": ("StartServers 2\nServerLimit 8\nThreadsPerChild 64\nMaxRequestWorkers 256\n"
               if not processes else
               "StartServers %d\nServerLimit %d\nThreadsPerChild 64\nMaxRequestWorkers %d\n"
               "MinSpareThreads 1\nMaxSpareThreads %d\n"
               % (processes, processes, 64 * processes, 64 * processes)),
       "loglevel": os.environ.get("OAC_CLUSTER_LOGLEVEL", "") if oauthclient else ""})
        if user:
            os.chown(self.conf, user.pw_uid, user.pw_gid)

    def ctl(self, what):
        return subprocess.run([httpd_bin(), "-f", self.conf, "-k", what],
                              capture_output=True, text=True)

    def start(self):
        r = self.ctl("start")
        if r.returncode != 0:
            raise RuntimeError("httpd %s did not start: %s%s\n%s" % (
                self.name, r.stdout, r.stderr, self.log_text()[-3000:]))
        wait_port(self.port, what="httpd " + self.name)

    def pids(self):
        """The parent and its children."""
        try:
            with open(os.path.join(self.root, "httpd.pid")) as f:
                parent = int(f.read().strip())
        except (OSError, ValueError):
            return []
        out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
        return [parent] + [int(p) for p in out.stdout.split()]

    def graceful(self):
        r = self.ctl("graceful")
        if r.returncode != 0:
            raise RuntimeError("graceful restart of %s: %s" % (self.name, r.stderr))

    def kill(self):
        """SIGKILL to the parent and every child, as a crashed machine."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        if self.pids():
            self.ctl("stop")
            deadline = time.monotonic() + 15
            while self.pids() and any(_alive(p) for p in self.pids()):
                if time.monotonic() > deadline:
                    self.kill()
                    break
                time.sleep(0.1)

    def log_text(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def app_conf(provider, front_port, cache, session, apps=("local",), passphrase=None):
    """The module's part of a node's configuration: apps on the provider,
    their callback at the front (the balancer), OAuthCache, the session
    store (pg: mod_session_dbd on Postgres; cookie: the module's codec)."""
    pp = provider.port
    out = ["OAuthHTTPTimeout 3", "OAuthCache %s" % cache]
    if session.startswith("pg:"):
        params = session[3:]
        out += ["DBDriver pgsql",
                'DBDParams "%s"' % params,
                "DBDMin 1", "DBDKeep 8", "DBDMax 32", "DBDExptime 60",
                'DBDPrepareSQL "select value from session where key = %s and '
                '(expiry = 0 or expiry > %lld)" selectsession',
                'DBDPrepareSQL "delete from session where key = %s" deletesession',
                'DBDPrepareSQL "insert into session (value, expiry, key) values '
                '(%s, %lld, %s)" insertsession',
                'DBDPrepareSQL "update session set value = %s, expiry = %lld, '
                'key = %s where key = %s" updatesession',
                "Session On", "SessionDBDCookieName oac_session path=/;HttpOnly"]
    else:
        out += ["Session On", "SessionCookieName oac_session path=/;HttpOnly",
                "OAuthSessionPassphrase %s" % (passphrase or "cluster-test-passphrase-0123")]
    for app in apps:
        out.append(
            "OAuthRemoteApp %s client_id=oauth2-client client_secret=oauth2-secret "
            "authorize_url=http://127.0.0.1:%d/oauth2/authorize "
            "access_token_url=http://127.0.0.1:%d/oauth2/token "
            "api_base_url=http://127.0.0.1:%d/api/ "
            "redirect_uri=http://127.0.0.1:%d/oauth/%s/callback"
            % (app, pp, pp, pp, front_port, app))
        out.append("<Location /api/%s/>\n    OAuthProxyAPI %s\n</Location>" % (app, app))
        # the app's own token (client credentials), shared by the nodes
        out.append("<Location /svc/%s/>\n    OAuthProxyAPI %s client_credentials\n</Location>"
                   % (app, app))
    # A public client's service token (no secret, no key): never shared,
    # as nothing secret could seal it (t/cluster/test_cluster.py)
    out.append(
        "OAuthRemoteApp pub client_id=public-svc token_endpoint_auth_method=none "
        "authorize_url=http://127.0.0.1:%d/oauth2/authorize "
        "access_token_url=http://127.0.0.1:%d/oauth2/token "
        "api_base_url=http://127.0.0.1:%d/api/ scope=read" % (pp, pp, pp))
    out.append("<Location /svc/pub/>\n    OAuthProxyAPI pub client_credentials\n</Location>")
    return "\n".join(out)


def balancer_conf(node_ports):
    members = "\n".join("    BalancerMember http://127.0.0.1:%d retry=0" % p
                        for p in node_ports)
    return """<Proxy "balancer://nodes">
%s
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPreserveHost On
# A node's graceful restart closes its idle keep-alive connections; a
# request the front sends down one of them just then fails (502, httpd's
# AH01102 race). Every test client opens a new connection per request, so
# this sends each on a fresh backend connection instead.
SetEnv proxy-initial-not-pooled 1
ProxyPass "/" "balancer://nodes/"
""" % members


class Browser:
    """One user's cookie, as a browser keeps it, against one host:port."""

    def __init__(self, port):
        self.port = port
        self.cookie = None

    def request(self, path, port=None, method="GET", headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        h = {"Accept": "text/html"}
        if self.cookie:
            h["Cookie"] = self.cookie
        h.update(headers or {})
        c.request(method, path, headers=h)
        r = c.getresponse()
        body = r.read()
        c.close()
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                if pair.startswith("oac_session="):
                    self.cookie = pair if len(pair) > len("oac_session=") else None
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body

    def login(self, user, app="local"):
        """The whole dance through the front; returns the node names that
        answered the login and the callback."""
        status, h, _ = self.request("/oauth/%s/login" % app)
        if status != 302:
            raise RuntimeError("login: %d" % status)
        login_node = h.get("x-node")
        authorize = h["location"] + "&auto_approve=" + urllib.parse.quote(user)
        u = urllib.parse.urlsplit(authorize)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("GET", u.path + "?" + u.query)
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 302:
            raise RuntimeError("authorize: %d" % r.status)
        cb = urllib.parse.urlsplit(r.getheader("Location"))
        status, h, body = self.request(cb.path + "?" + cb.query)
        if status != 302:
            raise RuntimeError("callback: %d %s" % (status, body[:300]))
        return login_node, h.get("x-node")

    def api_burst(self, n, path="/api/local/me", port=None):
        """n requests at once, as a browser's parallel calls; their
        (status, node, user) triples."""
        out = [None] * n
        cookie = self.cookie
        start = threading.Barrier(n)

        def one(i):
            b = Browser(port or self.port)
            b.cookie = cookie
            start.wait()
            try:
                status, h, body = b.request("%s/%d" % (path, i),
                                            headers={"Accept": "application/json"})
                user = None
                if status == 200:
                    try:
                        user = json.loads(body).get("user")
                    except ValueError:
                        pass
                out[i] = (status, h.get("x-node"), user)
            except Exception as e:  # noqa: BLE001 - reported as a failed call
                out[i] = (0, None, repr(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out


def run_users(browsers, fn, workers=48):
    """fn(index, browser) for every browser, workers at a time; the
    results in order."""
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda ib: fn(*ib), enumerate(browsers)))


def count_log(text, pattern):
    return len(re.findall(pattern, text))
