/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Service tokens (contract section 11): the token an app gets for itself
 * with the client credentials grant, for `OAuthProxyAPI NAME
 * client_credentials` (mod_oauthclient_service.c).
 */
#ifndef MOD_OAUTHCLIENT_SERVICE_H
#define MOD_OAUTHCLIENT_SERVICE_H

#include "mod_oauthclient_config.h"

/*
 * The app's token: fetched once for the machine (every child process uses
 * that copy), renewed ahead of its expiry by the smaller of 60 s and a
 * tenth of its lifetime, by one request while the others keep using the
 * valid one; never used past its expiry. NULL with *pwhy when there is
 * none to be had.
 */
const oac_token_t *oac_service_token(request_rec *r, const oac_app_t *app,
                                     const char **pwhy);

/* The API refused the token (401, 403): the next request renews it,
 * unless that was done less than 30 s ago on the machine (then 0). */
int oac_service_token_refused(request_rec *r, const oac_app_t *app,
                              const oac_token_t *refused);

void oac_service_child_init(apr_pool_t *pchild);

#endif
