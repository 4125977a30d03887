/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_oauth2: the OAuth 2 client protocol (RFC 6749 authorization code and
 * refresh grants, RFC 7636 PKCE with S256, RFC 6750 bearer token placement),
 * independent of httpd. Requests are built as oac_http_request_t and sent
 * through an oac_http_client_t, so every flow can be tested with a fake.
 *
 * Error strings never contain the authorization code, the PKCE verifier,
 * the client secret or a token: provider error text that echoes one of the
 * values sent is redacted before it reaches *perr.
 */

#ifndef OAC_OAUTH2_H
#define OAC_OAUTH2_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "oac_app.h"
#include "oac_http.h"
#include "oac_token.h"

/* ---- PKCE (RFC 7636) ----------------------------------------------------- */

/* A code_verifier: 32 CSPRNG bytes, base64url, 43 chars of [A-Za-z0-9_-]
 * (RFC 7636 section 4.1's recommended construction). */
apr_status_t oac_oauth2_pkce_verifier(char **pverifier, const char **perr,
                                      apr_pool_t *p);

/*
 * The S256 code_challenge: base64url(SHA-256(verifier)), 43 chars.
 * Returns NULL only when OpenSSL cannot compute SHA-256 (e.g. a broken
 * provider configuration): callers must treat NULL as an error, never as
 * "no PKCE".
 */
char *oac_oauth2_pkce_challenge(apr_pool_t *p, const char *verifier);

/* ---- authorization request (RFC 6749 section 4.1.1) ---------------------- */

/*
 * app->authorize_url with response_type=code, client_id, redirect_uri,
 * scope (when app->scope is set), state, and, when code_challenge is not
 * NULL, code_challenge and code_challenge_method=S256; then
 * app->authorize_params in their order. An authorize_params entry never
 * replaces one of the parameters above: response_type, client_id,
 * redirect_uri, state, code_challenge and code_challenge_method are always
 * skipped there, and scope is skipped when app->scope is set.
 */
char *oac_oauth2_authorize_url(apr_pool_t *p, const oac_app_t *app,
                               const char *redirect_uri, const char *state,
                               const char *code_challenge);

/*
 * RFC 9126: POSTs the parameters oac_oauth2_authorize_url would put in the
 * URL, and extra's (replacing any of the same name), to
 * app->par_endpoint with the client's authentication (and a DPoP proof
 * when the app has a DPoP key), and gives in *purl the URL the browser is
 * sent to: authorize_url?client_id=...&request_uri=... . APR_EGENERAL
 * with *perr (never a secret) when the endpoint fails or answers no
 * request_uri.
 */
apr_status_t oac_oauth2_par(char **purl, const char **perr, apr_pool_t *p,
                            oac_http_client_t *http, const oac_app_t *app,
                            const char *redirect_uri, const char *state,
                            const char *code_challenge,
                            const apr_array_header_t *extra, apr_int64_t now);

/*
 * req sent by http; with the app's DPoP key (RFC 9449), with a fresh proof
 * in a DPoP header (with ath when req's Authorization is "DPoP <token>"),
 * and once more, with a fresh proof carrying the server's nonce (and a
 * fresh client assertion when the body has one), when the server answers
 * that it wants one. Without a DPoP key, req as it is.
 */
apr_status_t oac_oauth2_dpop_perform(oac_http_response_t **presp,
                                     const char **perr, apr_pool_t *p,
                                     oac_http_client_t *http,
                                     const oac_app_t *app,
                                     const oac_http_request_t *req,
                                     apr_int64_t now);

/* The nonce a server's answer asks DPoP proofs to carry (RFC 9449 8, 9),
 * or NULL. */
const char *oac_oauth2_dpop_nonce_asked(apr_pool_t *p,
                                        const oac_http_response_t *resp);

/* ---- token requests (RFC 6749 sections 4.1.3 and 6) ---------------------- */

/*
 * POST app->access_token_url, form body grant_type=authorization_code,
 * code, redirect_uri, code_verifier (when not NULL), the client
 * authentication parameters (below), then app->access_token_params whose
 * names are not already in the body. Headers: Accept: application/json,
 * and Authorization for client_secret_basic.
 *
 * Client authentication (app->token_endpoint_auth_method):
 * - client_secret_basic: Authorization: Basic base64(enc(client_id) ":"
 *   enc(client_secret)), enc being RFC 6749 section 2.3.1's form-encoding.
 *   enc is oac_util_pct_encode: every byte but ALPHA DIGIT "-._~" becomes
 *   %XX, so a space is %20, never '+'. Both decoders providers use (form
 *   decoding, where '+' is a space, and plain percent-decoding, where '+'
 *   stays '+') read %20 and %2B the same way; a '+' for space would be
 *   read back as '+' by the second kind.
 * - client_secret_post: client_id and client_secret in the body.
 * - none: client_id in the body only (a public client).
 */
apr_status_t oac_oauth2_code_request(oac_http_request_t **preq,
                                     const char **perr, apr_pool_t *p,
                                     const oac_app_t *app, const char *code,
                                     const char *redirect_uri,
                                     const char *code_verifier);

/*
 * POST app->refresh_token_url (access_token_url when unset), form body
 * grant_type=refresh_token, refresh_token, scope (when not NULL), then
 * client authentication as for the code request. access_token_params are
 * for the code request only and are not sent.
 */
apr_status_t oac_oauth2_refresh_request(oac_http_request_t **preq,
                                        const char **perr, apr_pool_t *p,
                                        const oac_app_t *app,
                                        const char *refresh_token,
                                        const char *scope);

