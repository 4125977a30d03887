/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * AuthType OAuth, token forwarding to backends, and OAuthProxyAPI.
 */
#include "mod_oauthclient_auth.h"
#include "mod_oauthclient_body.h"
#include "mod_oauthclient_discovery.h"
#include "mod_oauthclient_claims.h"
#include "mod_oauthclient_flow.h"
#include "mod_oauthclient_hooks.h"
#include "mod_oauthclient_refresh.h"
#include "mod_oauthclient_service.h"
#include "mod_oauthclient_session.h"
#include "mod_oauthclient_status.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "oac_fix.h"
#include "oac_form.h"
#include "oac_oauth1.h"
#include "oac_oauth2.h"
#include "oac_redirect.h"
#include "oac_sign.h"
#include "oac_url.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define API_RESPONSE_FILTER "OAUTHCLIENT_API_RESPONSE"
#define API_RETRY_FILTER "OAUTHCLIENT_API_RETRY"
/* Added by handle on every API call: by name, each is a hash lookup */
static ap_filter_rec_t *api_retry_handle, *api_response_handle;
#define API_RETRY_HANDLER "oauthclient-api"

/* The module indexes of mod_proxy and mod_proxy_http (-1: not loaded),
 * found once per child (oac_api_child_init), not per API call. */
static int proxy_log_index[2] = { -1, -1 };

static int is_oauth_auth_type(request_rec *r)
{
    const char *type = ap_auth_type(r);
    return type && !strcasecmp(type, "OAuth");
}

/* A browser navigating gets sent to log in; anything else (XHR, API
 * clients, non-GET) gets a 401 it can act on. */
static int is_browser_navigation(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    if (r->method_number != M_GET) {
        return 0;
    }
    if (mode) {
        return !strcasecmp(mode, "navigate");
    }
    if (apr_table_get(r->headers_in, "X-Requested-With")) {
        return 0;
    }
    return accept && ap_strcasestr(accept, "text/html") != NULL;
}

static const char *login_url(request_rec *r, const oac_app_t *app)
{
    const char *next = r->unparsed_uri;
    if (!next || !oac_redirect_is_local(next)) {
        next = "/";
    }
    return apr_pstrcat(r->pool, app->login_path, "?next=",
                       oac_util_pct_encode(r->pool, next), NULL);
}

static int deny(request_rec *r, const oac_app_t *app)
{
    if (is_browser_navigation(r)) {
        apr_table_setn(r->headers_out, "Location",
                       ap_construct_url(r->pool, login_url(r, app), r));
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return HTTP_MOVED_TEMPORARILY;
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "OAuth realm=\"%s\", login=\"%s\"",
                                app->name, app->login_path));
    return HTTP_UNAUTHORIZED;
}

/* Loads the session's token for app into the request state; OK, or the
 * status to answer. */
static int load_token(request_rec *r, const oac_app_t *app, session_rec **pz,
                      oac_request_t *rs)
{
    oac_token_t *token;
    const char *user;
    int rc;

    if ((rc = oac_session_open(r, pz)) != OK) {
        return rc;
    }
    if (!oac_session_token(r, *pz, app, &token, &user)) {
        return HTTP_UNAUTHORIZED;
    }
    if (!oac_claims_current(r, *pz, app)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00129)
                      "app %s: the session's claims were kept for another "
                      "configuration (a claim rule or OAuthForwardClaims "
                      "changed): the user logs in again", app->name);
        return HTTP_UNAUTHORIZED;
    }
    if ((rc = oac_ensure_fresh_token(r, *pz, app, &token)) != OK) {
        return rc;
    }
    rs->app = app;
    rs->token = token;
    rs->user = user ? user : app->name;
    return OK;
}

int oac_check_user_id(request_rec *r)
{
    oac_dir_conf *dc;
    oac_request_t *rs;
    const oac_app_t *app;
    session_rec *z;
    int rc;

    if (!is_oauth_auth_type(r)) {
        return DECLINED;
    }
    if (oac_route_find(r)) {
        /* The module's own login/callback/logout paths are how one gets a
         * token: never demand one there. */
        r->user = "";
        return OK;
    }
    dc = oac_dir_config(r);
    if (!dc->app) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00031)
                      "AuthType OAuth for %s needs 'OAuthApp NAME' to say "
                      "whose token is required", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(app = oac_find_app(r, dc->app, "OAuthApp"))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rs = oac_request_state(r);
    rc = load_token(r, app, &z, rs);
    if (rc == HTTP_UNAUTHORIZED) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: no usable "
                      "token in the session for %s", app->name, r->uri);
        return deny(r, app);
    }
    if (rc != OK) {
        return rc;
    }
    r->user = apr_pstrdup(r->pool, rs->user);
    r->ap_auth_type = "OAuth";
    return OK;
}

static int is_oauth_header(const char *name)
{
    static const char prefix[] = "x-oauth-";
    apr_size_t i;
    /* Underscores too: many backends read X_OAuth_Token as X-OAuth-Token. */
    for (i = 0; i < sizeof(prefix) - 1; ++i) {
        char c = apr_tolower(name[i]);
        if (!name[i] || (c != prefix[i] && !(prefix[i] == '-' && c == '_'))) {
            return 0;
        }
    }
    return 1;
}

typedef int name_match_fn(const char *name);

typedef struct {
    name_match_fn *match;
    apr_array_header_t *names;
} matching_names;

static int collect_matching(void *rec, const char *key, const char *val)
{
    matching_names *m = rec;
    if (m->match(key)) {
        *(const char **)apr_array_push(m->names) = key;
    }
    return 1;
}

/* Removes every entry of t whose name matches; collected first, since a
 * table may not change while apr_table_do walks it. */
static void unset_matching(apr_pool_t *p, apr_table_t *t, name_match_fn *match)
{
    matching_names m;
    int i;

    m.match = match;
    m.names = apr_array_make(p, 2, sizeof(const char *));
    apr_table_do(collect_matching, &m, t, NULL);
    for (i = 0; i < m.names->nelts; ++i) {
        apr_table_unset(t, APR_ARRAY_IDX(m.names, i, const char *));
    }
}

static void scrub_oauth_headers(request_rec *r)
{
    unset_matching(r->pool, r->headers_in, is_oauth_header);
}

/* X-OAuth-* can only come from the module: a client can never spoof one.
 * Removed from every request to a virtual host with apps, as soon as it is
 * read, rather than where the module acts: a subrequest copies the headers
 * of its main request, and mod_dir or mod_negotiation may hand the main
 * request another location's configuration after the fact (a fast
 * redirect), with no hook of the module running in between. */
int oac_post_read_request(request_rec *r)
{
    oac_server_conf *sc = oac_server_config(r->server);
    if (sc->apps && sc->apps->nelts) {
        scrub_oauth_headers(r);
    }
    return DECLINED;
}

/* OAUTH_*, also as REDIRECT_OAUTH_* (what httpd makes of a variable on an
 * internal redirect), any number of times over. */
static int is_oauth_env(const char *name)
{
    while (!strncmp(name, "REDIRECT_", 9)) {
        name += 9;
    }
    return !strncmp(name, "OAUTH_", 6);
}

