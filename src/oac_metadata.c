/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <jansson.h>

#include "oac_metadata.h"
#include "oac_fix.h"
#include "oac_url.h"
#include "oac_util.h"

#define OIDC_SUFFIX "/.well-known/openid-configuration"
/* Signature algorithms taken from a provider's list: JOSE registers a few
 * dozen. */
#define OAC_METADATA_MAX_ALGS 32
#define RFC8414_INFIX "/.well-known/oauth-authorization-server"

const char *oac_metadata_expected_issuer(apr_pool_t *p, const char *url)
{
    apr_size_t len = strlen(url), slen = strlen(OIDC_SUFFIX);
    const char *infix, *host_end;

    if (len > slen && !strcmp(url + len - slen, OIDC_SUFFIX)) {
        return apr_pstrmemdup(p, url, len - slen);
    }
    /* RFC 8414: the well-known part goes between the host and the
     * issuer's path. */
    infix = strstr(url, RFC8414_INFIX);
    host_end = strstr(url, "://");
    if (!infix || !host_end
        || infix != strchr(host_end + 3, '/')
        || (infix[strlen(RFC8414_INFIX)] != '\0'
            && infix[strlen(RFC8414_INFIX)] != '/')) {
        return NULL;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(infix - url)),
                       infix + strlen(RFC8414_INFIX), NULL);
}

/* The string member name of doc, checked as an endpoint URL; NULL when
 * absent. */
static apr_status_t endpoint(const char **pout, const char **perr,
                             apr_pool_t *p, json_t *doc, const char *name)
{
    json_t *v = json_object_get(doc, name);
    apr_uri_t uri;
    const char *why;

    *pout = NULL;
    if (!v) {
        return APR_SUCCESS;
    }
    if (!json_is_string(v)
        || oac_url_check(&uri, &why, p, json_string_value(v))
           != APR_SUCCESS) {
        *perr = apr_psprintf(p, "the provider's metadata has a %s that is "
                             "not an absolute http(s) URL", name);
        return APR_EINVAL;
    }
    *pout = apr_pstrdup(p, json_string_value(v));
    return APR_SUCCESS;
}

/* Sets *field from the metadata member name unless the app set it. A
 * document fetched over https names https endpoints (OpenID Connect
 * Discovery 3, RFC 8414 2): a provider behind a proxy that terminates TLS
 * and does not know it writes http:// ones, and the module would send the
 * client secret, codes, refresh and access tokens in the clear, and take
 * userinfo's claims (REMOTE_USER with user_claim) from whoever is on the
 * path. */
static apr_status_t fill(const char **field, const char **perr,
                         apr_pool_t *p, json_t *doc, const char *name,
                         int https)
{
    const char *v;
    apr_status_t rv = endpoint(&v, perr, p, doc, name);

    if (rv == APR_SUCCESS && !*field && v) {
        if (https && strncasecmp(v, "https://", 8)) {
            *perr = apr_psprintf(p, "the provider's metadata, fetched over "
                                 "https, names an http %s (%s): refused, "
                                 "as it would carry secrets and tokens in "
                                 "the clear; a provider behind a proxy "
                                 "that terminates TLS must be told its "
                                 "public https URL, or set %s= to the "
                                 "https one", name,
                                 oac_util_sanitize(p, v, 200), name);
            return APR_EINVAL;
        }
        *field = v;
    }
    return rv;
}

static int lists(json_t *doc, const char *name, const char *value)
{
    json_t *a = json_object_get(doc, name), *v;
    size_t i;

    json_array_foreach(a, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), value)) {
            return 1;
        }
    }
    return 0;
}

/* RS256 (which OpenID Connect requires of every provider) and what the
 * metadata lists, less none and the HMAC algorithms (keyed by the client
 * secret, accepted only when the app lists them itself). */
static const char *default_algs(apr_pool_t *p, json_t *doc)
{
    json_t *a = json_object_get(doc, "id_token_signing_alg_values_supported");
    json_t *v;
    apr_array_header_t *algs = apr_array_make(p, 8, sizeof(const char *));
    apr_hash_t *seen = apr_hash_make(p);
    size_t i;

    APR_ARRAY_PUSH(algs, const char *) = "RS256";
    /* Joined once, each name once, and no more names than there are
     * algorithms: appending to the list so far made a provider's list of
     * thousands cost gigabytes (quadratic). */
    json_array_foreach(a, i, v) {
        const char *alg = json_string_value(v);
        if (algs->nelts >= OAC_METADATA_MAX_ALGS) {
            break;
        }
        if (alg && strcmp(alg, "RS256") && strcasecmp(alg, "none")
            && strncmp(alg, "HS", 2) && !strchr(alg, ',')
            && *alg && !strchr(alg, ' ')
            && oac_util_is_vschar(alg) && strlen(alg) <= 32
            && !apr_hash_get(seen, alg, APR_HASH_KEY_STRING)) {
            apr_hash_set(seen, alg, APR_HASH_KEY_STRING, alg);
            APR_ARRAY_PUSH(algs, const char *) = alg;
        }
    }
    return apr_array_pstrcat(p, algs, ',');
}

