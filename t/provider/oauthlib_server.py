#!/usr/bin/python3
"""OAuth 1.0a + OAuth 2.0 server built on oauthlib, for mod_oauthclient interop tests.

provider.py was written by the project. This server was not: every protocol check
is done by oauthlib's own server classes (Debian 12 python3-oauthlib 3.2.2).
  OAuth 2: oauthlib.oauth2.WebApplicationServer (RFC 6749 code + refresh grants,
           RFC 7636 PKCE, RFC 6750 bearer tokens).
  OAuth 1: oauthlib.oauth1 RequestTokenEndpoint, AuthorizationEndpoint,
           AccessTokenEndpoint, ResourceEndpoint (RFC 5849 signatures,
           timestamps, nonces, verifiers).
This file only supplies storage (the two RequestValidator subclasses, in memory,
one lock) and HTTP plumbing. It does not parse OAuth parameters, compare PKCE
challenges or check signatures. Client authentication at the token endpoint is
the validator's job in oauthlib (RequestValidator.authenticate_client is
abstract), so that check is written here.

    /usr/bin/python3 t/provider/oauthlib_server.py --host 127.0.0.1 --port PORT \
        [--log FILE] [--pidfile FILE] [--token-lifetime SECONDS]

Once the socket is bound it prints "oauthlib server listening on http://HOST:PORT"
(--port 0 picks a free port). It exits with status 0 on SIGTERM or SIGINT. It
speaks plain HTTP/1.1 only.

Credentials
-----------
OAuth 2 client   interop-client / interop-secret   confidential: client_secret_basic
                 or client_secret_post. PKCE required (S256 or plain).
                 Scopes: profile, email. Default: profile.
                 redirect_uri: not pre-registered. Any absolute http(s) URI on
                 127.0.0.1, localhost or [::1], without a fragment, is accepted.
                 The code is bound to it, so the token request must repeat it.
OAuth 1 consumer interop-consumer / interop-consumer-secret
                 HMAC-SHA1, HMAC-SHA256, PLAINTEXT
OAuth 1 consumer interop-rsa-consumer (no secret)   RSA-SHA1 only. Public key:
                 t/provider/rsa_pub.pem. Client's private key: t/provider/rsa_key.pem.
Users: any NAME given as user=NAME. sub = user_id = "u" + sha256(NAME)[:12] (hex).

OAuth 2 endpoints
-----------------
GET  /authorize?response_type=code&client_id=..&redirect_uri=..&scope=..&state=..
                &code_challenge=..&code_challenge_method=S256&user=NAME
     oauthlib answers 302 to redirect_uri with code and state, or with an error.
     A bad client_id or redirect_uri gives a 400 HTML page and no redirect.
     Without user= the answer is a 200 HTML page that says so.
POST /token      grant_type=authorization_code | refresh_token. Refresh tokens
                 rotate, and the old one is then invalid.
GET|POST /userinfo   bearer token -> {"sub", "login", "name", "scope"
                     [, "email" if the token has that scope]}
ANY  /api/...    bearer token -> echo {"user", "method", "path", "query", "auth":
                 "oauthlib-bearer", "client_id", "scope", "body"}
                 Failure: 401 + WWW-Authenticate: Bearer.

OAuth 1.0a endpoints
--------------------
POST /oauth1/request_token   oauth_callback required: "oob", or a URI like the
                             OAuth 2 redirect_uri above.
GET  /oauth1/authorize?oauth_token=..&user=NAME   302 to the callback with
                             oauth_token and oauth_verifier ("oob": 200 form body)
POST /oauth1/access_token    -> oauth_token, oauth_token_secret,
                             oauth_authorized_realms, user_id, screen_name
ANY  /oauth1/api/...         echo, "auth": "oauthlib-oauth1"
GET|POST /oauth1/userinfo    {"sub", "login", "name"}
oauthlib's rules a client configuration must respect (set in OAuth1Validator):
  consumer keys 8-64, request/access tokens 20-64, verifiers 20-64, nonces 8-64
  characters, each one from [A-Za-z0-9-._~]. oauth_timestamp: 10 digits and
  within 600 s of the server clock. oauth_version, if sent, must be "1.0".
  realm (request-token request only): omit it, or a space-separated subset of
  "profile email". It defaults to "profile". Plain http is allowed
  (enforce_ssl False).
  A failed check gives oauthlib's answer: 400 "error=..&error_description=.."
  for a malformed request, or 401 with an empty body for a bad
  client/token/signature/nonce/verifier.

Test control
------------
GET  /_control/stats          {"token_requests", "refresh_requests",
                               "oauth1_access_token_requests", "api_requests", ...,
                               "last_token_params": {...},
                               "last_token_client_auth": "client_secret_basic"|...}
POST /_control/reset          clears counters and every code, token and nonce
POST /_control/expire_tokens  every OAuth 2 access token issued so far expires now
"""

