/*
 * mod_oauthclient: OAuth 1.0a and OAuth 2.0 client for Apache httpd.
 *
 * This file is the httpd glue: module record, directives, hooks. The
 * protocol lives in src/oac_*.c, which knows nothing of httpd.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_config.h"

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "mod_oauthclient.h"
#include "oac_app.h"
#include "oac_form.h"

/* The module's own log tags: httpd's AHnnnnn numbers belong to httpd. Each
 * number is used once and never reused. */
#define OAC_LOGNO(n) "OAC" #n ": "

#define OAC_STATUS_HANDLER "oauthclient-status"
#define OAC_DEFAULT_TIMEOUT apr_time_from_sec(10)

module AP_MODULE_DECLARE_DATA oauthclient_module;

typedef struct {
    apr_hash_t *decls;          /* name -> oac_app_decl_t*, as declared */
    apr_array_header_t *apps;   /* oac_app_t*, filled by check_config */
    apr_hash_t *apps_by_name;   /* name -> oac_app_t* */
    apr_interval_time_t http_timeout;   /* -1 unset */
    const char *ca_file;
    int ssl_verify;             /* -1 unset */
} oac_server_conf;

typedef struct {
    const char *app;            /* OAuthApp */
    int forward_tokens;         /* OAuthForwardTokens, -1 unset */
    const char *proxy_api;      /* OAuthProxyAPI */
    const char *location;       /* the section it was set in, for messages */
} oac_dir_conf;

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

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    oac_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->decls = apr_hash_make(p);
    c->http_timeout = -1;
    c->ssl_verify = -1;
    return c;
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const oac_server_conf *base = basev, *add = addv;
    oac_server_conf *c = apr_pcalloc(p, sizeof(*c));
    apr_hash_index_t *hi;

    /* A virtual host sees every server-level app; declaring the same name
     * again overrides key by key. */
    c->decls = apr_hash_copy(p, base->decls);
    for (hi = apr_hash_first(p, add->decls); hi; hi = apr_hash_next(hi)) {
        const char *name = apr_hash_this_key(hi);
        const oac_app_decl_t *decl = apr_hash_this_val(hi);
        const oac_app_decl_t *inherited = apr_hash_get(base->decls, name,
                                                       APR_HASH_KEY_STRING);
        apr_hash_set(c->decls, name, APR_HASH_KEY_STRING,
                     inherited ? oac_app_decl_merge(p, inherited, decl)
                               : decl);
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
    oac_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauthclient_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *name, *why;
    apr_array_header_t *pairs;
    oac_app_decl_t *decl;
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
    decl = apr_hash_get(sc->decls, name, APR_HASH_KEY_STRING);
    if (!decl) {
        decl = oac_app_decl_make(cmd->pool, name);
        apr_hash_set(sc->decls, decl->name, APR_HASH_KEY_STRING, decl);
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
    oac_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauthclient_module);
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
    oac_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauthclient_module);
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
    oac_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauthclient_module);
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

static int finalize_server_apps(apr_pool_t *pconf, apr_pool_t *ptemp,
                                server_rec *s)
{
    oac_server_conf *sc = ap_get_module_config(s->module_config,
                                               &oauthclient_module);
    apr_hash_index_t *hi;
    const char *why;

    sc->apps = apr_array_make(pconf, apr_hash_count(sc->decls) + 1,
                              sizeof(oac_app_t *));
    sc->apps_by_name = apr_hash_make(pconf);
    for (hi = apr_hash_first(ptemp, sc->decls); hi; hi = apr_hash_next(hi)) {
        const oac_app_decl_t *decl = apr_hash_this_val(hi);
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
    return OK;
}

static int server_has_app(server_rec *s, const char *name)
{
    oac_server_conf *sc = ap_get_module_config(s->module_config,
                                               &oauthclient_module);
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
    return OK;
}

static int oac_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *main_s)
{
    server_rec *s;
    reading_main_config = 0;
    for (s = main_s; s; s = s->next) {
        if (finalize_server_apps(pconf, ptemp, s) != OK) {
            return !OK;
        }
    }
    return check_app_refs(ptemp, main_s);
}

/* ------------------------------------------------------------------------
 * oauthclient-status: the apps this virtual host sees, with every setting
 * but the secret, so an administrator can check what inheritance and
 * overrides produced.
 */

