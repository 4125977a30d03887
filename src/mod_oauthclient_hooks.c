/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The compliance hooks of include/mod_oauthclient.h: running them, and an
 * HTTP client wrapper that runs them around token-endpoint calls, so the
 * protocol core stays unaware of them.
 */
#include "mod_oauthclient_hooks.h"
#include "mod_oauthclient_trace.h"

#include "http_protocol.h"

#include <apr_optional_hooks.h>
#include <apr_strings.h>

#include "mod_oauthclient.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(oauthclient, OAUTHCLIENT, int,
    access_token_response,
    (request_rec *r, oauthclient_token_response_t *resp), (r, resp),
    OK, DECLINED)
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(oauthclient, OAUTHCLIENT, int,
    refresh_token_request,
    (request_rec *r, oauthclient_request_t *req), (r, req), OK, DECLINED)
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(oauthclient, OAUTHCLIENT, int,
    refresh_token_response,
    (request_rec *r, oauthclient_token_response_t *resp), (r, resp),
    OK, DECLINED)
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(oauthclient, OAUTHCLIENT, int,
    revoke_token_request,
    (request_rec *r, oauthclient_request_t *req), (r, req), OK, DECLINED)
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(oauthclient, OAUTHCLIENT, int,
    protected_request,
    (request_rec *r, oauthclient_request_t *req), (r, req), OK, DECLINED)

typedef struct {
    request_rec *r;
    const oac_app_t *app;
    oac_http_client_t *inner;
    oac_hook_call_e call;
} hooked_client;

/* The hook's status is what the browser or client gets (the header
 * promises it), not the 502 of a failed provider call. */
static int hook_failed(const char **perr, request_rec *r, int rc,
                       const char *hook)
{
    *perr = apr_psprintf(r->pool, "the %s hook of another module failed "
                         "the call (%d)", hook, rc);
    if (ap_is_HTTP_VALID_RESPONSE(rc) && rc >= 400) {
        oac_request_state(r)->hook_status = rc;
    }
    return APR_EGENERAL;
}

/* The request hook of a call (refresh_token_request, revoke_token_request)
 * on what is about to be sent; OK, or the failure's status. */
static int run_request_hook(const char **perr, hooked_client *hc,
                            apr_pool_t *p, oac_http_request_t *sent)
{
    oauthclient_request_t hr;
    int rc;

    hr.app = hc->app->name;
    hr.method = sent->method;
    hr.url = sent->url;
    hr.headers = sent->headers ? apr_table_copy(p, sent->headers)
                               : apr_table_make(p, 4);
    hr.content_type = sent->content_type;
    hr.body = sent->body;
    hr.body_len = sent->body_len;
    rc = hc->call == OAC_CALL_REFRESH
        ? oauthclient_run_refresh_token_request(hc->r, &hr)
        : oauthclient_run_revoke_token_request(hc->r, &hr);
    if (rc != OK && rc != DECLINED) {
        return hook_failed(perr, hc->r, rc, hc->call == OAC_CALL_REFRESH
                           ? "refresh_token_request"
                           : "revoke_token_request");
    }
    sent->method = hr.method;
    sent->url = hr.url;
    sent->headers = hr.headers;
    sent->content_type = hr.content_type;
    sent->body = hr.body;
    sent->body_len = hr.body_len;
    return OK;
}

static apr_status_t hooked_perform(oac_http_response_t **presp,
                                   const char **perr, void *baton,
                                   apr_pool_t *p,
                                   const oac_http_request_t *req)
{
    hooked_client *hc = baton;
    request_rec *r = hc->r;
    oac_http_request_t sent = *req;
    oauthclient_token_response_t tr;
    oac_http_response_t *resp;
    apr_status_t rv;
    int rc;

    if ((hc->call == OAC_CALL_REFRESH || hc->call == OAC_CALL_REVOKE)
        && run_request_hook(perr, hc, p, &sent) != OK) {
        return APR_EGENERAL;
    }
    if ((rv = oac_http_perform(&resp, perr, hc->inner, p, &sent))
        != APR_SUCCESS) {
        return rv;
    }
    if (hc->call == OAC_CALL_REVOKE) {
        /* Authlib has no hook on a revocation's answer. */
        *presp = resp;
        return APR_SUCCESS;
    }
    tr.app = hc->app->name;
    tr.status = resp->status;
    tr.content_type = resp->content_type;
    tr.body = resp->body;
    tr.body_len = resp->body_len;
    tr.headers = resp->headers;
    rc = hc->call == OAC_CALL_REFRESH
        ? oauthclient_run_refresh_token_response(r, &tr)
        : oauthclient_run_access_token_response(r, &tr);
    if (rc != OK && rc != DECLINED) {
        return hook_failed(perr, r, rc, hc->call == OAC_CALL_REFRESH
                           ? "refresh_token_response"
                           : "access_token_response");
    }
    resp->status = tr.status;
    resp->content_type = tr.content_type;
    if (tr.body != resp->body || tr.body_len != resp->body_len) {
        resp->body = apr_pstrmemdup(p, tr.body ? tr.body : "", tr.body_len);
        resp->body_len = tr.body_len;
    }
    *presp = resp;
    return APR_SUCCESS;
}

