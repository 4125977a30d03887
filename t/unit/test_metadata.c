/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_metadata.c: discovery documents applied to an
 * app. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_strings.h>

#include "oac_metadata.h"
#include "oac_util.h"

#define ISS "https://idp.example.com/realms/acme"
#define URL ISS "/.well-known/openid-configuration"

/* Keycloak's, shortened. */
static const char keycloak[] =
    "{\"issuer\":\"" ISS "\","
    "\"authorization_endpoint\":\"" ISS "/protocol/openid-connect/auth\","
    "\"token_endpoint\":\"" ISS "/protocol/openid-connect/token\","
    "\"userinfo_endpoint\":\"" ISS "/protocol/openid-connect/userinfo\","
    "\"end_session_endpoint\":\"" ISS "/protocol/openid-connect/logout\","
    "\"jwks_uri\":\"" ISS "/protocol/openid-connect/certs\","
    "\"revocation_endpoint\":\"" ISS "/protocol/openid-connect/revoke\","
    "\"code_challenge_methods_supported\":[\"plain\",\"S256\"],"
    "\"authorization_response_iss_parameter_supported\":true}";

static oac_app_t *make_app(apr_pool_t *p)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));
    app->name = "kc";
    app->version = OAC_OAUTH2;
    app->client_id = "client";
    app->server_metadata_url = URL;
    return app;
}

static oac_app_t *applied(apr_pool_t *p, const oac_app_t *app,
                          const char *doc)
{
    oac_app_t *out = NULL;
    const char *why = NULL;
    if (oac_metadata_apply(&out, &why, p, app, doc, strlen(doc))
        != APR_SUCCESS) {
        fail_msg("refused: %s", why);
    }
    return out;
}

static const char *refused(apr_pool_t *p, const oac_app_t *app,
                           const char *doc)
{
    oac_app_t *out = NULL;
    const char *why = NULL;
    assert_int_not_equal(oac_metadata_apply(&out, &why, p, app, doc,
                                            strlen(doc)), APR_SUCCESS);
    assert_null(out);
    assert_non_null(why);
    return why;
}

static void expected_issuer(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(oac_metadata_expected_issuer(p, URL), ISS);
    assert_string_equal(oac_metadata_expected_issuer(p,
        "https://accounts.google.com/.well-known/openid-configuration"),
        "https://accounts.google.com");
    /* RFC 8414 section 3.1: the well-known part between host and path */
    assert_string_equal(oac_metadata_expected_issuer(p,
        "https://as.example.com/.well-known/oauth-authorization-server/t1"),
        "https://as.example.com/t1");
    assert_string_equal(oac_metadata_expected_issuer(p,
        "https://as.example.com/.well-known/oauth-authorization-server"),
        "https://as.example.com");
    assert_null(oac_metadata_expected_issuer(p,
        "https://as.example.com/x/.well-known/oauth-authorization-server"));
    assert_null(oac_metadata_expected_issuer(p,
        "https://as.example.com/.well-known/oauth-authorization-serverX"));
    assert_null(oac_metadata_expected_issuer(p, "https://as.example.com/meta"));
}

static void endpoints_come_from_the_document(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = applied(p, make_app(p), keycloak);

    assert_string_equal(app->issuer, ISS);
    assert_string_equal(app->authorize_url, ISS "/protocol/openid-connect/auth");
    assert_string_equal(app->access_token_url,
                        ISS "/protocol/openid-connect/token");
    assert_string_equal(app->refresh_token_url, app->access_token_url);
    assert_string_equal(app->userinfo_endpoint,
                        ISS "/protocol/openid-connect/userinfo");
    assert_string_equal(app->revocation_endpoint,
                        ISS "/protocol/openid-connect/revoke");
    assert_string_equal(app->jwks_uri, ISS "/protocol/openid-connect/certs");
    assert_string_equal(app->end_session_endpoint,
                        ISS "/protocol/openid-connect/logout");
    assert_true(app->pkce_s256);
    assert_true(app->iss_required);
}

