/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_url: validation and composition of provider URLs.
 */

#ifndef OAC_URL_H
#define OAC_URL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_uri.h>

/*
 * Accepts only an absolute http:// or https:// URL (scheme case-insensitive)
 * with a non-empty host, no userinfo, no fragment, no whitespace or control
 * character, and, when a port is given, a port in 1..65535. Error messages
 * never quote the URL (its query may carry secrets). On success *puri is
 * the parsed URI (strings allocated from p).
 */
apr_status_t oac_url_check(apr_uri_t *puri, const char **perr, apr_pool_t *p,
                           const char *url);

/*
 * base + rel, for configured endpoints relative to api_base_url (e.g. the
 * userinfo endpoint). When rel has a scheme it is taken as an absolute URL
 * and returned as is after oac_url_check (so "ftp:..." is an error).
 * Otherwise: see oac_url_join_path.
 *
 * Never feed it a path taken from a client request: a client could then
 * name any host. Use oac_url_join_path for that.
 */
apr_status_t oac_url_join(char **pout, const char **perr, apr_pool_t *p,
                          const char *base, const char *rel);

/*
 * base + rel where rel is always a path (with optional query) below base,
 * never an absolute URL: this is the one to build an API proxy's upstream
 * URL from a request path. base must pass oac_url_check and have no query.
 * Leading '/'s of rel are dropped and exactly one '/' separates base's path
 * from rel. rel must not contain a fragment, and no path segment of rel may
 * be "." or ".." once percent-decoded (a decoded '/' or '\' also separates
 * segments for this check), so the result cannot escape base's path.
 * The result then passes oac_url_check too. rel == NULL is "".
 */
apr_status_t oac_url_join_path(char **pout, const char **perr, apr_pool_t *p,
                               const char *base, const char *rel);

/* What oac_url_join_path asks of base: oac_url_check, and no query. */
apr_status_t oac_url_check_base(const char **perr, apr_pool_t *p,
                                const char *base);

/*
 * oac_url_join_path for a base that already passed oac_url_check_base
 * (api_base_url, checked when the configuration is read): the same
 * result and the same checks of rel, without parsing base again on every
 * API call.
 */
apr_status_t oac_url_append_path(char **pout, const char **perr,
                                 apr_pool_t *p, const char *base,
                                 const char *rel);

/*
 * url with oac_form_encode(params) appended after '?' or '&' (inserted
 * before a '#fragment' if any). Returns url itself when params is NULL or
 * empty.
 */
char *oac_url_add_query(apr_pool_t *p, const char *url,
                        const apr_array_header_t *params);

/* What oac_url_reverse() made of a URL an API answered with. */
typedef enum {
    OAC_URL_REV_LOCAL,      /* below base: *pout is this site's path */
    OAC_URL_REV_ELSEWHERE,  /* not below base: *pout is it, absolute, an
                             * http(s) URL that passes oac_url_check, with
                             * no percent-encoding in its host */
    OAC_URL_REV_BAD         /* anything else: not for the browser */
} oac_url_rev_e;

/*
 * A URL reference an API answered with (Location, Content-Location, a
 * Link target), as ProxyPassReverse maps one: ref resolved against from
 * (the URL the request was sent to, RFC 3986 5.2); when the result lies
 * below base (api_base_url, which from is below), the same path below
 * local (the location that proxies to base, "/api/github/") for the
 * browser, else the resolved absolute URL. A tail with a dot segment
 * under any reading (percent-encoded, '\' or ';' separated), which a
 * browser would climb out of local with, is never mapped. Leading '/'s
 * (and '\'s, which browsers read as '/') of the tail are dropped, as
 * oac_url_join_path drops '/'s. A result left absolute that a browser
 * might read otherwise than RFC 3986 (no host: "https:/x" is resolved
 * against the browser's page; '\' or userinfo in the authority; a
 * percent-encoded host) is OAC_URL_REV_BAD.
 */
oac_url_rev_e oac_url_reverse(char **pout, apr_pool_t *p, const char *base,
                              const char *from, const char *ref,
                              const char *local);

/* The host of an absolute URL (no userinfo, no port, no IPv6 brackets),
 * or NULL. */
char *oac_url_host(apr_pool_t *p, const char *url);

/* Whether absolute url's host is host (case-insensitive, a final '.'
 * of url's ignored, as httpd drops it from the Host header). */
int oac_url_names_host(apr_pool_t *p, const char *url, const char *host);

#endif /* OAC_URL_H */
