/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Reading a request body before the handler, and handing the handler
 * another one (mod_oauthclient_body.c).
 */
#ifndef MOD_OAUTHCLIENT_BODY_H
#define MOD_OAUTHCLIENT_BODY_H

#include "mod_oauthclient_private.h"

#define OAC_BODY_MAX (1024 * 1024)

int oac_body_is_form(request_rec *r);
/* The whole body, at most max bytes, NUL-terminated; OK or the status to
 * answer (413 beyond max, 400 for a NUL or a read error). */
int oac_body_read(request_rec *r, apr_size_t max, char **pbuf,
                  apr_size_t *plen);
/* The same for a body of any bytes (one to send again as it came) */
int oac_body_read_raw(request_rec *r, apr_size_t max, char **pbuf,
                      apr_size_t *plen);
void oac_body_replace(request_rec *r, const char *buf, apr_size_t len);
void oac_body_register(void);

#endif
