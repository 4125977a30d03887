/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Counters shared by every child, and the status handler
 * (mod_oauthclient_status.c).
 */
#ifndef MOD_OAUTHCLIENT_STATUS_H
#define MOD_OAUTHCLIENT_STATUS_H

#include "mod_oauthclient_config.h"

typedef enum {
    OAC_CTR_LOGIN_STARTED = 0,
    OAC_CTR_LOGIN_COMPLETED,
    OAC_CTR_FAIL_PROVIDER_ERROR,
    OAC_CTR_FAIL_STATE,
    OAC_CTR_FAIL_TOKEN_ENDPOINT,
    OAC_CTR_FAIL_USERINFO,
    OAC_CTR_FAIL_OTHER,
    OAC_CTR_REFRESH,
    OAC_CTR_REFRESH_FAILED,
    OAC_CTR_API_PROXIED,
    OAC_CTR_LOGOUT,
    OAC_CTR_COUNT
} oac_counter_e;

apr_status_t oac_counters_init(apr_pool_t *pconf, server_rec *s);
void oac_count(const oac_app_t *app, oac_counter_e which);
int oac_status_handler(request_rec *r);

#endif
