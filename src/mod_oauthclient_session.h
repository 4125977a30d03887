/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Token storage in mod_session's session (mod_oauthclient_session.c).
 */
#ifndef MOD_OAUTHCLIENT_SESSION_H
#define MOD_OAUTHCLIENT_SESSION_H

#include "mod_oauthclient_config.h"
#include "mod_session.h"

/* The output filter that keeps a session cookie browsers would drop from
 * being sent (registered once, at startup). */
void oac_session_register(void);
/* After the configuration is read: which app names stand for apps of
 * different clients or providers in different virtual hosts. */
void oac_session_post_config(apr_pool_t *pconf, server_rec *main_s);
/* 1 when mod_session is loaded (its optional functions are there). */
int oac_session_available(void);
/* The request's session; OK, or the status to answer (logged). */
int oac_session_open(request_rec *r, session_rec **pz);
const char *oac_session_get(request_rec *r, session_rec *z,
                            const oac_app_t *app, const char *what);
/* The session key beside an app's logins in flight that names the app
 * (its session_bind) that started them (mod_oauthclient_flow.c). */
#define OAC_PENDING_FOR "pending_for"
/* Seconds a login in flight may take at the provider; a session that
 * holds nothing else expires with it (mod_oauthclient_session.c). */
#define OAC_PENDING_LIFETIME 600

void oac_session_set(request_rec *r, session_rec *z, const oac_app_t *app,
                     const char *what, const char *value);
/* 1 when the login z keeps for app (if any) was made with app's client
 * and provider (oac_app_session_bind); 0, logged, when it was made with
 * another app of that name, or by an earlier version where apps of that
 * name differ between this server's virtual hosts. */
int oac_session_bound(request_rec *r, session_rec *z, const oac_app_t *app);
/* 1 when apps named name differ between this server's virtual hosts. */
int oac_session_name_ambiguous(const char *name);
/* 1 and the app's token and user (NULL when none was stored) when the
 * session holds a usable one, bound to app; 0 otherwise, also for a
 * damaged one. */
int oac_session_token(request_rec *r, session_rec *z, const oac_app_t *app,
                      oac_token_t **ptoken, const char **puser);
/* Stores the token and user; APR_EINVAL with *perr, storing nothing,
 * when a value could not be sent on safely (oac_token_check_sendable).
 * stored is token's oac_token_to_string when the caller has it already
 * (a refresh, whose result is shared as that string), else NULL. */
apr_status_t oac_session_store_token(request_rec *r, session_rec *z,
                                     const oac_app_t *app,
                                     const oac_token_t *token,
                                     const char *stored, const char *user,
                                     const char **perr);
void oac_session_forget(request_rec *r, session_rec *z, const oac_app_t *app);

/* Around a refresh's storing of its token in z: a save whose only change
 * was that keeps mod_session_dbd's session id (mod_oauthclient_session.c
 * says why and how "only" is judged). */
void oac_session_refresh_begin(request_rec *r, session_rec *z);
void oac_session_refresh_end(request_rec *r, session_rec *z);

#endif
