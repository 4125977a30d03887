/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Claims about the user (contract section 9): kept in the session at
 * login, checked by 'Require oauth-claim', passed on by OAuthForwardClaims
 * (mod_oauthclient_claims.c; the rules themselves are src/oac_claims.c's).
 */
#ifndef MOD_OAUTHCLIENT_CLAIMS_H
#define MOD_OAUTHCLIENT_CLAIMS_H

#include "mod_oauthclient_config.h"
#include "mod_session.h"

#include <jansson.h>

/* Forgets what the previous configuration asked to keep. */
void oac_claims_pre_config(apr_pool_t *pconf);
/* Once the configuration is read (in the parent). */
void oac_claims_post_config(void);
/* Registers the 'oauth-claim' authorization provider. */
void oac_claims_register(apr_pool_t *p);

const char *oac_cmd_forward_claims(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *oac_cmd_forward_tokens(cmd_parms *cmd, void *dconf, int on);

/*
 * At login: keeps in z the claims (may be NULL) that a Require line or
 * OAuthForwardClaims of the configuration names, and, for an OpenID
 * Connect app, the id_token when logout or OAuthForwardTokens will want
 * it; removes what an earlier login left.
 */
void oac_claims_store(request_rec *r, session_rec *z, const oac_app_t *app,
                      const json_t *claims, const char *id_token);

/* After a refresh whose id_token (checked) replaces previous, the login's
 * (or the last refresh's): the session's claims follow it, as
 * oac_claims_renewed says. */
void oac_claims_renew(request_rec *r, session_rec *z, const oac_app_t *app,
                      const char *previous, const char *id_token);

/* 0 when the session's claims for app were kept for another
 * configuration than this one (a rule was added since): its token is not
 * to be used, and the user logs in again. */
int oac_claims_current(request_rec *r, session_rec *z, const oac_app_t *app);

/* X-OAuth-Claim-* / OAUTH_CLAIM_* for an authenticated request, as the
 * location's OAuthForwardClaims says. */
void oac_claims_forward(request_rec *r, const oac_dir_conf *dc,
                        const oac_request_t *rs);
/* X-OAuth-Id-Token / OAUTH_ID_TOKEN, with OAuthForwardTokens On. */
void oac_claims_forward_id_token(request_rec *r, const oac_request_t *rs);

#endif