/* A subrequest (SSI, mod_include, mod_dir) copies the headers of the
 * request that made it, client's X-OAuth-* included, and httpd runs no
 * header_parser for it; an internal redirect (ErrorDocument, mod_rewrite)
 * carries the headers and variables the module set for the first target.
 * Neither may reach a backend that the module has not prepared for
 * itself. */
static void scrub_derived_request(request_rec *r)
{
    scrub_oauth_headers(r);
    unset_matching(r->pool, r->subprocess_env, is_oauth_env);
}

/* The module's state for the user this request runs as: its own, or that
 * of the request it was derived from when httpd let it inherit the user
 * without authenticating again (same configuration). */
static const oac_request_t *auth_state(request_rec *r,
                                       const oac_dir_conf *dc)
{
    request_rec *q;

    for (q = r; q; q = q->prev ? q->prev : q->main) {
        const oac_request_t *rs = ap_get_module_config(q->request_config,
                                                       &oauthclient_module);
        if (!rs || !rs->token) {
            /* httpd's own rule for inheriting the user */
            if (q->per_dir_config != r->per_dir_config) {
                return NULL;
            }
            continue;
        }
        return r->user && !strcmp(r->user, rs->user)
            && (q == r || q->per_dir_config == r->per_dir_config)
            && (!dc->app || !strcmp(dc->app, rs->app->name)) ? rs : NULL;
    }
    return NULL;
}

static void forward(request_rec *r, const char *header, const char *env,
                    const char *value)
{
    if (value && *value) {
        apr_table_set(r->headers_in, header, value);
        apr_table_set(r->subprocess_env, env, value);
    }
}

static void forward_tokens(request_rec *r, const oac_request_t *rs)
{
    const oac_token_t *t = rs->token;
    forward(r, "X-OAuth-App", "OAUTH_APP", rs->app->name);
    forward(r, "X-OAuth-Access-Token", "OAUTH_ACCESS_TOKEN", t->access_token);
    if (rs->app->version == OAC_OAUTH1) {
        forward(r, "X-OAuth-Access-Token-Secret",
                "OAUTH_ACCESS_TOKEN_SECRET", t->token_secret);
    }
    else {
        forward(r, "X-OAuth-Token-Type", "OAUTH_TOKEN_TYPE", t->token_type);
        if (t->expires_at) {
            forward(r, "X-OAuth-Expires-At", "OAUTH_EXPIRES_AT",
                    apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                 t->expires_at));
        }
    }
    forward(r, "X-OAuth-Scope", "OAUTH_SCOPE", t->scope);
    forward(r, "X-OAuth-User", "OAUTH_USER", rs->user);
}

/* ------------------------------------------------------------------------
 * OAuthProxyAPI
 */

static int api_error(request_rec *r, oac_request_t *rs, int status,
                     const char *error, const oac_app_t *app)
{
    rs->status = status;
    rs->content_type = "application/json";
    rs->body = app
        ? apr_psprintf(r->pool, "{\"error\": \"%s\", \"login\": \"%s\"}\n",
                       error, app->login_path)
        : apr_psprintf(r->pool, "{\"error\": \"%s\"}\n", error);
    if (status == HTTP_UNAUTHORIZED && app) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "OAuth realm=\"%s\", "
                                    "login=\"%s\"", app->name,
                                    app->login_path));
    }
    return OK;
}

/* The part of the request path below the OAuthProxyAPI location, as the
 * client sent it (still percent-encoded), when it can be told; else the
 * decoded path re-encoded. */
static const char *path_below(request_rec *r, const char *location)
{
    apr_size_t n = strlen(location);
    const char *raw = r->parsed_uri.path;
    if (raw && !strncmp(raw, location, n)) {
        return raw + n;
    }
    if (!strncmp(r->uri, location, n)) {
        return ap_os_escape_path(r->pool, r->uri + n, 1);
    }
    return NULL;
}

/* OAuth 1: the signature covers the exact upstream method, URL, query and,
 * for form bodies, the body's parameters (RFC 5849 3.4.1.3.1). */
static int sign_oauth1(request_rec *r, const oac_app_t *app,
                       const oac_token_t *token, const char *url,
                       const char *body)
{
    apr_array_header_t *body_params = NULL;
    oac_oauth1_creds_t creds;
    const char *why;
    char *auth;

    if (body && oac_form_decode(&body_params, &why, r->pool, body)
                    != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00034)
                      "OAuthProxyAPI %s: unreadable form body: %s",
                      app->name, why);
        return HTTP_BAD_REQUEST;
    }
    oac_oauth1_creds_for_app(&creds, app, token->access_token, token->token_secret);
    if (oac_oauth1_sign_request(&auth, &why, r->pool, &creds, r->method, url,
                                body_params, NULL, NULL, 0) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00035)
                      "OAuthProxyAPI %s: cannot sign %s: %s", app->name,
                      r->uri, why);
        return HTTP_BAD_REQUEST;
    }
    apr_table_setn(r->headers_in, "Authorization", auth);
    return OK;
}

/* Headers that tell about the user and the site, not about the API call:
 * the provider learns the call, never the browser's credentials for this
 * site, the page the user was on, the user's address as the client or an
 * earlier proxy gave it, or the browser's fingerprint. Names compare
 * lower-cased with '_' as '-', as many servers read them. */
#define NAME(s) { s, sizeof(s) - 1 }
static const struct {
    const char *name;
    apr_size_t len;
} browser_headers[] = {
    NAME("cookie"), NAME("cookie2"), NAME("authorization"),
    NAME("proxy-authorization"), NAME("referer"), NAME("origin"),
    NAME("forwarded"), NAME("x-real-ip"), NAME("client-ip"),
    NAME("true-client-ip"), NAME("x-client-ip"),
    NAME("x-cluster-client-ip"), NAME("via"),
}, browser_header_prefixes[] = {
    NAME("x-forwarded-"), NAME("sec-fetch-"), NAME("sec-ch-"),
    NAME("x-oauth-"),
};
#undef NAME

/* Every header of every API call comes through here: lengths are
 * compared before any name. */
static int is_browser_header(const char *name)
{
    char norm[64];
    apr_size_t i, n;

    for (n = 0; name[n] && n < sizeof(norm) - 1; ++n) {
        norm[n] = name[n] == '_' ? '-' : apr_tolower(name[n]);
    }
    for (i = 0; i < sizeof(browser_headers) / sizeof(browser_headers[0]);
         ++i) {
        if (browser_headers[i].len == n && !name[n]
            && !memcmp(norm, browser_headers[i].name, n)) {
            return 1;
        }
    }
    for (i = 0; i < sizeof(browser_header_prefixes)
                    / sizeof(browser_header_prefixes[0]); ++i) {
        if (browser_header_prefixes[i].len <= n
            && !memcmp(norm, browser_header_prefixes[i].name,
                       browser_header_prefixes[i].len)) {
            return 1;
        }
    }
    return 0;
}

static void strip_browser_headers(request_rec *r)
{
    unset_matching(r->pool, r->headers_in, is_browser_header);
}

static int has_oauth_param(request_rec *r, const char *form)
{
    apr_array_header_t *params;
    const char *why;
    int i;

    if (!form || oac_form_decode(&params, &why, r->pool, form)
                     != APR_SUCCESS) {
        return 0;   /* what does not decode is refused when signing */
    }
    for (i = 0; i < params->nelts; ++i) {
        if (!strncmp(APR_ARRAY_IDX(params, i, oac_param_t).name, "oauth_",
                     6)) {
            return 1;
        }
    }
    return 0;
}

