#!/usr/bin/python3
"""Local OAuth 1.0a + OAuth 2.0 provider for the mod_oauthclient integration tests.

Standard library only (Python 3.11).  Start it with

    /usr/bin/python3 t/provider/provider.py --host 127.0.0.1 --port PORT \
        [--pidfile F] [--log F] [--tls-cert C --tls-key K]

It prints "provider listening on http(s)://HOST:PORT" once the socket is bound
(--port 0 picks a free port and prints it) and exits cleanly on SIGTERM/SIGINT.
All state lives in memory, guarded by one lock.

Fixed credentials
-----------------
OAuth 2 clients (redirect URIs are not pre-registered: any absolute http(s)
redirect_uri is accepted, but the token request must repeat it exactly):
    oauth2-client / oauth2-secret   confidential (client_secret_basic or _post)
    public-client  (no secret)      public: PKCE required, token_endpoint_auth_method none
OAuth 1.0a consumers:
    oauth1-client / oauth1-secret   HMAC-SHA1, HMAC-SHA256, PLAINTEXT
    oauth1-rsa-client               RSA-SHA1 only; public key t/provider/rsa_pub.pem
                                    (private key for the client: t/provider/rsa_key.pem)
Users (login page):
    alice / wonderland              sub 1001, "Alice Liddell", alice@example.org
    bob   / builder                 sub 1002, "Bob the Builder", bob@example.org
The auto_approve=NAME shortcut accepts any non-empty NAME; unknown names get a
synthesised profile (sub "u-<hash>", NAME@example.org).

OAuth 2 endpoints (RFC 6749, RFC 7636, RFC 6750)
------------------------------------------------
GET  /oauth2/authorize   login + consent page (#username #password #allow #deny);
                         &auto_approve=NAME skips it, &auto_deny=1 denies at once;
                         response_mode=query (default) or form_post.
POST /oauth2/authorize   the page's form.
POST /oauth2/token       grant_type authorization_code | refresh_token |
                         client_credentials (confidential clients; the
                         token's user is "service:CLIENT_ID", no refresh token).
POST /oauth2/revoke      RFC 7009: token (+ token_type_hint), client
                         authentication as for /oauth2/token; the token stops
                         working; every call is listed in stats "revocations".
GET|POST /oauth2/userinfo  bearer token (header, query or form body) or OAuth 1.
ANY  /api/...            echo of the request as JSON; bearer token or OAuth 1.
DPoP (RFC 9449): a token request with a DPoP header gets token_type "DPoP",
its access token bound to the proof's key (RFC 7638 thumbprint), if the proof
is a dpop+jwt with alg ES256/RS256/PS256/EdDSA, a public jwk, htm POST, htu
the token endpoint, a jti and a recent iat; its signature is checked with
python3-cryptography when it can be imported (form and claims only without
it); a bad proof is answered 400 invalid_dpop_proof. A DPoP-bound token is
taken only as "Authorization: DPoP ..." with a proof by its key (htm, htu,
ath); without a DPoP header nothing changes.
Codes are single use (a replayed code also revokes the tokens issued from it,
RFC 6749 §4.1.2) and expire after code_lifetime (60 s).  Refresh tokens rotate
(rotate_refresh_tokens); when rotation is off the refresh response carries no
refresh_token, so the client must keep its old one.

OAuth 1.0a endpoints (RFC 5849)
-------------------------------
POST /oauth1/request_token   oauth_callback required (absolute URL or "oob")
GET  /oauth1/authorize       login + consent page (same ids), auto_approve / auto_deny
POST /oauth1/authorize
POST /oauth1/access_token    oauth_verifier required; request token single use
GET|POST /oauth1/userinfo    same as /oauth2/userinfo
Errors: 400 (missing/duplicate parameters, unsupported method) or 401 (bad
consumer/token/signature/timestamp/nonce/verifier), body
"oauth_problem=...", form encoded.  A signature_invalid answer also carries
the base string the provider computed (debug_base_string=...), for debugging.

OpenID Connect (Core 1.0 + Discovery 1.0, for mod_auth_openidc in bench/)
------------------------------------------------------------------------
GET  /.well-known/openid-configuration   discovery metadata (also at RFC 8414's
                         /.well-known/oauth-authorization-server); the issuer is
                         SCHEME://HOST of the request (its Host header), and
                         every endpoint above is listed under that issuer.
GET  /NAME/v2.0/.well-known/openid-configuration   the same document,
                         shaped as Microsoft Entra ID's: its issuer is
                         ISSUER/TID/v2.0, TID being NAME, or what config
                         tenant_domains maps NAME to, or for common and
                         organizations the template {tenantid}; its jwks_uri
                         /NAME/discovery/v2.0/keys (the same keys);
                         a user listed in config tenants gets id_tokens with
                         that tid and the tenant's issuer.
GET  /oauth2/jwks        the JWK Set: one RSA key (RS256), made at the first
                         OIDC request with python3-cryptography (the only
                         non-stdlib import, loaded only here), kept until exit.
A code whose scope holds "openid" makes the token response carry an id_token
(RS256; iss, sub, aud = client_id, exp, iat, auth_time, at_hash, nonce when
the authorization request sent one, and preferred_username/name/email, and
for alice and bob groups and email_verified). The refresh response carries
none, unless refresh_id_token is on: then one as OpenID Connect Core 12.2
has it (no nonce, the login's auth_time).  /oauth2/userinfo serves as the
OIDC userinfo endpoint (its "sub" is the id_token's; for alice and bob it
adds an address object).
GET|POST /oauth2/logout  end_session_endpoint: records the request
                         (last_end_session), then redirects to its
                         post_logout_redirect_uri with its state.

Test control (loopback clients only)
------------------------------------
GET  /_control/stats          counters + last_token_request, last_api_request,
                              last_oauth1_request, last_id_token,
                              last_end_session, last_apple_secret
POST /_control/reset          clears counters, tokens, codes, nonces AND config
GET  /_control/config         current configuration
POST /_control/config         JSON object, merged into the configuration; unknown
                              keys or bad values give 400.  Keys: see DEFAULT_CONFIG.
POST /_control/expire_tokens  every OAuth 2 access token issued so far expires now
POST /_control/rotate_oidc_key  a new id_token signing key (new kid); the JWKS serves it only
GET  /_control/issue_token?user=alice&client_id=oauth2-client&lifetime=N&scope=S
                              a fresh OAuth 2 token as JSON (+ expires_at);
                              with type=oauth1[&consumer_key=...] an OAuth 1 access token.

Endpoint modes (token_endpoint_mode for /oauth2/token, endpoint_modes
{"/path-prefix": MODE} for any non-control path): normal, error500, timeout
(hangs timeout_seconds then closes the connection without an answer),
not_json, error_200, invalid_grant, slow:SECONDS, hold:SECONDS (as slow, but
a request whose client hangs up meanwhile is dropped unprocessed), huge (a 2 MiB JSON body with
its Content-Length), stream (200, chunked, a JSON string that never ends: it
is written until the client hangs up, timeout_seconds pass or 1 GiB went
out), redirect (302 to redirect_location, default this provider's
/_evil/token, which answers any request with a well-formed token response and
counts redirect_target_requests); on the token endpoint also no_access_token,
form_encoded, form_unless_accept_json.  token_response_quirks is a list of
payload tweaks (see TOKEN_QUIRKS).  New modes and quirks are one small
function plus one dict entry each.

Hostile mode (the security tests, t/security/): a provider that answers with
whatever a test wants, within well-formed HTTP.
    token_override     {field: any JSON value}: set in every token response of
                       the authorization_code grant, after the quirks (a new
                       field is added; e.g. {"login": "x\r\ny"}, {"scope": ["a"]},
                       {"token_type": "mac"}, {"id_token": "<3 KB>"}).
    refresh_override   the same for the responses of the refresh_token grant.
    token_remove       [field, ...] removed from both (after the overrides).
    userinfo_override  {field: any JSON value}: set in the userinfo JSON
                       (OAuth 2 and OAuth 1 userinfo).
    oauth1_access_override  {field: string or [strings]}: set in the OAuth 1
                       access-token response (form encoded; a list repeats the
                       field), e.g. {"screen_name": "x\r\ny"}.
    callback_extra_params   [[name, value], ...]: appended, in this order, to
                       every authorization response sent to the client's
                       callback (OAuth 2 query or form_post fields; OAuth 1
                       callback query).  In a value, "{state}", "{code}",
                       "{oauth_token}" and "{oauth_verifier}" stand for the
                       genuine values of this response (to repeat them).
    redirect_location  where the redirect mode points (absolute URL or a path
                       on this provider); null: /_evil/token.
    api_early_hints    {name: string or [strings]}: every /api/ answer is preceded
                       by a 103 Early Hints interim response with these headers
                       (e.g. Set-Cookie, Link: rel=preload).
    api_response_headers  {name: string or [strings]}: added to every answer
                       of /api/... (also those of endpoint_modes; a list
                       repeats the header), e.g. {"Set-Cookie":
                       "oac_session=evil; path=/"}.
    api_response_html  true: /api/... answers 200 text/html, a page with a
                       <script> (the echo as escaped text in a <pre>), not JSON.
"""

import argparse
import base64
import copy
import hashlib
import hmac
import html
import ipaddress
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

import lifeline

HERE = os.path.dirname(os.path.abspath(__file__))

TENANT_DISCOVERY_RE = re.compile(r"^/([A-Za-z0-9._-]+)/v2\.0/\.well-known/openid-configuration$")
TENANT_KEYS_RE = re.compile(r"^/[A-Za-z0-9._-]+/discovery/v2\.0/keys$")

# --------------------------------------------------------------------------
# Fixed registrations
# --------------------------------------------------------------------------

USERS = {
    "alice": {"password": "wonderland", "sub": "1001", "name": "Alice Liddell",
              "email": "alice@example.org",
              # id_token claims beyond the profile (t/oauth2/16_claims.t)
              "id_claims": {"groups": ["staff", "admins"], "email_verified": True},
              # userinfo-only claims, merged over the id_token's
              "userinfo_claims": {"address": {"country": "FR", "locality": "Paris"}}},
    "bob": {"password": "builder", "sub": "1002", "name": "Bob the Builder",
            "email": "bob@example.org",
            "id_claims": {"groups": ["staff"], "email_verified": False},
            "userinfo_claims": {"address": {"country": "DE"}}},
}

OAUTH2_CLIENTS = {
    "oauth2-client": {"secret": "oauth2-secret", "public": False},
    "public-client": {"secret": None, "public": True},
    # Sign in with Apple's: its client_secret is a JWT it signs (config
    # apple_clients gives its team, key ID and key)
    "apple-client": {"secret": None, "public": False, "apple": True},
}

OAUTH1_CONSUMERS = {
    "oauth1-client": {"secret": "oauth1-secret", "methods": ("HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"),
                      "rsa_public_key_file": None},
    "oauth1-rsa-client": {"secret": "", "methods": ("RSA-SHA1",),
                          "rsa_public_key_file": os.path.join(HERE, "rsa_pub.pem")},
}

