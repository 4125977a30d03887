/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Configuration: the per-server and per-directory records, every
 * directive, and the checks that turn OAuthRemoteApp declarations into
 * apps when the configuration has been read (check_config, which
 * 'apachectl configtest' runs).
 */
#include "mod_oauthclient_config.h"

#include "http_core.h"

#include <apr_lib.h>
#include <apr_strings.h>

#include "oac_form.h"

APLOG_USE_MODULE(oauthclient);

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

void *oac_config_create_server_conf(apr_pool_t *p, server_rec *s)
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

void *oac_config_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const oac_server_conf *base = basev, *add = addv, *cache_from;
    oac_server_conf *c = apr_pcalloc(p, sizeof(*c));
    int i;

    /* A virtual host sees every server-level app; declaring the same name
     * again overrides key by key. */
    /* A host that declares nothing shares the list (60 hosts copying 221
     * pointers each would cost more than the apps' own difference). */
    c->decls = add->decls->nelts ? apr_array_copy(p, base->decls)
                                 : base->decls;
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
    /* OAuthCache (mod_oauthclient_cache.c) */
    cache_from = add->cache_kind ? add : base;
    c->cache_kind = cache_from->cache_kind;
    c->cache_spec = cache_from->cache_spec;
    c->cache_where = cache_from->cache_where;
    /* As mod_dbd merges them: the main server's, then the host's own. */
    c->dbd_statements = !add->dbd_statements ? base->dbd_statements
                        : !base->dbd_statements ? add->dbd_statements
                        : apr_array_append(p, base->dbd_statements,
                                           add->dbd_statements);
    return c;
}

void *oac_config_create_dir_conf(apr_pool_t *p, char *dir)
{
    oac_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->forward_tokens = -1;
    c->forward_claims = -1;
    return c;
}

void *oac_config_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const oac_dir_conf *base = basev, *add = addv;
    oac_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->app = add->app ? add->app : base->app;
    c->forward_tokens = add->forward_tokens >= 0 ? add->forward_tokens
                                                 : base->forward_tokens;
    if (add->forward_claims >= 0) {
        c->forward_claims = add->forward_claims;
        c->forward_claim_names = add->forward_claim_names;
    }
    else {
        c->forward_claims = base->forward_claims;
        c->forward_claim_names = base->forward_claim_names;
    }
    c->proxy_api = add->proxy_api ? add->proxy_api : base->proxy_api;
    c->proxy_api_service = add->proxy_api ? add->proxy_api_service
                                          : base->proxy_api_service;
    /* The prefix OAuthProxyAPI maps goes with it: the section of any
     * other of the module's directives (OAuthForwardTokens in a nested
     * Location, SessionCookieName in a later one) is not it. */
    c->location = add->proxy_api ? add->location : base->location;
    c->codec = add->codec ? add->codec : base->codec;
    /* mod_session_cookie's merge, so both see the same cookie */
    c->cookie.name = add->cookie.name_set ? add->cookie.name
                                          : base->cookie.name;
    c->cookie.name_set = add->cookie.name_set || base->cookie.name_set;
    c->cookie.name2 = add->cookie.name2_set ? add->cookie.name2
                                            : base->cookie.name2;
    c->cookie.name2_set = add->cookie.name2_set || base->cookie.name2_set;
    c->cookie.remove = add->cookie.remove_set ? add->cookie.remove
                                              : base->cookie.remove;
    c->cookie.remove_set = add->cookie.remove_set
                           || base->cookie.remove_set;
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

