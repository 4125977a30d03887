/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_oauth1: the OAuth 1.0a client protocol (RFC 5849): signature base
 * strings, the four signature methods, the Authorization header, and the
 * temporary-credentials and token-credentials requests. Independent of
 * httpd; requests go through an oac_http_client_t so every flow can be
 * tested with a fake.
 *
 * Error strings never contain a secret, a token, a token secret or a
 * verifier (nor the signature, which is derived from them).
 */

#ifndef OAC_OAUTH1_H
#define OAC_OAUTH1_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <openssl/evp.h>

#include "oac_app.h"
#include "oac_http.h"
#include "oac_token.h"

typedef struct {
    oac_sig_method_e method;        /* from oac_app.h */
    const char *consumer_key;
    const char *consumer_secret;    /* may be NULL for RSA-SHA1 */
    EVP_PKEY *rsa_key;              /* RSA-SHA1 only */
    const char *token;              /* NULL for the request-token call */
    const char *token_secret;       /* NULL or "" when no token */
    const char *realm;              /* NULL = no realm in the header */
} oac_oauth1_creds_t;

/* ---- signing (RFC 5849 section 3.4) -------------------------------------- */

/*
 * The base string URI of section 3.4.1.2: scheme and host lowercased, the
 * port dropped when it is the scheme's default (80 for http, 443 for
 * https), the path kept exactly as sent ("/" when empty), no query and no
 * fragment. url must pass oac_url_check.
 */
apr_status_t oac_oauth1_base_string_uri(char **pout, const char **perr,
                                        apr_pool_t *p, const char *url);

/*
 * The signature base string of section 3.4.1:
 * METHOD (uppercased) "&" pct(base string URI) "&" pct(normalized params).
 *
 * The query of url is parsed (form-decoded, '+' is a space) and signed
 * with params, so callers pass only the form body's parameters and the
 * oauth_* protocol parameters (oac_param_t, decoded values; NULL for
 * none). Normalisation is section 3.4.1.3.2's: names and values through
 * oac_util_pct_encode, sorted by encoded name then encoded value in byte
 * order, duplicates kept.
 *
 * oauth_signature is left out wherever it appears. A "realm" in params is
 * taken to be the Authorization header's and left out too (section
 * 3.4.1.3.1 excludes only the header's realm: a "realm" in the URL's query
 * is signed). oac_oauth1_sign_request never puts the header's realm in the
 * parameter list, so it signs a form body field called realm, as a server
 * will.
 */
apr_status_t oac_oauth1_base_string(char **pout, const char **perr,
                                    apr_pool_t *p, const char *method,
                                    const char *url,
                                    const apr_array_header_t *params);

/*
 * The oauth_signature value for base_string (section 3.4.2 - 3.4.4):
 * - HMAC-SHA1, HMAC-SHA256: base64 (standard alphabet, padded) of the HMAC
 *   keyed with pct(consumer_secret) "&" pct(token_secret), NULL being "".
 * - RSA-SHA1: base64 of the RSASSA-PKCS1-v1_5 SHA-1 signature with
 *   c->rsa_key, which must be an RSA key.
 * - PLAINTEXT: the key above itself (not base64).
 */
apr_status_t oac_oauth1_signature(char **psig, const char **perr,
                                  apr_pool_t *p, const oac_oauth1_creds_t *c,
                                  const char *base_string);

/*
 * Signs one request and returns the Authorization header value (section
 * 3.5.1):
 *   OAuth realm="R", oauth_consumer_key="...", oauth_nonce="...",
 *   oauth_signature_method="...", oauth_timestamp="...",
 *   oauth_token="..." (when c->token is not NULL or ""),
 *   oauth_version="1.0", <extra_oauth in their order>, oauth_signature="..."
 * realm only when c->realm is set (as given: it must not contain '"', '\'
 * or a control character); every other name and value through
 * oac_util_pct_encode.
 *
 * body_params: the decoded parameters of an application/x-www-form-urlencoded
 * body, or NULL; they are signed (with url's query) but not sent here.
 * extra_oauth: more protocol parameters (oauth_callback, oauth_verifier),
 * or NULL; each name must start with "oauth_" and must not be one this
 * function sets.
 * nonce: NULL for a fresh one (16 CSPRNG bytes, base64url).
 * timestamp: Unix seconds, 0 for now.
 */
