/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests of the built-in compliance fixes and token_field_map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

#include "oac_fix.h"
#include "oac_token.h"

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

static oac_app_t *app_with(const char *fixes, const char *map)
{
    oac_app_t *app = apr_pcalloc(pool, sizeof(*app));
    char *list = apr_pstrdup(pool, fixes ? fixes : ""), *last, *name;
    app->name = "test";
    app->compliance_fixes = apr_array_make(pool, 2, sizeof(const char *));
    for (name = apr_strtok(list, ",", &last); name;
         name = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(app->compliance_fixes, const char *) = name;
    }
    app->token_field_map = map;
    return app;
}

/* Runs the fixes over body, then the ordinary parser. */
static oac_token_t *fixed_token(const oac_app_t *app, const char *ctype,
                                const char *body)
{
    oac_http_response_t resp = { 0 };
    oac_token_t *t = NULL;
    const char *err = NULL;
    resp.status = 200;
    resp.content_type = ctype;
    resp.body = apr_pstrdup(pool, body);
    resp.body_len = strlen(body);
    assert_int_equal(oac_fix_token_response(&resp, &err, pool, app),
                     APR_SUCCESS);
    if (oac_token_parse(&t, &err, pool, resp.content_type, resp.body,
                        resp.body_len, 1000) != APR_SUCCESS) {
        return NULL;
    }
    return t;
}

static void test_no_fix_leaves_body(void **state)
{
    oac_http_response_t resp = { 0 };
    const char *err;
    resp.body = "expires=5&access_token=a";
    resp.body_len = strlen(resp.body);
    resp.content_type = "text/plain";
    assert_int_equal(oac_fix_token_response(&resp, &err, pool,
                                            app_with(NULL, NULL)),
                     APR_SUCCESS);
    assert_string_equal(resp.body, "expires=5&access_token=a");
    assert_string_equal(resp.content_type, "text/plain");
}

static void test_facebook(void **state)
{
    /* text/plain, form-encoded, "expires" */
    oac_token_t *t = fixed_token(app_with("facebook", NULL), "text/plain",
                                 "access_token=fb-tok&expires=5183999");
    assert_non_null(t);
    assert_string_equal(t->access_token, "fb-tok");
    assert_int_equal(t->expires_in, 5183999);
    assert_int_equal(t->expires_at, 1000 + 5183999);
    /* without the fix, the expiry is not understood */
    t = fixed_token(app_with(NULL, NULL), "text/plain",
                    "access_token=fb-tok&expires=5183999");
    assert_int_equal(t->expires_at, 0);
}

static void test_slack(void **state)
{
    const char *body = "{\"ok\":true,\"app_id\":\"A1\",\"authed_user\":"
                       "{\"id\":\"U1\",\"scope\":\"chat:write\","
                       "\"access_token\":\"xoxp-1\",\"token_type\":\"user\","
                       "\"refresh_token\":\"xoxe-1\",\"expires_in\":43200}}";
    oac_token_t *t = fixed_token(app_with("slack", NULL), "application/json",
                                 body);
    assert_non_null(t);
    assert_string_equal(t->access_token, "xoxp-1");
    assert_string_equal(t->refresh_token, "xoxe-1");
    assert_string_equal(t->scope, "chat:write");
    assert_int_equal(t->expires_in, 43200);
    /* Slack's type "user" is a bearer token */
    assert_string_equal(t->token_type, "Bearer");
    assert_null(fixed_token(app_with(NULL, NULL), "application/json", body));
    /* With bot scopes too, the bot's token is at the top level: the
     * user's is still the login's, and the bot's other fields go. */
    t = fixed_token(app_with("slack", NULL), "application/json",
                    "{\"ok\":true,\"access_token\":\"xoxb-bot\","
                    "\"token_type\":\"bot\",\"scope\":\"commands\","
                    "\"refresh_token\":\"xoxe-bot\",\"authed_user\":"
                    "{\"id\":\"U1\",\"access_token\":\"xoxp-2\","
                    "\"token_type\":\"user\"}}");
    assert_non_null(t);
    assert_string_equal(t->access_token, "xoxp-2");
    assert_string_equal(t->token_type, "Bearer");
    assert_null(t->refresh_token);
    assert_null(t->scope);
    /* A refresh (token rotation) answers the user's token at the top
     * level, of type "user" */
    t = fixed_token(app_with("slack", NULL), "application/json",
                    "{\"ok\":true,\"access_token\":\"xoxe.xoxp-3\","
                    "\"token_type\":\"user\",\"refresh_token\":\"xoxe-3\","
                    "\"expires_in\":43200}");
    assert_non_null(t);
    assert_string_equal(t->access_token, "xoxe.xoxp-3");
    assert_string_equal(t->token_type, "Bearer");
    assert_string_equal(t->refresh_token, "xoxe-3");
}

