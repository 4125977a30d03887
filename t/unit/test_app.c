/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests of the OAuthRemoteApp model: tokenizing, per-key checks,
 * merging, finalizing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

#include "oac_app.h"
#include "oac_sign.h"
#include "oac_form.h"

static apr_pool_t *pool;

/* One pool for the whole group: these tests only ever add to it. */
static int setup(void **state)
{
    return oac_test_group_setup(state)
        || apr_pool_create(&pool, NULL) != APR_SUCCESS ? -1 : 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(pool);
    return oac_test_group_teardown(state);
}

/* Declares an app from one OAuthRemoteApp argument line; fails the test on
 * any error. */
static oac_app_decl_t *declare(const char *name, const char *line)
{
    oac_app_decl_t *d = oac_app_decl_make(pool, name);
    apr_array_header_t *pairs;
    const char *err = NULL;
    int i;
    assert_int_equal(oac_app_tokenize(&pairs, &err, pool, line), APR_SUCCESS);
    for (i = 0; i < pairs->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(pairs, i, oac_param_t);
        if (oac_app_decl_set(&err, pool, d, kv->name, kv->value)) {
            fail_msg("unexpected error: %s", err);
        }
    }
    return d;
}

static const char *set_error(const char *key, const char *value)
{
    oac_app_decl_t *d = oac_app_decl_make(pool, "x");
    const char *err = NULL;
    assert_int_not_equal(oac_app_decl_set(&err, pool, d, key, value),
                         APR_SUCCESS);
    assert_non_null(err);
    assert_null(apr_table_get(d->keys, key));
    return err;
}

static const char *finalize_error(oac_app_decl_t *d)
{
    oac_app_t *app = NULL;
    const char *err = NULL;
    assert_int_not_equal(oac_app_finalize(&app, &err, pool, d), APR_SUCCESS);
    assert_null(app);
    return err;
}

static oac_app_t *finalize(oac_app_decl_t *d)
{
    oac_app_t *app = NULL;
    const char *err = NULL;
    if (oac_app_finalize(&app, &err, pool, d) != APR_SUCCESS) {
        fail_msg("unexpected error: %s", err);
    }
    return app;
}

#define GH "client_id=id client_secret=s " \
    "authorize_url=https://p.example/authorize " \
    "access_token_url=https://p.example/token "
#define TW "client_id=id client_secret=s " \
    "request_token_url=https://p.example/request " \
    "authorize_url=https://p.example/authorize " \
    "access_token_url=https://p.example/access "

static void test_tokenize_quotes(void **state)
{
    apr_array_header_t *pairs;
    const char *err;
    assert_int_equal(oac_app_tokenize(&pairs, &err, pool,
        "  a=1 scope=\"openid  profile\" 'b=x y' c='it''s' "
        "d=\"q\\\"uote\" e=a=b f="), APR_SUCCESS);
    assert_int_equal(pairs->nelts, 7);
    assert_string_equal(oac_form_get(pairs, "a"), "1");
    assert_string_equal(oac_form_get(pairs, "scope"), "openid  profile");
    assert_string_equal(oac_form_get(pairs, "b"), "x y");
    assert_string_equal(oac_form_get(pairs, "c"), "its");
    assert_string_equal(oac_form_get(pairs, "d"), "q\"uote");
    assert_string_equal(oac_form_get(pairs, "e"), "a=b");
    assert_string_equal(oac_form_get(pairs, "f"), "");
}

