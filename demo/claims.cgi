#!/usr/bin/python3
"""The demo's OpenID Connect pages: a CGI script behind mod_oauthclient's
app "oidc" (conf/demo.conf), at /oidc/claims and /oidc/admins.

Like backend.cgi it has no OAuth code. `OAuthForwardClaims On` hands it the
user's claims (the id_token's, with userinfo's merged over them) as
OAUTH_CLAIM_NAME variables: arrays joined with ",", objects as compact
JSON. A variable's name is the claim's upper-cased, every byte but letters
and digits as "_", so the names shown here (lower-cased back) are a
reading of it: "email_verified" is exact, a claim with capitals is not.
Every value comes from the provider: it is HTML-escaped like any input.
"""
import html
import os
import sys
import urllib.parse

PREFIX = "OAUTH_CLAIM_"

env = os.environ
user = env.get("REMOTE_USER", "")
claims = sorted((k[len(PREFIX):].lower(), v) for k, v in env.items() if k.startswith(PREFIX))
admins = env.get("SCRIPT_NAME", "").rstrip("/").endswith("/admins")

e = html.escape
rows = "\n".join('<tr><th>%s</th><td><code>%s</code></td></tr>' % (e(name), e(value))
                 for name, value in claims)
if admins:
    title = "Admins only"
    intro = ("You are in: this location has <code>Require oauth-claim "
             "groups:admins</code>, and your <code>groups</code> claim holds "
             "<code>admins</code>.")
else:
    title = "Your OpenID Connect claims"
    intro = ("What the provider said about you: the id_token's claims "
             "(checked: signature, issuer, audience, expiry, nonce) with "
             "userinfo's merged over them.")

page = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} - mod_oauthclient demo</title>
<link rel="stylesheet" href="/demo.css"></head>
<body>
<h1 id="title">{title}</h1>
<p class="user">Logged in to <code id="app">oidc</code> as
<strong id="user">{user}</strong></p>
<p class="note">{intro} This page is a CGI script; httpd gave it these
<code>OAUTH_CLAIM_*</code> variables (also sent as
<code>X-OAuth-Claim-*</code> headers):</p>
<table id="claims">
{rows}
</table>

<p><a id="claims-link" href="/oidc/claims">Claims</a> &middot;
<a id="admins-link" href="/oidc/admins">Admins only</a> &middot;
<a id="logout" href="{logout}">Log out</a>
(here and at the provider) &middot;
<a href="/">Home</a></p>
</body>
</html>
"""
# The demo's "Log out?" page; "Stay logged in" comes back here.
logout = "/logout?" + urllib.parse.urlencode({"app": "oidc", "from": env.get("REQUEST_URI", "/")})
body = page.format(title=title, user=e(user), intro=intro, rows=rows, logout=e(logout))
sys.stdout.buffer.write(b"Content-Type: text/html; charset=utf-8\r\n"
                        b"Cache-Control: no-store\r\n\r\n" + body.encode("utf-8"))
