/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * A memcached client for OAuthCache memcache: get, add and set of the
 * text protocol, nothing else. APR-util's apr_memcache cannot serve:
 * after connecting it reads without a timeout (a memcached that hangs
 * holds every refreshing request forever), and with several servers it
 * moves a key to another server when it thinks the first is down, so two
 * machines can each take "the" lock on different servers. Here every
 * operation has a deadline, and a name always goes to the same server:
 * when that one is down the operation fails (the caller falls back),
 * it never goes elsewhere.
 */
#ifndef OAC_MEMCACHE_H
#define OAC_MEMCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "oac_handoff.h"

typedef struct oac_mc_t oac_mc_t;
typedef struct oac_mc_conn_t oac_mc_conn_t;

/*
 * The servers of list ("HOST:PORT[,HOST:PORT ...]", spaces allowed after
 * commas); every operation waits at most timeout to connect, and timeout
 * for its whole answer (sending included). Addresses are resolved here,
 * once. APR_EINVAL and *perr for a
 * list that names no server or a bad one.
 */
apr_status_t oac_mc_make(oac_mc_t **pmc, const char **perr, apr_pool_t *p,
                         const char *list, apr_interval_time_t timeout);

/* A caller's connections (one per server at most, made when first
 * needed), allocated from p; closed with p or oac_mc_close. Not shared
 * between threads. */
oac_mc_conn_t *oac_mc_open(apr_pool_t *p, oac_mc_t *mc);
void oac_mc_close(oac_mc_conn_t *c);

/*
 * The server of a name is chosen by a hash of what follows its last ':'
 * (so "x:l:ID" and "x:r:ID" share one). Names must be 1 to 250
 * characters without space or control characters; values without CR or
 * LF are what the caller stores.
 */
oac_kv_e oac_mc_get(oac_mc_conn_t *c, const char *name, char **pvalue);
oac_kv_e oac_mc_add(oac_mc_conn_t *c, const char *name, const char *value,
                    apr_int64_t ttl);
oac_kv_e oac_mc_set(oac_mc_conn_t *c, const char *name, const char *value,
                    apr_int64_t ttl);

/* What the last OAC_KV_ERROR was: "add on 127.0.0.1:11211: ...". */
const char *oac_mc_error(const oac_mc_conn_t *c);

#endif