static void test_tokenize_errors(void **state)
{
    apr_array_header_t *pairs;
    const char *err;
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool, "scope=\"a b"),
                         APR_SUCCESS);
    assert_string_equal(err, "unterminated \" quote in 'scope'");
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool, "a=1 lonely"),
                         APR_SUCCESS);
    assert_string_equal(err, "a word after a=... is not of the form "
                        "key=value (not shown: it may be part of a secret); "
                        "a value with spaces must be quoted: a=\"...\"");
    /* the rest of a secret with a space is never quoted */
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool,
                                          "client_secret=abc defSECRET"),
                         APR_SUCCESS);
    assert_null(strstr(err, "defSECRET"));
    assert_non_null(strstr(err, "client_secret=\"...\""));
    /* a key name alone is shown: it cannot be a secret */
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool, "a=1 scope"),
                         APR_SUCCESS);
    assert_string_equal(err, "'scope' has no value: write scope=...");
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool, "lonely"),
                         APR_SUCCESS);
    assert_null(strstr(err, "lonely"));
    /* after an unquoted secret, an unknown key or a broken quote may be
     * the rest of it: named by the key before it, never quoted */
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool,
                                          "client_secret=abcHEAD defPART=x"),
                         APR_SUCCESS);
    assert_null(strstr(err, "PART"));
    assert_non_null(strstr(err, "after client_secret=..."));
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool,
                                          "client_secret=abcHEAD de\"fPART"),
                         APR_SUCCESS);
    assert_null(strstr(err, "PART"));
    /* elsewhere a key is still named, so a typo can be found */
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool,
                                          "scope=a \"authorize_params=x"),
                         APR_SUCCESS);
    assert_string_equal(err, "unterminated \" quote in a word after scope "
                        "(not shown: it may be part of a secret)");
    assert_int_equal(oac_app_tokenize(&pairs, &err, pool,
                                      "client_secret=s colour=red"),
                     APR_EINVAL);
    assert_int_equal(oac_app_tokenize(&pairs, &err, pool,
                                      "client_id=s colour=red"),
                     APR_SUCCESS);
    assert_int_not_equal(oac_app_tokenize(&pairs, &err, pool, "=v"),
                         APR_SUCCESS);
    assert_int_equal(oac_app_tokenize(&pairs, &err, pool, "   "),
                     APR_SUCCESS);
    assert_int_equal(pairs->nelts, 0);
}

static void test_set_rejects(void **state)
{
    assert_string_equal(set_error("client_secert", "v"),
                        "unknown key 'client_secert'; did you mean "
                        "'client_secret'?");
    assert_non_null(strstr(set_error("colour", "blue"),
                           "known keys: client_id, client_secret,"));
    assert_string_equal(set_error("client_id", ""),
                        "client_id has an empty value");
    assert_non_null(strstr(set_error("authorize_url", "ftp://x/"),
                           "authorize_url 'ftp://x/' is not a valid URL"));
    /* every API path goes below it: a query there could only break them */
    assert_non_null(strstr(set_error("api_base_url", "https://api.x/v1?k=1"),
                           "api_base_url 'https://api.x/v1' must not have "
                           "a query ('?...')"));
    assert_non_null(strstr(set_error("api_base_url", "https://api.x/#f"),
                           "is not a valid URL"));
    /* the query of a bad URL is not echoed: it may hold a key */
    assert_null(strstr(set_error("access_token_url",
                                 "https://u:p@x/t?key=K3Y"), "K3Y"));
    assert_string_equal(set_error("code_challenge_method", "plain"),
                        "code_challenge_method 'plain' is not supported; "
                        "use one of: S256");
    assert_string_equal(set_error("token_placement", "cookie"),
                        "token_placement 'cookie' is not supported; use one "
                        "of: header, uri, body");
    assert_string_equal(set_error("signature_method", "hmac-sha1"),
                        "signature_method 'hmac-sha1' is not supported; use "
                        "one of: HMAC-SHA1, HMAC-SHA256, RSA-SHA1, PLAINTEXT");
    assert_string_equal(set_error("token_endpoint_auth_method", "jwt"),
                        "token_endpoint_auth_method 'jwt' is not supported; "
                        "use one of: client_secret_basic, "
                        "client_secret_post, none, client_secret_jwt, "
                        "private_key_jwt");
    assert_non_null(strstr(set_error("login_path", "login"),
                           "must be a local path"));
    assert_non_null(strstr(set_error("logout_path", "//evil/x"),
                           "must be a local path"));
    assert_non_null(strstr(set_error("login_path", "/a?b=1"),
                           "without query"));
    assert_non_null(strstr(set_error("redirect_uri", "cb"),
                           "is not a valid URL"));
    assert_non_null(strstr(set_error("authorize_params", "a=%zz"),
                           "authorize_params is not form-encoded"));
    assert_string_equal(set_error("client_kwargs", "scope=a&scopes=b"),
                        "client_kwargs: unknown key 'scopes'; did you mean "
                        "'scope'?");
    assert_string_equal(set_error("client_kwargs", "client_kwargs=a"),
                        "client_kwargs cannot contain client_kwargs");
    assert_string_equal(set_error("client_kwargs", "token_placement=x"),
                        "client_kwargs: token_placement 'x' is not "
                        "supported; use one of: header, uri, body");
    assert_string_equal(set_error("compliance_fix", "slack,myspace"),
                        "compliance_fix 'myspace' is not a built-in fix; "
                        "known fixes: facebook, slack, camelcase, linkedin, "
                        "weibo, microsoft, apple");
}

