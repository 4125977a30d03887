/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Reading a request body before the handler, and handing the handler
 * (mod_proxy) another one: needed where the token goes into a form body
 * (token_placement=body) and where OAuth 1 signs the form parameters.
 */
#include "mod_oauthclient_body.h"

#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include <apr_buckets.h>
#include <apr_strings.h>

APLOG_USE_MODULE(oauthclient);

#define BODY_REPLAY_FILTER "OAUTHCLIENT_BODY"

typedef struct {
    const char *buf;
    apr_size_t len;
    int sent;
} replay_ctx;

int oac_body_is_form(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    return ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)
        && (!ct[33] || ct[33] == ';' || ct[33] == ' ');
}

static int read_all(request_rec *r, apr_size_t max, int binary, char **pbuf,
                    apr_size_t *plen);

int oac_body_read(request_rec *r, apr_size_t max, char **pbuf,
                  apr_size_t *plen)
{
    return read_all(r, max, 0, pbuf, plen);
}

int oac_body_read_raw(request_rec *r, apr_size_t max, char **pbuf,
                      apr_size_t *plen)
{
    return read_all(r, max, 1, pbuf, plen);
}

static int read_all(request_rec *r, apr_size_t max, int binary, char **pbuf,
                    apr_size_t *plen)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    /* The bytes read so far, copied: a bucket kept as it came would pin
     * its whole socket buffer (8 KB for a body sent a byte per packet). */
    apr_bucket_brigade *kept = apr_brigade_create(r->pool,
                                                  r->connection->bucket_alloc);
    apr_size_t len = 0;
    int seen_eos = 0;

    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if (n > max - len) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00070)
                              "request body for %s is larger than the %"
                              APR_SIZE_T_FMT " bytes the module reads",
                              r->uri, max);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            /* Form bodies are text: a NUL would end what the checks and
             * the signature see before what is sent. */
            if (!binary && n && memchr(data, '\0', n)) {
                return HTTP_BAD_REQUEST;
            }
            if (n && apr_brigade_write(kept, NULL, NULL, data, n)
                         != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            len += n;
        }
        apr_brigade_cleanup(bb);
    }
    if (apr_brigade_write(kept, NULL, NULL, "", 1) != APR_SUCCESS
        || apr_brigade_pflatten(kept, pbuf, plen, r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_brigade_destroy(kept);
    *plen = len;
    return OK;
}

static apr_status_t replay_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                  ap_input_mode_t mode,
                                  apr_read_type_e block, apr_off_t readbytes)
{
    replay_ctx *ctx = f->ctx;
    apr_bucket_alloc_t *ba = f->c->bucket_alloc;

    if (mode != AP_MODE_READBYTES && mode != AP_MODE_SPECULATIVE) {
        return APR_ENOTIMPL;
    }
    if (!ctx->sent) {
        if (ctx->len) {
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(
                ctx->buf, ctx->len, f->r->pool, ba));
        }
        if (mode == AP_MODE_READBYTES) {
            ctx->sent = 1;
        }
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    return APR_SUCCESS;
}

void oac_body_replace(request_rec *r, const char *buf, apr_size_t len)
{
    replay_ctx *ctx = NULL;
    ap_filter_t *f;

    /* Replaced again (a request sent once more): the filter in place
     * starts over, as a second one would sit behind it. */
    for (f = r->input_filters; f; f = f->next) {
        if (f->frec && f->frec->name
            && !strcasecmp(f->frec->name, BODY_REPLAY_FILTER)) {
            ctx = f->ctx;
            break;
        }
    }
    if (!ctx) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ap_add_input_filter(BODY_REPLAY_FILTER, ctx, r, r->connection);
    }
    ctx->buf = buf;
    ctx->len = len;
    ctx->sent = 0;
    apr_table_setn(r->headers_in, "Content-Length",
                   apr_psprintf(r->pool, "%" APR_SIZE_T_FMT, len));
    apr_table_unset(r->headers_in, "Transfer-Encoding");
}

void oac_body_register(void)
{
    ap_register_input_filter(BODY_REPLAY_FILTER, replay_filter, NULL,
                             AP_FTYPE_RESOURCE);
}