static void test_camelcase(void **state)
{
    const char *body = "{\"accessToken\":\"at\",\"refreshToken\":\"rt\","
                       "\"expiresIn\":\"60\",\"tokenType\":\"bearer\"}";
    oac_token_t *t = fixed_token(app_with("camelcase", NULL), NULL, body);
    assert_non_null(t);
    assert_string_equal(t->access_token, "at");
    assert_string_equal(t->refresh_token, "rt");
    assert_string_equal(t->token_type, "bearer");
    assert_int_equal(t->expires_in, 60);
    assert_null(fixed_token(app_with(NULL, NULL), NULL, body));
}

static void test_field_map(void **state)
{
    oac_token_t *t = fixed_token(
        app_with(NULL, "data.token:access_token,ttl:expires_in"),
        "application/json",
        "{\"data\":{\"token\":\"deep\"},\"ttl\":30,\"x\":1}");
    const char *err;
    assert_non_null(t);
    assert_string_equal(t->access_token, "deep");
    assert_int_equal(t->expires_in, 30);
    assert_int_equal(oac_fix_check_field_map(&err, pool,
                                             "a:access_token,b.c:scope"),
                     APR_SUCCESS);
    assert_int_not_equal(oac_fix_check_field_map(&err, pool, "a:password"),
                         APR_SUCCESS);
    assert_string_equal(err, "token_field_map target 'password' is not one "
                        "of access_token, refresh_token, token_type, "
                        "expires_in, scope");
    assert_int_not_equal(oac_fix_check_field_map(&err, pool, "a"),
                         APR_SUCCESS);
    assert_int_not_equal(oac_fix_check_field_map(&err, pool, ":scope"),
                         APR_SUCCESS);
}

static void test_api_param(void **state)
{
    assert_string_equal(oac_fix_api_token_param(app_with("linkedin", NULL)),
                        "oauth2_access_token");
    assert_string_equal(oac_fix_api_token_param(app_with("weibo", NULL)),
                        "access_token");
    assert_null(oac_fix_api_token_param(app_with("facebook", NULL)));
}

static void test_garbage_left_to_parser(void **state)
{
    oac_http_response_t resp = { 0 };
    const char *err;
    resp.body = "<html>down</html>";
    resp.body_len = strlen(resp.body);
    assert_int_equal(oac_fix_token_response(&resp, &err, pool,
                                            app_with("camelcase", NULL)),
                     APR_SUCCESS);
    assert_string_equal(resp.body, "<html>down</html>");
}

/* A repeated field stays for the parser to refuse, with a fix or without:
 * a fix must not pick one of two access tokens (found by reading, while
 * fuzzing). */
