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

#include "oac_fix.h"
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
 * with again (no kept key verified an id_token: the provider may have
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

/* The claims of id_token, its signature checked by a key of the app's
 * jwks_uri with an accepted algorithm (*palg); NULL and *pwhy otherwise,
 * *punchecked 1 when that is for want of the key (none to be had, or the
 * named one unknown and not to be fetched again yet), not a bad token. */
static json_t *verified(request_rec *r, const oac_app_t *app,
                        const char *id_token, const char **palg,
                        const char **pwhy, int *punchecked)
{
    const char *algs = app->id_token_algs ? app->id_token_algs : "RS256";
    const char *hmac = strstr(algs, "HS") ? app->client_secret : NULL;
    const char *why = NULL;
    const oac_jose_jwks_t *jwks;
    json_t *claims = NULL;
    oac_jose_e rc;

    if (!app->jwks_uri || !app->issuer) {
        *pwhy = "the app has no jwks_uri or issuer to check the id_token by";
        return NULL;
    }
    if (!(jwks = keys_for(r, app, 0, &why))) {
        *pwhy = apr_psprintf(r->pool, "the provider's keys cannot be had: "
                             "%s", why);
        *punchecked = 1;
        return NULL;
    }
    rc = oac_jose_verify(&claims, palg, &why, r->pool, id_token, jwks, algs,
                         hmac);
    if (rc == OAC_JOSE_UNKNOWN_KID || rc == OAC_JOSE_NO_KEY_VERIFIES) {
        /* The provider may have rotated its keys since they were kept: a
         * kid no kept key has says so, and so does a token without a kid
         * that no kept key verifies (else an hour of failed logins). Such
         * a token stays refused unless the new keys verify it. */
        const char *fetch_why = NULL;
        const oac_jose_jwks_t *again = keys_for(r, app, 1, &fetch_why);
        if (again && again != jwks) {
            rc = oac_jose_verify(&claims, palg, &why, r->pool, id_token,
                                 again, algs, hmac);
        }
        else if (fetch_why) {
            why = apr_pstrcat(r->pool, why, "; fetching the keys again: ",
                              fetch_why, NULL);
        }
    }
    if (rc != OAC_JOSE_OK) {
        *pwhy = apr_pstrcat(r->pool, "id_token: ", why, NULL);
        *punchecked = rc == OAC_JOSE_UNKNOWN_KID;
        return NULL;
    }
    return claims;
}

json_t *oac_oidc_check(request_rec *r, const oac_app_t *app,
                       const oac_token_t *token, const char *state,
                       const char **pwhy)
{
    const char *id_token = oac_form_get(token->extra, "id_token");
    const char *alg = NULL, *why = NULL, *nonce, *issuer;
    json_t *claims;
    int unchecked = 0;

    if (!id_token || !*id_token) {
        *pwhy = "the token response has no id_token";
        return NULL;
    }
    if (!(claims = verified(r, app, id_token, &alg, pwhy, &unchecked))) {
        return NULL;
    }
    nonce = oac_oidc_nonce(r->pool, state);
    if (!nonce) {
        *pwhy = "no nonce could be computed";
        return NULL;
    }
    if (!(issuer = oac_fix_token_issuer(&why, r->pool, app, claims))
        || oac_jose_check_id_token(&why, r->pool, claims, issuer,
                                   app->client_id, nonce, oac_now(),
                                   app->leeway, token->access_token, alg)
           != APR_SUCCESS) {
        *pwhy = why;
        return NULL;
    }
    return claims;
}

/* Whether claim name is the same in both (absent from both counts). */
static int same_claim(const json_t *a, const json_t *b, const char *name)
{
    const json_t *x = json_object_get(a, name), *y = json_object_get(b, name);
    return (!x && !y) || (x && y && json_equal((json_t *)x, (json_t *)y));
}

apr_status_t oac_oidc_check_refreshed(request_rec *r, const oac_app_t *app,
                                      const oac_token_t *fresh,
                                      const char *previous,
                                      const char **pwhy)
{
    const char *id_token = oac_form_get(fresh->extra, "id_token");
    const char *alg = NULL, *why = NULL, *issuer;
    json_t *claims, *before;
    const json_t *nonce;
    int unchecked = 0;

    if (!id_token || !*id_token || !oac_util_is_vschar(id_token)) {
        /* It goes into a header as it is. */
        *pwhy = "the id_token has characters outside RFC 6749 VSCHAR";
        return APR_EINVAL;
    }
    if (!(before = oac_jose_claims_unverified(&why, r->pool, previous))) {
        *pwhy = "the id_token of the login cannot be read from the session";
        return APR_EINVAL;
    }
    if (!(claims = verified(r, app, id_token, &alg, pwhy, &unchecked))) {
        return unchecked ? APR_EAGAIN : APR_EINVAL;
    }
    /* As at login, except the nonce (none was sent)... */
    if (!(issuer = oac_fix_token_issuer(&why, r->pool, app, claims))
        || oac_jose_check_id_token(&why, r->pool, claims, issuer,
                                   app->client_id, NULL, oac_now(),
                                   app->leeway, fresh->access_token, alg)
           != APR_SUCCESS) {
        *pwhy = apr_pstrcat(r->pool, "id_token: ", why, NULL);
        return APR_EINVAL;
    }
    /* ...and OpenID Connect Core 12.2: the same user, issuer, audience
     * and authorized party as the login's id_token (azp absent from both,
     * or the same), the same authentication time (when both say one), and
     * a nonce only if it is the login's. */
    if (!same_claim(claims, before, "sub")) {
        *pwhy = "id_token: its sub is not the login's";
        return APR_EINVAL;
    }
    if (!same_claim(claims, before, "iss")
        || !same_claim(claims, before, "aud")
        || !same_claim(claims, before, "azp")) {
        *pwhy = "id_token: its iss, aud or azp is not the login's";
        return APR_EINVAL;
    }
    if (json_object_get(claims, "auth_time")
        && json_object_get(before, "auth_time")
        && !same_claim(claims, before, "auth_time")) {
        *pwhy = "id_token: its auth_time is not the login's";
        return APR_EINVAL;
    }
    nonce = json_object_get(claims, "nonce");
    if (nonce && !same_claim(claims, before, "nonce")) {
        *pwhy = "id_token: it has a nonce, not the login's";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
