/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Every exchange with a provider endpoint, logged at trace1 (as mod_md's
 * md_curl.c does): method, URL without its query, status or failure, time
 * and size. Never a header value, a body or a query: they carry codes,
 * tokens and secrets. Calls to the token endpoint are also timed for the
 * status page's metrics (?metrics), whatever the log level.
 */
#include "mod_oauthclient_trace.h"
#include "mod_oauthclient_status.h"

#include <apr_strings.h>

#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

typedef struct {
    request_rec *r;
    const oac_app_t *app;
    oac_http_client_t *inner;
} traced_client;

/* Whether url is app's token endpoint (refresh or not), query aside. */
static int same_endpoint(const char *endpoint, const char *url)
{
    apr_size_t n = endpoint ? strcspn(endpoint, "?") : 0;
    return n && !strncmp(endpoint, url, n) && (!url[n] || url[n] == '?');
}

static int is_token_endpoint(const oac_app_t *app, const char *url)
{
    return app->version == OAC_OAUTH2
           && (same_endpoint(app->access_token_url, url)
               || same_endpoint(app->refresh_token_url, url));
}

static apr_status_t traced_perform(oac_http_response_t **presp,
                                   const char **perr, void *baton,
                                   apr_pool_t *p,
                                   const oac_http_request_t *req)
{
    traced_client *tc = baton;
    apr_time_t start = apr_time_now();
    const char *why = NULL;
    apr_status_t rv = oac_http_perform(presp, &why, tc->inner, p, req);
    apr_interval_time_t took = apr_time_now() - start;
    double ms = (double)took / 1000.0;

    if (is_token_endpoint(tc->app, req->url)) {
        oac_observe(tc->r, tc->app, OAC_HIST_TOKEN_ENDPOINT, took);
    }
    if (APLOG_R_IS_LEVEL(tc->r, APLOG_TRACE1) && rv == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, tc->r,
                      "app %s: %s %s -> HTTP %d, %" APR_SIZE_T_FMT
                      " bytes, %.1f ms", tc->app->name, req->method,
                      oac_util_url_for_message(p, req->url),
                      (*presp)->status, (*presp)->body_len, ms);
    }
    else if (APLOG_R_IS_LEVEL(tc->r, APLOG_TRACE1)) {
        /* why names the target without its query, per oac_http.h */
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, rv, tc->r,
                      "app %s: %s %s failed after %.1f ms: %s",
                      tc->app->name, req->method,
                      oac_util_url_for_message(p, req->url), ms,
                      why ? why : "no reason given");
    }
    if (perr) {
        *perr = why;
    }
    return rv;
}

oac_http_client_t *oac_traced_client(request_rec *r, const oac_app_t *app,
                                     oac_http_client_t *inner)
{
    traced_client *tc;

    if (!inner) {
        return inner;
    }
    tc = apr_palloc(r->pool, sizeof(*tc));
    tc->r = r;
    tc->app = app;
    tc->inner = inner;
    return oac_http_client_make(r->pool, traced_perform, tc);
}