/* Whether any hook would run for call: if not, the plain client is used. */
static int call_hooked(oac_hook_call_e call)
{
    switch (call) {
    case OAC_CALL_ACCESS_TOKEN:
        return apr_optional_hook_get("access_token_response") != NULL;
    case OAC_CALL_REFRESH:
        return apr_optional_hook_get("refresh_token_request") != NULL
               || apr_optional_hook_get("refresh_token_response") != NULL;
    case OAC_CALL_REVOKE:
        return apr_optional_hook_get("revoke_token_request") != NULL;
    default:
        return 0;
    }
}

oac_http_client_t *oac_hooked_client(request_rec *r, const oac_app_t *app,
                                     oac_hook_call_e call)
{
    oac_server_conf *sc = oac_server_config(r->server);
    oac_http_client_t *inner = oac_traced_client(r, app, sc->http);
    hooked_client *hc;

    if (!call_hooked(call)) {
        return inner;
    }
    hc = apr_palloc(r->pool, sizeof(*hc));
    hc->r = r;
    hc->app = app;
    hc->inner = inner;
    hc->call = call;
    return oac_http_client_make(r->pool, hooked_perform, hc);
}

int oac_protected_request_hooked(void)
{
    return apr_optional_hook_get("protected_request") != NULL;
}

/* What a protected_request hook handed back that cannot be sent as it is,
 * or NULL: mod_proxy_http writes the method, the URL (mod_proxy told not
 * to encode it again) and the headers into the request verbatim, so a
 * token a hook copied into them unencoded would split the request. */
static const char *hook_unsendable(const oauthclient_request_t *hr,
                                   const char *url_before)
{
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    if (!hr->method || !*hr->method || *ap_scan_http_token(hr->method)) {
        return "a method that is not an HTTP token";
    }
    if (!hr->url || (hr->url != url_before
                     && (oac_util_has_control(hr->url)
                         || strchr(hr->url, ' ')))) {
        return "a URL with a space or a control character (percent-encode "
               "what goes into it)";
    }
    if (hr->content_type && !oac_util_is_field_value(hr->content_type)) {
        return "a content type with a control character";
    }
    if (!hr->headers) {
        return NULL;
    }
    arr = apr_table_elts(hr->headers);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; ++i) {
        if (!e[i].key || !*e[i].key || *ap_scan_http_token(e[i].key)
            || !e[i].val || !oac_util_is_field_value(e[i].val)) {
            return "a header whose name is not an HTTP token or whose value "
                   "has a control character";
        }
    }
    return NULL;
}

int oac_run_protected_request(request_rec *r, const oac_app_t *app,
                              const char **purl, const char **pbody,
                              apr_size_t *plen)
{
    oauthclient_request_t hr;
    const char *why;
    int rc;

    if (!oac_protected_request_hooked()) {
        /* the check of what hooks handed back is for hooks only */
        return OK;
    }
    hr.app = app->name;
    hr.method = r->method;
    hr.url = *purl;
    hr.headers = r->headers_in;
    hr.content_type = apr_table_get(r->headers_in, "Content-Type");
    hr.body = *pbody;
    hr.body_len = *plen;
    rc = oauthclient_run_protected_request(r, &hr);
    if (rc != OK && rc != DECLINED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00080)
                      "app %s: a protected_request hook failed the API call "
                      "with %d", app->name, rc);
        return rc;
    }
    if ((why = hook_unsendable(&hr, *purl))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00160)
                      "app %s: a protected_request hook set %s; the API "
                      "call is refused", app->name, why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (strcmp(hr.method, r->method)) {
        /* as the refresh and revocation hooks' methods are sent, this
         * one is: mod_proxy_http, the proof's htm and OAuth 1's base
         * string all take it from here */
        r->method = hr.method;
        r->method_number = ap_method_number_of(hr.method);
    }
    *purl = hr.url;
    if (hr.headers && hr.headers != r->headers_in) {
        /* a hook may hand back a table of its own, as the refresh and
         * revocation hooks may */
        r->headers_in = hr.headers;
    }
    if (hr.content_type) {
        apr_table_set(r->headers_in, "Content-Type", hr.content_type);
    }
    *pbody = hr.body;
    *plen = hr.body_len;
    return OK;
}
