/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Configuration mistakes caught at configtest from the configuration tree
 * (mod_oauthclient_checks.c): what would otherwise fail at the first
 * request, or never visibly.
 */
#ifndef MOD_OAUTHCLIENT_CHECKS_H
#define MOD_OAUTHCLIENT_CHECKS_H

#include "mod_oauthclient_private.h"

/* !OK (each mistake logged with its fix) when the configuration has one;
 * after oac_config_check, which finalizes the apps. */
int oac_checks_run(apr_pool_t *ptemp, server_rec *main_s);

#endif
