/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include "oac_http.h"

void oac_http_options_init(oac_http_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->verify_tls = 1;
}

apr_status_t oac_http_perform(oac_http_response_t **presp, const char **perr,
                              oac_http_client_t *client, apr_pool_t *p,
                              const oac_http_request_t *req)
{
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    if (!client || !client->perform) {
        err = "no HTTP client configured";
        rv = APR_EINVAL;
        goto leave;
    }
    if (!req || !req->url || !req->method || !*req->method) {
        err = "incomplete HTTP request: method and URL are required";
        rv = APR_EINVAL;
        goto leave;
    }
    if (req->body_len && !req->body) {
        err = "incomplete HTTP request: body length set without a body";
        rv = APR_EINVAL;
        goto leave;
    }
    rv = client->perform(&resp, &err, client->baton, p, req);
    if (APR_SUCCESS == rv && !resp) {
        /* An implementation bug must not reach callers as a NULL deref. */
        err = "HTTP client returned no response";
        rv = APR_EGENERAL;
    }

leave:
    if (APR_SUCCESS == rv) {
        *presp = resp;
    }
    else if (perr) {
        *perr = err ? err : "HTTP request failed";
    }
    return rv;
}

apr_status_t oac_http_get(oac_http_response_t **presp, const char **perr,
                          oac_http_client_t *client, apr_pool_t *p,
                          const char *url, const apr_table_t *headers)
{
    oac_http_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    return oac_http_perform(presp, perr, client, p, &req);
}

apr_status_t oac_http_post_form(oac_http_response_t **presp,
                                const char **perr,
                                oac_http_client_t *client, apr_pool_t *p,
                                const char *url, const apr_table_t *headers,
                                const char *form_body)
{
    oac_http_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = form_body ? form_body : "";
    req.body_len = strlen(req.body);
    req.content_type = "application/x-www-form-urlencoded";
    return oac_http_perform(presp, perr, client, p, &req);
}

oac_http_client_t *oac_http_client_make(apr_pool_t *p,
                                        oac_http_perform_fn *perform,
                                        void *baton)
{
    oac_http_client_t *c = apr_palloc(p, sizeof(*c));

    c->perform = perform;
    c->baton = baton;
    return c;
}