import argparse
import base64
import hashlib
import hmac
import html
import json
import logging
import os
import signal
import string
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from oauthlib import oauth1, oauth2
from oauthlib.oauth1.rfc5849 import errors as oauth1_errors
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors

import lifeline

HERE = os.path.dirname(os.path.abspath(__file__))

OAUTH2_CLIENTS = {"interop-client": "interop-secret"}
OAUTH2_SCOPES = ("profile", "email")
OAUTH2_DEFAULT_SCOPES = ["profile"]
CODE_LIFETIME = 120

OAUTH1_HMAC_METHODS = (oauth1.SIGNATURE_HMAC_SHA1, oauth1.SIGNATURE_HMAC_SHA256,
                       oauth1.SIGNATURE_PLAINTEXT)
OAUTH1_CONSUMERS = {
    # key: (secret, allowed signature methods, RSA public key file)
    "interop-consumer": ("interop-consumer-secret", OAUTH1_HMAC_METHODS, None),
    "interop-rsa-consumer": ("", (oauth1.SIGNATURE_RSA_SHA1,), os.path.join(HERE, "rsa_pub.pem")),
}
OAUTH1_REALMS = ["profile", "email"]
OAUTH1_DEFAULT_REALMS = ["profile"]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

SECRET_FIELDS = ("access_token", "refresh_token", "code", "code_verifier", "client_secret",
                 "oauth_token", "oauth_verifier", "oauth_signature", "oauth_token_secret")


def user_profile(name):
    sub = "u" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    return {"sub": sub, "login": name, "name": name}


def is_loopback_uri(uri):
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and host in LOOPBACK_HOSTS
            and not parts.fragment and "#" not in uri)


def valid_user_name(name):
    return bool(name) and len(name) <= 64 and name.isprintable()


class Client:
    """What oauthlib expects in request.client: an object with client_id."""

    def __init__(self, client_id):
        self.client_id = client_id


# --------------------------------------------------------------------------
# Storage (one lock for everything)
# --------------------------------------------------------------------------

class Store:
    COUNTERS = ("authorize_requests", "token_requests", "refresh_requests", "userinfo_requests",
                "api_requests", "oauth1_request_token_requests", "oauth1_authorize_requests",
                "oauth1_access_token_requests", "oauth1_api_requests", "oauth1_userinfo_requests")

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.codes = {}            # code -> dict
            self.access = {}           # OAuth 2 access token -> dict
            self.refresh = {}          # OAuth 2 refresh token -> dict
            self.request_tokens = {}   # OAuth 1 temporary credentials -> dict
            self.oauth1_access = {}    # OAuth 1 token credentials -> dict
            self.nonces = {}           # (client_key, timestamp, nonce, token) -> time seen
            self.counts = dict.fromkeys(self.COUNTERS, 0)
            self.last_token_params = None
            self.last_token_client_auth = None

    def count(self, name):
        with self.lock:
            self.counts[name] += 1

    def stats(self):
        with self.lock:
            out = dict(self.counts)
            out["last_token_params"] = self.last_token_params
            out["last_token_client_auth"] = self.last_token_client_auth
            out["live"] = {"codes": len(self.codes), "access_tokens": len(self.access),
                           "refresh_tokens": len(self.refresh),
                           "oauth1_request_tokens": len(self.request_tokens),
                           "oauth1_access_tokens": len(self.oauth1_access)}
            return out


# --------------------------------------------------------------------------
# OAuth 2 validator: storage only; oauthlib drives the protocol
# --------------------------------------------------------------------------

