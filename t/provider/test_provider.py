#!/usr/bin/python3
"""Self-test of the test OAuth provider (provider.py).

    /usr/bin/python3 t/provider/test_provider.py -v

Starts the provider on a free port in a subprocess and drives it with urllib.
The OAuth 1 signer below is written independently of provider.py so that the
two implementations check each other; the RFC 5849 and RFC 7636 examples pin
both to the specifications.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER = os.path.join(HERE, "provider.py")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import provider  # noqa: E402  (pure functions only; importing starts nothing)

CB2 = "http://client.example/oauth/app/callback"
CB1 = "http://client.example/oauth/o1/callback?x=1"
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def start_provider(extra_args=(), tmpdir=None):
    """-> (Popen, base URL).  --port 0: the provider prints the port it got."""
    proc = subprocess.Popen([sys.executable, PROVIDER, "--host", "127.0.0.1", "--port", "0",
                             *extra_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("provider listening on "):
        proc.kill()
        raise RuntimeError("provider did not start: %r %s" % (line, proc.stderr.read()))
    return proc, line[len("provider listening on "):]


def stop_provider(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


PROC = BASE = None
TMP = tempfile.mkdtemp(prefix="provider-test-")
LOG = os.path.join(TMP, "provider.log")


def setUpModule():
    global PROC, BASE
    PROC, BASE = start_provider(["--log", LOG])


def tearDownModule():
    try:
        if PROC:
            assert stop_provider(PROC) == 0, "provider did not exit cleanly on SIGTERM"
            with open(LOG) as f:
                log = f.read()
            # handler exceptions are logged as "ERROR ..." with a traceback
            assert "ERROR" not in log and "Traceback" not in log, log
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


# ---------------------------------------------------------------- HTTP helpers

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # hand the 302 back to the test


# ProxyHandler({}): never send localhost traffic through an environment proxy
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def form(self):
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def location_params(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.headers["Location"]).query))

    def __repr__(self):
        return "<Resp %s %r>" % (self.status, self.body[:300])


def call(method, path, form=None, body=None, headers=None, base=None, context=None):
    headers = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    url = path if path.startswith("http") else (base or BASE) + path
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    opener = OPENER if context is None else urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(req, timeout=10) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def control(what, obj=None, method=None):
    body = json.dumps(obj).encode() if obj is not None else None
    r = call(method or ("POST" if obj is not None else "GET"), "/_control/" + what, body=body,
             headers={"Content-Type": "application/json"} if body else None)
    assert r.status == 200, r
    return r.json()


def basic(client_id, secret):
    # RFC 6749 §2.3.1: form-urlencode id and secret, then base64
    raw = "%s:%s" % (urllib.parse.quote_plus(client_id), urllib.parse.quote_plus(secret))
    return "Basic " + base64.b64encode(raw.encode()).decode()


# ---------------------------------------------------------------- OAuth 1 client signer

def enc(s):
    return urllib.parse.quote(str(s), safe="-._~")


def rsa_sign(base_string):
    out = subprocess.run(["openssl", "dgst", "-sha1", "-sign", os.path.join(HERE, "rsa_key.pem")],
                         input=base_string.encode(), capture_output=True, check=True).stdout
    return base64.b64encode(out).decode()


def o1_oauth_params(method, url, consumer_key, consumer_secret, token=None, token_secret="",
                    extra=None, body_params=(), sig_method="HMAC-SHA1", timestamp=None):
    """The oauth_* parameters, oauth_signature included, for a request."""
    oauth = {"oauth_consumer_key": consumer_key, "oauth_signature_method": sig_method,
             "oauth_timestamp": str(int(timestamp if timestamp is not None else time.time())),
             "oauth_nonce": secrets.token_hex(8), "oauth_version": "1.0"}
    if token:
        oauth["oauth_token"] = token
    oauth.update(extra or {})
    parts = urllib.parse.urlsplit(url)
    params = list(oauth.items()) + urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    params += list(body_params)
    norm = "&".join("%s=%s" % p for p in sorted((enc(k), enc(v)) for k, v in params))
    base = "&".join([method.upper(), enc("%s://%s%s" % (parts.scheme, parts.netloc.lower(), parts.path)),
                     enc(norm)])
    key = enc(consumer_secret) + "&" + enc(token_secret)
    if sig_method == "PLAINTEXT":
        sig = key
    elif sig_method == "RSA-SHA1":
        sig = rsa_sign(base)
    else:
        digest = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[sig_method]
        sig = base64.b64encode(hmac.new(key.encode(), base.encode(), digest).digest()).decode()
    oauth["oauth_signature"] = sig
    return oauth


def o1_header(oauth):
    return "OAuth realm=\"test\", " + ", ".join('%s="%s"' % (enc(k), enc(v)) for k, v in oauth.items())


def o1_call(method, path, consumer=("oauth1-client", "oauth1-secret"), token=None, token_secret="",
            form=None, query_placement=False, base=None, context=None, **kw):
    url = (base or BASE) + path
    oauth = o1_oauth_params(method, url, consumer[0], consumer[1], token, token_secret,
                            body_params=list((form or {}).items()), **kw)
    if query_placement:
        sep = "&" if "?" in path else "?"
        return call(method, path + sep + urllib.parse.urlencode(oauth), form=form, base=base,
                    context=context)
    return call(method, path, form=form if form is not None else ({} if method == "POST" else None),
                headers={"Authorization": o1_header(oauth)}, base=base, context=context)


# ---------------------------------------------------------------- tests

class ProviderTest(unittest.TestCase):
    def setUp(self):
        control("reset", {})


class PureFunctions(unittest.TestCase):
    def test_rfc7636_appendix_b_s256(self):
        self.assertEqual(provider.pkce_s256(RFC7636_VERIFIER), RFC7636_CHALLENGE)

    def test_rfc5849_base_string_example(self):
        # RFC 5849 §3.4.1.1 (and §3.4.1.3.1): the example request
        auth = ('OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", '
                'oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", '
                'oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
                'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"')
        pairs = provider.oauth1_request_parameters(auth, "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
                                                   "application/x-www-form-urlencoded", b"c2&a3=2+q")
        pairs = [(n, v) for n, v in pairs if n != "oauth_signature"]
        uri = provider.base_string_uri("http", "example.com", "/request")
        base = provider.signature_base_string("POST", uri, pairs)
        self.assertEqual(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
            "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
            "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
            "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
            "9d7dh3k39sjv7")
        # RFC 5849 errata: the printed bYT5... is wrong; this is the real HMAC-SHA1
        self.assertEqual(provider.hmac_signature("HMAC-SHA1", base, "j49sk3j29djd", "dh893hdasih9"),
                         "r6/TJjbCOr97/+UU0NsvSne7s5g=")

    def test_base_string_uri_examples(self):
        # RFC 5849 §3.4.1.2
        self.assertEqual(provider.base_string_uri("HTTP", "EXAMPLE.COM:80", "/r%20v/X"),
                         "http://example.com/r%20v/X")
        self.assertEqual(provider.base_string_uri("https", "www.example.net:8080", "/"),
                         "https://www.example.net:8080/")
        self.assertEqual(provider.base_string_uri("https", "h:443", "/p"), "https://h/p")
        self.assertEqual(provider.base_string_uri("http", "[::1]:8080", "/p"), "http://[::1]:8080/p")

    def test_rsa_verify_matches_openssl(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl CLI not available")
        with open(os.path.join(HERE, "rsa_pub.pem")) as f:
            key = provider.load_rsa_public_key(f.read())
        sig = rsa_sign("hello")
        self.assertTrue(provider.rsa_sha1_verify(key, b"hello", sig))
        self.assertFalse(provider.rsa_sha1_verify(key, b"hellO", sig))
        self.assertFalse(provider.rsa_sha1_verify(key, b"hello", "AAAA"))

    def test_redact(self):
        line = provider.redact('"GET /cb?code=abc&state=s&access_token=t1" 302')
        self.assertNotIn("abc", line)
        self.assertNotIn("t1", line)
        self.assertIn("state=s", line)


class OAuth2(ProviderTest):
    def authorize(self, client_id="oauth2-client", challenge=RFC7636_CHALLENGE, method="S256",
                  user="alice", redirect_uri=CB2, **extra):
        q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": "profile email", "state": "st-1"}
        if challenge:
            q.update(code_challenge=challenge, code_challenge_method=method)
        if user:
            q["auto_approve"] = user
        q.update(extra)
        return call("GET", "/oauth2/authorize?" + urllib.parse.urlencode(q))

    def code(self, **kw):
        r = self.authorize(**kw)
        self.assertEqual(r.status, 302, r)
        params = r.location_params
        self.assertEqual(params["state"], "st-1")
        return params["code"]

    def token(self, form, auth="basic", client=("oauth2-client", "oauth2-secret")):
        headers = {}
        form = dict(form)
        if auth == "basic":
            headers["Authorization"] = basic(*client)
        elif auth == "post":
            form.update(client_id=client[0], client_secret=client[1])
        else:
            form["client_id"] = client[0]
        return call("POST", "/oauth2/token", form=form, headers=headers)

    def exchange(self, code, verifier=RFC7636_VERIFIER, **kw):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB2}
        if verifier:
            form["code_verifier"] = verifier
        return self.token(form, **kw)

    def test_code_flow_pkce_s256_basic(self):
        code = self.code()
        r = self.exchange(code)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        tok = r.json()
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["expires_in"], 3600)
        self.assertEqual(tok["scope"], "profile email")
        self.assertTrue(tok["access_token"] and tok["refresh_token"])
        stats = control("stats")
        self.assertEqual(stats["token_requests"], 1)
        self.assertEqual(stats["authorization_code_requests"], 1)
        last = stats["last_token_request"]
        self.assertEqual(last["auth_method"], "client_secret_basic")
        self.assertEqual(last["params"]["code_verifier"], RFC7636_VERIFIER)
        self.assertIn("Authorization", last["headers"])
        u = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(u.status, 200, u)
        self.assertEqual(u.json(), {"sub": "1001", "login": "alice", "name": "Alice Liddell",
                                    "email": "alice@example.org",
                                    "address": {"country": "FR", "locality": "Paris"}})

    def test_basic_credentials_are_form_urldecoded(self):
        code = self.code()
        raw = "oauth2%2Dclient:oauth2%2Dsecret"   # %-encoded form of the same credentials
        r = call("POST", "/oauth2/token", headers={"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()},
                 form={"grant_type": "authorization_code", "code": code, "redirect_uri": CB2,
                       "code_verifier": RFC7636_VERIFIER})
        self.assertEqual(r.status, 200, r)

    def test_client_secret_post_recorded(self):
        r = self.exchange(self.code(), auth="post")
        self.assertEqual(r.status, 200, r)
        last = control("stats")["last_token_request"]
        self.assertEqual(last["auth_method"], "client_secret_post")
        self.assertEqual(last["params"]["client_secret"], "oauth2-secret")

    def test_bad_secret(self):
        r = self.exchange(self.code(), client=("oauth2-client", "nope"))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["error"], "invalid_client")
        self.assertIn("Basic", r.headers["WWW-Authenticate"])
        r = self.exchange(self.code(), auth="post", client=("oauth2-client", "nope"))
        self.assertEqual((r.status, r.json()["error"]), (401, "invalid_client"))
        r = self.exchange(self.code(), auth="none")  # confidential client without secret
        self.assertEqual((r.status, r.json()["error"]), (401, "invalid_client"))

    def test_wrong_or_missing_verifier(self):
        r = self.exchange(self.code(), verifier="x" * 43)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        r = self.exchange(self.code(), verifier=None)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))

    def test_plain_pkce_and_no_pkce(self):
        v = "a" * 50
        self.assertEqual(self.exchange(self.code(challenge=v, method="plain"), verifier=v).status, 200)
        self.assertEqual(self.exchange(self.code(challenge=None), verifier=None).status, 200)
        # a verifier for a code issued without a challenge is an error too
        r = self.exchange(self.code(challenge=None), verifier=v)
        self.assertEqual(r.json()["error"], "invalid_grant")

    def test_code_reuse_rejected_and_tokens_revoked(self):
        code = self.code()
        tok = self.exchange(code).json()
        r = self.exchange(code)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        u = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(u.status, 401)

    def test_code_bound_to_redirect_uri_and_client(self):
        code = self.code()
        r = self.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CB2 + "x",
                        "code_verifier": RFC7636_VERIFIER})
        self.assertEqual(r.json()["error"], "invalid_grant")
        code = self.code()
        r = self.exchange(code, auth="none", client=("public-client", ""))
        self.assertEqual(r.json()["error"], "invalid_grant")

    def test_code_expiry(self):
        control("config", {"code_lifetime": -1})
        r = self.exchange(self.code())
        self.assertEqual(r.json()["error"], "invalid_grant")

    def test_public_client(self):
        r = self.authorize(client_id="public-client", challenge=None)
        self.assertEqual(r.status, 302)
        self.assertEqual(r.location_params["error"], "invalid_request")
        code = self.code(client_id="public-client")
        r = self.exchange(code, auth="none", client=("public-client", ""))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(control("stats")["last_token_request"]["auth_method"], "none")

    def test_authorize_errors(self):
        r = self.authorize(client_id="nobody")
        self.assertEqual(r.status, 400)
        self.assertNotIn("Location", r.headers)
        r = call("GET", "/oauth2/authorize?response_type=code&client_id=oauth2-client&auto_approve=alice")
        self.assertEqual(r.status, 400)
        r = self.authorize(response_type="token")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.location_params["error"], "unsupported_response_type")
        self.assertEqual(r.location_params["state"], "st-1")
        r = self.authorize(method="S512")
        self.assertEqual(r.location_params["error"], "invalid_request")

    def test_redirect_uri_query_is_kept(self):
        r = self.authorize(redirect_uri="http://client.example/cb?keep=1")
        params = r.location_params
        self.assertEqual(params["keep"], "1")
        self.assertIn("code", params)

    def test_login_page_and_form(self):
        r = self.authorize(user=None)
        self.assertEqual(r.status, 200)
        page = r.body.decode()
        for ident in ('id="username"', 'id="password"', 'id="allow"', 'id="deny"',
                      'name="decision" value="allow"', 'value="deny"'):
            self.assertIn(ident, page)
        hidden = {"response_type": "code", "client_id": "oauth2-client", "redirect_uri": CB2,
                  "state": "st-1", "scope": "profile", "code_challenge": RFC7636_CHALLENGE,
                  "code_challenge_method": "S256"}
        r = call("POST", "/oauth2/authorize", form={**hidden, "username": "alice", "password": "bad",
                                                     "decision": "allow"})
        self.assertEqual(r.status, 200)
        self.assertIn('id="error"', r.body.decode())
        r = call("POST", "/oauth2/authorize", form={**hidden, "username": "bob", "password": "builder",
                                                     "decision": "allow"})
        self.assertEqual(r.status, 302, r)
        tok = self.exchange(r.location_params["code"]).json()
        u = call("GET", "/oauth2/userinfo?access_token=" + tok["access_token"])
        self.assertEqual(u.json()["login"], "bob")

    def test_deny(self):
        r = call("POST", "/oauth2/authorize", form={"response_type": "code", "client_id": "oauth2-client",
                                                     "redirect_uri": CB2, "state": "st-9", "decision": "deny"})
        self.assertEqual(r.status, 302)
        p = r.location_params
        self.assertEqual((p["error"], p["state"]), ("access_denied", "st-9"))
        self.assertIn("error_description", p)
        r = self.authorize(user=None, auto_deny="1")
        self.assertEqual(r.location_params["error"], "access_denied")

    def test_form_post(self):
        r = self.authorize(response_mode="form_post")
        self.assertEqual(r.status, 200)
        page = r.body.decode()
        self.assertIn('<form method="post" action="%s">' % CB2, page)
        self.assertIn('name="state" value="st-1"', page)
        self.assertIn('name="code" value="', page)
        self.assertIn("submit()", page)

    def test_refresh_rotation(self):
        control("config", {"revoke_grant_on_reuse": False})
        tok = self.exchange(self.code()).json()
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        new = r.json()
        self.assertNotEqual(new["refresh_token"], tok["refresh_token"])
        self.assertNotEqual(new["access_token"], tok["access_token"])
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        r = self.token({"grant_type": "refresh_token", "refresh_token": new["refresh_token"],
                        "scope": "email"}, auth="post")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["scope"], "email")
        r = self.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
                        "scope": "admin"})
        self.assertEqual(r.json()["error"], "invalid_scope")
        self.assertEqual(control("stats")["refresh_requests"], 4)

    def test_refresh_reuse_revokes_the_grant(self):
        tok = self.exchange(self.code()).json()
        new = self.token({"grant_type": "refresh_token",
                          "refresh_token": tok["refresh_token"]}).json()
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        self.assertEqual(control("stats")["refresh_token_reuse"], 1)
        # every token of the grant is gone, the newest included
        r = self.token({"grant_type": "refresh_token", "refresh_token": new["refresh_token"]})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        r = call("GET", "/oauth2/userinfo",
                 headers={"Authorization": "Bearer " + new["access_token"]})
        self.assertEqual(r.status, 401)

    def test_refresh_without_rotation(self):
        control("config", {"rotate_refresh_tokens": False})
        tok = self.exchange(self.code()).json()
        for _ in range(2):
            r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
            self.assertEqual(r.status, 200, r)
            self.assertNotIn("refresh_token", r.json())

    def test_userinfo_placements_and_expiry(self):
        at = self.exchange(self.code()).json()["access_token"]
        self.assertEqual(call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + at}).status, 200)
        self.assertEqual(call("GET", "/oauth2/userinfo?access_token=" + at).status, 200)
        self.assertEqual(call("POST", "/oauth2/userinfo", form={"access_token": at}).status, 200)
        r = call("GET", "/oauth2/userinfo")
        self.assertEqual(r.status, 401)
        self.assertIn('error="invalid_token"', r.headers["WWW-Authenticate"])
        r = call("GET", "/oauth2/userinfo?access_token=" + at, headers={"Authorization": "Bearer " + at})
        self.assertEqual(r.status, 400)  # two placements at once (RFC 6750 §2)
        self.assertEqual(control("expire_tokens", {})["expired"], 1)
        r = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + at})
        self.assertEqual(r.status, 401)
        self.assertIn("invalid_token", r.headers["WWW-Authenticate"])

    def test_api_echo(self):
        at = control("issue_token?user=bob&lifetime=100")["access_token"]
        r = call("PUT", "/api/things/1?a=1&a=2&b=x%20y", body=b'{"k": 1}',
                 headers={"Authorization": "Bearer " + at, "Content-Type": "application/json",
                          "X-Custom": "yes"})
        self.assertEqual(r.status, 200, r)
        echo = r.json()
        self.assertEqual(echo["user"], "bob")
        self.assertEqual(echo["method"], "PUT")
        self.assertEqual(echo["path"], "/api/things/1")
        self.assertEqual(echo["query"], {"a": ["1", "2"], "b": "x y"})
        self.assertEqual(echo["headers"]["X-Custom"], "yes")
        self.assertEqual(echo["body"], '{"k": 1}')
        self.assertEqual(echo["auth"], "bearer-header")
        self.assertEqual(control("stats")["last_api_request"], echo)
        r = call("POST", "/api/x", form={"access_token": at, "v": "1"})
        self.assertEqual(r.json()["auth"], "bearer-body")
        r = call("GET", "/api/x?access_token=" + at)
        self.assertEqual(r.json()["auth"], "bearer-query")
        r = call("GET", "/api/x")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertEqual(r.json()["error"], "invalid_token")

    def test_api_token_param_mode(self):
        at = control("issue_token?user=bob&lifetime=100")["access_token"]
        control("config", {"api_token_param": "oauth2_access_token"})
        r = call("GET", "/api/x?oauth2_access_token=" + at)
        self.assertEqual((r.status, r.json()["auth"]), (200, "linkedin-query"))
        r = call("GET", "/api/x", headers={"Authorization": "Bearer " + at})
        self.assertEqual(r.status, 400)
        self.assertIn("only as the query parameter oauth2_access_token",
                      r.json()["error_description"])
        r = call("GET", "/api/x?access_token=" + at)
        self.assertEqual(r.status, 400)
        # userinfo is not the API: it still takes the header
        r = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + at})
        self.assertEqual(r.status, 200)
        r = call("POST", "/_control/config", body=json.dumps({"api_token_param": "token"}).encode(),
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)

    def test_issue_token_lifetime_and_config(self):
        tok = control("issue_token?user=alice&client_id=public-client&lifetime=7")
        self.assertEqual(tok["expires_in"], 7)
        control("config", {"access_token_lifetime": 5})
        self.assertEqual(self.exchange(self.code()).json()["expires_in"], 5)
        r = call("POST", "/_control/config", body=b'{"no_such_key": 1}')
        self.assertEqual(r.status, 400)
        r = call("POST", "/_control/config", body=b'{"token_endpoint_mode": "bogus"}')
        self.assertEqual(r.status, 400)
        control("reset", {})
        self.assertEqual(control("config")["access_token_lifetime"], 3600)

    def test_token_endpoint_modes(self):
        code_form = lambda: {"grant_type": "authorization_code", "code": self.code(),
                             "redirect_uri": CB2, "code_verifier": RFC7636_VERIFIER}
        control("config", {"token_endpoint_mode": "error500"})
        self.assertEqual(self.token(code_form()).status, 500)
        control("config", {"token_endpoint_mode": "not_json"})
        r = self.token(code_form())
        self.assertEqual(r.status, 200)
        self.assertRaises(ValueError, r.json)
        control("config", {"token_endpoint_mode": "no_access_token"})
        r = self.token(code_form())
        self.assertNotIn("access_token", r.json())
        self.assertIn("refresh_token", r.json())
        control("config", {"token_endpoint_mode": "form_encoded"})
        r = self.token(code_form())
        self.assertEqual(r.headers["Content-Type"], "application/x-www-form-urlencoded")
        self.assertIn("access_token", r.form())
        control("config", {"token_endpoint_mode": "slow:0.2"})
        t0 = time.monotonic()
        self.assertEqual(self.token(code_form()).status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        control("config", {"token_endpoint_mode": "timeout", "timeout_seconds": 0.3})
        with self.assertRaises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            self.token(code_form())
        control("config", {"token_endpoint_mode": "normal", "endpoint_modes": {"/oauth2/userinfo": "error500"},
                           "token_response_quirks": ["token_type_lowercase", "scope_comma", "user_fields"]})
        r = self.token(code_form())
        tok = r.json()
        self.assertEqual((tok["token_type"], tok["scope"], tok["login"]), ("bearer", "profile,email", "alice"))
        self.assertEqual(call("GET", "/oauth2/userinfo").status, 500)
        self.assertEqual(control("stats")["token_requests"], 7)

    def test_keep_alive_and_content_length(self):
        host, port = urllib.parse.urlsplit(BASE).netloc.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            for path in ("/_control/stats", "/oauth2/userinfo", "/nowhere",
                         "/oauth2/authorize?response_type=code&client_id=oauth2-client&redirect_uri=" + CB2 +
                         "&auto_approve=alice"):
                conn.request("GET", path)
                r = conn.getresponse()
                self.assertIsNotNone(r.getheader("Content-Length"), path)
                r.read()
                self.assertFalse(r.will_close, path)
            sock = conn.sock
            conn.request("POST", "/oauth2/token", body="grant_type=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            self.assertIs(conn.sock, sock)  # same connection
            self.assertEqual(r.status, 401)
        finally:
            conn.close()


class OAuth1(ProviderTest):
    def request_token(self, consumer=("oauth1-client", "oauth1-secret"), callback=CB1, **kw):
        return o1_call("POST", "/oauth1/request_token", consumer=consumer,
                       extra={"oauth_callback": callback}, **kw)

    def authorized(self, consumer=("oauth1-client", "oauth1-secret"), **kw):
        rt = self.request_token(consumer, **kw)
        self.assertEqual(rt.status, 200, rt)
        rt = rt.form()
        r = call("GET", "/oauth1/authorize?auto_approve=alice&oauth_token=" + urllib.parse.quote(rt["oauth_token"]))
        self.assertEqual(r.status, 302, r)
        loc = r.headers["Location"]
        self.assertTrue(loc.startswith(CB1 + "&"), loc)
        p = r.location_params
        self.assertEqual(p["oauth_token"], rt["oauth_token"])
        return rt, p["oauth_verifier"]

    def access(self, consumer=("oauth1-client", "oauth1-secret"), **kw):
        rt, verifier = self.authorized(consumer, **kw)
        r = o1_call("POST", "/oauth1/access_token", consumer=consumer, token=rt["oauth_token"],
                    token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": verifier}, **kw)
        self.assertEqual(r.status, 200, r)
        return r.form()

    def test_full_flow_hmac_sha1(self):
        rt = self.request_token()
        self.assertEqual(rt.status, 200, rt)
        self.assertEqual(rt.form()["oauth_callback_confirmed"], "true")
        at = self.access()
        self.assertEqual((at["user_id"], at["screen_name"]), ("1001", "alice"))
        r = o1_call("GET", "/api/statuses?count=2&q=a%20b", token=at["oauth_token"],
                    token_secret=at["oauth_token_secret"])
        self.assertEqual(r.status, 200, r)
        echo = r.json()
        self.assertEqual((echo["user"], echo["auth"], echo["query"]), ("alice", "oauth1", {"count": "2", "q": "a b"}))
        r = o1_call("POST", "/api/update", token=at["oauth_token"], token_secret=at["oauth_token_secret"],
                    form={"status": "Hello Ladies + Gentlemen, a signed OAuth request!"})
        self.assertEqual(r.status, 200, r)
        r = o1_call("GET", "/api/q", token=at["oauth_token"], token_secret=at["oauth_token_secret"],
                    query_placement=True)
        self.assertEqual(r.status, 200, r)
        r = o1_call("GET", "/oauth1/userinfo", token=at["oauth_token"], token_secret=at["oauth_token_secret"])
        self.assertEqual(r.json()["login"], "alice")
        stats = control("stats")
        self.assertEqual((stats["request_token_requests"], stats["access_token_requests"]), (2, 1))
        self.assertEqual(stats["last_oauth1_request"]["endpoint"], "access_token")

    def test_other_signature_methods(self):
        for method in ("HMAC-SHA256", "PLAINTEXT"):
            at = self.access(sig_method=method)
            r = o1_call("GET", "/api/x", token=at["oauth_token"], token_secret=at["oauth_token_secret"],
                        sig_method=method)
            self.assertEqual(r.status, 200, (method, r))

    def test_rsa_sha1(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl CLI not available")
        rsa = ("oauth1-rsa-client", "")
        at = self.access(rsa, sig_method="RSA-SHA1")
        r = o1_call("GET", "/api/x", consumer=rsa, token=at["oauth_token"], sig_method="RSA-SHA1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["client_id"], "oauth1-rsa-client")
        r = self.request_token(rsa, sig_method="HMAC-SHA1")
        self.assertEqual((r.status, r.form()["oauth_problem"]), (400, "signature_method_rejected"))

    def test_bad_signature(self):
        r = self.request_token(("oauth1-client", "wrong-secret"))
        self.assertEqual(r.status, 401)
        form = r.form()
        self.assertEqual(form["oauth_problem"], "signature_invalid")
        self.assertTrue(form["debug_base_string"].startswith("POST&http%3A%2F%2F127.0.0.1%3A"))
        at = self.access()
        r = o1_call("GET", "/api/x", token=at["oauth_token"], token_secret="wrong")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["oauth_problem"], "signature_invalid")
        r = self.request_token(("nobody", "x"))
        self.assertEqual((r.status, r.form()["oauth_problem"]), (401, "consumer_key_unknown"))

    def test_nonce_and_timestamp(self):
        at = self.access()
        oauth = o1_oauth_params("GET", BASE + "/api/x", "oauth1-client", "oauth1-secret",
                                at["oauth_token"], at["oauth_token_secret"])
        h = {"Authorization": o1_header(oauth)}
        self.assertEqual(call("GET", "/api/x", headers=h).status, 200)
        r = call("GET", "/api/x", headers=h)
        self.assertEqual((r.status, r.json()["oauth_problem"]), (401, "nonce_used"))
        r = self.request_token(timestamp=time.time() - 1000)
        self.assertEqual((r.status, r.form()["oauth_problem"]), (401, "timestamp_refused"))

    def test_missing_callback_and_verifier(self):
        r = o1_call("POST", "/oauth1/request_token")
        self.assertEqual((r.status, r.form()["oauth_problem"]), (400, "parameter_absent"))
        r = self.request_token(callback="not a url")
        self.assertEqual(r.status, 400)
        self.assertEqual(self.request_token(callback="oob").status, 200)
        rt, verifier = self.authorized()
        r = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                    token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": "wrong"})
        self.assertEqual((r.status, r.form()["oauth_problem"]), (401, "verifier_invalid"))
        r = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                    token_secret=rt["oauth_token_secret"])
        self.assertEqual(r.status, 400)
        ok = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                     token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": verifier})
        self.assertEqual(ok.status, 200)
        again = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                        token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": verifier})
        self.assertEqual((again.status, again.form()["oauth_problem"]), (401, "token_rejected"))

    def test_unauthorized_request_token(self):
        rt = self.request_token().form()
        r = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                    token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": "x"})
        self.assertEqual(r.status, 401)

    def test_callback_confirmed_modes(self):
        control("config", {"oauth1_callback_confirmed": "absent"})
        self.assertNotIn("oauth_callback_confirmed", self.request_token().form())
        control("config", {"oauth1_callback_confirmed": "True"})
        self.assertEqual(self.request_token().form()["oauth_callback_confirmed"], "True")

    def test_login_page_and_deny(self):
        rt = self.request_token().form()
        tok = urllib.parse.quote(rt["oauth_token"])
        r = call("GET", "/oauth1/authorize?oauth_token=" + tok)
        self.assertEqual(r.status, 200)
        for ident in ('id="username"', 'id="password"', 'id="allow"', 'id="deny"'):
            self.assertIn(ident, r.body.decode())
        r = call("POST", "/oauth1/authorize", form={"oauth_token": rt["oauth_token"], "username": "bob",
                                                     "password": "builder", "decision": "allow"})
        self.assertEqual(r.status, 302)
        self.assertIn("oauth_verifier", r.location_params)
        rt = self.request_token().form()
        r = call("POST", "/oauth1/authorize", form={"oauth_token": rt["oauth_token"], "decision": "deny"})
        self.assertEqual(r.status, 302)
        self.assertEqual(r.location_params, {"x": "1", "denied": rt["oauth_token"]})
        rt = self.request_token().form()
        r = call("GET", "/oauth1/authorize?auto_deny=1&oauth_token=" + urllib.parse.quote(rt["oauth_token"]))
        self.assertEqual(r.location_params["denied"], rt["oauth_token"])
        self.assertEqual(call("GET", "/oauth1/authorize?oauth_token=nope").status, 400)

    def test_nasty_tokens_and_issue_token(self):
        control("config", {"nasty_tokens": True})
        at = self.access()
        self.assertIn("+/=", at["oauth_token_secret"])
        r = o1_call("POST", "/api/x", token=at["oauth_token"], token_secret=at["oauth_token_secret"],
                    form={"a": "1 2", "b": "~!*'()"})
        self.assertEqual(r.status, 200, r)
        tok = control("issue_token?type=oauth1&user=bob")
        r = o1_call("GET", "/api/x", token=tok["oauth_token"], token_secret=tok["oauth_token_secret"])
        self.assertEqual(r.json()["user"], "bob")


def _b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class OpenIDConnect(ProviderTest):
    """Discovery, JWKS and RS256 id_tokens (what mod_auth_openidc needs)."""

    # OAuth2's helpers, not its tests
    authorize, code, token, exchange = OAuth2.authorize, OAuth2.code, OAuth2.token, OAuth2.exchange

    def setUp(self):
        super().setUp()
        try:
            import cryptography  # noqa: F401
        except ImportError:
            self.skipTest("python3-cryptography not installed")

    def verify(self, id_token):
        """Checks the RS256 signature against the JWKS; -> (header, claims)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        head_b64, body_b64, sig_b64 = id_token.split(".")
        header = json.loads(_b64url_decode(head_b64))
        jwks = call("GET", "/oauth2/jwks")
        self.assertEqual(jwks.status, 200, jwks)
        keys = {k["kid"]: k for k in jwks.json()["keys"]}
        self.assertEqual(header["alg"], "RS256")
        jwk = keys[header["kid"]]
        self.assertEqual((jwk["kty"], jwk["alg"], jwk["use"]), ("RSA", "RS256", "sig"))
        key = rsa.RSAPublicNumbers(int.from_bytes(_b64url_decode(jwk["e"]), "big"),
                                   int.from_bytes(_b64url_decode(jwk["n"]), "big")).public_key()
        key.verify(_b64url_decode(sig_b64), ("%s.%s" % (head_b64, body_b64)).encode(),
                   padding.PKCS1v15(), hashes.SHA256())  # raises when wrong
        return header, json.loads(_b64url_decode(body_b64))

    def test_discovery(self):
        r = call("GET", "/.well-known/openid-configuration")
        self.assertEqual(r.status, 200, r)
        meta = r.json()
        self.assertEqual(meta["issuer"], BASE)
        for name, path in (("authorization_endpoint", "/oauth2/authorize"),
                           ("token_endpoint", "/oauth2/token"),
                           ("userinfo_endpoint", "/oauth2/userinfo"), ("jwks_uri", "/oauth2/jwks")):
            self.assertEqual(meta[name], BASE + path)
        self.assertIn("RS256", meta["id_token_signing_alg_values_supported"])
        self.assertIn("code", meta["response_types_supported"])
        # the issuer follows the name the client used
        other = BASE.replace("127.0.0.1", "localhost")
        self.assertEqual(call("GET", other + "/.well-known/openid-configuration").json()["issuer"], other)
        self.assertEqual(control("stats")["oidc_requests"], 2)

    def test_id_token_in_code_exchange(self):
        code = self.code(scope="openid profile", nonce="n-0S6_WzA2Mj")
        r = self.exchange(code)
        self.assertEqual(r.status, 200, r)
        tok = r.json()
        header, claims = self.verify(tok["id_token"])
        now = time.time()
        self.assertEqual(claims["iss"], BASE)
        self.assertEqual(claims["aud"], "oauth2-client")
        self.assertEqual(claims["sub"], "1001")
        self.assertEqual(claims["nonce"], "n-0S6_WzA2Mj")
        self.assertEqual(claims["preferred_username"], "alice")
        self.assertLessEqual(abs(claims["iat"] - now), 5)
        self.assertGreater(claims["exp"], now)
        digest = hashlib.sha256(tok["access_token"].encode()).digest()
        self.assertEqual(claims["at_hash"], base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode())
        # userinfo's sub is the id_token's
        u = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual(u.json()["sub"], claims["sub"])
        # the refresh response has no id_token
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("id_token", r.json())

    def test_no_openid_scope_no_id_token(self):
        tok = self.exchange(self.code()).json()
        self.assertNotIn("id_token", tok)

    def test_nonce_optional_and_kept_through_the_login_form(self):
        tok = self.exchange(self.code(scope="openid")).json()
        self.assertNotIn("nonce", self.verify(tok["id_token"])[1])
        q = {"response_type": "code", "client_id": "oauth2-client", "redirect_uri": CB2,
             "scope": "openid", "state": "st-1", "nonce": "abc"}
        page = call("GET", "/oauth2/authorize?" + urllib.parse.urlencode(q))
        self.assertIn(b'name="nonce" value="abc"', page.body)
        form = dict(q, username="bob", password="builder", decision="allow")
        r = call("POST", "/oauth2/authorize", form=form)
        self.assertEqual(r.status, 302, r)
        tok = self.exchange(r.location_params["code"], verifier=None).json()
        claims = self.verify(tok["id_token"])[1]
        self.assertEqual((claims["nonce"], claims["sub"]), ("abc", "1002"))