/* An issuer that ends in '/' had it removed to make the well-known URL
 * (OpenID Connect Discovery 4.1, RFC 8414 3.1), so a document fetched
 * there may name expected with it: Auth0's do. Not when the issuer key
 * names the issuer. */
static const char *slashed(const oac_app_t *app, const char *expected,
                           const char *iss)
{
    apr_size_t len = strlen(expected);

    return !app->issuer && len && expected[len - 1] != '/'
           && !strncmp(iss, expected, len) && iss[len] == '/' && !iss[len + 1]
               ? iss : NULL;
}

apr_status_t oac_metadata_apply(oac_app_t **pout, const char **perr,
                                apr_pool_t *p, const oac_app_t *app,
                                const char *json, apr_size_t len)
{
    oac_app_t *out = apr_pmemdup(p, app, sizeof(*app));
    json_error_t jerr;
    json_t *doc = oac_util_json_loadb(json, len, 0, &jerr), *iss;
    const char *expected, *named = NULL;
    apr_status_t rv = APR_EINVAL;
    int https;

    if (!json_is_object(doc)) {
        *perr = !doc && oac_util_json_too_large(&jerr)
                ? apr_pstrcat(p, "the provider's metadata has ", jerr.text,
                              NULL)
                : "the provider's metadata is not a JSON object";
        goto done;
    }
    iss = json_object_get(doc, "issuer");
    if (!json_is_string(iss) || !*json_string_value(iss)) {
        *perr = "the provider's metadata has no issuer";
        goto done;
    }
    expected = app->issuer ? app->issuer
               : oac_metadata_expected_issuer(p, app->server_metadata_url);
    if (!expected) {
        *perr = OAC_METADATA_NO_ISSUER;
        goto done;
    }
    if (strcmp(json_string_value(iss), expected)
        && !(named = slashed(app, expected, json_string_value(iss)))
        && !(named = oac_fix_metadata_issuer(app, expected,
                                              json_string_value(iss)))) {
        *perr = apr_psprintf(p, "the provider's metadata names the issuer "
                             "'%s', not '%s' (%s): refused, as a document "
                             "that speaks for another provider%s",
                             oac_util_sanitize(p, json_string_value(iss),
                                               200), expected,
                             app->issuer ? "the issuer key"
                                         : "what server_metadata_url "
                                           "promises",
                             oac_fix_issuer_is_template(
                                 json_string_value(iss))
                             && !oac_fix_has(app, "microsoft")
                                 ? " (a Microsoft Entra ID document for "
                                   "several tenants: compliance_fix="
                                   "microsoft accepts it)"
                                 : "");
        goto done;
    }
    /* what the document names, when it may name more than expected */
    out->issuer = named ? apr_pstrdup(p, named) : expected;
    https = app->server_metadata_url
            && !strncasecmp(app->server_metadata_url, "https://", 8);
    if (fill(&out->authorize_url, perr, p, doc, "authorization_endpoint",
             https)
        || fill(&out->access_token_url, perr, p, doc, "token_endpoint",
                https)
        || fill(&out->userinfo_endpoint, perr, p, doc, "userinfo_endpoint",
                https)
        || fill(&out->revocation_endpoint, perr, p, doc,
                "revocation_endpoint", https)
        || fill(&out->jwks_uri, perr, p, doc, "jwks_uri", https)
        || fill(&out->end_session_endpoint, perr, p, doc,
                "end_session_endpoint", https)
        || fill(&out->par_endpoint, perr, p, doc,
                "pushed_authorization_request_endpoint", https)) {
        goto done;
    }
    if (!out->refresh_token_url) {
        out->refresh_token_url = out->access_token_url;
    }
    /* An authorization_endpoint is only for logins: a server of machine
     * tokens need not have one (RFC 8414 2), and a login is refused
     * without it (OAC00162). */
    if (!out->access_token_url) {
        *perr = "the provider's metadata has no token_endpoint, and the "
                "app does not set access_token_url";
        goto done;
    }
    if (out->oidc && !out->jwks_uri) {
        *perr = "the provider's metadata has no jwks_uri, and the app does "
                "not set one: its id_tokens cannot be checked";
        goto done;
    }
    if (!out->id_token_algs) {
        out->id_token_algs = default_algs(p, doc);
    }
    if (lists(doc, "code_challenge_methods_supported", "S256")) {
        out->pkce_s256 = 1;
    }
    out->iss_required = app->iss_required || json_is_true(json_object_get(
        doc, "authorization_response_iss_parameter_supported"));
    out->par_required = json_is_true(json_object_get(
        doc, "require_pushed_authorization_requests"));
    if ((out->par_required || out->fapi2) && !out->par_endpoint) {
        *perr = apr_psprintf(p, "%s, and the provider's metadata names no "
                             "pushed_authorization_request_endpoint",
                             out->fapi2 ? "security_profile=fapi2 pushes "
                                          "every authorization request"
                                        : "the provider's metadata requires "
                                          "pushed authorization requests");
        goto done;
    }
    *pout = out;
    rv = APR_SUCCESS;
done:
    json_decref(doc);
    return rv;
}
