/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * mod_oauthclient: OAuth 1.0a and OAuth 2.0 client for Apache httpd.
 *
 * This file only wires the module together: its record, its hooks, and
 * the startup and child-start work that spans several concerns. Each
 * concern is a file of src/mod_oauthclient_*.c with its header; the
 * protocol lives in src/oac_*.c, which knows nothing of httpd.
 */
#include "mod_oauthclient_config.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_config.h"

#include <apr_strings.h>

#include "mod_oauthclient.h"
#include "mod_oauthclient_auth.h"
#include "mod_oauthclient_body.h"
#include "mod_oauthclient_cache.h"
#include "mod_oauthclient_checks.h"
#include "mod_oauthclient_claims.h"
#include "mod_oauthclient_codec.h"
#include "mod_oauthclient_docs.h"
#include "mod_oauthclient_oidc.h"
#include "mod_oauthclient_cookie.h"
#include "mod_oauthclient_flow.h"
#include "mod_oauthclient_refresh.h"
#include "mod_oauthclient_session.h"
#include "mod_oauthclient_service.h"
#include "mod_oauthclient_status.h"
#include "oac_http_curl.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

/* Log tags used: OAC00001-00003 and 00050 config, 00010-00014 session, 00020-00023
 * flow, 00030-00037 auth and refresh, 00040 status, 00051-00055 here,
 * 00060-00068 refresh, 00070 body, 00080 hooks, 00090-00092 codec, 00093
 * here, 00094 cookie, 00095-00096 here, 00097-00098 flow (revocation),
 * 00099-00101 and 00103 checks, 00102 flow, 00104-00107 and 00110 cache
 * (and 00060-00062, 00066), 00108-00109 session, 00111-00113
 * discovery, 00114 refresh, 00115-00119 claims, 00120-00121 docs, 00122
 * auth (DPoP), 00123-00126 service, 00127-00129 claims, 00130 auth (API
 * retry), 00131 service, 00132 checks, 00133 claims, 00134-00138 refresh,
 * 00139 claims, 00140 cache (a database connection made again),
 * 00141-00142 auth (the API's URLs), 00143 cache (DBDInitSQL run again),
 * 00144 session (a login made for another provider or client).
 * Next free: 00145. */

static const command_rec oac_cmds[] = {
    AP_INIT_RAW_ARGS("OAuthRemoteApp", oac_cmd_remote_app, NULL, RSRC_CONF,
        "Declares a remote OAuth app: NAME key=value ... (keys as in "
        "Authlib's oauth.register)"),
    AP_INIT_TAKE1("OAuthHTTPTimeout", oac_cmd_http_timeout, NULL, RSRC_CONF,
        "Seconds allowed for each call to a provider endpoint (default 10)"),
    AP_INIT_RAW_ARGS("OAuthCache", oac_cmd_cache, NULL, RSRC_CONF,
                  "where processes and machines coordinate refreshes: shm "
                  "(default), memcache:HOST:PORT[,HOST:PORT ...] or dbd"),
    AP_INIT_TAKE2("DBDPrepareSQL", oac_cmd_dbd_prepare_sql, NULL, RSRC_CONF,
                  "read alongside mod_dbd, to prepare its statements again "
                  "after the database restarted"),
    AP_INIT_TAKE1("OAuthCAFile", oac_cmd_ca_file, NULL, RSRC_CONF,
        "PEM bundle of CA certificates for calls to provider endpoints"),
    AP_INIT_FLAG("OAuthSSLVerify", oac_cmd_ssl_verify, NULL, RSRC_CONF,
        "On (default): verify the TLS certificates of provider endpoints"),
    AP_INIT_TAKE1("OAuthApp", oac_cmd_app, NULL, ACCESS_CONF | OR_AUTHCFG,
        "The remote app whose token AuthType OAuth requires here"),
    AP_INIT_FLAG("OAuthForwardTokens", oac_cmd_forward_tokens, NULL,
        ACCESS_CONF | OR_AUTHCFG,
        "On: pass the app's token to the backend as X-OAuth-* headers and "
        "OAUTH_* variables"),
    AP_INIT_ITERATE("OAuthForwardClaims", oac_cmd_forward_claims, NULL,
        ACCESS_CONF | OR_AUTHCFG,
        "On, Off, or claim names: pass the user's claims to the backend as "
        "X-OAuth-Claim-NAME headers and OAUTH_CLAIM_NAME variables"),
    AP_INIT_TAKE12("OAuthProxyAPI", oac_cmd_proxy_api, NULL, ACCESS_CONF,
        "Proxies this location to the named app's api_base_url, with the "
        "session's token applied, or with client_credentials the app's "
        "own"),
    AP_INIT_TAKE_ARGV("OAuthSessionPassphrase", oac_cmd_session_passphrase,
        NULL, RSRC_CONF | OR_AUTHCFG,
        "Encrypts mod_session's session with AES-256-GCM under keys derived "
        "once: the first passphrase encrypts, every one listed decrypts"),
    AP_INIT_TAKE1("OAuthSessionPassphraseFile",
        oac_cmd_session_passphrase_file, NULL, RSRC_CONF | ACCESS_CONF,
        "File of passphrases for OAuthSessionPassphrase, one per line"),
    /* mod_session_cookie's own directives, also read here: httpd passes
     * them to both modules (mod_oauthclient_cookie.c says why) */
    AP_INIT_RAW_ARGS("SessionCookieName", oac_cmd_session_cookie_name, NULL,
        RSRC_CONF | OR_AUTHCFG,
        "The name of the RFC2109 cookie carrying the session"),
    AP_INIT_RAW_ARGS("SessionCookieName2", oac_cmd_session_cookie_name,
        NULL, RSRC_CONF | OR_AUTHCFG,
        "The name of the RFC2965 cookie carrying the session"),
    AP_INIT_FLAG("SessionCookieRemove", oac_cmd_session_cookie_remove, NULL,
        RSRC_CONF | OR_AUTHCFG,
        "Set to 'On' to remove the session cookie from the headers "
        "and hide the cookie from a backend server or process"),
    { NULL }
};

