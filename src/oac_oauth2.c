/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>
#include <strings.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <jansson.h>

#include <openssl/evp.h>

#include "oac_form.h"
#include "oac_oauth2.h"
#include "oac_fix.h"
#include "oac_sign.h"
#include "oac_url.h"
#include "oac_util.h"

/* 32 bytes give the 43-character verifier RFC 7636 section 4.1 suggests. */
#define OAC_PKCE_VERIFIER_BYTES 32

/* Provider error text reaches logs and error pages: keep it short. */
#define OAC_OAUTH2_ERROR_TEXT_MAX 200


/* ---- small helpers ------------------------------------------------------- */





/* ---- PKCE ---------------------------------------------------------------- */

apr_status_t oac_oauth2_pkce_verifier(char **pverifier, const char **perr,
                                      apr_pool_t *p)
{
    return oac_util_random_token(pverifier, perr, p,
                                 OAC_PKCE_VERIFIER_BYTES);
}

char *oac_oauth2_pkce_challenge(apr_pool_t *p, const char *verifier)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!verifier) {
        return NULL;
    }
    /* EVP rather than SHA256(): the one-shot low-level API is the kind
     * OpenSSL 3 deprecates, and EVP reports a missing provider. */
    if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
                   NULL) != 1) {
        return NULL;
    }
    return oac_util_b64url_encode(p, md, mdlen);
}

/* ---- authorization request ----------------------------------------------- */

/* Names only this module may set in the authorization request: the ones
 * that bind it to this client, this redirect and this browser. */
static int is_reserved_authorize_param(const char *name, const oac_app_t *app)
{
    static const char *const reserved[] = {
        "response_type", "client_id", "redirect_uri", "state",
        "code_challenge", "code_challenge_method", NULL
    };
    int i;

    for (i = 0; reserved[i]; ++i) {
        if (strcmp(name, reserved[i]) == 0) {
            return 1;
        }
    }
    /* scope is a policy choice, not a binding: authorize_params may give
     * it when the scope key is not set. */
    return app->scope && strcmp(name, "scope") == 0;
}

static apr_array_header_t *authorize_params(apr_pool_t *p,
                                            const oac_app_t *app,
                                            const char *redirect_uri,
                                            const char *state,
                                            const char *code_challenge)
{
    apr_array_header_t *params = oac_form_make(p);

    oac_form_add(params, "response_type", "code");
    oac_form_add(params, "client_id", app->client_id);
    oac_form_add(params, "redirect_uri", redirect_uri);
    if (app->scope) {
        oac_form_add(params, "scope", app->scope);
    }
    oac_form_add(params, "state", state);
    if (code_challenge) {
        oac_form_add(params, "code_challenge", code_challenge);
        oac_form_add(params, "code_challenge_method", "S256");
    }
    if (app->authorize_params) {
        const oac_param_t *extra =
            (const oac_param_t *)app->authorize_params->elts;
        int i;

        for (i = 0; i < app->authorize_params->nelts; ++i) {
            if (!is_reserved_authorize_param(extra[i].name, app)) {
                oac_form_add(params, extra[i].name, extra[i].value);
            }
        }
    }
    /* Apple refuses a request for the user's name or email address that
     * would come back in the URL. */
    if (oac_fix_has(app, "apple") && !oac_form_get(params, "response_mode")
        && oac_fix_apple_needs_form_post(oac_form_get(params, "scope"))) {
        oac_form_add(params, "response_mode", "form_post");
    }
    return params;
}

char *oac_oauth2_authorize_url(apr_pool_t *p, const oac_app_t *app,
                               const char *redirect_uri, const char *state,
                               const char *code_challenge)
{
    return oac_url_add_query(p, app->authorize_url,
                             authorize_params(p, app, redirect_uri, state,
                                              code_challenge));
}

/* ---- token requests ------------------------------------------------------ */

/* Authorization: Basic per RFC 6749 section 2.3.1 (see the header for why
 * oac_util_pct_encode is the form-encoding). */
static const char *basic_credentials(apr_pool_t *p, const oac_app_t *app)
{
    const char *plain = apr_pstrcat(p,
                                    oac_util_pct_encode(p, app->client_id),
                                    ":",
                                    oac_util_pct_encode(p,
                                                        app->client_secret),
                                    NULL);
    int plen = (int)strlen(plain);
    char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len(plen));

    apr_base64_encode(b64, plain, plen);
    return apr_pstrcat(p, "Basic ", b64, NULL);
}

/* Appends the parameters of extra whose names form does not have yet:
 * what the protocol sets wins over configuration. */
