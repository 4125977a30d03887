/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include <jansson.h>

#include "oac_form.h"
#include "oac_oauth1.h"
#include "oac_oauth2.h"
#include "oac_userinfo.h"

apr_status_t oac_userinfo_user(const char **puser, const char **perr,
                               apr_pool_t *p, oac_http_client_t *http,
                               const oac_app_t *app,
                               const oac_token_t *token)
{
    oac_http_response_t *resp;
    apr_table_t *headers;
    json_t *doc, *v;
    json_error_t jerr;
    const char *why;

    *puser = NULL;
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
    if (oac_http_get(&resp, &why, http,
                     p, app->userinfo_endpoint, headers)
        != APR_SUCCESS) {
        *perr = apr_psprintf(p, "userinfo endpoint: %s", why);
        return APR_EGENERAL;
    }
    if (resp->status < 200 || resp->status > 299) {
        *perr = apr_psprintf(p, "userinfo endpoint answered HTTP %d",
                             resp->status);
        return APR_EGENERAL;
    }
    doc = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        *perr = "userinfo endpoint did not answer a JSON object";
        return APR_EGENERAL;
    }
    if (app->user_claim) {
        v = json_object_get(doc, app->user_claim);
        if (json_is_string(v)) {
            *puser = apr_pstrdup(p, json_string_value(v));
        }
        else if (json_is_integer(v)) {
            /* apr's formatter knows no %lld: print through apr_int64_t */
            *puser = apr_psprintf(p, "%" APR_INT64_T_FMT,
                                  (apr_int64_t)json_integer_value(v));
        }
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
    json_decref(doc);
    return APR_SUCCESS;
}