static int oac_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp)
{
    oac_config_pre_config(pconf);
    oac_claims_pre_config(pconf);
    oac_docs_pre_config(pconf);
    oac_cache_pre_config(pconf);
    oac_codec_pre_config();
    return OK;
}

/* The modules the declared apps depend on, named so the administrator
 * knows what to enable. */
static int check_dependencies(server_rec *main_s)
{
    server_rec *s;
    const char *where;
    int any_app = 0;

    for (s = main_s; s; s = s->next) {
        any_app |= oac_server_config(s)->apps->nelts > 0;
    }
    if (any_app && oac_session_available() && !oac_codec_registered()) {
        /* Works, but mod_session_cookie reads the session cookie instead
         * of the module's faster reader (mod_oauthclient_cookie.c). */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     OAC_LOGNO(00096) "mod_oauthclient was loaded before "
                     "mod_session, so it cannot hook into it: load it after "
                     "'LoadModule session_module'");
    }
    if (any_app && !oac_session_available()) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00051) "mod_oauthclient keeps tokens in "
                     "mod_session's session, and mod_session is not loaded: "
                     "a2enmod session session_cookie (or LoadModule "
                     "session_module and session_cookie_module)");
        return !OK;
    }
    if ((where = oac_config_proxy_api_ref())
        && (!ap_find_linked_module("mod_proxy.c")
            || !ap_find_linked_module("mod_proxy_http.c"))) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00052) "OAuthProxyAPI at %s hands requests "
                     "to mod_proxy, which is not loaded: a2enmod proxy "
                     "proxy_http", where);
        return !OK;
    }
    return OK;
}

static int oac_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *main_s)
{
    int codec_used;

    if (oac_config_check(pconf, ptemp, main_s) != OK
        || oac_codec_check_config(ptemp, &codec_used) != OK) {
        return !OK;
    }
    if (codec_used && !oac_session_available()) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00055) "OAuthSessionPassphrase encrypts "
                     "mod_session's session, and mod_session is not loaded: "
                     "a2enmod session session_cookie");
        return !OK;
    }
    if (codec_used && !oac_codec_registered()) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00095) "OAuthSessionPassphrase needs "
                     "mod_session loaded before mod_oauthclient: put 'LoadModule "
                     "oauthclient_module' after 'LoadModule session_module' "
                     "(Debian: the module's LoadModule line belongs in "
                     "mods-available/oauthclient.conf, which is read after "
                     "every .load file)");
        return !OK;
    }
    if (check_dependencies(main_s) != OK
        || oac_cache_check_config(main_s) != OK) {
        return !OK;
    }
    return oac_checks_run(ptemp, main_s);
}

