/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The paths the module answers itself: login (Authlib's
 * authorize_redirect), callback (authorize_access_token) and logout.
 */
#include "mod_oauthclient_flow.h"
#include "mod_oauthclient_discovery.h"
#include "mod_oauthclient_oidc.h"
#include "mod_oauthclient_body.h"
#include "mod_oauthclient_claims.h"
#include "mod_oauthclient_hooks.h"
#include "mod_oauthclient_session.h"
#include "mod_oauthclient_status.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
/* ap_response_code_string: the ErrorDocument for a status, or NULL */
#include "mod_core.h"
#include "util_script.h"

#include <apr_strings.h>
#include <apr_uri.h>

#include "oac_fix.h"
#include "oac_form.h"
#include "oac_url.h"
#include "oac_oauth1.h"
#include "oac_oauth2.h"
#include "oac_pending.h"
#include "oac_redirect.h"
#include "oac_userinfo.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

/* How many logins may be in flight in one browser (tabs), each for
 * OAC_PENDING_LIFETIME: enough for people, small enough for a cookie. */
#define PENDING_MAX 5
/* All apps' logins in flight together, as stored: a page that makes the
 * browser start login after login must not push the session cookie past
 * the 4,096 bytes browsers keep (nor the request past httpd's 8,190). */
#define PENDING_BUDGET 2048
#define CALLBACK_BODY_MAX (64 * 1024)
/* Provider text on error pages and in the log: short, one line. */
#define ERROR_TEXT_MAX 200

const oac_route_t *oac_route_find(request_rec *r)
{
    oac_server_conf *sc = oac_server_config(r->server);
    if (!sc->routes || !r->uri) {
        return NULL;
    }
    return apr_hash_get(sc->routes, r->uri, APR_HASH_KEY_STRING);
}

int oac_respond(request_rec *r, int status, const char *content_type,
                const char *body)
{
    r->status = status;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, content_type);
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

/* The page a login was for, once the request knows it (the login's next,
 * or the pending login a callback spent): a failed login's "log in again"
 * then leads back there rather than to the home page. */
#define NOTE_NEXT "oauthclient-login-next"

static void note_next(request_rec *r, const char *next)
{
    if (next && oac_redirect_is_local(next)) {
        apr_table_setn(r->notes, NOTE_NEXT, next);
    }
}

int oac_error_page(request_rec *r, int status, const oac_app_t *app,
                   const char *title, const char *detail)
{
    const char *next = apr_table_get(r->notes, NOTE_NEXT);
    const char *login = !app ? NULL
        : next ? apr_pstrcat(r->pool, app->login_path, "?next=",
                             oac_util_pct_encode(r->pool, next), NULL)
               : app->login_path;

    /* A failed callback's page is at a URL that still holds the code and
     * the state (unspent at the provider when the exchange never came):
     * no link or resource of the page, the module's or the site's own
     * ErrorDocument, is to be told it. */
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
    /* A site that brands its error pages (ErrorDocument for this status
     * here) gets its own page; the reason goes along as httpd's
     * error-notes (REDIRECT_ERROR_NOTES to an ErrorDocument script), and
     * the way to log in again as REDIRECT_OAUTHCLIENT_LOGIN_URL: not
     * OAUTH_*, which the module clears from every internal redirect. */
    if (ap_response_code_string(r, ap_index_of_response(status))) {
        apr_table_setn(r->notes, "error-notes",
                       ap_escape_html(r->pool, apr_pstrcat(
                           r->pool, title, ": ", detail, NULL)));
        if (login) {
            apr_table_setn(r->subprocess_env, "OAUTHCLIENT_LOGIN_URL", login);
        }
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return status;
    }
    const char *retry = login
        ? apr_psprintf(r->pool, "<p><a href=\"%s\">Log in again</a></p>\n",
                       ap_escape_html(r->pool, login))
        : "";
    const char *body = apr_psprintf(r->pool,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>%s</title></head>\n<body>\n<h1>%s</h1>\n<p>%s</p>\n%s"
        "</body></html>\n",
        ap_escape_html(r->pool, title), ap_escape_html(r->pool, title),
        ap_escape_html(r->pool, detail), retry);
    return oac_respond(r, status, "text/html; charset=utf-8", body);
}

static int redirect(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return HTTP_MOVED_TEMPORARILY;
}

/* The callback URL the provider must send the browser to, absolute, built
 * the way httpd builds its own URLs (ServerName, UseCanonicalName), never
 * from X-Forwarded-* headers a client could forge. */
static const char *absolute_redirect_uri(request_rec *r, const oac_app_t *app)
{
    if (app->redirect_uri[0] == '/') {
        return ap_construct_url(r->pool, app->redirect_uri, r);
    }
    return app->redirect_uri;
}

/* Whether name (a host, without brackets) is one r's virtual host answers
 * to: its ServerName, a ServerAlias (wildcards too), the address the
 * connection came in on, or localhost on a loopback connection. */
