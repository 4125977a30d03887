/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_oauth2.c, with a fake HTTP client. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"
#include "fake_http.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "oac_app.h"
#include "oac_form.h"
#include "oac_http.h"
#include "oac_oauth2.h"
#include "oac_token.h"

#define NOW APR_INT64_C(1700000000)

/* Credentials with every character RFC 6749 section 2.3.1's encoding is
 * about: ':' (the separator), '+', ' ', '%', '/', '='. */
#define ODD_ID     "my:client id+%"
#define ODD_SECRET "s3:cr+t %x/="
#define ODD_ID_ENC     "my%3Aclient%20id%2B%25"
#define ODD_SECRET_ENC "s3%3Acr%2Bt%20%25x%2F%3D"
/* base64("my%3Aclient%20id%2B%25:s3%3Acr%2Bt%20%25x%2F%3D") */
#define ODD_BASIC "Basic bXklM0FjbGllbnQlMjBpZCUyQiUyNTpzMyUzQWNyJTJCdCUyMCUy" \
                  "NXglMkYlM0Q="

#define REDIRECT "https://app.example.com/oauth/demo/callback"
#define REDIRECT_ENC "https%3A%2F%2Fapp.example.com%2Foauth%2Fdemo%2Fcallback"

/* RFC 7636 appendix B */
#define RFC_VERIFIER  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* ---- fixtures ------------------------------------------------------------ */

static apr_array_header_t *form(apr_pool_t *p, const char *s)
{
    apr_array_header_t *f = NULL;
    const char *err = NULL;

    if (oac_form_decode(&f, &err, p, s) != APR_SUCCESS) {
        fail_msg("bad test form: %s", err);
    }
    return f;
}

/* An app built by hand, as oac_app_finalize would leave it. */
static oac_app_t *make_app(apr_pool_t *p, oac_client_auth_e auth)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));

    app->name = "demo";
    app->version = OAC_OAUTH2;
    app->client_id = ODD_ID;
    app->client_secret = auth == OAC_AUTH_NONE ? NULL : ODD_SECRET;
    app->access_token_url = "https://idp.example.com/token";
    app->access_token_params = oac_form_make(p);
    app->refresh_token_url = "https://idp.example.com/refresh";
    app->authorize_url = "https://idp.example.com/authorize";
    app->authorize_params = oac_form_make(p);
    app->request_token_params = oac_form_make(p);
    app->scope = "openid profile";
    app->pkce_s256 = 1;
    app->token_endpoint_auth_method = auth;
    app->token_placement = OAC_PLACE_HEADER;
    return app;
}

static oac_token_t *make_token(apr_pool_t *p, const char *access,
                               const char *refresh, const char *scope,
                               apr_int64_t expires_at)
{
    oac_token_t *t = apr_pcalloc(p, sizeof(*t));

    t->access_token = access;
    t->refresh_token = refresh;
    t->scope = scope;
    t->token_type = "Bearer";
    t->expires_in = -1;
    t->expires_at = expires_at;
    t->extra = oac_form_make(p);
    return t;
}

/* Request headers: the table must hold exactly these (NULL-terminated
 * name, value pairs). */
static void assert_headers(const apr_table_t *h, ...)
{
    va_list ap;
    const char *name;
    int n = 0;

    va_start(ap, h);
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        const char *got = apr_table_get(h, name);

        if (!got || strcmp(got, value) != 0) {
            va_end(ap);
            fail_msg("header %s: got '%s', want '%s'", name,
                     got ? got : "(none)", value);
        }
        ++n;
    }
    va_end(ap);
    assert_int_equal(apr_table_elts(h)->nelts, n);
}

static void assert_form_post(const oac_http_request_t *req, const char *url,
                             const char *body)
{
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, url);
    assert_string_equal(req->content_type,
                        "application/x-www-form-urlencoded");
    assert_string_equal(req->body, body);
    assert_int_equal(req->body_len, strlen(body));
}

/* ---- PKCE ---------------------------------------------------------------- */

static void pkce_rfc7636_vector(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_oauth2_pkce_challenge(p, RFC_VERIFIER),
                        RFC_CHALLENGE);
    assert_null(oac_oauth2_pkce_challenge(p, NULL));
}

static void pkce_verifier_shape(void **state)
{
    apr_pool_t *p = *state;
    char *prev = NULL;
    int i;

    for (i = 0; i < 50; ++i) {
        char *v = NULL, *c;
        const char *err = NULL;

        assert_int_equal(oac_oauth2_pkce_verifier(&v, &err, p), APR_SUCCESS);
        /* RFC 7636 section 4.1: 43..128 chars of unreserved; ours is 43
         * chars of the base64url alphabet. */
        assert_int_equal(strlen(v), 43);
        assert_int_equal(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_"),
                         43);
        c = oac_oauth2_pkce_challenge(p, v);
        assert_int_equal(strlen(c), 43);
        assert_string_not_equal(c, v);
        if (prev) {
            assert_string_not_equal(v, prev);
        }
        prev = v;
    }
}

/* ---- authorization URL --------------------------------------------------- */

static void authorize_url_full(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);

    app->authorize_params = form(p, "prompt=consent&state=evil"
        "&redirect_uri=https%3A%2F%2Fevil.example%2F&access_type=offline"
        "&scope=admin&response_type=token&client_id=other"
        "&code_challenge=x&code_challenge_method=plain&prompt=login");
    assert_string_equal(
        oac_oauth2_authorize_url(p, app, REDIRECT, "st8-_", RFC_CHALLENGE),
        "https://idp.example.com/authorize?response_type=code"
        "&client_id=" ODD_ID_ENC
        "&redirect_uri=" REDIRECT_ENC
        "&scope=openid%20profile"
        "&state=st8-_"
        "&code_challenge=" RFC_CHALLENGE
        "&code_challenge_method=S256"
        "&prompt=consent&access_type=offline&prompt=login");
}

