/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The id_token of an OpenID Connect login, checked as contract section 9
 * lists (src/oac_jose.c does the checking): signed by a key of the app's
 * jwks_uri with an accepted algorithm, from the app's issuer, for its
 * client_id, not expired, for this login's nonce, for this access token.
 * Each child process keeps the keys it fetched, per jwks_uri.
 */
#include "mod_oauthclient_oidc.h"
#include "mod_oauthclient_discovery.h"

#include <apr_hash.h>
#include <apr_strings.h>

#include <openssl/evp.h>

#include "oac_form.h"
#include "oac_jose.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define KEYS_KEEP_SECONDS 3600
/* An unknown kid fetches the keys again at most this often: a forger's
 * random kids must not make the module hammer the provider. */
#define KEYS_REFETCH_SECONDS 60

typedef struct {
    const oac_jose_jwks_t *jwks;    /* or NULL */
    apr_pool_t *pool;
    apr_int64_t fetched_at;
    apr_int64_t refetched_at;       /* for an unknown kid, last */
} keys_t;

static apr_pool_t *child_pool;
static apr_hash_t *key_sets;        /* jwks_uri -> keys_t* */

void oac_oidc_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    child_pool = pchild;
    key_sets = apr_hash_make(pchild);
}

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

/* The key set at jwks_uri, fetched when none is kept, when the kept one is
 * an hour old, or, with again (an id_token named a key not in it: the
 * provider may have rotated its keys), unless that was done less than a
 * minute ago. */
static const oac_jose_jwks_t *keys_for(request_rec *r, const oac_app_t *app,
                                       int again, const char **pwhy)
{
    apr_int64_t now = oac_now();
    const oac_http_response_t *resp;
    const oac_jose_jwks_t *got;
    oac_jose_jwks_t *fresh;
    apr_pool_t *pool;
    keys_t *k;
    const char *why;

    if (!key_sets) {
        *pwhy = "no key cache in this process";
        return NULL;
    }
    oac_child_lock();
    k = apr_hash_get(key_sets, app->jwks_uri, APR_HASH_KEY_STRING);
    if (!k) {
        k = apr_pcalloc(child_pool, sizeof(*k));
        apr_hash_set(key_sets, apr_pstrdup(child_pool, app->jwks_uri),
                     APR_HASH_KEY_STRING, k);
    }
    got = k->jwks;
    if (got && (again ? now - k->refetched_at < KEYS_REFETCH_SECONDS
                      : now - k->fetched_at < KEYS_KEEP_SECONDS)) {
        oac_child_unlock();
        return got;
    }
    if (again) {
        /* Claimed before the fetch: other threads' unknown kids wait for
         * the next minute, not for this fetch's end. */
        k->refetched_at = now;
    }
    oac_child_unlock();

    if (!(resp = oac_provider_document(r, app, "jwks_uri", app->jwks_uri,
                                       pwhy))) {
        return got;
    }
    apr_pool_create(&pool, child_pool);
    if (oac_jose_jwks_parse(&fresh, &why, pool, resp->body, 0)
        != APR_SUCCESS) {
        *pwhy = apr_psprintf(r->pool, "jwks_uri: %s", why);
        apr_pool_destroy(pool);
        return got;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "app %s: fetched %d keys "
                  "from jwks_uri", app->name, oac_jose_jwks_count(fresh));
    oac_child_lock();
    /* The set it replaces may be in use by another thread's check: it
     * stays in the child's pool (an hourly few KiB). */
    k->jwks = fresh;
    k->pool = pool;
    k->fetched_at = now;
    oac_child_unlock();
    return fresh;
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
