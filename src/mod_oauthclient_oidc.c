/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The id_token of an OpenID Connect login, checked as contract section 9
 * lists (src/oac_jose.c does the checking): signed by a key of the app's
 * jwks_uri with an accepted algorithm, from the app's issuer, for its
 * client_id, not expired, for this login's nonce, for this access token.
 */
#include "mod_oauthclient_oidc.h"
#include "mod_oauthclient_docs.h"

#include <apr_strings.h>

#include <openssl/evp.h>

#include "oac_form.h"
#include "oac_jose.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define KEYS_KEEP_SECONDS 3600
/* An unknown kid fetches the keys again at most this often on the
 * machine: a forger's random kids must not make the module hammer the
 * provider. */
#define KEYS_REFETCH_SECONDS 60
#define KEYS_RETRY_SECONDS 10

const char *oac_oidc_nonce(apr_pool_t *p, const char *state)
{
    static const char label[] = "mod_oauthclient nonce v1";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
             && EVP_DigestUpdate(ctx, label, sizeof(label)) == 1
             && EVP_DigestUpdate(ctx, state, strlen(state)) == 1
             && EVP_DigestFinal_ex(ctx, md, &len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok ? oac_util_b64url_encode(p, md, len) : NULL;
}

static const void *parse_keys(apr_pool_t *pool, const char *body,
                              apr_size_t len, const void *ctx,
                              const char **pwhy)
{
    oac_jose_jwks_t *jwks;
    const char *why;

    (void)len;
    (void)ctx;
    if (oac_jose_jwks_parse(&jwks, &why, pool, body, 0) != APR_SUCCESS) {
        *pwhy = apr_pstrcat(pool, "jwks_uri: ", why, NULL);
        return NULL;
    }
    return jwks;
}

/* The key set at jwks_uri (mod_oauthclient_docs.c keeps it for the
 * machine), fetched when none is kept or the kept one is an hour old, or,
 * with again (an id_token named a key not in it: the provider may have
 * rotated its keys), unless that was done less than a minute ago. */
static const oac_jose_jwks_t *keys_for(request_rec *r, const oac_app_t *app,
                                       int again, const char **pwhy)
{
    oac_doc_spec_t spec;
    oac_doc_info_t info;

    memset(&spec, 0, sizeof(spec));
    spec.url = app->jwks_uri;
    spec.key = "jwks_uri";
    spec.keep = KEYS_KEEP_SECONDS;
    spec.retry = KEYS_RETRY_SECONDS;
    spec.again = KEYS_REFETCH_SECONDS;
    spec.parse = parse_keys;
    spec.ctx = NULL;            /* the same keys for every app */
    return oac_doc_get(r, app, &spec, again, pwhy, &info);
}

json_t *oac_oidc_check(request_rec *r, const oac_app_t *app,
                       const oac_token_t *token, const char *state,
                       const char **pwhy)
{
    const char *id_token = oac_form_get(token->extra, "id_token");
    const char *algs = app->id_token_algs ? app->id_token_algs : "RS256";
    const char *hmac = strstr(algs, "HS") ? app->client_secret : NULL;
    const char *alg = NULL, *why = NULL, *nonce;
    const oac_jose_jwks_t *jwks;
    json_t *claims = NULL;
    oac_jose_e rc;

    if (!id_token || !*id_token) {
        *pwhy = "the token response has no id_token";
        return NULL;
    }
    if (!app->jwks_uri || !app->issuer) {
        *pwhy = "the app has no jwks_uri or issuer to check the id_token by";
        return NULL;
    }
    if (!(jwks = keys_for(r, app, 0, &why))) {
        *pwhy = apr_psprintf(r->pool, "the provider's keys cannot be had: "
                             "%s", why);
        return NULL;
    }
    rc = oac_jose_verify(&claims, &alg, &why, r->pool, id_token, jwks, algs,
                         hmac);
    if (rc == OAC_JOSE_UNKNOWN_KID) {
        /* The provider may have rotated its keys since they were kept. */
        const char *fetch_why = NULL;
        const oac_jose_jwks_t *again = keys_for(r, app, 1, &fetch_why);
        if (again && again != jwks) {
            rc = oac_jose_verify(&claims, &alg, &why, r->pool, id_token,
                                 again, algs, hmac);
        }
        else if (fetch_why) {
            why = apr_pstrcat(r->pool, why, "; fetching the keys again: ",
                              fetch_why, NULL);
        }
    }
    if (rc != OAC_JOSE_OK) {
        *pwhy = apr_pstrcat(r->pool, "id_token: ", why, NULL);
        return NULL;
    }
    nonce = oac_oidc_nonce(r->pool, state);
    if (!nonce
        || oac_jose_check_id_token(&why, r->pool, claims, app->issuer,
                                   app->client_id, nonce, oac_now(),
                                   app->leeway, token->access_token, alg)
           != APR_SUCCESS) {
        *pwhy = nonce ? why : "no nonce could be computed";
        return NULL;
    }
    return claims;
}
