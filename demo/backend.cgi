#!/usr/bin/python3
"""The demo's backend: a CGI script behind mod_oauthclient (conf/demo.conf).

It knows nothing about OAuth. httpd has already logged the user in; this
script only reads what the module hands over:
  REMOTE_USER      the user name (user_claim of the app)
  X-OAuth-*        request headers from `OAuthForwardTokens On`
                   (CGI sees them as HTTP_X_OAUTH_* variables)
Tokens are shown masked (first 4 characters), as a real backend should log
them. The "Call the provider's API" button fetch()es /api/NAME/whoami, which
httpd proxies to the provider with the token applied (OAuthProxyAPI).
"""
import html
import json
import os
import sys
import urllib.parse


def mask(value):
    return value[:4] + "\u2026" if value else value


def header_name(cgi_name):
    # HTTP_X_OAUTH_ACCESS_TOKEN -> X-OAuth-Access-Token
    words = cgi_name[len("HTTP_"):].split("_")
    return "-".join("OAuth" if w == "OAUTH" else w.capitalize() for w in words)


env = os.environ
app = env.get("HTTP_X_OAUTH_APP", "")
user = env.get("REMOTE_USER", "")
rows = []
for key in sorted(k for k in env if k.startswith("HTTP_X_OAUTH_")):
    value = env[key]
    secret = key.endswith("_TOKEN") or key.endswith("_SECRET")
    rows.append('<tr><th>%s</th><td><code class="%s">%s</code></td></tr>'
                % (html.escape(header_name(key)), "masked" if secret else "",
                   html.escape(mask(value) if secret else value)))

e = html.escape
page = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{app} - mod_oauthclient demo</title>
<link rel="stylesheet" href="/demo.css"></head>
<body>
<h1>Protected page of <code id="app">{app}</code></h1>
<p class="user">Logged in as <strong id="user">{user}</strong></p>
<p class="note">REMOTE_USER is <code id="remote-user">{user}</code>.
This page is a CGI script; it got these headers from httpd
(token values masked here):</p>
<table id="headers">
{rows}
</table>

<h2>The provider's API</h2>
<p><button id="call-api" type="button">Call the provider's API</button>
<code id="api-url">{api}</code></p>
<p id="api-status"></p>
<pre id="api-result"></pre>

<p><a id="logout" href="{logout}">Log out</a> &middot;
<a href="/">Home</a></p>

<script>
// fetch() sends the session cookie (same origin); httpd adds the token
// and proxies the call. Without a login it answers 401 with JSON.
document.getElementById("call-api").addEventListener("click", async () => {{
  const status = document.getElementById("api-status");
  const result = document.getElementById("api-result");
  status.textContent = "calling\u2026";
  result.textContent = "";
  try {{
    const r = await fetch({api_js}, {{headers: {{Accept: "application/json"}}}});
    const text = await r.text();
    let shown = text;
    try {{
      const json = JSON.parse(text);
      // The provider echoes the request: mask the token it received.
      for (const h of Object.keys(json.headers || {{}})) {{
        if (h.toLowerCase() === "authorization")
          json.headers[h] = json.headers[h].replace(/^(\\S+\\s+)?([\\s\\S]{{0,4}})[\\s\\S]*$/, "$1$2\u2026");
      }}
      shown = JSON.stringify(json, null, 2);
    }} catch (e) {{ /* not JSON: show as is */ }}
    status.textContent = "HTTP " + r.status;
    result.textContent = shown;
  }} catch (e) {{
    status.textContent = "failed: " + e;
  }}
}});
</script>
</body>
</html>
"""
api = "/api/%s/whoami" % app
# The demo's "Log out?" page; "Stay logged in" comes back here.
logout = "/logout?" + urllib.parse.urlencode({"app": app, "from": env.get("REQUEST_URI", "/")})
body = page.format(app=e(app), user=e(user), rows="\n".join(rows), api=e(api), logout=e(logout),
                   api_js=json.dumps(api).replace("<", "\\u003c"))
sys.stdout.buffer.write(b"Content-Type: text/html; charset=utf-8\r\n"
                        b"Cache-Control: no-store\r\n\r\n" + body.encode("utf-8"))