static void test_defaults_and_kwargs(void **state)
{
    oac_app_t *app = finalize(declare("gh", GH
        "client_kwargs=scope=a%20b&token_endpoint_auth_method=client_secret_post"
        "&token_placement=body"));
    assert_int_equal(app->version, OAC_OAUTH2);
    assert_string_equal(app->scope, "a b");
    assert_int_equal(app->token_endpoint_auth_method,
                     OAC_AUTH_CLIENT_SECRET_POST);
    assert_int_equal(app->token_placement, OAC_PLACE_BODY);
    assert_string_equal(app->login_path, "/oauth/gh/login");
    assert_string_equal(app->logout_path, "/oauth/gh/logout");
    assert_string_equal(app->redirect_uri, "/oauth/gh/callback");
    assert_string_equal(app->redirect_path, "/oauth/gh/callback");
    assert_string_equal(app->refresh_token_url, "https://p.example/token");
    assert_int_equal(app->pkce_s256, 0);
    assert_null(app->api_base_url);
    assert_int_equal(app->authorize_params->nelts, 0);
}

static void test_explicit_key_beats_kwargs(void **state)
{
    /* the order of the lines does not matter: explicit always wins */
    oac_app_decl_t *d = declare("gh", GH "scope=explicit");
    oac_app_t *app;
    const char *err;
    assert_int_equal(oac_app_decl_set(&err, pool, d, "client_kwargs",
                                      "scope=bundled&token_placement=uri"),
                     APR_SUCCESS);
    app = finalize(d);
    assert_string_equal(app->scope, "explicit");
    assert_int_equal(app->token_placement, OAC_PLACE_URI);
}

static void test_later_value_wins_and_merge(void **state)
{
    oac_app_decl_t *base = declare("gh", GH "scope=one login_path=/in");
    oac_app_decl_t *again = declare("gh", "scope=two");
    oac_app_decl_t *merged = oac_app_decl_merge(pool, base, again);
    oac_app_t *app = finalize(merged);
    assert_string_equal(app->scope, "two");
    assert_string_equal(app->login_path, "/in");
    assert_string_equal(app->client_id, "id");
    /* the base is untouched: another vhost still sees 'one' */
    assert_string_equal(finalize(base)->scope, "one");
}

/* client_kwargs given again, on another line or by a virtual host,
 * merges key by key like the other keys: a vhost that changes the auth
 * method keeps the bundle's scope (and with it openid). */