/* The id_token algorithms the document lists: RS256 first, each once, not
 * none nor HMAC, and a list of thousands in linear time and memory (it
 * was built by appending to the list so far: a 1 MiB list took tens of
 * gigabytes). */
static void signing_algs_from_the_document(void **state)
{
    apr_pool_t *p = *state;
    const char *head = "{\"issuer\":\"" ISS "\","
        "\"authorization_endpoint\":\"" ISS "/auth\","
        "\"token_endpoint\":\"" ISS "/token\","
        "\"jwks_uri\":\"" ISS "/certs\","
        "\"id_token_signing_alg_values_supported\":[";
    oac_app_t *app = applied(p, make_app(p), apr_pstrcat(p, head,
        "\"ES256\",\"RS256\",\"none\",\"HS256\",\"PS256\",\"ES256\","
        "\"a,b\",\"x\\u0001\",\"\",\"ES 256\"]}", NULL));
    /* as many as the JSON value limit lets through (OAC_JSON_MAX_VALUES,
     * the head's marks aside): taken in linear time */
    enum { MANY = OAC_JSON_MAX_VALUES - 100 };
    apr_array_header_t *many = apr_array_make(p, MANY, sizeof(char *));
    int i;

    assert_string_equal(app->id_token_algs, "RS256,ES256,PS256");
    for (i = 0; i < MANY; ++i) {
        APR_ARRAY_PUSH(many, const char *) = i % 2 ? "\"a\"" : "\"ES384\"";
    }
    app = applied(p, make_app(p), apr_pstrcat(p, head,
                  apr_array_pstrcat(p, many, ','), "]}", NULL));
    assert_string_equal(app->id_token_algs, "RS256,ES384,a");
    for (i = 0; i < MANY; ++i) {
        APR_ARRAY_IDX(many, i, const char *) = apr_psprintf(p, "\"A%d\"", i);
    }
    app = applied(p, make_app(p), apr_pstrcat(p, head,
                  apr_array_pstrcat(p, many, ','), "]}", NULL));
    assert_true(strlen(app->id_token_algs) < 32 * 8);
    /* and more are not parsed at all */
    for (i = 0; i < 200; ++i) {
        APR_ARRAY_PUSH(many, const char *) = "\"b\"";
    }
    assert_non_null(strstr(refused(p, make_app(p), apr_pstrcat(p, head,
                               apr_array_pstrcat(p, many, ','), "]}", NULL)),
                           "more than 40000 values"));
}

static void explicit_keys_win(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p), *out;

    app->access_token_url = "https://proxy.example.com/token";
    app->refresh_token_url = "https://proxy.example.com/refresh";
    app->userinfo_endpoint = "https://api.example.com/me";
    out = applied(p, app, keycloak);
    assert_string_equal(out->access_token_url, "https://proxy.example.com/token");
    assert_string_equal(out->refresh_token_url,
                        "https://proxy.example.com/refresh");
    assert_string_equal(out->userinfo_endpoint, "https://api.example.com/me");
    /* the app itself is not changed: it is shared configuration */
    assert_null(app->authorize_url);
    assert_null(app->issuer);
}

static void no_pkce_or_iss_unless_listed(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *out = applied(p, make_app(p),
        "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\","
        "\"code_challenge_methods_supported\":[\"plain\"]}");
    assert_false(out->pkce_s256);
    assert_false(out->iss_required);
    assert_null(out->userinfo_endpoint);
}

