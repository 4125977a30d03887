/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Token endpoint responses: oac_token_parse, optionally after the
 * compliance fixes (oac_fix_token_response). Every token it accepts must
 * survive the session string and the legacy JSON form unchanged.
 *
 * Input: one mode byte, then the body. Mode bits 0-1 pick the content
 * type; bit 3 applies the fixes, and the body is then "FIELD_MAP\0BODY";
 * bit 4 makes the HTTP status 400 for oac_oauth2_token_response.
 */

#include <strings.h>

#include "token_checks.h"
#include "oac_app.h"
#include "oac_fix.h"
#include "oac_http.h"
#include "oac_oauth2.h"
#include "oac_util.h"

#define NOW APR_INT64_C(1700000000)

static const char *const content_types[] = {
    NULL, "application/json", "application/x-www-form-urlencoded",
    "application/vnd.example+json; charset=utf-8"
};

/*
 * oac_oauth2_token_response on the same body: a non-2xx status is the
 * provider's error whatever the body; a 2xx one is oac_token_parse's
 * answer, but tokens must also be VSCHAR, since they go into headers and
 * URLs as they are, and of a type the client understands.
 */
static void check_oauth2_response(apr_pool_t *p, unsigned mode,
                                  const char *ct, const char *body,
                                  size_t len, apr_status_t parsed,
                                  const oac_token_t *pt)
{
    oac_http_response_t resp;
    oac_token_t *t = NULL;
    const char *err = NULL;
    apr_status_t rv;
    int ok, dpop;

    memset(&resp, 0, sizeof(resp));
    resp.status = mode & 16 ? 400 : 200;
    resp.content_type = ct;
    resp.body = (char *)body;
    resp.body_len = len;
    rv = oac_oauth2_token_response(&t, &err, p, &resp, NOW);
    if (rv != APR_SUCCESS) {
        CHECK(err && fuzz_printable(err));
    }
    if (resp.status == 400) {
        CHECK(rv == APR_EGENERAL
              && !strncmp(err, "token endpoint answered HTTP 400", 32));
        return;
    }
    /* RFC 6749 7.1: only a type the client understands (Bearer, DPoP
     * in any case, or none said) is taken. */
    dpop = parsed == APR_SUCCESS && pt->token_type
           && !strcasecmp(pt->token_type, "DPoP");
    ok = parsed == APR_SUCCESS && oac_util_is_vschar(pt->access_token)
         && (!pt->refresh_token || !*pt->refresh_token
             || oac_util_is_vschar(pt->refresh_token))
         && (!pt->token_type || !*pt->token_type || dpop
             || !strcasecmp(pt->token_type, "Bearer"));
    CHECK((rv == APR_SUCCESS) == ok);
    if (ok) {
        CHECK(!strcmp(t->access_token, pt->access_token));
        CHECK(fuzz_streq(t->refresh_token,
                         pt->refresh_token && *pt->refresh_token
                         ? pt->refresh_token : NULL));
        /* DPoP is written one way, whatever case the server chose: the
         * Authorization scheme and the session's type compare to it. */
        CHECK(dpop ? !strcmp(t->token_type, "DPoP")
                   : !t->token_type || !strcasecmp(t->token_type, "Bearer"));
    }
}

static void response_mode(apr_pool_t *p, unsigned mode, const char *body,
                          size_t len)
{
    const char *ct = content_types[mode & 3], *err = NULL;
    oac_token_t *t = NULL;
    apr_status_t rv;

    if (mode & 8) {
        /* The fixes rewrite the body into the JSON the parser reads. */
        const char *nul = memchr(body, '\0', len);
        const char *map = nul ? body : NULL;
        oac_app_t app;
        oac_http_response_t resp;

        memset(&app, 0, sizeof(app));
        app.compliance_fixes = apr_array_make(p, 3, sizeof(const char *));
        APR_ARRAY_PUSH(app.compliance_fixes, const char *) = "facebook";
        APR_ARRAY_PUSH(app.compliance_fixes, const char *) = "slack";
        APR_ARRAY_PUSH(app.compliance_fixes, const char *) = "camelcase";
        if (map && oac_fix_check_field_map(&err, p, map) == APR_SUCCESS) {
            app.token_field_map = map;
        }
        if (nul) {
            len -= (size_t)(nul + 1 - body);
            body = nul + 1;
        }
        memset(&resp, 0, sizeof(resp));
        resp.status = 200;
        resp.content_type = ct;
        resp.body = apr_pstrmemdup(p, body, len);
        resp.body_len = len;
        if (oac_fix_token_response(&resp, &err, p, &app) != APR_SUCCESS) {
            return;
        }
        CHECK(resp.body && resp.body[resp.body_len] == '\0');
        ct = resp.content_type;
        body = resp.body;
        len = resp.body_len;
    }
    rv = oac_token_parse(&t, &err, p, ct, body, len, NOW);
    check_oauth2_response(p, mode, ct, body, len, rv, t);
    if (rv != APR_SUCCESS) {
        CHECK(rv == APR_EINVAL || rv == APR_EGENERAL);
        CHECK(err != NULL && fuzz_printable(err));
        return;
    }
    check_sane(t);
    /* Only RFC 6749 fields become fields; extra never repeats a name. */
    CHECK(!extra_has_repeat(t->extra));
    check_session_round_trip(p, t);
    check_sendable(p, t);
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *body;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    /* Not NUL-terminated on purpose: the parser takes a length, and ASan
     * then sees any read past it. */
    body = apr_palloc(p, size - 1 ? size - 1 : 1);
    memcpy(body, data + 1, size - 1);
    response_mode(p, data[0], body, size - 1);
    apr_pool_destroy(p);
    return 0;
}
