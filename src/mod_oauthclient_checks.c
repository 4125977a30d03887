/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * configtest catches the usual mistakes (issue #18, contract section 12),
 * each with the fix in its message:
 *
 * - AuthType OAuth where no OAuthApp applies (OAC00099);
 * - AuthType OAuth or OAuthProxyAPI where no 'Session On' or no session
 *   store applies (OAC00100, a warning: contract section 3 answers such
 *   a location with 500 at run time);
 * - OAuthProxyAPI to an https:// api_base_url without SSLProxyEngine On
 *   in that virtual host (OAC00101, a warning too);
 * - OAuthApp, or OAuthProxyAPI with users' tokens, naming an app that has
 *   no authorize_url (OAC00163);
 * - a Secure session cookie in a virtual host whose callbacks will be
 *   http:// (no https:// ServerName, no SSLEngine On): behind a proxy that
 *   terminates TLS the cookie never comes back to the callback. Only a
 *   warning (OAC00103): http://localhost keeps Secure cookies in browsers.
 *
 * What applies where is httpd's per-directory merge, which runs only for
 * a request; here it is approximated from the tree of sections, leniently
 * (never a false alarm on a working configuration): a setting counts for
 * a <Location> or <Directory> when it is in that section, at the top of
 * its virtual host or of the main server, or in a section of the same kind
 * whose literal path is a prefix of its path. Regex sections, <Files> and
 * <If> are not judged; AuthType OAuth without OAuthApp is not judged when
 * some AllowOverride lets .htaccess files set it.
 */
#include "mod_oauthclient_checks.h"
#include "mod_oauthclient_config.h"

#include "http_core.h"
#include "httpd.h"

#include <apr_strings.h>
#include <string.h>

#include "oac_fix.h"

APLOG_USE_MODULE(oauthclient);

typedef enum {
    HAS_AUTH_OAUTH = 1 << 0,
    HAS_APP = 1 << 1,
    HAS_SESSION_ON = 1 << 2,
    HAS_STORE = 1 << 3,
    HAS_SSL_PROXY = 1 << 4,
    HAS_SECURE_COOKIE = 1 << 5,
    HAS_SSL_ENGINE = 1 << 6,
    HAS_SSL_VERIFY = 1 << 7,
    HAS_CODEC = 1 << 8,
    HAS_DBD_DRIVER = 1 << 9,
    HAS_COOKIE_STORE = 1 << 10,     /* mod_session_cookie */
    HAS_CRYPTO = 1 << 11            /* mod_session_crypto */
} scope_flags_e;

typedef struct scope_t {
    const ap_directive_t *section;  /* the section, or NULL for a top level */
    const ap_directive_t *vhost;    /* enclosing <VirtualHost>, NULL: main */
    const char *kind;               /* "<location", "<directory", or NULL */
    const char *path;               /* a literal path, or NULL */
    ap_regex_t *regex;              /* a <LocationMatch>'s or <Location ~>'s */
    const char *proxy_api;          /* OAuthProxyAPI's app, or NULL */
    int service;                    /* ... with client_credentials */
    const ap_directive_t *auth_at;  /* where AuthType OAuth was set */
    const ap_directive_t *api_at;   /* where OAuthProxyAPI was set */
    const ap_directive_t *app_at;   /* where OAuthApp was set */
    const ap_directive_t *codec_at; /* where OAuthSessionPassphrase was */
    int flags;
} scope_t;

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *scopes;     /* scope_t */
    int overrides;                  /* some AllowOverride other than None */
} walk_t;

static int is(const ap_directive_t *d, const char *name)
{
    return !strcasecmp(d->directive, name);
}

/* The first word of a directive's arguments, unquoted. */
static const char *first_arg(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";
    return ap_getword_conf(p, &args);
}

