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
    OAC_CTR_FAIL_ID_TOKEN,
    OAC_CTR_FAIL_OTHER,
    OAC_CTR_REFRESH,
    OAC_CTR_REFRESH_FAILED,
    OAC_CTR_API_PROXIED,
    OAC_CTR_LOGOUT,
    OAC_CTR_COUNT
} oac_counter_e;

/* Durations kept as Prometheus histograms */
typedef enum {
    OAC_HIST_TOKEN_ENDPOINT = 0,    /* each call to the token endpoint */
    OAC_HIST_REFRESH,               /* a refresh as the request waits for it */
    OAC_HIST_COUNT
} oac_hist_e;

apr_status_t oac_counters_init(apr_pool_t *pconf, server_rec *s);
/* Counts for r's virtual host and app. */
void oac_count(request_rec *r, const oac_app_t *app, oac_counter_e which);
/* Adds a duration (microseconds) to r's virtual host's and app's
 * histogram which. */
void oac_observe(request_rec *r, const oac_app_t *app, oac_hist_e which,
                 apr_interval_time_t usec);
int oac_status_handler(request_rec *r);

#endif