static void authorize_url_minimal(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_NONE);

    app->client_id = "abc";
    app->scope = NULL;
    app->authorize_params = NULL;
    assert_string_equal(
        oac_oauth2_authorize_url(p, app, "/cb", "s", NULL),
        "https://idp.example.com/authorize?response_type=code&client_id=abc"
        "&redirect_uri=%2Fcb&state=s");
}

/* Without the scope key, authorize_params may carry scope; the binding
 * parameters stay the module's. An authorize_url with a query keeps it. */
static void authorize_url_scope_from_params(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);

    app->client_id = "abc";
    app->scope = NULL;
    app->authorize_url = "https://idp.example.com/authorize?tenant=t1";
    app->authorize_params = form(p, "scope=user%3Aemail+repo&state=evil");
    assert_string_equal(
        oac_oauth2_authorize_url(p, app, REDIRECT, "s", NULL),
        "https://idp.example.com/authorize?tenant=t1&response_type=code"
        "&client_id=abc&redirect_uri=" REDIRECT_ENC
        "&state=s&scope=user%3Aemail%20repo");
}

/* The whole path: an app declared the way httpd.conf declares it. */
static void authorize_url_from_declaration(void **state)
{
    apr_pool_t *p = *state;
    oac_app_decl_t *d = oac_app_decl_make(p, "gh");
    oac_app_t *app = NULL;
    const char *err = NULL;

    assert_int_equal(oac_app_decl_set(&err, p, d, "client_id", "cid"), 0);
    assert_int_equal(oac_app_decl_set(&err, p, d, "client_secret", "cs"), 0);
    assert_int_equal(oac_app_decl_set(&err, p, d, "authorize_url",
                     "https://github.com/login/oauth/authorize"), 0);
    assert_int_equal(oac_app_decl_set(&err, p, d, "access_token_url",
                     "https://github.com/login/oauth/access_token"), 0);
    assert_int_equal(oac_app_decl_set(&err, p, d, "client_kwargs",
                     "scope=user%3Aemail+read%3Aorg"), 0);
    assert_int_equal(oac_app_decl_set(&err, p, d, "authorize_params",
                     "allow_signup=false&redirect_uri=x"), 0);
    if (oac_app_finalize(&app, &err, p, d) != APR_SUCCESS) {
        fail_msg("finalize: %s", err);
    }
    assert_string_equal(
        oac_oauth2_authorize_url(p, app, "https://app/cb", "S", NULL),
        "https://github.com/login/oauth/authorize?response_type=code"
        "&client_id=cid&redirect_uri=https%3A%2F%2Fapp%2Fcb"
        "&scope=user%3Aemail%20read%3Aorg&state=S&allow_signup=false");
}

/* ---- token requests ------------------------------------------------------ */

static oac_http_request_t *code_request_ok(apr_pool_t *p,
                                           const oac_app_t *app,
                                           const char *verifier)
{
    oac_http_request_t *req = NULL;
    const char *err = NULL;

    if (oac_oauth2_code_request(&req, &err, p, app, "c0de/+=", REDIRECT,
                                verifier) != APR_SUCCESS) {
        fail_msg("code request: %s", err);
    }
    return req;
}

static void code_request_basic(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_http_request_t *req = code_request_ok(p, app, RFC_VERIFIER);

    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=" REDIRECT_ENC
                     "&code_verifier=" RFC_VERIFIER);
    assert_headers(req->headers, "Accept", "application/json",
                   "Authorization", ODD_BASIC, NULL);
}

static void code_request_basic_plain_credentials(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_http_request_t *req;

    app->client_id = "demo-client";
    app->client_secret = "demo-secret";
    req = code_request_ok(p, app, NULL);
    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=" REDIRECT_ENC);
    assert_headers(req->headers, "Accept", "application/json",
                   "Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=",
                   NULL);
}

static void code_request_post(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_http_request_t *req = code_request_ok(p, app, RFC_VERIFIER);

    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=" REDIRECT_ENC
                     "&code_verifier=" RFC_VERIFIER
                     "&client_id=" ODD_ID_ENC
                     "&client_secret=" ODD_SECRET_ENC);
    assert_headers(req->headers, "Accept", "application/json", NULL);
}

static void code_request_none(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_NONE);
    oac_http_request_t *req = code_request_ok(p, app, RFC_VERIFIER);

    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=" REDIRECT_ENC
                     "&code_verifier=" RFC_VERIFIER
                     "&client_id=" ODD_ID_ENC);
    assert_headers(req->headers, "Accept", "application/json", NULL);
}

/* access_token_params add to the body; they never replace what the grant
 * or client authentication set. */
static void code_request_extra_params(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_http_request_t *req;

    app->client_id = "cid";
    app->client_secret = "cs";
    app->access_token_params = form(p, "audience=api&grant_type=password"
        "&code=evil&client_id=evil&client_secret=evil&redirect_uri=evil"
        "&code_verifier=evil&resource=a&resource=b");
    req = code_request_ok(p, app, "ver");
    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=" REDIRECT_ENC "&code_verifier=ver"
                     "&client_id=cid&client_secret=cs"
                     "&audience=api&resource=a&resource=b");
}