DEFAULT_SCOPE = "profile"

DEFAULT_CONFIG = {
    "access_token_lifetime": 3600,      # seconds, expires_in of new OAuth 2 access tokens
    "code_lifetime": 60,                # seconds an authorization code stays valid
    "token_endpoint_mode": "normal",    # see GENERIC_PRE_MODES / TOKEN_FORMATS
    "endpoint_modes": {},               # {"/path-prefix": generic mode} for other endpoints
    "token_response_quirks": [],        # names from TOKEN_QUIRKS
    "rotate_refresh_tokens": True,      # refresh issues a new refresh token, old one dies
    "revoke_grant_on_reuse": True,      # a rotated-away refresh token used again revokes
                                        # every token of its grant (stats: refresh_token_reuse)
    "issue_refresh_token": True,        # code exchange returns a refresh token
    "oauth1_callback_confirmed": "true",  # value sent; "absent" omits the parameter
    "timestamp_window": 300,            # OAuth 1 oauth_timestamp tolerance, seconds
    "timeout_seconds": 30,              # how long the "timeout" mode hangs
    "nasty_tokens": False,              # tokens/secrets contain + / = (encoding tests)
    "token_length": 0,                  # > 0: OAuth 2 access and refresh tokens this many
                                        # characters long (JWTs of Entra, Keycloak: 1-3 KB)
    "api_token_param": None,            # e.g. "oauth2_access_token": /api/ takes the bearer
                                        # token only as this query parameter (LinkedIn, Weibo)
    # hostile mode (see the module docstring)
    "token_override": {},               # {field: JSON value} in code-exchange token responses
    "refresh_override": {},             # {field: JSON value} in refresh responses
    "token_remove": [],                 # fields removed from both
    "userinfo_override": {},            # {field: JSON value} in the userinfo JSON
    "oauth1_access_override": {},       # {field: str or [str]} in the OAuth 1 access-token answer
    "callback_extra_params": [],        # [[name, value], ...] added to authorization responses
    "authorization_response_iss": False,  # RFC 9207: iss in every authorization response, and
                                        # the discovery document says so
    "metadata_override": {},            # {field: JSON value} in the discovery document
    "id_token_override": {},            # {claim: JSON value} in id_tokens (null removes it)
    "tenants": {},                      # {user: tenant ID}: that user's id_tokens carry tid
                                        # and the tenant's issuer, as Microsoft Entra ID's
                                        # (ISSUER/TID/v2.0; see tenant_discovery)
    "apple_clients": {},                # {client_id: {"team": ID, "kid": ID, "key_file": PEM}}:
                                        # the client_secret is checked as Sign in with
                                        # Apple checks it (an ES256 JWT of the team,
                                        # about the client, for this issuer)
    "tenant_domains": {},               # {domain: tenant ID}: what /DOMAIN/v2.0/...
                                        # names as the issuer
    "refresh_id_token": False,          # refresh responses of an openid grant carry an
                                        # id_token (OpenID Connect Core 12.2)
    "id_token_mode": "normal",          # normal, bad_signature, alg_none, unknown_kid, hs256,
                                        # no_kid (a valid id_token whose header names no kid)
                                        # (HS256 keyed by the RSA public key's JWK text:
                                        # the algorithm-confusion attack)
    "redirect_location": None,          # target of the "redirect" mode; None: /_evil/token
    "api_response_headers": {},         # {name: str or [str]} added to every /api/ answer
    "api_early_hints": {},              # {name: str or [str]}: when set, every /api/ answer
                                        # is preceded by a 103 Early Hints with these headers
    "api_response_html": False,         # /api/ answers an HTML page with a <script>
    "jwks_pad": 0,                      # bytes of padding in the JWKS document (x_pad)
}

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def pct(value):
    """RFC 3986 percent-encoding (RFC 5849 §3.6): only ALPHA DIGIT - . _ ~ stay."""
    return quote(str(value), safe="")  # Python >= 3.7 keeps "~" unreserved


def parse_form(data):
    """application/x-www-form-urlencoded bytes or str -> list of (name, value)."""
    if isinstance(data, bytes):
        data = data.decode("latin-1")  # a well-formed form body is ASCII
    return parse_qsl(data, keep_blank_values=True, encoding="utf-8", errors="replace")


def pkce_s256(verifier):
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")   # RFC 7636 §4.1
S256_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")    # base64url of 32 octets


def is_absolute_http_url(value):
    if not value or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7f for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def add_query(url, params):
    """Append params to url's query (keeping what is there), drop any fragment."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = parts.query + ("&" if parts.query and extra else "") + extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def is_form(content_type):
    return (content_type or "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


# Values of these parameters never reach the log.
_SECRET_PARAMS = ("access_token", "refresh_token", "code", "code_verifier", "client_secret",
                  "oauth_token", "oauth_verifier", "oauth_signature", "password", "denied",
                  "id_token", "token")
_REDACT_RE = re.compile(r"(?i)((?:^|[?&;\s\"'])(?:%s)=)[^&\s\"']*" % "|".join(_SECRET_PARAMS))


def redact(text):
    return _REDACT_RE.sub(r"\1***", text)


# --------------------------------------------------------------------------
# OAuth 1.0a signatures (RFC 5849 §3.4)
# --------------------------------------------------------------------------

_OAUTH_HEADER_PARAM_RE = re.compile(r'\s*([^=\s,]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


def parse_oauth_authorization(header):
    """'OAuth realm="x", oauth_consumer_key="..."' -> list of (name, value), realm dropped.

    Returns None when the header is not of the OAuth scheme."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    pairs = []
    for name, value in _OAUTH_HEADER_PARAM_RE.findall(rest):
        name, value = unquote(name), unquote(value)  # §3.5.1: values are percent-encoded
        if name != "realm":                            # §3.4.1.3.1: realm is excluded
            pairs.append((name, value))
    return pairs


def oauth1_request_parameters(authorization, query, content_type, body):
    """All request parameters of §3.4.1.3.1: Authorization header (minus realm),
    query string, and the entity body when it is form encoded.  oauth_signature
    is still included; the caller removes it before building the base string."""
    pairs = list(parse_oauth_authorization(authorization) or [])
    pairs += parse_form(query or "")
    if body and is_form(content_type):
        pairs += parse_form(body)
    return pairs


def base_string_uri(scheme, host, path):
    """§3.4.1.2: lowercase scheme and host, default port dropped, no query."""
    scheme = scheme.lower()
    host = (host or "").strip().lower()
    if host.startswith("["):                      # IPv6 literal, "[::1]:8080"
        end = host.find("]")
        name, port = host[:end + 1], host[end + 2:] if host[end + 1:end + 2] == ":" else ""
    else:
        name, _, port = host.partition(":")
    if port and not ((scheme == "http" and port == "80") or (scheme == "https" and port == "443")):
        name += ":" + port
    return "%s://%s%s" % (scheme, name, path or "/")


def normalized_parameters(pairs):
    """§3.4.1.3.2: encode names and values, sort by name then value, join."""
    encoded = sorted((pct(n), pct(v)) for n, v in pairs)
    return "&".join("%s=%s" % nv for nv in encoded)


def signature_base_string(method, uri, pairs):
    """§3.4.1.1.  pairs must not contain oauth_signature."""
    return "&".join((pct(method.upper()), pct(uri), pct(normalized_parameters(pairs))))


def signing_key(consumer_secret, token_secret):
    return "%s&%s" % (pct(consumer_secret or ""), pct(token_secret or ""))