static void note(walk_t *w, scope_t *sc, const ap_directive_t *d)
{
    const char *arg = first_arg(w->p, d);

    if (is(d, "AuthType") && !strcasecmp(arg, "OAuth")) {
        sc->flags |= HAS_AUTH_OAUTH;
        sc->auth_at = d;
    }
    else if (is(d, "OAuthApp")) {
        sc->flags |= HAS_APP;
        sc->app_at = d;
    }
    else if (is(d, "OAuthProxyAPI")) {
        sc->proxy_api = arg;
        sc->api_at = d;
        sc->service = d->args && strstr(d->args, "client_credentials");
    }
    else if (is(d, "Session")) {
        if (!strcasecmp(arg, "On")) {
            sc->flags |= HAS_SESSION_ON;
        }
    }
    else if (is(d, "SessionCookieName") || is(d, "SessionCookieName2")
             || is(d, "SessionDBDCookieName")
             || is(d, "SessionDBDCookieName2")) {
        sc->flags |= HAS_STORE;
        if (is(d, "SessionCookieName") || is(d, "SessionCookieName2")) {
            sc->flags |= HAS_COOKIE_STORE;
        }
        if (ap_strcasestr(d->args ? d->args : "", "secure")) {
            sc->flags |= HAS_SECURE_COOKIE;
        }
    }
    else if (is(d, "SSLEngine") && !strcasecmp(arg, "On")) {
        sc->flags |= HAS_SSL_ENGINE;
    }
    else if (is(d, "SSLProxyEngine") && !strcasecmp(arg, "On")) {
        sc->flags |= HAS_SSL_PROXY;
    }
    else if (is(d, "SSLProxyVerify") && !strcasecmp(arg, "require")) {
        sc->flags |= HAS_SSL_VERIFY;
    }
    else if (is(d, "SessionCryptoPassphrase")
             || is(d, "SessionCryptoPassphraseFile")) {
        sc->flags |= HAS_CRYPTO;
    }
    else if (is(d, "DBDriver")) {
        sc->flags |= HAS_DBD_DRIVER;
    }
    else if (is(d, "OAuthSessionPassphrase")
             || is(d, "OAuthSessionPassphraseFile")) {
        sc->flags |= HAS_CODEC;
        sc->codec_at = d;
    }
    else if (is(d, "AllowOverride") && strcasecmp(arg, "None")) {
        w->overrides = 1;
    }
}

/* A <LocationMatch>'s (or <Location ~>'s) pattern, as httpd compiles it. */
static ap_regex_t *pattern(apr_pool_t *p, const char *re)
{
    return *re ? ap_pregcomp(p, re, AP_REG_EXTENDED) : NULL;
}

static scope_t *new_scope(walk_t *w, const ap_directive_t *section,
                          const ap_directive_t *vhost)
{
    scope_t *sc = apr_array_push(w->scopes);

    memset(sc, 0, sizeof(*sc));
    sc->section = section;
    sc->vhost = vhost;
    if (section && (is(section, "<Location") || is(section, "<Directory"))) {
        const char *args = section->args ? section->args : "";
        const char *path = oac_section_word(w->p, &args);
        sc->kind = apr_pstrdup(w->p, section->directive);
        ap_str_tolower((char *)sc->kind);
        /* "<Location ~ re>" is a pattern, as <LocationMatch>; "<Directory
         * ~ re>" and the like are not judged */
        if (*path == '~' && is(section, "<Location")) {
            sc->regex = pattern(w->p, oac_section_word(w->p, &args));
        }
        else if (*path && *path != '~') {
            sc->path = path;
        }
    }
    else if (section && is(section, "<LocationMatch")) {
        const char *args = section->args ? section->args : "";
        sc->kind = "<locationmatch";
        sc->regex = pattern(w->p, oac_section_word(w->p, &args));
    }
    return sc;
}

/* Directives of d's list into scope sc; sections open scopes of their
 * own, other containers (<If>, <RequireAll>, <Limit>) count for sc. */