static void code_request_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_http_request_t sentinel, *req = &sentinel;
    const char *err = NULL;

    assert_int_equal(oac_oauth2_code_request(&req, &err, p, app, NULL,
                                             REDIRECT, NULL), APR_EINVAL);
    assert_string_equal(err, "no authorization code to exchange");
    assert_int_equal(oac_oauth2_code_request(&req, &err, p, app, "",
                                             REDIRECT, NULL), APR_EINVAL);
    assert_int_equal(oac_oauth2_code_request(&req, &err, p, app, "c",
                                             NULL, NULL), APR_EINVAL);
    assert_string_equal(err, "no redirect_uri for the code exchange");
    app->client_secret = NULL;
    assert_int_equal(oac_oauth2_code_request(&req, &err, p, app, "c",
                                             REDIRECT, NULL), APR_EINVAL);
    assert_string_equal(err, "app demo has no client_secret, which "
                        "token_endpoint_auth_method client_secret_basic "
                        "needs");
    app->client_secret = ODD_SECRET;
    app->access_token_url = NULL;
    assert_int_equal(oac_oauth2_code_request(&req, &err, p, app, "c",
                                             REDIRECT, NULL), APR_EINVAL);
    assert_string_equal(err, "app demo has no token endpoint URL");
    assert_ptr_equal(req, &sentinel);
}

static oac_http_request_t *refresh_request_ok(apr_pool_t *p,
                                              const oac_app_t *app,
                                              const char *scope)
{
    oac_http_request_t *req = NULL;
    const char *err = NULL;

    if (oac_oauth2_refresh_request(&req, &err, p, app, "rt/+= 1", scope)
        != APR_SUCCESS) {
        fail_msg("refresh request: %s", err);
    }
    return req;
}

static void refresh_request_basic(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_http_request_t *req;

    /* access_token_params are for the code request only */
    app->access_token_params = form(p, "audience=api");
    req = refresh_request_ok(p, app, NULL);
    assert_form_post(req, "https://idp.example.com/refresh",
                     "grant_type=refresh_token&refresh_token=rt%2F%2B%3D%201");
    assert_headers(req->headers, "Accept", "application/json",
                   "Authorization", ODD_BASIC, NULL);
}

static void refresh_request_post(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_http_request_t *req = refresh_request_ok(p, app, "openid email");

    assert_form_post(req, "https://idp.example.com/refresh",
                     "grant_type=refresh_token&refresh_token=rt%2F%2B%3D%201"
                     "&scope=openid%20email"
                     "&client_id=" ODD_ID_ENC
                     "&client_secret=" ODD_SECRET_ENC);
    assert_headers(req->headers, "Accept", "application/json", NULL);
}

static void refresh_request_none(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_NONE);
    oac_http_request_t *req;

    /* without refresh_token_url, the token endpoint */
    app->refresh_token_url = NULL;
    req = refresh_request_ok(p, app, NULL);
    assert_form_post(req, "https://idp.example.com/token",
                     "grant_type=refresh_token&refresh_token=rt%2F%2B%3D%201"
                     "&client_id=" ODD_ID_ENC);
    assert_headers(req->headers, "Accept", "application/json", NULL);
}

static void refresh_request_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_NONE);
    oac_http_request_t sentinel, *req = &sentinel;
    const char *err = NULL;

    assert_int_equal(oac_oauth2_refresh_request(&req, &err, p, app, NULL,
                                                NULL), APR_EINVAL);
    assert_string_equal(err, "no refresh_token to refresh the access "
                        "token with");
    assert_int_equal(oac_oauth2_refresh_request(&req, &err, p, app, "",
                                                NULL), APR_EINVAL);
    assert_ptr_equal(req, &sentinel);
}

/* ---- token responses ----------------------------------------------------- */

static oac_token_t *response_ok(apr_pool_t *p, int status, const char *ct,
                                const char *body)
{
    oac_token_t *t = NULL;
    const char *err = NULL;

    if (oac_oauth2_token_response(&t, &err, p,
                                  make_resp(p, status, ct, body), NOW)
        != APR_SUCCESS) {
        fail_msg("token response: %s", err);
    }
    assert_non_null(t);
    return t;
}

static const char *response_fails(apr_pool_t *p, int status, const char *ct,
                                  const char *body, apr_status_t expected)
{
    oac_token_t sentinel, *t = &sentinel;
    const char *err = NULL;

    assert_int_equal(oac_oauth2_token_response(&t, &err, p,
                                               make_resp(p, status, ct, body),
                                               NOW),
                     expected);
    assert_ptr_equal(t, &sentinel);
    assert_non_null(err);
    return err;
}

/* RFC 6749 7.1: a token of a type the client does not understand must
 * not be used; Bearer in any case, and no type at all, are fine. */
static void response_token_type(void **state)
{
    apr_pool_t *p = *state;
    /* as they stand in the JSON body */
    static const char *const refused[] = { "mac", "N_A", "DPoP ", "Bearer ",
                                           "bearer\\r\\nX: y" };
    apr_size_t i;

    assert_string_equal(response_ok(p, 200, "application/json",
                                    "{\"access_token\":\"a\","
                                    "\"token_type\":\"bEaReR\"}")
                            ->token_type, "bEaReR");
    assert_null(response_ok(p, 200, "application/json",
                            "{\"access_token\":\"a\"}")->token_type);
    /* RFC 9449 7.1: DPoP in any case, as DPoP (token_call refuses it
     * for an app without a DPoP key) */
    assert_string_equal(response_ok(p, 200, "application/json",
                                    "{\"access_token\":\"a\","
                                    "\"token_type\":\"dpop\"}")
                            ->token_type, "DPoP");
    assert_null(response_ok(p, 200, "application/json",
                            "{\"access_token\":\"a\",\"token_type\":\"\"}")
                    ->token_type);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        const char *body = apr_psprintf(p, "{\"access_token\":\"a\","
                                        "\"token_type\":\"%s\"}",
                                        refused[i]);
        const char *err = response_fails(p, 200, "application/json", body,
                                         APR_EINVAL);
        assert_non_null(strstr(err, "token_type"));
        assert_null(strchr(err, '\n'));
    }
}