class OAuth2Validator(oauth2.RequestValidator):
    def __init__(self, store):
        super().__init__()
        self.store = store

    # -- clients --
    def client_authentication_required(self, request, *args, **kwargs):
        return True  # the only client is confidential

    def authenticate_client(self, request, *args, **kwargs):
        """client_secret_basic (RFC 6749 §2.3.1, form-encoded then base64) or
        client_secret_post. Using both methods at once is refused (§2.3)."""
        auth = request.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
                return False
            client_id, sep, secret = raw.partition(":")
            if not sep or request.client_secret is not None:
                return False
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
            if request.client_id is not None and request.client_id != client_id:
                return False
        elif request.client_id is not None and request.client_secret is not None:
            client_id, secret = request.client_id, request.client_secret
        else:
            return False
        expected = OAUTH2_CLIENTS.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode("utf-8"),
                                                       secret.encode("utf-8")):
            return False
        request.client = Client(client_id)
        request.client_id = client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        return False  # no public clients

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return client_id in OAUTH2_CLIENTS

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return grant_type in ("authorization_code", "refresh_token")

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    # -- redirect URIs: not pre-registered; the code remembers the one used --
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return is_loopback_uri(redirect_uri)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None  # redirect_uri is always required

    # -- scopes --
    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return bool(scopes) and all(s in OAUTH2_SCOPES for s in scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return list(OAUTH2_DEFAULT_SCOPES)

    # -- PKCE (RFC 7636): oauthlib compares; we only store --
    def is_pkce_required(self, client_id, request):
        return client_id in OAUTH2_CLIENTS

    def get_code_challenge(self, code, request):
        with self.store.lock:
            entry = self.store.codes.get(code)
            return entry["code_challenge"] if entry else None

    def get_code_challenge_method(self, code, request):
        with self.store.lock:
            entry = self.store.codes.get(code)
            return entry["code_challenge_method"] if entry else None

    # -- authorization codes --
    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        with self.store.lock:
            self.store.codes[code["code"]] = {
                "client_id": client_id, "user": request.user, "scopes": list(request.scopes),
                "redirect_uri": request.redirect_uri,
                "code_challenge": request.code_challenge,
                "code_challenge_method": request.code_challenge_method,
                "expires_at": time.time() + CODE_LIFETIME,
            }

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        with self.store.lock:
            entry = self.store.codes.get(code)
            if not entry or entry["client_id"] != client_id or entry["expires_at"] < time.time():
                return False
            request.user = entry["user"]
            request.scopes = list(entry["scopes"])
            return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        with self.store.lock:
            entry = self.store.codes.get(code)
            return bool(entry) and entry["redirect_uri"] == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        with self.store.lock:
            self.store.codes.pop(code, None)

    # -- tokens --
    def save_bearer_token(self, token, request, *args, **kwargs):
        now = time.time()
        with self.store.lock:
            self.store.access[token["access_token"]] = {
                "client_id": request.client_id, "user": request.user,
                "scopes": list(request.scopes or []),
                "expires_at": now + int(token.get("expires_in") or 3600),
            }
            if token.get("refresh_token"):
                self.store.refresh[token["refresh_token"]] = {
                    "client_id": request.client_id, "user": request.user,
                    "scopes": list(request.scopes or []),
                }
            # Rotation: validate_refresh_token already took the old one out.

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        # Taking the token out here makes it single use even when two refreshes
        # race: only one of them finds it.
        with self.store.lock:
            entry = self.store.refresh.get(refresh_token)
            if not entry or entry["client_id"] != client.client_id:
                return False
            del self.store.refresh[refresh_token]
        request.user = entry["user"]
        request.oac_refresh_entry = entry
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return list(request.oac_refresh_entry["scopes"])

    def rotate_refresh_token(self, request):
        return True

    def validate_bearer_token(self, token, scopes, request):
        if not token:
            return False
        with self.store.lock:
            entry = self.store.access.get(token)
        if not entry or entry["expires_at"] <= time.time():
            return False
        if scopes and not all(s in entry["scopes"] for s in scopes):
            return False
        request.user = entry["user"]
        request.scopes = list(entry["scopes"])
        request.client_id = entry["client_id"]
        return True


# --------------------------------------------------------------------------
# OAuth 1 validator: storage and the character/length policy oauthlib asks for
# --------------------------------------------------------------------------

class OAuth1Validator(oauth1.RequestValidator):
    def __init__(self, store):
        super().__init__()
        self.store = store
        self.rsa_keys = {}
        for key, (_secret, _methods, pem) in OAUTH1_CONSUMERS.items():
            if pem and os.path.exists(pem):
                with open(pem) as f:
                    self.rsa_keys[key] = f.read()

    # -- policy (oauthlib's defaults would reject "interop-consumer": 20-30
    #    alphanumerics only, and https only) --
    enforce_ssl = False
    safe_characters = set(string.ascii_letters + string.digits + "-._~")
    client_key_length = (8, 64)
    request_token_length = (20, 64)
    access_token_length = (20, 64)
    nonce_length = (8, 64)
    verifier_length = (20, 64)
    realms = OAUTH1_REALMS
    allowed_signature_methods = OAUTH1_HMAC_METHODS + (oauth1.SIGNATURE_RSA_SHA1,)

    # dummies keep oauthlib's timing-attack-resistant flow going for unknown values
    dummy_client = "dummy-client-key-0000"
    dummy_request_token = "dummyrequesttoken000000000000"
    dummy_access_token = "dummyaccesstoken0000000000000"

    # -- consumers --
    def validate_client_key(self, client_key, request):
        consumer = OAUTH1_CONSUMERS.get(client_key)
        if consumer is None or request.signature_method not in consumer[1]:
            return False
        return consumer[2] is None or client_key in self.rsa_keys

    def get_client_secret(self, client_key, request):
        consumer = OAUTH1_CONSUMERS.get(client_key)
        return consumer[0] if consumer else "dummy-secret"

    def get_rsa_key(self, client_key, request):
        return self.rsa_keys.get(client_key) or next(iter(self.rsa_keys.values()), "")

    # -- timestamps and nonces (oauthlib checks the timestamp window) --
    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        key = (client_key, timestamp, nonce, request_token or access_token)
        now = time.time()
        with self.store.lock:
            if key in self.store.nonces:
                return False
            if len(self.store.nonces) > 10000:
                horizon = now - 2 * self.timestamp_lifetime
                self.store.nonces = {k: t for k, t in self.store.nonces.items() if t > horizon}
            self.store.nonces[key] = now
            return True

    # -- callbacks and realms --
    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return redirect_uri == "oob" or is_loopback_uri(redirect_uri)

    def get_default_realms(self, client_key, request):
        return list(OAUTH1_DEFAULT_REALMS)

    def validate_requested_realms(self, client_key, realms, request):
        return all(r in OAUTH1_REALMS for r in realms)

    def get_realms(self, token, request):
        with self.store.lock:
            entry = self.store.request_tokens.get(token)
            return list(entry["realms"]) if entry else []

    def verify_realms(self, token, realms, request):
        return all(r in self.get_realms(token, request) for r in realms)

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        with self.store.lock:
            entry = self.store.oauth1_access.get(token)
        return bool(entry) and all(r in entry["realms"] for r in (realms or []))

    # -- temporary credentials --
    def save_request_token(self, token, request):
        with self.store.lock:
            self.store.request_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"], "client_key": request.client_key,
                "callback": request.redirect_uri, "realms": list(request.realms or []),
                "verifier": None, "user": None,
            }

    def get_request_token_secret(self, client_key, token, request):
        with self.store.lock:
            entry = self.store.request_tokens.get(token)
            if entry and entry["client_key"] == client_key:
                return entry["secret"]
        return "dummy-request-token-secret"

    def validate_request_token(self, client_key, token, request):
        with self.store.lock:
            entry = self.store.request_tokens.get(token)
            return bool(entry) and entry["client_key"] == client_key

    def verify_request_token(self, token, request):
        # authorize step: the token exists and is not authorized yet
        with self.store.lock:
            entry = self.store.request_tokens.get(token)
            return bool(entry) and entry["verifier"] is None

    def get_redirect_uri(self, token, request):
        with self.store.lock:
            return self.store.request_tokens[token]["callback"]

    def save_verifier(self, token, verifier, request):
        # The HTTP handler passes the approving user in this private header.
        user = request.headers.get(USER_HEADER)
        with self.store.lock:
            entry = self.store.request_tokens[token]
            entry["verifier"] = verifier["oauth_verifier"]
            entry["user"] = user

    def validate_verifier(self, client_key, token, verifier, request):
        with self.store.lock:
            entry = self.store.request_tokens.get(token)
        if (not entry or entry["client_key"] != client_key or not entry["verifier"]
                or not hmac.compare_digest(entry["verifier"].encode(), verifier.encode())):
            return False
        request.user = entry["user"]
        return True

    def invalidate_request_token(self, client_key, request_token, request):
        with self.store.lock:
            self.store.request_tokens.pop(request_token, None)

    # -- token credentials --
    def save_access_token(self, token, request):
        with self.store.lock:
            self.store.oauth1_access[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"], "client_key": request.client_key,
                "user": request.user, "realms": list(request.realms or []),
            }

    def get_access_token_secret(self, client_key, token, request):
        with self.store.lock:
            entry = self.store.oauth1_access.get(token)
            if entry and entry["client_key"] == client_key:
                return entry["secret"]
        return "dummy-access-token-secret"

    def validate_access_token(self, client_key, token, request):
        with self.store.lock:
            entry = self.store.oauth1_access.get(token)
        if not entry or entry["client_key"] != client_key:
            return False
        request.user = entry["user"]
        return True