static int server_answers_to(request_rec *r, const char *name)
{
    const server_rec *s = r->server;
    const conn_rec *c = r->connection;
    int i;

    if (s->server_hostname && !strcasecmp(name, s->server_hostname)) {
        return 1;
    }
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        const char *alias = APR_ARRAY_IDX(s->names, i, const char *);
        if (alias && !strcasecmp(name, alias)) {
            return 1;
        }
    }
    for (i = 0; s->wild_names && i < s->wild_names->nelts; ++i) {
        const char *alias = APR_ARRAY_IDX(s->wild_names, i, const char *);
        if (alias && !ap_strcasecmp_match(name, alias)) {
            return 1;
        }
    }
    if (c->local_ip && !strcasecmp(name, c->local_ip)) {
        return 1;
    }
    if (!strcasecmp(name, "localhost") && c->local_ip
        && (!strncmp(c->local_ip, "127.", 4) || !strcmp(c->local_ip, "::1")
            || !strncasecmp(c->local_ip, "::ffff:127.", 11))) {
        return 1;
    }
    return 0;
}

/* A relative redirect_uri takes the host the request names (contract:
 * "made absolute from the request's scheme and host"), and whoever starts
 * a login chooses that request's Host header. On a virtual host that
 * answers every name (the first for its address), an attacker could start
 * a login whose callback names a host of theirs, have a victim approve
 * it, and finish the login in their own session with the victim's code or
 * verifier: OAuth 1 providers take the callback from each request, OAuth 2
 * ones that match redirect_uri loosely do too. The name a callback would
 * carry, when this server does not answer to it; else NULL. */
static const char *foreign_callback_host(request_rec *r, const oac_app_t *app)
{
    const char *host;
    apr_port_t port;
    apr_size_t n;
    int named;

    /* Only a name the request gave (its Host header, or an absolute
     * request line): with UseCanonicalName On or DNS, or no Host, httpd
     * names itself. */
    if (app->redirect_uri[0] != '/' || !r->hostname
        || ap_get_server_name(r) != r->hostname) {
        return NULL;
    }
    host = ap_get_server_name_for_url(r);
    port = ap_get_server_port(r);
    n = strlen(host);
    named = host[0] == '[' && n > 2 && host[n - 1] == ']'
            ? server_answers_to(r, apr_pstrmemdup(r->pool, host + 1, n - 2))
            : server_answers_to(r, host);
    /* and the port it gave: the connection's, the ServerName's, or a
     * standard one (a proxy in front that names it); another port of
     * this machine may be another's service */
    if (named && (port == r->connection->local_addr->port
                  || (r->server->port && port == r->server->port)
                  || port == 80 || port == 443)) {
        return NULL;
    }
    return apr_psprintf(r->pool, "%s:%u", host, (unsigned)port);
}

/* The commonest failure behind a proxy that terminates TLS: httpd sees
 * http, the provider sends the browser back to http://, and a Secure
 * session cookie does not come with it. Said once per login, at its
 * start. */
static void warn_tls_terminated(request_rec *r, const oac_app_t *app)
{
    const char *proto = apr_table_get(r->headers_in, "X-Forwarded-Proto");
    const char *uri;

    if (!proto || strcasecmp(proto, "https")
        || strncmp(uri = absolute_redirect_uri(r, app), "http://", 7)) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00102)
                  "app %s: the callback is %s, but this request came "
                  "through a proxy that terminated TLS "
                  "(X-Forwarded-Proto: https): set 'ServerName "
                  "https://%s' for this virtual host, or an absolute "
                  "redirect_uri=https://...", app->name, uri,
                  r->server->server_hostname
                      ? r->server->server_hostname : "HOST");
}

static const char *local_next(request_rec *r, apr_array_header_t *params)
{
    const char *next = params ? oac_form_get(params, "next") : NULL;
    return next && oac_redirect_is_local(next) ? next : NULL;
}

static apr_array_header_t *query_params(request_rec *r)
{
    apr_array_header_t *params;
    const char *why;
    if (!r->args
        || oac_form_decode(&params, &why, r->pool, r->args) != APR_SUCCESS) {
        return oac_form_make(r->pool);
    }
    return params;
}

