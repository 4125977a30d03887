/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Provider exchanges at trace1 (mod_oauthclient_trace.c).
 */
#ifndef MOD_OAUTHCLIENT_TRACE_H
#define MOD_OAUTHCLIENT_TRACE_H

#include "mod_oauthclient_private.h"

#include "oac_app.h"
#include "oac_http.h"

/* inner, traced for r; inner itself when trace1 is off. */
oac_http_client_t *oac_traced_client(request_rec *r, const oac_app_t *app,
                                     oac_http_client_t *inner);

#endif
