/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Refreshing OAuth 2 tokens, once per token across processes
 * (mod_oauthclient_refresh.c).
 */
#ifndef MOD_OAUTHCLIENT_REFRESH_H
#define MOD_OAUTHCLIENT_REFRESH_H

#include "mod_oauthclient_session.h"

/* Refreshes *ptoken when it is about to expire; OK, or the status to
 * answer (HTTP_UNAUTHORIZED when the user must log in again). */
int oac_ensure_fresh_token(request_rec *r, session_rec *z,
                           const oac_app_t *app, oac_token_t **ptoken);

#endif
