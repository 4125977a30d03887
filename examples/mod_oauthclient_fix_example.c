/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * An example compliance fix, built outside mod_oauthclient with only its
 * public header and apxs:
 *
 *   apxs -c -I/usr/include/apache2 mod_oauthclient_fix_example.c
 *
 * It does what Authlib's documented fix_protected_request example does: every
 * API request of the named apps gets an extra header and query parameter.
 * Because mod_oauthclient runs protected_request before it signs, OAuth 1
 * signatures cover both.
 *
 *   LoadModule oauthclient_fix_example_module modules/mod_oauthclient_fix_example.so
 *   OAuthFixExampleApps twitter github
 */
#include "httpd.h"
#include "http_config.h"

#include <apr_strings.h>

#include "mod_oauthclient.h"

module AP_MODULE_DECLARE_DATA oauthclient_fix_example_module;

typedef struct {
    apr_array_header_t *apps;
} fix_conf;

static void *create_conf(apr_pool_t *p, server_rec *s)
{
    fix_conf *c = apr_pcalloc(p, sizeof(*c));
    c->apps = apr_array_make(p, 2, sizeof(const char *));
    return c;
}

static const char *add_app(cmd_parms *cmd, void *dconf, const char *name)
{
    fix_conf *c = ap_get_module_config(cmd->server->module_config,
                                       &oauthclient_fix_example_module);
    APR_ARRAY_PUSH(c->apps, const char *) = name;
    return NULL;
}

static int listed(const fix_conf *c, const char *app)
{
    int i;
    for (i = 0; i < c->apps->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(c->apps, i, const char *), app)) {
            return 1;
        }
    }
    return 0;
}

static int fix_protected_request(request_rec *r, oauthclient_request_t *req)
{
    fix_conf *c = ap_get_module_config(r->server->module_config,
                                       &oauthclient_fix_example_module);
    if (!listed(c, req->app)) {
        return DECLINED;
    }
    apr_table_setn(req->headers, "X-Fix-Example", "fixed");
    req->url = apr_pstrcat(r->pool, req->url,
                           strchr(req->url, '?') ? "&" : "?",
                           "fix_example=1", NULL);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(oauthclient, protected_request, fix_protected_request,
                      NULL, NULL, APR_HOOK_MIDDLE);
}

static const command_rec cmds[] = {
    AP_INIT_ITERATE("OAuthFixExampleApps", add_app, NULL, RSRC_CONF,
                    "names of the apps whose API requests get the fix"),
    { NULL }
};

AP_DECLARE_MODULE(oauthclient_fix_example) = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL,
    create_conf, NULL,
    cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