static int oac_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *main_s)
{
    const char *why;
    if (oac_http_curl_global_init(&why) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, main_s, OAC_LOGNO(00053)
                     "libcurl cannot start: %s", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Before the children are forked, so they never repeat a nonce. */
    if (oac_util_nonce_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, main_s, OAC_LOGNO(00093)
                     "cannot register the fork handler that keeps nonces "
                     "unique");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    oac_counters_init(pconf, main_s);
    oac_cache_post_config(pconf, main_s);
    oac_docs_post_config(pconf, main_s);
    oac_claims_post_config();
    oac_session_post_config(pconf, main_s);
    return OK;
}

static int same_http_options(const oac_server_conf *a,
                             const oac_server_conf *b)
{
    return a->http_timeout == b->http_timeout && a->ssl_verify == b->ssl_verify
        && ((!a->ca_file && !b->ca_file)
            || (a->ca_file && b->ca_file && !strcmp(a->ca_file, b->ca_file)));
}

/* One HTTP client (with its kept-alive connections) per child and per
 * distinct set of OAuthHTTPTimeout / OAuthCAFile / OAuthSSLVerify. */
static void oac_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    oac_server_conf *main_sc = oac_server_config(main_s);
    server_rec *s;

    oac_cache_child_init(pchild, main_s);
    oac_codec_child_init(pchild);
    oac_docs_child_init(pchild, main_s);
    oac_api_child_init(pchild);
    oac_service_child_init(pchild);
    for (s = main_s; s; s = s->next) {
        oac_server_conf *sc = oac_server_config(s);
        oac_http_options_t opts;
        const char *why;

        if (s != main_s && same_http_options(sc, main_sc) && main_sc->http) {
            sc->http = main_sc->http;
            continue;
        }
        oac_http_options_init(&opts);
        opts.timeout = sc->http_timeout > 0 ? sc->http_timeout
                                            : OAC_HTTP_DEFAULT_TIMEOUT;
        opts.verify_tls = sc->ssl_verify != 0;
        opts.ca_file = sc->ca_file;
        opts.user_agent = "mod_oauthclient/" MOD_OAUTHCLIENT_VERSION;
        if (oac_http_curl_create(&sc->http, &why, pchild, &opts)
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAC_LOGNO(00054)
                         "no HTTP client for provider calls: %s", why);
        }
    }
}

/* Ordered before mod_proxy: a request the module answers (its own paths,
 * a prepared 401) must never reach upstream. */
static int oac_handler(request_rec *r)
{
    oac_request_t *rs;
    const oac_route_t *route;

    if (r->handler && !strcmp(r->handler, "oauthclient-status")) {
        return oac_status_handler(r);
    }
    if (r->handler && !strcmp(r->handler, "oauthclient-api")) {
        return oac_api_retry_handler(r);
    }
    if (r->main) {
        return DECLINED;
    }
    rs = ap_get_module_config(r->request_config, &oauthclient_module);
    if (rs && rs->status) {
        return oac_respond(r, rs->status, rs->content_type, rs->body);
    }
    if ((route = oac_route_find(r))) {
        return oac_flow_handle(r, route);
    }
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(oac_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(oac_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    static const char *const before_proxy[] = { "mod_proxy.c", NULL };
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };

    oac_body_register();
    oac_api_register();
    oac_session_register();
    oac_codec_register();
    oac_cookie_register();
    oac_dbd_register();
    oac_claims_register(p);
    ap_hook_post_config(oac_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(oac_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* After mod_rewrite's server-level rules, like mod_proxy's ProxyPass */
    ap_hook_translate_name(oac_translate_name, after_rewrite, before_proxy,
                           APR_HOOK_FIRST);
    ap_hook_map_to_storage(oac_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_read_request(oac_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(oac_check_user_id, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(oac_fixups, NULL, before_proxy, APR_HOOK_FIRST);
    ap_hook_handler(oac_handler, NULL, before_proxy, APR_HOOK_FIRST);
}

/* Not AP_DECLARE_MODULE, which says APLOG_USE_MODULE again: this file,
 * like every glue file, says it after its includes. */
module AP_MODULE_DECLARE_DATA oauthclient_module = {
    STANDARD20_MODULE_STUFF,
    oac_config_create_dir_conf,
    oac_config_merge_dir_conf,
    oac_config_create_server_conf,
    oac_config_merge_server_conf,
    oac_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
