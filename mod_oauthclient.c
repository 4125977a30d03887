/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * mod_oauthclient: OAuth 1.0a and OAuth 2.0 client for Apache httpd.
 *
 * This file is the httpd glue: module record, directives, hooks. The
 * protocol lives in src/oac_*.c, which knows nothing of httpd.
 */
#include "mod_oauthclient_private.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_config.h"

#include <apr_lib.h>
#include <apr_strings.h>

#include "mod_oauthclient.h"
#include "oac_form.h"
#include "oac_http_curl.h"
#include "oac_util.h"

/* Log tags used: OAC00001-00003 here, 00010-00013 session, 00020-00023
 * flow, 00030-00037 auth and refresh, 00040 status, 00050-00055 here,
 * 00060-00065 refresh, 00070 body, 00080 hooks, 00090-00092 codec, 00093
 * here. Next free: 00094. */

/* Every OAuthApp / OAuthProxyAPI seen in the main config, so check_config
 * can tell the administrator about a name no app carries, instead of a 500
 * at the first request. Reset by pre_config: the config is read twice at
 * startup and again on each graceful restart. */
typedef struct {
    server_rec *s;
    const char *directive;
    const char *app;
    const char *where;
} oac_app_ref;

static apr_array_header_t *app_refs;
static int reading_main_config;

/* ------------------------------------------------------------------------
 * Configuration records
 */

oac_server_conf *oac_server_config(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &oauthclient_module);
}

oac_dir_conf *oac_dir_config(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &oauthclient_module);
}

oac_request_t *oac_request_state(request_rec *r)
{
    oac_request_t *rs = ap_get_module_config(r->request_config,
                                             &oauthclient_module);
    if (!rs) {
        rs = apr_pcalloc(r->pool, sizeof(*rs));
        ap_set_module_config(r->request_config, &oauthclient_module, rs);
    }
    return rs;
}

/* An OAuthApp / OAuthProxyAPI name that startup could not check (from an
 * .htaccess file) and that this virtual host does not have: 500, and the
 * log says where. */
const oac_app_t *oac_find_app(request_rec *r, const char *name,
                              const char *directive)
{
    oac_server_conf *sc = oac_server_config(r->server);
    const oac_app_t *app = apr_hash_get(sc->apps_by_name, name,
                                        APR_HASH_KEY_STRING);
    if (!app) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00050)
                      "%s %s (for %s): this virtual host has no app named "
                      "'%s'; declare it with OAuthRemoteApp", directive, name,
                      r->uri, name);
    }
    return app;
}

int oac_reading_main_config(void)
{
    return reading_main_config;
}

apr_int64_t oac_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    oac_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->decls = apr_array_make(p, 4, sizeof(oac_app_decl_t *));
    c->http_timeout = -1;
    c->ssl_verify = -1;
    return c;
}

/* Apps are kept in declaration order, so every check and message comes
 * out the same on every start. */
static oac_app_decl_t **find_decl(const apr_array_header_t *decls,
                                  const char *name)
{
    int i;
    for (i = 0; i < decls->nelts; ++i) {
        oac_app_decl_t **d = &APR_ARRAY_IDX(decls, i, oac_app_decl_t *);
        if (!strcmp((*d)->name, name)) {
            return d;
        }
    }
    return NULL;
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const oac_server_conf *base = basev, *add = addv;
    oac_server_conf *c = apr_pcalloc(p, sizeof(*c));
    int i;

    /* A virtual host sees every server-level app; declaring the same name
     * again overrides key by key. */
    c->decls = apr_array_copy(p, base->decls);
    for (i = 0; i < add->decls->nelts; ++i) {
        oac_app_decl_t *decl = APR_ARRAY_IDX(add->decls, i, oac_app_decl_t *);
        oac_app_decl_t **inherited = find_decl(c->decls, decl->name);
        if (inherited) {
            *inherited = oac_app_decl_merge(p, *inherited, decl);
        }
        else {
            APR_ARRAY_PUSH(c->decls, oac_app_decl_t *) = decl;
        }
    }
    c->http_timeout = add->http_timeout >= 0 ? add->http_timeout
                                             : base->http_timeout;
    c->ca_file = add->ca_file ? add->ca_file : base->ca_file;
    c->ssl_verify = add->ssl_verify >= 0 ? add->ssl_verify : base->ssl_verify;
    return c;
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    oac_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->forward_tokens = -1;
    c->location = dir;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const oac_dir_conf *base = basev, *add = addv;
    oac_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->app = add->app ? add->app : base->app;
    c->forward_tokens = add->forward_tokens >= 0 ? add->forward_tokens
                                                 : base->forward_tokens;
    c->proxy_api = add->proxy_api ? add->proxy_api : base->proxy_api;
    c->location = add->location ? add->location : base->location;
    c->codec = add->codec ? add->codec : base->codec;
    return c;
}

