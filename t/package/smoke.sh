#!/usr/bin/env bash
# The Debian package end to end, as an administrator meets it on this
# machine (as root; CI's fresh Debian 12): builds libapache2-mod-oauthclient
# from a copy of the tree (dpkg-buildpackage -us -uc -b), runs lintian,
# installs the .deb with apt, runs a2enmod oauthclient and apache2ctl
# configtest, starts the installed httpd with mods-enabled/ on a free port
# of 127.0.0.1 (never the distribution's ports.conf or sites: port 80 stays
# alone), logs in as alice through the local provider
# (t/provider/provider.py), calls the provider's API through OAuthProxyAPI,
# stops httpd, purges the package and checks that nothing of it is left.
# Prints TAP; lintian's output is in it as comments.
#
#   bash t/package/smoke.sh [--deb FILE]
#
# --deb FILE tests a package built elsewhere (the build and lintian are
# then skipped). Whatever the script did is undone on exit, failed or not:
# httpd and the provider stopped, the package purged, the modules a2enmod
# enabled for it disabled again, the temporary directory removed
# (OAC_KEEP=1 keeps the directory and its logs).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pkg=libapache2-mod-oauthclient
# What a2enmod oauthclient enables with it (conf/oauthclient.load's
# "# Depends:").
deps=(session session_cookie proxy proxy_http)
plan=15

deb=
while [ $# -gt 0 ]; do
    case $1 in
        --deb) deb=$(realpath "$2") || exit 2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "t/package/smoke.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

n=0
failed=0
echo "1..$plan"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# The named file's lines (or stdin's) as TAP comments.
show() { sed 's/^/#   /' "$@"; }
check() {   # description, command...: one test from a command's status
    local what=$1; shift
    if "$@" > "$tmp/out" 2>&1; then ok "$what"; else not_ok "$what"; show "$tmp/out"; fi
}
# The same, showing the command's output whether it passed or not.
check_v() {
    local what=$1; shift
    if "$@" > "$tmp/out" 2>&1; then ok "$what"; else not_ok "$what"; fi
    show "$tmp/out"
}
bail() { echo "Bail out! $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || bail "must run as root (apt install, a2enmod, httpd)"
for c in apt-get dpkg-buildpackage lintian a2enmod a2dismod apache2ctl curl /usr/bin/python3; do
    command -v "$c" > /dev/null || bail "$c is missing (bash scripts/install-deps)"
done
# Never touch an installation this script did not make.
status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
case $status in
    ""|*" not-installed") ;;
    *) bail "$pkg is already on this machine ($status): apt purge it first" ;;
esac
for f in /usr/lib/apache2/modules/mod_oauthclient.so /etc/apache2/mods-available/oauthclient.load \
         /etc/apache2/mods-available/oauthclient.conf /etc/apache2/mods-enabled/oauthclient.load; do
    [ -e "$f" ] || [ -L "$f" ] && bail "$f exists (make install?): remove it first"
done

tmp=$(mktemp -d /tmp/oac-package-XXXXXX)
# httpd's children (www-data) read the pages here.
chmod 755 "$tmp"
installed=
created_policy=
httpd_conf=
httpd_started=
provider_pid=
enabled_deps=()
declare -A dep_state

# shellcheck disable=SC2317  # called from the trap
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$httpd_started" ]; then
        # Interrupted while starting, httpd may not have written its pid
        # file yet; without it apache2ctl cannot stop it.
        for _ in $(seq 50); do [ -s "$tmp/httpd.pid" ] && break; sleep 0.1; done
        apache2ctl -f "$httpd_conf" -k stop > /dev/null 2>&1
        wait_gone "$(cat "$tmp/httpd.pid" 2>/dev/null)"
    fi
    if [ -n "$provider_pid" ]; then
        kill -TERM "$provider_pid" 2>/dev/null
        wait_gone "$provider_pid"
    fi
    if [ -n "$installed" ]; then
        echo "# cleanup: apt-get purge $pkg"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o Dpkg::Use-Pty=0 "$pkg" > /dev/null 2>&1
    fi
    restore_deps > /dev/null 2>&1
    [ -n "$created_policy" ] && rm -f "$policy"
    if [ "${OAC_KEEP:-0}" = 1 ]; then
        echo "# kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Removing an enabled module restarts the distribution's httpd (the prerm
# dh_apache2 writes: invoke-rc.d apache2 restart), which on a machine
# with an init system would start it on port 80. As scripts/install-deps
# does, policy-rc.d forbids that while the package is installed and purged.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
fi