static void another_issuer_is_refused(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    const char *doc = "{\"issuer\":\"https://evil.example.com\","
        "\"authorization_endpoint\":\"https://evil.example.com/a\","
        "\"token_endpoint\":\"https://evil.example.com/t\"}";

    assert_non_null(strstr(refused(p, app, doc),
                           "names the issuer 'https://evil.example.com', not "
                           "'" ISS "'"));
    /* An issuer's terminating '/' is removed before the well-known part
     * (OIDC Discovery 4.1, RFC 8414 3.1), so the document may name it
     * with one (Auth0's does), and id_tokens must then name it so; more
     * than that one '/' is another issuer. */
    assert_string_equal(applied(p, app,
        "{\"issuer\":\"" ISS "/\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\"}")->issuer, ISS "/");
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "//\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\"}"), "not '" ISS "'"));
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "/x\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\"}"), "not '" ISS "'"));
    app->server_metadata_url = "https://tenant.auth0.example/.well-known/"
                               "openid-configuration";
    assert_string_equal(applied(p, app,
        "{\"issuer\":\"https://tenant.auth0.example/\","
        "\"authorization_endpoint\":\"https://tenant.auth0.example/authorize\","
        "\"token_endpoint\":\"https://tenant.auth0.example/oauth/token\"}")->issuer,
        "https://tenant.auth0.example/");
    /* an issuer that has its '/' already: no second one */
    app->server_metadata_url = "https://as.example/.well-known/"
                               "oauth-authorization-server/t1/";
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"https://as.example/t1//\","
        "\"authorization_endpoint\":\"https://as.example/a\","
        "\"token_endpoint\":\"https://as.example/t\"}"),
        "not 'https://as.example/t1/'"));
    app->server_metadata_url = URL;
    /* the issuer key, as written, is what the document must name */
    app->issuer = ISS;
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "/\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\"}"), "the issuer key"));
    app->issuer = NULL;
    /* an issuer key set by hand is what the document must name */
    app->issuer = "https://idp.example.com/realms/other";
    assert_non_null(strstr(refused(p, app, keycloak), "the issuer key"));
}

static void unusable_documents_are_refused(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);

    assert_non_null(strstr(refused(p, app, "<html>"), "not a JSON object"));
    assert_non_null(strstr(refused(p, app, "[1]"), "not a JSON object"));
    assert_non_null(strstr(refused(p, app, "{\"token_endpoint\":\"" ISS "/t\"}"),
                           "no issuer"));
    /* A server of machine tokens only (RFC 8414 2): taken, and the app
     * has no login (OAC00162) */
    assert_null(applied(p, app,
        "{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS "/t\"}")
        ->authorize_url);
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/a\"}"),
        "no token_endpoint"));
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"javascript:x\","
        "\"token_endpoint\":\"" ISS "/t\"}"),
        "authorization_endpoint that is not an absolute http(s) URL"));
    assert_non_null(strstr(refused(p, app,
        "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"" ISS "/t\",\"jwks_uri\":42}"),
        "jwks_uri that is not"));
    /* a URL of no well-known form promises no issuer */
    app->server_metadata_url = "https://idp.example.com/meta.json";
    assert_non_null(strstr(refused(p, app, keycloak), "set issuer="));
    app->issuer = ISS;
    assert_non_null(applied(p, app, keycloak));
}

/* A document fetched over https names https endpoints: each http one
 * the module would use is refused by name; one the app sets itself is
 * not read, and a document fetched over http (a local provider) may name
 * http ones. */