static void test_kwargs_merge_by_key(void **state)
{
    const char *err;
    oac_app_decl_t *d = declare("gh", GH
        "client_kwargs=scope=profile%20email&token_placement=uri");
    oac_app_decl_t *vhost, *merged;
    oac_app_t *app;

    assert_int_equal(oac_app_decl_set(&err, pool, d, "client_kwargs",
                                      "token_endpoint_auth_method="
                                      "client_secret_post"), APR_SUCCESS);
    app = finalize(d);
    assert_string_equal(app->scope, "profile email");
    assert_int_equal(app->token_placement, OAC_PLACE_URI);
    assert_int_equal(app->token_endpoint_auth_method,
                     OAC_AUTH_CLIENT_SECRET_POST);

    vhost = declare("gh", "client_kwargs=scope=read&token_placement=header");
    merged = oac_app_decl_merge(pool, d, vhost);
    app = finalize(merged);
    assert_string_equal(app->scope, "read");
    assert_int_equal(app->token_placement, OAC_PLACE_HEADER);
    assert_int_equal(app->token_endpoint_auth_method,
                     OAC_AUTH_CLIENT_SECRET_POST);
    /* the server's declaration is untouched */
    assert_string_equal(finalize(d)->scope, "profile email");
}

static void test_oauth1(void **state)
{
    oac_app_t *app = finalize(declare("tw", TW
        "request_token_params=x_auth_access_type=read "
        "signature_method=PLAINTEXT user_claim=screen_name"));
    assert_int_equal(app->version, OAC_OAUTH1);
    assert_int_equal(app->signature_method, OAC_SIG_PLAINTEXT);
    assert_string_equal(oac_form_get(app->request_token_params,
                                     "x_auth_access_type"), "read");
    assert_string_equal(app->user_claim, "screen_name");
    assert_null(app->realm);
}

static void test_realm(void **state)
{
    assert_string_equal(finalize(declare("tw", TW
        "realm=\"Photos Example\""))->realm, "Photos Example");
    assert_string_equal(finalize_error(declare("gh", GH "realm=x")),
        "realm applies only to OAuth 1.0a apps (apps with "
        "request_token_url)");
    assert_string_equal(finalize_error(declare("tw", TW "realm=a\\b")),
        "realm must not contain '\"', '\\' or control characters (it is "
        "sent as a quoted string)");
}

static void test_required_keys(void **state)
{
    assert_string_equal(finalize_error(declare("gh",
        "client_secret=s authorize_url=https://p/a "
        "access_token_url=https://p/t")),
        "missing required key client_id (an OAuth 2 app needs client_id, "
        "client_secret (unless token_endpoint_auth_method=none), and "
        "access_token_url (with authorize_url for logins) or "
        "server_metadata_url)");
    /* Service tokens only (contract section 11): no authorize_url needed
     * here; configtest refuses such an app where a login is needed. */
    assert_null(finalize(declare("svc",
        "client_id=i client_secret=s access_token_url=https://p/t"))
        ->authorize_url);
    assert_non_null(strstr(finalize_error(declare("gh",
        "client_id=i authorize_url=https://p/a access_token_url=https://p/t")),
        "missing required key client_secret"));
    /* a public client needs no secret */
    assert_int_equal(finalize(declare("gh",
        "client_id=i authorize_url=https://p/a access_token_url=https://p/t "
        "token_endpoint_auth_method=none code_challenge_method=S256"))
        ->token_endpoint_auth_method, OAC_AUTH_NONE);
    assert_non_null(strstr(finalize_error(declare("tw",
        "client_id=i request_token_url=https://p/r authorize_url=https://p/a "
        "access_token_url=https://p/t")),
        "missing required key client_secret (an OAuth 1.0a app needs"));
}

static void test_version_specific_keys(void **state)
{
    assert_string_equal(finalize_error(declare("tw", TW
        "code_challenge_method=S256")),
        "code_challenge_method applies only to OAuth 2 apps, and this app "
        "is OAuth 1.0a because it has request_token_url");
    assert_string_equal(finalize_error(declare("tw", TW
        "revocation_endpoint=https://p/revoke")),
        "revocation_endpoint applies only to OAuth 2 apps, and this app "
        "is OAuth 1.0a because it has request_token_url");
    assert_string_equal(finalize(declare("gh", GH
        "revocation_endpoint=https://p/revoke"))->revocation_endpoint,
        "https://p/revoke");
    assert_non_null(strstr(set_error("revocation_endpoint", "/revoke"),
                           "not a valid URL"));
    assert_string_equal(finalize_error(declare("gh", GH
        "signature_method=HMAC-SHA1")),
        "signature_method applies only to OAuth 1.0a apps (apps with "
        "request_token_url)");
    assert_string_equal(finalize_error(declare("tw", TW
        "signature_method=RSA-SHA1")),
        "signature_method=RSA-SHA1 needs rsa_key_file=/path/to/key.pem");
    assert_string_equal(finalize_error(declare("tw", TW
        "rsa_key_file=/etc/hostname")),
        "rsa_key_file is only used with signature_method=RSA-SHA1");
    assert_non_null(strstr(finalize_error(declare("tw", TW
        "signature_method=RSA-SHA1 rsa_key_file=/nonexistent/k.pem")),
        "rsa_key_file: cannot open RSA key file /nonexistent/k.pem"));
}

