/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Unit tests of contract section 11 in src/oac_oauth2.c: client assertions
 * on token calls (RFC 7523), DPoP proofs on token calls and their nonce
 * retry (RFC 9449), DPoP-bound tokens, pushed authorization requests (RFC
 * 9126); with a scripted HTTP client that answers a sequence of responses
 * and keeps every request.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "oac_test.h"

#include "oac_fix.h"
#include "oac_form.h"
#include "oac_jose.h"
#include "oac_oauth2.h"
#include "oac_sign.h"
#include "oac_util.h"

static const char PEM_EC[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
    "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
    "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
    "-----END PRIVATE KEY-----\n"
    ;

#define NOW 1700000000
#define TOKEN_URL "https://as.example/token"

typedef struct {
    int status;
    const char *body;
    const char *nonce;          /* DPoP-Nonce header, or NULL */
} answer_t;

/* A form field every answer with an empty body quotes, or NULL. */
static const char *echo_field;

typedef struct {
    const answer_t *answers;
    int n, calls;
    const oac_http_request_t *reqs[8];
} script_t;

static apr_status_t scripted(oac_http_response_t **presp, const char **perr,
                             void *baton, apr_pool_t *p,
                             const oac_http_request_t *req)
{
    script_t *s = baton;
    const answer_t *a;
    oac_http_response_t *r;

    (void)perr;
    assert_true(s->calls < s->n && s->calls < 8);
    a = &s->answers[s->calls];
    s->reqs[s->calls++] = apr_pmemdup(p, req, sizeof(*req));
    r = apr_pcalloc(p, sizeof(*r));
    r->status = a->status;
    r->headers = apr_table_make(p, 2);
    if (a->nonce) {
        apr_table_setn(r->headers, "DPoP-Nonce", a->nonce);
    }
    r->content_type = "application/json";
    r->body = apr_pstrdup(p, a->body);
    if (echo_field && !*a->body) {
        /* a provider that quotes what it was sent */
        apr_array_header_t *form;
        const char *why, *v = "";
        if (oac_form_decode(&form, &why, p, req->body) == APR_SUCCESS
            && oac_form_get(form, echo_field)) {
            v = oac_form_get(form, echo_field);
        }
        r->body = apr_psprintf(p, "{\"error\":\"invalid_client\","
                               "\"error_description\":\"bad %s %s\"}",
                               echo_field, v);
    }
    r->body_len = strlen(r->body);
    *presp = r;
    return APR_SUCCESS;
}

static oac_app_t *make_app(apr_pool_t *p)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));
    app->name = "fapi";
    app->version = OAC_OAUTH2;
    app->client_id = "client-1";
    app->client_secret = "kd94hf93k423kf44";
    app->authorize_url = "https://as.example/authorize";
    app->access_token_url = TOKEN_URL;
    app->issuer = "https://as.example";
    app->par_endpoint = "https://as.example/par";
    app->scope = "openid";
    return app;
}

static oac_signer_t *ec_key(apr_pool_t *p, const char *kid)
{
    oac_signer_t *s = NULL;
    const char *why;
    assert_int_equal(oac_signer_from_pem(&s, &why, p, PEM_EC, strlen(PEM_EC),
                                         kid), APR_SUCCESS);
    return s;
}

static const char *form_of(apr_pool_t *p, const oac_http_request_t *req,
                           const char *name)
{
    apr_array_header_t *form;
    const char *why;
    assert_int_equal(oac_form_decode(&form, &why, p, req->body), APR_SUCCESS);
    return oac_form_get(form, name);
}

/* The claims of a JWS verified by the signer's public key. */
static json_t *claims_of(apr_pool_t *p, const char *jws,
                         const oac_signer_t *s, const char *kid)
{
    json_t *jwk = oac_signer_public_jwk(s), *set, *claims = NULL;
    oac_jose_jwks_t *jwks;
    const char *why, *alg;
    char *text;

    if (kid) {
        json_object_set_new(jwk, "kid", json_string(kid));
    }
    set = json_pack("{s:[o]}", "keys", jwk);
    text = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, text, 0),
                     APR_SUCCESS);
    free(text);
    if (oac_jose_verify(&claims, &alg, &why, p, jws, jwks,
                        oac_signer_alg(s), NULL) != OAC_JOSE_OK) {
        fail_msg("verify: %s", why);
    }
    return claims;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* An app that signs with a key it does not have sends nothing. */
