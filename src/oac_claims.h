/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Claims about the user (an OpenID Connect login's id_token merged with
 * userinfo, or an OAuth app's userinfo answer): the rules of
 * 'Require oauth-claim', the text forwarded by OAuthForwardClaims, and the
 * compact copy kept in the session (contract section 9). Nothing here
 * knows httpd.
 */
#ifndef OAC_CLAIMS_H
#define OAC_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <jansson.h>

/* Kept in the session at most: a cookie session has 4,096 bytes in all
 * (contract section 10), which the tokens need more. */
#define OAC_CLAIMS_MAX 2048

/* One NAME:VALUE of a 'Require oauth-claim' line. */
typedef struct {
    const char *name;       /* a dotted path: address.country */
    const char *value;
} oac_claim_rule_t;

/*
 * The NAME:VALUE words of a Require line (split at the first ':' of each;
 * httpd's quoting keeps a value with spaces in one word) into *prules, an
 * array of oac_claim_rule_t. APR_EINVAL with *perr when there is none, or
 * a word has no ':' or an empty name.
 */
apr_status_t oac_claims_parse_rules(apr_array_header_t **prules,
                                    const char **perr, apr_pool_t *p,
                                    const char *line);

/* The top-level claim a dotted name lives in ("address" of
 * "address.country"). */
const char *oac_claims_top(apr_pool_t *p, const char *name);

/* Every top-level name oac_claims_lookup may read the claim name from,
 * shortest first (const char *): "a.b.c" gives "a", "a.b", "a.b.c". A
 * session must keep them all for a rule on name to be judged: namespaced
 * claims ("https://example.com/roles") are top-level names with dots. */
apr_array_header_t *oac_claims_tops(apr_pool_t *p, const char *name);

/*
 * The value at a dotted path of claims (each segment an object member);
 * NULL when there is none. A name that is itself a member wins over its
 * dotted reading, so a claim named "a.b" is found as such.
 */
const json_t *oac_claims_lookup(const json_t *claims, const char *name);

/*
 * 1 when the claim at name equals value, or, for an array, has an element
 * equal to value. Strings compare as their text; true, false, null and
 * numbers as their JSON text (email_verified:true); objects never.
 */
int oac_claims_match(const json_t *claims, const char *name,
                     const char *value);

/* 1 when any rule of rules matches. */
int oac_claims_match_any(const json_t *claims,
                         const apr_array_header_t *rules);

/*
 * A claim as a header or variable value: a string as it is, an array's
 * elements joined with ',' (each as this text, an object as JSON), an
 * object as compact JSON, anything else as its JSON text. NULL, and why
 * in *pwhy (when not NULL; never quoting the value), when the backend
 * would read the text as another value: a control character (CR and LF
 * would split the header), a string with a space at either end (header
 * values are read without them: " admin " arrives as "admin"), or an
 * array's string with a ',' (["a,b"] would arrive as ["a","b"]).
 */
const char *oac_claims_text(apr_pool_t *p, const json_t *v,
                            const char **pwhy);

/* The suffix of X-OAuth-Claim-NAME for a claim name: its letters, digits
 * and '.' as they are, any other byte as '-' ('_' too: httpd leaves a
 * header with '_' out of a CGI's variables, nginx drops it). */
const char *oac_claims_header_name(apr_pool_t *p, const char *name);

/* OAUTH_CLAIM_NAME: upper-cased, any byte but a letter or digit as '_'. */
const char *oac_claims_env_name(apr_pool_t *p, const char *name);

/*
 * The claims worth keeping, as compact JSON with sorted members, or NULL
 * when there are none: with all, every claim but the id_token's one-time
 * ones (nonce, at_hash, c_hash, exp, iat, nbf, jti), else the top-level
 * claims named in names (const char *). When all's set is over max bytes,
 * only the named ones are kept and *pshrunk is set to 1; when even those
 * are over max, nothing is kept and *pshrunk is 2.
 */
const char *oac_claims_select(apr_pool_t *p, const json_t *claims,
                              const apr_array_header_t *names, int all,
                              apr_size_t max, int *pshrunk);

/* Claims kept by oac_claims_select, as an object owned by p (released
 * with it); NULL when s is not a JSON object. */
json_t *oac_claims_parse(apr_pool_t *p, const char *s);

/* A list of names such as oac_claims_userinfo_names makes, from its JSON
 * text; owned by p, NULL when s is not a JSON array. */
json_t *oac_claims_parse_names(apr_pool_t *p, const char *s);

/*
 * The names of claims (the merged claims of a login; NULL for none) that
 * userinfo gave: those id_claims (the login id_token's) lacks or holds
 * with another value (userinfo wins the merge). A sorted JSON array of
 * strings owned by p; NULL when out of memory.
 */
json_t *oac_claims_userinfo_names(apr_pool_t *p, const json_t *claims,
                                  const json_t *id_claims);

/*
 * A session's claims after a refresh brought an id_token: kept (the
 * claims the session keeps, or NULL for none) with each claim of after
 * (the refreshed id_token's, checked as OpenID Connect Core 12.2 says)
 * whose name is not in userinfo_names (a JSON array of strings, or NULL).
 * Userinfo's claims and those after lacks (absent is unknown there, not
 * removed) stay. Owned by p; NULL when out of memory.
 */
json_t *oac_claims_renewed(apr_pool_t *p, const json_t *kept,
                           const json_t *userinfo_names, const json_t *after);

#endif