static const char *cmd_where(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

/* ------------------------------------------------------------------------
 * Directives
 */

static int valid_app_name(const char *name)
{
    const char *c;
    for (c = name; *c; ++c) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-' && *c != '.') {
            return 0;
        }
    }
    return *name && *name != '.';
}

static const char *cmd_remote_app(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *name, *why;
    apr_array_header_t *pairs;
    oac_app_decl_t *decl, **pdecl;
    int i;

    if (err) {
        return err;
    }
    name = ap_getword_conf(cmd->temp_pool, &args);
    if (!*name) {
        return "OAuthRemoteApp needs a name and key=value pairs, e.g. "
               "OAuthRemoteApp github client_id=... client_secret=... "
               "authorize_url=... access_token_url=...";
    }
    if (!valid_app_name(name)) {
        return apr_psprintf(cmd->pool, "OAuthRemoteApp '%s': a name may hold "
                            "only letters, digits, '-', '_' and '.' (it is "
                            "used in URL paths and session keys)", name);
    }
    if (oac_app_tokenize(&pairs, &why, cmd->temp_pool, args) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "OAuthRemoteApp %s: %s", name, why);
    }
    if ((pdecl = find_decl(sc->decls, name))) {
        decl = *pdecl;
    }
    else {
        decl = oac_app_decl_make(cmd->pool, name);
        APR_ARRAY_PUSH(sc->decls, oac_app_decl_t *) = decl;
    }
    decl->where = cmd_where(cmd);
    for (i = 0; i < pairs->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(pairs, i, oac_param_t);
        if (oac_app_decl_set(&why, cmd->pool, decl,
                             apr_pstrdup(cmd->pool, kv->name),
                             apr_pstrdup(cmd->pool, kv->value))
            != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "OAuthRemoteApp %s: %s", name,
                                why);
        }
    }
    return NULL;
}

static const char *cmd_http_timeout(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    char *end;
    apr_int64_t secs = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || secs < 1 || secs > 3600) {
        return apr_psprintf(cmd->pool, "OAuthHTTPTimeout '%s': give a whole "
                            "number of seconds between 1 and 3600", arg);
    }
    sc->http_timeout = apr_time_from_sec(secs);
    return NULL;
}

static const char *cmd_ca_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool)
                     != APR_SUCCESS || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "OAuthCAFile '%s' is not a readable "
                            "file; give a PEM bundle of CA certificates",
                            arg);
    }
    sc->ca_file = path;
    return NULL;
}

static const char *cmd_ssl_verify(cmd_parms *cmd, void *dconf, int on)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    sc->ssl_verify = on;
    return NULL;
}

static void remember_app_ref(cmd_parms *cmd, const char *app)
{
    oac_app_ref *ref;
    /* .htaccess files are read per request, long after check_config:
     * those names are checked when the request comes. */
    if (!reading_main_config) {
        return;
    }
    ref = apr_array_push(app_refs);
    ref->s = cmd->server;
    ref->directive = cmd->cmd->name;
    ref->app = app;
    ref->where = apr_psprintf(cmd->pool, "%s (in <%s>)", cmd_where(cmd),
                              cmd->path ? cmd->path : "server config");
}

static const char *cmd_app(cmd_parms *cmd, void *dconf, const char *arg)
{
    oac_dir_conf *dc = dconf;
    if (!valid_app_name(arg)) {
        return apr_psprintf(cmd->pool, "%s '%s' is not a valid app name",
                            cmd->cmd->name, arg);
    }
    dc->app = arg;
    remember_app_ref(cmd, arg);
    return NULL;
}

static const char *cmd_proxy_api(cmd_parms *cmd, void *dconf, const char *arg)
{
    oac_dir_conf *dc = dconf;
    if (!cmd->path) {
        return "OAuthProxyAPI belongs in a <Location> (the path prefix that "
               "is mapped onto the app's api_base_url)";
    }
    if (!valid_app_name(arg)) {
        return apr_psprintf(cmd->pool, "%s '%s' is not a valid app name",
                            cmd->cmd->name, arg);
    }
    dc->proxy_api = arg;
    remember_app_ref(cmd, arg);
    return NULL;
}