static void test_repeated_fields_still_refused(void **state)
{
    const oac_app_t *apps[] = { app_with(NULL, NULL),
                                app_with("camelcase", NULL),
                                app_with(NULL, "tok:access_token") };
    size_t i;

    for (i = 0; i < sizeof(apps) / sizeof(apps[0]); ++i) {
        assert_null(fixed_token(apps[i], "application/json",
                                "{\"access_token\":\"a\","
                                "\"access_token\":\"b\"}"));
        assert_null(fixed_token(apps[i], "application/x-www-form-urlencoded",
                                "access_token=a&access_token=b"));
        /* nor hidden by a field the fix could not keep (no UTF-8): the
         * parser refuses them, so must the fixed body */
        assert_null(fixed_token(apps[i], "text/plain",
                                "access_token=%FF&access_token=evil"));
        assert_null(fixed_token(apps[i], "text/plain",
                                "access_token=good&%FF=x"));
        assert_null(fixed_token(apps[i], "text/plain",
                                "access_token=good&x=%FF"));
    }
}

/* Sign in with Apple's first-login "user" form field: the name parts as
 * claims the id_token lacks, never its email, nothing doubtful. */
static void test_apple_user(void **state)
{
    const oac_app_t *apple = app_with("apple", NULL);
    const char *ada = "{\"name\":{\"firstName\":\"Ada\","
                      "\"lastName\":\"Lovelace\"},\"email\":\"a@evil.example\"}";
    json_t *c = json_pack("{s:s, s:s}", "sub", "001", "email", "ada@example.org");
    char big[300];

    assert_int_equal(oac_fix_apple_user(apple, c, ada), 3);
    assert_string_equal(json_string_value(json_object_get(c, "given_name")), "Ada");
    assert_string_equal(json_string_value(json_object_get(c, "family_name")),
                        "Lovelace");
    assert_string_equal(json_string_value(json_object_get(c, "name")),
                        "Ada Lovelace");
    assert_string_equal(json_string_value(json_object_get(c, "email")),
                        "ada@example.org");
    /* what the claims have stays */
    assert_int_equal(oac_fix_apple_user(apple, c,
                         "{\"name\":{\"firstName\":\"Eve\"}}"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "given_name")), "Ada");
    json_decref(c);

    c = json_object();
    assert_int_equal(oac_fix_apple_user(apple, c,
                         "{\"name\":{\"firstName\":\"Ada\"}}"), 2);
    assert_string_equal(json_string_value(json_object_get(c, "name")), "Ada");
    json_decref(c);

    c = json_object();
    /* a line break, a name too long, no JSON, another fix, nothing */
    assert_int_equal(oac_fix_apple_user(apple, c,
                         "{\"name\":{\"firstName\":\"A\\r\\nX-Evil: 1\"}}"), 0);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(oac_fix_apple_user(apple, c, apr_psprintf(pool,
                         "{\"name\":{\"lastName\":\"%s\"}}", big)), 0);
    assert_int_equal(oac_fix_apple_user(apple, c, "Ada"), 0);
    assert_int_equal(oac_fix_apple_user(app_with("facebook", NULL), c, ada), 0);
    assert_int_equal(oac_fix_apple_user(apple, c, NULL), 0);
    assert_int_equal(json_object_size(c), 0);
    json_decref(c);
}

/* A form body with a NUL in it: refused, not cut short at the NUL. */
static void test_nul_in_form_still_refused(void **state)
{
    static const char body[] = "access_token=abc\0&refresh_token=x";
    const char *fixes[] = { NULL, "facebook", "camelcase" };
    size_t i;

    for (i = 0; i < sizeof(fixes) / sizeof(fixes[0]); ++i) {
        oac_http_response_t resp = { 0 };
        oac_token_t *t = NULL;
        const char *err = NULL;

        resp.status = 200;
        resp.content_type = "text/plain";
        resp.body = apr_pmemdup(pool, body, sizeof(body) - 1);
        resp.body_len = sizeof(body) - 1;
        assert_int_equal(oac_fix_token_response(&resp, &err, pool,
                                                app_with(fixes[i], NULL)),
                         APR_SUCCESS);
        assert_int_not_equal(oac_token_parse(&t, &err, pool,
                                             resp.content_type, resp.body,
                                             resp.body_len, 1000),
                             APR_SUCCESS);
    }
}

