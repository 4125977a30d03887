/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include <jansson.h>

#include "oac_fix.h"
#include "oac_form.h"
#include "oac_oauth1.h"
#include "oac_oauth2.h"
#include "oac_userinfo.h"
#include "oac_util.h"

/* A claim as a user name: a string, or an integer's text; NULL else. */
static const char *claim_text(apr_pool_t *p, const json_t *v)
{
    if (json_is_string(v)) {
        return apr_pstrdup(p, json_string_value(v));
    }
    if (json_is_integer(v)) {
        /* apr's formatter knows no %lld: print through apr_int64_t */
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
    }
    return NULL;
}

/* name as the id_token has it (or absent), whatever userinfo said. */
static void keep_claim(json_t *merged, const json_t *id_claims,
                       const char *name)
{
    json_t *v = json_object_get(id_claims, name);

    if (v) {
        json_object_set(merged, name, v);
    }
    else {
        json_object_del(merged, name);
    }
}

/* The claim named user_claim (default sub) of the id_token's claims
 * merged with userinfo (doc, may be NULL), userinfo's first. */
static apr_status_t oidc_user(const char **puser, const char **perr,
                              apr_pool_t *p, const oac_app_t *app,
                              const json_t *doc, const json_t *id_claims)
{
    const char *claim = app->user_claim ? app->user_claim : "sub";
    const json_t *v = doc ? json_object_get(doc, claim) : NULL;

    if (!v) {
        v = json_object_get(id_claims, claim);
    }
    if (!(*puser = claim_text(p, v)) || !**puser) {
        *perr = apr_psprintf(p, "the claim '%s' (user_claim) is %s in the "
                             "id_token%s", claim,
                             !v ? "missing" : json_is_string(v) ? "empty"
                                : "not a string or an integer",
                             doc ? " and userinfo" : "");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* doc (a reference the caller gives up) as *pclaims, owned by p */
static void hand_out(json_t **pclaims, apr_pool_t *p, json_t *doc)
{
    if (!pclaims || !doc) {
        json_decref(doc);
        return;
    }
    *pclaims = oac_util_json_owned(p, doc);
}

apr_status_t oac_userinfo_user(const char **puser, const char **perr,
                               apr_pool_t *p, oac_http_client_t *http,
                               const oac_app_t *app,
                               const oac_token_t *token,
                               const json_t *id_claims, json_t **pclaims)
{
    oac_http_request_t req = { 0 };
    oac_http_response_t *resp;
    apr_table_t *headers;
    json_t *doc, *v;
    json_error_t jerr;
    const char *why;

    *puser = NULL;
    if (pclaims) {
        *pclaims = NULL;
    }
    if (!app->userinfo_endpoint && id_claims) {
        apr_status_t rv = oidc_user(puser, perr, p, app, NULL, id_claims);
        if (rv == APR_SUCCESS) {
            hand_out(pclaims, p, json_incref((json_t *)id_claims));
        }
        return rv;
    }
    if (!app->userinfo_endpoint) {
        if (app->user_claim
            && (!(*puser = oac_form_get(token->extra, app->user_claim))
                || !**puser)) {
            *perr = apr_psprintf(p, "the token response has no field "
                                 "'%s' (user_claim)", app->user_claim);
            return APR_EGENERAL;
        }
        return APR_SUCCESS;
    }
    headers = apr_table_make(p, 2);
    if (app->version == OAC_OAUTH1) {
        oac_oauth1_creds_t creds;
        char *auth;
        oac_oauth1_creds_for_app(&creds, app, token->access_token,
                         token->token_secret);
        if (oac_oauth1_sign_request(&auth, &why, p, &creds, "GET",
                                    app->userinfo_endpoint, NULL, NULL, NULL,
                                    0) != APR_SUCCESS) {
            *perr = apr_psprintf(p, "userinfo endpoint: %s", why);
            return APR_EGENERAL;
        }
        apr_table_setn(headers, "Authorization", auth);
    }
    else {
        apr_table_setn(headers, "Authorization",
                       oac_oauth2_bearer_header(p, token));
    }
    apr_table_setn(headers, "Accept", "application/json");
    req.method = "GET";
    req.url = app->userinfo_endpoint;
    req.headers = headers;
    /* A DPoP-bound token goes with a proof (RFC 9449 7.1) */
    if (oac_oauth2_dpop_perform(&resp, &why, p, http, app, &req,
                                apr_time_sec(apr_time_now()))
        != APR_SUCCESS) {
        *perr = apr_psprintf(p, "userinfo endpoint: %s", why);
        return APR_EGENERAL;
    }
    if (resp->status < 200 || resp->status > 299) {
        *perr = apr_psprintf(p, "userinfo endpoint answered HTTP %d",
                             resp->status);
        return APR_EGENERAL;
    }
    doc = oac_util_json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        *perr = "userinfo endpoint did not answer a JSON object";
        return APR_EGENERAL;
    }
    if (id_claims) {
        /* OpenID Connect Core 5.3.2: a userinfo answer about someone else
         * (a token substituted) is refused. */
        const json_t *sub = json_object_get(doc, "sub");
        const json_t *id_sub = json_object_get(id_claims, "sub");
        apr_status_t rv;
        if (!json_is_string(sub) || !json_is_string(id_sub)
            || strcmp(json_string_value(sub), json_string_value(id_sub))) {
            *perr = "userinfo's sub is not the id_token's (OpenID Connect "
                    "Core 5.3.2)";
            json_decref(doc);
            return APR_EGENERAL;
        }
        rv = oidc_user(puser, perr, p, app, doc, id_claims);
        if (rv == APR_SUCCESS) {
            /* userinfo's answer over the id_token's claims */
            json_t *merged = json_deep_copy(id_claims);
            if (merged && json_object_update(merged, doc) == 0) {
                if (oac_fix_issuer_is_template(app->issuer)) {
                    /* The tenant is the one the id_token's iss was
                     * checked with ('Require oauth-claim tid:...'). */
                    keep_claim(merged, id_claims, "tid");
                    keep_claim(merged, id_claims, "iss");
                }
                hand_out(pclaims, p, merged);
            }
            else {
                json_decref(merged);
            }
        }
        json_decref(doc);
        return rv;
    }
    if (app->user_claim) {
        v = json_object_get(doc, app->user_claim);
        *puser = claim_text(p, v);
        if (!*puser || !**puser) {
            /* Never a made-up name: a missing, empty or structured claim
             * is no user. */
            *perr = apr_psprintf(p, "userinfo field '%s' (user_claim) "
                                 "is %s", app->user_claim,
                                 !v ? "missing"
                                 : json_is_string(v) ? "empty"
                                 : "not a string or an integer");
            json_decref(doc);
            return APR_EGENERAL;
        }
    }
    hand_out(pclaims, p, doc);
    return APR_SUCCESS;
}

