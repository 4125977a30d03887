/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_userinfo.c: who logged in, with a fake HTTP
 * client. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"
#include "fake_http.h"

#include "oac_form.h"
#include "oac_userinfo.h"

#define USERINFO "https://idp.example.com/userinfo?tenant=t1&key=QUERYSECRET"

static oac_app_t *make_app(apr_pool_t *p, oac_oauth_version_e version,
                           const char *endpoint, const char *claim)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));

    app->name = "demo";
    app->version = version;
    app->client_id = "client";
    app->client_secret = "kd94hf93k423kf44";
    app->signature_method = OAC_SIG_HMAC_SHA1;
    app->userinfo_endpoint = endpoint;
    app->user_claim = claim;
    return app;
}

static oac_token_t *make_token(apr_pool_t *p)
{
    oac_token_t *t = apr_pcalloc(p, sizeof(*t));

    t->access_token = "AT-1";
    t->token_secret = "pfkkdhi9sl3r4s00";
    t->token_type = "Bearer";
    t->expires_in = -1;
    t->extra = oac_form_make(p);
    return t;
}

static const char *user_ok(apr_pool_t *p, fake_t *f, const oac_app_t *app,
                           const oac_token_t *t)
{
    const char *user = "sentinel", *err = NULL;

    if (oac_userinfo_user(&user, &err, p, fake_client(p, f), app, t, NULL, NULL)
        != APR_SUCCESS) {
        fail_msg("userinfo: %s", err);
    }
    return user;
}

static const char *user_fails(apr_pool_t *p, fake_t *f, const oac_app_t *app,
                              const oac_token_t *t)
{
    const char *user = NULL, *err = NULL;

    assert_int_equal(oac_userinfo_user(&user, &err, p, fake_client(p, f), app,
                                       t, NULL, NULL),
                     APR_EGENERAL);
    assert_non_null(err);
    /* never a token, nor the endpoint's query, nor a value it sent */
    assert_null(strstr(err, "AT-1"));
    assert_null(strstr(err, "QUERYSECRET"));
    assert_null(strstr(err, "pfkkdhi9sl3r4s00"));
    return err;
}

/* Without an endpoint: the token response's own field (Twitter's
 * screen_name), and no call at all. */
static void from_token_response(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = make_token(p);
    fake_t f;

    fake_answer(&f, 500, NULL, "");
    oac_form_add(t->extra, "screen_name", "twitterapi");
    assert_string_equal(user_ok(p, &f, make_app(p, OAC_OAUTH1, NULL,
                                                "screen_name"), t),
                        "twitterapi");
    assert_null(user_ok(p, &f, make_app(p, OAC_OAUTH1, NULL, NULL), t));
    assert_int_equal(f.calls, 0);
    assert_string_equal(user_fails(p, &f, make_app(p, OAC_OAUTH1, NULL,
                                                   "user_id"), t),
                        "the token response has no field 'user_id' "
                        "(user_claim)");
    oac_form_add(t->extra, "empty", "");
    user_fails(p, &f, make_app(p, OAC_OAUTH1, NULL, "empty"), t);
}

/* OAuth 2: one GET with the bearer token, asking for JSON. */
static void oauth2_request(void **state)
{
    apr_pool_t *p = *state;
    fake_t f;

    fake_answer(&f, 200, "application/json", "{\"login\":\"octocat\"}");
    assert_string_equal(user_ok(p, &f, make_app(p, OAC_OAUTH2, USERINFO,
                                                "login"), make_token(p)),
                        "octocat");
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.req->method, "GET");
    assert_string_equal(f.req->url, USERINFO);
    assert_string_equal(apr_table_get(f.req->headers, "Authorization"),
                        "Bearer AT-1");
    assert_string_equal(apr_table_get(f.req->headers, "Accept"),
                        "application/json");
    assert_null(f.req->body);
}

/* OAuth 1: a request signed with the token, RFC 5849 3.5.1. */
static void oauth1_request(void **state)
{
    apr_pool_t *p = *state;
    const char *auth;
    fake_t f;

    fake_answer(&f, 200, "application/json", "{\"id\":42}");
    assert_string_equal(user_ok(p, &f, make_app(p, OAC_OAUTH1, USERINFO,
                                                "id"), make_token(p)),
                        "42");
    auth = apr_table_get(f.req->headers, "Authorization");
    assert_non_null(auth);
    assert_int_equal(strncmp(auth, "OAuth ", 6), 0);
    assert_non_null(strstr(auth, "oauth_token=\"AT-1\""));
    assert_non_null(strstr(auth, "oauth_signature=\""));
    assert_null(strstr(auth, "pfkkdhi9sl3r4s00"));
}

/* A string or an integer is a user name; nothing else is, and the
 * app's name is never made up in its place. */