def hmac_signature(method, base_string, consumer_secret, token_secret):
    digest = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[method]
    mac = hmac.new(signing_key(consumer_secret, token_secret).encode("utf-8"),
                   base_string.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def _der_next(data, pos):
    """One DER TLV at pos -> (tag, value bytes, next pos)."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, data[pos:pos + length], pos + length


_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption


def load_rsa_public_key(pem):
    """PEM 'PUBLIC KEY' (SubjectPublicKeyInfo) or 'RSA PUBLIC KEY' (PKCS#1) -> (n, e)."""
    m = re.search(r"-----BEGIN (RSA )?PUBLIC KEY-----(.*?)-----END", pem, re.S)
    if not m:
        raise ValueError("no PUBLIC KEY block")
    der = base64.b64decode("".join(m.group(2).split()))
    _, seq, _ = _der_next(der, 0)
    if not m.group(1):
        _, algorithm, pos = _der_next(seq, 0)
        if _RSA_OID not in algorithm:
            raise ValueError("not an RSA key")
        _, bits, _ = _der_next(seq, pos)          # BIT STRING: first octet = unused bits
        _, seq, _ = _der_next(bits[1:], 0)
    _, n, pos = _der_next(seq, 0)
    _, e, _ = _der_next(seq, pos)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


_SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")


def rsa_sha1_verify(public_key, message, signature_b64):
    """RSASSA-PKCS1-v1_5 with SHA-1 (RFC 8017 §8.2.2).  Rebuilds the whole
    expected encoding and compares it, instead of parsing the decrypted block,
    which rules out the classic lenient-padding forgeries."""
    n, e = public_key
    k = (n.bit_length() + 7) // 8
    try:
        sig = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return False
    if len(sig) != k:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = _SHA1_DIGEST_INFO + hashlib.sha1(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(em, expected)


def _load_consumer_keys():
    for consumer in OAUTH1_CONSUMERS.values():
        path = consumer.get("rsa_public_key_file")
        consumer["rsa_public_key"] = None
        if path and os.path.exists(path):
            with open(path) as f:
                consumer["rsa_public_key"] = load_rsa_public_key(f.read())


# --------------------------------------------------------------------------
# Endpoint modes and token response quirks
# --------------------------------------------------------------------------
# A "pre" mode runs before the endpoint's own logic (nothing is issued or
# consumed) and returns True when it has answered.  A "format" mode turns the
# finished token payload into the HTTP answer.  A quirk edits the payload.


def _mode_error500(h):
    h.respond(500, b"Internal Server Error\n", "text/plain")
    return True


def _mode_timeout(h):
    # Never answer: hang, then drop the connection.  Sleeps in small steps so
    # SIGTERM is not held up.
    deadline = time.monotonic() + float(h.state.config["timeout_seconds"])
    while time.monotonic() < deadline and not h.server.stopping.is_set():
        time.sleep(0.05)
    h.close_connection = True
    h.log_line(0)
    return True


def _mode_not_json(h):
    h.respond(200, b"<html><body><h1>Service temporarily unavailable</h1></body></html>\n",
              "text/html; charset=utf-8")
    return True


def _mode_error_200(h):
    h.send_json(200, {"error": "server_error", "error_description": "error with HTTP 200 (test mode)"},
                {"Cache-Control": "no-store", "Pragma": "no-cache"})
    return True


def _mode_invalid_grant(h):
    h.oauth2_error(400, "invalid_grant", "rejected by test mode invalid_grant")
    return True


def _mode_huge(h):
    # A body far beyond what a client should accept from a token endpoint.
    h.respond(200, b"{\"access_token\": \"" + b"x" * (2 * 1024 * 1024) + b"\"}",
              "application/json")
    return True


def _mode_stream(h):
    # An answer that never ends: chunked, a JSON string growing until the
    # client hangs up (or timeout_seconds pass, or 1 GiB went out).
    h._status = 200
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    h.close_connection = True
    deadline = time.monotonic() + float(h.state.config["timeout_seconds"])
    chunk = b"x" * 65536
    sent = 0
    try:
        head = b'{"access_token": "at-'
        h.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
        while (time.monotonic() < deadline and not h.server.stopping.is_set()
               and sent < 1024 ** 3):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass  # the client gave up: what a careful client does
    h.log_line(200)
    return True


def _mode_redirect(h):
    with h.state.lock:
        target = h.state.config["redirect_location"] or "/_evil/token"
    if target.startswith("/"):
        target = "%s://%s%s" % (h.server.scheme, h.server.host_port, target)
    # 307 would make a client repeat the POST; 302 is what the tests ask for
    h.respond(302, b"Moved\n", "text/plain", {"Location": target})
    return True


GENERIC_PRE_MODES = {
    "normal": None,
    "huge": _mode_huge,
    "stream": _mode_stream,
    "redirect": _mode_redirect,
    "error500": _mode_error500,
    "timeout": _mode_timeout,
    "not_json": _mode_not_json,
    "error_200": _mode_error_200,
    "invalid_grant": _mode_invalid_grant,
}

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _format_json(h, payload):
    h.send_json(200, payload, NO_STORE)


def _format_no_access_token(h, payload):
    payload = {k: v for k, v in payload.items() if k != "access_token"}
    h.send_json(200, payload, NO_STORE)


def _format_form(h, payload):
    # GitHub's historical answer: form encoded, token_type lowercase.
    h.respond(200, urlencode(payload).encode("ascii"), "application/x-www-form-urlencoded", NO_STORE)


def _format_form_unless_json(h, payload):
    if "json" in (h.headers.get("Accept") or "").lower():
        _format_json(h, payload)
    else:
        _format_form(h, payload)


def _format_text_plain(h, payload):
    # Facebook's old answer: form encoded, served as text/plain.
    h.respond(200, urlencode(payload).encode("ascii"), "text/plain; charset=UTF-8", NO_STORE)


TOKEN_FORMATS = {
    "normal": _format_json,
    "text_plain": _format_text_plain,
    "no_access_token": _format_no_access_token,
    "form_encoded": _format_form,
    "form_unless_accept_json": _format_form_unless_json,
}


def _quirk_scope_comma(p):
    if "scope" in p:
        p["scope"] = ",".join(p["scope"].split())


def _quirk_expires_alias(p):  # Facebook's old "expires"
    if "expires_in" in p:
        p["expires"] = p.pop("expires_in")


def _quirk_slack_nested(p):
    # Slack's OAuth v2 user token: the user's token under "authed_user",
    # of type "user", the top level carrying the bot's token and fields
    # (an app that asked for bot scopes too).
    user = {k: p.pop(k) for k in ("access_token", "token_type", "expires_in",
                                  "refresh_token", "scope") if k in p}
    user["id"] = p["_user"]["sub"]
    user["token_type"] = "user"
    p["authed_user"] = user
    p["ok"] = True
    p.update(access_token="xoxb-the-workspace-bot", token_type="bot", scope="commands")


def _quirk_camel_case(p):
    for snake, camel in (("access_token", "accessToken"), ("refresh_token", "refreshToken"),
                         ("expires_in", "expiresIn"), ("token_type", "tokenType")):
        if snake in p:
            p[camel] = p.pop(snake)


TOKEN_QUIRKS = {
    "slack_nested": _quirk_slack_nested,
    "camel_case": _quirk_camel_case,
    "expires_in_zero": lambda p: p.update(expires_in=0),
    "token_type_lowercase": lambda p: p.update(token_type="bearer"),
    "no_token_type": lambda p: p.pop("token_type", None),
    "expires_in_string": lambda p: p.update(expires_in=str(p["expires_in"])) if "expires_in" in p else None,
    "no_expires_in": lambda p: p.pop("expires_in", None),
    "expires_alias": _quirk_expires_alias,
    "no_scope": lambda p: p.pop("scope", None),
    "scope_comma": _quirk_scope_comma,
    "no_refresh_token": lambda p: p.pop("refresh_token", None),
    # user fields in the token response (Slack, Dropbox style), for user_claim
    "user_fields": lambda p: p.update(user_id=p["_user"]["sub"], login=p["_user"]["login"]),
}


def _valid_mode(value, table):
    if not isinstance(value, str):
        return False
    if value.startswith("slow:") or value.startswith("hold:"):
        try:
            return float(value[5:]) >= 0
        except ValueError:
            return False
    return value in table


def _header_token(name):
    return isinstance(name, str) and re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) is not None


def _header_value(value):
    # what the provider sends stays well-formed HTTP: no CR, LF or NUL
    return isinstance(value, str) and not any(c in value for c in "\r\n\x00")


def validate_config(update):
    """Check a /_control/config body; returns an error string or None."""
    if not isinstance(update, dict):
        return "config must be a JSON object"
    for key, value in update.items():
        if key not in DEFAULT_CONFIG:
            return "unknown config key %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_CONFIG)))
        if key in ("access_token_lifetime", "code_lifetime", "timestamp_window", "jwks_pad"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif key == "timeout_seconds":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        elif key in ("rotate_refresh_tokens", "issue_refresh_token", "nasty_tokens",
                     "api_response_html", "revoke_grant_on_reuse", "refresh_id_token"):
            ok = isinstance(value, bool)
        elif key == "oauth1_callback_confirmed":
            ok = isinstance(value, str)
        elif key == "api_token_param":
            ok = value is None or value in ("access_token", "oauth2_access_token")
        elif key == "token_endpoint_mode":
            ok = _valid_mode(value, {**GENERIC_PRE_MODES, **TOKEN_FORMATS})
        elif key == "endpoint_modes":
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and k.startswith("/") and _valid_mode(v, GENERIC_PRE_MODES)
                for k, v in value.items())
        elif key == "token_response_quirks":
            ok = isinstance(value, list) and all(q in TOKEN_QUIRKS for q in value)
        elif key == "id_token_mode":
            ok = value in ("normal", "bad_signature", "alg_none", "unknown_kid", "hs256", "no_kid")
        elif key in ("token_override", "refresh_override", "userinfo_override",
                     "metadata_override", "id_token_override"):
            ok = isinstance(value, dict)
        elif key == "apple_clients":
            ok = isinstance(value, dict) and all(
                isinstance(v, dict) and all(isinstance(v.get(k), str) for k in ("team", "kid", "key_file"))
                for v in value.values())
        elif key in ("tenants", "tenant_domains"):
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        elif key == "token_remove":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif key == "oauth1_access_override":
            ok = isinstance(value, dict) and all(
                isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
                for v in value.values())
        elif key == "callback_extra_params":
            ok = isinstance(value, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                for p in value)
        elif key in ("api_response_headers", "api_early_hints"):
            ok = isinstance(value, dict) and all(
                _header_token(k) and (_header_value(v) or (
                    isinstance(v, list) and all(_header_value(x) for x in v)))
                for k, v in value.items())
        elif key == "redirect_location":
            ok = value is None or (isinstance(value, str)
                                   and (value.startswith("/") or is_absolute_http_url(value)))
        else:
            ok = True
        if not ok:
            return "bad value for %s: %r" % (key, value)
    return None


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------

COUNTERS = ("token_requests", "refresh_requests", "authorization_code_requests",
            "request_token_requests", "access_token_requests", "api_requests",
            "userinfo_requests", "authorize_requests", "oauth1_authorize_requests",
            "oidc_requests", "redirect_target_requests", "revocation_requests",
            "refresh_token_reuse", "abandoned_requests", "jwks_requests",
            "end_session_requests", "client_credentials_requests")


class State:
    """Everything the provider remembers.  Callers hold self.lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.last = {"last_token_request": None, "last_api_request": None,
                     "last_oauth1_request": None, "revocations": [],
                     "last_id_token": None, "last_end_session": None,
                     "last_apple_secret": None}
        self.codes = {}            # code -> grant (kept after use to detect replays)
        self.access_tokens = {}    # OAuth 2 access token -> record
        self.refresh_tokens = {}   # OAuth 2 refresh token -> record
        self.spent_refresh_tokens = {}  # rotated-away refresh token -> its grant's code
        self.o1_request_tokens = {}
        self.o1_access_tokens = {}
        self.nonces = {}           # (consumer, token, timestamp, nonce) -> time seen

    def new_token(self, prefix):
        if self.config["nasty_tokens"]:
            # standard base64 plus a fixed tail: always contains + / =
            return prefix + base64.b64encode(secrets.token_bytes(18)).decode() + "+/="
        length = self.config["token_length"]
        if length > len(prefix) + 32:
            tail = secrets.token_urlsafe(length)  # > length characters
            return (prefix + tail)[:length]
        return prefix + secrets.token_urlsafe(24)

    def issue_oauth2(self, user, client_id, scope, lifetime=None, code=None, refresh=True):
        """New access (+ refresh) token; returns the token response payload."""
        if lifetime is None:
            lifetime = self.config["access_token_lifetime"]
        at = self.new_token("at-")
        self.access_tokens[at] = {"user": user, "client_id": client_id, "scope": scope,
                                  "expires_at": time.time() + lifetime, "code": code}
        payload = {"access_token": at, "token_type": "Bearer", "expires_in": lifetime}
        if refresh:
            rt = self.new_token("rt-")
            self.refresh_tokens[rt] = {"user": user, "client_id": client_id, "scope": scope,
                                       "code": code}
            payload["refresh_token"] = rt
        payload["scope"] = scope
        return payload

    def issue_oauth1(self, user, consumer):
        token, secret = self.new_token("o1at-"), self.new_token("")
        self.o1_access_tokens[token] = {"secret": secret, "consumer": consumer, "user": user}
        profile = user_profile(user)
        return {"oauth_token": token, "oauth_token_secret": secret,
                "user_id": profile["sub"], "screen_name": user}

    def seen_nonce(self, key, window):
        """Record key; True if it was already there.  Old entries are pruned."""
        now = time.time()
        if len(self.nonces) > 10000:
            self.nonces = {k: t for k, t in self.nonces.items() if now - t < 2 * window + 60}
        if key in self.nonces:
            return True
        self.nonces[key] = now
        return False


def user_profile(user):
    known = USERS.get(user)
    if known:
        return {"sub": known["sub"], "login": user, "name": known["name"], "email": known["email"]}
    return {"sub": "u-" + hashlib.sha256(user.encode()).hexdigest()[:12], "login": user,
            "name": user, "email": "%s@example.org" % user}


# --------------------------------------------------------------------------
# OpenID Connect: an RS256 signing key, its JWK, id_tokens
# --------------------------------------------------------------------------

def b64url(data):
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")


# --------------------------------------------------------------------------
# DPoP (RFC 9449): proofs at the token endpoint and at the resources
# --------------------------------------------------------------------------

DPOP_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
DPOP_MAX_AGE = 300      # seconds either side of the proof's iat


def b64url_decode(text):
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_thumbprint(jwk):
    """RFC 7638: SHA-256 over the required members, sorted, no spaces."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                "OKP": ("crv", "kty", "x")}.get(jwk.get("kty"))
    if required is None or not all(isinstance(jwk.get(k), str) for k in required):
        raise ValueError("unsupported or incomplete jwk")
    members = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(members.encode()).digest())


def pem_public_jwk(path):
    """The public JWK of the EC P-256 private key in a PEM file."""
    from cryptography.hazmat.primitives import serialization
    with open(path, "rb") as f:
        numbers = serialization.load_pem_private_key(f.read(), None).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big"))}


def dpop_signature_ok(alg, jwk, signing_input, signature):
    """True or False; None when python3-cryptography is missing, so that
    the provider (standard library otherwise) still runs without it and
    then checks only the proof's form and claims."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    except ImportError:
        return None
    def num(name):
        return int.from_bytes(b64url_decode(jwk[name]), "big")
    try:
        if alg == "ES256":
            if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or len(signature) != 64:
                return False
            key = ec.EllipticCurvePublicNumbers(num("x"), num("y"), ec.SECP256R1()).public_key()
            key.verify(encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                            int.from_bytes(signature[32:], "big")),
                       signing_input, ec.ECDSA(hashes.SHA256()))
        elif alg in ("RS256", "PS256"):
            if jwk.get("kty") != "RSA":
                return False
            key = rsa.RSAPublicNumbers(num("e"), num("n")).public_key()
            pad = (padding.PKCS1v15() if alg == "RS256" else
                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32))
            key.verify(signature, signing_input, pad, hashes.SHA256())
        elif alg == "EdDSA":
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                return False
            ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(
                signature, signing_input)
        else:
            return False
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def _htu_normal(url):
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/")


def check_dpop_proof(proof, method, url, access_token=None, now=None):
    """RFC 9449 §4.3 (without jti replay tracking): -> (jkt, None), the
    thumbprint of the proof's key, or (None, why)."""
    parts = proof.split(".") if isinstance(proof, str) else []
    if len(parts) != 3:
        return None, "the DPoP proof is not a compact JWS"
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        return None, "the DPoP proof does not decode"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None, "the DPoP proof's header or claims are not objects"
    if header.get("typ") != "dpop+jwt":
        return None, "the DPoP proof's typ is not dpop+jwt"
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in DPOP_ALGS:
        return None, "the DPoP proof's alg is not one of %s" % ", ".join(DPOP_ALGS)
    if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk:
        return None, "the DPoP proof has no public jwk"
    try:
        jkt = jwk_thumbprint(jwk)
    except ValueError as exc:
        return None, "the DPoP proof's jwk: %s" % exc
    if claims.get("htm") != method:
        return None, "the DPoP proof's htm is not %s" % method
    if not isinstance(claims.get("htu"), str) or _htu_normal(claims["htu"]) != _htu_normal(url):
        return None, "the DPoP proof's htu is not %s" % url
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        return None, "the DPoP proof has no jti"
    iat = claims.get("iat")
    now = time.time() if now is None else now
    if not isinstance(iat, (int, float)) or abs(now - iat) > DPOP_MAX_AGE:
        return None, "the DPoP proof's iat is missing or too far from now"
    if access_token is not None:
        ath = b64url(hashlib.sha256(access_token.encode()).digest())
        if claims.get("ath") != ath:
            return None, "the DPoP proof's ath is not the access token's hash"
    if dpop_signature_ok(alg, jwk, (parts[0] + "." + parts[1]).encode("ascii"), signature) is False:
        return None, "the DPoP proof's signature does not verify"
    return jkt, None


class OIDCSigner:
    """One RSA key, made on first use; signs compact JWS with RS256.

    python3-cryptography is imported here only, so the rest of the provider
    stays standard-library only."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self.kid = None

    def _private_key(self):
        with self._lock:
            if self._key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                numbers = self._key.public_key().public_numbers()
                # RFC 7638 thumbprint as the key id
                thumb = json.dumps({"e": b64url(_int_bytes(numbers.e)), "kty": "RSA",
                                    "n": b64url(_int_bytes(numbers.n))},
                                   separators=(",", ":"), sort_keys=True)
                self.kid = b64url(hashlib.sha256(thumb.encode()).digest())
            return self._key

    def jwks(self):
        numbers = self._private_key().public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}]}

    def rotate(self):
        """A new key and kid, as a provider rotating its signing key."""
        with self._lock:
            self._key = None
        self._private_key()

    def sign(self, claims, mode="normal"):
        """mode: the faults a client must refuse (see id_token_mode)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        key = self._private_key()
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        if mode == "alg_none":
            header = {"alg": "none", "typ": "JWT"}
        elif mode == "unknown_kid":
            header["kid"] = "no-such-key-" + secrets.token_urlsafe(8)
        elif mode == "no_kid":
            del header["kid"]
        elif mode == "hs256":
            header["alg"] = "HS256"
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        if mode == "alg_none":
            return signing_input + "."
        if mode == "hs256":
            secret = json.dumps(self.jwks()["keys"][0], separators=(",", ":")).encode()
            return signing_input + "." + b64url(hmac.new(secret, signing_input.encode("ascii"),
                                                         hashlib.sha256).digest())
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        if mode == "bad_signature":
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        return signing_input + "." + b64url(signature)


def at_hash(access_token):
    """OIDC Core §3.1.3.6: left half of SHA-256 of the token, base64url (RS256)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return b64url(digest[:len(digest) // 2])


def id_token_claims(issuer, client_id, user, nonce, access_token, lifetime, now=None):
    now = int(now if now is not None else time.time())
    profile = user_profile(user)
    claims = {"iss": issuer, "sub": profile["sub"], "aud": client_id, "exp": now + max(lifetime, 60),
              "iat": now, "auth_time": now, "at_hash": at_hash(access_token),
              "preferred_username": user, "name": profile["name"], "email": profile["email"]}
    claims.update(copy.deepcopy(USERS.get(user, {}).get("id_claims", {})))
    if nonce is not None:
        claims["nonce"] = nonce
    return claims


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:2em auto}}
.error{{color:#b00}} label{{display:block;margin-top:.5em}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def page(title, body):
    return PAGE.format(title=html.escape(title), body=body).encode("utf-8")


def consent_page(action, client, scope, hidden, error=None):
    fields = "\n".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                       for k, v in hidden.items() if v is not None)
    body = ('<p>The application <strong id="client">%s</strong> asks for access to your account'
            '%s.</p>\n' % (html.escape(client),
                           ' (scope: <span id="scope">%s</span>)' % html.escape(scope) if scope else ""))
    if error:
        body += '<p id="error" class="error">%s</p>\n' % html.escape(error)
    # No "required" attributes: the Deny button must submit an empty form.
    body += ('<form id="consent" method="post" action="%s">\n%s\n'
             '<label for="username">Username</label>'
             '<input id="username" name="username" autocomplete="username">\n'
             '<label for="password">Password</label>'
             '<input id="password" name="password" type="password" autocomplete="current-password">\n'
             '<p><button id="allow" type="submit" name="decision" value="allow">Allow</button>\n'
             '<button id="deny" type="submit" name="decision" value="deny">Deny</button></p>\n'
             '</form>' % (html.escape(action), fields))
    return page("Sign in - test OAuth provider", body)


def form_post_page(action, params):
    """OAuth 2.0 Form Post Response Mode: an auto-submitting form."""
    pairs = params.items() if isinstance(params, dict) else params
    fields = "\n".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                       for k, v in pairs)
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Submit This Form</title></head>\n'
            '<body onload="document.forms[0].submit()">\n'
            '<form method="post" action="%s">\n%s\n'
            '<noscript><button type="submit">Continue</button></noscript>\n'
            '</form></body></html>\n' % (html.escape(action), fields)).encode("utf-8")


# --------------------------------------------------------------------------
# Request handler
# --------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive; every answer has Content-Length
    server_version = "TestOAuthProvider/1.0"
    timeout = 120                   # idle keep-alive connections are dropped after this
    # Headers and body leave in two send()s; on connections libcurl keeps
    # alive, Nagle plus delayed ACKs would hold each answer ~40 ms.
    disable_nagle_algorithm = True

    @property
    def state(self):
        return self.server.state

    # ---- plumbing -------------------------------------------------------

    def handle_one_request(self):
        self._started = time.monotonic()
        self._status = None
        self._extra_headers = {}    # api_response_headers, for /api/ answers
        super().handle_one_request()

    def do_any(self):
        try:
            self.body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self.respond(400, ("bad request body: %s\n" % exc).encode(), "text/plain")
            return
        split = urlsplit(self.path)
        self.req_path, self.req_query = split.path, split.query
        self.query_pairs = parse_form(self.req_query)
        try:
            self.dispatch()
        except Exception as exc:  # a bug here must not kill the connection silently
            import traceback
            self.server.log(redact("ERROR %s %s: %s" % (self.command, self.req_path,
                                                        traceback.format_exc())))
            if self._status is None:
                self.respond(500, ("provider error: %s\n" % type(exc).__name__).encode(), "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > 16 * 1024 * 1024:
            raise ValueError("Content-Length out of range")
        return self.rfile.read(length) if length else b""

    def respond(self, status, body, content_type, headers=None):
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for name, value in self._extra_headers.items():
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, one)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_line(status)

    def send_json(self, status, obj, headers=None):
        self.respond(status, (json.dumps(obj, indent=1) + "\n").encode("utf-8"),
                     "application/json", headers)

    def send_html(self, status, body, headers=None):
        self.respond(status, body, "text/html; charset=utf-8", headers)

    def redirect(self, location):
        self.respond(302, b"Redirecting\n", "text/plain", {"Location": location})

    def error_page(self, status, message):
        self.send_html(status, page("Error", '<p id="error" class="error">%s</p>' % html.escape(message)))

    def log_request(self, code="-", size="-"):
        pass  # replaced by log_line(), which redacts tokens

    def log_message(self, fmt, *args):
        self.server.log(redact("%s %s" % (self.client_address[0], fmt % args)))

    def log_line(self, status):
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        self.server.log(redact('%s "%s %s" %s %.0fms' % (self.client_address[0], self.command,
                                                        self.path, status or "no-answer", elapsed)))

    def header_dict(self):
        out = {}
        for name, value in self.headers.items():
            out[name] = out[name] + ", " + value if name in out else value
        return out

    def form(self):
        """Form body pairs (only when the body is declared form encoded)."""
        return parse_form(self.body) if is_form(self.headers.get("Content-Type")) else []

    # ---- routing --------------------------------------------------------

    ROUTES = {
        "/oauth2/authorize": ("authorize_requests", "oauth2_authorize"),
        "/oauth2/token": ("token_requests", "oauth2_token"),
        "/oauth2/revoke": ("revocation_requests", "oauth2_revoke"),
        "/oauth2/userinfo": ("userinfo_requests", "userinfo"),
        "/oauth1/request_token": ("request_token_requests", "oauth1_request_token"),
        "/oauth1/authorize": ("oauth1_authorize_requests", "oauth1_authorize"),
        "/oauth1/access_token": ("access_token_requests", "oauth1_access_token"),
        "/oauth1/userinfo": ("userinfo_requests", "userinfo"),
        "/.well-known/openid-configuration": ("oidc_requests", "oidc_discovery"),
        "/.well-known/oauth-authorization-server": ("oidc_requests", "oidc_discovery"),
        "/oauth2/jwks": ("jwks_requests", "oidc_jwks"),
        "/oauth2/logout": ("end_session_requests", "end_session"),
        "/_evil/token": ("redirect_target_requests", "evil_token"),
    }

    def dispatch(self):
        path = self.req_path
        if path.startswith("/_control/"):
            return self.control(path[len("/_control/"):])
        if path.startswith("/api/") or path == "/api":
            counter, handler = "api_requests", "api"
        elif path in self.ROUTES:
            counter, handler = self.ROUTES[path]
        elif TENANT_DISCOVERY_RE.match(path):
            counter, handler = "oidc_requests", "tenant_discovery"
        elif TENANT_KEYS_RE.match(path):
            counter, handler = "jwks_requests", "oidc_jwks"
        else:
            return self.error_page(404, "no such endpoint: %s" % path)
        with self.state.lock:
            self.state.counters[counter] += 1
            hints = {}
            if counter == "api_requests":
                self._extra_headers = copy.deepcopy(self.state.config["api_response_headers"])
                hints = copy.deepcopy(self.state.config["api_early_hints"])
            if path == "/oauth2/token":
                self._record_token_request()
            mode = self._mode_for(path)
        if self._pre_mode(mode):
            return
        if hints:
            self._early_hints(hints)
        getattr(self, handler)()

    def _early_hints(self, headers):
        """RFC 8297: a 103 interim response before the answer."""
        self.send_response_only(103, "Early Hints")
        for name, value in headers.items():
            for v in value if isinstance(value, list) else [value]:
                self.send_header(name, v)
        self.end_headers()
        self.wfile.flush()

    def _hold(self, seconds):
        """Waits like slow:, but a request whose client hung up meanwhile
        is dropped unprocessed (counted as abandoned_requests): what a
        client killed before its request was handled leaves behind."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    gone = self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    gone = True
                if gone:
                    with self.state.lock:
                        self.state.counters["abandoned_requests"] += 1
                    self.close_connection = True
                    return True
                time.sleep(0.05)
        return False

    def _mode_for(self, path):
        config = self.state.config
        if path == "/oauth2/token" and config["token_endpoint_mode"] != "normal":
            return config["token_endpoint_mode"]
        best = ""
        for prefix in config["endpoint_modes"]:
            if path.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return config["endpoint_modes"].get(best, "normal")

    def _pre_mode(self, mode):
        if mode.startswith("slow:"):
            time.sleep(float(mode[5:]))
            return False
        if mode.startswith("hold:"):
            return self._hold(float(mode[5:]))
        handler = GENERIC_PRE_MODES.get(mode)
        return bool(handler and handler(self))

    # ---- OAuth 2: authorization endpoint --------------------------------

    AUTHZ_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state",
                    "code_challenge", "code_challenge_method", "response_mode", "nonce")

    def oauth2_authorize(self):
        if self.command not in ("GET", "POST"):
            return self.error_page(405, "use GET or POST")
        pairs = self.query_pairs if self.command == "GET" else self.form()
        params = {}
        for name, value in pairs:
            if name in self.AUTHZ_PARAMS and name in params:
                return self.error_page(400, "parameter %s given more than once" % name)
            params[name] = value
        request = self._check_authz_request(params)
        if request is None:
            return  # answered
        if self.command == "GET":
            if params.get("auto_deny"):
                return self._authz_deny(request)
            if params.get("auto_approve"):
                return self._authz_approve(request, params["auto_approve"])
            return self.send_html(200, self._consent(request))
        # POST from the consent page
        if params.get("decision") == "deny":
            return self._authz_deny(request)
        if params.get("decision") != "allow":
            return self.send_html(400, self._consent(request, "Choose Allow or Deny."))
        user = params.get("username", "")
        if user not in USERS or not hmac.compare_digest(USERS[user]["password"], params.get("password", "")):
            return self.send_html(200, self._consent(request, "Invalid username or password."))
        return self._authz_approve(request, user)

    def _consent(self, request, error=None):
        hidden = {k: request.get(k) for k in self.AUTHZ_PARAMS}
        return consent_page("/oauth2/authorize", request["client_id"], request["scope"], hidden, error)

    def _check_authz_request(self, p):
        """Validate; answer and return None on error, else the request dict."""
        client_id, redirect_uri = p.get("client_id"), p.get("redirect_uri")
        # Errors about the client or redirect URI are shown, never redirected (§4.1.2.1).
        if client_id not in OAUTH2_CLIENTS:
            self.error_page(400, "invalid_request: unknown or missing client_id")
            return None
        if not redirect_uri:
            self.error_page(400, "invalid_request: missing redirect_uri (none is registered)")
            return None
        if not is_absolute_http_url(redirect_uri) or "#" in redirect_uri:
            self.error_page(400, "invalid_request: redirect_uri must be an absolute http(s) URL "
                                 "without fragment")
            return None
        request = {k: p.get(k) for k in self.AUTHZ_PARAMS}
        mode = p.get("response_mode") or "query"
        request["response_mode"] = mode if mode in ("query", "form_post") else "query"
        request["scope"] = p.get("scope") or DEFAULT_SCOPE

        def fail(error, description):
            self._authz_respond(request, {"error": error, "error_description": description})
            return None

        if mode not in ("query", "form_post"):
            return fail("invalid_request", "unsupported response_mode")
        if p.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        challenge, method = p.get("code_challenge"), p.get("code_challenge_method")
        if challenge is None:
            if method:
                return fail("invalid_request", "code_challenge_method without code_challenge")
            if OAUTH2_CLIENTS[client_id]["public"]:
                return fail("invalid_request", "PKCE (code_challenge) is required for public clients")
        else:
            method = method or "plain"  # RFC 7636 §4.3 default
            if method not in ("S256", "plain"):
                return fail("invalid_request", "transform algorithm not supported")
            pattern = S256_CHALLENGE_RE if method == "S256" else VERIFIER_RE
            if not pattern.match(challenge):
                return fail("invalid_request", "malformed code_challenge")
            request["code_challenge_method"] = method
        return request

    def _with_extra_params(self, params):
        """params (dict) -> list of pairs, plus callback_extra_params (hostile mode)."""
        pairs = list(params.items())
        with self.state.lock:
            extra = copy.deepcopy(self.state.config["callback_extra_params"])
        for name, value in extra:
            for key in ("state", "code", "oauth_token", "oauth_verifier"):
                value = value.replace("{%s}" % key, str(params.get(key, "")))
            pairs.append((name, value))
        return pairs

    def _authz_respond(self, request, params):
        if request.get("state") is not None:
            params["state"] = request["state"]
        with self.state.lock:
            if self.state.config["authorization_response_iss"]:
                params["iss"] = self.issuer()
        params = self._with_extra_params(params)
        if request["response_mode"] == "form_post":
            return self.send_html(200, form_post_page(request["redirect_uri"], params), NO_STORE)
        return self.redirect(add_query(request["redirect_uri"], params))

    def _authz_deny(self, request):
        self._authz_respond(request, {"error": "access_denied",
                                      "error_description": "The resource owner denied the request"})

    def _authz_approve(self, request, user):
        with self.state.lock:
            code = self.state.new_token("code-")
            self.state.codes[code] = {
                "client_id": request["client_id"], "redirect_uri": request["redirect_uri"],
                "scope": request["scope"], "user": user,
                "code_challenge": request["code_challenge"],
                "code_challenge_method": request["code_challenge_method"],
                "nonce": request.get("nonce"),
                "expires_at": time.time() + self.state.config["code_lifetime"], "used": False}
        self._authz_respond(request, {"code": code})

    # ---- OAuth 2: token endpoint ----------------------------------------

    def _token_auth_method(self, form):
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            return "client_secret_basic"
        if "client_secret" in form:
            return "client_secret_post"
        return "none"

    def _record_token_request(self):  # caller holds the lock
        form = dict(self.form())
        grant = form.get("grant_type")
        if grant == "authorization_code":
            self.state.counters["authorization_code_requests"] += 1
        elif grant == "refresh_token":
            self.state.counters["refresh_requests"] += 1
        self.state.last["last_token_request"] = {
            "auth_method": self._token_auth_method(form), "method": self.command,
            "params": form, "headers": self.header_dict(),
            "body": self.body.decode("utf-8", "replace")}

    def oauth2_error(self, status, error, description, headers=None):
        h = dict(NO_STORE)
        h.update(headers or {})
        self.send_json(status, {"error": error, "error_description": description}, h)

    def oauth2_token(self):
        if self.command != "POST":
            return self.oauth2_error(405, "invalid_request", "the token endpoint takes POST")
        if not is_form(self.headers.get("Content-Type")):
            return self.oauth2_error(400, "invalid_request",
                                     "body must be application/x-www-form-urlencoded")
        pairs = self.form()
        form = {}
        for name, value in pairs:
            if name in form:  # RFC 6749 §3.2: parameters MUST NOT be repeated
                return self.oauth2_error(400, "invalid_request", "parameter %s repeated" % name)
            form[name] = value
        client_id = self._authenticate_client(form)
        if client_id is None:
            return
        jkt, why = self._token_request_dpop()
        if why:
            return self.oauth2_error(400, "invalid_dpop_proof", why)
        grant = form.get("grant_type")
        with self.state.lock:
            if grant == "authorization_code":
                result = self._grant_code(form, client_id)
            elif grant == "refresh_token":
                result = self._grant_refresh(form, client_id)
            elif grant == "client_credentials":
                result = self._grant_client_credentials(form, client_id)
            elif not grant:
                result = ("invalid_request", "missing grant_type")
            else:
                result = ("unsupported_grant_type", "grant_type %s is not supported" % grant)
            if jkt and not isinstance(result, tuple):
                self._bind_dpop(result, jkt)
            mode = self.state.config["token_endpoint_mode"]
            quirks = list(self.state.config["token_response_quirks"])
            override = copy.deepcopy(self.state.config[
                "refresh_override" if grant == "refresh_token" else "token_override"])
            remove = list(self.state.config["token_remove"])
        if isinstance(result, tuple):
            return self.oauth2_error(400, *result)
        payload = result
        for quirk in quirks:
            TOKEN_QUIRKS[quirk](payload)
        payload.pop("_user", None)
        payload.update(override)    # hostile mode: any field, any JSON value
        for name in remove:
            payload.pop(name, None)
        TOKEN_FORMATS.get(mode, _format_json)(self, payload)

    def _token_request_dpop(self):
        """-> (jkt, None) for a token request with a valid DPoP proof,
        (None, why) for one with a bad proof, (None, None) without: a
        request without a DPoP header is answered as before DPoP existed."""
        proof = self.headers.get("DPoP")
        if proof is None:
            return None, None
        return check_dpop_proof(proof.strip(), "POST", self.issuer() + self.req_path)

    def _bind_dpop(self, payload, jkt):  # caller holds the lock
        """RFC 9449 §5: the access token is bound to the proof's key (only
        the access token: a confidential client's refresh token needs no
        binding, §5.0)."""
        payload["token_type"] = "DPoP"
        self.state.access_tokens[payload["access_token"]]["dpop_jkt"] = jkt

    def _resource_dpop_failure(self, token, placement, record):
        """RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a
        proof by its key; -> None or (status, json body, headers)."""
        bound = record.get("dpop_jkt")
        if placement != "dpop-header":
            why = "a DPoP-bound token sent as a bearer token" if bound else None
        elif not bound:
            why = "the DPoP scheme with a token that is not DPoP-bound"
        else:
            jkt, why = check_dpop_proof((self.headers.get("DPoP") or "").strip(), self.command,
                                        self.issuer() + self.req_path, token)
            if jkt and jkt != bound:
                why = "the DPoP proof is signed by another key than the token's"
        if why is None:
            return None
        return (401, {"error": "invalid_token", "error_description": why},
                {"WWW-Authenticate": 'DPoP algs="%s", error="invalid_token"' % " ".join(DPOP_ALGS)})

    def oauth2_revoke(self):
        """RFC 7009 §2.1: revokes the token if it was issued to this client;
        200 also for a token it does not know (§2.2)."""
        if self.command != "POST":
            return self.oauth2_error(405, "invalid_request", "the revocation endpoint takes POST")
        if not is_form(self.headers.get("Content-Type")):
            return self.oauth2_error(400, "invalid_request",
                                     "body must be application/x-www-form-urlencoded")
        pairs = self.form()
        form = dict(pairs)
        if len(form) != len(pairs):
            return self.oauth2_error(400, "invalid_request", "a parameter is repeated")
        client_id = self._authenticate_client(form)
        if client_id is None:
            return
        token = form.get("token")
        if not token:
            return self.oauth2_error(400, "invalid_request", "missing token")
        with self.state.lock:
            kind = "unknown"
            for name, table in (("access_token", self.state.access_tokens),
                                ("refresh_token", self.state.refresh_tokens)):
                record = table.get(token)
                if record is not None and record["client_id"] == client_id:
                    del table[token]
                    kind = name
            self.state.last["revocations"].append({
                "client_id": client_id, "token_type_hint": form.get("token_type_hint"),
                "revoked": kind, "params": sorted(form)})
        self.send_json(200, {})

    def _authenticate_client(self, form):
        """RFC 6749 §2.3; answers and returns None on failure."""
        auth = self.headers.get("Authorization") or ""
        basic = auth[:6].lower() == "basic "
        if basic:
            if "client_secret" in form:
                self.oauth2_error(400, "invalid_request", "more than one client authentication method")
                return None
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                raw_id, raw_secret = decoded.split(":", 1)
            except (ValueError, UnicodeDecodeError):
                self.oauth2_error(400, "invalid_request", "malformed Basic credentials")
                return None
            # §2.3.1: id and secret are form-urlencoded before base64
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if form.get("client_id") not in (None, client_id):
                self.oauth2_error(400, "invalid_request", "client_id in body differs from Basic credentials")
                return None
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        client = OAUTH2_CLIENTS.get(client_id)
        if client is None:
            self._invalid_client(basic, "unknown client")
            return None
        if client.get("apple"):
            why = "Apple takes the client_secret in the form only" if basic else \
                self._apple_secret_problem(client_id, secret)
            if why:
                self._invalid_client(basic, why)
                return None
            return client_id
        if client["public"]:
            if secret:  # a public client has nothing to authenticate with
                self._invalid_client(basic, "public client must not send a secret")
                return None
        elif secret is None or not hmac.compare_digest(secret, client["secret"]):
            self._invalid_client(basic, "client authentication failed")
            return None
        return client_id

    def _apple_secret_problem(self, client_id, secret):
        """Why a Sign in with Apple client_secret is refused, or None: an
        ES256 JWT with the key's kid, iss the team, sub the client, aud
        this issuer, iat not ahead, exp after now and within six months
        of iat."""
        with self.state.lock:
            conf = copy.deepcopy(self.state.config["apple_clients"].get(client_id))
        if not conf:
            return "no Apple key configured for this client"
        parts = (secret or "").split(".")
        if len(parts) != 3:
            return "client_secret is no JWT"
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except ValueError:
            return "client_secret is no JWT"
        if header.get("alg") != "ES256" or header.get("kid") != conf["kid"]:
            return "client_secret: not ES256 with the key's kid"
        if dpop_signature_ok("ES256", pem_public_jwk(conf["key_file"]),
                             (parts[0] + "." + parts[1]).encode(), signature) is not True:
            return "client_secret: bad signature"
        if (claims.get("iss"), claims.get("sub"), claims.get("aud")) != \
                (conf["team"], client_id, self.issuer()):
            return "client_secret: iss, sub or aud is not the team, the client and this issuer"
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if not (isinstance(iat, int) and isinstance(exp, int)
                and iat <= now + 60 and exp > now and exp - iat <= 15777000):
            return "client_secret: iat or exp out of range"
        with self.state.lock:
            self.state.last["last_apple_secret"] = {"header": header, "claims": claims}
        return None

    def _invalid_client(self, basic, description):
        # §5.2: 401 + WWW-Authenticate when the client tried the Authorization header
        headers = {"WWW-Authenticate": 'Basic realm="oauth2"'} if basic else None
        self.oauth2_error(401, "invalid_client", description, headers)

    def _grant_code(self, form, client_id):  # caller holds the lock
        code = form.get("code")
        grant = self.state.codes.get(code) if code else None
        if grant is None:
            return ("invalid_grant", "unknown authorization code")
        if grant["used"]:
            # replay: revoke everything issued from this code (RFC 6749 §4.1.2)
            for store in (self.state.access_tokens, self.state.refresh_tokens):
                for tok in [t for t, rec in store.items() if rec.get("code") == code]:
                    del store[tok]
            return ("invalid_grant", "authorization code already used")
        if time.time() > grant["expires_at"]:
            return ("invalid_grant", "authorization code expired")
        if grant["client_id"] != client_id:
            return ("invalid_grant", "authorization code was issued to another client")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return ("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier")
        if grant["code_challenge"] is not None:
            if verifier is None:
                return ("invalid_grant", "code_verifier required")
            if not VERIFIER_RE.match(verifier):
                return ("invalid_grant", "malformed code_verifier")
            computed = pkce_s256(verifier) if grant["code_challenge_method"] == "S256" else verifier
            if not hmac.compare_digest(computed, grant["code_challenge"]):
                return ("invalid_grant", "code_verifier does not match code_challenge")
        elif verifier is not None:
            return ("invalid_grant", "code_verifier sent but no code_challenge was")
        grant["used"] = True
        payload = self.state.issue_oauth2(grant["user"], client_id, grant["scope"], code=code,
                                          refresh=self.state.config["issue_refresh_token"])
        if "openid" in grant["scope"].split():
            claims = id_token_claims(
                self.issuer(), client_id, grant["user"], grant.get("nonce"),
                payload["access_token"], self.state.config["access_token_lifetime"])
            if payload.get("refresh_token"):
                # OpenID Connect Core 12.2: a refresh's id_token keeps it
                self.state.refresh_tokens[payload["refresh_token"]]["auth_time"] = claims["auth_time"]
            payload["id_token"] = self._id_token(claims)
        payload["_user"] = user_profile(grant["user"])
        return payload

    def _id_token(self, claims):  # caller holds the lock
        """A signed id_token of claims (after id_token_override), kept as
        last_id_token."""
        tid = self.state.config["tenants"].get(claims.get("preferred_username"))
        if tid is not None:
            claims["tid"] = tid
            claims["iss"] = "%s/%s/v2.0" % (claims["iss"], tid)
        for k, v in self.state.config["id_token_override"].items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = copy.deepcopy(v)
        token = self.server.oidc.sign(claims, self.state.config["id_token_mode"])
        self.state.last["last_id_token"] = token
        return token

    def _grant_client_credentials(self, form, client_id):  # caller holds the lock
        """RFC 6749 §4.4: the client's own token, no refresh token (§4.4.3);
        its user is "service:CLIENT_ID"."""
        if OAUTH2_CLIENTS.get(client_id, {}).get("public"):
            return ("unauthorized_client", "a public client has no credentials")
        self.state.counters["client_credentials_requests"] += 1
        return self.state.issue_oauth2("service:" + client_id, client_id,
                                       form.get("scope", ""), refresh=False)

    def _grant_refresh(self, form, client_id):  # caller holds the lock
        token = form.get("refresh_token")
        record = self.state.refresh_tokens.get(token) if token else None
        if record is None and token in self.state.spent_refresh_tokens:
            # RFC 9700 §4.14.2, as node oidc-provider and Keycloak do: a
            # rotated-away refresh token used again means it leaked (or a
            # client refreshed twice); the whole grant is revoked.
            self.state.counters["refresh_token_reuse"] += 1
            if self.state.config["revoke_grant_on_reuse"]:
                self._revoke_grant(self.state.spent_refresh_tokens[token])
            return ("invalid_grant", "refresh token reused; the grant is revoked")
        if record is None:
            return ("invalid_grant", "unknown, rotated or revoked refresh token")
        if record["client_id"] != client_id:
            return ("invalid_grant", "refresh token was issued to another client")
        granted = record["scope"].split()
        scope = record["scope"]
        if form.get("scope"):
            if not set(form["scope"].split()) <= set(granted):
                return ("invalid_scope", "requested scope exceeds the original grant")
            scope = form["scope"]
        rotate = self.state.config["rotate_refresh_tokens"]
        if rotate:
            del self.state.refresh_tokens[token]
            self.state.spent_refresh_tokens[token] = record.get("code")
        payload = self.state.issue_oauth2(record["user"], client_id, scope, code=record.get("code"),
                                          refresh=rotate)
        if rotate:  # the new refresh token keeps the original grant's scope
            self.state.refresh_tokens[payload["refresh_token"]]["scope"] = record["scope"]
            if "auth_time" in record:
                self.state.refresh_tokens[payload["refresh_token"]]["auth_time"] = record["auth_time"]
        if self.state.config["refresh_id_token"] and "openid" in scope.split():
            # OpenID Connect Core 12.2: no nonce, the login's auth_time
            claims = id_token_claims(self.issuer(), client_id, record["user"], None,
                                     payload["access_token"],
                                     self.state.config["access_token_lifetime"])
            if "auth_time" in record:
                claims["auth_time"] = record["auth_time"]
            payload["id_token"] = self._id_token(claims)
        payload["_user"] = user_profile(record["user"])
        return payload

    def _revoke_grant(self, code):  # caller holds the lock
        for table in (self.state.access_tokens, self.state.refresh_tokens):
            for tok in [t for t, rec in table.items() if rec.get("code") == code]:
                del table[tok]

    def evil_token(self):
        # Where the "redirect" mode sends a token request: a client that
        # follows it gets a well-formed token nobody issued.
        self.send_json(200, {"access_token": "at-from-redirect-target", "token_type": "Bearer",
                             "expires_in": 3600, "scope": "profile email",
                             "login": "redirected"}, NO_STORE)

    # ---- protected resources --------------------------------------------

    def _bearer(self):
        """RFC 6750 §2: -> (token or None, placement or None, error or None)."""
        found = []
        auth = self.headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            found.append((auth[7:].strip(), "bearer-header"))
        elif auth[:5].lower() == "dpop ":
            found.append((auth[5:].strip(), "dpop-header"))
        for name, value in self.query_pairs:
            if name == "access_token":
                found.append((value, "bearer-query"))
            elif name == "oauth2_access_token":  # LinkedIn's name for it
                found.append((value, "linkedin-query"))
        if self.command not in ("GET", "HEAD"):
            for name, value in self.form():
                if name == "access_token":
                    found.append((value, "bearer-body"))
        if len(found) > 1:
            return None, None, "more than one access token in the request"
        return (found[0] + (None,)) if found else (None, None, None)

    def _is_oauth1_request(self):
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "oauth ":
            return True
        return any(n == "oauth_signature" for n, _ in self.query_pairs + self.form())

    def _authenticate_resource_request(self):
        """-> (identity dict, None) or (None, (status, json body, headers))."""
        if self._is_oauth1_request():
            ok, info = self._oauth1_verify("access")
            if not ok:
                status, problem, detail = info
                return None, (status, {"error": "invalid_token", "oauth_problem": problem,
                                       "error_description": detail},
                              {"WWW-Authenticate": 'OAuth realm="provider"'})
            return {"user": info["record"]["user"], "auth": "oauth1",
                    "client_id": info["consumer"]}, None
        token, placement, error = self._bearer()
        with self.state.lock:
            only = self.state.config.get("api_token_param")
        wanted = {"access_token": "bearer-query", "oauth2_access_token": "linkedin-query"}
        if (only and not error and token and placement != wanted[only]
                and self.req_path.startswith("/api/")):
            # a provider that reads the token from one query parameter only
            error = "this API takes the access token only as the query parameter %s" % only
        if error:
            return None, (400, {"error": "invalid_request", "error_description": error},
                          {"WWW-Authenticate": 'Bearer realm="provider", error="invalid_request"'})
        with self.state.lock:
            record = self.state.access_tokens.get(token) if token else None
            if record and time.time() >= record["expires_at"]:
                record, why = None, "access token expired"
            else:
                why = "no access token" if not token else "unknown access token"
        if record is None:
            return None, (401, {"error": "invalid_token", "error_description": why},
                          {"WWW-Authenticate": 'Bearer realm="provider", error="invalid_token", '
                                               'error_description="%s"' % why})
        failure = self._resource_dpop_failure(token, placement, record)
        if failure:
            return None, failure
        return {"user": record["user"], "auth": placement, "client_id": record["client_id"],
                "scope": record["scope"]}, None

    def userinfo(self):
        who, failure = self._authenticate_resource_request()
        if failure:
            return self.send_json(*failure)
        profile = user_profile(who["user"])
        profile.update(copy.deepcopy(USERS.get(who["user"], {}).get("userinfo_claims", {})))
        with self.state.lock:
            profile.update(copy.deepcopy(self.state.config["userinfo_override"]))
        self.send_json(200, profile)

    def api(self):
        who, failure = self._authenticate_resource_request()
        if failure:
            return self.send_json(*failure)
        query = {}
        for name, value in self.query_pairs:
            if name in query:  # repeated names become lists
                query[name] = query[name] if isinstance(query[name], list) else [query[name]]
                query[name].append(value)
            else:
                query[name] = value
        echo = {"user": who["user"], "method": self.command, "path": self.req_path,
                "query": query, "raw_query": self.req_query, "headers": self.header_dict(),
                "body": self.body.decode("utf-8", "replace"), "auth": who["auth"],
                "client_id": who["client_id"]}
        with self.state.lock:
            self.state.last["last_api_request"] = echo
            as_html = self.state.config["api_response_html"]
        if as_html:     # hostile mode: an HTML page served from the client's origin
            return self.send_html(200, page("API", '<script>document.title = "api-script-ran";'
                                            '</script>\n<pre id="echo">%s</pre>'
                                            % html.escape(json.dumps(echo, indent=1))))
        self.send_json(200, echo)

    # ---- OpenID Connect ---------------------------------------------------

    def issuer(self):
        """SCHEME://HOST[:PORT] as the client addressed this provider."""
        host = (self.headers.get("Host") or "").strip() or self.server.host_port
        return "%s://%s" % (self.server.scheme, host)

    def tenant_discovery(self):
        """Microsoft Entra ID's shape: /NAME/v2.0/.well-known/...
        names the issuer ISSUER/TID/v2.0, TID the tenant ID NAME
        is, or that tenant_domains gives for it; for common and
        organizations the template {tenantid}."""
        name = TENANT_DISCOVERY_RE.match(self.req_path).group(1)
        with self.state.lock:
            tid = self.state.config["tenant_domains"].get(name, name)
        if name in ("common", "organizations"):
            tid = "{tenantid}"
        self.oidc_discovery("%s/%s/v2.0" % (self.issuer(), tid),
                            "%s/%s/discovery/v2.0/keys" % (self.issuer(), name))

    def oidc_discovery(self, named=None, jwks_uri=None):
        if self.command not in ("GET", "HEAD"):
            return self.send_json(405, {"error": "use GET"})
        iss = self.issuer()
        with self.state.lock:
            extra = copy.deepcopy(self.state.config["metadata_override"])
            if self.state.config["authorization_response_iss"]:
                extra.setdefault("authorization_response_iss_parameter_supported", True)
        self.send_json(200, dict({
            "issuer": named or iss,
            "authorization_endpoint": iss + "/oauth2/authorize",
            "token_endpoint": iss + "/oauth2/token",
            "revocation_endpoint": iss + "/oauth2/revoke",
            "end_session_endpoint": iss + "/oauth2/logout",
            "userinfo_endpoint": iss + "/oauth2/userinfo",
            "jwks_uri": jwks_uri or iss + "/oauth2/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                      "none"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
                                 "preferred_username", "name", "email"],
        }, **extra))

    def end_session(self):
        """OpenID Connect RP-Initiated Logout 1.0 §2-3: records the request
        (GET or form POST), then sends the browser to its
        post_logout_redirect_uri with the state, or shows a page."""
        pairs = self.query_pairs if self.command == "GET" else self.form()
        params = dict(pairs)
        with self.state.lock:
            self.state.last["last_end_session"] = {"method": self.command, "params": params}
        target = params.get("post_logout_redirect_uri")
        if target:
            if "state" in params:
                target += ("&" if "?" in target else "?") + urlencode({"state": params["state"]})
            return self.redirect(target)
        self.respond(200, b"You are logged out of the provider.\n", "text/plain")

    def oidc_jwks(self):
        if self.command not in ("GET", "HEAD"):
            return self.send_json(405, {"error": "use GET"})
        doc = dict(self.server.oidc.jwks())
        with self.state.lock:
            pad = self.state.config["jwks_pad"]
        if pad:     # a key set bigger than a cache's room (18_docs.t)
            doc["x_pad"] = "A" * pad
        self.respond(200, json.dumps(doc).encode(), "application/jwk-set+json")

    # ---- OAuth 1.0a -------------------------------------------------------

    def oauth1_problem(self, status, problem, extra=None):
        body = {"oauth_problem": problem}
        body.update(extra or {})
        headers = {"WWW-Authenticate": 'OAuth realm="provider"'} if status == 401 else None
        self.respond(status, urlencode(body).encode("ascii"), "application/x-www-form-urlencoded", headers)

    def _oauth1_verify(self, token_kind):
        """Check an OAuth 1 signed request (RFC 5849 §3.2).

        token_kind: None (temporary credentials request: no token), "request"
        or "access".  Returns (True, info) or (False, (status, problem, detail))."""
        pairs = oauth1_request_parameters(self.headers.get("Authorization"), self.req_query,
                                          self.headers.get("Content-Type"),
                                          self.body if self.command not in ("GET", "HEAD") else b"")
        proto = {}
        for name, value in pairs:
            if name.startswith("oauth_"):
                if name in proto:
                    return False, (400, "parameter_rejected", "%s given more than once" % name)
                proto[name] = value
        signed_pairs = [(n, v) for n, v in pairs if n != "oauth_signature"]
        uri = base_string_uri(self.server.scheme, self.headers.get("Host") or self.server.host_port,
                              self.req_path)
        base = signature_base_string(self.command, uri, signed_pairs)
        info = {"params": proto, "base_string": base, "consumer": proto.get("oauth_consumer_key")}

        def fail(status, problem, detail):
            return False, (status, problem, detail)

        method = proto.get("oauth_signature_method")
        required = ["oauth_consumer_key", "oauth_signature_method", "oauth_signature"]
        if method != "PLAINTEXT":  # §3.1: timestamp and nonce MAY be omitted with PLAINTEXT
            required += ["oauth_timestamp", "oauth_nonce"]
        if token_kind:
            required.append("oauth_token")
        absent = [p for p in required if not proto.get(p)]
        if absent:
            return fail(400, "parameter_absent", "missing: " + " ".join(absent))
        if proto.get("oauth_version", "1.0") != "1.0":
            return fail(400, "version_rejected", "oauth_version must be 1.0")
        consumer = OAUTH1_CONSUMERS.get(proto["oauth_consumer_key"])
        if consumer is None:
            return fail(401, "consumer_key_unknown", "unknown consumer key")
        if method not in consumer["methods"]:
            return fail(400, "signature_method_rejected",
                        "%s not accepted for this consumer (use %s)" % (method, ", ".join(consumer["methods"])))
        token_secret, record = "", None
        with self.state.lock:
            window = self.state.config["timestamp_window"]
            if token_kind:
                store = (self.state.o1_request_tokens if token_kind == "request"
                         else self.state.o1_access_tokens)
                record = store.get(proto["oauth_token"])
                if record is None or record["consumer"] != proto["oauth_consumer_key"]:
                    return fail(401, "token_rejected", "unknown %s token" % token_kind)
                token_secret = record["secret"]
        if "oauth_timestamp" in proto:
            try:
                skew = abs(time.time() - int(proto["oauth_timestamp"]))
            except ValueError:
                return fail(400, "parameter_rejected", "oauth_timestamp is not an integer")
            if skew > window:
                return fail(401, "timestamp_refused", "timestamp outside %d s" % window)
        signature = proto["oauth_signature"]
        if method == "RSA-SHA1":
            key = consumer.get("rsa_public_key")
            good = bool(key) and rsa_sha1_verify(key, base.encode("utf-8"), signature)
        elif method == "PLAINTEXT":
            good = hmac.compare_digest(signature, signing_key(consumer["secret"], token_secret))
        else:
            good = hmac.compare_digest(signature, hmac_signature(method, base, consumer["secret"],
                                                                 token_secret))
        if not good:
            return fail(401, "signature_invalid", base)
        if "oauth_nonce" in proto:
            key = (proto["oauth_consumer_key"], proto.get("oauth_token", ""),
                   proto["oauth_timestamp"], proto["oauth_nonce"])
            with self.state.lock:
                if self.state.seen_nonce(key, window):
                    return fail(401, "nonce_used", "nonce already used with this timestamp")
        info["record"] = record
        return True, info

    def _oauth1_endpoint_verify(self, endpoint, token_kind):
        """Verify, record for /_control/stats, answer on failure. -> info or None."""
        ok, info = self._oauth1_verify(token_kind)
        with self.state.lock:
            self.state.last["last_oauth1_request"] = {
                "endpoint": endpoint, "method": self.command, "headers": self.header_dict(),
                "params": dict(parse_form(self.req_query) + self.form()),
                "body": self.body.decode("utf-8", "replace"),
                "result": "ok" if ok else info[1],
                "base_string": info["base_string"] if ok else (info[2] if info[1] == "signature_invalid" else None)}
        if ok:
            return info
        status, problem, detail = info
        if problem == "signature_invalid":
            self.oauth1_problem(status, problem, {"debug_base_string": detail})
        else:
            self.oauth1_problem(status, problem, {"oauth_problem_advice": detail})
        return None

    def oauth1_request_token(self):
        if self.command != "POST":
            return self.oauth1_problem(405, "method_not_allowed", {"oauth_problem_advice": "use POST"})
        info = self._oauth1_endpoint_verify("request_token", None)
        if info is None:
            return
        callback = info["params"].get("oauth_callback")
        if not callback:
            return self.oauth1_problem(400, "parameter_absent", {"oauth_parameters_absent": "oauth_callback"})
        if callback != "oob" and not is_absolute_http_url(callback):
            return self.oauth1_problem(400, "parameter_rejected",
                                       {"oauth_problem_advice": "oauth_callback must be an absolute URL or oob"})
        with self.state.lock:
            token, secret = self.state.new_token("o1rt-"), self.state.new_token("")
            self.state.o1_request_tokens[token] = {
                "secret": secret, "consumer": info["consumer"], "callback": callback,
                "user": None, "verifier": None, "created": time.time()}
            confirmed = self.state.config["oauth1_callback_confirmed"]
        answer = [("oauth_token", token), ("oauth_token_secret", secret)]
        if confirmed != "absent":
            answer.append(("oauth_callback_confirmed", confirmed))
        self.respond(200, urlencode(answer).encode("ascii"), "application/x-www-form-urlencoded", NO_STORE)

    def oauth1_authorize(self):
        if self.command not in ("GET", "POST"):
            return self.error_page(405, "use GET or POST")
        params = dict(self.query_pairs if self.command == "GET" else self.form())
        token = params.get("oauth_token")
        with self.state.lock:
            record = self.state.o1_request_tokens.get(token) if token else None
            record = dict(record) if record else None
        if record is None:
            return self.error_page(400, "unknown or missing oauth_token")
        if self.command == "GET" and not params.get("auto_approve") and not params.get("auto_deny"):
            return self.send_html(200, consent_page("/oauth1/authorize", record["consumer"], "",
                                                    {"oauth_token": token}))
        if params.get("auto_deny") or params.get("decision") == "deny":
            with self.state.lock:
                self.state.o1_request_tokens.pop(token, None)
            if record["callback"] == "oob":
                return self.send_html(200, page("Access denied", '<p id="denied">Access denied.</p>'))
            return self.redirect(add_query(record["callback"], {"denied": token}))
        if self.command == "GET":
            user = params["auto_approve"]
        else:
            if params.get("decision") != "allow":
                return self.send_html(400, consent_page("/oauth1/authorize", record["consumer"], "",
                                                        {"oauth_token": token}, "Choose Allow or Deny."))
            user = params.get("username", "")
            if user not in USERS or not hmac.compare_digest(USERS[user]["password"], params.get("password", "")):
                return self.send_html(200, consent_page("/oauth1/authorize", record["consumer"], "",
                                                        {"oauth_token": token},
                                                        "Invalid username or password."))
        verifier = secrets.token_urlsafe(16)
        with self.state.lock:
            live = self.state.o1_request_tokens.get(token)
            if live is None:
                return self.error_page(400, "oauth_token no longer valid")
            live["user"], live["verifier"] = user, verifier
        if record["callback"] == "oob":
            return self.send_html(200, page("Authorized", 'Your verifier: <code id="verifier">%s</code>'
                                            % html.escape(verifier)))
        self.redirect(add_query(record["callback"], self._with_extra_params(
            {"oauth_token": token, "oauth_verifier": verifier})))

    def oauth1_access_token(self):
        if self.command != "POST":
            return self.oauth1_problem(405, "method_not_allowed", {"oauth_problem_advice": "use POST"})
        info = self._oauth1_endpoint_verify("access_token", "request")
        if info is None:
            return
        verifier = info["params"].get("oauth_verifier")
        if not verifier:
            return self.oauth1_problem(400, "parameter_absent", {"oauth_parameters_absent": "oauth_verifier"})
        token = info["params"]["oauth_token"]
        with self.state.lock:
            record = self.state.o1_request_tokens.get(token)
            if record is None:  # consumed by a concurrent request
                answer = (401, "token_rejected")
            elif record["user"] is None:
                answer = (401, "permission_unknown")
            elif not hmac.compare_digest(verifier, record["verifier"]):
                answer = (401, "verifier_invalid")
            else:
                del self.state.o1_request_tokens[token]   # single use
                answer = self.state.issue_oauth1(record["user"], info["consumer"])
                override = copy.deepcopy(self.state.config["oauth1_access_override"])
        if isinstance(answer, tuple):
            return self.oauth1_problem(*answer)
        answer.update(override)     # hostile mode; a list value repeats the field
        self.respond(200, urlencode(answer, doseq=True).encode("ascii"),
                     "application/x-www-form-urlencoded", NO_STORE)

    # ---- test control -----------------------------------------------------

    def control(self, what):
        try:
            loopback = ipaddress.ip_address(self.client_address[0].split("%")[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return self.send_json(403, {"error": "control endpoints answer loopback clients only"})
        route = (self.command, what)
        state = self.state
        if route == ("GET", "stats"):
            with state.lock:
                snapshot = json.loads(json.dumps({**state.counters, **state.last}))
            return self.send_json(200, snapshot)
        if route == ("POST", "reset"):
            with state.lock:
                state.reset()
            return self.send_json(200, {"reset": True})
        if route == ("POST", "rotate_oidc_key"):
            self.server.oidc.rotate()
            return self.send_json(200, {"kid": self.server.oidc.kid})
        if route == ("GET", "config"):
            with state.lock:
                config = copy.deepcopy(state.config)
            return self.send_json(200, config)
        if route == ("POST", "config"):
            try:
                update = json.loads(self.body or b"{}")
            except ValueError as exc:
                return self.send_json(400, {"error": "body is not JSON: %s" % exc})
            error = validate_config(update)
            if error:
                return self.send_json(400, {"error": error})
            with state.lock:
                state.config.update(copy.deepcopy(update))
                config = copy.deepcopy(state.config)
            return self.send_json(200, config)
        if route == ("POST", "expire_tokens"):
            with state.lock:
                past = time.time() - 1
                for record in state.access_tokens.values():
                    record["expires_at"] = past
                count = len(state.access_tokens)
            return self.send_json(200, {"expired": count})
        if route == ("GET", "issue_token"):
            q = dict(self.query_pairs)
            user = q.get("user") or "alice"
            if q.get("type") == "oauth1":
                consumer = q.get("consumer_key") or "oauth1-client"
                if consumer not in OAUTH1_CONSUMERS:
                    return self.send_json(400, {"error": "unknown consumer_key"})
                with state.lock:
                    payload = state.issue_oauth1(user, consumer)
                return self.send_json(200, payload)
            client_id = q.get("client_id") or "oauth2-client"
            if client_id not in OAUTH2_CLIENTS:
                return self.send_json(400, {"error": "unknown client_id"})
            try:
                lifetime = int(q["lifetime"]) if q.get("lifetime") else None
            except ValueError:
                return self.send_json(400, {"error": "lifetime must be an integer"})
            with state.lock:
                payload = state.issue_oauth2(user, client_id, q.get("scope") or DEFAULT_SCOPE, lifetime)
                payload["expires_at"] = int(state.access_tokens[payload["access_token"]]["expires_at"])
            return self.send_json(200, payload)
        return self.send_json(404, {"error": "unknown control endpoint %s %s" % route})


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------

class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True       # keep-alive connections must not block shutdown
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, log_file=None, tls=None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.state = State()
        self.oidc = OIDCSigner()    # survives /_control/reset: clients cache the JWKS
        self.stopping = threading.Event()
        self._log_lock = threading.Lock()
        self._log_file = log_file
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            # Handshake lazily in the connection's thread, not in the accept loop.
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        host, port = self.server_address[:2]
        self.host_port = ("[%s]" % host if ":" in host else host) + ":%d" % port

    def server_bind(self):
        # HTTPServer.server_bind() does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def log(self, line):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self._log_lock:
            out = self._log_file or sys.stderr
            out.write("%s %s\n" % (stamp, line))
            out.flush()

    def handle_error(self, request, client_address):
        # Client resets and TLS failures are routine in tests: one line, no traceback.
        exc = sys.exc_info()[1]
        self.log("%s connection error: %s: %s" % (client_address[0], type(exc).__name__, exc))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local OAuth 1.0a/2.0 provider for mod_oauthclient tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    ap.add_argument("--pidfile")
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="stop when the process that started this one is gone")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    _load_consumer_keys()
    log_file = open(args.log, "a", buffering=1) if args.log else None
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    server = ProviderServer((args.host, args.port), log_file, tls)

    def stop(signum, frame):
        server.stopping.set()
        # shutdown() waits for serve_forever() to return: call it from another thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        lifeline.exit_with_parent(lambda: stop(None, None))
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    server.log("provider starting on %s://%s (pid %d)" % (server.scheme, server.host_port, os.getpid()))
    print("provider listening on %s://%s" % (server.scheme, server.host_port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.log("provider stopped")
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
