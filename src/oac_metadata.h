/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Discovery (contract section 9): an OAuth 2 app's server_metadata_url
 * names the provider's OpenID Connect discovery document or RFC 8414
 * authorization server metadata, and every endpoint the app does not set
 * is taken from it. The fetching and caching are the glue's
 * (mod_oauthclient_discovery.c); this file only reads a document.
 */
#ifndef OAC_METADATA_H
#define OAC_METADATA_H

#include <apr_pools.h>

#include "oac_app.h"

/*
 * The issuer a metadata URL promises, or NULL when it has neither
 * well-known form:
 *   ISSUER/.well-known/openid-configuration         (OIDC Discovery 4)
 *   https://HOST/.well-known/oauth-authorization-server/PATH -> https://HOST/PATH
 *                                                   (RFC 8414 3)
 */
const char *oac_metadata_expected_issuer(apr_pool_t *p, const char *url);
/* Why a server_metadata_url of neither form needs the issuer key: said by
 * configtest, and by a document fetched for an app made without it. */
#define OAC_METADATA_NO_ISSUER \
    "server_metadata_url ends neither in " \
    "/.well-known/openid-configuration nor has " \
    "/.well-known/oauth-authorization-server after its host, so the " \
    "issuer its document must name is unknown: set issuer="

/*
 * A copy of app (allocated from p) completed from the metadata document
 * json (len bytes): authorize_url, access_token_url (and refresh_token_url
 * where it is not set), userinfo_endpoint, revocation_endpoint, jwks_uri,
 * end_session_endpoint, pushed_authorization_request_endpoint (PAR
 * required when require_pushed_authorization_requests is true) and issuer, each only where app does not set it
 * (explicit keys win); PKCE S256 when code_challenge_methods_supported
 * lists it; iss_required when authorization_response_iss_parameter_supported
 * is true; for an OpenID Connect app that does not list its algorithms,
 * RS256 and the metadata's id_token_signing_alg_values_supported (less
 * none and HS*), and a jwks_uri it must have. Refused, with *perr saying why: a document that is no JSON
 * object; an issuer missing, or different from app's issuer key or from
 * what the URL promises (OIDC Discovery 4.3: a document that names another
 * provider is an impersonation); an endpoint the app needs that is missing;
 * an endpoint that is not an absolute http(s) URL.
 */
apr_status_t oac_metadata_apply(oac_app_t **pout, const char **perr,
                                apr_pool_t *p, const oac_app_t *app,
                                const char *json, apr_size_t len);

#endif