static void claim_types(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_OAUTH2, USERINFO, "u");
    static const struct { const char *body, *err; } bad[] = {
        { "{}", "userinfo field 'u' (user_claim) is missing" },
        { "{\"u\":\"\"}", "userinfo field 'u' (user_claim) is empty" },
        { "{\"u\":true}",
          "userinfo field 'u' (user_claim) is not a string or an integer" },
        { "{\"u\":null}",
          "userinfo field 'u' (user_claim) is not a string or an integer" },
        { "{\"u\":1.5}",
          "userinfo field 'u' (user_claim) is not a string or an integer" },
        { "{\"u\":{\"v\":\"x\"}}",
          "userinfo field 'u' (user_claim) is not a string or an integer" },
        { "{\"u\":[\"x\"]}",
          "userinfo field 'u' (user_claim) is not a string or an integer" },
        { "[\"u\"]", "userinfo endpoint did not answer a JSON object" },
        { "u=x", "userinfo endpoint did not answer a JSON object" },
    };
    size_t i;
    fake_t f;

    fake_answer(&f, 200, "application/json", "{\"u\":-7}");
    assert_string_equal(user_ok(p, &f, app, make_token(p)), "-7");
    fake_answer(&f, 200, "application/json", "{\"u\":\"Ada Lovelace\"}");
    assert_string_equal(user_ok(p, &f, app, make_token(p)), "Ada Lovelace");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        fake_answer(&f, 200, "application/json", bad[i].body);
        assert_string_equal(user_fails(p, &f, app, make_token(p)),
                            bad[i].err);
    }
    /* without user_claim the answer is fetched but names nobody */
    fake_answer(&f, 200, "application/json", "{\"u\":\"x\"}");
    assert_null(user_ok(p, &f, make_app(p, OAC_OAUTH2, USERINFO, NULL),
                        make_token(p)));
}

static void endpoint_failures(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_OAUTH2, USERINFO, "u");
    fake_t f;

    fake_answer(&f, 401, "application/json",
                "{\"error\":\"invalid_token AT-1\"}");
    assert_string_equal(user_fails(p, &f, app, make_token(p)),
                        "userinfo endpoint answered HTTP 401");
    fake_answer(&f, 0, NULL, NULL);
    f.rv = APR_TIMEUP;
    f.err = "https://idp.example.com/userinfo: timed out";
    assert_string_equal(user_fails(p, &f, app, make_token(p)),
                        "userinfo endpoint: "
                        "https://idp.example.com/userinfo: timed out");
}

/* OpenID Connect: userinfo's claims over the id_token's, except, for an
 * app whose issuer is Entra's template, the tenant (tid) and iss the
 * id_token was checked with. */
static void merged_claims(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p, OAC_OAUTH2, USERINFO, NULL);
    json_t *id = json_pack("{s:s,s:s,s:s,s:s}", "sub", "u1", "tid", "T-1",
                           "iss", "https://ms.example/T-1/v2.0",
                           "name", "old");
    json_t *claims = NULL;
    const char *user = NULL, *err = NULL;
    fake_t f;
    int templated;

    app->oidc = 1;
    for (templated = 0; templated < 2; ++templated) {
        app->issuer = templated ? "https://ms.example/{tenantid}/v2.0"
                                : "https://ms.example/T-1/v2.0";
        fake_answer(&f, 200, "application/json",
                    "{\"sub\":\"u1\",\"tid\":\"T-2\",\"name\":\"new\","
                    "\"iss\":\"https://ms.example/T-2/v2.0\"}");
        assert_int_equal(oac_userinfo_user(&user, &err, p,
                                           fake_client(p, &f), app,
                                           make_token(p), id, &claims),
                         APR_SUCCESS);
        assert_string_equal(user, "u1");
        assert_string_equal(json_string_value(json_object_get(claims,
                                                              "name")),
                            "new");
        assert_string_equal(json_string_value(json_object_get(claims,
                                                              "tid")),
                            templated ? "T-1" : "T-2");
        assert_string_equal(json_string_value(json_object_get(claims,
                                                              "iss")),
                            templated ? "https://ms.example/T-1/v2.0"
                                      : "https://ms.example/T-2/v2.0");
    }
    /* a tid the id_token did not have is not taken from userinfo */
    json_object_del(id, "tid");
    fake_answer(&f, 200, "application/json",
                "{\"sub\":\"u1\",\"tid\":\"T-2\"}");
    assert_int_equal(oac_userinfo_user(&user, &err, p, fake_client(p, &f),
                                       app, make_token(p), id, &claims),
                     APR_SUCCESS);
    assert_null(json_object_get(claims, "tid"));
    json_decref(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(from_token_response),
        T(oauth2_request),
        T(oauth1_request),
        T(claim_types),
        T(endpoint_failures),
        T(merged_claims),
    };

    return OAC_RUN_TESTS("oac_userinfo", tests);
}