static int read_form_body(request_rec *r, apr_array_header_t **pparams)
{
    char *buf;
    apr_size_t len;
    const char *why;
    int rc;

    if (!oac_body_is_form(r)) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = oac_body_read(r, CALLBACK_BODY_MAX, &buf, &len)) != OK) {
        return rc;
    }
    if (oac_form_decode(pparams, &why, r->pool, buf) != APR_SUCCESS) {
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

/* Logins in flight are bound to the app that started them, as a login is
 * (session_bind): virtual hosts that share a passphrase and an app name,
 * each with another provider or client, share the session's list, and
 * one's state spent at the other's callback would exchange a code the
 * other's provider issued (a tenant's, for an account of its choosing).
 * A list another app wrote is none of this one's. Kept beside the list:
 * versions before it read the list alone. */
#define PENDING_FOR OAC_PENDING_FOR

/* Whether app's logins in flight in z are another app's of its name
 * (their owner names another). */
static int pending_foreign(request_rec *r, session_rec *z,
                           const oac_app_t *app, const char **powner)
{
    const char *owner = oac_session_get(r, z, app, PENDING_FOR);

    if (powner) {
        *powner = owner;
    }
    return owner && strcmp(owner, app->session_bind ? app->session_bind : "");
}

static apr_array_header_t *pending_list(request_rec *r, session_rec *z,
                                        const oac_app_t *app)
{
    apr_array_header_t *list;
    const char *why, *owner;

    /* A list without its owner (written by an earlier version) is taken
     * where the name tells the app, as a login without its binding is. */
    if (pending_foreign(r, z, app, &owner)
        || (!owner && oac_session_name_ambiguous(app->name))) {
        return apr_array_make(r->pool, 1, sizeof(oac_pending_t));
    }
    if (oac_pending_decode(&list, &why, r->pool,
                           oac_session_get(r, z, app, "pending"), oac_now())
        != APR_SUCCESS) {
        return apr_array_make(r->pool, 1, sizeof(oac_pending_t));
    }
    return list;
}

/* After a login in flight was taken out of list: an empty list is no
 * app's any more. */
static void write_pending(request_rec *r, session_rec *z, const oac_app_t *app,
                          const apr_array_header_t *list)
{
    const char *now = oac_pending_encode(r->pool, list);

    oac_session_set(r, z, app, "pending", now);
    if (!*now) {
        oac_session_set(r, z, app, PENDING_FOR, NULL);
    }
}

/* Adds e to app's logins in flight, within PENDING_BUDGET for the logins
 * of every app of the virtual host together, the oldest dropped first. */
static void store_pending(request_rec *r, session_rec *z, const oac_app_t *app,
                          const oac_pending_t *e)
{
    oac_server_conf *sc = oac_server_config(r->server);
    int n = sc->apps->nelts, i, self = -1;
    apr_array_header_t **lists = apr_palloc(r->pool, (n + 1) * sizeof(*lists));
    const oac_app_t **apps = apr_palloc(r->pool, (n + 1) * sizeof(*apps));
    int *changed = apr_pcalloc(r->pool, (n + 1) * sizeof(*changed));
    int *foreign = apr_pcalloc(r->pool, (n + 1) * sizeof(*foreign));

    /* by name: an app configured by discovery is a copy of its
     * configured self here (oac_discovered), and counted twice it pushed
     * out other apps' logins that fit */
    for (i = 0; i < n; ++i) {
        apps[i] = APR_ARRAY_IDX(sc->apps, i, const oac_app_t *);
        if (apps[i] == app || !strcmp(apps[i]->name, app->name)) {
            apps[i] = app;
            self = i;
        }
    }
    if (self < 0) {
        apps[n] = app;
        self = n++;
    }
    for (i = 0; i < n; ++i) {
        /* Another host's logins in flight under an app name of this one
         * (another provider) are that host's: neither counted nor
         * written over, unless they are this app's name, which the new
         * login takes over. */
        foreign[i] = i != self && pending_foreign(r, z, apps[i], NULL);
        lists[i] = pending_list(r, z, apps[i]);
    }
    oac_pending_add(lists[self], e, PENDING_MAX);
    oac_pending_fit(r->pool, lists, n, self, PENDING_BUDGET, changed);
    /* Every list that differs from what is stored is written back: those
     * the budget changed, and those whose expired entries (left out of the
     * count) must not stay in the cookie either. */
    for (i = 0; i < n; ++i) {
        const char *stored, *now, *owner, *bind;
        if (foreign[i]) {
            continue;
        }
        stored = oac_session_get(r, z, apps[i], "pending");
        now = oac_pending_encode(r->pool, lists[i]);
        owner = oac_session_get(r, z, apps[i], PENDING_FOR);
        bind = *now && apps[i]->session_bind ? apps[i]->session_bind : NULL;
        if (changed[i] || strcmp(stored ? stored : "", now)) {
            oac_session_set(r, z, apps[i], "pending", now);
        }
        if (bind ? !owner || strcmp(owner, bind) : owner != NULL) {
            oac_session_set(r, z, apps[i], PENDING_FOR, bind);
        }
    }
}

/* ------------------------------------------------------------------------
 * login
 */

static int login_failed(request_rec *r, const oac_app_t *app,
                        oac_counter_e counter, int status,
                        const char *title, const char *detail);

static int login_oauth2(request_rec *r, session_rec *z, const oac_app_t *app,
                        const char *next)
{
    oac_pending_t pending = { 0 };
    apr_array_header_t *extra;
    const char *why, *challenge = NULL;
    char *state, *verifier = NULL, *url;

    if (oac_util_random_token(&state, &why, r->pool, 32) != APR_SUCCESS
        || (app->pkce_s256
            && oac_oauth2_pkce_verifier(&verifier, &why, r->pool)
               != APR_SUCCESS)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00020)
                      "app %s: no random state: %s", app->name, why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Never send the browser off without the challenge for a stored
     * verifier: the provider would then accept the code without PKCE. */
    if (verifier
        && !(challenge = oac_oauth2_pkce_challenge(r->pool, verifier))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00023)
                      "app %s: cannot compute the PKCE challenge", app->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    pending.state = state;
    pending.verifier = verifier;
    pending.next = next;
    pending.expires_at = oac_now() + OAC_PENDING_LIFETIME;
    extra = oac_form_make(r->pool);
    if (app->oidc) {
        /* The id_token must carry it back (mod_oauthclient_oidc.c) */
        const char *nonce = oac_oidc_nonce(r->pool, state);
        if (!nonce) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        oac_form_add(extra, "nonce", nonce);
    }
    if (app->par_endpoint) {
        /* RFC 9126: the request goes to the provider from here, and the
         * browser only carries a reference to it. Pushed before anything
         * is stored, so a refusal leaves the session as it was. */
        if (oac_oauth2_par(&url, &why, r->pool,
                           oac_hooked_client(r, app, OAC_CALL_OTHER), app,
                           absolute_redirect_uri(r, app), state, challenge,
                           extra, oac_now()) != APR_SUCCESS) {
            return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                                HTTP_BAD_GATEWAY,
                                "The provider refused the login request",
                                why);
        }
    }
    else {
        url = oac_url_add_query(r->pool,
                                oac_oauth2_authorize_url(r->pool, app,
                                    absolute_redirect_uri(r, app), state,
                                    challenge),
                                extra);
    }
    store_pending(r, z, app, &pending);
    oac_count(r, app, OAC_CTR_LOGIN_STARTED);
    return redirect(r, url);
}

