#!/usr/bin/python3
"""The demo's "Login failed" page: the ErrorDocument of the module's own
paths (conf/demo.conf: /oauth/, for 400, 403 and 502), in place of the
module's plain page.

httpd runs it by an internal redirect and hands it, as REDIRECT_*
variables, what the module left for it:
  REDIRECT_STATUS                  the status (403: the provider refused)
  REDIRECT_ERROR_NOTES             "what failed: why", HTML-escaped
  REDIRECT_OAUTHCLIENT_LOGIN_URL   the login again, for the page the user
                                   wanted (its ?next=) when known
  REDIRECT_URL                     the path that failed (/oauth/NAME/...)
"""
import html
import os
import re
import sys

HINTS = {
    "403": "The login was declined at the provider. Nothing was stored here.",
    "400": "The login could not be completed. Nothing was stored.",
    "502": "The provider did not answer as expected. Nothing was stored; "
           "trying again in a moment may work.",
}
REASONS = {"400": "Bad Request", "403": "Forbidden", "502": "Bad Gateway"}


def local_path(value):
    """value when it is a path of this site, else None."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    return value


env = os.environ
status = env.get("REDIRECT_STATUS", "")
# Escaped by the module; unescaped and escaped again here so that the page
# is safe whoever wrote the notes.
notes = html.unescape(env.get("REDIRECT_ERROR_NOTES", ""))
retry = local_path(env.get("REDIRECT_OAUTHCLIENT_LOGIN_URL", ""))
if not retry:
    m = re.match(r"^/oauth/([A-Za-z0-9_.-]+)/", env.get("REDIRECT_URL", ""))
    retry = "/oauth/%s/login" % m.group(1) if m else "/"

e = html.escape
page = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Login failed - mod_oauthclient demo</title>
<link rel="stylesheet" href="/demo.css"></head>
<body>
<div class="panel error">
<h1 id="login-failed">Login failed</h1>
<p id="hint">{hint}</p>
{reason}
<p><a class="button" id="try-again" href="{retry}">Try again</a>
<a class="secondary" id="home" href="/">Home</a></p>
</div>
<p class="note">This page is the demo's ErrorDocument for the module's
login paths (a CGI script); the module hands it the reason and the way to
log in again.</p>
</body>
</html>
"""
body = page.format(
    hint=e(HINTS.get(status, "Logging in did not work.")),
    reason='<p class="reason" id="reason">%s</p>' % e(notes) if notes else "",
    retry=e(retry))
head = "Status: %s %s\r\n" % (status, REASONS[status]) if status in REASONS else ""
# No Cache-Control here: the module's no-store comes along with the
# internal redirect.
sys.stdout.buffer.write((head + "Content-Type: text/html; charset=utf-8\r\n"
                         "\r\n").encode("ascii")
                        + body.encode("utf-8"))