static const command_rec oac_cmds[] = {
    AP_INIT_RAW_ARGS("OAuthRemoteApp", cmd_remote_app, NULL, RSRC_CONF,
        "Declares a remote OAuth app: NAME key=value ... (keys as in "
        "Authlib's oauth.register)"),
    AP_INIT_TAKE1("OAuthHTTPTimeout", cmd_http_timeout, NULL, RSRC_CONF,
        "Seconds allowed for each call to a provider endpoint (default 10)"),
    AP_INIT_TAKE1("OAuthCAFile", cmd_ca_file, NULL, RSRC_CONF,
        "PEM bundle of CA certificates for calls to provider endpoints"),
    AP_INIT_FLAG("OAuthSSLVerify", cmd_ssl_verify, NULL, RSRC_CONF,
        "On (default): verify the TLS certificates of provider endpoints"),
    AP_INIT_TAKE1("OAuthApp", cmd_app, NULL, ACCESS_CONF | OR_AUTHCFG,
        "The remote app whose token AuthType OAuth requires here"),
    AP_INIT_FLAG("OAuthForwardTokens", ap_set_flag_slot,
        (void *)APR_OFFSETOF(oac_dir_conf, forward_tokens),
        ACCESS_CONF | OR_AUTHCFG,
        "On: pass the app's token to the backend as X-OAuth-* headers and "
        "OAUTH_* variables"),
    AP_INIT_TAKE1("OAuthProxyAPI", cmd_proxy_api, NULL, ACCESS_CONF,
        "Proxies this location to the named app's api_base_url, with the "
        "session's token applied"),
    AP_INIT_TAKE_ARGV("OAuthSessionPassphrase", oac_cmd_session_passphrase,
        NULL, RSRC_CONF | OR_AUTHCFG,
        "Encrypts mod_session's session with AES-256-GCM under keys derived "
        "once: the first passphrase encrypts, every one listed decrypts"),
    AP_INIT_TAKE1("OAuthSessionPassphraseFile",
        oac_cmd_session_passphrase_file, NULL, RSRC_CONF | ACCESS_CONF,
        "File of passphrases for OAuthSessionPassphrase, one per line"),
    { NULL }
};

/* ------------------------------------------------------------------------
 * Startup checks. check_config, not post_config: 'apachectl configtest'
 * runs only the former, and a broken app must fail the configtest.
 */

static const char *server_label(apr_pool_t *p, const server_rec *s)
{
    if (!s->is_virtual) {
        return "the main server";
    }
    return apr_psprintf(p, "virtual host %s (%s:%u)",
                        s->server_hostname ? s->server_hostname : "?",
                        s->defn_name ? s->defn_name : "?", s->defn_line_number);
}

static void add_route(apr_pool_t *p, apr_hash_t *routes, const char *path,
                      const oac_app_t *app, oac_route_e role)
{
    oac_route_t *route = apr_palloc(p, sizeof(*route));
    route->app = app;
    route->role = role;
    apr_hash_set(routes, path, APR_HASH_KEY_STRING, route);
}

/* The paths the module answers in this virtual host, looked up once per
 * request by exact match. */
static void add_routes(apr_pool_t *p, oac_server_conf *sc)
{
    int i;
    sc->routes = apr_hash_make(p);
    for (i = 0; i < sc->apps->nelts; ++i) {
        const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i, const oac_app_t *);
        add_route(p, sc->routes, app->login_path, app, OAC_ROUTE_LOGIN);
        add_route(p, sc->routes, app->redirect_path, app, OAC_ROUTE_CALLBACK);
        add_route(p, sc->routes, app->logout_path, app, OAC_ROUTE_LOGOUT);
    }
}