/* OAuth 1.0a: temporary credentials first, kept in the session (the
 * secret never leaves the server side of the session), then the browser
 * goes to authorize them. */
static int login_oauth1(request_rec *r, session_rec *z, const oac_app_t *app,
                        const char *next)
{
    oac_oauth1_creds_t creds;
    oac_pending_t pending = { 0 };
    oac_token_t *rt;
    const char *why;

    oac_count(r, app, OAC_CTR_LOGIN_STARTED);
    oac_oauth1_creds_for_app(&creds, app, NULL, NULL);
    if (oac_oauth1_request_token(&rt, &why, r->pool,
                                 oac_hooked_client(r, app, OAC_CALL_OTHER),
                                 app, &creds,
                                 absolute_redirect_uri(r, app), oac_now())
        != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_TOKEN_ENDPOINT,
                            HTTP_BAD_GATEWAY,
                            "The provider's request token endpoint failed",
                            why);
    }
    if (oac_token_check_sendable(&why, r->pool, rt, NULL) != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_TOKEN_ENDPOINT,
                            HTTP_BAD_GATEWAY,
                            "The provider's answer cannot be used", why);
    }
    pending.state = rt->access_token;
    pending.secret = rt->token_secret;
    pending.next = next;
    pending.expires_at = oac_now() + OAC_PENDING_LIFETIME;
    store_pending(r, z, app, &pending);
    return redirect(r, oac_oauth1_authorize_url(r->pool, app,
                                                rt->access_token));
}

static int handle_login(request_rec *r, const oac_app_t *app)
{
    session_rec *z;
    const char *host;
    int rc;

    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!app->authorize_url) {
        /* An app for service tokens only (OAuthProxyAPI NAME
         * client_credentials): no login to start, and anyone may ask, so
         * said at info. One whose provider's metadata names no
         * authorization endpoint is more likely a mistake: a warning. */
        ap_log_rerror(APLOG_MARK, app->server_metadata_url ? APLOG_WARNING
                                                           : APLOG_INFO,
                      0, r, OAC_LOGNO(00162) "app %s: no login: it has no "
                      "authorize_url%s; it serves service tokens only",
                      app->name, app->server_metadata_url
                      ? ", and its provider's metadata names no "
                        "authorization_endpoint" : "");
        return HTTP_NOT_FOUND;
    }
    if ((rc = oac_session_open(r, &z)) != OK) {
        return rc;
    }
    if ((host = foreign_callback_host(r, app))) {
        const char *why = apr_psprintf(r->pool, "this request names "
            "'%s', which is not this virtual host's ServerName or one of "
            "its ServerAlias names with its port, and the login's callback "
            "would go there", oac_util_sanitize(r->pool, host, 256));
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00151)
                      "app %s: login refused: %s; if it is this site's, add "
                      "its name as a ServerAlias (or set UseCanonicalName "
                      "On, or an absolute redirect_uri)", app->name, why);
        oac_count(r, app, OAC_CTR_FAIL_OTHER);
        return oac_error_page(r, HTTP_BAD_REQUEST, app,
                              "This site does not answer to that name", why);
    }
    warn_tls_terminated(r, app);
    if (app->version == OAC_OAUTH1) {
        return login_oauth1(r, z, app, local_next(r, query_params(r)));
    }
    return login_oauth2(r, z, app, local_next(r, query_params(r)));
}

/* ------------------------------------------------------------------------
 * callback
 */

static int login_failed(request_rec *r, const oac_app_t *app,
                        oac_counter_e counter, int status,
                        const char *title, const char *detail)
{
    const oac_request_t *rs = ap_get_module_config(r->request_config,
                                                   &oauthclient_module);
    if (rs && rs->hook_status) {
        status = rs->hook_status;
    }
    oac_count(r, app, counter);
    ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_WARNING : APLOG_INFO, 0,
                  r, OAC_LOGNO(00021) "app %s: login failed: %s: %s",
                  app->name, title, detail);
    return oac_error_page(r, status, app, title, detail);
}

/* The field a relayed form post carries, so that it is relayed once. */
#define RELAY_FIELD "oauthclient_relayed"

