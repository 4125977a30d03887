#!/usr/bin/python3
"""Who is logged in to one app, as JSON: a CGI script behind
mod_oauthclient (conf/demo.conf: /session/demo2, /session/demo1,
/oidc/session), which the demo's pages fetch() (demo/htdocs/demo.js).

httpd only runs it for a logged-in user (AuthType OAuth); anyone else
gets the module's 401, since a fetch() is no navigation. From
`OAuthForwardTokens On` it passes on the app, the user and the token's
expiry (X-OAuth-Expires-At, Unix seconds; OAuth 1.0a tokens have none),
never the token itself: page scripts have no use for it.
"""
import json
import os
import sys

env = os.environ
expires = env.get("HTTP_X_OAUTH_EXPIRES_AT", "")
body = json.dumps({
    "app": env.get("HTTP_X_OAUTH_APP", ""),
    "user": env.get("REMOTE_USER", ""),
    "expires_at": int(expires) if expires.isdigit() else None,
})
sys.stdout.buffer.write(b"Content-Type: application/json\r\n"
                        b"Cache-Control: no-store\r\n\r\n" + body.encode("utf-8") + b"\n")
