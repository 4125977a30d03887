/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_token: token endpoint responses (OAuth 2 RFC 6749 section 5, OAuth 1
 * RFC 5849 section 2.3) and their compact form for keeping in a session.
 */

#ifndef OAC_TOKEN_H
#define OAC_TOKEN_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *access_token;   /* OAuth 2 access_token, or OAuth 1 oauth_token */
    const char *token_secret;   /* OAuth 1 oauth_token_secret, else NULL */
    const char *token_type;     /* as sent, or NULL */
    const char *refresh_token;  /* or NULL */
    const char *scope;          /* or NULL; a JSON array is joined with ' ' */
    apr_int64_t expires_in;     /* seconds, -1 when unknown */
    apr_int64_t expires_at;     /* Unix seconds, 0 when unknown */
    apr_array_header_t *extra;  /* oac_param_t of every other string or
                                   number field, in order (numbers as their
                                   JSON text) */
} oac_token_t;

/*
 * Parses a token endpoint response body of len bytes (need not be
 * NUL-terminated). JSON when content_type (may be NULL) is application/json
 * or any +json, or when the body starts with '{' (after whitespace or a
 * UTF-8 BOM); application/x-www-form-urlencoded otherwise.
 * now (Unix seconds) turns expires_in into expires_at.
 *
 * Returns APR_EGENERAL when the provider answered with an OAuth error
 * (an "error" field, whatever the HTTP status); *perr is then
 * "provider returned error '<error>'[: <error_description>]", both parts
 * cut to 200 bytes with control characters replaced by '?'.
 * Returns APR_EINVAL when the response is malformed; *perr says why and
 * never quotes a token.
 * Repeated field names (JSON or form) are rejected as ambiguous.
 */
apr_status_t oac_token_parse(oac_token_t **ptoken, const char **perr,
                             apr_pool_t *p, const char *content_type,
                             const char *body, apr_size_t len,
                             apr_int64_t now);

/*
 * t as one string for the session: "3.ACCESS.SECRET.TYPE.REFRESH.SCOPE.
 * EXPIRES_AT", bytes outside [A-Za-z0-9_-] as "*XX", an empty field for
 * NULL and "*" for "", made of characters that URL-encoding leaves alone.
 * Only what is read back: not expires_in, not t->extra. Never NULL.
 */
char *oac_token_to_string(apr_pool_t *p, const oac_token_t *t);

/*
 * Inverse of oac_token_to_string (expires_in comes back as -1, extra
 * empty). Fails on anything else: another form, a field count other than
 * six, a bad escape, an escaped NUL, no access_token.
 */
apr_status_t oac_token_from_string(oac_token_t **pt, const char **perr,
                                   apr_pool_t *p, const char *s);

/*
 * Bounds on what a stored token and user name may carry: every one of
 * these values leaves the module as a request header, an environment
 * variable or REMOTE_USER, where a control character would start a new
 * header or a whole second request (mod_proxy writes values verbatim).
 */
/* access_token, refresh_token, secret: with "X-OAuth-Access-Token: " a
 * header line still within httpd's default LimitRequestFieldSize (8190) */
#define OAC_TOKEN_VALUE_MAX 8000
#define OAC_TOKEN_TYPE_MAX 64
#define OAC_TOKEN_SCOPE_MAX 4096
#define OAC_TOKEN_USER_MAX 1024

/*
 * APR_SUCCESS when every string of t and user (either may be NULL) can be
 * sent as a header value: no byte below 0x20 nor 0x7F, within the bounds
 * above, and user, when not NULL, neither empty nor beginning or ending
 * with a space. Otherwise APR_EINVAL and
 * *perr names the field and the rule broken, never its value (it may be a
 * secret, or crafted to mislead whoever reads the log).
 */
apr_status_t oac_token_check_sendable(const char **perr, apr_pool_t *p,
                                      const oac_token_t *t,
                                      const char *user);

#endif /* OAC_TOKEN_H */
