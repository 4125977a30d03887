#!/usr/bin/python3
"""The demo's "Log out?" page (conf/demo.conf: /logout?app=NAME[&from=PATH]).

Logging out is a POST to the module's logout path (/oauth/NAME/logout)
from a form on this page: the user confirms, and no other site can make
the browser do it (the module asks itself when a logout comes from
elsewhere). "Stay logged in" goes back to `from`, a local path, or home.
"""
import html
import json
import os
import sys
import urllib.parse

# The apps of conf/demo.conf: what the page calls them, and what logging
# out does besides.
APPS = {
    "demo2": ("the demo OAuth 2 provider", ""),
    "demo1": ("the demo OAuth 1.0a provider", ""),
    "oidc": ("OpenID Connect",
             "<p>You are logged out at the provider too: it sends you back "
             "here after.</p>"),
}


def local_path(value):
    """value when it is a path of this site, else None."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    return value


def respond(status, body):
    sys.stdout.buffer.write(("Status: %s\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Cache-Control: no-store\r\n"
                             # Another site may not frame it and steer the click.
                             "X-Frame-Options: DENY\r\n"
                             "Content-Security-Policy: frame-ancestors 'none'\r\n"
                             "\r\n" % status).encode("ascii") + body.encode("utf-8"))


e = html.escape
query = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
app = query.get("app", [""])[0]
back = local_path(query.get("from", ["/"])[0]) or "/"
session_url = "/oidc/session" if app == "oidc" else "/session/" + app

if app not in APPS:
    respond("404 Not Found", """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>No such app - mod_oauthclient demo</title>
<link rel="stylesheet" href="/demo.css"></head>
<body><h1>No such app</h1>
<p>This demo has the apps demo2, demo1 and oidc.</p>
<p><a href="/">Home</a></p></body></html>
""")
    sys.exit(0)

label, more = APPS[app]
respond("200 OK", """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Log out? - mod_oauthclient demo</title>
<link rel="stylesheet" href="/demo.css">
<script src="/demo.js"></script></head>
<body>
<div class="panel">
<h1 id="logout-title">Log out?</h1>
<p>Log out of <code id="app">{app}</code> ({label}) on this site. Your other
apps stay logged in.</p>
<p class="state" id="state" data-session="{session}"></p>
{more}
<form class="inline" method="post" action="/oauth/{app}/logout">
<input type="hidden" name="next" value="/">
<button id="confirm-logout" type="submit">Log out</button>
</form>
<a class="secondary" id="cancel-logout" href="{back}">Stay logged in</a>
</div>
<script>
const state = document.getElementById('state');
oacSession(state.dataset.session).then(
  (session) => {{ state.textContent = oacStateText({app_js}, session); }},
  () => {{}});
</script>
</body>
</html>
""".format(app=e(app), label=e(label), session=e(session_url), more=more,
           back=e(back), app_js=json.dumps(app)))
