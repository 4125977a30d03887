/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Service tokens: an app's own token (client credentials grant) for
 * service-to-service calls through OAuthProxyAPI, with no user and no
 * session. The token is kept as a provider document is
 * (mod_oauthclient_docs.c): the machine's latest in shared memory, each
 * child's parsed copy beside it, one process fetching a new one at a time.
 */
#include "mod_oauthclient_service.h"
#include "mod_oauthclient_docs.h"
#include "mod_oauthclient_hooks.h"

#include <apr_strings.h>

#include <openssl/evp.h>

#include "oac_form.h"
#include "oac_oauth2.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

/* A failed token request is not repeated for this long by any process. */
#define RETRY_SECONDS 5
/* Renewed ahead of its expiry by the smaller of this and a tenth of its
 * lifetime (contract section 11). */
#define AHEAD_SECONDS 60
/* An API's refusal renews the token at most this often: whoever can make
 * the API refuse must not make the provider issue a token per request. */
#define RENEW_SECONDS 30

typedef struct {
    oac_token_t *token;
    apr_int64_t fetched_at;
} kept_t;

/* "FETCHED_AT TOKEN": what a fetch keeps */
static const void *parse(apr_pool_t *pool, const char *body, apr_size_t len,
                         const void *ctx, const char **pwhy)
{
    char *text = apr_pstrmemdup(pool, body, len), *space, *end;
    kept_t *k = apr_pcalloc(pool, sizeof(*k));

    (void)ctx;
    if (!(space = strchr(text, ' '))) {
        *pwhy = "a kept service token is damaged";
        return NULL;
    }
    *space = '\0';
    k->fetched_at = apr_strtoi64(text, &end, 10);
    if (*end || oac_token_from_string(&k->token, pwhy, pool, space + 1)
                != APR_SUCCESS) {
        *pwhy = "a kept service token is damaged";
        return NULL;
    }
    return k;
}

static int state(const void *parsed, apr_int64_t now)
{
    const kept_t *k = parsed;
    apr_int64_t at = k->token->expires_at, ahead;

    if (!at) {
        /* No expiry given: used until the API refuses it. */
        return OAC_DOC_FRESH;
    }
    ahead = (at - k->fetched_at) / 10;
    ahead = ahead < AHEAD_SECONDS ? ahead : AHEAD_SECONDS;
    return now >= at ? OAC_DOC_EXPIRED
           : now >= at - ahead ? OAC_DOC_USABLE : OAC_DOC_FRESH;
}

static apr_status_t fetch(char **pbody, apr_size_t *plen, const char **pwhy,
                          request_rec *r, const oac_app_t *app,
                          const void *ctx)
{
    apr_int64_t now = oac_now();
    oac_token_t *t;
    apr_status_t rv;

    (void)ctx;
    rv = oac_oauth2_client_credentials(&t, pwhy, r->pool,
                                       oac_hooked_client(r, app,
                                                         OAC_CALL_ACCESS_TOKEN),
                                       app, now);
    if (rv == APR_SUCCESS) {
        /* Sent as a header to the API: checked as a user's token is */
        rv = oac_token_check_sendable(pwhy, r->pool, t, NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *pbody = apr_psprintf(r->pool, "%" APR_INT64_T_FMT " %s", now,
                          oac_token_to_string(r->pool, t));
    *plen = strlen(*pbody);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00123)
                  "app %s: a service token (client credentials) was "
                  "fetched, valid %s", app->name,
                  t->expires_at ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT
                                               " s", t->expires_at - now)
                                : "until refused");
    return APR_SUCCESS;
}

static void spec_for(oac_doc_spec_t *spec, request_rec *r,
                     const oac_app_t *app)
{
    /* Everything the token request is made of, the virtual host and the
     * app too: two apps that differ in anything (an audience= parameter,
     * another secret) never share a token. Hashed: the secret is in it. */
    const char *what = apr_pstrcat(r->pool, app->name, "\n",
        r->server->server_hostname ? r->server->server_hostname : "", "\n",
        apr_itoa(r->pool, r->server->port), "\n", app->access_token_url,
        "\n", app->client_id, "\n", app->scope ? app->scope : "", "\n",
        app->access_token_params
            ? oac_form_encode(r->pool, app->access_token_params) : "", "\n",
        oac_app_client_auth_name(app->token_endpoint_auth_method), "\n",
        app->client_secret ? app->client_secret : "", "\n",
        app->client_key_file ? app->client_key_file : "", "\n",
        app->dpop_alg ? app->dpop_alg : "", NULL);
    unsigned char md[32];
    unsigned int len = 0;

    memset(spec, 0, sizeof(*spec));
    EVP_Digest(what, strlen(what), md, &len, EVP_sha256(), NULL);
    spec->url = apr_pstrcat(r->pool, "client_credentials ",
                            oac_util_b64url_encode(r->pool, md, len), NULL);
    spec->key = "access_token_url";
    spec->retry = RETRY_SECONDS;
    /* a refused token is renewed at most this often on the machine */
    spec->again = RENEW_SECONDS;
    spec->parse = parse;
    spec->fetch = fetch;
    spec->state = state;
}

const oac_token_t *oac_service_token(request_rec *r, const oac_app_t *app,
                                     const char **pwhy)
{
    oac_doc_spec_t spec;
    oac_doc_info_t info;
    const kept_t *k;

    spec_for(&spec, r, app);
    k = oac_doc_get(r, app, &spec, 0, pwhy, &info);
    if (info.failed_now) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00124)
                      "app %s: no service token (client credentials)%s: %s",
                      app->name, k ? ", the valid one is used meanwhile" : "",
                      *pwhy);
    }
    if (k && state(k, oac_now()) == OAC_DOC_EXPIRED) {
        *pwhy = "the service token expired, and no new one could be had";
        return NULL;
    }
    return k ? k->token : NULL;
}

int oac_service_token_refused(request_rec *r, const oac_app_t *app)
{
    oac_doc_spec_t spec;

    spec_for(&spec, r, app);
    return oac_doc_stale(r, &spec);
}