/* OAuth 1: the oauth_* parameters are the module's to set (RFC 5849 3.1).
 * Passed through from the client, they would be signed into the request
 * beside the module's own: an oauth_token, a signature method of the
 * client's choosing. */
static int reserved_oauth1_param(request_rec *r, const char *body)
{
    if (has_oauth_param(r, r->args) || has_oauth_param(r, body)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00036)
                      "OAuthProxyAPI: refusing %s: the client sent oauth_* "
                      "parameters, which only the module may set", r->uri);
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

/* url with the token added to its query under name. */
static const char *token_in_query(request_rec *r, const char *url,
                                  const char *name, const oac_token_t *token)
{
    const char *q = strchr(url, '?');
    const char *base = q ? apr_pstrmemdup(r->pool, url, q - url) : url;
    return apr_pstrcat(r->pool, base, "?",
                       oac_oauth2_add_token_to_query(r->pool, q ? q + 1 : NULL,
                                                     name, token), NULL);
}

/* Puts the OAuth 2 token where the app wants it: a built-in fix's query
 * parameter, the Authorization header, the form body, or the query (for
 * token_placement=body without a form body, as RFC 6750 2.3 allows). */
/* ------------------------------------------------------------------------
 * DPoP on API calls (RFC 9449 7): a proof per request. A resource server
 * that wants its nonce in them says so in a DPoP-Nonce header: each child
 * keeps the last one per API origin and puts it in the next proofs (the
 * request that learnt it is not sent again: mod_proxy has streamed it).
 */

#define API_NONCE_MAX 256
#define API_NONCE_ORIGINS 64

typedef struct {
    char origin[256];
    char nonce[API_NONCE_MAX];
} api_nonce_t;

static api_nonce_t api_nonces[API_NONCE_ORIGINS];
#if APR_HAS_THREADS
static apr_thread_mutex_t *api_nonce_lock;
#endif

void oac_api_child_init(apr_pool_t *pchild)
{
    static const char *const names[2] = { "mod_proxy.c", "mod_proxy_http.c" };
    int i;

    for (i = 0; i < 2; ++i) {
        module *m = ap_find_linked_module(names[i]);
        proxy_log_index[i] = m ? m->module_index : -1;
    }
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&api_nonce_lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS) {
        api_nonce_lock = NULL;
    }
#endif
}

/* scheme://host[:port] of url, or NULL */
static const char *origin_of(apr_pool_t *p, const char *url)
{
    const char *host = strstr(url, "://");
    apr_size_t n;

    if (!host) {
        return NULL;
    }
    n = (apr_size_t)(host + 3 - url) + strcspn(host + 3, "/?#");
    return n < sizeof(api_nonces[0].origin) ? apr_pstrmemdup(p, url, n)
                                            : NULL;
}

static const char *api_nonce(request_rec *r, const char *origin)
{
    const char *nonce = NULL;
    int i;

    OAC_LOCK(api_nonce_lock);
    for (i = 0; i < API_NONCE_ORIGINS && api_nonces[i].origin[0]; ++i) {
        if (!strcmp(api_nonces[i].origin, origin)) {
            nonce = apr_pstrdup(r->pool, api_nonces[i].nonce);
            break;
        }
    }
    OAC_UNLOCK(api_nonce_lock);
    return nonce;
}

static void api_nonce_learn(const char *origin, const char *nonce)
{
    int i;

    if (strlen(nonce) >= API_NONCE_MAX) {
        return;
    }
    OAC_LOCK(api_nonce_lock);
    for (i = 0; i < API_NONCE_ORIGINS; ++i) {
        if (!api_nonces[i].origin[0]) {
            apr_cpystrn(api_nonces[i].origin, origin,
                        sizeof(api_nonces[i].origin));
        }
        if (!strcmp(api_nonces[i].origin, origin)) {
            apr_cpystrn(api_nonces[i].nonce, nonce,
                        sizeof(api_nonces[i].nonce));
            break;
        }
    }
    OAC_UNLOCK(api_nonce_lock);
}

/* A DPoP proof for this API request (its method, the upstream URL, the
 * token's hash); 0, or the status to answer. */
static int add_dpop_proof(request_rec *r, const oac_app_t *app,
                          const oac_token_t *token, const char *url)
{
    const char *origin = origin_of(r->pool, url), *why;
    const char *nonce = origin ? api_nonce(r, origin) : NULL;
    char *proof;

    oac_request_state(r)->api.dpop_nonce = nonce;
    /* iat is now, not the request's arrival: a retried request's proof
     * may be made after a token fetch */
    if (oac_dpop_proof(&proof, &why, r->pool, app->dpop_signer, r->method,
                       url, token->access_token, nonce,
                       apr_time_sec(apr_time_now())) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00122)
                      "OAuthProxyAPI %s: no DPoP proof: %s", app->name, why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_in, "DPoP", proof);
    return 0;
}

static void place_oauth2_token(request_rec *r, const oac_app_t *app,
                               const oac_token_t *token, const char **purl,
                               const char **pbody, apr_size_t *plen)
{
    const char *fix_param = oac_fix_api_token_param(app);
    if (fix_param) {
        *purl = token_in_query(r, *purl, fix_param, token);
    }
    else if (app->token_placement == OAC_PLACE_HEADER) {
        apr_table_setn(r->headers_in, "Authorization",
                       oac_oauth2_bearer_header(r->pool, token));
    }
    else if (app->token_placement == OAC_PLACE_BODY && *pbody) {
        *pbody = oac_oauth2_add_token_to_form(r->pool, *pbody, *plen,
                                              "access_token", token, plen);
    }
    else {
        *purl = token_in_query(r, *purl, "access_token", token);
    }
}

/* The upstream URL of an OAuthProxyAPI request: api_base_url + the path
 * below the location + the query, all as the client sent them. */
static apr_status_t api_url(char **url, const char **why, request_rec *r,
                            const oac_app_t *app, const char *rest)
{
    /* api_base_url passed oac_url_check_base when it was configured */
    return oac_url_append_path(url, why, r->pool, app->api_base_url,
                             r->args ? apr_pstrcat(r->pool, rest, "?",
                                                   r->args, NULL)
                                     : rest);
}

/* Hands r to mod_proxy for url, the way mod_rewrite's [P] does. */
static void hand_to_proxy(request_rec *r, const char *url)
{
    r->filename = apr_pstrcat(r->pool, "proxy:", url, NULL);
    r->handler = "proxy-server";
    r->proxyreq = PROXYREQ_REVERSE;
    /* The URL is already encoded as the client sent it: mod_proxy must
     * not encode it again. */
    apr_table_setn(r->notes, "proxy-nocanon", "1");
}

/* Who may call which upstream URL: the app of the location, a request
 * from this site's own pages, a token in the session, a path that stays
 * below api_base_url. OK with *papp and *purl, or the status to answer
 * (a prepared JSON error is OK with rs->status set). */
