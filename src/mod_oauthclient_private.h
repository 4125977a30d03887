/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * What the httpd glue files share. Glue only: this header includes httpd's,
 * so no src/oac_*.c file may include it.
 */
#ifndef MOD_OAUTHCLIENT_PRIVATE_H
#define MOD_OAUTHCLIENT_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include <apr_hash.h>

#include "oac_app.h"
#include "oac_http.h"
#include "oac_codec.h"
#include "oac_oauth1.h"
#include "oac_token.h"

/* The module's own log tags: httpd's AHnnnnn numbers belong to httpd. Each
 * number is used once and never reused; the next free one is noted in
 * mod_oauthclient.c. */
#define OAC_LOGNO(n) "OAC" #n ": "

extern module AP_MODULE_DECLARE_DATA oauthclient_module;
/* Every glue file logs as [oauthclient:...] and obeys LogLevel
 * oauthclient:...; without this, httpd files its lines under no module. */
APLOG_USE_MODULE(oauthclient);

typedef enum {
    OAC_ROUTE_LOGIN,
    OAC_ROUTE_CALLBACK,
    OAC_ROUTE_LOGOUT
} oac_route_e;

/* One of the paths the module answers itself. */
typedef struct {
    const oac_app_t *app;
    oac_route_e role;
} oac_route_t;

typedef struct {
    apr_array_header_t *decls;  /* oac_app_decl_t*, in declaration order */
    apr_array_header_t *apps;   /* oac_app_t*, filled by check_config */
    apr_hash_t *apps_by_name;   /* name -> oac_app_t* */
    apr_hash_t *routes;         /* path -> oac_route_t* */
    apr_interval_time_t http_timeout;   /* -1 unset */
    const char *ca_file;
    int ssl_verify;             /* -1 unset */
    oac_http_client_t *http;    /* per child, made in child_init */
} oac_server_conf;

typedef struct {
    const char *app;            /* OAuthApp */
    int forward_tokens;         /* OAuthForwardTokens, -1 unset */
    const char *proxy_api;      /* OAuthProxyAPI */
    const char *location;       /* the section OAuthProxyAPI was set in */
    oac_codec_t *codec;         /* OAuthSessionPassphrase(File) */
} oac_dir_conf;

/* What the early hooks decided for this request; the handler, ordered
 * before mod_proxy, emits a prepared response so that upstream never serves
 * a request the module answered. */
typedef struct {
    const oac_app_t *app;
    const oac_token_t *token;   /* the session's token, when authenticated */
    const char *user;
    int status;                 /* a prepared response, or 0 */
    const char *content_type;
    const char *body;
    /* OAuthProxyAPI: the upstream URL (before the token), for this app,
     * as joined when the request was claimed at translate time */
    const oac_app_t *api_app;
    const char *api_url;
    /* The module's own path this request is for, claimed at translate
     * time, or NULL */
    const oac_route_t *route;
    /* The status a compliance hook failed a provider call with, or 0 */
    int hook_status;
    /* OAuthProxyAPI: the client's headers before the token went in, for
     * an internal redirect (ErrorDocument) that shares the request's
     * header table and must not carry the token to its target */
    apr_table_t *client_headers_in;
} oac_request_t;

oac_server_conf *oac_server_config(const server_rec *s);
oac_dir_conf *oac_dir_config(const request_rec *r);
oac_request_t *oac_request_state(request_rec *r);
const oac_app_t *oac_find_app(request_rec *r, const char *name,
                              const char *directive);
apr_int64_t oac_now(void);
int oac_reading_main_config(void);

/* Session codec (mod_oauthclient_codec.c) */
int oac_codec_register_hooks(void);
void oac_codec_pre_config(void);
void oac_codec_child_init(apr_pool_t *pchild);
int oac_codec_check_config(apr_pool_t *ptemp, int *pused);
const char *oac_cmd_session_passphrase(cmd_parms *cmd, void *dconf,
                                       int argc, char *const argv[]);
const char *oac_cmd_session_passphrase_file(cmd_parms *cmd, void *dconf,
                                            const char *arg);

