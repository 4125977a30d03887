"""Sessions and refresh on several machines (contract section 10, issue
#15): two httpd nodes behind a third with mod_proxy_balancer and no
stickiness, sharing PostgreSQL (sessions in mod_session_dbd, OAuthCache
dbd) or memcached (OAuthCache memcache, sessions in the module's cookie
codec), against the test provider, which rotates refresh tokens and
revokes the whole grant when one comes back (RFC 9700 4.14.2).

Run by t/run-all; alone: /usr/bin/python3 t/tools/tap_unittest.py
t/cluster/test_cluster.py (as root or not). OAC_CLUSTER_USERS sets the
number of users of the large runs (default 1000).
"""
import base64
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import cluster  # noqa: E402
import session_codec  # noqa: E402
from session_codec import seal as codec_seal, unseal as codec_open  # noqa: E402

USERS = int(os.environ.get("OAC_CLUSTER_USERS", "1000"))
PARALLEL = 4


# --- a service token's OAuthCache entry, made here as a node makes it ------

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def service_entry(*fields, secret=bytes(32)):
    """The name of an app's shared service token and the key that seals it,
    from the fields make_ident() in src/mod_oauthclient_service.c joins
    (the app, its DPoP key's thumbprint, token URL, client id, scope, token
    parameters, authentication method, client secret, key file, DPoP alg)
    and the digest of its signing secret."""
    master = hashlib.pbkdf2_hmac("sha256", "\n".join(fields).encode() + secret,
                                 b"mod_oauthclient service token", 20000)

    def digest(label):
        return hashlib.sha256(label.encode() + b"\0" + master).digest()
    return "oacsvc:" + b64url(digest("name")), digest("seal")


def fake_memcached(handle):
    """A server on a free loopback port that runs handle(conn, stop) for
    each connection, in a thread of its own: (port, stop), stop an Event
    that ends it (set it, then wait for nothing: the threads are daemons)."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)

    def serve(conn):
        try:
            handle(conn, stop)
        except OSError:
            pass
        finally:
            conn.close()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        server.close()
    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], stop


class Site:
    """Provider, shared store, nodes A and B and the front, for one
    configuration."""

    def __init__(self, cache, session, pg=None, memcached=None, apps=("local",)):
        self.logdir = cluster.private_dir("oac-cluster-logs-")
        self.provider = cluster.Provider(self.logdir)
        self.pg = pg
        self.memcached = memcached
        front_port = cluster.free_port()
        body = cluster.app_conf(self.provider, front_port, cache, session, apps)
        self.nodes = [cluster.Httpd(n, body, cluster.MODULES) for n in ("A", "B")]
        for n in self.nodes:
            n.start()
        # the callback URL the nodes send names the front's port
        self.front = cluster.Httpd("front", cluster.balancer_conf(
            [n.port for n in self.nodes]), cluster.BALANCER_MODULES, oauthclient=False,
            port=front_port)
        self.front.start()

    def logs(self):
        return "".join(n.log_text() for n in self.nodes)

    def log_marks(self):
        """Where each node's log ends now, for logs_since()."""
        return [len(n.log_text()) for n in self.nodes]

    def logs_since(self, marks):
        return "".join(n.log_text()[m:] for n, m in zip(self.nodes, marks))

    def close(self):
        for h in [self.front] + self.nodes:
            h.close()
        self.provider.close()

    # --- the large run ----------------------------------------------------

    def login_users(self, n, lifetime=62, prefix="u"):
        """n users logged in through the front with tokens that enter the
        refresh window (60 s before expiry) lifetime - 60 s later."""
        self.provider.config(reset=True, access_token_lifetime=lifetime)
        browsers = [cluster.Browser(self.front.port) for _ in range(n)]
        nodes = cluster.run_users(browsers,
                                  lambda i, b: b.login("%s%d" % (prefix, i)))
        # new tokens from the refreshes live an hour: one refresh per user
        self.provider.config(access_token_lifetime=3600)
        if lifetime < 120:
            time.sleep(max(0, lifetime - 60) + 0.5)
        return browsers, nodes

    def bursts(self, browsers, port=None, during=None):
        """Every user's PARALLEL calls at once; the provider's counters
        over the run. during(k) is called after the k-th user's burst."""
        before = self.provider.stats()

        def one(i, b):
            out = b.api_burst(PARALLEL, port=port)
            if during:
                during(i)
            return out
        results = cluster.run_users(browsers, one)
        after = self.provider.stats()
        return results, {k: after[k] - before.get(k, 0) for k in after
                         if isinstance(after[k], int)}