static void walk(walk_t *w, const ap_directive_t *d, int sc_index,
                 const ap_directive_t *vhost)
{
    for (; d; d = d->next) {
        if (is(d, "<VirtualHost")) {
            int i = (int)(new_scope(w, NULL, d) - (scope_t *)w->scopes->elts);
            walk(w, d->first_child, i, d);
        }
        else if (is(d, "<Location") || is(d, "<Directory")
                 || is(d, "<LocationMatch") || is(d, "<DirectoryMatch")
                 || is(d, "<Files") || is(d, "<FilesMatch")
                 || is(d, "<Proxy") || is(d, "<ProxyMatch")) {
            int i = (int)(new_scope(w, d, vhost) - (scope_t *)w->scopes->elts);
            walk(w, d->first_child, i, vhost);
            if (is(d, "<Proxy") || is(d, "<ProxyMatch")) {
                /* SSLProxyEngine in a <Proxy> section serves its host */
                scope_t *px = &APR_ARRAY_IDX(w->scopes, i, scope_t);
                APR_ARRAY_IDX(w->scopes, sc_index, scope_t).flags
                    |= px->flags & (HAS_SSL_PROXY | HAS_SSL_VERIFY);
            }
        }
        else {
            note(w, &APR_ARRAY_IDX(w->scopes, sc_index, scope_t), d);
            if (d->first_child) {
                walk(w, d->first_child, sc_index, vhost);
            }
        }
    }
}

static int path_prefix(const char *prefix, const char *path)
{
    return prefix && path && !strncmp(prefix, path, strlen(prefix));
}

/* Whether flag applies to scope s, as the header comment says. A section
 * of the main server may be completed by any virtual host's top level. */
static int applies(const walk_t *w, const scope_t *s, int flag)
{
    const scope_t *all = (const scope_t *)w->scopes->elts;
    int i;

    if (s->flags & flag) {
        return 1;
    }
    for (i = 0; i < w->scopes->nelts; ++i) {
        const scope_t *o = &all[i];
        if (!(o->flags & flag)) {
            continue;
        }
        if (!o->section && (!o->vhost || !s->vhost || o->vhost == s->vhost)) {
            return 1;       /* a top level that is s's or covers it */
        }
        if (o->section && s->kind && o->kind && !strcmp(o->kind, s->kind)
            && (!o->vhost || o->vhost == s->vhost)
            && path_prefix(o->path, s->path)) {
            return 1;
        }
        /* <Location /> applies to every request of its host, whatever
         * <Directory> serves it */
        if (o->section && o->kind && !strcmp(o->kind, "<location")
            && o->path && !strcmp(o->path, "/")
            && (!o->vhost || o->vhost == s->vhost)) {
            return 1;
        }
    }
    return 0;
}

static const char *where(apr_pool_t *p, const ap_directive_t *d)
{
    return apr_psprintf(p, "%s:%d", d->filename, d->line_num);
}

/* The host a top-level scope stands for, as the messages name it. */
static const char *host_named(apr_pool_t *p, const ap_directive_t *vhost)
{
    return vhost ? apr_psprintf(p, "the virtual host at %s", where(p, vhost))
                 : "the main server";
}

/* The first scope of top's host or of the main server (a section of
 * kind, when kind is given) that sets flag, or NULL. */
static const scope_t *first_in_host(const walk_t *w, const scope_t *top,
                                    int flag, const char *kind)
{
    const scope_t *all = (const scope_t *)w->scopes->elts;
    int i;

    for (i = 0; i < w->scopes->nelts; ++i) {
        if ((all[i].flags & flag)
            && (!kind || (all[i].kind && !strcmp(all[i].kind, kind)))
            && (!all[i].vhost || all[i].vhost == top->vhost)) {
            return &all[i];
        }
    }
    return NULL;
}

/* The server_rec of a top-level scope. */
static server_rec *server_of(const scope_t *s, server_rec *main_s)
{
    server_rec *srv;
    if (!s->vhost) {
        return main_s;
    }
    for (srv = main_s->next; srv; srv = srv->next) {
        if (srv->defn_line_number == (unsigned)s->vhost->line_num
            && srv->defn_name && !strcmp(srv->defn_name, s->vhost->filename)) {
            return srv;
        }
    }
    return NULL;
}

