/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * A fake HTTP client for the unit tests: it records the last request and
 * answers with a canned response (or a transport error), so the protocol
 * code is tested without a network. Include after oac_test.h.
 */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "oac_http.h"

static inline oac_http_response_t *make_resp(apr_pool_t *p, int status,
                                             const char *ct,
                                             const char *body)
{
    oac_http_response_t *r = apr_pcalloc(p, sizeof(*r));

    r->status = status;
    r->headers = apr_table_make(p, 1);
    r->content_type = ct;
    r->body = apr_pstrdup(p, body);
    r->body_len = strlen(body);
    return r;
}

typedef struct {
    int calls;
    const oac_http_request_t *req;     /* the last one sent */
    apr_status_t rv;                   /* what perform returns */
    const char *err;                   /* its error when rv != 0 */
    int status;                        /* the canned response */
    const char *content_type;
    const char *body;
} fake_t;

static inline apr_status_t fake_perform(oac_http_response_t **presp,
                                        const char **perr, void *baton,
                                        apr_pool_t *p,
                                        const oac_http_request_t *req)
{
    fake_t *f = baton;

    ++f->calls;
    /* a copy: callers may send a request that lives on their stack */
    f->req = apr_pmemdup(p, req, sizeof(*req));
    if (f->rv != APR_SUCCESS) {
        *perr = f->err;
        return f->rv;
    }
    *presp = make_resp(p, f->status, f->content_type, f->body);
    return APR_SUCCESS;
}

static inline oac_http_client_t *fake_client(apr_pool_t *p, fake_t *f)
{
    return oac_http_client_make(p, fake_perform, f);
}

static inline void fake_answer(fake_t *f, int status, const char *ct,
                        const char *body)
{
    memset(f, 0, sizeof(*f));
    f->status = status;
    f->content_type = ct;
    f->body = body;
}

#endif /* FAKE_HTTP_H */
