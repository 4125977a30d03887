/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Discovery: an app with server_metadata_url takes the endpoints it does
 * not set from the provider's metadata (src/oac_metadata.c reads it).
 * Fetched on first need, so a provider that is down when httpd starts
 * stops nothing; kept an hour; a failed fetch is retried at most every
 * RETRY_SECONDS, with the last good copy used meanwhile. One fetch serves
 * every child process (mod_oauthclient_docs.c).
 */
#include "mod_oauthclient_discovery.h"
#include "mod_oauthclient_docs.h"

#include <apr_strings.h>

#include "oac_metadata.h"

APLOG_USE_MODULE(oauthclient);

#define KEEP_SECONDS 3600
#define RETRY_SECONDS 10

/* The document, as a completed copy of the app (ctx). */
static const void *parse(apr_pool_t *pool, const char *body, apr_size_t len,
                         const void *ctx, const char **pwhy)
{
    oac_app_t *out;

    if (oac_metadata_apply(&out, pwhy, pool, ctx, body, len)
        != APR_SUCCESS) {
        return NULL;
    }
    return out;
}

const oac_app_t *oac_discovered(request_rec *r, const oac_app_t *app,
                                const char **pwhy)
{
    oac_doc_spec_t spec;
    oac_doc_info_t info;
    const oac_app_t *got;
    const char *why = NULL;

    if (!app->server_metadata_url || app->version != OAC_OAUTH2) {
        return app;
    }
    memset(&spec, 0, sizeof(spec));
    spec.url = app->server_metadata_url;
    spec.key = "server_metadata_url";
    spec.keep = KEEP_SECONDS;
    spec.retry = RETRY_SECONDS;
    spec.again = RETRY_SECONDS;
    spec.parse = parse;
    spec.ctx = app;
    got = oac_doc_get(r, app, &spec, 0, &why, &info);
    if (!got) {
        if (info.failed_now) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00112)
                          "app %s: the provider's metadata cannot be had: "
                          "%s", app->name, why);
        }
        *pwhy = why;
    }
    else if (info.failed_now) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00113)
                      "app %s: the provider's metadata could not be "
                      "fetched again, the copy of %" APR_INT64_T_FMT
                      " s ago is used: %s", app->name, info.age, why);
    }
    return got;
}