static void add_missing(apr_array_header_t *form,
                        const apr_array_header_t *extra)
{
    const oac_param_t *params;
    int i, n;

    if (!extra) {
        return;
    }
    params = (const oac_param_t *)extra->elts;
    /* Only the names set before this call block; a name repeated in extra
     * keeps all its values. */
    n = form->nelts;
    for (i = 0; i < extra->nelts; ++i) {
        /* Re-read: oac_form_add may have moved the array. */
        const oac_param_t *set = (const oac_param_t *)form->elts;
        int j, taken = 0;

        for (j = 0; j < n && !taken; ++j) {
            taken = strcmp(set[j].name, params[i].name) == 0;
        }
        if (!taken) {
            oac_form_add(form, params[i].name, params[i].value);
        }
    }
}

static const char *app_name(const oac_app_t *app)
{
    return app->name ? app->name : "(unnamed)";
}

/* RFC 7523 2.2: the client authenticates with a JWT it signs, fresh for
 * every call (a provider refuses a jti it has seen). Its audience is the
 * issuer when it is known (FAPI 2.0 5.3.2.1, and the fix of the 2025
 * audience-injection disclosure, draft-ietf-oauth-rfc7523bis: a token
 * endpoint URL in aud can be named by a hostile provider's metadata to
 * collect assertions the honest one accepts, and the same assertion also
 * goes to the PAR and revocation endpoints); else the token endpoint, as
 * OpenID Connect Core 9 says. */
