/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * AuthType OAuth, forwarding to backends, OAuthProxyAPI
 * (mod_oauthclient_auth.c): the request-path hooks.
 */
#ifndef MOD_OAUTHCLIENT_AUTH_H
#define MOD_OAUTHCLIENT_AUTH_H

#include "mod_oauthclient_config.h"

int oac_post_read_request(request_rec *r);
int oac_translate_name(request_rec *r);
int oac_map_to_storage(request_rec *r);
int oac_check_user_id(request_rec *r);
int oac_fixups(request_rec *r);
void oac_api_register(void);
/* Per child: the DPoP nonces API servers ask for. */
void oac_api_child_init(apr_pool_t *pchild);
/* The handler of an OAuthProxyAPI request that may be sent once more */
int oac_api_retry_handler(request_rec *r);

#endif