static int api_target(const oac_app_t **papp, const char **purl,
                      request_rec *r, oac_dir_conf *dc, oac_request_t *rs)
{
    const oac_app_t *app;
    const char *rest, *why;
    char *joined;
    session_rec *z;
    int rc;

    if (!(app = oac_find_app(r, dc->proxy_api, "OAuthProxyAPI"))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!app->api_base_url) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00032)
                      "OAuthProxyAPI %s at %s: the app has no api_base_url",
                      app->name, dc->location);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The user's token works for this site's pages, not another site's:
     * whatever the SameSite attribute of the session cookie, a request
     * the browser says another site sent is not carried out. */
    if (oac_is_cross_site(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00037)
                      "OAuthProxyAPI %s: refusing %s: a cross-site request",
                      app->name, r->uri);
        return api_error(r, rs, HTTP_FORBIDDEN, "cross_site_request", NULL);
    }
    if (dc->proxy_api_service) {
        /* The app's own token: no user, no session */
        if (app->version != OAC_OAUTH2) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00125)
                          "OAuthProxyAPI %s client_credentials at %s: the "
                          "client credentials grant is OAuth 2's",
                          app->name, dc->location);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!(app = oac_discovered(r, app, &why))) {
            return api_error(r, rs, HTTP_BAD_GATEWAY, "provider_unreachable",
                             NULL);
        }
        if (!(rs->token = oac_service_token(r, app, &why))) {
            /* contract section 7: a provider endpoint that fails gives a
             * 502; no process asks it again for 5 s (RETRY_SECONDS) */
            apr_table_setn(r->err_headers_out, "Retry-After", "5");
            return api_error(r, rs, HTTP_BAD_GATEWAY, "no_service_token",
                             NULL);
        }
        rs->app = app;
        rs->service = 1;
    }
    else if (!rs->token || rs->app != app) {
        rc = load_token(r, app, &z, rs);
        if (rc == HTTP_UNAUTHORIZED) {
            return api_error(r, rs, HTTP_UNAUTHORIZED, "login_required", app);
        }
        if (rc != OK) {
            return rc;
        }
    }
    *papp = app;
    if (rs->api_app == app) {
        *purl = rs->api_url;
        return OK;
    }
    if (!(rest = path_below(r, dc->location))) {
        return HTTP_NOT_FOUND;
    }
    if (api_url(&joined, &why, r, app, rest) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00033)
                      "OAuthProxyAPI %s: refusing %s: %s", app->name,
                      r->uri, why);
        *papp = NULL;
        return api_error(r, rs, HTTP_BAD_REQUEST, "bad_path", NULL);
    }
    *purl = joined;
    return OK;
}

/* The token goes with a proof of the app's DPoP key (RFC 9449 7.1) */
static int dpop_bound(const oac_app_t *app, const oac_token_t *t)
{
    return app->dpop_signer && t->token_type
           && !strcmp(t->token_type, "DPoP");
}

/* A header of the API's answer; under ProxyErrorOverride mod_proxy moves
 * some of them (WWW-Authenticate) to err_headers_out. */
static const char *answer_header(request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_out, name);
    return v ? v : apr_table_get(r->err_headers_out, name);
}

/* A refused request may be sent once more only when nothing of it is lost
 * by the first sending: no body, or one read into memory. A refused
 * service token is renewed for idempotent methods only (RFC 9110 9.2.2: the
 * API may have acted before refusing); a DPoP nonce demanded with
 * use_dpop_nonce refuses the request before it is processed (RFC 9449 9). */
static int api_idempotent(const request_rec *r)
{
    switch (r->method_number) {
    case M_GET: case M_PUT: case M_DELETE: case M_OPTIONS:
        return 1;
    default:
        return 0;
    }
}

/* A request body an API call keeps in memory to send it again: 64 KiB,
 * as announced by Content-Length. */
#define API_RETRY_BODY_MAX (64 * 1024)

static int small_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t n;
    char *end;

    return cl && ap_request_has_body(r)
        && !apr_table_get(r->headers_in, "Transfer-Encoding")
        && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end && n > 0
        && n <= API_RETRY_BODY_MAX;
}

static const char *api_token(request_rec *r);
static int holds_token(apr_pool_t *p, const char *s, const char *token);

/* mod_proxy and mod_proxy_http log the URL they call at debug and trace
 * levels (AH00944 "connecting URL to host", "HTTP: serving URL"). For a
 * request whose URL holds the user's token (token_placement=uri, the
 * linkedin and weibo fixes, a hook that moved it there) they log at info
 * at most, whatever LogLevel says: a token must not reach the log. Nothing
 * is looked at while they log at info or less, as they do by default. */
static void quiet_proxy_logs(request_rec *r)
{
    const struct ap_logconf *now = ap_get_request_logconf(r);
    struct ap_logconf *quiet = NULL;
    const char *token;
    int i;

    for (i = 0; i < 2; ++i) {
        if (proxy_log_index[i] < 0
            || ap_get_request_module_loglevel(r, proxy_log_index[i])
               <= APLOG_INFO) {
            continue;
        }
        if (!quiet) {
            if (!(token = api_token(r)) || !r->filename
                || !holds_token(r->pool, r->filename, token)) {
                return;
            }
            quiet = ap_new_log_config(r->pool, now);
        }
        ap_set_module_loglevel(r->pool, quiet, proxy_log_index[i],
                               APLOG_INFO);
    }
    if (quiet) {
        r->log = quiet;
    }
}

/* One attempt at the API: the token applied to what api.url, api.body
 * and api.headers_in hold, the hooks, the proof, the signature; then
 * mod_proxy's. 0, or the status to answer. */
static int api_attempt(request_rec *r, const oac_app_t *app,
                       oac_request_t *rs)
{
    const char *url = rs->api.url;
    const char *body = rs->api.form ? rs->api.body : NULL;
    apr_size_t len = rs->api.form ? rs->api.len : 0;
    int rc;

    if (rs->api.headers_in && rs->api.attempts) {
        /* a second attempt: the first one's token and proof go */
        r->headers_in = apr_table_copy(r->pool, rs->api.headers_in);
        r->method = rs->api.method;
        r->method_number = ap_method_number_of(r->method);
    }
    /* As in Authlib: an OAuth 2 token is applied before the compliance
     * hooks run, so a fix can move it (into a query parameter of the
     * provider's choosing); an OAuth 1 request is signed after them, so
     * the signature covers what they changed. */
    if (app->version == OAC_OAUTH2) {
        place_oauth2_token(r, app, rs->token, &url, &body, &len);
    }
    if ((rc = oac_run_protected_request(r, app, &url, &body, &len)) != OK) {
        return rc;
    }
    /* After the hooks: the proof is over the URL that goes out. */
    if (dpop_bound(app, rs->token)
        && (rc = add_dpop_proof(r, app, rs->token, url))) {
        return rc;
    }
    if (app->version == OAC_OAUTH1
        && (rc = sign_oauth1(r, app, rs->token, url, body)) != OK) {
        return rc;
    }
    if (rs->api.read_body) {
        oac_body_replace(r, rs->api.form ? body : rs->api.body,
                         rs->api.form ? len : rs->api.len);
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: %s %s goes to %s",
                  app->name, r->method, r->uri,
                  oac_util_url_for_message(r->pool, url));
    ap_add_output_filter_handle(api_retry_handle, NULL, r, r->connection);
    ap_add_output_filter_handle(api_response_handle, NULL, r,
                                r->connection);
    /* mod_proxy_http writes the provider's interim responses (103 Early
     * Hints) straight to the client, before any filter: a Set-Cookie, or a
     * Link preloading a URL of this site, would act from its origin. None
     * is passed on, whatever the configuration set. */
    apr_table_setn(r->subprocess_env, "proxy-interim-response", "Suppress");
    if (r->expecting_100 && !rs->api.read_body) {
        /* A body that streams to the API: mod_proxy_http would wait for
         * the API's 100, which is suppressed now, and then read a body
         * the client never sends (a 500, or an empty chunked body). The
         * client gets its 100 here instead, as with Proxy100Continue
         * Off. */
        int status = r->status;
        r->status = HTTP_CONTINUE;
        ap_send_interim_response(r, 0);
        r->status = status;
    }
    hand_to_proxy(r, url);
    quiet_proxy_logs(r);
    if (rs->api.possible && !rs->api.attempts++) {
        r->handler = API_RETRY_HANDLER;
    }
    return 0;
}

