/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Built-in compliance fixes (compliance_fix=NAME,...) and the declarative
 * token_field_map, for providers that bend the spec. What is harmless to
 * accept from every provider (form-encoded or text/plain token bodies,
 * lowercase or missing token_type, expires_in as a string or 0, an error
 * field with status 200) is accepted by oac_token_parse without a fix.
 */
#ifndef OAC_FIX_H
#define OAC_FIX_H

#include <apr_pools.h>
#include <jansson.h>

#include "oac_app.h"
#include "oac_http.h"

/* The fixes this build knows, NULL-terminated. */
extern const char *const oac_fix_names[];

/* Sign in with Apple's issuer: the audience of the client_secret that
 * compliance_fix=apple signs, when the app names no issuer of its own. */
#define OAC_APPLE_ISSUER "https://appleid.apple.com"

/* Rewrites a token endpoint response in place into the plain RFC 6749 JSON
 * shape the parser expects, per the app's fixes and token_field_map. A body
 * that is neither JSON nor a form is left alone (the parser reports it). */
apr_status_t oac_fix_token_response(oac_http_response_t *resp,
                                    const char **perr, apr_pool_t *p,
                                    const oac_app_t *app);

/* The query parameter that carries the token on API calls for a provider
 * that wants it there under its own name (LinkedIn's oauth2_access_token,
 * Weibo's access_token), or NULL. */
const char *oac_fix_api_token_param(const oac_app_t *app);

/* Checks a token_field_map value: "from:to,from:to", from a field name or
 * a dotted path into a JSON object, to one of access_token, refresh_token,
 * token_type, expires_in, scope. */
apr_status_t oac_fix_check_field_map(const char **perr, apr_pool_t *p,
                                     const char *map);

/* Whether the app lists the fix name. */
int oac_fix_has(const oac_app_t *app, const char *name);

/* compliance_fix=microsoft (Entra ID): iss, when metadata naming it may
 * speak for the URL that promised expected: the two differ only in the
 * first path segment, where iss has the template {tenantid} (for common
 * and organizations) or a tenant ID (for consumers or a domain); never
 * with the issuer key set. Else NULL. */
const char *oac_fix_metadata_issuer(const oac_app_t *app,
                                    const char *expected, const char *iss);

/* Whether the app's users may come from any tenant: the microsoft fix,
 * and a discovery URL of common or organizations. */
int oac_fix_multi_tenant(const oac_app_t *app);

/* Whether an issuer is a template ({tenantid}). */
int oac_fix_issuer_is_template(const char *issuer);

/* The issuer an id_token must name: the app's, or with the microsoft fix
 * and a template, the template filled with the token's tid (a GUID). NULL
 * and *pwhy when the token has no such tid. Google's issuer is also named
 * without its scheme, as Google documents. */
const char *oac_fix_token_issuer(const char **pwhy, apr_pool_t *p,
                                 const oac_app_t *app, const json_t *claims);

/* Sign in with Apple sends the user's name once, at the first login, in
 * the form it posts to the callback ("user": {"name": {"firstName",
 * "lastName"}, "email"}), unsigned, and never again. With the apple fix,
 * its first and last name become the claims given_name, family_name and
 * name where the id_token has none (Apple's id_tokens have none); its
 * email is not taken (the id_token's is signed). How many claims were
 * added; 0 for anything else (no fix, no such form, a name with a
 * control character or longer than 256 bytes). */
int oac_fix_apple_user(const oac_app_t *app, json_t *claims,
                       const char *user);

/* Whether Apple answers a request for scope only by a form post: it has
 * name or email. */
int oac_fix_apple_needs_form_post(const char *scope);

/* Whether an authorization response's iss (RFC 9207) is the app's issuer
 * (with a template, the template filled with a tenant ID). */
int oac_fix_issuer_matches(const oac_app_t *app, const char *iss);

#endif
