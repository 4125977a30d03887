/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * A test module for the compliance hooks (not installed): for the app
 * named "hooktest" it rewrites camelCase token responses before they are
 * parsed, marks refresh calls, and registers three protected_request hooks
 * to show their order and that a declining hook changes nothing.
 */
#include "httpd.h"
#include "http_config.h"

#include <apr_strings.h>

#include "mod_oauthclient.h"

module AP_MODULE_DECLARE_DATA oac_hooktest_module;

static int mine(const char *app)
{
    return !strcmp(app, "hooktest");
}

/* accessToken -> access_token etc., in place, by plain text replacement:
 * enough for the provider's camel_case quirk. */
static const char *snake(apr_pool_t *p, const char *body, apr_size_t *plen)
{
    static const char *const pairs[][2] = {
        { "\"accessToken\"", "\"access_token\"" },
        { "\"refreshToken\"", "\"refresh_token\"" },
        { "\"expiresIn\"", "\"expires_in\"" },
        { "\"tokenType\"", "\"token_type\"" },
    };
    char *s = apr_pstrmemdup(p, body, *plen);
    apr_size_t i;
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); ++i) {
        char *hit = strstr(s, pairs[i][0]);
        if (hit) {
            *hit = '\0';
            s = apr_pstrcat(p, s, pairs[i][1], hit + strlen(pairs[i][0]),
                            NULL);
        }
    }
    *plen = strlen(s);
    return s;
}

static int token_response(request_rec *r, oauthclient_token_response_t *t)
{
    if (!mine(t->app)) {
        return DECLINED;
    }
    t->body = snake(r->pool, t->body, &t->body_len);
    return OK;
}

/* Marks the refresh call; for an API path below /deny-refresh/, fails
 * it with 403, as a fix that refuses to refresh would. */
static int refresh_request(request_rec *r, oauthclient_request_t *req)
{
    if (!mine(req->app)) {
        return DECLINED;
    }
    if (strstr(r->uri, "/deny-refresh/")) {
        return HTTP_FORBIDDEN;
    }
    apr_table_setn(req->headers, "X-Hooktest-Refresh", "seen");
    return OK;
}

static int order_append(request_rec *r, oauthclient_request_t *req,
                        const char *mark)
{
    const char *have = apr_table_get(req->headers, "X-Hooktest-Order");
    if (!mine(req->app)) {
        return DECLINED;
    }
    apr_table_set(req->headers, "X-Hooktest-Order",
                  apr_pstrcat(r->pool, have ? have : "", mark, NULL));
    return OK;
}

static int first(request_rec *r, oauthclient_request_t *req)
{
    return order_append(r, req, "first,");
}

static int second(request_rec *r, oauthclient_request_t *req)
{
    return order_append(r, req, "second");
}

static int declines(request_rec *r, oauthclient_request_t *req)
{
    /* A hook that declines must leave the request as it found it. */
    return DECLINED;
}

/* A LinkedIn-style fix: the API takes the token only in the query, so the
 * hook moves the Authorization header the module applied (Authlib's hook
 * sees the token applied too). Only when asked, so the order test above
 * still sees the header. */
static int move_token(request_rec *r, oauthclient_request_t *req)
{
    const char *auth = apr_table_get(req->headers, "Authorization");
    if (!mine(req->app) || !apr_table_get(req->headers, "X-Hooktest-Move")
        || !auth || strncmp(auth, "Bearer ", 7)) {
        return DECLINED;
    }
    req->url = apr_pstrcat(r->pool, req->url,
                           strchr(req->url, '?') ? "&" : "?",
                           "access_token=", auth + 7, NULL);
    if (!strcmp(apr_table_get(req->headers, "X-Hooktest-Move"), "replace")) {
        /* the same, by handing back a table of its own */
        req->headers = apr_table_copy(r->pool, req->headers);
    }
    apr_table_unset(req->headers, "Authorization");
    return OK;
}

/* A fix for an API that wants another method than the client's (an
 * X-HTTP-Method-Override style API, say): the method the request names. */
static int change_method(request_rec *r, oauthclient_request_t *req)
{
    const char *method = apr_table_get(req->headers, "X-Hooktest-Method");

    if (!mine(req->app) || !method) {
        return DECLINED;
    }
    req->method = method;
    return OK;
}

/* A careless fix, copying a value into the URL or a header without
 * encoding it: the module must refuse to send what it produced. */
static int careless(request_rec *r, oauthclient_request_t *req)
{
    const char *what = apr_table_get(req->headers, "X-Hooktest-Careless");

    if (!mine(req->app) || !what) {
        return DECLINED;
    }
    if (!strcmp(what, "url")) {
        req->url = apr_pstrcat(r->pool, req->url, "&q=a b HTTP/1.1", NULL);
    }
    else if (!strcmp(what, "header")) {
        apr_table_setn(req->headers, "X-Fixed", "a\r\nX-Evil: 1");
    }
    else if (!strcmp(what, "name")) {
        apr_table_setn(req->headers, "X-Fixed: 1\r\nX-Evil", "1");
    }
    return OK;
}

/* Adds a parameter to the revocation call, as a fix for a provider that
 * wants one would; when the logout request asks, it fails the call. */
static int revoke_request(request_rec *r, oauthclient_request_t *req)
{
    if (!mine(req->app)) {
        return DECLINED;
    }
    if (apr_table_get(r->headers_in, "X-Hooktest-Deny-Revoke")) {
        return HTTP_FORBIDDEN;
    }
    req->body = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, req->body,
                                                    req->body_len),
                            "&hooktest=1", NULL);
    req->body_len = strlen(req->body);
    return OK;
}

/* A fix that refuses every login of app hookdeny with 403: the browser
 * must get that status, not a 502. */
static int deny_login(request_rec *r, oauthclient_token_response_t *t)
{
    return strcmp(t->app, "hookdeny") ? DECLINED : HTTP_FORBIDDEN;
}

static void register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(oauthclient, protected_request, careless, NULL,
                      NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, protected_request, change_method, NULL,
                      NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, protected_request, move_token,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, access_token_response, deny_login,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, access_token_response, token_response,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, refresh_token_response, token_response,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, refresh_token_request, refresh_request,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, revoke_token_request, revoke_request,
                      NULL, NULL, APR_HOOK_MIDDLE);
    /* registered out of order on purpose: APR_HOOK_* decides */
    APR_OPTIONAL_HOOK(oauthclient, protected_request, second,
                      NULL, NULL, APR_HOOK_LAST);
    APR_OPTIONAL_HOOK(oauthclient, protected_request, declines,
                      NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(oauthclient, protected_request, first,
                      NULL, NULL, APR_HOOK_FIRST);
}

AP_DECLARE_MODULE(oac_hooktest) = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