/* The most fields of a form body an OAuth 1 signature covers. */
#define OAUTH1_FORM_FIELDS_MAX 1000

static apr_size_t form_fields(const char *body, apr_size_t len)
{
    apr_size_t n = 1;
    const char *p = body, *end = body + len;

    while ((p = memchr(p, '&', (apr_size_t)(end - p)))) {
        ++n;
        ++p;
    }
    return n;
}

static int proxy_api(request_rec *r, oac_dir_conf *dc)
{
    oac_request_t *rs = oac_request_state(r);
    const oac_app_t *app = NULL;
    const char *url, *body = NULL;
    apr_size_t len = 0;
    int rc, read_body, dpop;

    if ((rc = api_target(&app, &url, r, dc, rs)) != OK || !app) {
        return rc;
    }

    /* A form body is read (1 MiB at most) only when something needs it:
     * OAuth 1 signs its parameters, token_placement=body extends it, a
     * protected_request hook may rewrite it. Other bodies stream. */
    read_body = oac_body_is_form(r) && ap_request_has_body(r)
        && (app->version == OAC_OAUTH1 || oac_protected_request_hooked()
            || app->token_placement == OAC_PLACE_BODY);
    if (read_body) {
        char *buf;
        if ((rc = oac_body_read(r, OAC_BODY_MAX, &buf, &len)) != OK) {
            return rc;
        }
        body = buf;
    }

    if (app->version == OAC_OAUTH1 && body
        && form_fields(body, len) > OAUTH1_FORM_FIELDS_MAX) {
        /* Each field is decoded, encoded again and sorted for the
         * signature: ~300 bytes of memory apiece, so a 1 MiB body of
         * 500,000 empty ones took ~150 MB of a child. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00153)
                      "OAuthProxyAPI %s: refusing %s: its form body has "
                      "more than %d fields to sign", app->name, r->uri,
                      OAUTH1_FORM_FIELDS_MAX);
        return api_error(r, rs, HTTP_REQUEST_ENTITY_TOO_LARGE,
                         "too_many_fields", NULL);
    }
    if (app->version == OAC_OAUTH1
        && (rc = reserved_oauth1_param(r, body)) != OK) {
        return api_error(r, rs, rc, "reserved_parameter", NULL);
    }
    rs->client_headers_in = apr_table_copy(r->pool, r->headers_in);
    strip_browser_headers(r);

    dpop = dpop_bound(app, rs->token);
    rs->api.form = read_body;
    if ((rs->service || dpop) && !read_body && api_idempotent(r)
        && small_body(r)) {
        /* A PUT (or DELETE) of a few kilobytes is kept, so that a refusal
         * of its token can be answered by sending it again; larger ones,
         * and bodies of unknown length, stream to the API as they come. */
        char *buf;
        if ((rc = oac_body_read_raw(r, API_RETRY_BODY_MAX, &buf, &len))
            != OK) {
            return rc;
        }
        body = buf;
        read_body = 1;
    }
    rs->api.url = url;
    rs->api.body = body;
    rs->api.len = len;
    rs->api.read_body = read_body;
    rs->api.possible = (rs->service || dpop)
        && (read_body || !ap_request_has_body(r));
    if (rs->api.possible) {
        /* What a second attempt starts from again */
        rs->api.headers_in = apr_table_copy(r->pool, r->headers_in);
        rs->api.method = r->method;
        rs->api.err_headers_out = apr_table_copy(r->pool, r->err_headers_out);
        rs->api.content_type = r->content_type;
    }
    if ((rc = api_attempt(r, app, rs))) {
        return rc;
    }
    oac_count(r, app, OAC_CTR_API_PROXIED);
    return OK;
}

/* The API refused the request (its first answer, status and headers
 * known, nothing sent yet): what is learnt from it, and whether the
 * request is worth sending once more, swallowing this answer. */
static int api_refused(request_rec *r, oac_request_t *rs)
{
    const char *nonce = answer_header(r, "DPoP-Nonce");
    int refused = r->status == HTTP_UNAUTHORIZED
                  || r->status == HTTP_FORBIDDEN;
    /* Read for refusals only: every other answer of every API call comes
     * through here too. */
    const char *challenge = refused ? answer_header(r, "WWW-Authenticate")
                                    : NULL;
    /* RFC 9449 7.1: the two DPoP errors, which refuse the proof, not the
     * token (a new token would not change them) */
    int nonce_asked = challenge && ap_strstr_c(challenge, "use_dpop_nonce");
    int proof_refused = challenge
                        && ap_strstr_c(challenge, "invalid_dpop_proof");
    /* the first attempt, run by oac_api_retry_handler, of a request
     * nothing of which is lost by sending it */
    int retry_possible = rs->api.possible && rs->api.in_handler
                         && rs->api.attempts == 1;
    int again = 0;

    /* The API refused the app's own token: it is renewed, by this request
     * if a retry is possible, else by the next. */
    if (rs->service && rs->app && refused && !nonce_asked && !proof_refused) {
        int renew = oac_service_token_refused(r, rs->app, rs->token);
        int retry = retry_possible && api_idempotent(r);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00126)
                      "OAuthProxyAPI %s: the API answered %d to the service "
                      "token: %s", rs->app->name, r->status,
                      !renew ? "it was renewed less than 30 s ago, and is "
                               "kept"
                      : retry ? "a new one is fetched, and the request sent "
                                "again"
                              : "the next request gets a new one");
        if (retry) {
            const char *why;
            const oac_token_t *t = oac_service_token(r, rs->app, &why);
            /* Only a token other than the refused one is worth a retry:
             * another process may have renewed it meanwhile. */
            if (t && strcmp(t->access_token, rs->token->access_token)) {
                rs->api.renewed = t;
                rs->api.again_with = "with a renewed service token";
                again = 1;
            }
        }
    }
    if (nonce && rs->api_app && rs->api_app->dpop_signer && rs->api_url
        && oac_util_is_vschar(nonce)) {
        const char *origin = origin_of(r->pool, rs->api_url);
        if (origin) {
            api_nonce_learn(origin, nonce);
        }
        /* RFC 9449 9: a resource server asks for its nonce with a 401
         * and error="use_dpop_nonce"; a nonce we did not send yet. */
        if (r->status == HTTP_UNAUTHORIZED && nonce_asked && retry_possible
            && (!rs->api.dpop_nonce || strcmp(rs->api.dpop_nonce, nonce))) {
            rs->api.again_with = "with the API's DPoP nonce";
            again = 1;
        }
    }
    /* A proof the API refused (its replay cache's false alarm, clocks
     * apart): once more with a fresh one, as at the token endpoint; a
     * proof is never sent twice. */
    if (!again && retry_possible && r->status == HTTP_UNAUTHORIZED
        && proof_refused && rs->api_app && rs->token
        && dpop_bound(rs->api_app, rs->token)) {
        rs->api.again_with = "with a fresh DPoP proof";
        again = 1;
    }
    return again;
}