static apr_status_t add_assertion(const char **perr, apr_pool_t *p,
                                  const oac_app_t *app,
                                  apr_array_header_t *form, apr_int64_t now)
{
    const oac_signer_t *signer =
        app->token_endpoint_auth_method == OAC_AUTH_PRIVATE_KEY_JWT
            ? app->client_signer
            : oac_signer_hmac(p, app->client_secret, "HS256");
    /* Microsoft documents its token endpoint as the audience (and a
     * templated issuer names no one). */
    const char *aud = app->issuer && !oac_fix_has(app, "microsoft")
                          ? app->issuer : app->access_token_url;
    char *jws;

    if (!signer) {
        *perr = apr_psprintf(p, "app %s has no key to sign its client "
                             "assertion with", app_name(app));
        return APR_EINVAL;
    }
    if (!aud) {
        *perr = apr_psprintf(p, "app %s has no token endpoint to address "
                             "its client assertion to", app_name(app));
        return APR_EINVAL;
    }
    if (oac_sign_client_assertion(&jws, perr, p, signer, app->client_id, aud,
                                  now) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    oac_form_set(form, "client_id", app->client_id);
    oac_form_set(form, "client_assertion_type",
                 "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    oac_form_set(form, "client_assertion", jws);
    return APR_SUCCESS;
}

/* Sign in with Apple's client_secret (compliance_fix=apple): a JWT the
 * team issues about the client (iss the Team ID, sub the client_id), for
 * Apple (aud the issuer, https://appleid.apple.com), made for this call. */
static apr_status_t add_apple_secret(const char **perr, apr_pool_t *p,
                                     const oac_app_t *app,
                                     apr_array_header_t *form,
                                     apr_int64_t now)
{
    const char *aud = app->issuer ? app->issuer : OAC_APPLE_ISSUER;
    json_t *claims;
    char *jws;
    apr_status_t rv;

    if (!app->client_signer || !app->apple_team_id) {
        *perr = apr_psprintf(p, "app %s has no key or Team ID to sign its "
                             "client_secret with", app_name(app));
        return APR_EINVAL;
    }
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", app->apple_team_id,
                       "sub", app->client_id, "aud", aud,
                       "iat", (json_int_t)now, "exp", (json_int_t)(now + 300));
    if (!claims) {
        *perr = "the client_secret's claims are no valid UTF-8";
        return APR_EINVAL;
    }
    rv = oac_sign_jws(&jws, perr, p, app->client_signer, NULL, 0, claims);
    json_decref(claims);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    oac_form_set(form, "client_id", app->client_id);
    oac_form_set(form, "client_secret", jws);
    return APR_SUCCESS;
}

/* The client authentication token_endpoint_auth_method names. */
static apr_status_t add_client_auth(const char **perr, apr_pool_t *p,
                                    const oac_app_t *app,
                                    apr_array_header_t *form,
                                    apr_table_t *headers)
{
    if (app->token_endpoint_auth_method != OAC_AUTH_NONE
        && app->token_endpoint_auth_method != OAC_AUTH_PRIVATE_KEY_JWT
        && !app->client_secret) {
        *perr = apr_psprintf(p, "app %s has no client_secret, which "
                             "token_endpoint_auth_method %s needs",
                             app_name(app),
                             oac_app_client_auth_name(
                                 app->token_endpoint_auth_method));
        return APR_EINVAL;
    }
    switch (app->token_endpoint_auth_method) {
    case OAC_AUTH_CLIENT_SECRET_POST:
        oac_form_set(form, "client_id", app->client_id);
        oac_form_set(form, "client_secret", app->client_secret);
        break;
    case OAC_AUTH_NONE:
        oac_form_set(form, "client_id", app->client_id);
        break;
    case OAC_AUTH_CLIENT_SECRET_JWT:
    case OAC_AUTH_PRIVATE_KEY_JWT:
        return add_assertion(perr, p, app, form,
                             apr_time_sec(apr_time_now()));
    case OAC_AUTH_CLIENT_SECRET_BASIC:
    default:
        apr_table_setn(headers, "Authorization", basic_credentials(p, app));
        break;
    }
    return APR_SUCCESS;
}

/*
 * The POST to url: form plus client authentication, then the extra
 * (configured) parameters whose names are not taken, so configuration can
 * replace neither the grant's parameters nor client_id / client_secret.
 */
static apr_status_t token_request(oac_http_request_t **preq,
                                  const char **perr, apr_pool_t *p,
                                  const oac_app_t *app, const char *url,
                                  apr_array_header_t *form,
                                  const apr_array_header_t *extra)
{
    apr_table_t *headers = apr_table_make(p, 2);
    oac_http_request_t *req;
    apr_status_t rv;

    if (!url || !*url) {
        *perr = apr_psprintf(p, "app %s has no token endpoint URL",
                             app_name(app));
        return APR_EINVAL;
    }
    if (!app->client_id || !*app->client_id) {
        *perr = apr_psprintf(p, "app %s has no client_id", app_name(app));
        return APR_EINVAL;
    }
    if ((rv = oac_fix_has(app, "apple")
                  ? add_apple_secret(perr, p, app, form,
                                     apr_time_sec(apr_time_now()))
                  : add_client_auth(perr, p, app, form, headers))
        != APR_SUCCESS) {
        return rv;
    }
    apr_table_setn(headers, "Accept", "application/json");
    add_missing(form, extra);

    req = apr_pcalloc(p, sizeof(*req));
    req->method = "POST";
    req->url = url;
    req->headers = headers;
    req->body = oac_form_encode(p, form);
    req->body_len = strlen(req->body);
    req->content_type = "application/x-www-form-urlencoded";
    *preq = req;
    return APR_SUCCESS;
}

apr_status_t oac_oauth2_code_request(oac_http_request_t **preq,
                                     const char **perr, apr_pool_t *p,
                                     const oac_app_t *app, const char *code,
                                     const char *redirect_uri,
                                     const char *code_verifier)
{
    apr_array_header_t *form = oac_form_make(p);

    if (!code || !*code) {
        *perr = "no authorization code to exchange";
        return APR_EINVAL;
    }
    if (!redirect_uri || !*redirect_uri) {
        *perr = "no redirect_uri for the code exchange";
        return APR_EINVAL;
    }
    oac_form_add(form, "grant_type", "authorization_code");
    oac_form_add(form, "code", code);
    oac_form_add(form, "redirect_uri", redirect_uri);
    if (code_verifier) {
        oac_form_add(form, "code_verifier", code_verifier);
    }
    return token_request(preq, perr, p, app, app->access_token_url, form,
                         app->access_token_params);
}

apr_status_t oac_oauth2_refresh_request(oac_http_request_t **preq,
                                        const char **perr, apr_pool_t *p,
                                        const oac_app_t *app,
                                        const char *refresh_token,
                                        const char *scope)
{
    apr_array_header_t *form = oac_form_make(p);

    if (!refresh_token || !*refresh_token) {
        *perr = "no refresh_token to refresh the access token with";
        return APR_EINVAL;
    }
    oac_form_add(form, "grant_type", "refresh_token");
    oac_form_add(form, "refresh_token", refresh_token);
    if (scope) {
        oac_form_add(form, "scope", scope);
    }
    return token_request(preq, perr, p, app,
                         app->refresh_token_url ? app->refresh_token_url
                                                : app->access_token_url,
                         form, NULL);
}

apr_status_t oac_oauth2_revoke_request(oac_http_request_t **preq,
                                       const char **perr, apr_pool_t *p,
                                       const oac_app_t *app,
                                       const char *token, const char *hint)
{
    apr_array_header_t *form = oac_form_make(p);

    if (!app->revocation_endpoint) {
        *perr = apr_psprintf(p, "app %s has no revocation_endpoint",
                             app_name(app));
        return APR_EINVAL;
    }
    if (!token || !*token) {
        *perr = "no token to revoke";
        return APR_EINVAL;
    }
    oac_form_add(form, "token", token);
    oac_form_add(form, "token_type_hint", hint);
    return token_request(preq, perr, p, app, app->revocation_endpoint, form,
                         NULL);
}

/* ---- token response ------------------------------------------------------ */

/* ": error (description)" of an RFC 6749 section 5.2 JSON body, or "". */
static const char *json_error_detail(apr_pool_t *p,
                                     const oac_http_response_t *resp)
{
    json_t *json, *error, *desc;
    const char *detail = "";

    if (!resp->body || resp->body_len == 0) {
        return "";
    }
    json = oac_util_json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!json) {
        return "";
    }
    error = json_object_get(json, "error");
    desc = json_object_get(json, "error_description");
    if (json_is_string(error)) {
        detail = apr_pstrcat(p, ": ",
                             oac_util_sanitize(p, json_string_value(error),
                                      OAC_OAUTH2_ERROR_TEXT_MAX),
                             NULL);
        if (json_is_string(desc) && *json_string_value(desc)) {
            detail = apr_pstrcat(p, detail, " (",
                                 oac_util_sanitize(p, json_string_value(desc),
                                          OAC_OAUTH2_ERROR_TEXT_MAX),
                                 ")", NULL);
        }
    }
    json_decref(json);
    return detail;
}