#define MS "https://login.microsoftonline.com"
#define T1 "9188040d-6c67-4c5b-b112-36a304b66dad"

static oac_app_t *ms_app(const char *fixes, const char *issuer)
{
    oac_app_t *app = app_with(fixes, NULL);
    app->issuer = issuer;
    return app;
}

/* Entra's documents: fetched under a tenant's domain or a group's name,
 * they name the tenant ID or the template in the issuer. */
static void test_microsoft_metadata_issuer(void **state)
{
    const oac_app_t *ms = app_with("microsoft", NULL);
    const oac_app_t *plain = app_with("facebook", NULL);
    size_t i;
    static const char *const refused[][2] = {
        /* another host, scheme, or suffix */
        { MS "/common/v2.0", "https://evil.example/{tenantid}/v2.0" },
        { MS "/common/v2.0", "http://login.microsoftonline.com/{tenantid}/v2.0" },
        { MS "/common/v2.0", MS "/{tenantid}/v2.1" },
        { MS "/common/v2.0", MS "/{tenantid}" },
        /* two segments apart, or more than the segment */
        { MS "/common/v2.0", MS "/{tenantid}/{tenantid}" },
        { MS "/common/v2.0", MS "/x/{tenantid}/v2.0" },
        { MS "/common/v2.0", MS "/" T1 "x/v2.0" },
        /* the segment is neither a tenant ID nor the template */
        { MS "/common/v2.0", MS "/organizations/v2.0" },
        { MS "/common/v2.0", MS "/{tenantid}x/v2.0" },
        { MS "/common/v2.0", MS "/9188040d-6c67-4c5b-b112-36a304b66dag/v2.0" },
        /* the URL's segment is not a tenant's name */
        { MS "/a%2fb/v2.0", MS "/{tenantid}/v2.0" },
        { MS "/../v2.0", MS "/{tenantid}/v2.0" },
        { MS "//v2.0", MS "/{tenantid}/v2.0" },
        /* the segment is the host */
        { "https://common/v2.0", "https://" T1 "/v2.0" },
        /* the same: nothing for the fix to accept */
        { MS "/" T1 "/v2.0", MS "/" T1 "/v2.0" },
        /* a URL naming a tenant's ID: that tenant only */
        { MS "/" T1 "/v2.0", MS "/{tenantid}/v2.0" },
        { MS "/" T1 "/v2.0", MS "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" },
        /* groups of tenants name the template; one tenant its ID */
        { MS "/common/v2.0", MS "/" T1 "/v2.0" },
        { MS "/organizations/v2.0", MS "/" T1 "/v2.0" },
        { MS "/consumers/v2.0", MS "/{tenantid}/v2.0" },
        { MS "/contoso.onmicrosoft.com/v2.0", MS "/{tenantid}/v2.0" },
        /* the tenant is the first segment of the path */
        { MS "/a/common/v2.0", MS "/a/{tenantid}/v2.0" },
        { MS "/v2.0/common", MS "/v2.0/{tenantid}" },
        /* no userinfo, no other scheme, a host */
        { "https://u@login.microsoftonline.com/common/v2.0",
          "https://u@login.microsoftonline.com/{tenantid}/v2.0" },
        { "httpz://login.microsoftonline.com/common/v2.0",
          "httpz://login.microsoftonline.com/{tenantid}/v2.0" },
        { "https:///common/v2.0", "https:///{tenantid}/v2.0" },
        /* a query or fragment is no path */
        { "https://h.example?/common/v2.0", "https://h.example?/{tenantid}/v2.0" },
        { "https://h.example#/common/v2.0", "https://h.example#/{tenantid}/v2.0" },
        { MS "/common?x", MS "/{tenantid}?y" },
    };

    assert_string_equal(oac_fix_metadata_issuer(ms, MS "/common/v2.0",
                                                MS "/{tenantid}/v2.0"),
                        MS "/{tenantid}/v2.0");
    assert_string_equal(oac_fix_metadata_issuer(ms, MS "/organizations/v2.0",
                                                MS "/{tenantid}/v2.0"),
                        MS "/{tenantid}/v2.0");
    assert_string_equal(oac_fix_metadata_issuer(ms,
                            MS "/contoso.onmicrosoft.com/v2.0",
                            MS "/" T1 "/v2.0"), MS "/" T1 "/v2.0");
    assert_string_equal(oac_fix_metadata_issuer(ms, MS "/consumers/v2.0",
                                                MS "/" T1 "/v2.0"),
                        MS "/" T1 "/v2.0");
    assert_string_equal(oac_fix_metadata_issuer(ms, "http://127.0.0.1:8/common",
                                                "http://127.0.0.1:8/{tenantid}"),
                        "http://127.0.0.1:8/{tenantid}");
    /* never in place of an issuer the administrator named */
    assert_null(oac_fix_metadata_issuer(ms_app("microsoft", MS "/common/v2.0"),
                                        MS "/common/v2.0",
                                        MS "/{tenantid}/v2.0"));
    assert_null(oac_fix_metadata_issuer(ms_app("microsoft", MS "/" T1 "/v2.0"),
                                        MS "/" T1 "/v2.0",
                                        MS "/{tenantid}/v2.0"));
    /* only with the fix */
    assert_null(oac_fix_metadata_issuer(plain, MS "/common/v2.0",
                                        MS "/{tenantid}/v2.0"));
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        if (oac_fix_metadata_issuer(ms, refused[i][0], refused[i][1])) {
            fail_msg("accepted: %s for %s", refused[i][1], refused[i][0]);
        }
    }
    assert_true(oac_fix_issuer_is_template(MS "/{tenantid}/v2.0"));
    assert_false(oac_fix_issuer_is_template(MS "/" T1 "/v2.0"));
    assert_false(oac_fix_issuer_is_template(NULL));
}