static void no_key_no_call(apr_pool_t *p, oac_app_t *app, script_t *s)
{
    oac_token_t *t = NULL;
    const char *err = NULL;

    app->client_signer = NULL;
    s->calls = 0;
    assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                             oac_http_client_make(p, scripted, s), app,
                             "CODE", "https://rp.example/cb", NULL, NOW),
                         APR_SUCCESS);
    assert_int_equal(s->calls, 0);
}

static void private_key_jwt(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t ok[] = { { 200, "{\"access_token\":\"AT\",\"token_type\":"
                             "\"Bearer\"}", NULL } };
    script_t s = { ok, 1, 0, { 0 } };
    oac_token_t *t;
    const char *err = NULL;
    json_t *c;

    app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    app->client_secret = NULL;
    app->client_signer = ec_key(p, "k1");
    app->issuer = NULL;
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, "CODE",
                         "https://rp.example/cb", NULL, NOW), APR_SUCCESS);
    /* RFC 7523 2.2: the assertion in the body, no Basic header */
    assert_null(apr_table_get(s.reqs[0]->headers, "Authorization"));
    assert_string_equal(form_of(p, s.reqs[0], "client_assertion_type"),
                        "urn:ietf:params:oauth:client-assertion-type:"
                        "jwt-bearer");
    assert_string_equal(form_of(p, s.reqs[0], "client_id"), "client-1");
    assert_null(form_of(p, s.reqs[0], "client_secret"));
    c = claims_of(p, form_of(p, s.reqs[0], "client_assertion"),
                  app->client_signer, "k1");
    assert_string_equal(str(c, "iss"), "client-1");
    assert_string_equal(str(c, "sub"), "client-1");
    /* without an issuer, the token endpoint, as OpenID Connect Core 9
     * says ... */
    assert_string_equal(str(c, "aud"), TOKEN_URL);
    /* ... and the issuer whenever it is known (rfc7523bis) */
    s.calls = 0;
    app->issuer = "https://as.example";
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, "CODE",
                         "https://rp.example/cb", NULL, NOW), APR_SUCCESS);
    c = claims_of(p, form_of(p, s.reqs[0], "client_assertion"),
                  app->client_signer, "k1");
    assert_string_equal(str(c, "aud"), "https://as.example");
    /* ... but Microsoft's token endpoint, as Microsoft documents, with
     * compliance_fix=microsoft (its issuer may be a template) */
    s.calls = 0;
    app->issuer = "https://as.example/{tenantid}/v2.0";
    app->compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(app->compliance_fixes, const char *) = "microsoft";
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, "CODE",
                         "https://rp.example/cb", NULL, NOW), APR_SUCCESS);
    c = claims_of(p, form_of(p, s.reqs[0], "client_assertion"),
                  app->client_signer, "k1");
    assert_string_equal(str(c, "aud"), TOKEN_URL);
    app->compliance_fixes = NULL;
    app->issuer = "https://as.example";

    no_key_no_call(p, app, &s);
}

static void client_secret_jwt(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t ok[] = { { 200, "{\"access_token\":\"AT\"}", NULL } };
    script_t s = { ok, 1, 0, { 0 } };
    oac_token_t old = { 0 }, *t;
    const char *err = NULL, *alg = NULL;
    json_t *c = NULL;

    app->token_endpoint_auth_method = OAC_AUTH_CLIENT_SECRET_JWT;
    old.access_token = "AT0";
    old.refresh_token = "RT0";
    assert_int_equal(oac_oauth2_refresh(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, &old,
                         NOW), APR_SUCCESS);
    /* HS256 keyed by the secret, which never travels itself */
    assert_null(strstr(s.reqs[0]->body, "kd94hf93k423kf44"));
    assert_int_equal(oac_jose_verify(&c, &alg, &err, p,
                         form_of(p, s.reqs[0], "client_assertion"), NULL,
                         "HS256", "kd94hf93k423kf44"), OAC_JOSE_OK);
    assert_string_equal(str(c, "iss"), "client-1");
}

/* The header of a JWS, as JSON. */
static json_t *header_of(const char *jws)
{
    apr_pool_t *p;
    apr_size_t n = 0;
    unsigned char *raw = NULL;
    const char *why;
    json_t *h;

    apr_pool_create(&p, NULL);
    assert_int_equal(oac_util_b64url_decode(&raw, &n, &why, p,
                         apr_pstrndup(p, jws, strcspn(jws, "."))),
                     APR_SUCCESS);
    h = json_loadb((const char *)raw, n, 0, NULL);
    apr_pool_destroy(p);
    assert_non_null(h);
    return h;
}