class Checks:
    """What every large run must show."""

    def errors(self, n=15):
        lines = [l for l in self.site.logs().splitlines()
                 if ":error]" in l or ":warn]" in l or ":crit]" in l]
        return "\n".join(l[:400] for l in lines[-n:])

    def check_run(self, results, delta, n, users=None):
        calls = [c for burst in results for c in burst]
        bad = [c for c in calls if c[0] != 200]
        self.assertEqual(bad[:5], [], "every call answered 200 (%d of %d did not); "
                         "the nodes' last errors:\n%s" % (len(bad), len(calls),
                                                           self.errors()))
        wrong = [(i, c) for i, burst in enumerate(results) for c in burst
                 if users and c[2] != users[i]]
        self.assertEqual(wrong[:5], [], "every call carried its own user's token")
        self.assertEqual(delta.get("refresh_token_reuse"), 0, "no refresh token was used twice")
        refreshes = delta.get("refresh_requests", 0) - delta.get("abandoned_requests", 0)
        self.assertEqual(refreshes, n, "exactly one refresh per user")


    def service_calls(self, b, path, n):
        """n calls of path, to the two nodes in turn: their statuses, and
        how many client credentials grants the provider saw meanwhile."""
        site = self.site
        before = site.provider.stats()
        codes = [b.request("%s?n=%d" % (path, i), port=site.nodes[i % 2].port)[0]
                 for i in range(n)]
        after = site.provider.stats()
        return codes, (after["client_credentials_requests"]
                       - before.get("client_credentials_requests", 0))

    def check_service_token(self, app="local"):
        """OAuthProxyAPI NAME client_credentials on two nodes sharing
        OAuthCache: one token fetched for both, a refused one replaced once
        for both, and never readable in the cache. A machine renews a
        refused token at most every 30 s: once per app in a class."""
        site = self.site
        site.provider.call("POST", "/_control/expire_tokens")
        b = cluster.Browser(site.nodes[0].port)
        codes, grants = self.service_calls(b, "/svc/%s/x" % app, 20)
        self.assertEqual(codes, [200] * 20, self.errors())
        self.assertEqual(grants, 1, "one client credentials token for the two nodes")
        # the API refuses it: one node renews it (and retries its GET), the
        # other takes the new one when the API refuses it there too
        site.provider.call("POST", "/_control/expire_tokens")
        codes, grants = self.service_calls(b, "/svc/%s/y" % app, 10)
        self.assertEqual(codes, [200] * 10, self.errors())
        self.assertEqual(grants, 1, "a refused token is replaced once for both nodes")
        echo = json.loads(b.request("/svc/%s/z" % app, port=site.nodes[1].port)[2])
        return echo["headers"].get("Authorization", "").split(" ")[-1]

    def local_entry(self):
        """The name and key of app local's service token entry."""
        return service_entry("local", "", "http://127.0.0.1:%d/oauth2/token"
                             % self.site.provider.port, "oauth2-client", "", "",
                             "client_secret_basic", "oauth2-secret", "", "")

    def check_sealed_as_here(self, token, value):
        """The entry the nodes wrote opens with the key made here, and holds
        the token: an entry sealed here is one a node takes (test_7)."""
        self.assertTrue(value, "the nodes put the token in the shared cache")
        self.assertNotIn(token, value, "never in the clear")
        _, key = self.local_entry()
        # "FETCHED_AT TOKEN", the token in its stored form: test_7's shape
        self.assertRegex(codec_open(key, value).decode(),
                         r"^\d+ 3\.%s\." % re.escape(token))


@unittest.skipUnless(os.path.exists(cluster.PG_BIN + "/postgres"),
                     "PostgreSQL 15 is not installed (apt-get install postgresql)")