apr_status_t oac_oauth1_sign_request(char **pauth_header, const char **perr,
                                     apr_pool_t *p,
                                     const oac_oauth1_creds_t *c,
                                     const char *method, const char *url,
                                     const apr_array_header_t *body_params,
                                     const apr_array_header_t *extra_oauth,
                                     const char *nonce,
                                     apr_int64_t timestamp);

/*
 * Reads a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE
 * KEY", unencrypted: httpd starts unattended, so there is nobody to ask
 * for a passphrase) and checks that it is an RSA key. The key is freed by
 * a cleanup on p. Errors name the file and give OpenSSL's reason.
 */
apr_status_t oac_oauth1_load_rsa_key(EVP_PKEY **pkey, const char **perr,
                                     apr_pool_t *p, const char *pem_file);

/* ---- the flows (RFC 5849 sections 2.1 - 2.3) ----------------------------- */

/*
 * Temporary credentials: POST app->request_token_url, signed with c's
 * consumer credentials (c->token is ignored), oauth_callback=callback_url
 * ("oob" when NULL) in the Authorization header, app->request_token_params
 * as the form body (signed too). now (Unix seconds) is the timestamp, 0
 * for the current time.
 *
 * The answer must be 2xx and form-encoded with oauth_token,
 * oauth_token_secret and oauth_callback_confirmed equal to "true" in any
 * case (some servers send "True"). On success (*ptoken)->access_token is
 * the request token, token_secret its secret; oauth_callback_confirmed is
 * not kept in extra.
 *
 * Errors: the transport's status with "request token endpoint
 * <scheme://host[:port]/path>: <why>"; APR_EGENERAL with "request token
 * endpoint answered HTTP <status>[: oauth_problem=<problem>]" for a
 * non-2xx answer (only oauth_problem is quoted from the body, cut and made
 * printable); APR_EINVAL when the answer is malformed, e.g. "provider did
 * not confirm the callback (oauth_callback_confirmed missing)".
 */
apr_status_t oac_oauth1_request_token(oac_token_t **ptoken,
                                      const char **perr, apr_pool_t *p,
                                      oac_http_client_t *http,
                                      const oac_app_t *app,
                                      const oac_oauth1_creds_t *c,
                                      const char *callback_url,
                                      apr_int64_t now);

/*
 * Token credentials: POST app->access_token_url, signed with the consumer
 * credentials and the request token and secret of c, oauth_verifier in the
 * Authorization header, app->access_token_params as the form body.
 *
 * The answer must be 2xx and form-encoded with oauth_token and
 * oauth_token_secret; every other field (user_id, screen_name, ...) is
 * kept, in order, in (*ptoken)->extra. Errors as for
 * oac_oauth1_request_token, with "access token endpoint".
 */
apr_status_t oac_oauth1_access_token(oac_token_t **ptoken,
                                     const char **perr, apr_pool_t *p,
                                     oac_http_client_t *http,
                                     const oac_app_t *app,
                                     const oac_oauth1_creds_t *c,
                                     const char *verifier, apr_int64_t now);

/*
 * app->authorize_url with oauth_token=request_token, then
 * app->authorize_params in their order (an oauth_token among them is
 * skipped: the request token is the one this module obtained).
 */
char *oac_oauth1_authorize_url(apr_pool_t *p, const oac_app_t *app,
                               const char *request_token);

/* The credentials of app, with token and secret (either may be NULL). */
void oac_oauth1_creds_for_app(oac_oauth1_creds_t *c, const oac_app_t *app,
                              const char *token, const char *secret);

#endif /* OAC_OAUTH1_H */