/* compliance_fix=apple: the client_secret is an ES256 JWT of the team
 * (iss), about the client (sub), for Apple (aud), sent in the form, on
 * every call to the token endpoint; made afresh each time. */
static void apple_client_secret(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t ok[] = { { 200, "{\"access_token\":\"AT\",\"token_type\":"
                             "\"Bearer\"}", NULL },
                      { 200, "{\"access_token\":\"AT2\"}", NULL } };
    script_t s = { ok, 2, 0, { 0 } };
    oac_token_t old = { 0 }, *t;
    const char *err = NULL, *secret;
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *c, *h;

    app->compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(app->compliance_fixes, const char *) = "apple";
    app->token_endpoint_auth_method = OAC_AUTH_CLIENT_SECRET_POST;
    app->client_secret = NULL;
    app->client_signer = ec_key(p, "KEY1234567");
    app->apple_team_id = "TEAM123456";
    app->issuer = NULL;
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, "CODE",
                         "https://rp.example/cb", NULL, NOW), APR_SUCCESS);
    assert_null(apr_table_get(s.reqs[0]->headers, "Authorization"));
    assert_null(form_of(p, s.reqs[0], "client_assertion"));
    assert_string_equal(form_of(p, s.reqs[0], "client_id"), "client-1");
    secret = form_of(p, s.reqs[0], "client_secret");
    c = claims_of(p, secret, app->client_signer, "KEY1234567");
    assert_string_equal(str(c, "iss"), "TEAM123456");
    assert_string_equal(str(c, "sub"), "client-1");
    assert_string_equal(str(c, "aud"), OAC_APPLE_ISSUER);
    assert_true(json_integer_value(json_object_get(c, "iat")) >= now);
    assert_true(json_integer_value(json_object_get(c, "iat")) <= now + 5);
    assert_int_equal(json_integer_value(json_object_get(c, "exp"))
                     - json_integer_value(json_object_get(c, "iat")), 300);
    h = header_of(secret);
    assert_string_equal(str(h, "alg"), "ES256");
    assert_string_equal(str(h, "kid"), "KEY1234567");
    json_decref(h);

    /* a refresh signs its own; the issuer, when known, is the audience */
    app->issuer = "https://as.example";
    old.access_token = "AT0";
    old.refresh_token = "RT0";
    assert_int_equal(oac_oauth2_refresh(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, &old,
                         NOW), APR_SUCCESS);
    c = claims_of(p, form_of(p, s.reqs[1], "client_secret"),
                  app->client_signer, "KEY1234567");
    assert_string_equal(str(c, "aud"), "https://as.example");
    assert_string_equal(form_of(p, s.reqs[1], "refresh_token"), "RT0");

    no_key_no_call(p, app, &s);

    /* asking for the name or email address: the answer comes as a form
     * post, as Apple requires; not otherwise, nor against the
     * configuration's own response_mode */
    app->scope = "openid name email";
    assert_non_null(strstr(oac_oauth2_authorize_url(p, app, "https://rp/cb",
                                                    "S", NULL),
                           "&response_mode=form_post"));
    app->scope = "openid email";
    assert_non_null(strstr(oac_oauth2_authorize_url(p, app, "https://rp/cb",
                                                    "S", NULL),
                           "&response_mode=form_post"));
    app->scope = "openid names";
    assert_null(strstr(oac_oauth2_authorize_url(p, app, "https://rp/cb",
                                                "S", NULL),
                       "response_mode"));
    app->scope = "openid name";
    app->authorize_params = oac_form_make(p);
    oac_form_add(app->authorize_params, "response_mode", "fragment");
    assert_null(strstr(oac_oauth2_authorize_url(p, app, "https://rp/cb",
                                                "S", NULL),
                       "form_post"));
}

/* A provider that quotes the client's credentials in its error: the
 * assertion, Apple's signed secret, Basic credentials never reach the
 * message that goes to the log. */
