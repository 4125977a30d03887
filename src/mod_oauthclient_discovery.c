/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Discovery: an app with server_metadata_url takes the endpoints it does
 * not set from the provider's metadata (src/oac_metadata.c reads it).
 * Fetched on first need, so a provider that is down when httpd starts
 * stops nothing; kept an hour; a failed fetch is retried at most every
 * RETRY_SECONDS, with the last good copy used meanwhile. Each child
 * process keeps its own copy.
 */
#include "mod_oauthclient_discovery.h"
#include "mod_oauthclient_hooks.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "oac_metadata.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define KEEP_SECONDS 3600
#define RETRY_SECONDS 10

typedef struct {
    const oac_app_t *resolved;  /* or NULL before the first success */
    apr_pool_t *pool;           /* resolved's */
    apr_pool_t *previous;       /* the copy before, which requests that
                                 * began then may still read */
    apr_int64_t fetched_at;
    apr_int64_t failed_at;
    const char *failure;
} entry_t;

static apr_pool_t *child_pool;
static apr_hash_t *entries;     /* oac_app_t* -> entry_t* */
#if APR_HAS_THREADS
static apr_thread_mutex_t *lock;
#endif

void oac_discovery_child_init(apr_pool_t *pchild, server_rec *s)
{
    child_pool = pchild;
    entries = apr_hash_make(pchild);
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAC_LOGNO(00111)
                     "no mutex for the providers' metadata and keys");
        lock = NULL;
    }
#endif
}

void oac_child_lock(void)
{
#if APR_HAS_THREADS
    if (lock) {
        apr_thread_mutex_lock(lock);
    }
#endif
}

void oac_child_unlock(void)
{
#if APR_HAS_THREADS
    if (lock) {
        apr_thread_mutex_unlock(lock);
    }
#endif
}

const oac_http_response_t *oac_provider_document(request_rec *r,
                                                 const oac_app_t *app,
                                                 const char *key,
                                                 const char *url,
                                                 const char **pwhy)
{
    oac_http_response_t *resp;
    apr_table_t *headers = apr_table_make(r->pool, 1);
    const char *why;

    apr_table_setn(headers, "Accept", "application/json");
    if (oac_http_get(&resp, &why, oac_hooked_client(r, app, OAC_CALL_OTHER),
                     r->pool, url, headers) != APR_SUCCESS) {
        *pwhy = apr_psprintf(r->pool, "%s: %s", key, why);
        return NULL;
    }
    if (resp->status != 200) {
        *pwhy = apr_psprintf(r->pool, "%s answered HTTP %d", key,
                             resp->status);
        return NULL;
    }
    return resp;
}

/* The document, as a completed app allocated from pool. */
static const oac_app_t *fetch(request_rec *r, const oac_app_t *app,
                              apr_pool_t *pool, const char **pwhy)
{
    const oac_http_response_t *resp;
    oac_app_t *out;
    const char *why;

    if (!(resp = oac_provider_document(r, app, "server_metadata_url",
                                       app->server_metadata_url, &why))) {
        *pwhy = apr_pstrdup(pool, why);
        return NULL;
    }
    if (oac_metadata_apply(&out, &why, pool, app, resp->body,
                           resp->body_len) != APR_SUCCESS) {
        *pwhy = apr_pstrdup(pool, why);
        return NULL;
    }
    return out;
}

const oac_app_t *oac_discovered(request_rec *r, const oac_app_t *app,
                                const char **pwhy)
{
    apr_int64_t now = oac_now();
    const oac_app_t *got;
    apr_pool_t *pool;
    entry_t *e;
    const char *why = NULL;

    if (!app->server_metadata_url || app->version != OAC_OAUTH2) {
        return app;
    }
    if (!entries) {
        *pwhy = "the provider's metadata is not available in this process";
        return NULL;
    }
    oac_child_lock();
    e = apr_hash_get(entries, &app, sizeof(app));
    if (!e) {
        e = apr_pcalloc(child_pool, sizeof(*e));
        apr_hash_set(entries, apr_pmemdup(child_pool, &app, sizeof(app)),
                     sizeof(app), e);
    }
    if ((e->resolved && now - e->fetched_at < KEEP_SECONDS)
        || (e->failed_at && now - e->failed_at < RETRY_SECONDS)) {
        got = e->resolved;
        why = e->failure;
        oac_child_unlock();
        if (!got) {
            *pwhy = apr_pstrcat(r->pool, why, " (tried again every ",
                                apr_itoa(r->pool, RETRY_SECONDS), " s)",
                                NULL);
        }
        return got;
    }
    /* Marked as being fetched: the other threads use what there is (or
     * fail) instead of fetching too. */
    e->failed_at = now;
    e->failure = "the provider's metadata is being fetched";
    oac_child_unlock();

    apr_pool_create(&pool, child_pool);
    got = fetch(r, app, pool, &why);

    oac_child_lock();
    if (got) {
        if (e->previous) {
            apr_pool_destroy(e->previous);
        }
        e->previous = e->pool;
        e->pool = pool;
        e->resolved = got;
        e->fetched_at = now;
        e->failed_at = 0;
        e->failure = NULL;
    }
    else {
        e->failed_at = now;
        e->failure = apr_pstrdup(child_pool, why);
        got = e->resolved;      /* the last good copy, if any */
    }
    oac_child_unlock();
    if (!got) {
        apr_pool_destroy(pool);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00112)
                      "app %s: the provider's metadata cannot be had: %s",
                      app->name, why);
        *pwhy = why;
    }
    else if (why) {
        apr_pool_destroy(pool);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00113)
                      "app %s: the provider's metadata could not be "
                      "fetched again, the copy of %" APR_INT64_T_FMT
                      " s ago is used: %s", app->name, now - e->fetched_at,
                      why);
    }
    return got;
}
