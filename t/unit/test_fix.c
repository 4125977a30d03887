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
    assert_null(fixed_token(app_with(NULL, NULL), "application/json", body));
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
    }
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
    };
    return cmocka_run_group_tests_name("oac_fix", tests, setup, teardown);
}