/* The API's answer, first of all the response's filters: what it teaches
 * (a DPoP nonce, a refused service token), and, when it is a refusal worth
 * sending the request again for, swallowed whole before any other filter
 * (one that keeps state, or inspects responses) sees it. */
static apr_status_t api_retry_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    oac_request_t *rs = ap_get_module_config(r->request_config,
                                             &oauthclient_module);
    apr_bucket *b;
    int eos = 0;

    if (!f->ctx) {
        if (!rs || !api_refused(r, rs)) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        rs->api.retry = 1;
        f->ctx = rs;
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        eos = eos || APR_BUCKET_IS_EOS(b);
    }
    apr_brigade_cleanup(bb);
    if (eos) {
        ap_remove_output_filter(f);
    }
    return APR_SUCCESS;
}

/* Headers by which an answer changes what the browser keeps or does for
 * the origin that served it: the provider's own policy for its origin
 * (HSTS, Alt-Svc), or its say over this site's cookies and storage. */
static const char *const origin_state_headers[] = {
    "Set-Cookie", "Set-Cookie2", "Clear-Site-Data",
    "Strict-Transport-Security", "Alt-Svc", "Service-Worker-Allowed",
    "Refresh",
    /* a reporting policy for the whole origin: the browser would send
     * this site's request URLs (a callback's code among them) where the
     * API says */
    "NEL", "Report-To", "Reporting-Endpoints",
    /* which client hints the browser sends this origin */
    "Accept-CH", "Critical-CH", NULL
};

/* s with each %XX (either case) decoded, other bytes as they are; '+'
 * as a space when plus. A %00 stays as it is. */
static char *loose_decode(apr_pool_t *p, const char *s, int plus)
{
    char *out = apr_palloc(p, strlen(s) + 1), *w = out;

    for (; *s; ++s) {
        if (*s == '%' && apr_isxdigit(s[1]) && apr_isxdigit(s[2])
            && (s[1] != '0' || s[2] != '0')) {
            *w++ = (char)(oac_util_hex_value((unsigned char)s[1]) << 4
                          | oac_util_hex_value((unsigned char)s[2]));
            s += 2;
        }
        else {
            *w++ = plus && *s == '+' ? ' ' : *s;
        }
    }
    *w = '\0';
    return out;
}

/* Whether s holds the token however an API may have written it: as it
 * is, percent-encoded in any case, in part or twice over, with '+' for a
 * space or as itself. */
static int holds_token(apr_pool_t *p, const char *s, const char *token)
{
    int round;

    for (round = 0; round < 4; ++round) {
        char *kept = loose_decode(p, s, 0);
        if (strstr(s, token) || strstr(kept, token)
            || strstr(loose_decode(p, s, 1), token)) {
            return 1;
        }
        if (!strcmp(kept, s)) {
            return 0;
        }
        s = kept;
    }
    return 0;
}

/* The token this request carries to the API. */
static const char *api_token(request_rec *r)
{
    const oac_request_t *rs = ap_get_module_config(r->request_config,
                                                   &oauthclient_module);
    const char *token = rs && rs->token ? rs->token->access_token : NULL;

    return token && *token ? token : NULL;
}

/* url without the query parameters that carry the user's token, NULL when
 * it still has the token elsewhere. An API builds its redirects and its
 * pagination links from the URL it was asked for, which has the token in
 * its query when the app puts it there (token_placement=uri, the linkedin
 * and weibo fixes): the browser would get it, and its history and the
 * access log when it follows the link. */
static const char *without_token(request_rec *r, apr_pool_t *p,
                                 const char *url)
{
    const char *token = api_token(r);
    const char *q, *hash, *c;
    apr_array_header_t *kept;
    char *out;

    if (!token || !holds_token(p, url, token)) {
        return url;
    }
    out = apr_pstrdup(p, url);
    if ((q = strchr(url, '?'))) {
        hash = strchr(q, '#');
        kept = apr_array_make(p, 4, sizeof(char *));
        for (c = q + 1; c < (hash ? hash : q + strlen(q));) {
            apr_size_t n = strcspn(c, hash ? "&#" : "&");
            const char *param = apr_pstrmemdup(p, c, n);

            if (!holds_token(p, param, token)) {
                APR_ARRAY_PUSH(kept, const char *) = param;
            }
            c += n + (c[n] == '&');
        }
        out = apr_pstrcat(p, apr_pstrmemdup(p, url, q - url),
                          kept->nelts ? "?" : "",
                          apr_array_pstrcat(p, kept, '&'),
                          hash ? hash : "", NULL);
    }
    return holds_token(p, out, token) ? NULL : out;
}

/* url for the browser, or NULL (logged) when it carries the token. */
static const char *token_free(request_rec *r, apr_pool_t *p,
                              const oac_app_t *app, const char *url,
                              const char *what)
{
    const char *safe = without_token(r, p, url);

    if (!safe) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00146)
                      "OAuthProxyAPI %s: the API's %s carries the user's "
                      "token: left out", app->name, what);
    }
    return safe;
}

/* One URL of the API's answer for the browser, from p; NULL to drop
 * it. */
static const char *api_url_for_browser(request_rec *r, apr_pool_t *p,
                                       const oac_app_t *app,
                                       const char *from, const char *local,
                                       const char *value, const char *what)
{
    char *out = NULL;

    switch (oac_url_reverse(&out, p, app->api_base_url, from, value,
                            local)) {
    case OAC_URL_REV_LOCAL:
        return token_free(r, p, app, out, what);
    case OAC_URL_REV_ELSEWHERE:
        /* on any port and scheme: behind a proxy that ends TLS, httpd does
         * not know those the browser sees */
        if (!oac_url_names_host(p, out, r->hostname)) {
            return token_free(r, p, app, out, what);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00141)
                      "OAuthProxyAPI %s: the API's %s names this site "
                      "outside %s: left out", app->name, what, local);
        return NULL;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00142)
                      "OAuthProxyAPI %s: the API's %s is no URL a browser "
                      "would read as it is read here: left out", app->name,
                      what);
        return NULL;
    }
}

/* The strings of a, sep between them, in one allocation. */
static char *joined(apr_pool_t *p, const apr_array_header_t *a,
                    const char *sep)
{
    apr_size_t len = 0, slen = strlen(sep), n;
    char *out, *w;
    int i;

    for (i = 0; i < a->nelts; ++i) {
        len += strlen(APR_ARRAY_IDX(a, i, char *)) + (i ? slen : 0);
    }
    w = out = apr_palloc(p, len + 1);
    for (i = 0; i < a->nelts; ++i) {
        if (i) {
            memcpy(w, sep, slen);
            w += slen;
        }
        n = strlen(APR_ARRAY_IDX(a, i, char *));
        memcpy(w, APR_ARRAY_IDX(a, i, char *), n);
        w += n;
    }
    *w = '\0';
    return out;
}