/* The api_base_url of app name as the virtual host of s sees it. */
static const char *api_base_of(const scope_t *s, server_rec *main_s,
                               const char *name)
{
    server_rec *srv = server_of(s, main_s);
    const oac_server_conf *sc = srv ? oac_server_config(srv) : NULL;
    const oac_app_t *app = sc && sc->apps_by_name
        ? apr_hash_get(sc->apps_by_name, name, APR_HASH_KEY_STRING) : NULL;
    return app ? app->api_base_url : NULL;
}

/* An app named where users log in (OAuthApp, or OAuthProxyAPI with a
 * user's token) that has no authorize_url and no metadata to find one in:
 * it serves service tokens only (contract section 11), and every login
 * would be a 404 (OAC00162). */
static int check_login_app(const walk_t *w, const scope_t *s,
                           server_rec *main_s)
{
    const ap_directive_t *named[2];
    server_rec *srv = server_of(s, main_s);
    const oac_server_conf *sc = srv ? oac_server_config(srv) : NULL;
    int i;

    named[0] = s->app_at;
    named[1] = s->service ? NULL : s->api_at;
    for (i = 0; i < 2; ++i) {
        const ap_directive_t *d = named[i];
        const char *name = d ? first_arg(w->p, d) : NULL;
        const oac_app_t *app = name && sc && sc->apps_by_name
            ? apr_hash_get(sc->apps_by_name, name, APR_HASH_KEY_STRING)
            : NULL;

        if (!app || app->authorize_url || app->server_metadata_url) {
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00163) "%s %s at %s: the app has no "
                     "authorize_url, so no user can log in to it; give it "
                     "authorize_url (or server_metadata_url), or use it "
                     "with 'OAuthProxyAPI %s client_credentials' only",
                     d->directive, name, where(w->p, d), name);
        return !OK;
    }
    return OK;
}

static int check_scope(const walk_t *w, const scope_t *s, server_rec *main_s)
{
    const ap_directive_t *at = s->auth_at ? s->auth_at : s->api_at;
    const char *base = NULL;
    int https_api;

    if (!s->section || !s->kind || !s->path || !at) {
        return OK;
    }
    if (s->auth_at && !w->overrides && !applies(w, s, HAS_APP)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00099) "AuthType OAuth at %s: no OAuthApp "
                     "applies there; add 'OAuthApp NAME' to that section "
                     "(NAME an app declared with OAuthRemoteApp)",
                     where(w->p, s->auth_at));
        return !OK;
    }
    /* A service token needs no session. Said, not refused: contract
     * section 3 has such a location answer 500, logging the directive
     * that is missing (OAC00012, OAC00011), and a configuration the
     * contract describes must start. */
    if (!(s->service && !s->auth_at)
        && (!applies(w, s, HAS_SESSION_ON) || !applies(w, s, HAS_STORE))) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00100) "%s at %s keeps tokens in mod_session's "
                     "session, and no %s applies there: add 'Session On' and "
                     "a store, e.g. 'SessionCookieName oauth_session "
                     "path=/;HttpOnly;Secure' with OAuthSessionPassphrase, "
                     "or mod_session_dbd's SessionDBDCookieName",
                     s->auth_at ? "AuthType OAuth" : "OAuthProxyAPI",
                     where(w->p, at),
                     applies(w, s, HAS_SESSION_ON) ? "session store"
                                                   : "'Session On'");
    }
    if (s->auth_at && applies(w, s, HAS_COOKIE_STORE)
        && !applies(w, s, HAS_CODEC) && !applies(w, s, HAS_CRYPTO)) {
        /* Said, not refused: the README documents the choice, and a
         * passphrase in a section this walk does not judge may apply. */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00159) "AuthType OAuth at %s keeps its "
                     "logins in a session cookie that is not encrypted: "
                     "its owner can write any user name and claims into "
                     "it, and REMOTE_USER, Require user and Require "
                     "oauth-claim then mean nothing; add "
                     "OAuthSessionPassphrase (or mod_session_crypto), or "
                     "keep sessions on the server (mod_session_dbd)",
                     where(w->p, s->auth_at));
    }
    https_api = s->proxy_api && (base = api_base_of(s, main_s, s->proxy_api))
                && !strncasecmp(base, "https://", 8);
    if (https_api && !applies(w, s, HAS_SSL_PROXY)) {
        /* Said, not refused: the contract's own example (section 6) is
         * such a location, which answers 401 without a token and fails
         * only the calls mod_proxy would make (AH00961, a 500). */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00101) "OAuthProxyAPI %s at %s proxies to "
                     "%s, and mod_proxy needs 'SSLProxyEngine On' (mod_ssl) "
                     "in that virtual host to speak https: add it, with "
                     "'SSLProxyVerify require' and 'SSLProxyCheckPeerName "
                     "On'", s->proxy_api, where(w->p, s->api_at), base);
    }
    else if (https_api && !applies(w, s, HAS_SSL_VERIFY)) {
        /* mod_ssl checks nothing it proxies to by default (SSLProxyVerify
         * none): said, not refused, as a <Proxy> section of another form
         * or an Include this walk does not read may set it. */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00155) "OAuthProxyAPI %s at %s proxies to "
                     "%s, and no 'SSLProxyVerify require' applies there: "
                     "mod_ssl's default (none) sends the user's token to "
                     "whoever answers for that name; add 'SSLProxyVerify "
                     "require', 'SSLProxyCheckPeerName On' and a CA "
                     "(SSLProxyCACertificateFile)", s->proxy_api,
                     where(w->p, s->api_at), base);
    }
    return OK;
}