static void response_200_json(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = response_ok(p, 200, "application/json",
        "{\"access_token\":\"at+/=1\",\"token_type\":\"Bearer\","
        "\"expires_in\":3600,\"refresh_token\":\"rt1\","
        "\"scope\":\"openid\",\"id_token\":\"x.y.z\"}");

    assert_string_equal(t->access_token, "at+/=1");
    assert_string_equal(t->token_type, "Bearer");
    assert_string_equal(t->refresh_token, "rt1");
    assert_string_equal(t->scope, "openid");
    assert_int_equal(t->expires_in, 3600);
    assert_int_equal(t->expires_at, NOW + 3600);
    assert_int_equal(t->extra->nelts, 1);
    assert_string_equal(oac_form_get(t->extra, "id_token"), "x.y.z");
}

static void response_200_form(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = response_ok(p, 200, "application/x-www-form-urlencoded",
        "access_token=gho_abc&scope=user%3Aemail&token_type=bearer");

    assert_string_equal(t->access_token, "gho_abc");
    assert_string_equal(t->token_type, "bearer");
    assert_string_equal(t->scope, "user:email");
    assert_null(t->refresh_token);
    assert_int_equal(t->expires_at, 0);
    /* any 2xx is a success */
    t = response_ok(p, 201, NULL, "{\"access_token\":\"a\"}");
    assert_string_equal(t->access_token, "a");
}

/* An empty refresh_token is no refresh token. */
static void response_empty_refresh_token(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = response_ok(p, 200, "application/json",
        "{\"access_token\":\"a\",\"refresh_token\":\"\"}");

    assert_null(t->refresh_token);
}

static void response_400_json_error(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(response_fails(p, 400, "application/json",
        "{\"error\":\"invalid_grant\",\"error_description\":"
        "\"The code has expired\"}", APR_EGENERAL),
        "token endpoint answered HTTP 400: invalid_grant "
        "(The code has expired)");
    assert_string_equal(response_fails(p, 401, "application/json",
        "{\"error\":\"invalid_client\"}", APR_EGENERAL),
        "token endpoint answered HTTP 401: invalid_client");
    assert_string_equal(response_fails(p, 400, "application/json",
        "{\"error\":\"invalid_request\",\"error_description\":\"\"}",
        APR_EGENERAL),
        "token endpoint answered HTTP 400: invalid_request");
    /* JSON without a Content-Type saying so is still read */
    assert_string_equal(response_fails(p, 400, "text/plain",
        " {\"error\":\"unsupported_grant_type\","
        "\"error_description\":null}", APR_EGENERAL),
        "token endpoint answered HTTP 400: unsupported_grant_type");
    /* not a section 5.2 error: the status alone */
    assert_string_equal(response_fails(p, 400, "application/json",
        "{\"error\":{\"code\":400}}", APR_EGENERAL),
        "token endpoint answered HTTP 400");
    assert_string_equal(response_fails(p, 400, "application/json",
        "[\"error\"]", APR_EGENERAL),
        "token endpoint answered HTTP 400");
    assert_string_equal(response_fails(p, 400, "application/json", "",
                                       APR_EGENERAL),
                        "token endpoint answered HTTP 400");
}

static void response_400_error_sanitized(void **state)
{
    apr_pool_t *p = *state;
    char desc[301];
    const char *err;

    memset(desc, 'd', 300);
    desc[300] = '\0';
    err = response_fails(p, 400, "application/json",
        apr_psprintf(p, "{\"error\":\"bad\\r\\nX-Injected: 1\\u001b[31m\","
                     "\"error_description\":\"%s\"}", desc), APR_EGENERAL);
    assert_string_equal(err, apr_psprintf(p, "token endpoint answered HTTP "
                                          "400: bad??X-Injected: 1?[31m "
                                          "(%.200s[...])", desc));
    /* the cut never splits a UTF-8 character: 199 'e' + "\u00e9" */
    memset(desc, 'e', 199);
    desc[199] = '\0';
    err = response_fails(p, 400, "application/json",
        apr_psprintf(p, "{\"error\":\"x\",\"error_description\":"
                     "\"%s\\u00e9\"}", desc), APR_EGENERAL);
    assert_string_equal(err, apr_psprintf(p, "token endpoint answered HTTP "
                                          "400: x (%s[...])", desc));
}

/* A provider that quotes the client secret where its description is cut
 * (200 bytes): the part before the cut is redacted too. Before, the cut
 * came first and the whole-secret match found nothing to redact. */
static void exchange_code_secret_cut_redacted(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_token_t *t = NULL;
    const char *pad = apr_psprintf(p, "%0192d", 0);   /* 8 bytes of it fit */
    fake_t f;
    const char *err = NULL;

    fake_answer(&f, 400, "application/json",
                apr_psprintf(p, "{\"error\":\"invalid_client\","
                             "\"error_description\":\"%s%s rejected\"}",
                             pad, ODD_SECRET));
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode1", REDIRECT, NULL,
                                              NOW),
                     APR_EGENERAL);
    assert_string_equal(err, apr_psprintf(p, "token endpoint answered HTTP "
                                          "400: invalid_client (%s"
                                          "[redacted][...])", pad));
    /* and as a form would carry it, percent-encoded */
    fake_answer(&f, 400, "application/json",
                apr_psprintf(p, "{\"error\":\"invalid_client\","
                             "\"error_description\":\"got %s\"}",
                             ODD_SECRET_ENC));
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode1", REDIRECT, NULL,
                                              NOW),
                     APR_EGENERAL);
    assert_string_equal(err, "token endpoint answered HTTP 400: "
                        "invalid_client (got [redacted])");
}

