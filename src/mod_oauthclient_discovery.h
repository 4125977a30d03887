/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Discovery (contract section 9): an OAuth 2 app with server_metadata_url
 * completed from the provider's metadata (mod_oauthclient_discovery.c).
 */
#ifndef MOD_OAUTHCLIENT_DISCOVERY_H
#define MOD_OAUTHCLIENT_DISCOVERY_H

#include "mod_oauthclient_config.h"

/*
 * app itself when it has no server_metadata_url; else a copy completed
 * from the metadata (fetched on first need, kept an hour, shared by the
 * child processes), the last good one while a new fetch fails; NULL with
 * *pwhy (logged) when there is none.
 */
const oac_app_t *oac_discovered(request_rec *r, const oac_app_t *app,
                                const char **pwhy);

#endif