apr_status_t oac_oauth2_token_response(oac_token_t **ptoken,
                                       const char **perr, apr_pool_t *p,
                                       const oac_http_response_t *resp,
                                       apr_int64_t now)
{
    oac_token_t *t;
    apr_status_t rv;

    if (!resp) {
        *perr = "no token endpoint response";
        return APR_EINVAL;
    }
    if (resp->status < 200 || resp->status > 299) {
        /* The provider refused, whatever the body says: it is its error,
         * not a malformed answer. */
        *perr = apr_psprintf(p, "token endpoint answered HTTP %d%s",
                             resp->status, json_error_detail(p, resp));
        return APR_EGENERAL;
    }
    if ((rv = oac_token_parse(&t, perr, p, resp->content_type, resp->body,
                              resp->body_len, now)) != APR_SUCCESS) {
        return rv;
    }
    if (!oac_util_is_vschar(t->access_token)) {
        *perr = "token response has an access_token with characters "
                "outside RFC 6749 VSCHAR";
        return APR_EINVAL;
    }
    if (t->refresh_token && !*t->refresh_token) {
        /* An empty refresh_token is no refresh token. */
        t->refresh_token = NULL;
    }
    if (t->refresh_token && !oac_util_is_vschar(t->refresh_token)) {
        *perr = "token response has a refresh_token with characters "
                "outside RFC 6749 VSCHAR";
        return APR_EINVAL;
    }
    if (t->token_type && !*t->token_type) {
        t->token_type = NULL;
    }
    /* RFC 6749 7.1: a client must not use a token whose type it does not
     * understand; sending it as Bearer would hand it to whoever it was
     * not meant for. */
    if (t->token_type && !strcasecmp(t->token_type, "DPoP")) {
        /* RFC 9449 7.1: bound to the client's DPoP key; token_call
         * refuses it for a client without one */
        t->token_type = "DPoP";
    }
    else if (t->token_type && strcasecmp(t->token_type, "Bearer")) {
        /* Named when it looks like a type name; anything else may be
         * crafted for whoever reads the page or the log. */
        int plain = strlen(t->token_type) <= 32
            && strspn(t->token_type, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
               == strlen(t->token_type);
        *perr = apr_psprintf(p, "token response has token_type %s%s%s, "
                             "which this client does not support (only "
                             "Bearer, and DPoP with dpop_signing_alg); an "
                             "access_token_response compliance "
                             "hook may map it", plain ? "'" : "",
                             plain ? t->token_type : "(not shown)",
                             plain ? "'" : "");
        return APR_EINVAL;
    }
    *ptoken = t;
    return APR_SUCCESS;
}

/* Whether the answer's JSON body has "error": error (RFC 6749 5.2). */
static int body_error_is(const oac_http_response_t *resp, const char *error)
{
    json_error_t jerr;
    json_t *doc;
    const char *e;
    int is;

    if (!resp->body || !resp->body_len) {
        return 0;
    }
    doc = oac_util_json_loadb(resp->body, resp->body_len, 0, &jerr);
    e = json_string_value(json_object_get(doc, "error"));
    is = e && !strcmp(e, error);
    json_decref(doc);
    return is;
}

/* Whether a DPoP-aware server's answer is the error `error`: a 400 with
 * it in the JSON body from an authorization server (RFC 9449 8), a 401
 * with it in WWW-Authenticate: DPoP from a resource server (9). */
static int dpop_error_is(const oac_http_response_t *resp, const char *error)
{
    const char *auth;
    int is = 0;

    if (resp->status == 400) {
        is = body_error_is(resp, error);
    }
    else if (resp->status == 401 && resp->headers
             && (auth = apr_table_get(resp->headers, "WWW-Authenticate"))) {
        is = strstr(auth, error) != NULL;
    }
    return is;
}

/* The nonce a DPoP-aware server asks for with use_dpop_nonce; NULL for
 * any other answer or a nonce that is no NQCHAR string. */
const char *oac_oauth2_dpop_nonce_asked(apr_pool_t *p,
                                        const oac_http_response_t *resp)
{
    const char *nonce = resp->headers
        ? apr_table_get(resp->headers, "DPoP-Nonce") : NULL;

    if (!nonce || !*nonce || strlen(nonce) > 512
        || strspn(nonce, "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQ"
                  "RSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~")
           != strlen(nonce)) {
        return NULL;
    }
    return dpop_error_is(resp, "use_dpop_nonce") ? apr_pstrdup(p, nonce)
                                                 : NULL;
}

/* A server that refused the proof itself (RFC 9449 5, 7.1:
 * invalid_dpop_proof), e.g. one whose replay cache holds its jti: the
 * request went no further, and a fresh proof may pass. */
static int dpop_proof_refused(const oac_http_response_t *resp)
{
    return dpop_error_is(resp, "invalid_dpop_proof");
}

/* oac_oauth2_dpop_perform, and in *psent the request sent last: a retry
 * carries a client assertion of its own, which an error must not show
 * either. */
static apr_status_t dpop_perform(oac_http_response_t **presp,
                                 const char **perr, apr_pool_t *p,
                                 oac_http_client_t *http,
                                 const oac_app_t *app,
                                 const oac_http_request_t *req,
                                 apr_int64_t now,
                                 const oac_http_request_t **psent)
{
    oac_http_request_t *signed_req;
    apr_table_t *headers;
    const char *nonce = NULL, *access_token = NULL, *auth;
    char *proof;
    apr_status_t rv;
    int attempt, nonce_tried = 0, fresh_tried = 0;
    /* A second proof (and assertion) says when it is made: the first
     * call may have taken the HTTP timeout. */
    apr_time_t started = apr_time_now();

    *psent = req;
    if (!app->dpop_signer) {
        return oac_http_perform(presp, perr, http, p, req);
    }
    auth = req->headers ? apr_table_get(req->headers, "Authorization") : NULL;
    if (auth && !strncmp(auth, "DPoP ", 5)) {
        access_token = auth + 5;
    }
    for (attempt = 0;; ++attempt) {
        const char *asked;
        apr_int64_t at = now + apr_time_sec(apr_time_now() - started);

        signed_req = apr_pmemdup(p, req, sizeof(*req));
        headers = req->headers ? apr_table_copy(p, req->headers)
                               : apr_table_make(p, 2);
        if (oac_dpop_proof(&proof, perr, p, app->dpop_signer, req->method,
                           req->url, access_token, nonce, at)
            != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        apr_table_setn(headers, "DPoP", proof);
        signed_req->headers = headers;
        if (attempt && req->body
            && strstr(req->body, "client_assertion=")) {
            /* A client assertion is good for one call only. */
            apr_array_header_t *form;
            const char *why;
            if (oac_form_decode(&form, &why, p, req->body) == APR_SUCCESS
                && add_assertion(perr, p, app, form, at) == APR_SUCCESS) {
                signed_req->body = oac_form_encode(p, form);
                signed_req->body_len = strlen(signed_req->body);
            }
        }
        *psent = signed_req;
        if ((rv = oac_http_perform(presp, perr, http, p, signed_req))
            != APR_SUCCESS) {
            return rv;
        }
        /* The server's nonce, once, and a fresh proof for one it refused,
         * once: a second refusal is its answer. A proof is never sent
         * twice. */
        if (!nonce_tried && (asked = oac_oauth2_dpop_nonce_asked(p, *presp))) {
            nonce = asked;
            nonce_tried = 1;
        }
        else if (!fresh_tried && dpop_proof_refused(*presp)) {
            fresh_tried = 1;
        }
        else {
            break;
        }
    }
    return APR_SUCCESS;
}

apr_status_t oac_oauth2_dpop_perform(oac_http_response_t **presp,
                                     const char **perr, apr_pool_t *p,
                                     oac_http_client_t *http,
                                     const oac_app_t *app,
                                     const oac_http_request_t *req,
                                     apr_int64_t now)
{
    const oac_http_request_t *sent;

    return dpop_perform(presp, perr, p, http, app, req, now, &sent);
}

/* Adds to all the client credentials req carries (a client secret, a
 * client assertion or Apple's signed secret made for this call, Basic
 * credentials): 3 at most. */
static int call_credentials(const char **all, apr_pool_t *p,
                            const oac_http_request_t *req)
{
    apr_array_header_t *form = NULL;
    const char *auth, *bad;
    int n = 0;

    if (req && req->body
        && oac_form_decode(&form, &bad, p, req->body) == APR_SUCCESS) {
        all[n++] = oac_form_get(form, "client_secret");
        all[n++] = oac_form_get(form, "client_assertion");
    }
    if (req && req->headers
        && (auth = apr_table_get(req->headers, "Authorization"))
        && !strncasecmp(auth, "Basic ", 6)) {
        all[n++] = auth + 6;
    }
    return n;
}

/* why with the secrets, and the client credentials of req and of sent
 * (the request sent last, when a DPoP retry made it anew; or NULL),
 * redacted: a provider that quotes what it was sent must not put them in
 * the log or on an error page. */
static const char *redact_call(apr_pool_t *p, const char *why,
                               const oac_http_request_t *req,
                               const oac_http_request_t *sent,
                               const char *const *secrets, int nsecrets)
{
    const char **all = apr_pcalloc(p, (nsecrets + 6) * sizeof(*all));
    int n = nsecrets;

    memcpy(all, secrets, nsecrets * sizeof(*all));
    n += call_credentials(all + n, p, req);
    if (sent && sent != req) {
        n += call_credentials(all + n, p, sent);
    }
    return oac_util_redact(p, why, all, n);
}

/* A status of a provider that could not answer now: down (5xx), too
 * slow (408), too busy (429). A server that says invalid_grant all the
 * same has answered, whatever its status. */
static int provider_unavailable(const oac_http_response_t *resp)
{
    return (resp->status >= 500 || resp->status == 408
            || resp->status == 429)
           && !body_error_is(resp, "invalid_grant");
}

/* Sends req and reads the answer; secrets are redacted from *perr. */
static apr_status_t token_call(oac_token_t **ptoken, const char **perr,
                               apr_pool_t *p, oac_http_client_t *http,
                               const oac_app_t *app,
                               const oac_http_request_t *req,
                               const char *const *secrets, int nsecrets,
                               apr_int64_t now)
{
    oac_http_response_t *resp;
    const oac_http_request_t *sent = NULL;
    const char *why = NULL;
    apr_status_t rv;

    if ((rv = dpop_perform(&resp, &why, p, http, app, req, now, &sent))
        != APR_SUCCESS) {
        why = apr_psprintf(p, "token endpoint %s: %s",
                           oac_util_url_for_message(p, req->url),
                           why ? why : "request failed");
        /* (a compliance hook that failed the call comes here too; the
         * caller reads its verdict first) */
        rv = OAC_OAUTH2_UNAVAILABLE;
    }
    else if (provider_unavailable(resp)) {
        oac_token_t *ignored;
        oac_oauth2_token_response(&ignored, &why, p, resp, now);
        rv = OAC_OAUTH2_UNAVAILABLE;
    }
    else if ((rv = oac_fix_token_response(resp, &why, p, app))
             == APR_SUCCESS) {
        rv = oac_oauth2_token_response(ptoken, &why, p, resp, now);
        if (rv == APR_SUCCESS && (*ptoken)->token_type
            && !strcmp((*ptoken)->token_type, "DPoP") && !app->dpop_signer) {
            why = "token response has token_type DPoP, and the app has no "
                  "DPoP key (dpop_signing_alg)";
            rv = APR_EINVAL;
        }
    }
    if (rv != APR_SUCCESS) {
        *perr = redact_call(p, why, req, sent, secrets, nsecrets);
    }
    return rv;
}

apr_status_t oac_oauth2_exchange_code(oac_token_t **ptoken, const char **perr,
                                      apr_pool_t *p, oac_http_client_t *http,
                                      const oac_app_t *app, const char *code,
                                      const char *redirect_uri,
                                      const char *code_verifier,
                                      apr_int64_t now)
{
    const char *secrets[3];
    oac_http_request_t *req;
    apr_status_t rv;

    if ((rv = oac_oauth2_code_request(&req, perr, p, app, code, redirect_uri,
                                      code_verifier)) != APR_SUCCESS) {
        return rv;
    }
    secrets[0] = code;
    secrets[1] = code_verifier;
    secrets[2] = app->client_secret;
    return token_call(ptoken, perr, p, http, app, req, secrets, 3, now);
}

apr_status_t oac_oauth2_client_credentials(oac_token_t **ptoken,
                                          const char **perr, apr_pool_t *p,
                                          oac_http_client_t *http,
                                          const oac_app_t *app,
                                          apr_int64_t now)
{
    apr_array_header_t *form = oac_form_make(p);
    const char *secrets[1];
    oac_http_request_t *req;
    apr_status_t rv;

    oac_form_add(form, "grant_type", "client_credentials");
    if (app->scope) {
        oac_form_add(form, "scope", app->scope);
    }
    if ((rv = token_request(&req, perr, p, app, app->access_token_url, form,
                            app->access_token_params)) != APR_SUCCESS) {
        return rv;
    }
    secrets[0] = app->client_secret;
    return token_call(ptoken, perr, p, http, app, req, secrets, 1, now);
}

apr_status_t oac_oauth2_refresh(oac_token_t **ptoken, const char **perr,
                                apr_pool_t *p, oac_http_client_t *http,
                                const oac_app_t *app, const oac_token_t *old,
                                apr_int64_t now)
{
    const char *secrets[3];
    oac_http_request_t *req;
    oac_token_t *t;
    apr_status_t rv;

    if (!old) {
        *perr = "no token to refresh";
        return APR_EINVAL;
    }
    if ((rv = oac_oauth2_refresh_request(&req, perr, p, app,
                                         old->refresh_token, NULL))
        != APR_SUCCESS) {
        return rv;
    }
    secrets[0] = old->refresh_token;
    secrets[1] = old->access_token;
    secrets[2] = app->client_secret;
    if ((rv = token_call(&t, perr, p, http, app, req, secrets, 3, now))
        != APR_SUCCESS) {
        return rv;
    }
    if (!t->refresh_token) {
        t->refresh_token = apr_pstrdup(p, old->refresh_token);
    }
    if (!t->scope && old->scope) {
        t->scope = apr_pstrdup(p, old->scope);
    }
    *ptoken = t;
    return APR_SUCCESS;
}

int oac_oauth2_token_expiring(const oac_token_t *t, apr_int64_t now,
                              apr_int64_t margin)
{
    return t && t->expires_at != 0 && t->expires_at - margin <= now;
}

/* ---- token placement ----------------------------------------------------- */

char *oac_oauth2_bearer_header(apr_pool_t *p, const oac_token_t *t)
{
    return apr_pstrcat(p, t->token_type && !strcmp(t->token_type, "DPoP")
                          ? "DPoP " : "Bearer ", t->access_token, NULL);
}

/* 1 when the segment's name, form-decoded, is name. */
static int segment_has_name(apr_pool_t *p, const char *seg, apr_size_t len,
                            const char *name)
{
    const char *eq = memchr(seg, '=', len);
    apr_size_t nlen = eq ? (apr_size_t)(eq - seg) : len;
    const char *why;
    char *decoded;

    /* A name that does not decode cannot be name to the upstream either. */
    if (oac_util_pct_decode(&decoded, &why, p, apr_pstrmemdup(p, seg, nlen),
                            1) != APR_SUCCESS) {
        return 0;
    }
    return strcmp(decoded, name) == 0;
}

/*
 * in[0..len) without its name=... parameters, then name=value appended.
 * Other segments are copied byte for byte; empty ones are dropped.
 */
static char *replace_param(apr_pool_t *p, const char *in, apr_size_t len,
                           const char *name, const char *value,
                           apr_size_t *poutlen)
{
    const char *pair = apr_pstrcat(p, oac_util_pct_encode(p, name), "=",
                                   oac_util_pct_encode(p, value), NULL);
    apr_size_t plen = strlen(pair), olen = 0, i = 0;
    char *out = apr_palloc(p, len + 1 + plen + 1);

    while (i < len) {
        const char *seg = in + i;
        const char *amp = memchr(seg, '&', len - i);
        apr_size_t slen = amp ? (apr_size_t)(amp - seg) : len - i;

        if (slen > 0 && !segment_has_name(p, seg, slen, name)) {
            memcpy(out + olen, seg, slen);
            olen += slen;
            out[olen++] = '&';
        }
        i += slen + 1;
    }
    memcpy(out + olen, pair, plen);
    olen += plen;
    out[olen] = '\0';
    if (poutlen) {
        *poutlen = olen;
    }
    return out;
}

char *oac_oauth2_add_token_to_query(apr_pool_t *p, const char *query,
                                    const char *param_name,
                                    const oac_token_t *t)
{
    return replace_param(p, query ? query : "", query ? strlen(query) : 0,
                         param_name ? param_name : "access_token",
                         t->access_token, NULL);
}

char *oac_oauth2_add_token_to_form(apr_pool_t *p, const char *form_body,
                                   apr_size_t len, const char *param_name,
                                   const oac_token_t *t, apr_size_t *pnewlen)
{
    return replace_param(p, form_body ? form_body : "",
                         form_body ? len : 0,
                         param_name ? param_name : "access_token",
                         t->access_token, pnewlen);
}

/* ---- revocation (RFC 7009) ----------------------------------------------- */

static apr_status_t revoke_one(const char **perr, apr_pool_t *p,
                               oac_http_client_t *http, const oac_app_t *app,
                               const char *token, const char *hint,
                               const char *const *secrets, int nsecrets)
{
    oac_http_request_t *req = NULL;
    oac_http_response_t *resp;
    const char *why = NULL;
    apr_status_t rv;

    if ((rv = oac_oauth2_revoke_request(&req, &why, p, app, token, hint))
        != APR_SUCCESS) {
        /* why says what is missing */
    }
    else if ((rv = oac_http_perform(&resp, &why, http, p, req))
             != APR_SUCCESS) {
        why = apr_psprintf(p, "revocation endpoint %s: %s",
                           oac_util_url_for_message(p, req->url),
                           why ? why : "request failed");
    }
    else if (resp->status != 200) {
        why = apr_psprintf(p, "revocation endpoint answered HTTP %d%s",
                           resp->status,
                           json_error_detail(p, resp));
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        *perr = redact_call(p, why, req, NULL, secrets, nsecrets);
    }
    return rv;
}

apr_status_t oac_oauth2_revoke(const char **perr, apr_pool_t *p,
                               oac_http_client_t *http,
                               const oac_app_t *app, const oac_token_t *t)
{
    const char *secrets[3];
    const char *why_refresh = NULL, *why_access = NULL;
    apr_status_t rv_refresh = APR_SUCCESS, rv_access;

    if (!t) {
        *perr = "no token to revoke";
        return APR_EINVAL;
    }
    secrets[0] = t->refresh_token;
    secrets[1] = t->access_token;
    secrets[2] = app->client_secret;
    if (t->refresh_token && *t->refresh_token) {
        rv_refresh = revoke_one(&why_refresh, p, http, app, t->refresh_token,
                                "refresh_token", secrets, 3);
    }
    rv_access = revoke_one(&why_access, p, http, app, t->access_token,
                           "access_token", secrets, 3);
    if (rv_refresh != APR_SUCCESS) {
        *perr = why_refresh;
        return rv_refresh;
    }
    if (rv_access != APR_SUCCESS) {
        *perr = why_access;
    }
    return rv_access;
}

/* ---- pushed authorization requests (RFC 9126) ---------------------------- */

apr_status_t oac_oauth2_par(char **purl, const char **perr, apr_pool_t *p,
                            oac_http_client_t *http, const oac_app_t *app,
                            const char *redirect_uri, const char *state,
                            const char *code_challenge,
                            const apr_array_header_t *extra, apr_int64_t now)
{
    apr_array_header_t *form = authorize_params(p, app, redirect_uri, state,
                                                code_challenge);
    apr_array_header_t *q = oac_form_make(p);
    const char *secrets[1];
    oac_http_request_t *req;
    const oac_http_request_t *sent = NULL;
    oac_http_response_t *resp;
    const char *why = NULL, *request_uri;
    json_error_t jerr;
    json_t *doc;
    apr_status_t rv;
    int i;

    for (i = 0; extra && i < extra->nelts; ++i) {
        const oac_param_t *e = &APR_ARRAY_IDX(extra, i, oac_param_t);
        oac_form_set(form, e->name, e->value);
    }
    secrets[0] = app->client_secret;
    if ((rv = token_request(&req, perr, p, app, app->par_endpoint, form,
                            NULL)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = dpop_perform(&resp, &why, p, http, app, req, now, &sent))
        != APR_SUCCESS) {
        *perr = redact_call(p, apr_psprintf(p, "pushed authorization "
                                "request endpoint %s: %s",
                                oac_util_url_for_message(p, req->url),
                                why ? why : "request failed"),
                            req, sent, secrets, 1);
        return rv;
    }
    if (resp->status != 201 && resp->status != 200) {
        *perr = redact_call(p, apr_psprintf(p, "pushed authorization "
                                "request endpoint answered HTTP %d%s",
                                resp->status, json_error_detail(p, resp)),
                            req, sent, secrets, 1);
        return APR_EGENERAL;
    }
    doc = oac_util_json_loadb(resp->body, resp->body_len, 0, &jerr);
    request_uri = json_string_value(json_object_get(doc, "request_uri"));
    if (!request_uri || !*request_uri || !oac_util_is_vschar(request_uri)) {
        json_decref(doc);
        *perr = "the pushed authorization request endpoint answered no "
                "request_uri";
        return APR_EGENERAL;
    }
    /* RFC 9126 4: the browser carries client_id and request_uri only */
    oac_form_add(q, "client_id", app->client_id);
    oac_form_add(q, "request_uri", apr_pstrdup(p, request_uri));
    json_decref(doc);
    *purl = oac_url_add_query(p, app->authorize_url, q);
    return APR_SUCCESS;
}