static const oac_app_t *app_with_relative_callback(server_rec *srv)
{
    const oac_server_conf *sc = oac_server_config(srv);
    int i;
    for (i = 0; sc->apps && i < sc->apps->nelts; ++i) {
        const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i, const oac_app_t *);
        if (app->redirect_uri && app->redirect_uri[0] == '/') {
            return app;
        }
    }
    return NULL;
}

static void warn_secure_cookie(const walk_t *w, const scope_t *s,
                               server_rec *main_s)
{
    server_rec *srv;
    const oac_app_t *app;

    if (s->section || !applies(w, s, HAS_SECURE_COOKIE)
        || (s->flags & HAS_SSL_ENGINE) || !(srv = server_of(s, main_s))
        || (srv->server_scheme && !strcasecmp(srv->server_scheme, "https"))
        || !(app = app_with_relative_callback(srv))) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                 OAC_LOGNO(00103) "%s: the session cookie is Secure, but "
                 "the callbacks (app %s: %s) will be http://%s...: behind a "
                 "proxy that terminates TLS the cookie does not come back "
                 "to them and every login fails; set 'ServerName https://%s' "
                 "or an absolute redirect_uri=https://...",
                 host_named(w->p, s->vhost),
                 app->name, app->redirect_uri,
                 srv->server_hostname ? srv->server_hostname : "HOST",
                 srv->server_hostname ? srv->server_hostname : "HOST");
}

/* A private key others on the machine can read is a client's identity
 * anyone there can take: httpd reads it as root at startup, so 0600 (or
 * 0640 to a group of root's) is all it needs. Said, not refused: a
 * deployment may have its reasons (a key readable by a backup group). */
static void warn_key_file(apr_pool_t *p, apr_hash_t *seen,
                          const oac_app_t *app, const char *key,
                          const char *file)
{
    apr_finfo_t fi;

    if (!file || apr_hash_get(seen, file, APR_HASH_KEY_STRING)
        || apr_stat(&fi, file, APR_FINFO_PROT, p) != APR_SUCCESS) {
        return;
    }
    apr_hash_set(seen, file, APR_HASH_KEY_STRING, file);
    if (fi.protection & APR_WREAD) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00132) "OAuthRemoteApp %s: %s %s can be read "
                     "by every user of this machine: it is the client's "
                     "private key; make it readable by root only (chmod 600 "
                     "%s)", app->name, key, file, file);
    }
}

/* nOAuth: with users of any tenant, a claim each tenant's administrators
 * set (an email, a sign-in name) lets another tenant name its user as
 * one of yours. sub (the default) and oid are Microsoft's own. */