static void test_redirect_and_userinfo(void **state)
{
    oac_app_t *app = finalize(declare("gh", GH
        "redirect_uri=https://app.example/auth/cb "
        "api_base_url=https://api.example/v1 userinfo_endpoint=/me"));
    assert_string_equal(app->redirect_uri, "https://app.example/auth/cb");
    assert_string_equal(app->redirect_path, "/auth/cb");
    assert_string_equal(app->userinfo_endpoint, "https://api.example/v1/me");

    app = finalize(declare("gh", GH
        "userinfo_endpoint=https://other.example/userinfo"));
    assert_string_equal(app->userinfo_endpoint,
                        "https://other.example/userinfo");

    assert_string_equal(finalize_error(declare("gh", GH
        "userinfo_endpoint=user")),
        "userinfo_endpoint 'user' is relative, so api_base_url is needed to "
        "resolve it");
}

/* What a session's login is bound to: the client and the provider, not
 * the app's name or what only the browser sees. */
static void test_session_bind(void **state)
{
    const char *base = finalize(declare("a", GH))->session_bind;

    (void)state;
    assert_non_null(base);
    assert_int_equal(strlen(base), 12);
    /* the same client of the same provider, under another name or with
     * another authorize_url, scope, api_base_url */
    assert_string_equal(finalize(declare("b", GH))->session_bind, base);
    assert_string_equal(finalize(declare("a", GH
        "authorize_url=https://p.example/other scope=x "
        "api_base_url=https://api.example/"))->session_bind, base);
    /* another client, token endpoint, issuer, userinfo endpoint */
    assert_string_not_equal(finalize(declare("a", GH
        "client_id=other"))->session_bind, base);
    assert_string_not_equal(finalize(declare("a", GH
        "access_token_url=https://q.example/token"))->session_bind, base);
    assert_string_not_equal(finalize(declare("a", GH
        "userinfo_endpoint=https://p.example/me"))->session_bind, base);
    assert_string_not_equal(finalize(declare("a", TW))->session_bind, base);
    /* how the user is named */
    assert_string_not_equal(finalize(declare("a", GH
        "user_claim=preferred_username"))->session_bind, base);
    assert_string_not_equal(finalize(declare("a", GH
        "token_field_map=uid:access_token"))->session_bind, base);
}

static void test_check_set(void **state)
{
    apr_array_header_t *apps = apr_array_make(pool, 2, sizeof(oac_app_t *));
    const char *err = NULL;
    APR_ARRAY_PUSH(apps, oac_app_t *) = finalize(declare("a", GH));
    APR_ARRAY_PUSH(apps, oac_app_t *) = finalize(declare("b", GH));
    assert_int_equal(oac_app_check_set(&err, pool, apps), APR_SUCCESS);

    APR_ARRAY_PUSH(apps, oac_app_t *) = finalize(declare("c", GH
        "logout_path=/oauth/a/callback"));
    assert_int_not_equal(oac_app_check_set(&err, pool, apps), APR_SUCCESS);
    assert_string_equal(err, "OAuthRemoteApp c: logout_path path "
                        "'/oauth/a/callback' is already used by the "
                        "redirect_uri of app a; give each app and each role "
                        "its own path");

    apps->nelts = 0;
    APR_ARRAY_PUSH(apps, oac_app_t *) = finalize(declare("d", GH
        "login_path=/same logout_path=/same"));
    assert_int_not_equal(oac_app_check_set(&err, pool, apps), APR_SUCCESS);

    /* paths compare exactly, as the routes match them (found by fuzzing) */
    apps->nelts = 0;
    APR_ARRAY_PUSH(apps, oac_app_t *) = finalize(declare("e", GH
        "login_path=/In logout_path=/in"));
    assert_int_equal(oac_app_check_set(&err, pool, apps), APR_SUCCESS);
}