static void https_documents_name_https_endpoints(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);
    static const char *const members[] = {
        "authorization_endpoint", "token_endpoint", "userinfo_endpoint",
        "revocation_endpoint", "jwks_uri", "end_session_endpoint",
        "pushed_authorization_request_endpoint",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(members) / sizeof(members[0]); ++i) {
        const char *doc = apr_psprintf(p,
            "{\"issuer\":\"" ISS "\","
            "\"authorization_endpoint\":\"" ISS "/a\","
            "\"token_endpoint\":\"" ISS "/t\","
            "\"jwks_uri\":\"" ISS "/k\",\"%s\":\"http://idp.example.com/x\"}",
            members[i]);
        const char *why;

        /* the member named last wins in jansson: the http one */
        why = refused(p, app, doc);
        if (!strstr(why, apr_psprintf(p, "names an http %s", members[i]))) {
            fail_msg("%s: %s", members[i], why);
        }
    }
    app->access_token_url = "http://127.0.0.1:8080/token";
    assert_string_equal(applied(p, app,
        "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/a\","
        "\"token_endpoint\":\"http://idp.example.com/t\"}")->access_token_url,
        "http://127.0.0.1:8080/token");
    app->access_token_url = NULL;
    app->server_metadata_url =
        "http://127.0.0.1:9/.well-known/openid-configuration";
    assert_string_equal(applied(p, app,
        "{\"issuer\":\"http://127.0.0.1:9\","
        "\"authorization_endpoint\":\"http://127.0.0.1:9/a\","
        "\"token_endpoint\":\"http://127.0.0.1:9/t\"}")->access_token_url,
        "http://127.0.0.1:9/t");
}

#define MS "https://login.microsoftonline.com"
#define MS_TID "72f988bf-86f1-41af-91ab-2d7cd011db47"

static const char *entra_doc(apr_pool_t *p, const char *issuer)
{
    return apr_psprintf(p,
        "{\"issuer\":\"%s\","
        "\"authorization_endpoint\":\"" MS "/common/oauth2/v2.0/authorize\","
        "\"token_endpoint\":\"" MS "/common/oauth2/v2.0/token\","
        "\"jwks_uri\":\"" MS "/common/discovery/v2.0/keys\"}", issuer);
}

/* Microsoft Entra ID's multi-tenant ("common") and domain-named
 * documents: compliance_fix=microsoft takes the issuer they name, a
 * template or the tenant's ID; without it they are refused, the template
 * with a word on the fix. */
static void microsoft_issuers(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p), *out;

    app->server_metadata_url =
        MS "/common/v2.0/.well-known/openid-configuration";
    assert_non_null(strstr(refused(p, app,
                               entra_doc(p, MS "/{tenantid}/v2.0")),
                           "compliance_fix=microsoft accepts it"));
    app->compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(app->compliance_fixes, const char *) = "microsoft";
    out = applied(p, app, entra_doc(p, MS "/{tenantid}/v2.0"));
    assert_string_equal(out->issuer, MS "/{tenantid}/v2.0");
    assert_string_equal(out->access_token_url,
                        MS "/common/oauth2/v2.0/token");
    /* another provider's document stays refused */
    assert_non_null(strstr(refused(p, app,
                               entra_doc(p, "https://evil.example/"
                                            "{tenantid}/v2.0")),
                           "another provider"));
    /* a tenant named by its domain: the document names its ID */
    app->server_metadata_url =
        MS "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration";
    out = applied(p, app, entra_doc(p, MS "/" MS_TID "/v2.0"));
    assert_string_equal(out->issuer, MS "/" MS_TID "/v2.0");
    /* an issuer the administrator named is never widened */
    app->server_metadata_url =
        MS "/common/v2.0/.well-known/openid-configuration";
    app->issuer = MS "/" MS_TID "/v2.0";
    assert_non_null(strstr(refused(p, app,
                               entra_doc(p, MS "/{tenantid}/v2.0")),
                           "the issuer key"));
    app->issuer = NULL;
    app->compliance_fixes = NULL;
    app->server_metadata_url =
        MS "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration";
    assert_null(strstr(refused(p, app, entra_doc(p, MS "/" MS_TID "/v2.0")),
                       "compliance_fix"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(expected_issuer),
        T(endpoints_come_from_the_document),
        T(signing_algs_from_the_document),
        T(explicit_keys_win),
        T(no_pkce_or_iss_unless_listed),
        T(another_issuer_is_refused),
        T(unusable_documents_are_refused),
        T(microsoft_issuers),
        T(https_documents_name_https_endpoints),
    };

    return OAC_RUN_TESTS("oac_metadata", tests);
}