/* A form post (response_mode=form_post, which Apple requires for the name
 * and email scopes) comes from the provider's site: a cross-site POST,
 * with which browsers do not send a SameSite=Lax or Strict session cookie,
 * so the session has no login in flight. This page posts the same fields
 * to the same path from this site, and the cookie goes with that POST.
 * The fields stay out of URLs (access logs, Referer, history), where a
 * redirect to a GET would put them; what it echoes is escaped, and only
 * its own script may run. Nothing is stored: the browser's session is not
 * in this request, and an empty one must not replace it. */
static int relay_form_post(request_rec *r, const oac_app_t *app,
                           const apr_array_header_t *params)
{
    const oac_param_t *f = (const oac_param_t *)params->elts;
    /* joined once: appending to the page so far copies it per field,
     * quadratic in the thousands of fields a 64 KiB body can hold */
    apr_array_header_t *inputs = apr_array_make(r->pool, params->nelts + 1,
                                                sizeof(char *));
    char *nonce = NULL;
    const char *why, *fields;
    int i;

    if (oac_util_random_token(&nonce, &why, r->pool, 16) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (i = 0; i < params->nelts; ++i) {
        APR_ARRAY_PUSH(inputs, char *) =
            apr_pstrcat(r->pool, "<input type=\"hidden\" name=\"",
                        ap_escape_html(r->pool, f[i].name), "\" value=\"",
                        ap_escape_html(r->pool, f[i].value ? f[i].value : ""),
                        "\">\n", NULL);
    }
    fields = apr_array_pstrcat(r->pool, inputs, 0);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OAC_LOGNO(00148)
                  "app %s: a cross-site form post whose login this session "
                  "does not hold (the browser kept a SameSite session cookie "
                  "back): posted again from this site", app->name);
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   apr_psprintf(r->pool, "default-src 'none'; script-src "
                                "'nonce-%s'; form-action 'self'; base-uri "
                                "'none'; frame-ancestors 'none'", nonce));
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
    return oac_respond(r, HTTP_OK, "text/html; charset=utf-8",
        apr_psprintf(r->pool,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>Logging in</title></head>\n<body>\n"
            "<form method=\"post\" action=\"%s\">\n%s"
            "<input type=\"hidden\" name=\"" RELAY_FIELD "\" value=\"1\">\n"
            "<noscript><button type=\"submit\">Continue</button></noscript>"
            "\n</form>\n<script nonce=\"%s\">"
            /* not form.submit(): a field named "submit" would hide it */
            "HTMLFormElement.prototype.submit.call(document.forms[0]);"
            "</script>\n</body></html>\n",
            ap_escape_html(r->pool, ap_escape_uri(r->pool, r->uri)), fields,
            nonce));
}

/* Finds the pending login that value (the callback's state or
 * oauth_token) names and spends it: single use, whatever happens next.
 * Otherwise answers the request (400; a cross-site form post the first
 * time: relay_form_post) and returns 0 with *prc set. */
static int spend_pending(int *prc, oac_pending_t *pending, request_rec *r,
                         session_rec *z, const oac_app_t *app,
                         const apr_array_header_t *params, const char *value,
                         const char *param, const char *what)
{
    apr_array_header_t *list;

    if (!value) {
        *prc = login_failed(r, app, OAC_CTR_FAIL_STATE, HTTP_BAD_REQUEST,
                            "Login failed",
                            apr_psprintf(r->pool, "the callback carries no "
                                         "%s parameter", param));
        return 0;
    }
    list = pending_list(r, z, app);
    if (!oac_pending_take(pending, list, value)) {
        if (r->method_number == M_POST && !oac_form_get(params, RELAY_FIELD)
            && oac_is_cross_site(r)) {
            *prc = relay_form_post(r, app, params);
            return 0;
        }
        *prc = login_failed(r, app, OAC_CTR_FAIL_STATE, HTTP_BAD_REQUEST,
                            "Login failed",
                            apr_psprintf(r->pool, "unknown or expired %s: "
                                         "this login was completed already, "
                                         "expired, or started in another "
                                         "browser", what));
        return 0;
    }
    write_pending(r, z, app, list);
    note_next(r, pending->next);
    return 1;
}

static int login_completed(request_rec *r, session_rec *z, const oac_app_t *app,
                           const oac_token_t *token, const char *user,
                           const json_t *claims, const char *next)
{
    const char *why;

    if (oac_session_store_token(r, z, app, token, NULL, user, &why)
        != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_TOKEN_ENDPOINT,
                            HTTP_BAD_GATEWAY,
                            "The provider's answer cannot be used", why);
    }
    oac_claims_store(r, z, app, claims,
                     app->oidc ? oac_form_get(token->extra, "id_token")
                               : NULL);
    oac_count(r, app, OAC_CTR_LOGIN_COMPLETED);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00022)
                  "app %s: login completed%s%s", app->name,
                  user ? " for " : "", user ? user : "");
    /* Checked again: a plain cookie session is its owner's to edit. */
    if (next && !oac_redirect_is_local(next)) {
        next = NULL;
    }
    return redirect(r, ap_construct_url(r->pool, next ? next : "/", r));
}

/* RFC 6749 3.1: a parameter sent twice is an error. A callback that
 * repeats one the module reads may carry a value an attacker chose beside
 * the genuine one; nothing is spent or stored for it. */