static json_t *app_to_json(const oac_app_t *app)
{
    json_t *o = json_object();
    json_t *fixes = json_array();
    int i;

#define PUT_STR(k, v) \
    json_object_set_new(o, k, (v) ? json_string(v) : json_null())
    PUT_STR("name", app->name);
    json_object_set_new(o, "oauth_version",
                        json_string(app->version == OAC_OAUTH1 ? "1.0a"
                                                               : "2.0"));
    PUT_STR("client_id", app->client_id);
    json_object_set_new(o, "client_secret",
                        json_string(app->client_secret ? "(set)" : "(none)"));
    PUT_STR("request_token_url", app->request_token_url);
    PUT_STR("authorize_url", app->authorize_url);
    PUT_STR("access_token_url", app->access_token_url);
    PUT_STR("refresh_token_url",
            app->version == OAC_OAUTH2 ? app->refresh_token_url : NULL);
    PUT_STR("api_base_url", app->api_base_url);
    PUT_STR("scope", app->scope);
    PUT_STR("redirect_uri", app->redirect_uri);
    PUT_STR("login_path", app->login_path);
    PUT_STR("logout_path", app->logout_path);
    PUT_STR("userinfo_endpoint", app->userinfo_endpoint);
    PUT_STR("user_claim", app->user_claim);
    if (app->version == OAC_OAUTH2) {
        PUT_STR("code_challenge_method", app->pkce_s256 ? "S256" : NULL);
        PUT_STR("token_endpoint_auth_method",
                oac_app_client_auth_name(app->token_endpoint_auth_method));
        PUT_STR("token_placement",
                oac_app_placement_name(app->token_placement));
    }
    else {
        PUT_STR("signature_method",
                oac_app_sig_method_name(app->signature_method));
    }
#undef PUT_STR
    for (i = 0; i < app->compliance_fixes->nelts; ++i) {
        json_array_append_new(fixes, json_string(APR_ARRAY_IDX(
            app->compliance_fixes, i, const char *)));
    }
    json_object_set_new(o, "compliance_fix", fixes);
    return o;
}

static int json_to_brigade(const char *buf, size_t len, void *data)
{
    return ap_rwrite(buf, (int)len, data) < 0 ? -1 : 0;
}

static int status_handler(request_rec *r)
{
    oac_server_conf *sc;
    json_t *root, *apps;
    int i, as_json;

    if (!r->handler || strcmp(r->handler, OAC_STATUS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    sc = ap_get_module_config(r->server->module_config, &oauthclient_module);
    as_json = r->args && !strcmp(r->args, "json");

    root = json_object();
    apps = json_array();
    for (i = 0; i < sc->apps->nelts; ++i) {
        json_array_append_new(apps, app_to_json(
            APR_ARRAY_IDX(sc->apps, i, const oac_app_t *)));
    }
    json_object_set_new(root, "module", json_string("mod_oauthclient/"
                                                    MOD_OAUTHCLIENT_VERSION));
    json_object_set_new(root, "server", json_string(r->server->server_hostname
                                                    ? r->server->server_hostname
                                                    : ""));
    json_object_set_new(root, "apps", apps);

    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (as_json) {
        ap_set_content_type(r, "application/json");
        json_dump_callback(root, json_to_brigade, r,
                           JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        ap_rputs("\n", r);
    }
    else {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rprintf(r, "mod_oauthclient/%s on %s\n", MOD_OAUTHCLIENT_VERSION,
                   r->server->server_hostname ? r->server->server_hostname
                                              : "");
        for (i = 0; i < (int)json_array_size(apps); ++i) {
            json_t *app = json_array_get(apps, i);
            const char *key;
            json_t *val;
            ap_rprintf(r, "\n[%s]\n",
                       json_string_value(json_object_get(app, "name")));
            json_object_foreach(app, key, val) {
                char *text;
                if (json_is_null(val) || !strcmp(key, "name")) {
                    continue;
                }
                if (json_is_string(val)) {
                    ap_rprintf(r, "%s = %s\n", key, json_string_value(val));
                    continue;
                }
                text = json_dumps(val, JSON_COMPACT);
                ap_rprintf(r, "%s = %s\n", key, text ? text : "");
                free(text);
            }
        }
    }
    json_decref(root);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(oac_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(oac_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(status_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(oauthclient) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_server_conf,
    merge_server_conf,
    oac_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
