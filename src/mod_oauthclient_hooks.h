/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The compliance hooks of include/mod_oauthclient.h
 * (mod_oauthclient_hooks.c) and the HTTP client for provider calls.
 */
#ifndef MOD_OAUTHCLIENT_HOOKS_H
#define MOD_OAUTHCLIENT_HOOKS_H

#include "mod_oauthclient_config.h"

typedef enum {
    OAC_CALL_ACCESS_TOKEN,
    OAC_CALL_REFRESH,
    OAC_CALL_REVOKE,
    OAC_CALL_OTHER      /* request token, userinfo: no hooks */
} oac_hook_call_e;

/* The client for a call to app's provider: traced at trace1, wrapped in
 * the compliance hooks that apply to call. */
oac_http_client_t *oac_hooked_client(request_rec *r, const oac_app_t *app,
                                     oac_hook_call_e call);
int oac_protected_request_hooked(void);
int oac_run_protected_request(request_rec *r, const oac_app_t *app,
                              const char **purl, const char **pbody,
                              apr_size_t *plen);

#endif
