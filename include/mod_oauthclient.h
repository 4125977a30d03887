/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * mod_oauthclient public interface: compliance hooks for other modules.
 *
 * Like Authlib's register_compliance_hook, another module can see and
 * rewrite what mod_oauthclient exchanges with a provider. The hooks are APR
 * *optional* hooks: a module built separately, with only this header and
 * apxs, registers them without linking against mod_oauthclient, and they
 * simply never run if mod_oauthclient is not loaded.
 *
 *   static int my_fix(request_rec *r, oauthclient_request_t *req)
 *   {
 *       if (strcmp(req->app, "linkedin")) {
 *           return DECLINED;
 *       }
 *       apr_table_setn(req->headers, "X-Restli-Protocol-Version", "2.0.0");
 *       return OK;
 *   }
 *   static void register_hooks(apr_pool_t *p)
 *   {
 *       APR_OPTIONAL_HOOK(oauthclient, protected_request, my_fix,
 *                         NULL, NULL, APR_HOOK_MIDDLE);
 *   }
 *
 * Every hook is told the app name and the request (r) that caused the call.
 * Hooks run in registration order (APR_HOOK_* orders them first); each may
 * return DECLINED (not for me) or OK (done, possibly after rewriting), and
 * every hook runs. Any other value (an HTTP status) stops the chain and
 * fails the operation: the login, refresh or API call gets that status.
 * Strings a hook sets must live in r->pool.
 */
#ifndef MOD_OAUTHCLIENT_H
#define MOD_OAUTHCLIENT_H

#include "httpd.h"
#include "apr_optional_hooks.h"

#define MOD_OAUTHCLIENT_VERSION "0.1.0"

/* Linkage for the hook declarations below (APR's external-hook macros
 * expect NAMESPACE_DECLARE); optional hooks need no exported symbol. */
#ifndef OAUTHCLIENT_DECLARE
#define OAUTHCLIENT_DECLARE(type) type
#define OAUTHCLIENT_DECLARE_NONSTD(type) type
#define OAUTHCLIENT_DECLARE_DATA
#endif

/* A response from a token endpoint, before it is parsed. */
typedef struct {
    const char *app;            /* the app's name */
    int status;                 /* HTTP status */
    const char *content_type;   /* may be NULL */
    const char *body;           /* need not be NUL-terminated */
    apr_size_t body_len;
    apr_table_t *headers;       /* response headers */
} oauthclient_token_response_t;

/* A request about to be sent: a refresh call to the token endpoint, a
 * revocation call, or an API call through OAuthProxyAPI. For OAuth 2 the token is already
 * applied (as in Authlib: the hook may move it, e.g. into a query
 * parameter); for OAuth 1 the request is signed after the hook, so the
 * signature covers the changes. */
typedef struct {
    const char *app;            /* the app's name */
    const char *method;         /* may be replaced (an HTTP token) */
    const char *url;            /* absolute, with query; may be replaced */
    apr_table_t *headers;       /* request headers to send; may be edited
                                 * or replaced by a table of the hook's */
    const char *content_type;   /* of the body, or NULL */
    const char *body;           /* NULL when the body is streamed as is
                                 * (API calls with a body that is not a
                                 * form); then it cannot be rewritten */
    apr_size_t body_len;
} oauthclient_request_t;

/* The authorization-code exchange's answer (Authlib: access_token_response). */
APR_DECLARE_EXTERNAL_HOOK(oauthclient, OAUTHCLIENT, int, access_token_response,
                          (request_rec *r, oauthclient_token_response_t *resp))
/* A refresh call before it is sent (Authlib: refresh_token_request). */
APR_DECLARE_EXTERNAL_HOOK(oauthclient, OAUTHCLIENT, int, refresh_token_request,
                          (request_rec *r, oauthclient_request_t *req))
/* A refresh call's answer (Authlib: refresh_token_response). */
APR_DECLARE_EXTERNAL_HOOK(oauthclient, OAUTHCLIENT, int, refresh_token_response,
                          (request_rec *r, oauthclient_token_response_t *resp))
/* A revocation call (RFC 7009) at logout before it is sent, one per token
 * revoked (Authlib: revoke_token_request). A failure stops that call and
 * its status is the logout's answer; the user is logged out all the
 * same. */
APR_DECLARE_EXTERNAL_HOOK(oauthclient, OAUTHCLIENT, int, revoke_token_request,
                          (request_rec *r, oauthclient_request_t *req))
/* An API call through OAuthProxyAPI (Authlib: protected_request). */
APR_DECLARE_EXTERNAL_HOOK(oauthclient, OAUTHCLIENT, int, protected_request,
                          (request_rec *r, oauthclient_request_t *req))

#endif