static int repeats_param(int *prc, request_rec *r, const oac_app_t *app,
                         const apr_array_header_t *params,
                         const char *const *names)
{
    for (; *names; ++names) {
        if (oac_form_count(params, *names) > 1) {
            *prc = login_failed(r, app, OAC_CTR_FAIL_STATE, HTTP_BAD_REQUEST,
                                "Login failed",
                                apr_psprintf(r->pool, "the callback repeats "
                                             "the parameter '%s'", *names));
            return 1;
        }
    }
    return 0;
}

static int callback_oauth2(request_rec *r, session_rec *z, const oac_app_t *app,
                           apr_array_header_t *params)
{
    static const char *const once[] = {
        "error", "error_description", "state", "code", "iss", NULL
    };
    const char *error = oac_form_get(params, "error");
    const char *state = oac_form_get(params, "state");
    const char *code = oac_form_get(params, "code");
    const char *iss;
    json_t *id_claims = NULL, *claims = NULL;
    oac_pending_t pending;
    int rc;
    oac_token_t *token;
    const char *why, *user;

    if (repeats_param(&rc, r, app, params, once)) {
        return rc;
    }
    /* The state first: only the provider this browser was sent to may
     * put its error text on this site's page. */
    if (!spend_pending(&rc, &pending, r, z, app, params, state, "state",
                       "login state")) {
        return rc;
    }
    /* RFC 9207: a response that names another issuer comes from another
     * provider (a mix-up attack), error responses too; nothing of it is
     * used, its code least of all. */
    iss = oac_form_get(params, "iss");
    if (app->iss_required && !iss) {
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                            HTTP_BAD_REQUEST, "Login failed",
                            "the authorization response has no iss "
                            "parameter, which the provider's metadata "
                            "promises (RFC 9207)");
    }
    if (app->issuer && iss && !oac_fix_issuer_matches(app, iss)) {
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                            HTTP_BAD_REQUEST, "Login failed",
                            apr_psprintf(r->pool, "the authorization "
                                         "response names the issuer '%s', "
                                         "not this app's issuer '%s' "
                                         "(RFC 9207)",
                                         oac_util_sanitize(r->pool, iss,
                                                           ERROR_TEXT_MAX),
                                         app->issuer));
    }
    if (error) {
        const char *desc = oac_form_get(params, "error_description");
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
            strcmp(error, "access_denied") ? HTTP_BAD_REQUEST
                                           : HTTP_FORBIDDEN,
            "The provider refused the login",
            apr_psprintf(r->pool, "%s%s%s",
                         oac_util_sanitize(r->pool, error, ERROR_TEXT_MAX),
                         desc ? ": " : "",
                         desc ? oac_util_sanitize(r->pool, desc,
                                                  ERROR_TEXT_MAX) : ""));
    }
    if (!code) {
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                            HTTP_BAD_REQUEST, "Login failed",
                            "the callback carries no code parameter");
    }
    if (oac_oauth2_exchange_code(&token, &why, r->pool,
                                 oac_hooked_client(r, app,
                                                   OAC_CALL_ACCESS_TOKEN),
                                 app, code,
                                 absolute_redirect_uri(r, app),
                                 pending.verifier, oac_now())
        != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_TOKEN_ENDPOINT,
                               HTTP_BAD_GATEWAY,
                               "The provider's token endpoint failed", why);
    }
    /* OpenID Connect: nothing of the response is used, or stored, before
     * its id_token is shown to be the provider's, for this login. */
    if (app->oidc
        && !(id_claims = oac_oidc_check(r, app, token, state, &why))) {
        return login_failed(r, app, OAC_CTR_FAIL_ID_TOKEN, HTTP_BAD_GATEWAY,
                            "The provider's answer cannot be trusted", why);
    }
    /* With a templated issuer RFC 9207's iss named a tenant: the one the
     * id_token names (a string: oac_oidc_check matched it). */
    if (id_claims && iss && oac_fix_issuer_is_template(app->issuer)) {
        const char *id_iss =
            json_string_value(json_object_get(id_claims, "iss"));
        if (!id_iss || strcmp(iss, id_iss)) {
            return login_failed(r, app, OAC_CTR_FAIL_ID_TOKEN,
                                HTTP_BAD_GATEWAY,
                                "The provider's answer cannot be trusted",
                                apr_psprintf(r->pool, "the authorization "
                                             "response's iss (RFC 9207) "
                                             "'%s' names another tenant "
                                             "than the id_token's '%s'",
                                             oac_util_sanitize(r->pool, iss,
                                                 ERROR_TEXT_MAX),
                                             oac_util_sanitize(r->pool,
                                                 id_iss ? id_iss : "",
                                                 ERROR_TEXT_MAX)));
        }
    }
    if (oac_userinfo_user(&user, &why, r->pool,
                          oac_hooked_client(r, app, OAC_CALL_OTHER), app,
                          token, id_claims, &claims) != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_USERINFO,
                               HTTP_BAD_GATEWAY,
                               "Could not learn who logged in", why);
    }
    /* Apple's first login posts the user's name beside the code, and
     * never again: kept as claims the id_token lacks (only from the
     * form post Apple sends, not from a link's query). */
    if (r->method_number == M_POST
        && oac_fix_apple_user(app, claims, oac_form_get(params, "user"))) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "app %s: the user's "
                      "name, which Apple sends at the first login only, "
                      "is kept as claims", app->name);
    }
    return login_completed(r, z, app, token, user, claims, pending.next);
}