static void response_500_html(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(response_fails(p, 500, "text/html",
        "<html><body>Internal Server Error</body></html>", APR_EGENERAL),
        "token endpoint answered HTTP 500");
    assert_string_equal(response_fails(p, 302, NULL, "", APR_EGENERAL),
                        "token endpoint answered HTTP 302");
}

/* GitHub answers a bad code with 200 and an error field. */
static void response_200_with_error(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(response_fails(p, 200, "application/json",
        "{\"error\":\"bad_verification_code\",\"error_description\":"
        "\"The code passed is incorrect or expired.\"}", APR_EGENERAL),
        "provider returned error 'bad_verification_code': The code passed "
        "is incorrect or expired.");
    assert_string_equal(response_fails(p, 200,
        "application/x-www-form-urlencoded",
        "error=bad_verification_code", APR_EGENERAL),
        "provider returned error 'bad_verification_code'");
}

static void response_200_malformed(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(response_fails(p, 200, "application/json", "",
                                       APR_EINVAL),
                        "token response is empty");
    assert_string_equal(response_fails(p, 200, "application/json",
                                       "{\"token_type\":\"bearer\"}",
                                       APR_EINVAL),
                        "token response has no access_token");
    assert_string_equal(response_fails(p, 200, "application/json",
                                       "{\"access_token\":\"a\\nb\"}",
                                       APR_EINVAL),
                        "token response has an access_token with "
                        "characters outside RFC 6749 VSCHAR");
    assert_string_equal(response_fails(p, 200, "application/json",
                                       "{\"access_token\":\"\\u00e9\"}",
                                       APR_EINVAL),
                        "token response has an access_token with "
                        "characters outside RFC 6749 VSCHAR");
    assert_string_equal(response_fails(p, 200, "application/json",
        "{\"access_token\":\"a\",\"refresh_token\":\"r\\r\\n\"}",
        APR_EINVAL),
        "token response has a refresh_token with characters outside "
        "RFC 6749 VSCHAR");
    {
        oac_token_t sentinel, *t = &sentinel;
        const char *err = NULL;

        assert_int_equal(oac_oauth2_token_response(&t, &err, p, NULL, NOW),
                         APR_EINVAL);
        assert_string_equal(err, "no token endpoint response");
        assert_ptr_equal(t, &sentinel);
    }
}

/* ---- exchange and refresh through the fake client ------------------------ */

static void exchange_code_ok(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    fake_t f;
    oac_token_t *t = NULL;
    const char *err = NULL;

    fake_answer(&f, 200, "application/json; charset=utf-8",
                "{\"access_token\":\"AT\",\"token_type\":\"bearer\","
                "\"expires_in\":60,\"refresh_token\":\"RT\"}");
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode", REDIRECT,
                                              RFC_VERIFIER, NOW),
                     APR_SUCCESS);
    assert_int_equal(f.calls, 1);
    assert_form_post(f.req, "https://idp.example.com/token",
                     "grant_type=authorization_code&code=thecode"
                     "&redirect_uri=" REDIRECT_ENC
                     "&code_verifier=" RFC_VERIFIER);
    assert_headers(f.req->headers, "Accept", "application/json",
                   "Authorization", ODD_BASIC, NULL);
    assert_string_equal(t->access_token, "AT");
    assert_string_equal(t->refresh_token, "RT");
    assert_int_equal(t->expires_at, NOW + 60);
}

static void exchange_code_provider_error(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_token_t sentinel, *t = &sentinel;
    fake_t f;
    const char *err = NULL;

    /* a provider that quotes what it got: none of it may reach the log */
    fake_answer(&f, 400, "application/json",
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"code thecode1 with verifier " RFC_VERIFIER
                " for secret " ODD_SECRET " is invalid\"}");
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode1", REDIRECT,
                                              RFC_VERIFIER, NOW),
                     APR_EGENERAL);
    assert_string_equal(err, "token endpoint answered HTTP 400: "
                        "invalid_grant (code [redacted] with verifier "
                        "[redacted] for secret [redacted] is invalid)");
    assert_ptr_equal(t, &sentinel);

    fake_answer(&f, 200, "application/json",
                "{\"error\":\"bad_verification_code\","
                "\"error_description\":\"thecode1 thecode1\"}");
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode1", REDIRECT,
                                              NULL, NOW),
                     APR_EGENERAL);
    assert_string_equal(err, "provider returned error "
                        "'bad_verification_code': [redacted] [redacted]");
    assert_ptr_equal(t, &sentinel);
}

static void exchange_code_transport_error(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t sentinel, *t = &sentinel;
    fake_t f;
    const char *err = NULL;

    /* the endpoint's query (an API key, say) is never shown */
    app->access_token_url = "https://idp.example.com:8443/oauth/token"
                            "?key=SECRETKEY";
    memset(&f, 0, sizeof(f));
    f.rv = APR_TIMEUP;
    f.err = "https://idp.example.com:8443/oauth/token: timed out after 10 s";
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode", REDIRECT, NULL,
                                              NOW),
                     OAC_OAUTH2_UNAVAILABLE);
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.req->url, "https://idp.example.com:8443/oauth/"
                        "token?key=SECRETKEY");
    assert_string_equal(err, "token endpoint "
                        "https://idp.example.com:8443/oauth/token: "
                        "https://idp.example.com:8443/oauth/token: "
                        "timed out after 10 s");
    assert_ptr_equal(t, &sentinel);

    f.rv = APR_ECONNREFUSED;
    f.err = NULL;
    app->access_token_url = "http://127.0.0.1/token";
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app,
                                              "thecode", REDIRECT, NULL,
                                              NOW),
                     OAC_OAUTH2_UNAVAILABLE);
    assert_string_equal(err, "token endpoint http://127.0.0.1/token: "
                        "HTTP request failed");
}