wait_gone() {   # pid: waits up to 10 s, then kills
    local pid=$1
    [ -n "$pid" ] || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    return 1
}
# a2enmod and a2dismod record each module's state (enabled or disabled,
# by the administrator or a package) under here.
a2state=/var/lib/apache2/module
# The state files a module has now.
state_of() {
    local d
    for d in enabled_by_admin enabled_by_maint disabled_by_admin disabled_by_maint; do
        [ -e "$a2state/$d/$1" ] && echo "$a2state/$d/$1"
    done
}
# Disables what a2enmod enabled for the module and was not enabled before,
# the last first (a2dismod refuses a module that an enabled one depends
# on), and puts back the state files each had.
restore_deps() {
    local i m rc=0
    for ((i = ${#enabled_deps[@]} - 1; i >= 0; i--)); do
        m=${enabled_deps[i]}
        a2dismod -q -p "$m" || { rc=1; continue; }
        rm -f "$a2state"/*/"$m"
        # shellcheck disable=SC2086  # one path per word
        [ -z "${dep_state[$m]}" ] || touch ${dep_state[$m]}
    done
    [ "$rc" -eq 0 ] && enabled_deps=()
    return "$rc"
}
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- 1-2: the package and lintian -------------------------------------------
if [ -n "$deb" ]; then
    skip "dpkg-buildpackage (--deb $deb given)"
    skip "lintian (--deb given)"
else
    start=$SECONDS
    mkdir "$tmp/build" "$tmp/build/src"
    # dpkg-buildpackage writes its results beside the tree it builds and
    # its objects into it: a copy, so that the source tree stays as it is.
    if git -C "$top" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
        (cd "$top" && git ls-files -z -co --exclude-standard \
            | tar --null -T - --ignore-failed-read -cf -) 2>"$tmp/copy.log" \
            | tar -xf - -C "$tmp/build/src"
    else
        cp -a "$top/." "$tmp/build/src"
    fi
    if (cd "$tmp/build/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") > "$tmp/build.log" 2>&1; then
        debs=("$tmp/build/${pkg}"_*.deb)
        [ -f "${debs[0]}" ] && deb=${debs[0]}
    fi
    if [ -n "$deb" ]; then
        ok "dpkg-buildpackage -us -uc -b: ${deb##*/} ($((SECONDS - start)) s)"
    else
        not_ok "dpkg-buildpackage -us -uc -b"
        tail -40 "$tmp/build.log" | show
    fi
    changes=("$tmp/build/${pkg}"_*.changes)
    if [ ! -f "${changes[0]}" ]; then
        not_ok "lintian: no .changes to check"
    else
        # As nobody: lintian unpacks what it is given and warns when root.
        chmod -R a+rX "$tmp/build"
        # Judged by its tags, not its exit status: with --show-overrides,
        # lintian 2.116's --fail-on counts the overridden tags too.
        runuser -u nobody -- env HOME="$tmp/build" lintian --pedantic -I -E --show-overrides \
            --fail-on none "${changes[0]}" > "$tmp/lintian.log" 2>&1
        lrc=$?
        echo "# lintian --pedantic -I -E --show-overrides ${changes[0]##*/}:"
        if [ -s "$tmp/lintian.log" ]; then show "$tmp/lintian.log"; else echo "#   (no tags)"; fi
        if [ "$lrc" -ne 0 ]; then
            not_ok "lintian: exit $lrc"
        elif grep -q '^[EW]: ' "$tmp/lintian.log"; then
            not_ok "lintian: errors or warnings"
        else
            ok "lintian: no error or warning"
        fi
    fi
fi

# Nothing else can be tested without a package.
if [ -z "$deb" ]; then
    while [ "$n" -lt "$plan" ]; do not_ok "not run: no package"; done
    exit 1
fi

# --- 3-4: apt install -------------------------------------------------------
# What httpd's configuration and a2enmod's records are before: the same
# after the purge. Directories are not records: the first a2enmod or
# a2dismod by an administrator on a machine makes its empty state
# directories (enabled_by_admin, disabled_by_admin, disabled_by_maint),
# which are there for good, package or not.
a2snapshot() {
    find /etc/apache2/mods-enabled /var/lib/apache2/module -mindepth 1 \
        ! -type d -printf '%p %l\n' | sort
}
a2snapshot > "$tmp/a2-before"
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$deb" \
        > "$tmp/install.log" 2>&1; then
    installed=1
    ok "apt-get install ./${deb##*/}"
else
    not_ok "apt-get install ./${deb##*/}"
    tail -30 "$tmp/install.log" | show
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed && installed=1
fi

files_ok() {
    local f missing=0
    for f in /usr/lib/apache2/modules/mod_oauthclient.so \
             /etc/apache2/mods-available/oauthclient.load \
             /etc/apache2/mods-available/oauthclient.conf \
             /usr/include/apache2/mod_oauthclient.h \
             /usr/share/doc/$pkg/copyright \
             /usr/share/doc/$pkg/examples/github.conf \
             /usr/share/doc/$pkg/html/index.html \
             /usr/share/man/man8/mod_oauthclient.8.gz; do
        if ! dpkg -S "$f" > /dev/null 2>&1 || [ ! -e "$f" ]; then
            echo "missing: $f"; missing=1
        fi
    done
    # not enabled by the installation (debian/rules says why)
    if [ -e /etc/apache2/mods-enabled/oauthclient.load ]; then
        echo "enabled on installation"; missing=1
    fi
    return $missing
}
check "the package has the module, the a2enmod files, the manual and the examples; the module is not enabled yet" files_ok

# --- 5-6: a2enmod, configtest -----------------------------------------------
for m in "${deps[@]}"; do
    [ -e "/etc/apache2/mods-enabled/$m.load" ] && continue
    enabled_deps+=("$m")
    dep_state[$m]=$(state_of "$m")
done
enmod() {
    a2enmod oauthclient || return 1
    local m
    for m in oauthclient "${deps[@]}"; do
        [ -e "/etc/apache2/mods-enabled/$m.load" ] || { echo "$m not enabled"; return 1; }
    done
    [ -e /etc/apache2/mods-enabled/oauthclient.conf ] || { echo "oauthclient.conf not enabled"; return 1; }
}
check "a2enmod oauthclient (with ${deps[*]})" enmod
configtest() {
    local out
    out=$(apache2ctl configtest 2>&1)
    echo "$out"
    grep -qx 'Syntax OK' <<<"$out"
}
check_v "apache2ctl configtest: the distribution's configuration with the module" configtest

# --- 7: the installed httpd on 127.0.0.1 ------------------------------------
port=$(free_port)
: > "$tmp/provider.out"
setsid /usr/bin/python3 "$top/t/provider/provider.py" --host 127.0.0.1 --port 0 \
    --log "$tmp/provider.log" > "$tmp/provider.out" 2>&1 < /dev/null &
provider_pid=$!
provider=
for _ in $(seq 100); do
    provider=$(sed -n 's/^provider listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/provider.out")
    [ -n "$provider" ] && break
    sleep 0.1
done
[ -n "$provider" ] || { echo "# the provider did not start:"; show "$tmp/provider.out"; }

mkdir -p "$tmp/htdocs/app" "$tmp/run"
echo "hello from the package smoke test" > "$tmp/htdocs/app/hello.txt"
chmod -R a+rX "$tmp/htdocs"
passphrase=$(head -c 32 /dev/urandom | base64)
httpd_conf=$tmp/httpd.conf
# The distribution's modules as a2enmod left them, loaded in the order
# apache2.conf loads them (*.load, then *.conf: the module's LoadModule is
# in oauthclient.conf), and a server of our own around them.
cat > "$httpd_conf" <<EOF
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $tmp/httpd.pid
DefaultRuntimeDir $tmp/run
Mutex file:$tmp/run default
ErrorLog $tmp/error.log
LogLevel warn oauthclient:info
User \${APACHE_RUN_USER}
Group \${APACHE_RUN_GROUP}
IncludeOptional /etc/apache2/mods-enabled/*.load
IncludeOptional /etc/apache2/mods-enabled/*.conf
LogFormat "%h %u \"%r\" %>s" smoke
CustomLog $tmp/access.log smoke
DocumentRoot $tmp/htdocs
<Directory $tmp/htdocs>
    Require all granted
</Directory>

OAuthRemoteApp smoke \\
    client_id=oauth2-client client_secret=oauth2-secret \\
    authorize_url=$provider/oauth2/authorize \\
    access_token_url=$provider/oauth2/token \\
    api_base_url=$provider/api/ \\
    userinfo_endpoint=$provider/oauth2/userinfo \\
    scope="profile email" code_challenge_method=S256 user_claim=login
Session On
SessionCookieName smoke_session path=/;HttpOnly;SameSite=Lax
OAuthSessionPassphrase $passphrase
<Location /app>
    AuthType OAuth
    OAuthApp smoke
    Require valid-user
</Location>
<Location /api/smoke/>
    OAuthProxyAPI smoke
    ProxyAddHeaders Off
</Location>
EOF
start_httpd() {
    [ -n "$provider" ] || { echo "no provider"; return 1; }
    apache2ctl -f "$httpd_conf" -t || return 1
    httpd_started=1
    apache2ctl -f "$httpd_conf" -k start || return 1
    for _ in $(seq 100); do
        [ -s "$tmp/httpd.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    echo "httpd does not answer on 127.0.0.1:$port"; cat "$tmp/error.log"; return 1
}
check "apache2ctl -f (mods-enabled/, 127.0.0.1:$port) starts the installed httpd" start_httpd

# --- 8-11: a login against the local provider -------------------------------
site=http://127.0.0.1:$port
jar=$tmp/cookies
# GET URL with the cookie jar; prints "STATUS LOCATION".
get() {
    curl -s -o "$tmp/body" -D "$tmp/headers" -b "$jar" -c "$jar" \
        -H 'Accept: text/html' -w '%{http_code} %{redirect_url}' "$1"
}
res=$(get "$site/oauth/smoke/login?next=/app/hello.txt")
authorize=${res#* }
case $res in
    "302 $provider/oauth2/authorize?"*) ok "/oauth/smoke/login redirects to the provider" ;;
    *) not_ok "/oauth/smoke/login redirects to the provider"; echo "# got: $res" ;;
esac
res=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$authorize&auto_approve=alice")
callback=${res#* }
res=
case $callback in
    "$site/oauth/smoke/callback?"*) res=$(get "$callback") ;;
esac
case $res in
    "302 $site/app/hello.txt") ok "alice approves; the callback opens the session and returns to next" ;;
    *) not_ok "alice approves; the callback opens the session and returns to next"
       echo "# callback: $callback"; echo "# its answer: $res"; show "$tmp/body" ;;
esac
res=$(get "$site/app/hello.txt")
if [ "$res" = "200 " ] && grep -q 'hello from the package' "$tmp/body" \
   && grep -q '^127\.0\.0\.1 alice "GET /app/hello.txt HTTP/1.1" 200$' "$tmp/access.log"; then
    ok "the protected page, for alice"
else
    not_ok "the protected page, for alice"
    echo "# got: $res"; show "$tmp/access.log"
fi
res=$(get "$site/api/smoke/whoami")
if [ "$res" = "200 " ] && /usr/bin/python3 -c '
import json, sys
echo = json.load(open(sys.argv[1]))
sys.exit(not (echo["user"] == "alice" and echo["auth"] == "bearer-header"
              and echo["path"] == "/api/whoami"))
' "$tmp/body" 2>/dev/null; then
    ok "OAuthProxyAPI: the provider's API called with alice's token"
else
    not_ok "OAuthProxyAPI: the provider's API called with alice's token"
    echo "# got: $res"; show "$tmp/body"
fi

# --- 12: stop ---------------------------------------------------------------
stop_httpd() {
    local pid
    pid=$(cat "$tmp/httpd.pid" 2>/dev/null) || { echo "no pid file"; return 1; }
    apache2ctl -f "$httpd_conf" -k stop || return 1
    wait_gone "$pid" || { echo "httpd $pid did not stop"; return 1; }
    httpd_started=
    # a child that crashed on the way
    if grep -q 'exit signal' "$tmp/error.log"; then cat "$tmp/error.log"; return 1; fi
}
check "httpd stops (no child crashed)" stop_httpd

# --- 13-15: apt purge, nothing left -----------------------------------------
purge() {
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o Dpkg::Use-Pty=0 "$pkg" || return 1
    installed=
}
check_v "apt-get purge $pkg" purge
leftovers() {
    local f left=0
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
    case $status in
        ""|*" not-installed") ;;
        *) echo "dpkg: $status"; left=1 ;;
    esac
    for f in /usr/lib/apache2/modules/mod_oauthclient.so \
             /etc/apache2/mods-available/oauthclient.load \
             /etc/apache2/mods-available/oauthclient.conf \
             /etc/apache2/mods-enabled/oauthclient.load \
             /etc/apache2/mods-enabled/oauthclient.conf \
             /usr/include/apache2/mod_oauthclient.h \
             /usr/share/doc/$pkg \
             /usr/share/man/man8/mod_oauthclient.8.gz \
             /usr/share/doc-base/$pkg.mod-oauthclient \
             /var/lib/apache2/module/enabled_by_admin/oauthclient \
             /var/lib/apache2/module/enabled_by_maint/oauthclient \
             /var/lib/apache2/module/disabled_by_admin/oauthclient \
             /var/lib/apache2/module/disabled_by_maint/oauthclient; do
        if [ -e "$f" ] || [ -L "$f" ]; then echo "left: $f"; left=1; fi
    done
    return $left
}
check "nothing of the package is left (files, mods-enabled links, a2enmod state, dpkg)" leftovers
after() {
    echo "a2dismod ${enabled_deps[*]:-(nothing: they were enabled before)}"
    restore_deps || return 1
    a2snapshot > "$tmp/a2-after"
    diff "$tmp/a2-before" "$tmp/a2-after" || return 1
    configtest
}
check_v "mods-enabled/ and a2enmod's records as before; apache2ctl configtest" after

[ "$failed" -eq 0 ]