/*
 * Reads a token endpoint response.
 * - 2xx: oac_token_parse, with its statuses: APR_EGENERAL when the body is
 *   an OAuth error (some providers answer errors with 200), APR_EINVAL when
 *   it is malformed. An access_token or refresh_token with a character
 *   outside RFC 6749's VSCHAR (%x20-7E) is also APR_EINVAL, so a token can
 *   always be put in a header or a URL as is.
 * - anything else: APR_EGENERAL with "token endpoint answered HTTP
 *   <status>", followed by ": <error>[ (<error_description>)]" when the
 *   body is an RFC 6749 section 5.2 JSON error; both parts cut to 200
 *   bytes, control characters replaced by '?'.
 */
apr_status_t oac_oauth2_token_response(oac_token_t **ptoken,
                                       const char **perr, apr_pool_t *p,
                                       const oac_http_response_t *resp,
                                       apr_int64_t now);

/*
 * Code request + perform + token response. A transport failure returns the
 * transport's status with "token endpoint <scheme://host[:port]/path>:
 * <transport error>" (the endpoint's query is never shown). Any echo of the
 * code, the verifier or the client secret in provider text is redacted.
 */
apr_status_t oac_oauth2_exchange_code(oac_token_t **ptoken, const char **perr,
                                      apr_pool_t *p, oac_http_client_t *http,
                                      const oac_app_t *app, const char *code,
                                      const char *redirect_uri,
                                      const char *code_verifier,
                                      apr_int64_t now);

/*
 * Refreshes old (which must have a refresh_token) without asking for a
 * different scope. The new token keeps old's refresh_token when the
 * response has none (or an empty one): RFC 6749 section 6 lets the
 * provider rotate it or not. It keeps old's scope when the response has
 * none (section 5.1: omitted means unchanged). Errors as for
 * oac_oauth2_exchange_code, with the refresh token and client secret
 * redacted.
 */
/*
 * RFC 6749 4.4: the app's own token (grant_type=client_credentials, the
 * app's scope, access_token_params), the client authenticating as at the
 * token endpoint (assertions and DPoP included).
 */
apr_status_t oac_oauth2_client_credentials(oac_token_t **ptoken,
                                          const char **perr, apr_pool_t *p,
                                          oac_http_client_t *http,
                                          const oac_app_t *app,
                                          apr_int64_t now);

/*
 * What the token calls (code exchange, refresh, client credentials)
 * return when the provider gave no verdict on the grant: it could not be
 * reached, TLS failed, the call timed out, or it answered 5xx, 408 or 429
 * (other than with invalid_grant). A refresh that fails so keeps the
 * token: contract section 7 answers the browser 502, and the user stays
 * logged in for when the provider is back.
 */
#define OAC_OAUTH2_UNAVAILABLE (APR_OS_START_USERERR + 171)

apr_status_t oac_oauth2_refresh(oac_token_t **ptoken, const char **perr,
                                apr_pool_t *p, oac_http_client_t *http,
                                const oac_app_t *app, const oac_token_t *old,
                                apr_int64_t now);

/*
 * RFC 7009 revocation of token (token_type_hint: hint, "refresh_token" or
 * "access_token"): POST app->revocation_endpoint, form body token and
 * token_type_hint, then client authentication as for the token endpoint.
 */
apr_status_t oac_oauth2_revoke_request(oac_http_request_t **preq,
                                       const char **perr, apr_pool_t *p,
                                       const oac_app_t *app,
                                       const char *token, const char *hint);

/*
 * Revokes t's refresh token (when it has one), then its access token, in
 * that order (RFC 7009 section 2.1: revoking a refresh token may take its
 * access tokens with it; the access token is revoked anyway, for servers
 * that do not). Both are tried; APR_SUCCESS when every call was answered
 * 200 (section 2.2: also for a token the server no longer knows), else
 * the status of the first failure with *perr ("revocation endpoint
 * answered HTTP <status>" or the transport error; tokens and the client
 * secret redacted).
 */
apr_status_t oac_oauth2_revoke(const char **perr, apr_pool_t *p,
                               oac_http_client_t *http,
                               const oac_app_t *app, const oac_token_t *t);

/* 1 when t has a known expiry (expires_at != 0) and expires_at - margin
 * <= now; else 0 (also for t == NULL). */
int oac_oauth2_token_expiring(const oac_token_t *t, apr_int64_t now,
                              apr_int64_t margin);

/* ---- token placement on API requests (RFC 6750 section 2) ---------------- */

/* The Authorization header's value: "Bearer <access_token>", or
 * "DPoP <access_token>" for a DPoP-bound token (which needs a proof
 * beside it: oac_oauth2_dpop_perform). */
char *oac_oauth2_bearer_header(apr_pool_t *p, const oac_token_t *t);

/*
 * query (without '?'; NULL or "" for none) with param_name=<access_token>
 * appended, both through oac_util_pct_encode. Any parameter of query that
 * already has that name (once form-decoded) is removed first, so the
 * upstream sees exactly one token: the session's. param_name NULL means
 * "access_token". Returns the new query, without '?'.
 */
char *oac_oauth2_add_token_to_query(apr_pool_t *p, const char *query,
                                    const char *param_name,
                                    const oac_token_t *t);

/*
 * The same for an application/x-www-form-urlencoded body of len bytes
 * (need not be NUL-terminated; may be NULL when len is 0). The result is
 * NUL-terminated; its length goes to *pnewlen when pnewlen is not NULL.
 */
char *oac_oauth2_add_token_to_form(apr_pool_t *p, const char *form_body,
                                   apr_size_t len, const char *param_name,
                                   const oac_token_t *t, apr_size_t *pnewlen);

#endif /* OAC_OAUTH2_H */
