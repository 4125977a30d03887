/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * What every glue file needs to log as the module. Glue only: this header
 * includes httpd's, so no src/oac_*.c file may include it.
 */
#ifndef MOD_OAUTHCLIENT_PRIVATE_H
#define MOD_OAUTHCLIENT_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

/* The module's own log tags: httpd's AHnnnnn numbers belong to httpd. Each
 * number is used once and never reused; the next free one is noted in
 * mod_oauthclient.c. */
#define OAC_LOGNO(n) "OAC" #n ": "

/* Every glue file says APLOG_USE_MODULE(oauthclient) itself, after its
 * includes: its lines then log as [oauthclient:...] and obey LogLevel
 * oauthclient:...; without it, httpd files them under no module. One
 * grep checks it: grep -L APLOG_USE_MODULE mod_oauthclient.c
 * src/mod_oauthclient_*.c finds nothing. */
extern module AP_MODULE_DECLARE_DATA oauthclient_module;

#endif
