/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* HTTP as an interface: the OAuth core only ever sees oac_http_client_t, so
 * the flows can be tested against a fake and the transport (libcurl, see
 * oac_http_curl.h) stays in one file.
 *
 * Conventions for every implementation of the interface:
 * - A response with any status (including 3xx, 4xx, 5xx) is a success of
 *   the transport: APR_SUCCESS with the status in *presp. Redirects are
 *   never followed; the caller decides what a 3xx means.
 * - On failure *presp is left untouched and *perr (when perr is not NULL)
 *   names the target as scheme://host:port/path, never the query string,
 *   the body or header values, since those carry codes and secrets.
 * - Status codes: APR_TIMEUP for a timeout, APR_ECONNREFUSED for a refused
 *   connection, APR_EINVAL for a request that cannot be sent as given
 *   (malformed URL, scheme other than http/https, CR/LF in a header),
 *   APR_EGENERAL for everything else (DNS, TLS, oversized response, ...).
 * - The response lives in the pool passed to perform; that pool belongs to
 *   the calling thread.
 */

#ifndef OAC_HTTP_H
#define OAC_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct {
    apr_interval_time_t timeout;   /* whole-request timeout, microseconds; 0 = default 10 s */
    apr_interval_time_t connect_timeout; /* 0 = min(timeout, 5 s) */
    int verify_tls;                /* 1 (default) verifies peer and host name; 0 disables both */
    const char *ca_file;           /* PEM CA bundle, or NULL for the system store */
    apr_size_t max_response;       /* cap on the response body, bytes; 0 = default 1 MiB */
    const char *user_agent;        /* NULL = "mod_oauthclient" */
} oac_http_options_t;

#define OAC_HTTP_DEFAULT_TIMEOUT         apr_time_from_sec(10)
#define OAC_HTTP_DEFAULT_CONNECT_TIMEOUT apr_time_from_sec(5)
#define OAC_HTTP_DEFAULT_MAX_RESPONSE    ((apr_size_t)1024 * 1024)
#define OAC_HTTP_DEFAULT_USER_AGENT      "mod_oauthclient"

/* Zeroes opts and turns TLS verification on. Use it instead of memset():
 * a zeroed struct means verify_tls = 0, which is not what anyone wants by
 * accident. */
void oac_http_options_init(oac_http_options_t *opts);

typedef struct {
    int status;                    /* HTTP status code */
    apr_table_t *headers;          /* response headers (last response only, names as sent; apr tables are case-insensitive) */
    const char *content_type;      /* or NULL */
    char *body;                    /* NUL-terminated for convenience; body_len excludes the NUL */
    apr_size_t body_len;
} oac_http_response_t;

typedef struct {
    const char *method;            /* "GET", "POST", ... */
    const char *url;
    const apr_table_t *headers;    /* extra request headers, or NULL */
    const char *body;              /* or NULL */
    apr_size_t body_len;
    const char *content_type;      /* for the body, e.g. "application/x-www-form-urlencoded"; NULL = none */
} oac_http_request_t;

typedef struct oac_http_client_t oac_http_client_t;

/* The interface: a perform function plus its private data, so tests can
 * swap in a fake. */
typedef apr_status_t oac_http_perform_fn(oac_http_response_t **presp,
                                         const char **perr, void *baton,
                                         apr_pool_t *p,
                                         const oac_http_request_t *req);

struct oac_http_client_t {
    oac_http_perform_fn *perform;
    void *baton;
};

/* A client of perform and its baton, allocated from p: what a wrapper
 * (tracing, hooks) or a test's fake hands out. */
oac_http_client_t *oac_http_client_make(apr_pool_t *p,
                                        oac_http_perform_fn *perform,
                                        void *baton);

/* Calls client->perform after checking that the request is complete
 * (method and url set). */
apr_status_t oac_http_perform(oac_http_response_t **presp, const char **perr,
                              oac_http_client_t *client, apr_pool_t *p,
                              const oac_http_request_t *req);

apr_status_t oac_http_get(oac_http_response_t **presp, const char **perr,
                          oac_http_client_t *client, apr_pool_t *p,
                          const char *url, const apr_table_t *headers);

/* form_body is already application/x-www-form-urlencoded; NULL sends an
 * empty body. */
apr_status_t oac_http_post_form(oac_http_response_t **presp,
                                const char **perr,
                                oac_http_client_t *client, apr_pool_t *p,
                                const char *url, const apr_table_t *headers,
                                const char *form_body);

#endif /* OAC_HTTP_H */