class DPoP(ProviderTest):
    """RFC 9449 at the token endpoint and the resources (what bench/'s (j)
    row needs); proofs made here with python3-cryptography."""

    token, exchange, code, authorize = OAuth2.token, OAuth2.exchange, OAuth2.code, OAuth2.authorize

    def setUp(self):
        super().setUp()
        try:
            from cryptography.hazmat.primitives.asymmetric import ec
        except ImportError:
            self.skipTest("python3-cryptography not installed")
        self.key = ec.generate_private_key(ec.SECP256R1())

    @staticmethod
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def jwk(self, key=None):
        numbers = (key or self.key).public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": self.b64(numbers.x.to_bytes(32, "big")),
                "y": self.b64(numbers.y.to_bytes(32, "big"))}

    def proof(self, htm, htu, token=None, key=None, header=None, claims=None):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk(key)}
        head.update(header or {})
        body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
        if token:
            body["ath"] = self.b64(hashlib.sha256(token.encode()).digest())
        body.update(claims or {})
        signing_input = self.b64(json.dumps(head).encode()) + "." + self.b64(json.dumps(body).encode())
        r, s = decode_dss_signature((key or self.key).sign(signing_input.encode(),
                                                           ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + self.b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def service_token(self, proof=None):
        headers = {"Authorization": basic("oauth2-client", "oauth2-secret")}
        if proof is not None:
            headers["DPoP"] = proof
        return call("POST", "/oauth2/token", form={"grant_type": "client_credentials"},
                    headers=headers)

    def test_without_dpop_nothing_changes(self):
        r = self.service_token()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["token_type"], "Bearer")
        at = r.json()["access_token"]
        self.assertEqual(call("GET", "/oauth2/userinfo",
                              headers={"Authorization": "Bearer " + at}).status, 200)

    def test_bound_token_and_its_proofs(self):
        r = self.service_token(self.proof("POST", BASE + "/oauth2/token"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["token_type"], "DPoP")
        at = r.json()["access_token"]
        url = BASE + "/oauth2/userinfo"
        ok = call("GET", "/oauth2/userinfo", headers={"Authorization": "DPoP " + at,
                                                      "DPoP": self.proof("GET", url, at)})
        self.assertEqual(ok.status, 200, ok)
        from cryptography.hazmat.primitives.asymmetric import ec
        for headers in ({"Authorization": "Bearer " + at},
                        {"Authorization": "DPoP " + at},
                        {"Authorization": "DPoP " + at, "DPoP": self.proof("POST", url, at)},
                        {"Authorization": "DPoP " + at, "DPoP": self.proof("GET", url, "other")},
                        {"Authorization": "DPoP " + at,
                         "DPoP": self.proof("GET", url, at, key=ec.generate_private_key(ec.SECP256R1()))}):
            r = call("GET", "/oauth2/userinfo", headers=headers)
            self.assertEqual(r.status, 401, (headers, r))
        # the DPoP scheme with a bearer token
        bearer = self.service_token().json()["access_token"]
        self.assertEqual(call("GET", "/oauth2/userinfo", headers={
            "Authorization": "DPoP " + bearer, "DPoP": self.proof("GET", url, bearer)}).status, 401)

    def test_code_exchange_with_dpop(self):
        code = self.code()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB2,
                "code_verifier": RFC7636_VERIFIER}
        r = call("POST", "/oauth2/token", form=form, headers={
            "Authorization": basic("oauth2-client", "oauth2-secret"),
            "DPoP": self.proof("POST", BASE + "/oauth2/token")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["token_type"], "DPoP")

    def test_bad_proofs_refused(self):
        token_url = BASE + "/oauth2/token"
        good = self.proof("POST", token_url)
        head, body, sig = good.split(".")
        other_sig = self.proof("POST", token_url).split(".")[2]
        for proof in ("not-a-jwt", head + "." + body + "." + other_sig,
                      self.proof("GET", token_url),
                      self.proof("POST", BASE + "/oauth2/other"),
                      self.proof("POST", token_url, header={"typ": "JWT"}),
                      self.proof("POST", token_url, header={"alg": "HS256"}),
                      self.proof("POST", token_url, claims={"iat": int(time.time()) - 3600}),
                      self.proof("POST", token_url, claims={"jti": ""})):
            r = self.service_token(proof)
            self.assertEqual(r.status, 400, (proof, r))
            self.assertEqual(r.json()["error"], "invalid_dpop_proof")


class Hostile(ProviderTest):
    """The hostile mode of the security tests: overrides, extra callback
    parameters, streaming and redirecting token endpoints."""

    authorize, code, token, exchange = OAuth2.authorize, OAuth2.code, OAuth2.token, OAuth2.exchange

    POISON = "mallory\r\nContent-Length: 0\r\n\r\nGET /admin HTTP/1.1\r\nX-OAuth-User: admin\r\n\r\n"

    def test_token_and_refresh_override(self):
        control("config", {"token_override": {"login": self.POISON, "scope": ["a", "b"],
                                              "token_type": "mac", "id_token": "x" * 3000,
                                              "nested": {"k": [1, None, True]}},
                           "refresh_override": {"token_type": "Bearer\r\nX: y"},
                           "token_remove": ["expires_in"]})
        tok = self.exchange(self.code()).json()
        self.assertEqual((tok["login"], tok["scope"], tok["token_type"], len(tok["id_token"])),
                         (self.POISON, ["a", "b"], "mac", 3000))
        self.assertEqual(tok["nested"], {"k": [1, None, True]})
        self.assertNotIn("expires_in", tok)
        self.assertTrue(tok["access_token"].startswith("at-"))  # the rest is genuine
        r = self.token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        new = r.json()
        self.assertEqual(new["token_type"], "Bearer\r\nX: y")
        self.assertNotIn("login", new)          # token_override is for the code exchange only
        self.assertNotIn("expires_in", new)
        # the overridden access token is what the provider checks afterwards
        control("config", {"token_override": {"access_token": "at-\x00evil"}})
        self.assertEqual(self.exchange(self.code()).json()["access_token"], "at-\x00evil")
        # form-encoded answers carry the override too
        control("config", {"token_endpoint_mode": "form_encoded",
                           "token_override": {"login": "a\r\nb"}})
        self.assertEqual(self.exchange(self.code()).form()["login"], "a\r\nb")

    def test_userinfo_override(self):
        control("config", {"userinfo_override": {"login": None, "extra": {"a": 1}}})
        at = self.exchange(self.code()).json()["access_token"]
        info = call("GET", "/oauth2/userinfo", headers={"Authorization": "Bearer " + at}).json()
        self.assertEqual((info["login"], info["extra"], info["sub"]), (None, {"a": 1}, "1001"))

    def test_callback_extra_params(self):
        control("config", {"callback_extra_params": [["state", "{state}"], ["code", "other"],
                                                     ["iss", "x y"]]})
        r = self.authorize()
        query = urllib.parse.urlsplit(r.headers["Location"]).query
        pairs = urllib.parse.parse_qsl(query)
        self.assertEqual([v for n, v in pairs if n == "state"], ["st-1", "st-1"])
        codes = [v for n, v in pairs if n == "code"]
        self.assertEqual((len(codes), codes[1]), (2, "other"))
        self.assertTrue(codes[0].startswith("code-"))
        self.assertEqual(pairs[-1], ("iss", "x y"))
        page = self.authorize(response_mode="form_post").body.decode()
        self.assertEqual(page.count('name="state" value="st-1"'), 2)
        self.assertIn('name="code" value="other"', page)
        r = self.authorize(user=None, auto_deny="1")
        pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query)
        self.assertEqual([n for n, v in pairs].count("state"), 2)

    def test_stream_mode(self):
        control("config", {"token_endpoint_mode": "stream", "timeout_seconds": 5})
        host, port = urllib.parse.urlsplit(BASE).netloc.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            conn.request("POST", "/oauth2/token", body="grant_type=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            self.assertEqual((r.status, r.getheader("Transfer-Encoding")), (200, "chunked"))
            self.assertIsNone(r.getheader("Content-Length"))
            got = r.read(3 * 1024 * 1024)      # far beyond any sane token response...
            self.assertEqual(len(got), 3 * 1024 * 1024)
            self.assertTrue(got.startswith(b'{"access_token": "at-xxx'))
        finally:
            conn.close()                        # ...and the client hangs up
        control("config", {"token_endpoint_mode": "normal",
                           "endpoint_modes": {"/oauth2/userinfo": "stream"}})
        self.assertEqual(self.exchange(self.code()).status, 200)

    def test_redirect_mode(self):
        control("config", {"token_endpoint_mode": "redirect"})
        r = self.exchange(self.code())
        self.assertEqual(r.status, 302)
        self.assertEqual(r.headers["Location"], BASE + "/_evil/token")
        self.assertEqual(control("stats")["redirect_target_requests"], 0)
        r = call("POST", "/_evil/token", form={"grant_type": "authorization_code"})
        self.assertEqual(r.json()["access_token"], "at-from-redirect-target")
        self.assertEqual(control("stats")["redirect_target_requests"], 1)
        control("config", {"redirect_location": "http://elsewhere.example/token"})
        self.assertEqual(self.exchange(self.code()).headers["Location"], "http://elsewhere.example/token")

    def test_api_response_headers_and_html(self):
        at = control("issue_token?user=bob&lifetime=100")["access_token"]
        auth = {"Authorization": "Bearer " + at}
        control("config", {"api_response_headers": {
            "Set-Cookie": ["oac_session=evil; path=/", "other=1"], "X-Api-Extra": "yes"}})
        r = call("GET", "/api/things", headers=auth)
        self.assertEqual((r.status, r.headers["Content-Type"]), (200, "application/json"))
        self.assertEqual(r.headers.get_all("Set-Cookie"), ["oac_session=evil; path=/", "other=1"])
        self.assertEqual(r.headers["X-Api-Extra"], "yes")
        self.assertEqual(r.json()["user"], "bob")
        r = call("GET", "/api/things")                      # the 401 answer carries them too
        self.assertEqual((r.status, r.headers["X-Api-Extra"]), (401, "yes"))
        control("config", {"endpoint_modes": {"/api/": "error500"}})
        r = call("GET", "/api/things", headers=auth)        # and the endpoint modes' answers
        self.assertEqual((r.status, r.headers["X-Api-Extra"]), (500, "yes"))
        r = call("GET", "/oauth2/userinfo", headers=auth)   # only /api/
        self.assertIsNone(r.headers.get("X-Api-Extra"))
        control("config", {"endpoint_modes": {}, "api_response_html": True})
        r = call("GET", "/api/things?x=<b>", headers=auth)
        self.assertEqual((r.status, r.headers["Content-Type"]), (200, "text/html; charset=utf-8"))
        body = r.body.decode()
        self.assertIn("<script>document.title", body)
        self.assertIn("&lt;b&gt;", body)                    # the echo is escaped text
        self.assertEqual(control("stats")["last_api_request"]["query"], {"x": "<b>"})
        control("reset", {})
        r = call("GET", "/api/things", headers=auth)
        self.assertIsNone(r.headers.get("Set-Cookie"))

    def test_hostile_config_validation(self):
        for bad in ({"token_override": []}, {"refresh_override": "x"}, {"userinfo_override": 1},
                    {"token_remove": "token_type"}, {"oauth1_access_override": {"a": 1}},
                    {"callback_extra_params": [["state"]]}, {"callback_extra_params": {"a": "b"}},
                    {"redirect_location": "ftp://x/"}, {"token_endpoint_mode": "streamed"},
                    {"api_response_headers": {"X": "a\r\nB: c"}}, {"api_response_headers": {"X Y": "a"}},
                    {"api_response_headers": {"X": 1}}, {"api_response_headers": ["X", "a"]},
                    {"api_response_html": "yes"}):
            r = call("POST", "/_control/config", body=json.dumps(bad).encode(),
                     headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, bad)
        control("reset", {})
        cfg = control("config")
        self.assertEqual((cfg["token_override"], cfg["callback_extra_params"]), ({}, []))
        self.assertEqual((cfg["api_response_headers"], cfg["api_response_html"]), ({}, False))


class HostileOAuth1(ProviderTest):
    request_token = OAuth1.request_token
    def test_access_override_and_extra_params(self):
        control("config", {"oauth1_access_override": {"screen_name": "x\r\nX-OAuth-User: admin",
                                                      "oauth_token_secret": ["s1", "s2"]},
                           "callback_extra_params": [["oauth_verifier", "{oauth_verifier}"],
                                                     ["oauth_token", "evil"]]})
        rt = self.request_token().form()
        r = call("GET", "/oauth1/authorize?auto_approve=alice&oauth_token=" + urllib.parse.quote(rt["oauth_token"]))
        pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query)
        verifiers = [v for n, v in pairs if n == "oauth_verifier"]
        self.assertEqual((len(verifiers), verifiers[0] == verifiers[1]), (2, True))
        self.assertEqual([v for n, v in pairs if n == "oauth_token"], [rt["oauth_token"], "evil"])
        r = o1_call("POST", "/oauth1/access_token", token=rt["oauth_token"],
                    token_secret=rt["oauth_token_secret"], extra={"oauth_verifier": verifiers[0]})
        self.assertEqual(r.status, 200, r)
        pairs = urllib.parse.parse_qsl(r.body.decode())
        self.assertIn(("screen_name", "x\r\nX-OAuth-User: admin"), pairs)
        self.assertEqual([v for n, v in pairs if n == "oauth_token_secret"], ["s1", "s2"])


class RecordingBackend(unittest.TestCase):
    """t/provider/backend.py: records every request as it arrived."""

    def setUp(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "backend.py"), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        self.assertTrue(line.startswith("backend listening on http://"), line)
        self.host, port = line.rsplit("/", 1)[1].split(":")
        self.port = int(port)

    def tearDown(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=5), 0)
        self.proc.stdout.close()

    def raw(self, data):
        import socket
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk

    def requests(self):
        return call("GET", "http://%s:%d/_control/requests" % (self.host, self.port)).json()["requests"]

    def test_records_pipelined_and_smuggled_requests(self):
        smuggled = (b"GET /b/page HTTP/1.1\r\nHost: b\r\nX-OAuth-User: mallory\r\nContent-Length: 0\r\n\r\n"
                    b"GET /admin HTTP/1.1\r\nHost: x\r\nX-OAuth-User: admin\r\n\r\n"
                    b"X-Forwarded-For: 127.0.0.1\r\n\r\n")
        out = self.raw(smuggled)
        self.assertEqual(out.count(b"HTTP/1.1 200 OK"), 2)
        self.assertEqual(out.count(b"HTTP/1.1 400 Bad Request"), 1)
        reqs = self.requests()
        self.assertEqual([(r["method"], r["target"], r["index"], r["malformed"]) for r in reqs],
                         [("GET", "/b/page", 1, False), ("GET", "/admin", 2, False),
                          ("X-Forwarded-For: 127.0.0.1", "", 3, True)])
        self.assertEqual(reqs[1]["headers"], [["Host", "x"], ["X-OAuth-User", "admin"]])
        self.assertEqual(reqs[0]["raw"], smuggled[:smuggled.index(b"\r\n\r\n") + 4].decode())
        self.assertEqual(len({r["connection"] for r in reqs}), 1)
        call("POST", "http://%s:%d/_control/reset" % (self.host, self.port), body=b"")
        self.assertEqual(self.requests(), [])

    def test_bodies_and_echo(self):
        r = call("POST", "http://%s:%d/x/y?q=1" % (self.host, self.port), form={"a": "b"},
                 headers={"X-Test": "1"})
        self.assertEqual(r.status, 200)
        echo = r.json()
        self.assertEqual((echo["method"], echo["target"], echo["body"]), ("POST", "/x/y?q=1", "a=b"))
        self.assertIn(["X-Test", "1"], echo["headers"])
        out = self.raw(b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                       b"3\r\nabc\r\n0\r\n\r\n")
        self.assertIn(b"Connection: close", out)
        self.assertEqual(self.requests()[-1]["body"], "abc")


