/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Refreshing OAuth 2 tokens before use, once per token even when a browser
 * sends many requests in parallel. Refresh tokens rotate: the first refresh
 * spends the token every parallel request carries, so one request refreshes
 * and the others, in any child process, wait for it and take its result
 * from a small shared table (src/oac_handoff.c; the result is encrypted
 * under a key only holders of the old refresh token can derive, and kept
 * for a minute at most).
 */
#include "mod_oauthclient_refresh.h"
#include "mod_oauthclient_hooks.h"
#include "mod_oauthclient_status.h"

#include "util_mutex.h"

#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "oac_handoff.h"
#include "oac_oauth2.h"

APLOG_USE_MODULE(oauthclient);

#define OAC_REFRESH_MUTEX "oauthclient-refresh"
#define HANDOFF_SLOTS 256
/* A token this close to its expiry is refreshed before use: the request
 * may take a while to reach the provider. */
#define REFRESH_MARGIN 60
#define WAIT_STEP apr_time_from_msec(50)

static apr_global_mutex_t *refresh_mutex;
static const char *refresh_mutex_file;
static void *handoff;

apr_status_t oac_refresh_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, OAC_REFRESH_MUTEX, NULL, APR_LOCK_DEFAULT,
                             0);
}

apr_status_t oac_refresh_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    apr_size_t size = oac_handoff_size(HANDOFF_SLOTS);

    handoff = NULL;
    refresh_mutex = NULL;
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAC_LOGNO(00060)
                     "no shared memory for refresh coordination; parallel "
                     "requests may each refresh a token");
        return rv;
    }
    rv = ap_global_mutex_create(&refresh_mutex, &refresh_mutex_file,
                                OAC_REFRESH_MUTEX, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAC_LOGNO(00061)
                     "no '%s' mutex; parallel requests may each refresh a "
                     "token", OAC_REFRESH_MUTEX);
        refresh_mutex = NULL;
        return rv;
    }
    handoff = apr_shm_baseaddr_get(shm);
    oac_handoff_init(handoff, HANDOFF_SLOTS);
    return APR_SUCCESS;
}

void oac_refresh_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    if (!refresh_mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&refresh_mutex, refresh_mutex_file,
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAC_LOGNO(00062)
                     "cannot reopen the '%s' mutex in this child",
                     OAC_REFRESH_MUTEX);
        refresh_mutex = NULL;
    }
}

/* Calls the provider; the token string on success, NULL on failure. */
static const char *do_refresh(request_rec *r, const oac_app_t *app,
                              const oac_token_t *old)
{
    oac_token_t *fresh;
    const char *why;

    if (oac_oauth2_refresh(&fresh, &why, r->pool,
                           oac_hooked_client(r, app, OAC_CALL_REFRESH), app,
                           old, oac_now()) != APR_SUCCESS
        || oac_token_check_sendable(&why, r->pool, fresh, NULL)
           != APR_SUCCESS) {
        oac_count(app, OAC_CTR_REFRESH_FAILED);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00030)
                      "app %s: token refresh failed, the user must log in "
                      "again: %s", app->name, why);
        return NULL;
    }
    oac_count(app, OAC_CTR_REFRESH);
    return oac_token_to_string(r->pool, fresh);
}

/* One refresh per refresh token across every process: the first caller
 * refreshes, the others wait for its result. */
static const char *coordinated_refresh(request_rec *r, const oac_app_t *app,
                                       const oac_token_t *old)
{
    oac_server_conf *sc = oac_server_config(r->server);
    apr_int64_t patience = apr_time_sec(sc->http_timeout > 0
                                        ? sc->http_timeout
                                        : OAC_HTTP_DEFAULT_TIMEOUT) + 2;
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(patience + 1);
    const char *result;
    char *shared;

    if (!handoff || !refresh_mutex) {
        return do_refresh(r, app, old);
    }
    for (;;) {
        oac_handoff_e state;
        if (apr_global_mutex_lock(refresh_mutex) != APR_SUCCESS) {
            return do_refresh(r, app, old);
        }
        state = oac_handoff_begin(&shared, r->pool, handoff,
                                  old->refresh_token, oac_now(), patience);
        apr_global_mutex_unlock(refresh_mutex);
        switch (state) {
        case OAC_HANDOFF_MINE:
            result = do_refresh(r, app, old);
            if (apr_global_mutex_lock(refresh_mutex) == APR_SUCCESS) {
                oac_handoff_finish(handoff, old->refresh_token, result,
                                   oac_now());
                apr_global_mutex_unlock(refresh_mutex);
            }
            return result;
        case OAC_HANDOFF_DONE:
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OAC_LOGNO(00063)
                          "app %s: took the token a parallel request "
                          "refreshed", app->name);
            return shared;
        case OAC_HANDOFF_FAILED:
            return NULL;
        case OAC_HANDOFF_WAIT:
            if (apr_time_now() > deadline) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              OAC_LOGNO(00064) "app %s: gave up waiting for "
                              "a parallel refresh", app->name);
                return NULL;
            }
            apr_sleep(WAIT_STEP);
            break;
        }
    }
}

int oac_ensure_fresh_token(request_rec *r, session_rec *z, const oac_app_t *app,
                           oac_token_t **ptoken)
{
    oac_token_t *fresh;
    const char *result = NULL, *why;

    if (app->version != OAC_OAUTH2
        || !oac_oauth2_token_expiring(*ptoken, oac_now(), REFRESH_MARGIN)) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: the token "
                  "expires at %" APR_INT64_T_FMT ", %s", app->name,
                  (*ptoken)->expires_at, (*ptoken)->refresh_token
                  ? "refreshing it" : "and there is no refresh token");
    if ((*ptoken)->refresh_token
        && !(result = coordinated_refresh(r, app, *ptoken))) {
        const oac_request_t *rs = ap_get_module_config(r->request_config,
                                                       &oauthclient_module);
        if (rs && rs->hook_status) {
            /* A compliance hook failed the refresh and chose the answer:
             * not the provider's verdict on the token, which is kept. */
            return rs->hook_status;
        }
    }
    if (!(*ptoken)->refresh_token
        || !result
        || oac_token_from_string(&fresh, &why, r->pool, result)
           != APR_SUCCESS) {
        /* Expired and not renewable: the user is logged out. */
        oac_session_set(r, z, app, "token", NULL);
        return HTTP_UNAUTHORIZED;
    }
    /* Stored as the string it was shared as: serialised once, when the
     * provider answered. */
    if (oac_session_store_token(r, z, app, fresh, result,
                                oac_session_get(r, z, app, "user"), &why)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00065)
                      "app %s: the refreshed token cannot be used, the user "
                      "must log in again: %s", app->name, why);
        oac_session_set(r, z, app, "token", NULL);
        return HTTP_UNAUTHORIZED;
    }
    *ptoken = fresh;
    return OK;
}