/* The link-values of one answer's Link lines that are mapped, at most:
 * each costs work and memory in proportion to the URL called (its path
 * can be long), and an API may send line after line of them; the rest
 * are left out. Pagination needs a handful. */
#define LINK_VALUES_MAX 64

/* Link (RFC 8288): link-values "<ref>; param=..., <ref>...", each ref
 * mapped as a Location (an application's pagination follows them with the
 * browser's cookies), each link-value whose ref is not for the browser, or
 * that is not well formed, left out; NULL when none is left. *pleft: how
 * many more link-values this answer may map (LINK_VALUES_MAX). */
static const char *api_links_for_browser(request_rec *r, const oac_app_t *app,
                                         const char *from, const char *local,
                                         const char *value, int *pleft)
{
    const char *c = value, *gt, *end, *to, *params;
    const char *token = api_token(r);
    /* joined once at the end: appending to the string so far copies it
     * for each link-value, quadratic in a line of thousands */
    apr_array_header_t *kept = apr_array_make(r->pool, 4, sizeof(char *));
    /* each link-value's mapping is made here and cleared after it: only
     * what is kept stays for the request */
    apr_pool_t *tmp;

    apr_pool_create(&tmp, r->pool);
    apr_pool_tag(tmp, "oauthclient_link");
    while (*c) {
        int quoted = 0;

        c += strspn(c, " \t,");
        if (!*c) {
            break;
        }
        if (*c != '<' || !(gt = strchr(c, '>'))) {
            break;                  /* not a link-value: the rest goes */
        }
        if (*pleft <= 0) {
            if (*pleft == 0) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00150)
                              "OAuthProxyAPI %s: the API's Link lines hold "
                              "more than %d link-values: the rest are left "
                              "out", app->name, LINK_VALUES_MAX);
                --*pleft;
            }
            break;
        }
        --*pleft;
        apr_pool_clear(tmp);
        /* its parameters: up to a ',' outside a quoted string */
        for (end = gt + 1; *end && (quoted || *end != ','); ++end) {
            if (quoted && *end == '\\' && end[1]) {
                ++end;
            }
            else if (*end == '"') {
                quoted = !quoted;
            }
        }
        to = api_url_for_browser(r, tmp, app, from, local,
                                 apr_pstrmemdup(tmp, c + 1,
                                                (apr_size_t)(gt - c - 1)),
                                 "Link");
        params = apr_pstrmemdup(tmp, gt + 1, (apr_size_t)(end - gt - 1));
        if (to && token && holds_token(tmp, params, token)) {
            /* an anchor="..." built from the URL called, as its ref */
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00146)
                          "OAuthProxyAPI %s: the API's Link carries the "
                          "user's token in a parameter: left out",
                          app->name);
            to = NULL;
        }
        if (to) {
            APR_ARRAY_PUSH(kept, char *) =
                apr_pstrcat(r->pool, "<", to, ">", params, NULL);
        }
        c = end;
    }
    apr_pool_destroy(tmp);
    return kept->nelts ? joined(r->pool, kept, ", ") : NULL;
}

/*
 * The API's own URLs in its answer (a redirect's Location, a created
 * resource's, Content-Location, pagination's Link) name the API; the
 * browser calls it through this location, with the token, only as a path
 * below it: mapped so, as ProxyPassReverse maps a proxied server's
 * redirects. Relative ones are resolved against the URL called first, so
 * that none makes the browser climb out of this location into another of
 * this site's paths, and a Location that names this site elsewhere is
 * dropped: an API could otherwise send the browser, with 307 and the
 * same body, to another app's OAuthProxyAPI location.
 */
static void map_api_urls(request_rec *r)
{
    static const char *const one[] = { "Location", "Content-Location", NULL };
    oac_request_t *rs = ap_get_module_config(r->request_config,
                                             &oauthclient_module);
    const oac_dir_conf *dc = oac_dir_config(r);
    const oac_app_t *app = rs ? (rs->app ? rs->app : rs->api_app) : NULL;
    apr_table_t *const tables[] = { r->headers_out, r->err_headers_out };
    const char *const *h, *v;
    int i, links_left = LINK_VALUES_MAX;

    if (!app || !app->api_base_url || !rs->api.url || !dc->location) {
        return;
    }
    for (i = 0; i < 2; ++i) {
        for (h = one; *h; ++h) {
            if ((v = apr_table_get(tables[i], *h))) {
                v = api_url_for_browser(r, r->pool, app, rs->api.url,
                                        dc->location, v, *h);
                if (v) {
                    apr_table_setn(tables[i], *h, v);
                }
                else {
                    apr_table_unset(tables[i], *h);
                }
            }
        }
        if (apr_table_get(tables[i], "Link")) {
            /* each Link line: an API may send several */
            const apr_array_header_t *all = apr_table_elts(tables[i]);
            apr_array_header_t *links = apr_array_make(r->pool, 2,
                                                       sizeof(v));
            const apr_table_entry_t *e = (const apr_table_entry_t *)all->elts;
            int k;

            for (k = 0; k < all->nelts; ++k) {
                if (e[k].key && !strcasecmp(e[k].key, "Link")) {
                    APR_ARRAY_PUSH(links, const char *) = e[k].val;
                }
            }
            apr_table_unset(tables[i], "Link");
            for (k = 0; k < links->nelts; ++k) {
                if ((v = api_links_for_browser(r, app, rs->api.url,
                                               dc->location,
                                               APR_ARRAY_IDX(links, k,
                                                             const char *),
                                               &links_left))) {
                    apr_table_addn(tables[i], "Link", v);
                }
            }
        }
    }
}

/* The API answered one user, with that user's token, at a URL that does
 * not name the user: a shared cache in front (mod_cache, a CDN) must not
 * keep it for the next. private is added to what the API says, over all
 * its Cache-Control lines; "public" goes (beside private it would only
 * confuse), max-age and the rest stay for the browser's own cache. httpd's
 * list reader keeps a quoted field list (private="a, b") whole. */
static void private_to_user(request_rec *r)
{
    const char *cc = apr_table_getm(r->pool, r->headers_out,
                                    "Cache-Control");
    apr_array_header_t *kept = apr_array_make(r->pool, 4, sizeof(char *));
    const char *d;
    int private = 0;

    while (cc && (d = ap_get_list_item(r->pool, &cc))) {
        if (strcmp(d, "public")) {
            private |= !strncmp(d, "private", 7) || !strcmp(d, "no-store");
            APR_ARRAY_PUSH(kept, const char *) = d;
        }
    }
    if (!private) {
        APR_ARRAY_PUSH(kept, const char *) = "private";
    }
    apr_table_setn(r->headers_out, "Cache-Control",
                   apr_array_pstrcat(r->pool, kept, ','));
}

/* The provider's answer is served from this site's origin: it may not set
 * cookies here (a session cookie of its choosing) or clear them, set this
 * site's transport policy, nor run script here if it is HTML (content the
 * provider's users control). */