static int finalize_server_apps(apr_pool_t *pconf, apr_pool_t *ptemp,
                                server_rec *s)
{
    oac_server_conf *sc = oac_server_config(s);
    const char *why;
    int i;

    sc->apps = apr_array_make(pconf, sc->decls->nelts + 1,
                              sizeof(oac_app_t *));
    sc->apps_by_name = apr_hash_make(pconf);
    for (i = 0; i < sc->decls->nelts; ++i) {
        const oac_app_decl_t *decl = APR_ARRAY_IDX(sc->decls, i,
                                                   oac_app_decl_t *);
        oac_app_t *app;
        if (oac_app_finalize(&app, &why, pconf, decl) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         OAC_LOGNO(00001) "OAuthRemoteApp %s: %s "
                         "(declared at %s, as seen by %s)", decl->name, why,
                         decl->where, server_label(ptemp, s));
            return !OK;
        }
        APR_ARRAY_PUSH(sc->apps, oac_app_t *) = app;
        apr_hash_set(sc->apps_by_name, app->name, APR_HASH_KEY_STRING, app);
    }
    if (oac_app_check_set(&why, ptemp, sc->apps) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00002) "%s (in %s)", why,
                     server_label(ptemp, s));
        return !OK;
    }
    add_routes(pconf, sc);
    return OK;
}

static int server_has_app(server_rec *s, const char *name)
{
    oac_server_conf *sc = oac_server_config(s);
    return apr_hash_get(sc->apps_by_name, name, APR_HASH_KEY_STRING) != NULL;
}

/* A reference made in the main server's sections applies in every virtual
 * host too (they inherit those sections), so it must resolve in each. */
static int check_app_refs(apr_pool_t *ptemp, server_rec *main_s)
{
    int i;
    for (i = 0; app_refs && i < app_refs->nelts; ++i) {
        const oac_app_ref *ref = &APR_ARRAY_IDX(app_refs, i, oac_app_ref);
        server_rec *s;
        for (s = ref->s->is_virtual ? ref->s : main_s; s;
             s = ref->s->is_virtual ? NULL : s->next) {
            if (!server_has_app(s, ref->app)) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                             OAC_LOGNO(00003) "%s %s at %s: %s has no app "
                             "named '%s'; declare it with OAuthRemoteApp %s "
                             "...", ref->directive, ref->app, ref->where,
                             server_label(ptemp, s), ref->app, ref->app);
                return !OK;
            }
        }
    }
    return OK;
}

static int oac_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp)
{
    app_refs = apr_array_make(pconf, 8, sizeof(oac_app_ref));
    reading_main_config = 1;
    oac_refresh_pre_config(pconf);
    oac_codec_register_hooks();
    oac_codec_pre_config();
    return OK;
}

/* The modules the declared apps depend on, named so the administrator
 * knows what to enable. */
static int check_dependencies(server_rec *main_s)
{
    server_rec *s;
    int i, any_app = 0;

    for (s = main_s; s; s = s->next) {
        any_app |= oac_server_config(s)->apps->nelts > 0;
    }
    if (any_app && !oac_session_available()) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     OAC_LOGNO(00051) "mod_oauthclient keeps tokens in "
                     "mod_session's session, and mod_session is not loaded: "
                     "a2enmod session session_cookie (or LoadModule "
                     "session_module and session_cookie_module)");
        return !OK;
    }
    for (i = 0; app_refs && i < app_refs->nelts; ++i) {
        const oac_app_ref *ref = &APR_ARRAY_IDX(app_refs, i, oac_app_ref);
        if (strcmp(ref->directive, "OAuthProxyAPI")) {
            continue;
        }
        if (!ap_find_linked_module("mod_proxy.c")
            || !ap_find_linked_module("mod_proxy_http.c")) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         OAC_LOGNO(00052) "OAuthProxyAPI at %s hands requests "
                         "to mod_proxy, which is not loaded: a2enmod proxy "
                         "proxy_http", ref->where);
            return !OK;
        }
    }
    return OK;
}

static int oac_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *main_s)
{
    server_rec *s;
    int codec_used;
    reading_main_config = 0;
    for (s = main_s; s; s = s->next) {
        if (finalize_server_apps(pconf, ptemp, s) != OK) {
            return !OK;
        }
    }
    if (check_app_refs(ptemp, main_s) != OK
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
    return check_dependencies(main_s);
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
    oac_refresh_post_config(pconf, main_s);
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

    oac_refresh_child_init(pchild, main_s);
    oac_codec_child_init(pchild);
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

/* Not AP_DECLARE_MODULE: mod_oauthclient_private.h already says
 * APLOG_USE_MODULE(oauthclient) for every glue file, this one included. */
module AP_MODULE_DECLARE_DATA oauthclient_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_server_conf,
    merge_server_conf,
    oac_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