USER_HEADER = "X-Oauthlib-Server-Approving-User"


class AccessTokenEndpoint(oauth1.AccessTokenEndpoint):
    """oauthlib's endpoint. This subclass only adds user_id and screen_name
    (Twitter style) to the token response, through oauthlib's own 'credentials'
    hook. create_access_token runs only after oauthlib has validated the request,
    and validate_verifier has then set request.user."""

    def create_access_token(self, request, credentials):
        extra = dict(credentials or {})
        profile = user_profile(request.user)
        extra.update({"user_id": profile["sub"], "screen_name": request.user})
        return super().create_access_token(request, extra)


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, log_file, token_lifetime):
        super().__init__(address, Handler)
        self.log_file = log_file
        self.log_lock = threading.Lock()
        self.store = Store()
        self.v2 = OAuth2Validator(self.store)
        self.oauth2 = oauth2.WebApplicationServer(self.v2, token_expires_in=token_lifetime)
        self.v1 = OAuth1Validator(self.store)
        self.o1_request = oauth1.RequestTokenEndpoint(self.v1)
        self.o1_authorize = oauth1.AuthorizationEndpoint(self.v1)
        self.o1_access = AccessTokenEndpoint(self.v1)
        self.o1_resource = oauth1.ResourceEndpoint(self.v1)
        host, port = self.server_address[:2]
        self.base = "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)

    def log(self, line):
        if self.log_file:
            with self.log_lock:
                self.log_file.write("[%s] %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), line))


def redact_pairs(pairs):
    return "&".join("%s=%s" % (k, "***" if k in SECRET_FIELDS else v) for k, v in pairs)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "OauthlibInteropServer/1.0"
    timeout = 60

    @property
    def store(self):
        return self.server.store

    # ---- plumbing -------------------------------------------------------

    def do_any(self):
        self._answered = False
        try:
            self.raw_body = self.read_body()
        except ValueError as exc:
            self.close_connection = True
            self.respond(400, "bad request body: %s\n" % exc, "text/plain")
            return
        parts = urlsplit(self.path)
        self.req_path, self.req_query = parts.path, parts.query
        try:
            self.dispatch()
        except Exception:
            self.server.log("ERROR %s %s\n%s" % (self.command, self.req_path, traceback.format_exc()))
            if not self._answered:
                self.respond(500, "oauthlib server error\n", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= 4 * 1024 * 1024:
            raise ValueError("Content-Length out of range")
        return self.rfile.read(length) if length else b""

    def respond(self, status, body, content_type=None, headers=None):
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(headers or {})
        self._answered = True
        self.send_response(status)
        if content_type:
            headers["Content-Type"] = content_type
        headers.pop("Content-Length", None)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.log('%s "%s %s" %d' % (self.client_address[0], self.command,
                                           self.redacted_target(), status))

    def respond_oauthlib(self, headers, body, status):
        """Pass an oauthlib (headers, body, status) triple through unchanged."""
        headers = dict(headers or {})
        ctype = headers.pop("Content-Type", None)
        if ctype is None and body:
            ctype = "text/plain; charset=utf-8"
        self.respond(status, body, ctype, headers)

    def send_json(self, status, obj, headers=None):
        self.respond(status, json.dumps(obj, indent=1) + "\n", "application/json", headers)

    def send_html(self, status, title, message):
        self.respond(status, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
                     "</head><body><h1>%s</h1><p id=\"message\">%s</p></body></html>\n"
                     % (html.escape(title), html.escape(title), html.escape(message)),
                     "text/html; charset=utf-8")

    def log_request(self, code="-", size="-"):
        pass  # respond() logs, with secrets redacted

    def log_message(self, fmt, *args):
        self.server.log("%s %s" % (self.client_address[0], fmt % args))

    def redacted_target(self):
        parts = urlsplit(getattr(self, "path", "") or "")
        if not parts.query:
            return parts.path
        try:
            return parts.path + "?" + redact_pairs(parse_qsl(parts.query, keep_blank_values=True))
        except ValueError:
            return parts.path + "?..."

    # ---- what oauthlib is given -------------------------------------------

    def oauthlib_uri(self, query=None):
        """The absolute URI as the client addressed (and signed) it:
        http://<Host header><path>?<query>, raw and unchanged."""
        if self.path.startswith(("http://", "https://")):  # absolute-form request target
            uri = self.path
        else:
            host = self.headers.get("Host") or self.server.base.split("//", 1)[1]
            uri = "http://" + host + self.path
        if query is not None:
            uri = uri.split("?", 1)[0] + ("?" + query if query else "")
        return uri

    def oauthlib_headers(self):
        out = {}
        for name, value in self.headers.items():
            out[name] = out[name] + ", " + value if name in out else value
        out.pop(USER_HEADER, None)
        return out

    def is_form(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() \
            == "application/x-www-form-urlencoded"

    def text_body(self):
        return self.raw_body.decode("utf-8")  # UnicodeDecodeError -> caller

    def form_body(self):
        """The body for oauthlib: the form text, or None when it is no form."""
        return self.text_body() if self.is_form() and self.raw_body else None

    def query_without_user(self):
        """(raw query minus every user=..., the user value or None)."""
        kept, user = [], None
        for piece in self.req_query.split("&") if self.req_query else []:
            name, _, value = piece.partition("=")
            if unquote_plus(name) == "user":
                user = unquote_plus(value)
            else:
                kept.append(piece)
        return "&".join(kept), user

    # ---- routing --------------------------------------------------------

    def dispatch(self):
        path, method = self.req_path, self.command
        if path.startswith("/_control/"):
            return self.control(path[len("/_control/"):])
        if path == "/authorize" and method in ("GET", "HEAD"):
            return self.oauth2_authorize()
        if path == "/token" and method == "POST":
            return self.oauth2_token()
        if path == "/userinfo" and method in ("GET", "POST"):
            return self.oauth2_resource(userinfo=True)
        if path == "/api" or path.startswith("/api/"):
            return self.oauth2_resource(userinfo=False)
        if path == "/oauth1/request_token" and method == "POST":
            return self.oauth1_request_token()
        if path == "/oauth1/authorize" and method in ("GET", "HEAD"):
            return self.oauth1_authorize()
        if path == "/oauth1/access_token" and method == "POST":
            return self.oauth1_access_token()
        if path == "/oauth1/userinfo" and method in ("GET", "POST"):
            return self.oauth1_resource(userinfo=True)
        if path == "/oauth1/api" or path.startswith("/oauth1/api/"):
            return self.oauth1_resource(userinfo=False)
        known = ("/authorize", "/token", "/userinfo", "/oauth1/request_token",
                 "/oauth1/authorize", "/oauth1/access_token", "/oauth1/userinfo")
        if path in known:
            return self.respond(405, "method not allowed\n", "text/plain")
        return self.respond(404, "not found\n", "text/plain")

    def control(self, what):
        if what == "stats" and self.command == "GET":
            return self.send_json(200, self.store.stats())
        if what == "reset" and self.command == "POST":
            self.store.reset()
            return self.send_json(200, {"reset": True})
        if what == "expire_tokens" and self.command == "POST":
            with self.store.lock:
                for entry in self.store.access.values():
                    entry["expires_at"] = 0
                n = len(self.store.access)
            return self.send_json(200, {"expired": n})
        return self.respond(404, "unknown control endpoint\n", "text/plain")

    # ---- OAuth 2 --------------------------------------------------------

    def oauth2_authorize(self):
        self.store.count("authorize_requests")
        query, user = self.query_without_user()
        if user is None:
            return self.send_html(200, "Authorization",
                                  "This oauthlib test server has no login page: add user=NAME to the "
                                  "authorization URL to approve the request as NAME.")
        if not valid_user_name(user):
            return self.send_html(400, "Error", "user= must be 1-64 printable characters")
        uri = self.oauthlib_uri(query)
        headers = self.oauthlib_headers()
        server = self.server.oauth2
        try:
            scopes, _info = server.validate_authorization_request(uri, "GET", None, headers)
            h, b, s = server.create_authorization_response(
                uri, "GET", None, headers, scopes=scopes, credentials={"user": user})
        except oauth2_errors.FatalClientError as e:
            # bad client_id / redirect_uri: never redirect (RFC 6749 §4.1.2.1)
            return self.send_html(e.status_code, "Error", "%s: %s" % (e.error, e.description))
        except oauth2_errors.OAuth2Error as e:
            if not e.redirect_uri:
                return self.send_html(e.status_code, "Error", "%s: %s" % (e.error, e.description))
            return self.respond(302, "", "text/plain", {"Location": e.in_uri(e.redirect_uri)})
        except ValueError as e:  # oauthlib refuses to parse the query
            return self.send_html(400, "Error", str(e))
        return self.respond_oauthlib(h, b, s)

    def oauth2_token(self):
        try:
            body = self.text_body()
            pairs = parse_qsl(body, keep_blank_values=True)
        except ValueError:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "body is not UTF-8 form data"})
        params = dict(pairs)
        auth = self.headers.get("Authorization") or ""
        with self.store.lock:
            self.store.counts["token_requests"] += 1
            if params.get("grant_type") == "refresh_token":
                self.store.counts["refresh_requests"] += 1
            self.store.last_token_params = params
            self.store.last_token_client_auth = (
                "client_secret_basic" if auth[:6].lower() == "basic "
                else "client_secret_post" if "client_secret" in params else "none")
        self.server.log("token request: %s" % redact_pairs(pairs))
        try:
            h, b, s = self.server.oauth2.create_token_response(
                self.oauthlib_uri(), "POST", body, self.oauthlib_headers())
        except oauth2_errors.OAuth2Error as e:  # raised before the grant handler catches
            h, b, s = dict(e.headers, **{"Content-Type": "application/json"}), e.json, e.status_code
        except ValueError as e:
            return self.send_json(400, {"error": "invalid_request", "error_description": str(e)})
        return self.respond_oauthlib(h, b, s)

    def oauth2_resource(self, userinfo):
        self.store.count("userinfo_requests" if userinfo else "api_requests")
        try:
            valid, req = self.server.oauth2.verify_request(
                self.oauthlib_uri(), self.command, self.form_body(), self.oauthlib_headers(),
                scopes=[])
        except ValueError as e:  # oauthlib refuses the query or body encoding
            return self.send_json(400, {"error": "invalid_request", "error_description": str(e)})
        except oauth2_errors.OAuth2Error:
            valid, req = False, None
        if not valid:
            challenge = 'Bearer realm="oauthlib"'
            if req is not None and (req.headers.get("Authorization") or req.access_token):
                challenge += ', error="invalid_token"'
            return self.send_json(401, {"error": "invalid_token"}, {"WWW-Authenticate": challenge})
        if userinfo:
            out = user_profile(req.user)
            out["scope"] = " ".join(req.scopes)
            if "email" in req.scopes:
                out["email"] = req.user + "@example.org"
            return self.send_json(200, out)
        return self.send_json(200, self.echo(req.user, "oauthlib-bearer",
                                             client_id=req.client_id, scope=" ".join(req.scopes)))

    def echo(self, user, auth, **extra):
        out = {"user": user, "method": self.command, "path": self.req_path,
               "query": self.req_query, "auth": auth}
        out.update(extra)
        out["body"] = self.raw_body.decode("utf-8", "replace")
        return out

    # ---- OAuth 1 --------------------------------------------------------

    def oauth1_call(self, endpoint_method, **kwargs):
        try:
            return endpoint_method(self.oauthlib_uri(), self.command, self.form_body(),
                                   self.oauthlib_headers(), **kwargs)
        except ValueError as e:
            return ({"Content-Type": "application/x-www-form-urlencoded"},
                    urlencode({"error": "invalid_request", "error_description": str(e)}), 400)

    def oauth1_request_token(self):
        self.store.count("oauth1_request_token_requests")
        return self.respond_oauthlib(*self.oauth1_call(
            self.server.o1_request.create_request_token_response))

    def oauth1_access_token(self):
        self.store.count("oauth1_access_token_requests")
        return self.respond_oauthlib(*self.oauth1_call(
            self.server.o1_access.create_access_token_response))

    def oauth1_authorize(self):
        self.store.count("oauth1_authorize_requests")
        query, user = self.query_without_user()
        if user is None:
            return self.send_html(200, "Authorization",
                                  "This oauthlib test server has no login page: add user=NAME to the "
                                  "authorization URL to approve the request as NAME.")
        if not valid_user_name(user):
            return self.send_html(400, "Error", "user= must be 1-64 printable characters")
        uri = self.oauthlib_uri(query)
        headers = self.oauthlib_headers()
        endpoint = self.server.o1_authorize
        try:
            realms, _creds = endpoint.get_realms_and_credentials(uri, "GET", None, headers)
            headers[USER_HEADER] = user
            h, b, s = endpoint.create_authorization_response(uri, "GET", None, headers,
                                                             realms=realms)
        except oauth1_errors.OAuth1Error as e:
            h, b, s = {"Content-Type": "application/x-www-form-urlencoded"}, e.urlencoded, e.status_code
        except ValueError as e:
            return self.send_html(400, "Error", str(e))
        return self.respond_oauthlib(h, b, s)

    def oauth1_resource(self, userinfo):
        self.store.count("oauth1_userinfo_requests" if userinfo else "oauth1_api_requests")
        if not userinfo:
            self.store.count("api_requests")
        try:
            valid, req = self.server.o1_resource.validate_protected_resource_request(
                self.oauthlib_uri(), self.command, self.form_body(), self.oauthlib_headers())
        except ValueError as e:  # body not UTF-8, or a query oauthlib will not parse
            return self.respond(400, urlencode({"error": "invalid_request",
                                                "error_description": str(e)}),
                                "application/x-www-form-urlencoded")
        if not valid:
            return self.respond(401, "oauth_problem=request_rejected_by_oauthlib\n",
                                "application/x-www-form-urlencoded",
                                {"WWW-Authenticate": 'OAuth realm="oauthlib"'})
        if userinfo:
            return self.send_json(200, user_profile(req.user))
        return self.send_json(200, self.echo(req.user, "oauthlib-oauth1",
                                             consumer_key=req.client_key,
                                             signature_method=req.signature_method))


def main(argv=None):
    ap = argparse.ArgumentParser(description="oauthlib-based OAuth 1.0a/2.0 server for interop tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--log", help="log file (requests, and oauthlib's own debug log)")
    ap.add_argument("--pidfile")
    ap.add_argument("--token-lifetime", type=int, default=3600,
                    help="OAuth 2 access token lifetime in seconds (expires_in)")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="stop when the process that started this one is gone")
    args = ap.parse_args(argv)

    log_file = open(args.log, "a", buffering=1) if args.log else None
    if log_file:
        # oauthlib logs why it rejected a request (e.g. the signature base string).
        handler = logging.StreamHandler(log_file)
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(name)s: %(message)s"))
        logging.getLogger("oauthlib").addHandler(handler)
        logging.getLogger("oauthlib").setLevel(logging.DEBUG)
    else:
        logging.getLogger("oauthlib").addHandler(logging.NullHandler())
        logging.getLogger("oauthlib").propagate = False

    server = Server((args.host, args.port), log_file, args.token_lifetime)

    def stop(signum, frame):
        # shutdown() waits for serve_forever(), so it must run in another thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        lifeline.exit_with_parent(lambda: stop(None, None))
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    server.log("oauthlib server starting on %s (pid %d)" % (server.base, os.getpid()))
    print("oauthlib server listening on %s" % server.base, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.log("oauthlib server stopped")
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
