#!/usr/bin/python3
"""Self-test of the oauthlib-based interop server (oauthlib_server.py).

    /usr/bin/python3 t/provider/test_oauthlib_server.py -v

Starts the server on a free port in a subprocess and drives it with urllib.
The PKCE challenge is computed here (RFC 7636 §4.2). OAuth 1 requests are
signed with oauthlib's own client, oauthlib.oauth1.Client.
"""

import base64
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from oauthlib import oauth1

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "oauthlib_server.py")
BANNER = "oauthlib server listening on "

CLIENT_ID, CLIENT_SECRET = "interop-client", "interop-secret"
CONSUMER_KEY, CONSUMER_SECRET = "interop-consumer", "interop-consumer-secret"
RSA_CONSUMER_KEY = "interop-rsa-consumer"
REDIRECT = "http://127.0.0.1:8529/oauth/app/callback"
CALLBACK = "http://localhost:8529/oauth/o1/callback?x=1"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, body=None, headers=None):
    """-> (status, headers, body text). Never follows redirects or raises on 4xx/5xx."""
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body)
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with OPENER.open(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read().decode("utf-8")


def basic(client_id, secret):
    raw = "%s:%s" % (urllib.parse.quote_plus(client_id), urllib.parse.quote_plus(secret))
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


class OauthlibServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.log = os.path.join(cls.tmp.name, "oauthlib_server.log")
        cls.proc = subprocess.Popen(
            [sys.executable, SERVER, "--host", "127.0.0.1", "--port", "0", "--log", cls.log],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = cls.proc.stdout.readline().strip()
        if not line.startswith(BANNER):
            cls.proc.kill()
            raise RuntimeError("server did not start: %r" % line)
        cls.base = line[len(BANNER):]

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            rc = cls.proc.wait(timeout=5)
        finally:
            if cls.proc.poll() is None:
                cls.proc.kill()
            cls.proc.stdout.close()
            cls.tmp.cleanup()
        assert rc == 0, "server exit status %r on SIGTERM" % rc

    def url(self, path):
        return self.base + path

    def stats(self):
        status, _, body = call("GET", self.url("/_control/stats"))
        self.assertEqual(status, 200)
        return json.loads(body)

    # ---- OAuth 2 helpers ------------------------------------------------

    def authorize(self, verifier, user="alice", scope="profile email", redirect=REDIRECT,
                  method="S256", **extra):
        params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect,
                  "scope": scope, "state": "st-" + secrets.token_hex(4)}
        if verifier is not None:
            params["code_challenge"] = s256(verifier) if method == "S256" else verifier
            params["code_challenge_method"] = method
        params.update(extra)
        if user is not None:
            params["user"] = user
        status, headers, body = call("GET", self.url("/authorize?" + urllib.parse.urlencode(params)))
        return status, headers, body, params

    def get_code(self, verifier, **kw):
        status, headers, body, params = self.authorize(verifier, **kw)
        self.assertEqual(status, 302, body)
        location = headers["Location"]
        self.assertTrue(location.startswith(params["redirect_uri"] + "?"), location)
        q = query_of(location)
        self.assertEqual(q["state"], params["state"])
        return q["code"]

    def token(self, form, auth="basic"):
        headers = dict(FORM)
        form = dict(form)
        if auth == "basic":
            headers.update(basic(CLIENT_ID, CLIENT_SECRET))
        elif auth == "post":
            form.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        status, _, body = call("POST", self.url("/token"), form, headers)
        return status, json.loads(body)

    def code_grant(self, code, verifier, redirect=REDIRECT, auth="basic"):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
        if verifier is not None:
            form["code_verifier"] = verifier
        return self.token(form, auth)

    # ---- OAuth 2 tests --------------------------------------------------

    def test_oauth2_code_flow_pkce_s256(self):
        verifier = secrets.token_urlsafe(48)  # 64 characters, RFC 7636 §4.1
        code = self.get_code(verifier)

        # oauthlib compares the verifier with the stored challenge
        status, body = self.code_grant(code, "x" * 43 + secrets.token_urlsafe(8))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        status, body = self.code_grant(code, None)
        self.assertEqual((status, body["error"]), (400, "invalid_request"), body)
        self.assertIn("verifier", body.get("error_description", "").lower())
        # the code is bound to the redirect_uri used at /authorize
        status, body = self.code_grant(code, verifier, redirect=REDIRECT + "/other")
        self.assertEqual((status, body["error"]), (400, "invalid_request"), body)
        # ... and to the client's credentials
        status, _, raw = call("POST", self.url("/token"),
                              {"grant_type": "authorization_code", "code": code,
                               "redirect_uri": REDIRECT, "code_verifier": verifier},
                              dict(FORM, **basic(CLIENT_ID, "wrong-secret")))
        self.assertEqual((status, json.loads(raw)["error"]), (401, "invalid_client"))

        # the rejections above did not use up the code: the right verifier works
        status, tok = self.code_grant(code, verifier)
        self.assertEqual(status, 200, tok)
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["scope"], "profile email")
        self.assertTrue(tok["access_token"] and tok["refresh_token"])
        self.assertEqual(tok["expires_in"], 3600)
        stats = self.stats()
        self.assertEqual(stats["last_token_params"]["code_verifier"], verifier)
        self.assertEqual(stats["last_token_client_auth"], "client_secret_basic")

        # single use
        status, body = self.code_grant(code, verifier)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

        bearer = {"Authorization": "Bearer " + tok["access_token"]}
        status, _, raw = call("GET", self.url("/userinfo"), headers=bearer)
        self.assertEqual(status, 200, raw)
        info = json.loads(raw)
        self.assertEqual(info["login"], "alice")
        self.assertTrue(info["sub"].startswith("u"))
        self.assertEqual(info["email"], "alice@example.org")

        status, _, raw = call("POST", self.url("/api/v1/things?a=1&b=two%20words"),
                              {"k": "v"}, dict(FORM, **bearer))
        self.assertEqual(status, 200, raw)
        echo = json.loads(raw)
        self.assertEqual((echo["user"], echo["method"], echo["path"], echo["query"], echo["auth"]),
                         ("alice", "POST", "/api/v1/things", "a=1&b=two%20words", "oauthlib-bearer"))
        self.assertEqual(echo["body"], "k=v")

        status, headers, _ = call("GET", self.url("/api/x"), headers={"Authorization": "Bearer nope"})
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["WWW-Authenticate"])
        status, headers, _ = call("GET", self.url("/userinfo"))
        self.assertEqual(status, 401)
        self.assertTrue(headers["WWW-Authenticate"].startswith("Bearer"))

    def test_oauth2_refresh_rotation_client_secret_post(self):
        verifier = secrets.token_urlsafe(40)
        code = self.get_code(verifier, user="bob", scope="profile")
        status, tok = self.code_grant(code, verifier, auth="post")
        self.assertEqual(status, 200, tok)
        self.assertEqual(self.stats()["last_token_client_auth"], "client_secret_post")
        before = self.stats()["refresh_requests"]

        status, new = self.token({"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]}, auth="post")
        self.assertEqual(status, 200, new)
        self.assertNotEqual(new["refresh_token"], tok["refresh_token"])
        self.assertNotEqual(new["access_token"], tok["access_token"])
        self.assertEqual(new["scope"], "profile")
        self.assertEqual(self.stats()["refresh_requests"], before + 1)

        # the rotated-out refresh token is dead
        status, body = self.token({"grant_type": "refresh_token",
                                   "refresh_token": tok["refresh_token"]})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        # scope cannot grow on refresh (oauthlib's check)
        status, body = self.token({"grant_type": "refresh_token",
                                   "refresh_token": new["refresh_token"], "scope": "profile email"})
        self.assertEqual((status, body["error"]), (400, "invalid_scope"))

        # that attempt consumed new["refresh_token"]; a fresh flow for the rest
        code = self.get_code(verifier, user="bob", scope="profile")
        status, tok = self.code_grant(code, verifier)
        status, new = self.token({"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]})
        self.assertEqual(status, 200, new)
        status, _, raw = call("GET", self.url("/userinfo"),
                              headers={"Authorization": "Bearer " + new["access_token"]})
        self.assertEqual((status, json.loads(raw)["login"]), (200, "bob"))
        self.assertNotIn("email", json.loads(raw))

        # expired access tokens are refused; refresh still works
        status, _, _ = call("POST", self.url("/_control/expire_tokens"))
        self.assertEqual(status, 200)
        status, _, _ = call("GET", self.url("/userinfo"),
                            headers={"Authorization": "Bearer " + new["access_token"]})
        self.assertEqual(status, 401)
        status, newer = self.token({"grant_type": "refresh_token",
                                    "refresh_token": new["refresh_token"]})
        self.assertEqual(status, 200, newer)
        status, _, _ = call("GET", self.url("/userinfo"),
                            headers={"Authorization": "Bearer " + newer["access_token"]})
        self.assertEqual(status, 200)

    def test_oauth2_authorize_errors(self):
        # PKCE is required for this client: an error redirect, no code
        status, headers, body, params = self.authorize(None)
        self.assertEqual(status, 302, body)
        q = query_of(headers["Location"])
        self.assertEqual((q["error"], q["state"]), ("invalid_request", params["state"]))
        self.assertNotIn("code", q)
        # unknown scope
        status, headers, _, _ = self.authorize("v" * 43, scope="admin")
        self.assertEqual((status, query_of(headers["Location"])["error"]), (302, "invalid_scope"))
        # a redirect_uri that is not loopback: a page, never a redirect
        status, headers, body, _ = self.authorize("v" * 43, redirect="http://evil.example/cb")
        self.assertEqual(status, 400, body)
        self.assertNotIn("Location", headers)
        status, headers, _, _ = self.authorize("v" * 43, client_id="nobody")
        self.assertEqual(status, 400)
        self.assertNotIn("Location", headers)
        # no user=: a page explaining the shortcut
        status, headers, body, _ = self.authorize("v" * 43, user=None)
        self.assertEqual(status, 200)
        self.assertIn("user=NAME", body)
        # default scope
        verifier = secrets.token_urlsafe(40)
        params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                  "code_challenge": s256(verifier), "code_challenge_method": "S256", "user": "carol"}
        status, headers, _ = call("GET", self.url("/authorize?" + urllib.parse.urlencode(params)))
        self.assertEqual(status, 302)
        code = query_of(headers["Location"])["code"]
        status, tok = self.code_grant(code, verifier)
        self.assertEqual((status, tok["scope"]), (200, "profile"))

    # ---- OAuth 1 --------------------------------------------------------

    def oauth1_flow(self, method=oauth1.SIGNATURE_HMAC_SHA1, user="dave"):
        """-> (client kwargs for signing, access token response dict)."""
        if method.startswith("RSA"):
            with open(os.path.join(HERE, "rsa_key.pem")) as f:
                keys = {"client_key": RSA_CONSUMER_KEY, "rsa_key": f.read()}
        else:
            keys = {"client_key": CONSUMER_KEY, "client_secret": CONSUMER_SECRET}
        keys["signature_method"] = method

        client = oauth1.Client(callback_uri=CALLBACK, **keys)
        uri, headers, body = client.sign(self.url("/oauth1/request_token"), http_method="POST")
        status, _, raw = call("POST", uri, body, headers)
        self.assertEqual(status, 200, raw)
        rt = dict(urllib.parse.parse_qsl(raw))
        self.assertEqual(rt["oauth_callback_confirmed"], "true")

        status, headers, raw = call("GET", self.url("/oauth1/authorize?" + urllib.parse.urlencode(
            {"oauth_token": rt["oauth_token"], "user": user})))
        self.assertEqual(status, 302, raw)
        location = headers["Location"]
        self.assertTrue(location.startswith("http://localhost:8529/oauth/o1/callback?"), location)
        q = query_of(location)
        self.assertEqual((q["x"], q["oauth_token"]), ("1", rt["oauth_token"]))

        client = oauth1.Client(resource_owner_key=rt["oauth_token"],
                               resource_owner_secret=rt["oauth_token_secret"],
                               verifier=q["oauth_verifier"], **keys)
        uri, headers, body = client.sign(self.url("/oauth1/access_token"), http_method="POST")
        status, _, raw = call("POST", uri, body, headers)
        self.assertEqual(status, 200, raw)
        at = dict(urllib.parse.parse_qsl(raw))
        self.assertEqual(at["screen_name"], user)
        self.assertTrue(at["user_id"].startswith("u"))
        self.assertTrue(at["oauth_token"] and at["oauth_token_secret"])
        self.assertEqual(at["oauth_authorized_realms"], "profile")

        # the request token is used up (a new nonce, same verifier)
        uri, headers, body = client.sign(self.url("/oauth1/access_token"), http_method="POST")
        status, _, _ = call("POST", uri, body, headers)
        self.assertEqual(status, 401)
        return keys, at

    def signed(self, keys, at, method, path, body=None, **sign_kw):
        client = oauth1.Client(resource_owner_key=at["oauth_token"],
                               resource_owner_secret=at["oauth_token_secret"], **keys, **sign_kw)
        headers = dict(FORM) if body is not None else {}
        return client.sign(self.url(path), http_method=method, body=body, headers=headers)

    def test_oauth1_flow_hmac_sha1(self):
        before = self.stats()["oauth1_access_token_requests"]
        keys, at = self.oauth1_flow(oauth1.SIGNATURE_HMAC_SHA1, user="dave")
        self.assertEqual(self.stats()["oauth1_access_token_requests"], before + 2)

        uri, headers, _ = self.signed(keys, at, "GET", "/oauth1/api/items?a=1&b=two%20words")
        status, _, raw = call("GET", uri, None, headers)
        self.assertEqual(status, 200, raw)
        echo = json.loads(raw)
        self.assertEqual((echo["user"], echo["method"], echo["path"], echo["query"], echo["auth"]),
                         ("dave", "GET", "/oauth1/api/items", "a=1&b=two%20words", "oauthlib-oauth1"))
        # the same signed request again: nonce replay
        status, _, _ = call("GET", uri, None, headers)
        self.assertEqual(status, 401)

        # form body parameters are signed too
        uri, headers, body = self.signed(keys, at, "POST", "/oauth1/api/post", body="k=v&z=1")
        status, _, raw = call("POST", uri, body, headers)
        self.assertEqual((status, json.loads(raw)["body"]), (200, "k=v&z=1"))
        # ... so changing the body breaks the signature
        uri, headers, body = self.signed(keys, at, "POST", "/oauth1/api/post", body="k=v")
        status, _, _ = call("POST", uri, "k=w", headers)
        self.assertEqual(status, 401)

        # a bad signature
        uri, headers, _ = self.signed(keys, at, "GET", "/oauth1/api/items")
        auth = headers["Authorization"]
        start = auth.index('oauth_signature="') + len('oauth_signature="')
        forged = auth[:start] + ("A" if auth[start] != "A" else "B") + auth[start + 1:]
        status, _, _ = call("GET", uri, None, {"Authorization": forged})
        self.assertEqual(status, 401)
        # a wrong token secret
        bad = dict(at, oauth_token_secret="wrong-secret")
        uri, headers, _ = self.signed(keys, bad, "GET", "/oauth1/api/items")
        self.assertEqual(call("GET", uri, None, headers)[0], 401)
        # signed for another path
        uri, headers, _ = self.signed(keys, at, "GET", "/oauth1/api/other")
        self.assertEqual(call("GET", self.url("/oauth1/api/items"), None, headers)[0], 401)

        # signature in the query instead of the header
        uri, headers, _ = self.signed(keys, at, "GET", "/oauth1/userinfo",
                                      signature_type=oauth1.SIGNATURE_TYPE_QUERY)
        status, _, raw = call("GET", uri, None, headers)
        self.assertEqual((status, json.loads(raw)["login"]), (200, "dave"))

    def test_oauth1_flow_hmac_sha256_and_plaintext(self):
        for method in (oauth1.SIGNATURE_HMAC_SHA256, oauth1.SIGNATURE_PLAINTEXT):
            with self.subTest(method=method):
                keys, at = self.oauth1_flow(method, user="erin")
                uri, headers, _ = self.signed(keys, at, "DELETE", "/oauth1/api/thing/7")
                status, _, raw = call("DELETE", uri, None, headers)
                self.assertEqual(status, 200, raw)
                echo = json.loads(raw)
                self.assertEqual((echo["user"], echo["method"], echo["signature_method"]),
                                 ("erin", "DELETE", method))

    def test_oauth1_flow_rsa_sha1(self):
        keys, at = self.oauth1_flow(oauth1.SIGNATURE_RSA_SHA1, user="frank")
        uri, headers, _ = self.signed(keys, at, "GET", "/oauth1/api/rsa")
        status, _, raw = call("GET", uri, None, headers)
        self.assertEqual((status, json.loads(raw)["user"]), (200, "frank"))

    def test_oauth1_rejections(self):
        def request_token(**kw):
            args = {"client_key": CONSUMER_KEY, "client_secret": CONSUMER_SECRET,
                    "callback_uri": CALLBACK}
            args.update(kw)
            uri, headers, body = oauth1.Client(**args).sign(self.url("/oauth1/request_token"),
                                                            http_method="POST")
            return call("POST", uri, body, headers)

        self.assertEqual(request_token(client_secret="wrong")[0], 401)
        self.assertEqual(request_token(client_key="unknown-consumer")[0], 401)
        # the HMAC consumer may not use RSA, the RSA consumer not HMAC
        self.assertEqual(request_token(client_key=RSA_CONSUMER_KEY, client_secret="")[0], 401)
        # callbacks must be loopback (or oob)
        self.assertEqual(request_token(callback_uri="http://evil.example/cb")[0], 401)
        self.assertEqual(request_token(callback_uri="oob")[0], 200)
        # oauthlib's own format checks: 400 with its error text
        status, _, raw = request_token(timestamp=str(int(time.time()) - 3600))
        self.assertEqual(status, 400)
        self.assertIn("Timestamp", urllib.parse.unquote_plus(raw))
        status, _, raw = request_token(nonce="short")
        self.assertEqual(status, 400)
        self.assertIn("nonce", urllib.parse.unquote_plus(raw))
        # a realm outside "profile email"
        status, _, raw = request_token(realm="photos")
        self.assertEqual(status, 400, raw)
        self.assertEqual(request_token(realm="email")[0], 200)
        # unknown request token at the authorize step
        status, _, _ = call("GET", self.url("/oauth1/authorize?oauth_token=" + "z" * 30 + "&user=x"))
        self.assertGreaterEqual(status, 400)
        # no credentials at all
        self.assertEqual(call("GET", self.url("/oauth1/api/x"))[0], 401)

    def test_control_reset(self):
        verifier = secrets.token_urlsafe(40)
        code = self.get_code(verifier)
        status, tok = self.code_grant(code, verifier)
        self.assertEqual(status, 200)
        stats = self.stats()
        for key in ("token_requests", "refresh_requests", "oauth1_access_token_requests",
                    "api_requests", "last_token_params"):
            self.assertIn(key, stats)
        # reset is global; run it with the other tests' tokens out of the way
        status, _, _ = call("POST", self.url("/_control/reset"))
        self.assertEqual(status, 200)
        status, _, _ = call("GET", self.url("/userinfo"),
                            headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(status, 401)
        self.assertEqual(self.stats()["token_requests"], 0)


if __name__ == "__main__":
    unittest.main()