static void quoted_credentials_redacted(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t refused[] = { { 401, "", NULL } };
    script_t s = { refused, 1, 0, { 0 } };
    oac_token_t *t;
    const char *err = NULL, *sent;

    app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    app->client_secret = NULL;
    app->client_signer = ec_key(p, "k1");
    echo_field = "client_assertion";
    assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                             oac_http_client_make(p, scripted, &s), app,
                             "CODE", "https://rp.example/cb", NULL, NOW),
                         APR_SUCCESS);
    sent = form_of(p, s.reqs[0], "client_assertion");
    assert_non_null(sent);
    assert_non_null(strstr(err, "bad client_assertion"));
    /* not even the start of it (the message is cut short) */
    assert_null(strstr(err, apr_pstrndup(p, sent, 16)));

    /* Apple's secret, on a refresh */
    app->compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(app->compliance_fixes, const char *) = "apple";
    app->token_endpoint_auth_method = OAC_AUTH_CLIENT_SECRET_POST;
    app->apple_team_id = "TEAM123456";
    echo_field = "client_secret";
    s.calls = 0;
    {
        oac_token_t old = { 0 };
        old.access_token = "AT0";
        old.refresh_token = "RT0";
        assert_int_not_equal(oac_oauth2_refresh(&t, &err, p,
                                 oac_http_client_make(p, scripted, &s), app,
                                 &old, NOW), APR_SUCCESS);
    }
    echo_field = NULL;
    sent = form_of(p, s.reqs[0], "client_secret");
    assert_non_null(strstr(err, "bad client_secret"));
    assert_null(strstr(err, apr_pstrndup(p, sent, 16)));
}

/* A DPoP nonce retry sends a client assertion of its own: quoted in the
 * answer, it is redacted too, as the first one is. */
static void retried_assertion_redacted(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t seq[] = {
        { 400, "{\"error\":\"use_dpop_nonce\"}", "n-1" },
        { 401, "", NULL },
    };
    script_t s = { seq, 2, 0, { 0 } };
    oac_token_t *t;
    const char *err = NULL, *first, *second;
    int i;

    app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    app->client_secret = NULL;
    app->client_signer = ec_key(p, "k1");
    assert_int_equal(oac_signer_generate(&app->dpop_signer, &err, p,
                                         "ES256"), APR_SUCCESS);
    echo_field = "client_assertion";
    for (i = 0; i < 2; ++i) {
        /* the code exchange, then a pushed authorization request */
        s.calls = 0;
        err = NULL;
        if (i == 0) {
            assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                                     oac_http_client_make(p, scripted, &s),
                                     app, "CODE", "https://rp.example/cb",
                                     NULL, NOW), APR_SUCCESS);
        }
        else {
            char *url = NULL;
            assert_int_not_equal(oac_oauth2_par(&url, &err, p,
                                     oac_http_client_make(p, scripted, &s),
                                     app, "https://rp.example/cb", "ST",
                                     "CH", NULL, NOW), APR_SUCCESS);
        }
        assert_int_equal(s.calls, 2);
        first = form_of(p, s.reqs[0], "client_assertion");
        second = form_of(p, s.reqs[1], "client_assertion");
        assert_non_null(first);
        assert_non_null(second);
        assert_string_not_equal(first, second);
        assert_non_null(err);
        assert_non_null(strstr(err, "bad client_assertion"));
        assert_null(strstr(err, apr_pstrndup(p, second, 16)));
        assert_null(strstr(err, apr_pstrndup(p, first, 16)));
    }
    echo_field = NULL;
}