/* Session (mod_session_glue) */
int oac_session_available(void);
int oac_session_open(request_rec *r, void **psession);
const char *oac_session_get(request_rec *r, void *z, const oac_app_t *app,
                            const char *what);
void oac_session_set(request_rec *r, void *z, const oac_app_t *app,
                     const char *what, const char *value);
int oac_session_token(request_rec *r, void *z, const oac_app_t *app,
                      oac_token_t **ptoken, const char **puser);
apr_status_t oac_session_store_token(request_rec *r, void *z,
                                     const oac_app_t *app,
                                     const oac_token_t *token,
                                     const char *user, const char **perr);
void oac_session_forget(request_rec *r, void *z, const oac_app_t *app);

/* Flows (mod_oauthclient_flow.c) */
void oac_oauth1_creds(oac_oauth1_creds_t *c, const oac_app_t *app,
                      const char *token, const char *secret);
const oac_route_t *oac_route_find(request_rec *r);
int oac_flow_handle(request_rec *r, const oac_route_t *route);
int oac_respond(request_rec *r, int status, const char *content_type,
                const char *body);
int oac_error_page(request_rec *r, int status, const oac_app_t *app,
                   const char *title, const char *detail);
int oac_is_cross_site(request_rec *r);

/* Authentication, forwarding, API proxy (mod_oauthclient_auth.c) */
int oac_check_user_id(request_rec *r);
int oac_post_read_request(request_rec *r);
int oac_translate_name(request_rec *r);
int oac_map_to_storage(request_rec *r);
void oac_api_register(void);
int oac_fixups(request_rec *r);

/* Refresh (mod_oauthclient_refresh.c) */
apr_status_t oac_refresh_pre_config(apr_pool_t *pconf);
apr_status_t oac_refresh_post_config(apr_pool_t *pconf, server_rec *s);
void oac_refresh_child_init(apr_pool_t *pchild, server_rec *s);
int oac_ensure_fresh_token(request_rec *r, void *z, const oac_app_t *app,
                           oac_token_t **ptoken);

/* Request bodies (mod_oauthclient_body.c) */
#define OAC_BODY_MAX (1024 * 1024)
int oac_body_is_form(request_rec *r);
int oac_body_read(request_rec *r, apr_size_t max, char **pbuf,
                  apr_size_t *plen);
void oac_body_replace(request_rec *r, const char *buf, apr_size_t len);
void oac_body_register(void);

/* Compliance hooks (mod_oauthclient_hooks.c) */
typedef enum {
    OAC_CALL_ACCESS_TOKEN,
    OAC_CALL_REFRESH,
    OAC_CALL_OTHER      /* request token, userinfo: no hooks */
} oac_hook_call_e;
/* The client for a call to app's provider: traced at trace1, wrapped in
 * the compliance hooks that apply to call. */
oac_http_client_t *oac_hooked_client(request_rec *r, const oac_app_t *app,
                                     oac_hook_call_e call);
int oac_protected_request_hooked(void);

/* Tracing (mod_oauthclient_trace.c): inner itself when trace1 is off. */
oac_http_client_t *oac_traced_client(request_rec *r, const oac_app_t *app,
                                     oac_http_client_t *inner);
int oac_run_protected_request(request_rec *r, const oac_app_t *app,
                              const char **purl, const char **pbody,
                              apr_size_t *plen);

/* Counters (mod_oauthclient_status.c) */
typedef enum {
    OAC_CTR_LOGIN_STARTED = 0,
    OAC_CTR_LOGIN_COMPLETED,
    OAC_CTR_FAIL_PROVIDER_ERROR,
    OAC_CTR_FAIL_STATE,
    OAC_CTR_FAIL_TOKEN_ENDPOINT,
    OAC_CTR_FAIL_USERINFO,
    OAC_CTR_FAIL_OTHER,
    OAC_CTR_REFRESH,
    OAC_CTR_REFRESH_FAILED,
    OAC_CTR_API_PROXIED,
    OAC_CTR_LOGOUT,
    OAC_CTR_COUNT
} oac_counter_e;

apr_status_t oac_counters_init(apr_pool_t *pconf, server_rec *s);
void oac_count(const oac_app_t *app, oac_counter_e which);
int oac_status_handler(request_rec *r);

#endif