static json_t *claims_with_tid(json_t *tid)
{
    json_t *c = json_object();
    if (tid) {
        json_object_set_new(c, "tid", tid);
    }
    return c;
}

/* Microsoft: "validate that iss is the issuer template with {tenantid}
 * replaced by the token's tid". */
static void test_microsoft_token_issuer(void **state)
{
    const oac_app_t *tpl = ms_app("microsoft", MS "/{tenantid}/v2.0");
    const oac_app_t *one = ms_app("microsoft", MS "/" T1 "/v2.0");
    const oac_app_t *nofix = ms_app(NULL, MS "/{tenantid}/v2.0");
    const char *why = NULL;
    json_t *c;

    c = claims_with_tid(json_string(T1));
    assert_string_equal(oac_fix_token_issuer(&why, pool, tpl, c),
                        MS "/" T1 "/v2.0");
    /* a concrete issuer, or no fix: the app's, whatever tid says */
    assert_string_equal(oac_fix_token_issuer(&why, pool, one, c),
                        MS "/" T1 "/v2.0");
    assert_string_equal(oac_fix_token_issuer(&why, pool, nofix, c),
                        MS "/{tenantid}/v2.0");
    json_decref(c);

    c = claims_with_tid(NULL);
    assert_null(oac_fix_token_issuer(&why, pool, tpl, c));
    assert_non_null(strstr(why, "no tid"));
    json_decref(c);
    c = claims_with_tid(json_integer(1));
    assert_null(oac_fix_token_issuer(&why, pool, tpl, c));
    assert_non_null(strstr(why, "not a string"));
    json_decref(c);
    {
        static const char *const bad[] = {
            "common", "", "../x", T1 "/v2.0/x", T1 "0",
            "9188040d-6c67-4c5b-b112-36a304b66da", "9188040d_6c67-4c5b-b112-36a304b66dad",
            "{tenantid}",
        };
        size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
            c = claims_with_tid(json_string(bad[i]));
            why = NULL;
            if (oac_fix_token_issuer(&why, pool, tpl, c)) {
                fail_msg("tid accepted: %s", bad[i]);
            }
            assert_non_null(strstr(why, "not a tenant ID"));
            json_decref(c);
        }
    }
}

