/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * server_metadata_url (contract section 9): the provider's metadata,
 * fetched when first needed and kept for an hour
 * (mod_oauthclient_discovery.c).
 */
#ifndef MOD_OAUTHCLIENT_DISCOVERY_H
#define MOD_OAUTHCLIENT_DISCOVERY_H

#include "mod_oauthclient_config.h"

void oac_discovery_child_init(apr_pool_t *pchild, server_rec *s);

/* GET url, one of app's provider documents (its key names it in *pwhy),
 * as JSON: the response when it answered 200, else NULL and *pwhy. */
const oac_http_response_t *oac_provider_document(request_rec *r,
                                                 const oac_app_t *app,
                                                 const char *key,
                                                 const char *url,
                                                 const char **pwhy);

/* The lock of what this child keeps of its providers (metadata here,
 * keys in mod_oauthclient_oidc.c), between its threads. */
void oac_child_lock(void);
void oac_child_unlock(void);

/*
 * app completed from its provider's metadata, or app itself when it has
 * no server_metadata_url. NULL, logged and *pwhy set, when no metadata
 * could be had: the caller answers 502.
 */
const oac_app_t *oac_discovered(request_rec *r, const oac_app_t *app,
                                const char **pwhy);

#endif