/* Twitter and others send the user back with ?denied=TOKEN when they
 * decline. */
static int callback_oauth1(request_rec *r, session_rec *z, const oac_app_t *app,
                           apr_array_header_t *params)
{
    static const char *const once[] = {
        "denied", "oauth_token", "oauth_verifier", NULL
    };
    const char *request_token = oac_form_get(params, "oauth_token");
    const char *verifier = oac_form_get(params, "oauth_verifier");
    const char *denied;
    oac_oauth1_creds_t creds;
    int rc;
    oac_pending_t pending;
    oac_token_t *token;
    json_t *claims = NULL;
    const char *why, *user;

    if (repeats_param(&rc, r, app, params, once)) {
        return rc;
    }
    if ((denied = oac_form_get(params, "denied"))) {
        /* The request token it names is dead: its login in flight goes,
         * and leaves its page to the "log in again" link. */
        apr_array_header_t *list = pending_list(r, z, app);
        if (oac_pending_take(&pending, list, denied)) {
            write_pending(r, z, app, list);
            note_next(r, pending.next);
        }
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                            HTTP_FORBIDDEN, "The provider refused the login",
                            "the authorization was denied");
    }
    if (!spend_pending(&rc, &pending, r, z, app, params, request_token,
                       "oauth_token", "request token")) {
        return rc;
    }
    if (!verifier) {
        return login_failed(r, app, OAC_CTR_FAIL_PROVIDER_ERROR,
                            HTTP_BAD_REQUEST, "Login failed",
                            "the callback carries no oauth_verifier parameter");
    }
    oac_oauth1_creds_for_app(&creds, app, pending.state, pending.secret);
    if (oac_oauth1_access_token(&token, &why, r->pool,
                                oac_hooked_client(r, app,
                                                  OAC_CALL_ACCESS_TOKEN),
                                app, &creds,
                                verifier, oac_now()) != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_TOKEN_ENDPOINT,
                            HTTP_BAD_GATEWAY,
                            "The provider's access token endpoint failed",
                            why);
    }
    if (oac_userinfo_user(&user, &why, r->pool,
                          oac_hooked_client(r, app, OAC_CALL_OTHER), app,
                          token, NULL, &claims) != APR_SUCCESS) {
        return login_failed(r, app, OAC_CTR_FAIL_USERINFO, HTTP_BAD_GATEWAY,
                            "Could not learn who logged in", why);
    }
    return login_completed(r, z, app, token, user, claims, pending.next);
}

static int handle_callback(request_rec *r, const oac_app_t *app)
{
    apr_array_header_t *params;
    session_rec *z;
    int rc;

    if (r->method_number == M_POST) {
        /* response_mode=form_post */
        if ((rc = read_form_body(r, &params)) != OK) {
            return rc;
        }
    }
    else if (r->method_number == M_GET) {
        params = query_params(r);
    }
    else {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((rc = oac_session_open(r, &z)) != OK) {
        return rc;
    }
    if (app->version == OAC_OAUTH1) {
        return callback_oauth1(r, z, app, params);
    }
    return callback_oauth2(r, z, app, params);
}

/* ------------------------------------------------------------------------
 * logout
 */

/* Whether the browser says this request did not come from this site's
 * own pages: Sec-Fetch-Site when the browser sends it (anything but
 * same-origin or none, the user's own navigation: a sibling subdomain,
 * same-site to the browser, gets the session cookie even with
 * SameSite=Lax, and may be anyone's), else an Origin for another host;
 * without either (older browsers, scripts, plain-http sites where browsers
 * send no Sec-Fetch-*) the request counts as this site's. */
int oac_is_cross_site(request_rec *r)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *host = apr_table_get(r->headers_in, "Host");
    apr_uri_t uri;

    if (site) {
        return strcasecmp(site, "same-origin") && strcasecmp(site, "none");
    }
    if (!origin) {
        return 0;
    }
    if (apr_uri_parse(r->pool, origin, &uri) != APR_SUCCESS
        || !uri.hostinfo || !host) {
        return 1;   /* "null" (sandboxed or privacy-sensitive contexts) too */
    }
    return strcasecmp(uri.hostinfo, host) != 0;
}

/* Whether a logout comes from another site, as contract section 2 says:
 * Sec-Fetch-Site cross-site, or without it an Origin of another host. A
 * sibling subdomain (same-site) logs out, unlike an API call through
 * OAuthProxyAPI (oac_is_cross_site), which would carry the user's token:
 * the worst it can do here is what the user's own logout link does. */
static int logout_cross_site(request_rec *r)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");

    return site ? !strcasecmp(site, "cross-site") : oac_is_cross_site(r);
}

/* Logging out is harmless alone, but another site must not be able to do
 * it to the user (logout CSRF): it asks first, with a form that only this
 * page can submit as a same-origin POST. */