/* A request that cannot be built is never sent. */
static void exchange_code_bad_request(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t sentinel, *t = &sentinel;
    fake_t f;
    const char *err = NULL;

    fake_answer(&f, 200, NULL, "{\"access_token\":\"a\"}");
    assert_int_equal(oac_oauth2_exchange_code(&t, &err, p,
                                              fake_client(p, &f), app, NULL,
                                              REDIRECT, NULL, NOW),
                     APR_EINVAL);
    assert_string_equal(err, "no authorization code to exchange");
    assert_int_equal(f.calls, 0);
    assert_ptr_equal(t, &sentinel);
}

static void refresh_rotates(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t *old = make_token(p, "old-at", "old-rt", "openid profile",
                                  NOW - 5);
    oac_token_t *t = NULL;
    fake_t f;
    const char *err = NULL;

    fake_answer(&f, 200, "application/json",
                "{\"access_token\":\"new-at\",\"token_type\":\"Bearer\","
                "\"expires_in\":3600,\"refresh_token\":\"new-rt\","
                "\"scope\":\"openid\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_SUCCESS);
    assert_int_equal(f.calls, 1);
    assert_form_post(f.req, "https://idp.example.com/refresh",
                     "grant_type=refresh_token&refresh_token=old-rt");
    assert_headers(f.req->headers, "Accept", "application/json",
                   "Authorization", ODD_BASIC, NULL);
    assert_string_equal(t->access_token, "new-at");
    assert_string_equal(t->refresh_token, "new-rt");
    assert_string_equal(t->scope, "openid");
    assert_int_equal(t->expires_at, NOW + 3600);
    /* old is left alone */
    assert_string_equal(old->refresh_token, "old-rt");
    assert_string_equal(old->access_token, "old-at");
}

static void refresh_without_rotation_keeps_old(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    oac_token_t *old = make_token(p, "old-at", "old-rt", "openid profile",
                                  NOW - 5);
    oac_token_t *t = NULL;
    fake_t f;
    const char *err = NULL;

    fake_answer(&f, 200, "application/json",
                "{\"access_token\":\"new-at\",\"token_type\":\"Bearer\","
                "\"expires_in\":600}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_SUCCESS);
    assert_form_post(f.req, "https://idp.example.com/refresh",
                     "grant_type=refresh_token&refresh_token=old-rt"
                     "&client_id=" ODD_ID_ENC
                     "&client_secret=" ODD_SECRET_ENC);
    assert_string_equal(t->access_token, "new-at");
    assert_string_equal(t->refresh_token, "old-rt");
    assert_string_equal(t->scope, "openid profile");
    assert_int_equal(t->expires_at, NOW + 600);

    /* an empty refresh_token in the response is no rotation either */
    fake_answer(&f, 200, "application/json",
                "{\"access_token\":\"n2\",\"refresh_token\":\"\"}");
    old->scope = NULL;
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_SUCCESS);
    assert_string_equal(t->access_token, "n2");
    assert_string_equal(t->refresh_token, "old-rt");
    assert_null(t->scope);
    assert_int_equal(t->expires_at, 0);
}

static void refresh_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t *old = make_token(p, "old-at", NULL, NULL, NOW - 5);
    oac_token_t sentinel, *t = &sentinel;
    fake_t f;
    const char *err = NULL;

    fake_answer(&f, 200, NULL, "{\"access_token\":\"a\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_EINVAL);
    assert_string_equal(err, "no refresh_token to refresh the access "
                        "token with");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, NULL, NOW), APR_EINVAL);
    assert_string_equal(err, "no token to refresh");
    assert_int_equal(f.calls, 0);

    old->refresh_token = "rt-SECRET";
    fake_answer(&f, 400, "application/json",
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"refresh token rt-SECRET revoked\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_EGENERAL);
    assert_string_equal(err, "token endpoint answered HTTP 400: "
                        "invalid_grant (refresh token [redacted] revoked)");

    /* no verdict on the grant: the provider down, too busy or too slow,
     * unless it says invalid_grant all the same */
    fake_answer(&f, 503, "text/html", "<h1>down for maintenance</h1>");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW),
                     OAC_OAUTH2_UNAVAILABLE);
    assert_non_null(strstr(err, "token endpoint answered HTTP 503"));
    fake_answer(&f, 429, "application/json", "{\"error\":\"slow_down\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW),
                     OAC_OAUTH2_UNAVAILABLE);
    fake_answer(&f, 500, "application/json",
                "{\"error\":\"invalid_grant\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_EGENERAL);
    fake_answer(&f, 401, "application/json",
                "{\"error\":\"invalid_client\"}");
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW), APR_EGENERAL);

    memset(&f, 0, sizeof(f));
    f.rv = APR_EGENERAL;
    f.err = "https://idp.example.com:443/refresh: TLS handshake failed";
    assert_int_equal(oac_oauth2_refresh(&t, &err, p, fake_client(p, &f),
                                        app, old, NOW),
                     OAC_OAUTH2_UNAVAILABLE);
    assert_string_equal(err, "token endpoint https://idp.example.com/refresh"
                        ": https://idp.example.com:443/refresh: TLS "
                        "handshake failed");
    assert_ptr_equal(t, &sentinel);
}

