/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_userinfo: who logged in. From the userinfo endpoint when the app
 * names one (fetched with the new token: Bearer for OAuth 2, a signed
 * request for OAuth 1), else from the token response's own fields
 * (Twitter's screen_name).
 */
#ifndef OAC_USERINFO_H
#define OAC_USERINFO_H

#include <apr_pools.h>

#include <jansson.h>

#include "oac_app.h"
#include "oac_http.h"
#include "oac_token.h"

/*
 * *puser: the app's user_claim, a string or an integer (as its decimal
 * text); NULL when the app has no user_claim (the caller names the user
 * after the app). A claim that is missing, empty, or of another JSON type
 * is an error, never a made-up name. Errors (APR_EGENERAL) say what failed
 * in *perr: the endpoint's URL without its query, its HTTP status, never
 * a token or a value from the answer.
 *
 * id_claims: an OpenID Connect login's verified id_token claims, or NULL.
 * The user is then the claim user_claim (default sub) of userinfo merged
 * over them, and userinfo's sub must be the id_token's.
 *
 * pclaims (may be NULL): on success, what is known of the user: id_claims
 * with userinfo's answer merged over them, or userinfo's answer alone; NULL
 * when neither is there (or userinfo answered no JSON object). Owned by p.
 */
apr_status_t oac_userinfo_user(const char **puser, const char **perr,
                               apr_pool_t *p, oac_http_client_t *http,
                               const oac_app_t *app,
                               const oac_token_t *token,
                               const json_t *id_claims, json_t **pclaims);

#endif /* OAC_USERINFO_H */
