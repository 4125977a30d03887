/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The session cookie read without ap_cookie_read's cost, for the locations
 * the module serves (mod_oauthclient_cookie.c).
 */
#ifndef MOD_OAUTHCLIENT_COOKIE_H
#define MOD_OAUTHCLIENT_COOKIE_H

#include "mod_oauthclient_private.h"

#include "mod_session.h"

/* mod_session_cookie's directives, read alongside it */
const char *oac_cmd_session_cookie_name(cmd_parms *cmd, void *dconf,
                                        const char *args);
const char *oac_cmd_session_cookie_remove(cmd_parms *cmd, void *dconf,
                                          int on);
/* The request of r's chain whose notes keep the session the chain
 * loaded, as mod_session_cookie and mod_session_dbd find it (the first of
 * its internal redirects, the main request of a subrequest). */
request_rec *oac_session_keeper(request_rec *r);
/* 1 when z is a session mod_session_cookie (or this module in its
 * place) loaded: one the browser holds, within a cookie's size. */
int oac_session_in_cookie(request_rec *r, const session_rec *z);
/* From register_hooks, when mod_session was loaded before this module. */
void oac_cookie_register(void);

#endif