static void token_expiring(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = make_token(p, "a", NULL, NULL, 0);

    /* unknown expiry: never expiring */
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 60), 0);
    assert_int_equal(oac_oauth2_token_expiring(NULL, NOW, 60), 0);
    t->expires_at = NOW + 61;
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 60), 0);
    t->expires_at = NOW + 60;
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 60), 1);
    t->expires_at = NOW + 1;
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 0), 0);
    t->expires_at = NOW;
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 0), 1);
    t->expires_at = NOW - 3600;
    assert_int_equal(oac_oauth2_token_expiring(t, NOW, 60), 1);
}

/* ---- placement ----------------------------------------------------------- */

#define ODD_TOKEN     "a+b/c=="
#define ODD_TOKEN_ENC "a%2Bb%2Fc%3D%3D"

static void bearer_header(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = make_token(p, ODD_TOKEN, NULL, NULL, 0);

    /* RFC 6750 b64token: '+', '/' and '=' go in the header as they are */
    assert_string_equal(oac_oauth2_bearer_header(p, t), "Bearer a+b/c==");
}

static void token_in_query(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = make_token(p, ODD_TOKEN, NULL, NULL, 0);

    assert_string_equal(oac_oauth2_add_token_to_query(p, NULL,
                                                      "access_token", t),
                        "access_token=" ODD_TOKEN_ENC);
    assert_string_equal(oac_oauth2_add_token_to_query(p, "", NULL, t),
                        "access_token=" ODD_TOKEN_ENC);
    assert_string_equal(oac_oauth2_add_token_to_query(p, "page=2&q=a+b%20c",
                                                      "access_token", t),
                        "page=2&q=a+b%20c&access_token=" ODD_TOKEN_ENC);
    assert_string_equal(oac_oauth2_add_token_to_query(p, "page=2&",
                                                      "access_token", t),
                        "page=2&access_token=" ODD_TOKEN_ENC);
    /* a client's own access_token (any spelling) is replaced */
    assert_string_equal(oac_oauth2_add_token_to_query(p,
                            "access_token=evil&page=2&access%5Ftoken=x"
                            "&access_token&access_tokenx=1",
                            "access_token", t),
                        "page=2&access_tokenx=1&access_token="
                        ODD_TOKEN_ENC);
    assert_string_equal(oac_oauth2_add_token_to_query(p, "a=1",
                                                      "oauth token", t),
                        "a=1&oauth%20token=" ODD_TOKEN_ENC);
    /* a malformed name is kept as the client sent it */
    assert_string_equal(oac_oauth2_add_token_to_query(p, "%zz=1",
                                                      "access_token", t),
                        "%zz=1&access_token=" ODD_TOKEN_ENC);
}

static void token_in_form(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = make_token(p, ODD_TOKEN, NULL, NULL, 0);
    /* not NUL-terminated after the 9 bytes of the body */
    static const char body[] = "a=1&b=x+yGARBAGE";
    apr_size_t len = 12345;
    char *out;

    out = oac_oauth2_add_token_to_form(p, "", 0, "access_token", t, &len);
    assert_string_equal(out, "access_token=" ODD_TOKEN_ENC);
    assert_int_equal(len, strlen("access_token=" ODD_TOKEN_ENC));

    out = oac_oauth2_add_token_to_form(p, NULL, 0, NULL, t, &len);
    assert_string_equal(out, "access_token=" ODD_TOKEN_ENC);

    out = oac_oauth2_add_token_to_form(p, body, 9, "access_token", t, &len);
    assert_string_equal(out, "a=1&b=x+y&access_token=" ODD_TOKEN_ENC);
    assert_int_equal(len, strlen("a=1&b=x+y&access_token=" ODD_TOKEN_ENC));

    out = oac_oauth2_add_token_to_form(p, "access_token=evil&a=1", 21,
                                       "access_token", t, NULL);
    assert_string_equal(out, "a=1&access_token=" ODD_TOKEN_ENC);
}

/* ---- revocation (RFC 7009) ----------------------------------------------- */

static void revoke_request_basic_and_post(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_http_request_t *req = NULL;
    const char *err = NULL;

    app->revocation_endpoint = "https://idp.example.com/revoke";
    /* access_token_params are for the code request only */
    app->access_token_params = form(p, "audience=api");
    assert_int_equal(oac_oauth2_revoke_request(&req, &err, p, app, "rt/+= 1",
                                               "refresh_token"),
                     APR_SUCCESS);
    assert_form_post(req, "https://idp.example.com/revoke",
                     "token=rt%2F%2B%3D%201&token_type_hint=refresh_token");
    assert_headers(req->headers, "Accept", "application/json",
                   "Authorization", ODD_BASIC, NULL);

    app = make_app(p, OAC_AUTH_CLIENT_SECRET_POST);
    app->revocation_endpoint = "https://idp.example.com/revoke";
    assert_int_equal(oac_oauth2_revoke_request(&req, &err, p, app, "at",
                                               "access_token"),
                     APR_SUCCESS);
    assert_form_post(req, "https://idp.example.com/revoke",
                     "token=at&token_type_hint=access_token"
                     "&client_id=" ODD_ID_ENC
                     "&client_secret=" ODD_SECRET_ENC);
}

