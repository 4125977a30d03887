/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The paths the module answers itself: login, callback, logout
 * (mod_oauthclient_flow.c), and the responses it writes.
 */
#ifndef MOD_OAUTHCLIENT_FLOW_H
#define MOD_OAUTHCLIENT_FLOW_H

#include "mod_oauthclient_config.h"

/* The module's own path r is for, or NULL. */
const oac_route_t *oac_route_find(request_rec *r);
int oac_flow_handle(request_rec *r, const oac_route_t *route);
int oac_respond(request_rec *r, int status, const char *content_type,
                const char *body);
int oac_error_page(request_rec *r, int status, const oac_app_t *app,
                   const char *title, const char *detail);
/* 1 when the browser says another site's page sent r. */
int oac_is_cross_site(request_rec *r);

#endif