/* The RFC 7638 thumbprint of an app's DPoP key */
static const char *jkt(const oac_app_t *app)
{
    json_t *jwk;
    const char *t;

    assert_non_null(app->dpop_signer);
    jwk = oac_signer_public_jwk(app->dpop_signer);
    t = oac_jwk_thumbprint(pool, jwk);
    json_decref(jwk);
    assert_non_null(t);
    return t;
}

/* A DPoP key made at startup is kept for the next reading of the
 * configuration (a graceful restart), per client and provider: the
 * tokens the provider bound to it stay usable. */
static void test_generated_dpop_key_kept(void **state)
{
    apr_pool_t *keep, *read1, *read2;
    oac_app_t *a, *b, *c, *d;

    (void)state;
    assert_int_equal(apr_pool_create(&keep, NULL), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&read1, NULL), APR_SUCCESS);
    assert_int_equal(apr_pool_create(&read2, NULL), APR_SUCCESS);
    /* not kept: a new key each reading */
    oac_app_keep_generated_keys(NULL);
    a = finalize(declare("bank", GH "dpop_signing_alg=ES256"));
    b = finalize(declare("bank", GH "dpop_signing_alg=ES256"));
    assert_string_not_equal(jkt(a), jkt(b));

    oac_app_keep_generated_keys(keep);
    {
        oac_app_t *first = NULL, *again = NULL;
        const char *first_jkt;
        const char *err = NULL;
        assert_int_equal(oac_app_finalize(&first, &err, read1,
            declare("bank", GH "dpop_signing_alg=ES256")), APR_SUCCESS);
        first_jkt = apr_pstrdup(pool, jkt(first));
        apr_pool_destroy(read1);    /* the first reading's pool is gone */
        assert_int_equal(oac_app_finalize(&again, &err, read2,
            declare("bank", GH "dpop_signing_alg=ES256")), APR_SUCCESS);
        assert_non_null(again->dpop_signer);
        assert_string_equal(jkt(again), first_jkt);
        c = finalize(declare("bank", GH "dpop_signing_alg=ES256"));
        assert_string_equal(jkt(c), first_jkt);
    }
    /* another client, or another algorithm: a key of its own */
    d = finalize(declare("bank", GH "client_id=other dpop_signing_alg=ES256"));
    assert_string_not_equal(jkt(d), jkt(c));
    d = finalize(declare("bank", GH "dpop_signing_alg=EdDSA"));
    assert_string_not_equal(jkt(d), jkt(c));
    oac_app_keep_generated_keys(NULL);
    apr_pool_destroy(read2);
    apr_pool_destroy(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_quotes),
        cmocka_unit_test(test_tokenize_errors),
        cmocka_unit_test(test_set_rejects),
        cmocka_unit_test(test_defaults_and_kwargs),
        cmocka_unit_test(test_explicit_key_beats_kwargs),
        cmocka_unit_test(test_later_value_wins_and_merge),
        cmocka_unit_test(test_kwargs_merge_by_key),
        cmocka_unit_test(test_oauth1),
        cmocka_unit_test(test_realm),
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_version_specific_keys),
        cmocka_unit_test(test_redirect_and_userinfo),
        cmocka_unit_test(test_check_set),
        cmocka_unit_test(test_session_bind),
        cmocka_unit_test(test_generated_dpop_key_kept),
    };
    return cmocka_run_group_tests_name("oac_app", tests, setup, teardown);
}