/* Google's id_tokens may name its issuer without the scheme, as Google
 * documents; no other issuer is read that way. */
static void test_google_issuer(void **state)
{
    const oac_app_t *google = ms_app(NULL, "https://accounts.google.com");
    const oac_app_t *other = ms_app(NULL, "https://accounts.google.com.evil");
    const char *why = NULL;
    json_t *c = json_pack("{s:s}", "iss", "accounts.google.com");

    assert_string_equal(oac_fix_token_issuer(&why, pool, google, c),
                        "accounts.google.com");
    assert_string_equal(oac_fix_token_issuer(&why, pool, other, c),
                        "https://accounts.google.com.evil");
    json_object_set_new(c, "iss", json_string("https://accounts.google.com"));
    assert_string_equal(oac_fix_token_issuer(&why, pool, google, c),
                        "https://accounts.google.com");
    json_object_set_new(c, "iss", json_string("accounts.google.com/"));
    assert_string_equal(oac_fix_token_issuer(&why, pool, google, c),
                        "https://accounts.google.com");
    json_object_set_new(c, "iss", json_integer(1));
    assert_string_equal(oac_fix_token_issuer(&why, pool, google, c),
                        "https://accounts.google.com");
    json_decref(c);
}

/* RFC 9207's iss in the authorization response, against a template. */
static void test_microsoft_iss_parameter(void **state)
{
    const oac_app_t *tpl = ms_app("microsoft", MS "/{tenantid}/v2.0");
    const oac_app_t *nofix = ms_app(NULL, MS "/{tenantid}/v2.0");
    const oac_app_t *plain = ms_app(NULL, MS "/" T1 "/v2.0");

    assert_true(oac_fix_issuer_matches(tpl, MS "/" T1 "/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/{tenantid}/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/common/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/" T1 "/v2.0/"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/" T1 "/v2.1"));
    assert_false(oac_fix_issuer_matches(tpl, "https://evil.example/" T1 "/v2.0"));
    /* the same length, another host */
    assert_false(oac_fix_issuer_matches(tpl,
                 "https://login.microsoftonlinx.com/" T1 "/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/" T1 "/v2.x"));
    assert_false(oac_fix_issuer_matches(tpl, MS "x/" T1 "/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, MS "/" T1 "x/v2.0"));
    assert_false(oac_fix_issuer_matches(tpl, ""));
    assert_false(oac_fix_issuer_matches(nofix, MS "/" T1 "/v2.0"));
    assert_true(oac_fix_issuer_matches(nofix, MS "/{tenantid}/v2.0"));
    assert_true(oac_fix_issuer_matches(plain, MS "/" T1 "/v2.0"));
    assert_false(oac_fix_issuer_matches(plain,
                 MS "/00000000-0000-0000-0000-000000000000/v2.0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_fix_leaves_body),
        cmocka_unit_test(test_facebook),
        cmocka_unit_test(test_slack),
        cmocka_unit_test(test_camelcase),
        cmocka_unit_test(test_field_map),
        cmocka_unit_test(test_api_param),
        cmocka_unit_test(test_garbage_left_to_parser),
        cmocka_unit_test(test_repeated_fields_still_refused),
        cmocka_unit_test(test_nul_in_form_still_refused),
        cmocka_unit_test(test_apple_user),
        cmocka_unit_test(test_microsoft_metadata_issuer),
        cmocka_unit_test(test_microsoft_token_issuer),
        cmocka_unit_test(test_microsoft_iss_parameter),
        cmocka_unit_test(test_google_issuer),
    };
    return cmocka_run_group_tests_name("oac_fix", tests, setup, teardown);
}
