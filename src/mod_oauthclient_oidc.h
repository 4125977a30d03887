/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OpenID Connect logins (contract section 9): the nonce sent, and the
 * id_token checked against the provider's keys (mod_oauthclient_oidc.c).
 */
#ifndef MOD_OAUTHCLIENT_OIDC_H
#define MOD_OAUTHCLIENT_OIDC_H

#include "mod_oauthclient_config.h"

#include <jansson.h>

/* The nonce of the login whose state is state: derived from it, so that
 * it needs no room of its own in the session and is as unguessable. */
const char *oac_oidc_nonce(apr_pool_t *p, const char *state);

/*
 * The verified claims of token's id_token for the login whose state was
 * state; NULL and *pwhy (which names the failed check, never the token)
 * otherwise. Keys come from the app's jwks_uri, kept an hour and fetched
 * again, at most once a minute, when an id_token names an unknown key.
 */
json_t *oac_oidc_check(request_rec *r, const oac_app_t *app,
                       const oac_token_t *token, const char *state,
                       const char **pwhy);

/*
 * The id_token of a refresh response (fresh's), checked as at login but
 * for the nonce, and as OpenID Connect Core 12.2 asks against previous,
 * the id_token the session holds: the same sub, iss, aud and azp,
 * auth_time when both have one, no nonce unless the login's. APR_SUCCESS;
 * APR_EAGAIN when it cannot be checked now for want of the provider's key
 * (none to be had, or an unknown kid not to be fetched again yet); any
 * other status when it fails a check. *pwhy then says why (never a token).
 */
apr_status_t oac_oidc_check_refreshed(request_rec *r, const oac_app_t *app,
                                      const oac_token_t *fresh,
                                      const char *previous,
                                      const char **pwhy);

#endif