static void dpop_token_calls(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t seq[] = {
        { 400, "{\"error\":\"use_dpop_nonce\"}", "n-1" },
        { 200, "{\"access_token\":\"AT\",\"token_type\":\"DPoP\"}", NULL },
    };
    script_t s = { seq, 2, 0, { 0 } };
    oac_token_t *t;
    const char *err = NULL, *a0, *a1;
    json_t *h0, *h1;

    app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    app->client_signer = ec_key(p, NULL);
    assert_int_equal(oac_signer_generate(&app->dpop_signer, &err, p,
                                         "ES256"), APR_SUCCESS);
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                         oac_http_client_make(p, scripted, &s), app, "CODE",
                         "https://rp.example/cb", NULL, NOW), APR_SUCCESS);
    assert_string_equal(t->token_type, "DPoP");
    assert_int_equal(s.calls, 2);
    h0 = claims_of(p, apr_table_get(s.reqs[0]->headers, "DPoP"),
                   app->dpop_signer, NULL);
    h1 = claims_of(p, apr_table_get(s.reqs[1]->headers, "DPoP"),
                   app->dpop_signer, NULL);
    assert_string_equal(str(h0, "htm"), "POST");
    assert_string_equal(str(h0, "htu"), TOKEN_URL);
    assert_null(json_object_get(h0, "nonce"));
    assert_null(json_object_get(h0, "ath"));
    /* the retry: the server's nonce, a fresh jti, a fresh assertion */
    assert_string_equal(str(h1, "nonce"), "n-1");
    assert_string_not_equal(str(h0, "jti"), str(h1, "jti"));
    a0 = form_of(p, s.reqs[0], "client_assertion");
    a1 = form_of(p, s.reqs[1], "client_assertion");
    assert_string_not_equal(a0, a1);
    assert_string_equal(form_of(p, s.reqs[1], "code"), "CODE");
    assert_string_equal(oac_oauth2_bearer_header(p, t), "DPoP AT");

    /* a second refusal is the server's answer: no third call */
    {
        answer_t twice[] = {
            { 400, "{\"error\":\"use_dpop_nonce\"}", "n-1" },
            { 400, "{\"error\":\"use_dpop_nonce\"}", "n-2" },
        };
        script_t s2 = { twice, 2, 0, { 0 } };
        assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                                 oac_http_client_make(p, scripted, &s2), app,
                                 "CODE", "https://rp.example/cb", NULL, NOW),
                             APR_SUCCESS);
        assert_int_equal(s2.calls, 2);
    }
    /* a proof refused as such (a replay, to the server): one fresh proof,
     * then the nonce it asks for, then its answer */
    {
        answer_t refused[] = {
            { 400, "{\"error\":\"invalid_dpop_proof\"}", NULL },
            { 400, "{\"error\":\"use_dpop_nonce\"}", "n-3" },
            { 400, "{\"error\":\"invalid_dpop_proof\"}", NULL },
        };
        script_t s4 = { refused, 3, 0, { 0 } };
        json_t *p0, *p1, *p2;
        assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                                 oac_http_client_make(p, scripted, &s4), app,
                                 "CODE", "https://rp.example/cb", NULL, NOW),
                             APR_SUCCESS);
        assert_int_equal(s4.calls, 3);
        p0 = claims_of(p, apr_table_get(s4.reqs[0]->headers, "DPoP"),
                       app->dpop_signer, NULL);
        p1 = claims_of(p, apr_table_get(s4.reqs[1]->headers, "DPoP"),
                       app->dpop_signer, NULL);
        p2 = claims_of(p, apr_table_get(s4.reqs[2]->headers, "DPoP"),
                       app->dpop_signer, NULL);
        assert_string_not_equal(str(p0, "jti"), str(p1, "jti"));
        assert_string_not_equal(str(p1, "jti"), str(p2, "jti"));
        assert_null(json_object_get(p1, "nonce"));
        assert_string_equal(str(p2, "nonce"), "n-3");
        assert_string_not_equal(form_of(p, s4.reqs[0], "client_assertion"),
                                form_of(p, s4.reqs[1], "client_assertion"));
    }
    /* a DPoP token for a client without a DPoP key: refused */
    {
        answer_t dpop[] = {
            { 200, "{\"access_token\":\"AT\",\"token_type\":\"DPoP\"}", NULL },
        };
        script_t s3 = { dpop, 1, 0, { 0 } };
        app->dpop_signer = NULL;
        assert_int_not_equal(oac_oauth2_exchange_code(&t, &err, p,
                                 oac_http_client_make(p, scripted, &s3), app,
                                 "CODE", "https://rp.example/cb", NULL, NOW),
                             APR_SUCCESS);
        assert_non_null(strstr(err, "DPoP"));
        assert_null(apr_table_get(s3.reqs[0]->headers, "DPoP"));
    }
    (void)h1;
}