static void warn_tenant_user_claim(const oac_app_t *app)
{
    static const char *const mutable_claims[] = {
        "email", "preferred_username", "upn", "unique_name", "name", NULL
    };
    const char *const *c;

    if (!app->user_claim || !oac_fix_multi_tenant(app)) {
        return;
    }
    for (c = mutable_claims; *c && strcmp(*c, app->user_claim); ++c) {
    }
    if (*c) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00145) "OAuthRemoteApp %s: user_claim=%s "
                     "names the users of every tenant by a claim that each "
                     "tenant's administrators set, so another tenant can "
                     "give its user one of your users' names; keep the "
                     "default (sub) or use oid", app->name, app->user_claim);
    }
}

/* Apple's client_secret is made out to its issuer (aud), and an explicit
 * issuer takes that place so that a stand-in of Apple's (a test provider)
 * can check it; any other issuer (a trailing slash, a typing error) would
 * have every token request refused with no hint why. */
static void warn_apple_issuer(const oac_app_t *app)
{
    if (app->issuer && oac_fix_has(app, "apple")
        && strcmp(app->issuer, OAC_APPLE_ISSUER)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00147) "OAuthRemoteApp %s: "
                     "compliance_fix=apple with issuer=%s, not Apple's "
                     "(" OAC_APPLE_ISSUER "): the client_secret is made out "
                     "to it and id_tokens must come from it, which only a "
                     "stand-in of Apple's does; for Apple, drop issuer",
                     app->name, app->issuer);
    }
}

static void warn_apps(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *seen = apr_hash_make(p);
    server_rec *srv;

    for (srv = main_s; srv; srv = srv->next) {
        const oac_server_conf *sc = oac_server_config(srv);
        apr_hash_index_t *hi;
        if (!sc || !sc->apps_by_name) {
            continue;
        }
        for (hi = apr_hash_first(p, sc->apps_by_name); hi;
             hi = apr_hash_next(hi)) {
            const oac_app_t *app = apr_hash_this_val(hi);
            warn_key_file(p, seen, app, "client_key_file",
                          app->client_key_file);
            warn_key_file(p, seen, app, "dpop_key_file", app->dpop_key_file);
            warn_tenant_user_claim(app);
            warn_apple_issuer(app);
        }
    }
}

/* Whether flag (OAuthSessionPassphrase, Session On, a store) covers path
 * in the virtual host of top (a top-level scope): applies() for literal
 * <Location> prefixes, and the <LocationMatch> and <Location ~> patterns
 * of that host or the main server too. */
static int covers(const walk_t *w, const scope_t *top, const char *path,
                  int flag)
{
    const scope_t *all = (const scope_t *)w->scopes->elts;
    scope_t route;
    int i;

    memset(&route, 0, sizeof(route));
    route.section = top->vhost;     /* any non-NULL: not a top level */
    route.vhost = top->vhost;
    route.kind = "<location";
    route.path = path;
    if (applies(w, &route, flag)) {
        return 1;
    }
    for (i = 0; i < w->scopes->nelts; ++i) {
        const scope_t *o = &all[i];
        if ((o->flags & flag) && o->regex
            && (!o->vhost || o->vhost == top->vhost)
            && !ap_regexec(o->regex, path, 0, NULL, 0)) {
            return 1;
        }
    }
    return 0;
}

/* 'Session On' and its store only in <Directory> sections of a host: the
 * module's own paths (login, callback, logout) are claimed when the URL
 * is mapped and never enter a <Directory>, so every login answered 500. */
static void warn_session_in_directory(const walk_t *w, const scope_t *top,
                                      server_rec *main_s)
{
    const scope_t *dir;
    const oac_server_conf *sc;
    const oac_app_t *app;
    server_rec *srv;

    if (top->section || !(srv = server_of(top, main_s))
        || !(sc = oac_server_config(srv)) || !sc->apps || !sc->apps->nelts
        || !(dir = first_in_host(w, top, HAS_SESSION_ON, "<directory"))) {
        return;
    }
    app = APR_ARRAY_IDX(sc->apps, 0, const oac_app_t *);
    if (!app->login_path || (covers(w, top, app->login_path, HAS_SESSION_ON)
                             && covers(w, top, app->login_path, HAS_STORE))) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                 OAC_LOGNO(00157) "%s: 'Session On' is set in the <Directory> "
                 "at %s, but the module's own paths (app %s: %s, its "
                 "callback and logout) never enter a <Directory>: they have "
                 "no session there and answer 500; set 'Session On' and "
                 "its store at the top of the %s or in a <Location>",
                 host_named(w->p, top->vhost),
                 where(w->p, dir->section), app->name, app->login_path,
                 top->vhost ? "virtual host" : "server");
}