class Lifecycle(unittest.TestCase):
    """Separate provider processes: logging, pidfile, SIGTERM, TLS."""

    def test_log_pidfile_sigterm(self):
        with tempfile.TemporaryDirectory() as tmp:
            log, pid = os.path.join(tmp, "p.log"), os.path.join(tmp, "p.pid")
            proc, base = start_provider(["--log", log, "--pidfile", pid])
            with open(pid) as f:
                self.assertEqual(int(f.read()), proc.pid)
            r = call("GET", "/oauth2/authorize?response_type=code&client_id=oauth2-client&redirect_uri="
                     + CB2 + "&auto_approve=alice", base=base)
            code = r.location_params["code"]
            tok = call("POST", "/oauth2/token", base=base, headers={"Authorization": basic("oauth2-client", "oauth2-secret")},
                       form={"grant_type": "authorization_code", "code": code, "redirect_uri": CB2}).json()
            call("GET", "/oauth2/userinfo?access_token=" + tok["access_token"], base=base)
            self.assertEqual(stop_provider(proc), 0)
            self.assertFalse(os.path.exists(pid))
            with open(log) as f:
                text = f.read()
            self.assertIn("/oauth2/token", text)
            for secret in (code, tok["access_token"], tok["refresh_token"]):
                self.assertNotIn(secret, text)

    def test_tls(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl CLI not available")
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                            "-days", "1", "-keyout", key, "-out", cert], check=True, capture_output=True)
            proc, base = start_provider(["--tls-cert", cert, "--tls-key", key])
            try:
                self.assertTrue(base.startswith("https://"))
                ctx = ssl.create_default_context(cafile=cert)
                ctx.check_hostname = False
                tok = call("GET", "/_control/issue_token?type=oauth1", base=base, context=ctx).json()
                # the base string must use the https scheme
                r = o1_call("GET", "/api/x", token=tok["oauth_token"], token_secret=tok["oauth_token_secret"],
                            base=base, context=ctx)
                self.assertEqual(r.status, 200, r)
            finally:
                self.assertEqual(stop_provider(proc), 0)


if __name__ == "__main__":
    unittest.main()