class PostgresSessionsDbdCache(unittest.TestCase, Checks):
    """Sessions in mod_session_dbd on PostgreSQL, OAuthCache dbd."""

    @classmethod
    def setUpClass(cls):
        cls.pg = cluster.Postgres()
        # local2, local3: test_8's and test_9's service tokens, apart from
        # test_7's (a machine renews a refused one at most every 30 s)
        cls.site = Site("dbd", "pg:" + cls.pg.params(), pg=cls.pg,
                        apps=("local", "local2", "local3"))

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.pg.close()

    def test_1_login_on_one_node_callback_on_the_other(self):
        browsers, nodes = self.site.login_users(20, lifetime=3600, prefix="split")
        crossed = [n for n in nodes if n[0] and n[1] and n[0] != n[1]]
        self.assertGreater(len(crossed), 0, "some logins crossed nodes: %r" % nodes[:4])
        results, _ = self.site.bursts(browsers)
        self.assertEqual({c[0] for b in results for c in b}, {200})
        self.assertEqual({c[1] for b in results for c in b}, {"A", "B"},
                         "the calls were spread over both nodes")

    def test_2_many_users_two_nodes(self):
        browsers, _ = self.site.login_users(USERS)
        results, delta = self.site.bursts(browsers)
        self.check_run(results, delta, USERS, ["u%d" % i for i in range(USERS)])
        self.assertEqual({c[1] for b in results for c in b}, {"A", "B"})

    def test_3_many_users_one_node(self):
        browsers, _ = self.site.login_users(USERS)
        results, delta = self.site.bursts(browsers, port=self.site.nodes[0].port)
        self.check_run(results, delta, USERS, ["u%d" % i for i in range(USERS)])

    def test_4_graceful_restart_mid_run(self):
        browsers, _ = self.site.login_users(USERS)
        done = []

        def during(i):
            if i == USERS // 3 and not done:
                done.append(1)
                self.site.nodes[0].graceful()
        results, delta = self.site.bursts(browsers, during=during)
        self.assertTrue(done)
        self.check_run(results, delta, USERS, ["u%d" % i for i in range(USERS)])

    def test_5_node_killed_holding_the_lock(self):
        site = self.site
        browsers, _ = site.login_users(1)
        b = browsers[0]
        a, other = site.nodes
        # node A's refresh is held at the provider; A dies meanwhile
        site.provider.config(token_endpoint_mode="hold:30")
        import threading
        t = threading.Thread(target=lambda: b.api_burst(1, port=a.port))
        t.start()
        deadline = time.monotonic() + 10
        while site.provider.stats()["refresh_requests"] == 0:
            self.assertLess(time.monotonic(), deadline, "node A never called the provider")
            time.sleep(0.05)
        a.kill()
        t.join()
        site.provider.config(token_endpoint_mode="normal")
        start = time.monotonic()
        out = b.api_burst(PARALLEL, port=other.port)
        waited = time.monotonic() - start
        self.assertEqual([c[0] for c in out], [200] * PARALLEL,
                         "node B's calls succeed: the user is not logged out")
        self.assertLess(waited, 3 + 3, "and waited no longer than about one OAuthHTTPTimeout")
        stats = site.provider.stats()
        self.assertEqual(stats["abandoned_requests"], 1)
        self.assertEqual(stats["refresh_requests"] - stats["abandoned_requests"], 1)
        self.assertEqual(stats["refresh_token_reuse"], 0)
        a.start()

    def test_7_service_token_shared(self):
        token = self.check_service_token()
        self.assertGreater(len(token), 10)
        # sealed: the database holds the token, never in the clear
        rows = self.pg.psql("SELECT value FROM oauthclient_cache WHERE name LIKE 'oacsvc:%'")
        self.assertTrue(rows.strip(), "the token is kept in the database")
        self.assertNotIn(token, rows, "and never in the clear")
        name, _ = self.local_entry()
        self.check_sealed_as_here(token, self.pg.psql(
            "SELECT value FROM oauthclient_cache WHERE name = '%s'" % name).strip())

    def test_8_service_token_after_postgres_restart(self):
        """After PostgreSQL restarts, every connection in the nodes' pools
        is dead, and a query on one would fail. Each is made again before
        the cache's first query on it: the token stays shared (one grant
        for both nodes), the cache is never taken for down."""
        site = self.site
        marks = site.log_marks()
        self.pg.stop()
        self.pg.start()
        self.check_service_token("local2")
        logs = site.logs_since(marks)
        self.assertIn("OAC00140", logs, "a closed connection was found, and made again")
        self.assertNotIn("OAC00106", logs, "the cache was never taken for down")

    def test_9_connection_killed_during_a_fetch(self):
        """A connection the server ends while the node waits on the token
        endpoint (after its lock, before it stores the token): it is made
        again before the store, so the other node takes that token instead
        of fetching its own."""
        site = self.site
        a, other = site.nodes
        marks = site.log_marks()
        site.provider.config(token_endpoint_mode="slow:2")
        out = []
        import threading
        t = threading.Thread(target=lambda: out.append(
            cluster.Browser(a.port).request("/svc/local3/x")[0]))
        before = site.provider.stats().get("client_credentials_requests", 0)
        t.start()
        try:
            deadline = time.monotonic() + 10
            while self.pg.psql("SELECT count(*) FROM oauthclient_cache WHERE value = 'L'"
                               " AND name LIKE 'oacsvl:%' AND expires > extract(epoch"
                               " from now())") == "0":
                self.assertLess(time.monotonic(), deadline, "node A never took the lock")
                time.sleep(0.05)
            # every connection of the nodes, A's in the middle of its request
            self.pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                         " WHERE datname = 'oac' AND pid <> pg_backend_pid()")
        finally:
            t.join()
            site.provider.config(token_endpoint_mode="normal")
        status = cluster.Browser(other.port).request("/svc/local3/y")[0]
        grants = site.provider.stats()["client_credentials_requests"] - before
        logs = site.logs_since(marks)
        self.assertEqual((out, status), ([200], 200), self.errors())
        self.assertIn("OAC00140", a.log_text()[marks[0]:], "node A's store found it ended")
        self.assertEqual(grants, 1, "node B took node A's token")
        self.assertNotIn("OAC00106", logs, "the cache was never taken for down")

    def test_9b_other_modules_statements_and_init_sql(self):
        """A connection made again gets back what mod_dbd gave it when it
        made it: every module's statements (mod_authn_dbd's here, which no
        DBDPrepareSQL line names) and DBDInitSQL, even where a DBDInitSQL
        statement fails. One child with one
        connection, so that the connection the module made again is the
        one mod_authn_dbd is then given."""
        site, pg = self.site, self.pg
        pg.psql("CREATE TABLE IF NOT EXISTS basic_users (name TEXT PRIMARY KEY, pw TEXT)")
        pg.psql("INSERT INTO basic_users VALUES ('alice', '{SHA}%s') ON CONFLICT DO NOTHING"
                % base64.b64encode(hashlib.sha1(b"alice-pw").digest()).decode())
        body = "\n".join([
            cluster.app_conf(site.provider, site.front.port, "dbd", "pg:" + pg.params(),
                             apps=("local",)),
            "DBDMin 1", "DBDKeep 1", "DBDMax 1",
            "DBDInitSQL \"SET application_name TO 'oac-init-ran'\"",
            # one that fails: mod_dbd then ends its post_connect hooks,
            # and the module's, run first, has noted the connection
            "DBDInitSQL \"SELECT no_such_function_here()\"",
            "<Location /basic/>",
            "    AuthType Basic", "    AuthName basic", "    AuthBasicProvider dbd",
            '    AuthDBDUserPWQuery "SELECT pw FROM basic_users WHERE name = %s"',
            "    Require valid-user", "</Location>"])
        node = cluster.Httpd("C", body, cluster.MODULES + ["auth_basic", "authn_dbd"],
                             processes=1)
        os.makedirs(os.path.join(node.root, "basic"))
        with open(os.path.join(node.root, "basic", "ok.txt"), "w") as f:
            f.write("ok\n")
        auth = {"Authorization": "Basic " + base64.b64encode(b"alice:alice-pw").decode()}

        def names():
            return pg.psql("SELECT application_name FROM pg_stat_activity WHERE datname = 'oac'"
                           " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        try:
            node.start()
            browser = cluster.Browser(node.port)
            self.assertEqual(browser.request("/basic/ok.txt", headers=auth)[0], 200)
            self.assertEqual(names(), "oac-init-ran", "mod_dbd ran DBDInitSQL")
            pg.stop()
            pg.start()
            mark = len(node.log_text())
            # the module's first query finds the connection closed and
            # makes it again
            self.assertEqual(browser.request("/svc/local/x")[0], 200)
            log = node.log_text()[mark:]
            self.assertRegex(log, r"OAC00140[^\n]*5 of 5 statements prepared again",
                             "the four DBDPrepareSQL statements and mod_authn_dbd's")
            self.assertEqual(names(), "oac-init-ran", "DBDInitSQL ran on it again")
            self.assertEqual([browser.request("/basic/ok.txt", headers=auth)[0]
                              for _ in range(3)], [200] * 3,
                             "mod_authn_dbd's statement is there: %s"
                             % node.log_text()[mark:][-2000:])
            log = node.log_text()[mark:]
            self.assertRegex(log, "OAC00143[^\n]*statement 2 of 2 failed",
                             "the failing DBDInitSQL is named by number")
            self.assertNotIn("no_such_function", log, "never by its text")
        finally:
            node.close()

    def test_6_postgres_restart(self):
        site = self.site
        browsers, _ = site.login_users(10, lifetime=3600, prefix="pgr")
        ok = [b.api_burst(1)[0][0] for b in browsers]
        self.assertEqual(set(ok), {200})
        self.pg.stop()
        down = [b.api_burst(1)[0][0] for b in browsers]
        self.assertTrue(all(s in (500, 502, 503, 302, 401) for s in down),
                        "clean errors while the database is down: %r" % down)
        self.assertIn(500, down)
        marks = site.log_marks()
        self.pg.start()
        # Every connection left in the nodes' pools is dead; the first
        # request on each makes it again before its query: a login's first
        # request, which only writes a session, as one that reads one.
        for i in range(4):
            cluster.Browser(site.front.port).login("pgr-new%d" % i)
        back = [b.api_burst(1)[0][0] for b in browsers]
        self.assertEqual(back, [200] * len(browsers),
                         "service resumes by itself, at the first request")
        after = site.logs_since(marks)
        # mod_dbd makes the connections that failed while the database was
        # down again itself (OAC00110: the module prepares the statements);
        # those left in the pools, the module (OAC00140)
        self.assertRegex(after, "OAC00110|OAC00140", "a closed connection was made again")
        self.assertNotIn("OAC00109", after, "no request failed once the database was back")
        logs = site.logs()
        self.assertIn("OAC00109", logs, "the log says the database failed")
        self.assertRegex(logs, r"OAC00109[^\n]*database", "naming the database")
        self.assertEqual(self.pg.psql("SELECT count(*) FROM session WHERE value IS NULL"), "0")


class MemcacheCacheCookieSessions(unittest.TestCase, Checks):
    """Sessions in the module's encrypted cookie, OAuthCache memcache."""

    @classmethod
    def setUpClass(cls):
        cls.mc = cluster.Memcached()
        # local3: test_9e's planted entry, before any node fetched its own
        cls.site = Site("memcache:127.0.0.1:%d" % cls.mc.port, "cookie", memcached=cls.mc,
                        apps=("local", "local2", "local3"))

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.mc.close()

    def test_1_many_users_two_nodes(self):
        browsers, _ = self.site.login_users(USERS)
        results, delta = self.site.bursts(browsers)
        self.check_run(results, delta, USERS, ["u%d" % i for i in range(USERS)])
        self.assertEqual({c[1] for b in results for c in b}, {"A", "B"})

    def test_2_many_users_one_node(self):
        browsers, _ = self.site.login_users(USERS)
        results, delta = self.site.bursts(browsers, port=self.site.nodes[1].port)
        self.check_run(results, delta, USERS, ["u%d" % i for i in range(USERS)])

    def test_3_memcached_down(self):
        site = self.site
        browsers, _ = site.login_users(5, prefix="mcdown")
        self.mc.stop()
        try:
            # each node on its own: one refresh per user, all calls answered
            results, delta = site.bursts(browsers, port=site.nodes[0].port)
            self.check_run(results, delta, 5)
            logs = site.logs()
            self.assertRegex(logs, r"OAC00106[^\n]*OAuthCache memcache:127\.0\.0\.1:%d "
                             r"cannot be used" % self.mc.port)
        finally:
            self.mc.start()

    def test_4_memcached_fails_mid_refresh(self):
        """memcached goes away while a refresh claimed there is in flight:
        a parallel request on the same node waits for it on the node's
        table instead of spending the refresh token again."""
        import threading
        site = self.site
        browsers, _ = site.login_users(1, prefix="mid")
        b, a = browsers[0], site.nodes[0]
        site.provider.config(token_endpoint_mode="slow:2")
        before = site.provider.stats()
        first = []
        t = threading.Thread(target=lambda: first.extend(b.api_burst(1, port=a.port)))
        t.start()
        try:
            deadline = time.monotonic() + 10
            while site.provider.stats()["refresh_requests"] == before["refresh_requests"]:
                self.assertLess(time.monotonic(), deadline, "no refresh started")
                time.sleep(0.02)
            self.mc.stop()
            second = b.api_burst(1, port=a.port)
            t.join()
            after = site.provider.stats()
            self.assertEqual([c[0] for c in first + second], [200, 200])
            self.assertEqual(after["refresh_token_reuse"] - before.get("refresh_token_reuse", 0), 0)
            self.assertEqual(after["refresh_requests"] - before["refresh_requests"], 1)
        finally:
            t.join()
            site.provider.config(token_endpoint_mode="normal")
            self.mc.start()

    def test_6_service_token_shared(self):
        token = self.check_service_token()
        name, _ = self.local_entry()
        self.check_sealed_as_here(token, self.mc.get(name))

    def test_7_public_client_token_not_shared(self):
        """An app without a secret or key: everything its entry's name and
        seal key derive from is public, so an entry planted in memcached
        by whoever can write there must not be taken (it would send a
        token of the planter's choosing to the API)."""
        site = self.site
        # sealed as a node seals (test_6 opens a node's entry so)
        name, key = service_entry("pub", "", "http://127.0.0.1:%d/oauth2/token"
                                  % site.provider.port, "public-svc", "read", "",
                                  "none", "", "", "")
        plain = ("%d 3.PLANTEDTOKEN..Bearer...0" % int(time.time())).encode()
        self.assertEqual(self.mc.set(name, codec_seal(key, plain)), b"STORED\r\n")
        # The provider gives a public client no token: 502, and the planted
        # one never went to the API (which would have refused it: 401).
        status, _, body = cluster.Browser(site.nodes[0].port).request("/svc/pub/x")
        self.assertEqual((status, b"no_service_token" in body), (502, True),
                         "the planted entry was taken: %d %r" % (status, body[:200]))

    def test_7b_planted_token_with_a_line_break(self):
        """An entry sealed as a node seals, whose token holds a line break
        (written by whoever has the client's secret, or a node of another
        build): not taken, as a session's token would not be. Sent as it
        was, its second line would be a header of the API request."""
        site = self.site
        name, key = service_entry("local3", "", "http://127.0.0.1:%d/oauth2/token"
                                  % site.provider.port, "oauth2-client", "", "",
                                  "client_secret_basic", "oauth2-secret", "", "")
        plain = ("%d 3.PLANTED*0D*0AX-Injected*3A*20yes..Bearer...0"
                 % int(time.time())).encode()
        self.assertEqual(self.mc.set(name, codec_seal(key, plain)), b"STORED\r\n")
        before = site.provider.stats()
        status, _, body = cluster.Browser(site.nodes[0].port).request("/svc/local3/x")
        after = site.provider.stats()
        self.assertEqual(status, 200, self.errors())
        headers = json.loads(body)["headers"]
        self.assertNotIn("X-Injected", headers)
        self.assertNotIn("PLANTED", headers.get("Authorization", ""))
        self.assertEqual(after["client_credentials_requests"]
                         - before.get("client_credentials_requests", 0), 1,
                         "the node fetched a token of its own")
        # taken, it would have gone to the API first (refused there, then
        # renewed): one call of the API, with the node's token
        self.assertEqual(after["api_requests"] - before.get("api_requests", 0), 1,
                         "the planted token never went to the API")

    def test_8_service_token_of_months(self):
        """A client credentials token that lives longer than 30 days:
        memcached reads such an expiry as a Unix time (one in 1970, gone at
        once), so the token was never shared and each node fetched its
        own. Its entry now lives 30 days."""
        site = self.site
        marks = site.log_marks()
        site.provider.config(access_token_lifetime=31 * 86400)
        try:
            site.provider.call("POST", "/_control/expire_tokens")
            b = cluster.Browser(site.nodes[0].port)
            codes, grants = self.service_calls(b, "/svc/local2/x", 10)
        finally:
            site.provider.config(access_token_lifetime=3600)
        self.assertEqual(codes, [200] * 10, self.errors())
        self.assertEqual(grants, 1, "one token for the two nodes")
        self.assertNotIn("OAC00106", site.logs_since(marks),
                         "the cache was never taken for down")

    def test_9_session_of_an_earlier_version(self):
        """A cookie session written before logins were bound to their
        client and provider (no 'bind' entry) is still a login where every
        virtual host declares the app alike, as on these nodes: an upgrade
        logs nobody out. (t/session/07_bind.t: where apps of the name
        differ, it is not.)"""
        b = cluster.Browser(self.site.front.port)
        b.login("earlier")
        key = session_codec.key_of("cluster-test-passphrase-0123")
        plain = codec_open(key, b.cookie.split("=", 1)[1]).decode()
        self.assertIn("oauthclient.local.bind=", plain, "a login now keeps its binding")
        legacy = re.sub(r"(^|&)oauthclient\.local\.bind=[^&]*", "", plain)
        b.cookie = "oac_session=" + codec_seal(key, legacy.encode())
        results = b.api_burst(2)
        self.assertEqual([(s, u) for s, _, u in results], [(200, "earlier")] * 2,
                         self.errors())

    def test_9b_memcached_trickles(self):
        """A memcached (or something on its port) that answers a byte at a
        time, each within the timeout: the whole answer has the one-second
        deadline, so the node gives up on it and fetches its own service
        token instead of waiting as long as the bytes keep coming."""
        site = self.site

        def trickle(conn, stop):
            answer = b"VALUE x 0 64\r\n" + b"x" * 64 + b"\r\nEND\r\n"
            conn.recv(4096)
            for i in range(len(answer)):
                if stop.is_set():
                    break
                conn.sendall(answer[i:i + 1])
                time.sleep(0.3)
        port, stop = fake_memcached(trickle)
        node = cluster.Httpd("T", cluster.app_conf(
            site.provider, site.front.port, "memcache:127.0.0.1:%d" % port,
            "cookie"), cluster.MODULES)
        try:
            node.start()
            start = time.monotonic()
            status = cluster.Browser(node.port).request("/svc/local/x")[0]
            took = time.monotonic() - start
            log = node.log_text()
        finally:
            stop.set()
            node.close()
        self.assertEqual(status, 200, log[-2000:])
        # a byte every 0.3 s: the answer alone would take 25 s
        self.assertLess(took, 8, "the node did not wait on the trickle")
        self.assertRegex(log, r"OAC00106[^\n]*timeout")

    def test_9bb_memcached_answers_out_of_frame(self):
        """Answers to a get that are not where the stream should be: a value
        not followed by CRLF, a length that is no number, the value of
        another key, flags that are no number, a field too many. None is
        taken (the cache counts as failing, OAC00106), and the node fetches
        its own service token."""
        site = self.site
        answers = [b"VALUE %s 0 3\r\nabcXYEND\r\n",
                   b"VALUE %s 0 +3\r\nabc\r\nEND\r\n",
                   b"VALUE other 0 3\r\nabc\r\nEND\r\n",
                   b"VALUE %s x 3\r\nabc\r\nEND\r\n",
                   b"VALUE %s 0 9 3\r\nabc\r\nEND\r\n"]
        apps = ("local", "local2", "local3", "local4", "local5")
        gets = []

        def serve(conn, stop):
            buf = b""
            while not stop.is_set():
                while b"\r\n" not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                words = line.split()
                if words[:1] == [b"get"]:
                    answer = answers[min(len(gets), len(answers) - 1)]
                    gets.append(words[1])
                    conn.sendall(answer.replace(b"%s", words[1]))
                elif words[:1] in ([b"set"], [b"add"]):
                    need = int(words[4]) + 2
                    while len(buf) < need:
                        buf += conn.recv(4096)
                    buf = buf[need:]
                    conn.sendall(b"STORED\r\n")
                else:
                    conn.sendall(b"DELETED\r\n")
        port, stop = fake_memcached(serve)
        node = cluster.Httpd("F", cluster.app_conf(
            site.provider, site.front.port, "memcache:127.0.0.1:%d" % port,
            "cookie", apps=apps), cluster.MODULES)
        try:
            node.start()
            statuses = []
            for app in apps:
                statuses.append(cluster.Browser(node.port).request("/svc/%s/x" % app)[0])
            log = node.log_text()
        finally:
            stop.set()
            node.close()
        self.assertEqual(statuses, [200] * len(apps), log[-2000:])
        self.assertGreaterEqual(len(gets), len(apps), "each app asked the cache first")
        self.assertEqual(len(re.findall(r"OAC00106[^\n]*unexpected answer", log)), len(apps),
                         "each answer out of frame is refused: " + log[-2000:])

    def test_9c_waiters_keep_one_connection(self):
        """Requests waiting on a parallel refresh ask memcached every 50 ms.
        Each keeps one connection while it waits: one per question left a
        closed connection in TIME_WAIT per question (a slow provider and
        many waiters ran the machine out of ports)."""
        site = self.site
        browsers, _ = site.login_users(1, prefix="hold")
        b, a = browsers[0], site.nodes[0]

        def connections():
            stats = self.mc.command("stats").decode()
            return int(re.search(r"STAT total_connections (\d+)", stats).group(1))
        site.provider.config(token_endpoint_mode="slow:2")
        try:
            before, refreshes = connections(), site.provider.stats()["refresh_requests"]
            results = b.api_burst(4, port=a.port)
            made = connections() - before - 1     # less this one
            refreshes = site.provider.stats()["refresh_requests"] - refreshes
        finally:
            site.provider.config(token_endpoint_mode="normal")
        self.assertEqual([r[0] for r in results], [200] * 4, self.errors())
        self.assertEqual(refreshes, 1, "one refresh, three waiting on it for 2 s")
        self.assertLessEqual(made, 8, "a connection per request, not per question")

    def test_9d_refresh_across_a_graceful_restart(self):
        """One machine, its own table (OAuthCache shm): a refresh in flight
        in a child of the old generation when httpd restarts gracefully
        (logrotate does, daily) is seen by the new generation's children,
        which wait for it. With a table per generation they refreshed the
        same token again, and a provider that detects reuse logged the user
        out."""
        site = self.site
        port = cluster.free_port()
        node = cluster.Httpd("G", cluster.app_conf(site.provider, port, "shm", "cookie"),
                             cluster.MODULES, port=port)
        site.provider.config(access_token_lifetime=61)
        try:
            node.start()
            b = cluster.Browser(port)
            b.login("graceful")
            time.sleep(1.5)             # the token is within 60 s of expiry
            site.provider.config(token_endpoint_mode="slow:2")
            before = site.provider.stats()
            first = []
            t = threading.Thread(target=lambda: first.extend(b.api_burst(1, port=port)))
            t.start()
            deadline = time.monotonic() + 10
            while site.provider.stats()["refresh_requests"] == before["refresh_requests"]:
                self.assertLess(time.monotonic(), deadline, "no refresh started")
                time.sleep(0.02)
            old = set(node.pids()[1:])
            node.graceful()
            # the new generation's children are up, the old one still
            # serving its refresh
            deadline = time.monotonic() + 10
            while not set(node.pids()[1:]) - old:
                self.assertLess(time.monotonic(), deadline, "no new children")
                time.sleep(0.05)
            second = b.api_burst(1, port=port)
            t.join()
            after = site.provider.stats()
        finally:
            site.provider.config(token_endpoint_mode="normal", access_token_lifetime=3600)
            log = node.log_text()
            node.close()
        self.assertEqual([c[0] for c in first + second], [200, 200], log[-2000:])
        self.assertEqual(after["refresh_requests"] - before["refresh_requests"], 1,
                         "the new generation waited for the old one's refresh")
        self.assertEqual(after["refresh_token_reuse"] - before.get("refresh_token_reuse", 0), 0)

    def test_9e_dpop_key_across_a_graceful_restart(self):
        """A DPoP key made at startup (no dpop_key_file) is the key after a
        graceful restart too: the provider bound the users' tokens to it,
        and a new key at every reload (logrotate's, daily) made every
        DPoP-bound token useless, its user logged in again."""
        site = self.site
        port = cluster.free_port()
        conf = (cluster.app_conf(site.provider, port, "shm", "cookie")
                + "\nOAuthRemoteApp local dpop_signing_alg=ES256\n")
        node = cluster.Httpd("K", conf, cluster.MODULES, port=port)
        try:
            node.start()
            b = cluster.Browser(port)
            b.login("dpopkeep")
            first = b.api_burst(1, port=port)
            old = set(node.pids()[1:])
            node.graceful()
            deadline = time.monotonic() + 10
            while set(node.pids()[1:]) & old or not set(node.pids()[1:]):
                self.assertLess(time.monotonic(), deadline, "the old children did not leave")
                time.sleep(0.05)
            second = b.api_burst(2, port=port)
        finally:
            log = node.log_text()
            node.close()
        self.assertEqual([c[0] for c in first + second], [200, 200, 200], log[-2000:])
        self.assertEqual([c[2] for c in second], ["dpopkeep", "dpopkeep"])

    def test_5_memcached_hangs(self):
        """A memcached that stops answering (SIGSTOP: a hung process, a
        network that drops packets) holds no request: each operation has
        a one-second deadline, then the node coordinates on its own."""
        site = self.site
        browsers, _ = site.login_users(5, prefix="hung")
        os.kill(self.mc.proc.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            results, delta = site.bursts(browsers, port=site.nodes[1].port)
            took = time.monotonic() - start
        finally:
            os.kill(self.mc.proc.pid, signal.SIGCONT)
        self.check_run(results, delta, 5)
        self.assertLess(took, 15, "the calls did not wait on the hung memcached")
        self.assertRegex(site.logs(), r"OAC00106[^\n]*cannot be used \([a-z]+ on "
                         r"127\.0\.0\.1:%d: [^)]*timeout" % self.mc.port)


if __name__ == "__main__":
    unittest.main()