static void revoke_request_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_NONE);
    oac_http_request_t *req = NULL;
    const char *err = NULL;

    assert_int_equal(oac_oauth2_revoke_request(&req, &err, p, app, "at",
                                               "access_token"), APR_EINVAL);
    assert_string_equal(err, "app demo has no revocation_endpoint");
    app->revocation_endpoint = "https://idp.example.com/revoke";
    assert_int_equal(oac_oauth2_revoke_request(&req, &err, p, app, "",
                                               "access_token"), APR_EINVAL);
    assert_string_equal(err, "no token to revoke");
}

/* Every request sent, and an answer per call. */
typedef struct {
    int calls;
    const oac_http_request_t *sent[4];
    int status[4];
    apr_status_t rv[4];
} recorder_t;

static apr_status_t record_perform(oac_http_response_t **presp,
                                   const char **perr, void *baton,
                                   apr_pool_t *p,
                                   const oac_http_request_t *req)
{
    recorder_t *rec = baton;
    int i = rec->calls++;

    assert_true(i < 4);
    rec->sent[i] = apr_pmemdup(p, req, sizeof(*req));
    if (rec->rv[i] != APR_SUCCESS) {
        *perr = "connection refused";
        return rec->rv[i];
    }
    *presp = make_resp(p, rec->status[i], "application/json",
                       rec->status[i] == 200
                           ? "{}"
                           : "{\"error\":\"invalid_client\",\"error_description\":"
                             "\"bad secret for rt-SECRET\"}");
    return APR_SUCCESS;
}

/* oac_oauth2_revoke of t through a fresh recorder answering status0 and
 * status1 (0: connection refused); the recorder is left in *rec. */
static apr_status_t revoke_with(recorder_t *rec, const char **perr,
                                apr_pool_t *p, const oac_app_t *app,
                                const oac_token_t *t, int status0,
                                int status1)
{
    memset(rec, 0, sizeof(*rec));
    rec->status[0] = status0;
    rec->status[1] = status1;
    rec->rv[0] = status0 ? APR_SUCCESS : APR_ECONNREFUSED;
    rec->rv[1] = status1 ? APR_SUCCESS : APR_ECONNREFUSED;
    return oac_oauth2_revoke(perr, p, oac_http_client_make(p, record_perform,
                                                           rec),
                             app, t);
}

/* The refresh token first (it may take its access tokens with it), then
 * the access token; both tried even when the first fails. */
static void revoke_refresh_then_access(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t *t = make_token(p, "at-SECRET", "rt-SECRET", NULL, 0);
    recorder_t rec;
    const char *err = NULL;

    app->revocation_endpoint = "https://idp.example.com/revoke";
    assert_int_equal(revoke_with(&rec, &err, p, app, t, 200, 200),
                     APR_SUCCESS);
    assert_int_equal(rec.calls, 2);
    assert_string_equal(rec.sent[0]->body,
                        "token=rt-SECRET&token_type_hint=refresh_token");
    assert_string_equal(rec.sent[1]->body,
                        "token=at-SECRET&token_type_hint=access_token");

    /* without a refresh token, only the access token */
    t->refresh_token = NULL;
    assert_int_equal(revoke_with(&rec, &err, p, app, t, 200, 0),
                     APR_SUCCESS);
    assert_int_equal(rec.calls, 1);
    assert_string_equal(rec.sent[0]->body,
                        "token=at-SECRET&token_type_hint=access_token");
}

static void revoke_failures(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_AUTH_CLIENT_SECRET_BASIC);
    oac_token_t *t = make_token(p, "at-SECRET", "rt-SECRET", NULL, 0);
    recorder_t rec;
    const char *err = NULL;

    app->revocation_endpoint = "https://idp.example.com/revoke?k=v";
    /* the refresh token's revocation fails: the access token's is still
     * tried, and the first failure is reported, secrets redacted */
    assert_int_equal(revoke_with(&rec, &err, p, app, t, 401, 200),
                     APR_EGENERAL);
    assert_int_equal(rec.calls, 2);
    assert_string_equal(err, "revocation endpoint answered HTTP 401: "
                             "invalid_client (bad secret for [redacted])");

    assert_int_not_equal(revoke_with(&rec, &err, p, app, t, 0, 0),
                         APR_SUCCESS);
    assert_int_equal(rec.calls, 2);
    /* the endpoint named without its query */
    assert_string_equal(err, "revocation endpoint "
                             "https://idp.example.com/revoke: connection "
                             "refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(pkce_rfc7636_vector),
        T(pkce_verifier_shape),
        T(authorize_url_full),
        T(authorize_url_minimal),
        T(authorize_url_scope_from_params),
        T(authorize_url_from_declaration),
        T(code_request_basic),
        T(code_request_basic_plain_credentials),
        T(code_request_post),
        T(code_request_none),
        T(code_request_extra_params),
        T(code_request_errors),
        T(refresh_request_basic),
        T(refresh_request_post),
        T(refresh_request_none),
        T(refresh_request_errors),
        T(response_200_json),
        T(response_token_type),
        T(response_200_form),
        T(response_empty_refresh_token),
        T(response_400_json_error),
        T(response_400_error_sanitized),
        T(exchange_code_secret_cut_redacted),
        T(response_500_html),
        T(response_200_with_error),
        T(response_200_malformed),
        T(exchange_code_ok),
        T(exchange_code_provider_error),
        T(exchange_code_transport_error),
        T(exchange_code_bad_request),
        T(refresh_rotates),
        T(refresh_without_rotation_keeps_old),
        T(refresh_errors),
        T(revoke_request_basic_and_post),
        T(revoke_request_errors),
        T(revoke_refresh_then_access),
        T(revoke_failures),
        T(token_expiring),
        T(bearer_header),
        T(token_in_query),
        T(token_in_form),
    };

    return OAC_RUN_TESTS("oac_oauth2", tests);
}