/* OAuthSessionPassphrase set for some locations of a host but not over an
 * app's own paths: the callback stores the login in a plain cookie, which
 * the locations under the passphrase refuse, so every login loops (and
 * the tokens sat in the clear). */
static void warn_codec_scope(const walk_t *w, const scope_t *top,
                             server_rec *main_s)
{
    const scope_t *codec;
    const oac_server_conf *sc;
    server_rec *srv;
    int i;

    if (top->section || (top->flags & HAS_CODEC)
        || !(srv = server_of(top, main_s))
        || !(sc = oac_server_config(srv)) || !sc->apps
        || !(codec = first_in_host(w, top, HAS_CODEC, NULL))) {
        return;
    }
    for (i = 0; i < sc->apps->nelts; ++i) {
        const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i, const oac_app_t *);
        const char *paths[3], *missing = NULL;
        int j;
        paths[0] = app->login_path;
        paths[1] = app->redirect_uri && app->redirect_uri[0] == '/'
                   ? app->redirect_uri : NULL;
        paths[2] = app->logout_path;
        for (j = 0; j < 3 && !missing; ++j) {
            if (paths[j] && !covers(w, top, paths[j], HAS_CODEC)) {
                missing = paths[j];
            }
        }
        if (missing) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         OAC_LOGNO(00156) "%s: OAuthSessionPassphrase (%s) "
                         "does not apply to app %s's %s: its logins would "
                         "be kept in a plain cookie, which the locations "
                         "under the passphrase cannot read (every login "
                         "comes back to the login page); give it the scope "
                         "of 'Session On' (the server or the virtual host), "
                         "or a <Location> over the app's paths",
                         host_named(w->p, top->vhost),
                         where(w->p, codec->codec_at), app->name, missing);
        }
    }
}

/* OAuthCache dbd where no DBDriver applies: mod_dbd is loaded, so
 * nothing else says it, and every refresh then logged mod_dbd's error and
 * was coordinated on this machine only. */
static int check_cache_dbd(const walk_t *w, const scope_t *top,
                           server_rec *main_s)
{
    server_rec *srv;
    const oac_server_conf *sc;

    if (top->section || !(srv = server_of(top, main_s))
        || !(sc = oac_server_config(srv)) || sc->cache_kind != OAC_CACHE_DBD
        || applies(w, top, HAS_DBD_DRIVER)) {
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                 OAC_LOGNO(00158) "OAuthCache dbd (%s) uses mod_dbd's "
                 "connections, and no DBDriver applies to %s: give it "
                 "DBDriver and DBDParams (as for mod_session_dbd), or use "
                 "OAuthCache shm or memcache:", sc->cache_where,
                 host_named(w->p, top->vhost));
    return !OK;
}

int oac_checks_run(apr_pool_t *ptemp, server_rec *main_s)
{
    walk_t w;
    int i;

    w.p = ptemp;
    w.scopes = apr_array_make(ptemp, 32, sizeof(scope_t));
    w.overrides = 0;
    new_scope(&w, NULL, NULL);
    walk(&w, ap_conftree, 0, NULL);
    for (i = 0; i < w.scopes->nelts; ++i) {
        const scope_t *s = &APR_ARRAY_IDX(w.scopes, i, scope_t);
        if (check_scope(&w, s, main_s) != OK
            || check_login_app(&w, s, main_s) != OK
            || check_cache_dbd(&w, s, main_s) != OK) {
            return !OK;
        }
        warn_secure_cookie(&w, s, main_s);
        warn_codec_scope(&w, s, main_s);
        warn_session_in_directory(&w, s, main_s);
    }
    warn_apps(ptemp, main_s);
    return OK;
}
