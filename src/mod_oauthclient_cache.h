/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OAuthCache (contract section 10): where the processes, and the machines,
 * that serve the same users coordinate their refreshes
 * (mod_oauthclient_cache.c). shm is this machine's shared memory; memcache
 * and dbd are shared by every node that names the same servers or
 * database. When a shared cache cannot be reached the module says so and
 * coordinates on this machine until it can.
 */
#ifndef MOD_OAUTHCLIENT_CACHE_H
#define MOD_OAUTHCLIENT_CACHE_H

#include "mod_oauthclient_config.h"

#include "oac_handoff.h"

const char *oac_cmd_cache(cmd_parms *cmd, void *dconf, const char *arg);

/* DBDPrepareSQL, also read by mod_dbd */
const char *oac_cmd_dbd_prepare_sql(cmd_parms *cmd, void *dconf,
                                    const char *sql, const char *label);
/*
 * After r's session failed to load, where the session store may be
 * mod_session_dbd: what the database says, for the log, or NULL when no
 * DBDPrepareSQL is known here. Statements the connection lost (the
 * database restarted) are prepared again, and *pretry is then 1: loading
 * again may work.
 */
const char *oac_dbd_session_failed(request_rec *r, int *pretry);
/* Before r's session is loaded: if the database connection mod_dbd hands
 * this request was silently made again (PostgreSQL restarted), its
 * statements are prepared again first, so that the load does not find
 * them gone (which mod_session_dbd reads as "no session"). */
void oac_dbd_before_session(request_rec *r);
/* After a load that found no session: why, if that is because the
 * database connection broke (mod_session_dbd cannot tell a failed query
 * from no row), else NULL. */
const char *oac_dbd_broken(request_rec *r);
void oac_dbd_register(void);

apr_status_t oac_cache_pre_config(apr_pool_t *pconf);
/* The modules the configured caches need; !OK (logged) when missing. */
int oac_cache_check_config(server_rec *main_s);
apr_status_t oac_cache_post_config(apr_pool_t *pconf, server_rec *s);
void oac_cache_child_init(apr_pool_t *pchild, server_rec *main_s);

/* One refresh's coordination, zeroed by the caller before its first
 * oac_cache_begin and kept over the calls of that refresh. */
typedef struct {
    int saw_shared_wait;/* the shared cache showed a claim in progress */
} oac_cache_claim_t;

/* oac_handoff_begin for r's virtual host, under the cache's own locking;
 * patience is also how long a claim holds on a shared cache. */
oac_handoff_e oac_cache_begin(request_rec *r, const char *key,
                              apr_int64_t patience, char **presult,
                              oac_cache_claim_t *claim);
/* on: the shared cache's calls for r keep one connection to memcached
 * until oac_cache_hold(r, 0), instead of one each: a request waiting on a
 * parallel refresh asks every 50 ms, and each connection closed is left
 * in TIME_WAIT for a minute (a slow provider and many waiters would run
 * the machine out of ports). */
void oac_cache_hold(request_rec *r, int on);
/* The outcome of a refresh claimed by oac_cache_begin, recorded on the
 * shared cache and on this machine's table, wherever the claim was made:
 * requests wait on one or the other. */
void oac_cache_finish(request_rec *r, const char *key, const char *result);

/* Entries of the virtual host's shared cache (OAuthCache memcache or dbd;
 * names of 80 bytes at most, text values): APR_ENOTIMPL without one,
 * APR_EGENERAL when it failed (logged as for refreshes). get: APR_SUCCESS
 * or APR_NOTFOUND; add stores only when no live entry has the name (a
 * lock across machines): APR_SUCCESS or APR_EEXIST. */
int oac_cache_is_shared(request_rec *r);
apr_status_t oac_cache_get(request_rec *r, const char *name, char **pvalue);
apr_status_t oac_cache_set(request_rec *r, const char *name,
                           const char *value, apr_int64_t ttl);
apr_status_t oac_cache_add(request_rec *r, const char *name,
                           const char *value, apr_int64_t ttl);

#endif