static void dpop_resource_calls(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t seq[] = { { 200, "{}", NULL } };
    script_t s = { seq, 1, 0, { 0 } };
    oac_http_request_t req = { 0 };
    oac_http_response_t *resp;
    apr_table_t *h = apr_table_make(p, 1);
    const char *err;
    json_t *c;

    assert_int_equal(oac_signer_generate(&app->dpop_signer, &err, p,
                                         "EdDSA"), APR_SUCCESS);
    apr_table_setn(h, "Authorization", "DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4"
                                       "Ljp~zsPE_NeO.gxU");
    req.method = "GET";
    req.url = "https://rs.example/userinfo?x=1";
    req.headers = h;
    assert_int_equal(oac_oauth2_dpop_perform(&resp, &err, p,
                         oac_http_client_make(p, scripted, &s), app, &req,
                         NOW), APR_SUCCESS);
    c = claims_of(p, apr_table_get(s.reqs[0]->headers, "DPoP"),
                  app->dpop_signer, NULL);
    assert_string_equal(str(c, "htm"), "GET");
    assert_string_equal(str(c, "htu"), "https://rs.example/userinfo");
    /* RFC 9449 7.1's example token and its ath */
    assert_string_equal(str(c, "ath"),
                        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");

    /* a resource server's 401 asking for a nonce */
    {
        oac_http_response_t r401 = { 0 };
        r401.status = 401;
        r401.headers = apr_table_make(p, 2);
        apr_table_setn(r401.headers, "WWW-Authenticate",
                       "DPoP error=\"use_dpop_nonce\", error_description="
                       "\"Resource server requires nonce in DPoP proof\"");
        apr_table_setn(r401.headers, "DPoP-Nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_string_equal(oac_oauth2_dpop_nonce_asked(p, &r401),
                            "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        /* a nonce that could split a header is no nonce */
        apr_table_setn(r401.headers, "DPoP-Nonce", "a b");
        assert_null(oac_oauth2_dpop_nonce_asked(p, &r401));
        apr_table_setn(r401.headers, "DPoP-Nonce", "n");
        apr_table_setn(r401.headers, "WWW-Authenticate",
                       "DPoP error=\"invalid_token\"");
        assert_null(oac_oauth2_dpop_nonce_asked(p, &r401));
    }
}

static void pushed_requests(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    answer_t seq[] = { { 201, "{\"request_uri\":\"urn:ietf:params:oauth:"
                              "request_uri:bwc4JK-ESC0w8acc191e-Y1LTC2\","
                              "\"expires_in\":60}", NULL } };
    script_t s = { seq, 1, 0, { 0 } };
    apr_array_header_t *extra = oac_form_make(p);
    char *url = NULL;
    const char *err = NULL;

    oac_form_add(extra, "nonce", "N-1");
    app->pkce_s256 = 1;
    assert_int_equal(oac_oauth2_par(&url, &err, p,
                         oac_http_client_make(p, scripted, &s), app,
                         "https://rp.example/cb", "STATE", "CHALLENGE",
                         extra, NOW), APR_SUCCESS);
    /* RFC 9126 4: the browser carries client_id and request_uri only */
    assert_string_equal(url, "https://as.example/authorize?client_id="
                             "client-1&request_uri=urn%3Aietf%3Aparams%3A"
                             "oauth%3Arequest_uri%3Abwc4JK-ESC0w8acc191e-"
                             "Y1LTC2");
    /* the server got the whole request, authenticated */
    assert_string_equal(s.reqs[0]->url, "https://as.example/par");
    assert_string_equal(s.reqs[0]->method, "POST");
    assert_string_equal(form_of(p, s.reqs[0], "response_type"), "code");
    assert_string_equal(form_of(p, s.reqs[0], "state"), "STATE");
    assert_string_equal(form_of(p, s.reqs[0], "code_challenge"), "CHALLENGE");
    assert_string_equal(form_of(p, s.reqs[0], "redirect_uri"),
                        "https://rp.example/cb");
    assert_string_equal(form_of(p, s.reqs[0], "nonce"), "N-1");
    assert_non_null(apr_table_get(s.reqs[0]->headers, "Authorization"));

    /* an error, or no request_uri: no URL */
    {
        answer_t bad[] = { { 400, "{\"error\":\"invalid_request\"}", NULL },
                           { 201, "{\"expires_in\":60}", NULL } };
        script_t s2 = { bad, 2, 0, { 0 } };
        assert_int_not_equal(oac_oauth2_par(&url, &err, p,
                                 oac_http_client_make(p, scripted, &s2), app,
                                 "https://rp.example/cb", "S", NULL, NULL,
                                 NOW), APR_SUCCESS);
        assert_non_null(strstr(err, "HTTP 400"));
        assert_null(strstr(err, "kd94hf93k423kf44"));
        assert_int_not_equal(oac_oauth2_par(&url, &err, p,
                                 oac_http_client_make(p, scripted, &s2), app,
                                 "https://rp.example/cb", "S", NULL, NULL,
                                 NOW), APR_SUCCESS);
        assert_non_null(strstr(err, "no request_uri"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(private_key_jwt),
        T(client_secret_jwt),
        T(apple_client_secret),
        T(quoted_credentials_redacted),
        T(retried_assertion_redacted),
        T(dpop_token_calls),
        T(dpop_resource_calls),
        T(pushed_requests),
    };

    return OAC_RUN_TESTS("oac_oauth2 client auth, DPoP, PAR", tests);
}