static int confirm_logout(request_rec *r, const oac_app_t *app,
                          const char *next)
{
    const char *hidden = next
        ? apr_psprintf(r->pool, "<input type=\"hidden\" name=\"next\" "
                       "value=\"%s\">", ap_escape_html(r->pool, next))
        : "";
    const char *body = apr_psprintf(r->pool,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>Log out?</title></head>\n<body>\n<h1>Log out?</h1>\n"
        "<p>Another site asked to log you out of %s.</p>\n"
        "<form method=\"post\" action=\"%s\">%s"
        "<button type=\"submit\">Log out</button></form>\n"
        "</body></html>\n",
        ap_escape_html(r->pool, app->name),
        ap_escape_html(r->pool, app->logout_path), hidden);
    /* Nor may that site frame this page and steer the click. */
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   "frame-ancestors 'none'");
    return oac_respond(r, HTTP_OK, "text/html; charset=utf-8", body);
}

/* RFC 7009 at the provider, best effort: a provider that is down or
 * refuses must not keep the user logged in here. */
static void revoke_tokens(request_rec *r, session_rec *z,
                          const oac_app_t *app)
{
    oac_token_t *token;
    const char *user, *why;
    apr_status_t rv;

    if (!app->revocation_endpoint
        || !oac_session_token(r, z, app, &token, &user)) {
        return;
    }
    rv = oac_oauth2_revoke(&why, r->pool,
                           oac_hooked_client(r, app, OAC_CALL_REVOKE), app,
                           token);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00097)
                      "app %s: revoking the tokens at logout failed (the "
                      "user is logged out here all the same): %s",
                      app->name, why);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OAC_LOGNO(00098)
                  "app %s: tokens revoked at logout", app->name);
}

/* OpenID Connect RP-Initiated Logout 1.0 section 2: the provider ends its
 * own session too (else logging in again skips the password), then sends
 * the browser to post_logout_redirect_uri, which the provider only
 * accepts as registered: the 'next' of this logout cannot go there. */
static const char *end_session_url(request_rec *r, const oac_app_t *app,
                                   const char *id_token)
{
    apr_array_header_t *q = oac_form_make(r->pool);
    const char *after = app->post_logout_redirect_uri
                        ? app->post_logout_redirect_uri : "/";
    char *state = NULL;
    const char *why;

    if (id_token) {
        oac_form_add(q, "id_token_hint", id_token);
    }
    oac_form_add(q, "client_id", app->client_id);
    oac_form_add(q, "post_logout_redirect_uri",
                 *after == '/' ? ap_construct_url(r->pool, after, r) : after);
    /* The spec's opaque value, which the provider hands back: nothing here
     * depends on it, since the session is already gone. */
    if (oac_util_random_token(&state, &why, r->pool, 16) == APR_SUCCESS) {
        oac_form_add(q, "state", state);
    }
    return oac_url_add_query(r->pool, app->end_session_endpoint, q);
}

static int handle_logout(request_rec *r, const oac_app_t *app)
{
    apr_array_header_t *params = query_params(r);
    const char *next, *id_token;
    int logged_in, bound;
    session_rec *z;
    int rc;

    if (r->method_number == M_POST) {
        apr_array_header_t *body;
        if (read_form_body(r, &body) == OK) {
            params = body;
        }
    }
    else if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    next = local_next(r, params);
    if (logout_cross_site(r)) {
        return confirm_logout(r, app, next);
    }
    if ((rc = oac_session_open(r, &z)) != OK) {
        return rc;
    }
    /* Another app's login (same name, another provider) is no login to
     * end here: its id_token is not this provider's to see. */
    bound = oac_session_bound(r, z, app);
    id_token = bound ? oac_session_get(r, z, app, "id_token") : NULL;
    /* A token dropped (a refresh refused, expired without a refresh
     * token) ends the login here, not at the provider: the id_token
     * kept for its logout still names it there. */
    logged_in = bound && (oac_session_get(r, z, app, "token") != NULL
                          || id_token != NULL);
    revoke_tokens(r, z, app);
    oac_session_forget(r, z, app);
    oac_count(r, app, OAC_CTR_LOGOUT);
    if ((rc = oac_request_state(r)->hook_status)) {
        /* A revoke_token_request hook failed a call and chose the answer
         * (contract section 8); the user is logged out all the same. */
        return rc;
    }
    if (app->end_session_endpoint && logged_in) {
        return redirect(r, end_session_url(r, app, id_token));
    }
    return redirect(r, ap_construct_url(r->pool, next ? next : "/", r));
}

int oac_flow_handle(request_rec *r, const oac_route_t *route)
{
    const char *why = NULL;
    const oac_app_t *app = oac_discovered(r, route->app, &why);

    if (route->role == OAC_ROUTE_LOGIN) {
        note_next(r, local_next(r, query_params(r)));
    }
    if (!app && route->role == OAC_ROUTE_LOGOUT) {
        /* Logging out here needs no provider: only revoking does. */
        app = route->app;
    }
    if (!app) {
        return oac_error_page(r, HTTP_BAD_GATEWAY, route->app,
                              "The provider cannot be reached",
                              "its metadata (server_metadata_url) could "
                              "not be fetched; try again later");
    }
    switch (route->role) {
    case OAC_ROUTE_LOGIN:
        return handle_login(r, app);
    case OAC_ROUTE_CALLBACK:
        return handle_callback(r, app);
    case OAC_ROUTE_LOGOUT:
        return handle_logout(r, app);
    }
    return DECLINED;
}
