/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The configuration records (mod_oauthclient_config.c) and the state the
 * module keeps for a request.
 */
#ifndef MOD_OAUTHCLIENT_CONFIG_H
#define MOD_OAUTHCLIENT_CONFIG_H

#include "mod_oauthclient_private.h"

#include <apr_hash.h>
#if APR_HAS_THREADS
#include <apr_thread_mutex.h>
#endif

#include "oac_app.h"
#include "oac_codec.h"
#include "oac_http.h"
#include "oac_token.h"

/* A child process's lock between its threads, when it has one (NULL: its
 * creation failed, or the child runs one thread). Without thread support
 * m is not even looked at, so it may be a variable that does not exist. */
#if APR_HAS_THREADS
#define OAC_LOCK(m) do { if (m) apr_thread_mutex_lock(m); } while (0)
#define OAC_UNLOCK(m) do { if (m) apr_thread_mutex_unlock(m); } while (0)
#else
#define OAC_LOCK(m) ((void)0)
#define OAC_UNLOCK(m) ((void)0)
#endif

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

/* OAuthCache */
typedef enum {
    OAC_CACHE_UNSET = 0,        /* shm */
    OAC_CACHE_SHM,
    OAC_CACHE_MEMCACHE,
    OAC_CACHE_DBD
} oac_cache_kind_e;

typedef struct {
    apr_array_header_t *decls;  /* oac_app_decl_t*, in declaration order */
    apr_array_header_t *apps;   /* oac_app_t*, filled by check_config */
    apr_hash_t *apps_by_name;   /* name -> oac_app_t* */
    apr_hash_t *routes;         /* path -> oac_route_t* */
    apr_interval_time_t http_timeout;   /* -1 unset */
    const char *ca_file;
    int ssl_verify;             /* -1 unset */
    oac_http_client_t *http;    /* per child, made in child_init */
    oac_cache_kind_e cache_kind;
    const char *cache_spec;     /* as configured, for the log */
    const char *cache_where;    /* FILE:LINE of OAuthCache */
    void *cache_client;         /* memcache: per child, made in child_init */
    /* per child, written by its threads with atomics: when its failure
     * was last logged (oac_util_say_due), whether it failed last time */
    volatile apr_uint32_t cache_said_at;
    volatile apr_uint32_t cache_down;
    apr_array_header_t *dbd_statements; /* DBDPrepareSQL, as mod_dbd has */
} oac_server_conf;

typedef struct {
    const char *app;            /* OAuthApp */
    int forward_tokens;         /* OAuthForwardTokens, -1 unset */
    int forward_claims;         /* OAuthForwardClaims: -1 unset, 0 Off,
                                 * 1 On (all), 2 the names listed */
    apr_array_header_t *forward_claim_names;    /* const char * */
    const char *proxy_api;      /* OAuthProxyAPI */
    int proxy_api_service;      /* OAuthProxyAPI NAME client_credentials */
    const char *location;       /* the section OAuthProxyAPI was set in */
    oac_codec_t *codec;         /* OAuthSessionPassphrase(File) */
    struct {                    /* mod_session_cookie's, read alongside it */
        const char *name;       /* SessionCookieName */
        const char *name2;      /* SessionCookieName2 */
        int name_set, name2_set;
        int remove, remove_set; /* SessionCookieRemove */
    } cookie;
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
    /* OAuthProxyAPI NAME client_credentials: token is the app's own */
    int service;
    /* OAuthProxyAPI: what an attempt is built from, kept when a refusal
     * may be answered by sending the request once more (a service token
     * renewed, a DPoP nonce learnt); see api_retry_handler */
    struct {
        int possible;           /* nothing of the request would be lost */
        int retry;              /* the refusal was swallowed: send again */
        int in_handler;         /* oac_api_retry_handler runs mod_proxy */
        int attempts;
        const char *url;        /* before the token went in */
        const char *body;       /* a body read into memory, or NULL */
        apr_size_t len;
        int read_body;
        int form;               /* that body is the form the token, hooks
                                 * and OAuth 1 signature work on (else it
                                 * was read only to be sent again) */
        apr_table_t *headers_in;    /* the browser's headers stripped */
        const char *method;         /* the client's: a hook may change it */
        apr_table_t *err_headers_out;
        const char *content_type;
        const char *dpop_nonce;     /* the nonce the proof carried */
        const oac_token_t *renewed; /* the service token to retry with */
        const char *again_with;     /* what the next attempt has new */
    } api;
    /* The session was written: the cookie size filter is in place */
    int cookie_watched;
    /* A token refresh changed the session: 1 while that is its only
     * change, -1 when something else changed it too (after_refresh is
     * the session as the refresh left it) */
    int refresh_only;
    apr_table_t *after_refresh;
    /* In the request that keeps a chain's session (oac_session_keeper):
     * the session records the chain decoded and the codec each was
     * decoded with, or NULL for none (mod_oauthclient_codec.c) */
    apr_array_header_t *decoded;
} oac_request_t;

oac_server_conf *oac_server_config(const server_rec *s);
oac_dir_conf *oac_dir_config(const request_rec *r);
/* The request's state, made on first use. */
oac_request_t *oac_request_state(request_rec *r);
/* The app called name in r's virtual host; logged and NULL when there is
 * none (a name from an .htaccess file, which startup could not check). */
const oac_app_t *oac_find_app(request_rec *r, const char *name,
                              const char *directive);
apr_int64_t oac_now(void);
/* 1 while httpd reads its main configuration, 0 for .htaccess files. */
int oac_reading_main_config(void);
/* The next word of a section's arguments, unquoted, without the '>' that
 * closes an unquoted last one ("<Location /app>"). */
char *oac_section_word(apr_pool_t *p, const char **args);

/* The directives of this file (the command table is mod_oauthclient.c's) */
const char *oac_cmd_remote_app(cmd_parms *cmd, void *dconf,
                               const char *args);
const char *oac_cmd_http_timeout(cmd_parms *cmd, void *dconf,
                                 const char *arg);
const char *oac_cmd_ca_file(cmd_parms *cmd, void *dconf, const char *arg);
const char *oac_cmd_ssl_verify(cmd_parms *cmd, void *dconf, int on);
const char *oac_cmd_app(cmd_parms *cmd, void *dconf, const char *arg);
const char *oac_cmd_proxy_api(cmd_parms *cmd, void *dconf, const char *arg,
                              const char *grant);

/* The module record's parts */
void *oac_config_create_server_conf(apr_pool_t *p, server_rec *s);
void *oac_config_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
void *oac_config_create_dir_conf(apr_pool_t *p, char *dir);
void *oac_config_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

/* Before the configuration is read (each time it is). */
void oac_config_pre_config(apr_pool_t *pconf);
/* After: every declaration becomes an app of its virtual host, and every
 * OAuthApp / OAuthProxyAPI name must be one; !OK (logged) otherwise. */
int oac_config_check(apr_pool_t *pconf, apr_pool_t *ptemp,
                     server_rec *main_s);
/* Where an OAuthProxyAPI was set in the main configuration, or NULL. */
const char *oac_config_proxy_api_ref(void);

#endif