const char *oac_cmd_remote_app(cmd_parms *cmd, void *dconf,
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
        const char *var = strstr(kv->value, "${");
        if (var) {
            /* httpd leaves an undefined ${VAR} as written (and only warns,
             * AH00111): the provider would get the text "${GH_ID}". The
             * variable's name is said, never the value around it. */
            return apr_psprintf(cmd->pool, "OAuthRemoteApp %s: %s holds "
                                "%.*s, which is not defined: define it "
                                "(Define, or the environment httpd starts "
                                "with, e.g. /etc/apache2/envvars)", name,
                                kv->name, (int)(strcspn(var, "}") + 1), var);
        }
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

const char *oac_cmd_http_timeout(cmd_parms *cmd, void *dconf,
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

const char *oac_cmd_ca_file(cmd_parms *cmd, void *dconf, const char *arg)
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

const char *oac_cmd_ssl_verify(cmd_parms *cmd, void *dconf, int on)
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

const char *oac_cmd_app(cmd_parms *cmd, void *dconf, const char *arg)
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

/* Whether a <Location> section's argument is a plain path prefix, read
 * as httpd reads it: not "~" and a pattern (quoted or not), nor a path
 * with wildcards. */
char *oac_section_word(apr_pool_t *p, const char **args)
{
    char *word = ap_getword_conf(p, args), *gt = strrchr(word, '>');

    if (gt && !gt[1]) {
        *gt = '\0';
    }
    return word;
}

static int location_is_prefix(apr_pool_t *p, const ap_directive_t *section)
{
    const char *args = section->args ? section->args : "";
    const char *path = oac_section_word(p, &args);

    return *path && strcmp(path, "~") && !strpbrk(path, "*?[");
}

const char *oac_cmd_proxy_api(cmd_parms *cmd, void *dconf, const char *arg,
                              const char *grant)
{
    oac_dir_conf *dc = dconf;
    if (grant && strcmp(grant, "client_credentials")) {
        return apr_psprintf(cmd->pool, "OAuthProxyAPI %s %s: the second "
                            "word can only be client_credentials (the "
                            "app's own token instead of the user's)", arg,
                            grant);
    }
    dc->proxy_api_service = grant != NULL;
    /* A path prefix, mapped onto api_base_url: a <LocationMatch>'s
     * pattern, a <Directory>, <Files> or <If> has none, and every request
     * there got 404. */
    if (!cmd->path || !cmd->directive->parent
        || strcasecmp(cmd->directive->parent->directive, "<Location")
        || !location_is_prefix(cmd->temp_pool, cmd->directive->parent)) {
        return "OAuthProxyAPI belongs in a <Location /prefix/> (not "
               "<LocationMatch>, <Location ~>, a path with wildcards, "
               "<Directory>, <Files> or <If>): the path prefix is what is "
               "mapped onto the app's api_base_url";
    }
    dc->location = cmd->path;
    if (!valid_app_name(arg)) {
        return apr_psprintf(cmd->pool, "%s '%s' is not a valid app name",
                            cmd->cmd->name, arg);
    }
    dc->proxy_api = arg;
    remember_app_ref(cmd, arg);
    return NULL;
}

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

/* The app of decl: the main server's when a virtual host inherits the
 * declaration unchanged (the merge copies its pointer), so that 60 virtual
 * hosts under 200 server-level apps hold 200 apps, not 12,000. */
static const oac_app_t *inherited_app(const oac_server_conf *main_sc, int i,
                                      const oac_app_decl_t *decl)
{
    if (main_sc && i < main_sc->decls->nelts
        && APR_ARRAY_IDX(main_sc->decls, i, oac_app_decl_t *) == decl) {
        return APR_ARRAY_IDX(main_sc->apps, i, const oac_app_t *);
    }
    return NULL;
}

/* A virtual host that declares nothing of its own shares the main
 * server's apps and routes outright. */
static int inherits_all(const oac_server_conf *sc,
                        const oac_server_conf *main_sc)
{
    int i;
    if (!main_sc || sc->decls->nelts != main_sc->decls->nelts) {
        return 0;
    }
    for (i = 0; i < sc->decls->nelts; ++i) {
        if (APR_ARRAY_IDX(sc->decls, i, oac_app_decl_t *)
            != APR_ARRAY_IDX(main_sc->decls, i, oac_app_decl_t *)) {
            return 0;
        }
    }
    return 1;
}

static int finalize_server_apps(apr_pool_t *pconf, apr_pool_t *ptemp,
                                server_rec *s, const oac_server_conf *main_sc)
{
    oac_server_conf *sc = oac_server_config(s);
    const char *why;
    int i;

    if (inherits_all(sc, main_sc)) {
        sc->apps = main_sc->apps;
        sc->apps_by_name = main_sc->apps_by_name;
        sc->routes = main_sc->routes;
        return OK;
    }
    sc->apps = apr_array_make(pconf, sc->decls->nelts + 1,
                              sizeof(oac_app_t *));
    sc->apps_by_name = apr_hash_make(pconf);
    for (i = 0; i < sc->decls->nelts; ++i) {
        const oac_app_decl_t *decl = APR_ARRAY_IDX(sc->decls, i,
                                                   oac_app_decl_t *);
        oac_app_t *app = (oac_app_t *)inherited_app(main_sc, i, decl);
        if (!app && oac_app_finalize(&app, &why, pconf, decl)
                    != APR_SUCCESS) {
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

void oac_config_pre_config(apr_pool_t *pconf)
{
    app_refs = apr_array_make(pconf, 8, sizeof(oac_app_ref));
    reading_main_config = 1;
}

int oac_config_check(apr_pool_t *pconf, apr_pool_t *ptemp,
                     server_rec *main_s)
{
    server_rec *s;

    reading_main_config = 0;
    /* DPoP keys made here outlive this reading: see oac_app.h */
    oac_app_keep_generated_keys(main_s->process->pool);
    for (s = main_s; s; s = s->next) {
        /* main_s first: the virtual hosts reuse what it finalized */
        if (finalize_server_apps(pconf, ptemp, s,
                                 s == main_s ? NULL
                                             : oac_server_config(main_s))
            != OK) {
            return !OK;
        }
    }
    return check_app_refs(ptemp, main_s);
}

const char *oac_config_proxy_api_ref(void)
{
    int i;

    for (i = 0; app_refs && i < app_refs->nelts; ++i) {
        const oac_app_ref *ref = &APR_ARRAY_IDX(app_refs, i, oac_app_ref);
        if (!strcmp(ref->directive, "OAuthProxyAPI")) {
            return ref->where;
        }
    }
    return NULL;
}