static apr_status_t api_response_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const char *const *h;

    map_api_urls(r);

    for (h = origin_state_headers; *h; ++h) {
        apr_table_unset(r->headers_out, *h);
    }
    /* mostly empty: mod_proxy moves headers there under
     * ProxyErrorOverride only */
    if (!apr_is_empty_table(r->err_headers_out)) {
        for (h = origin_state_headers; *h; ++h) {
            apr_table_unset(r->err_headers_out, *h);
        }
    }
    apr_table_addn(r->headers_out, "Content-Security-Policy", "sandbox");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    private_to_user(r);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* What is left of an attempt's filters (under ProxyErrorOverride mod_proxy
 * passes nothing through them), before the next attempt adds its own. */
static void remove_api_filters(request_rec *r)
{
    ap_filter_t *f = r->output_filters, *next;

    for (; f; f = next) {
        next = f->next;
        if (f->frec == api_retry_handle || f->frec == api_response_handle) {
            ap_remove_output_filter(f);
        }
    }
}

/* The handler of an API request that may be sent twice: mod_proxy's, run
 * from here so that a refusal swallowed by the response filter (or
 * returned by mod_proxy under ProxyErrorOverride) can be followed by one
 * more attempt, as mod_proxy's own balancer retries do, on the same
 * request. */
int oac_api_retry_handler(request_rec *r)
{
    oac_request_t *rs = ap_get_module_config(r->request_config,
                                             &oauthclient_module);
    const oac_app_t *app;
    int rc;

    r->handler = "proxy-server";
    if (rs) {
        /* Only now may a refusal be swallowed: were anything to hand the
         * request to another handler, nothing would send it again. */
        rs->api.in_handler = 1;
    }
    rc = ap_run_handler(r);
    if (!rs || !(app = rs->app ? rs->app : rs->api_app)) {
        return rc;
    }
    if (!rs->api.retry && (rc == HTTP_UNAUTHORIZED || rc == HTTP_FORBIDDEN)
        && apr_table_get(r->notes, "proxy-error-override")) {
        int status = r->status;
        r->status = rc;
        rs->api.retry = api_refused(r, rs);
        r->status = status;
    }
    if (!rs->api.retry) {
        return rc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00130)
                  "OAuthProxyAPI %s: %s %s sent again %s", app->name,
                  r->method, r->uri, rs->api.again_with);
    if (rs->api.renewed) {
        rs->token = rs->api.renewed;
    }
    rs->api.retry = 0;
    /* The first answer left nothing: it was swallowed before the headers
     * went out. */
    r->status = HTTP_OK;
    r->status_line = NULL;
    r->headers_out = apr_table_make(r->pool, 12);
    r->err_headers_out = apr_table_copy(r->pool, rs->api.err_headers_out);
    r->content_type = rs->api.content_type;
    r->clength = 0;
    r->sent_bodyct = 0;
    r->eos_sent = 0;
    apr_table_unset(r->notes, "proxy-error-override");
    remove_api_filters(r);
    if ((rc = api_attempt(r, app, rs))) {
        return rc;
    }
    return ap_run_handler(r);
}

void oac_api_register(void)
{
    /* Ahead of every resource and content filter */
    api_retry_handle = ap_register_output_filter(API_RETRY_FILTER,
                                                 api_retry_filter, NULL,
                                                 AP_FTYPE_RESOURCE - 1);
    api_response_handle = ap_register_output_filter(API_RESPONSE_FILTER,
                                                     api_response_filter,
                                                     NULL,
                                                     AP_FTYPE_CONTENT_SET);
}

/* OAuthProxyAPI maps a <Location> onto a URL, as ProxyPass does, so it
 * claims the request at the same point ProxyPass does. Otherwise core maps
 * the URL to the DocumentRoot first: a stat per path segment, and an
 * .htaccess lookup per directory where AllowOverride allows one, on every
 * API call (measured: 8-15 us of CPU per request here). mod_proxy then
 * applies matching <Proxy> sections instead of <Directory> ones, like for
 * ProxyPass. Anything that is not right yet (no such app, no api_base_url,
 * a path that does not join) is left to the fixup, which answers it; the
 * fixup applies the token to the URL joined here. */
/* An internal redirect of an API request (ErrorDocument, ProxyErrorOverride)
 * shares that request's header table, token included: its target gets the
 * client's headers back instead. */
static void restore_client_headers(request_rec *r)
{
    request_rec *q;

    for (q = r->prev; q; q = q->prev) {
        const oac_request_t *rs = ap_get_module_config(q->request_config,
                                                       &oauthclient_module);
        if (rs && rs->client_headers_in) {
            r->headers_in = apr_table_copy(r->pool, rs->client_headers_in);
            scrub_oauth_headers(r);
            return;
        }
    }
}

int oac_translate_name(request_rec *r)
{
    oac_dir_conf *dc;
    oac_server_conf *sc;
    oac_request_t *rs;
    const oac_route_t *route;
    const oac_app_t *app;
    const char *rest, *why;
    char *url;

    if (r->prev) {
        restore_client_headers(r);
    }
    if (r->main || r->proxyreq) {
        return DECLINED;
    }
    if ((route = oac_route_find(r))) {
        /* The login, callback and logout paths are the module's, not
         * files: like an OAuthProxyAPI location, they are claimed before
         * the file system is looked at, so a <Directory> denial over the
         * DocumentRoot (Require all denied on /) does not lock users out
         * of logging in. <Location> sections still apply. */
        ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: %s is the "
                      "app's %s path", route->app->name, r->uri,
                      route->role == OAC_ROUTE_LOGIN ? "login"
                      : route->role == OAC_ROUTE_CALLBACK ? "callback"
                      : "logout");
        rs = oac_request_state(r);
        rs->route = route;
        r->filename = apr_pstrcat(r->pool, "oauthclient:", r->uri, NULL);
        return OK;
    }
    dc = oac_dir_config(r);
    if (!dc->proxy_api) {
        return DECLINED;
    }
    sc = oac_server_config(r->server);
    app = apr_hash_get(sc->apps_by_name, dc->proxy_api, APR_HASH_KEY_STRING);
    if (!app || !app->api_base_url || !(rest = path_below(r, dc->location))
        || api_url(&url, &why, r, app, rest) != APR_SUCCESS) {
        return DECLINED;
    }
    rs = oac_request_state(r);
    rs->api_app = app;
    rs->api_url = url;
    hand_to_proxy(r, url);
    return OK;
}

/* A path claimed at translate time has no file behind it: no
 * <Directory>, <Files> or .htaccess applies (as for ProxyPass). */
int oac_map_to_storage(request_rec *r)
{
    const oac_request_t *rs = ap_get_module_config(r->request_config,
                                                   &oauthclient_module);
    return rs && rs->route ? OK : DECLINED;
}

int oac_fixups(request_rec *r)
{
    oac_dir_conf *dc = oac_dir_config(r);
    const oac_request_t *rs;

    if (r->main || r->prev) {
        scrub_derived_request(r);
    }
    if (dc->proxy_api && !r->main) {
        return proxy_api(r, dc);
    }
    if ((dc->forward_tokens == 1 || dc->forward_claims > 0)
        && (rs = auth_state(r, dc))) {
        if (dc->forward_tokens == 1) {
            forward_tokens(r, rs);
            oac_claims_forward_id_token(r, rs);
        }
        if (dc->forward_claims > 0) {
            oac_claims_forward(r, dc, rs);
        }
    }
    return DECLINED;
}
