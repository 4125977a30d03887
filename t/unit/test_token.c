/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_token.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "oac_form.h"
#include "oac_token.h"
#include "oac_util.h"

/* A fixed clock so expires_at is exact. */
#define NOW APR_INT64_C(1700000000)

static oac_token_t *parse_ok(apr_pool_t *p, const char *ct, const char *body)
{
    oac_token_t *t = NULL;
    const char *err = NULL;
    apr_status_t rv = oac_token_parse(&t, &err, p, ct, body, strlen(body),
                                      NOW);

    if (rv != APR_SUCCESS) {
        fail_msg("parse failed: %s", err);
    }
    assert_non_null(t);
    return t;
}

static const char *parse_fails(apr_pool_t *p, const char *ct,
                               const char *body, apr_status_t expected_rv)
{
    oac_token_t sentinel, *t = &sentinel;
    const char *err = NULL;

    assert_int_equal(oac_token_parse(&t, &err, p, ct, body, strlen(body),
                                     NOW),
                     expected_rv);
    assert_ptr_equal(t, &sentinel);
    assert_non_null(err);
    return err;
}

static void assert_extra(const oac_token_t *t, int i, const char *name,
                         const char *value)
{
    const oac_param_t *params = (const oac_param_t *)t->extra->elts;

    assert_true(i < t->extra->nelts);
    assert_string_equal(params[i].name, name);
    assert_string_equal(params[i].value, value);
}

/* ---- JSON bodies ------------------------------------------------------ */

static void json_full_response(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/json",
        "{\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\","
        "\"token_type\":\"Bearer\",\"expires_in\":3600,"
        "\"refresh_token\":\"tGzv3JOkF0XG5Qx2TlKWIA\","
        "\"scope\":\"openid profile\"}");

    assert_string_equal(t->access_token, "2YotnFZFEjr1zCsicMWpAA");
    assert_null(t->token_secret);
    assert_string_equal(t->token_type, "Bearer");
    assert_string_equal(t->refresh_token, "tGzv3JOkF0XG5Qx2TlKWIA");
    assert_string_equal(t->scope, "openid profile");
    assert_int_equal(t->expires_in, 3600);
    assert_int_equal(t->expires_at, NOW + 3600);
    assert_int_equal(t->extra->nelts, 0);
}

static void json_minimal_response(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/json",
                              "{\"access_token\":\"abc\"}");

    assert_string_equal(t->access_token, "abc");
    assert_null(t->token_secret);
    assert_null(t->token_type);
    assert_null(t->refresh_token);
    assert_null(t->scope);
    assert_int_equal(t->expires_in, -1);
    assert_int_equal(t->expires_at, 0);
    assert_int_equal(t->extra->nelts, 0);
}

static void json_content_type_variants(void **state)
{
    apr_pool_t *p = *state;
    static const char *const types[] = {
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        " application/json",
        "application/vnd.example.token+json; v=2",
        "text/plain",
        "text/javascript",
        NULL,
    };
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        oac_token_t *t = parse_ok(p, types[i],
                                  " \r\n\t{\"access_token\":\"abc\","
                                  "\"token_type\":\"bearer\"}\n");
        assert_string_equal(t->access_token, "abc");
        assert_string_equal(t->token_type, "bearer");
    }
}

static void json_with_bom(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/json",
                              "\xEF\xBB\xBF{\"access_token\":\"abc\"}");

    assert_string_equal(t->access_token, "abc");
}

static void json_scope_array(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/json",
        "{\"access_token\":\"a\",\"scope\":[\"openid\",\"email\",\"profile\"]}");

    assert_string_equal(t->scope, "openid email profile");
    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"scope\":[]}");
    assert_string_equal(t->scope, "");
    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"scope\":null}");
    assert_null(t->scope);
}

static void json_extra_fields_of_each_type(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/json",
        "{\"access_token\":\"a\",\"id_token\":\"eyJ.x.y\",\"n\":123,"
        "\"neg\":-7,\"f\":1.5,\"t\":true,\"fa\":false,\"nul\":null,"
        "\"o\":{\"k\": [1, 2], \"s\": \"v\"},\"arr\":[1, \"x\", null],"
        "\"empty\":\"\",\"utf\":\"\\u00e9\",\"oauth_token_secret\":\"s\"}");

    /* strings and numbers only: booleans, null, objects and arrays are
     * no value a user_claim could name */
    assert_int_equal(t->extra->nelts, 7);
    assert_extra(t, 0, "id_token", "eyJ.x.y");
    assert_extra(t, 1, "n", "123");
    assert_extra(t, 2, "neg", "-7");
    assert_extra(t, 3, "f", "1.5");
    assert_extra(t, 4, "empty", "");
    assert_extra(t, 5, "utf", "\xC3\xA9");
    /* without oauth_token, the secret is not the token's */
    assert_extra(t, 6, "oauth_token_secret", "s");
    assert_null(t->token_secret);
    assert_string_equal(oac_form_get(t->extra, "n"), "123");
}

/* ---- form bodies ------------------------------------------------------ */

static void form_github_style(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/x-www-form-urlencoded",
        "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a"
        "&scope=repo%2Cgist&token_type=bearer");

    assert_string_equal(t->access_token,
                        "gho_16C7e42F292c6912E7710c838347Ae178B4a");
    assert_string_equal(t->scope, "repo,gist");
    assert_string_equal(t->token_type, "bearer");
    assert_null(t->refresh_token);
    assert_int_equal(t->expires_in, -1);
    assert_int_equal(t->expires_at, 0);
    assert_int_equal(t->extra->nelts, 0);
}

static void form_text_plain_and_no_content_type(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t;

    t = parse_ok(p, "text/plain; charset=UTF-8",
                 "access_token=abc&expires=5183999&scope=a+b\r\n");
    assert_string_equal(t->access_token, "abc");
    assert_string_equal(t->scope, "a b");
    assert_int_equal(t->extra->nelts, 1);
    assert_extra(t, 0, "expires", "5183999");

    t = parse_ok(p, NULL, "access_token=abc&expires_in=60");
    assert_string_equal(t->access_token, "abc");
    assert_int_equal(t->expires_in, 60);
    assert_int_equal(t->expires_at, NOW + 60);
}

static void form_oauth1_access_token(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "text/html",
        "oauth_token=6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY"
        "&oauth_token_secret=2EEfA6BG5ly3sR3XjE0IBSnlQu4ZrUzPiYTmrkVU"
        "&user_id=6253282&screen_name=twitterapi");

    assert_string_equal(t->access_token,
                        "6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY");
    assert_string_equal(t->token_secret,
                        "2EEfA6BG5ly3sR3XjE0IBSnlQu4ZrUzPiYTmrkVU");
    assert_null(t->token_type);
    assert_int_equal(t->expires_in, -1);
    assert_int_equal(t->extra->nelts, 2);
    assert_extra(t, 0, "user_id", "6253282");
    assert_extra(t, 1, "screen_name", "twitterapi");
}

static void form_oauth1_request_token(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, "application/x-www-form-urlencoded",
        "oauth_token=hh5s93j4hdidpola&oauth_token_secret=hdhd0244k9j7ao03"
        "&oauth_callback_confirmed=true");

    assert_string_equal(t->access_token, "hh5s93j4hdidpola");
    assert_string_equal(t->token_secret, "hdhd0244k9j7ao03");
    assert_int_equal(t->extra->nelts, 1);
    assert_extra(t, 0, "oauth_callback_confirmed", "true");
}

static void access_token_wins_over_oauth_token(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, NULL,
        "{\"oauth_token\":\"o\",\"access_token\":\"a\","
        "\"oauth_token_secret\":\"s\"}");

    assert_string_equal(t->access_token, "a");
    assert_null(t->token_secret);
    assert_int_equal(t->extra->nelts, 2);
    assert_extra(t, 0, "oauth_token", "o");
    assert_extra(t, 1, "oauth_token_secret", "s");
}

static void body_not_nul_terminated(void **state)
{
    apr_pool_t *p = *state;
    static const char json[] = "{\"access_token\":\"abc\"}GARBAGE";
    static const char form[] = "access_token=abc&x=1GARBAGE"; /* 20 + junk */
    oac_token_t *t = NULL;
    const char *err = NULL;
    char *copy;

    assert_int_equal(oac_token_parse(&t, &err, p, "application/json", json,
                                     22, NOW),
                     APR_SUCCESS);
    assert_string_equal(t->access_token, "abc");

    assert_int_equal(oac_token_parse(&t, &err, p, NULL, form, 20, NOW),
                     APR_SUCCESS);
    assert_string_equal(t->access_token, "abc");
    assert_int_equal(t->extra->nelts, 1);
    assert_extra(t, 0, "x", "1");

    /* and no byte past len is read: a heap copy without terminator */
    copy = malloc(22);
    memcpy(copy, json, 22);
    assert_int_equal(oac_token_parse(&t, &err, p, NULL, copy, 22, NOW),
                     APR_SUCCESS);
    assert_string_equal(t->access_token, "abc");
    free(copy);
    copy = malloc(20);
    memcpy(copy, form, 20);
    assert_int_equal(oac_token_parse(&t, &err, p, NULL, copy, 20, NOW),
                     APR_SUCCESS);
    assert_extra(t, 0, "x", "1");
    free(copy);
}

/* ---- expiry ----------------------------------------------------------- */

static void expires_variants(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t;

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":3600}");
    assert_int_equal(t->expires_in, 3600);
    assert_int_equal(t->expires_at, NOW + 3600);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":\"3600\"}");
    assert_int_equal(t->expires_in, 3600);
    assert_int_equal(t->expires_at, NOW + 3600);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":59.9}");
    assert_int_equal(t->expires_in, 59);
    assert_int_equal(t->expires_at, NOW + 59);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":0}");
    assert_int_equal(t->expires_in, 0);
    assert_int_equal(t->expires_at, 0);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":null}");
    assert_int_equal(t->expires_in, -1);
    assert_int_equal(t->expires_at, 0);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_in\":3600,"
                          "\"expires_at\":1800000000}");
    assert_int_equal(t->expires_in, 3600);
    assert_int_equal(t->expires_at, 1800000000);

    t = parse_ok(p, NULL, "{\"access_token\":\"a\",\"expires_at\":1800000000}");
    assert_int_equal(t->expires_in, -1);
    assert_int_equal(t->expires_at, 1800000000);

    t = parse_ok(p, NULL, "access_token=a&expires_in=7200");
    assert_int_equal(t->expires_in, 7200);
    assert_int_equal(t->expires_at, NOW + 7200);
}

static void expires_errors(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad_in[] = {
        "{\"access_token\":\"a\",\"expires_in\":\"abc\"}",
        "{\"access_token\":\"a\",\"expires_in\":-5}",
        "{\"access_token\":\"a\",\"expires_in\":-0.5}",
        "{\"access_token\":\"a\",\"expires_in\":\"-5\"}",
        "{\"access_token\":\"a\",\"expires_in\":\"\"}",
        "{\"access_token\":\"a\",\"expires_in\":\"36 00\"}",
        "{\"access_token\":\"a\",\"expires_in\":\"3600.5\"}",
        "{\"access_token\":\"a\",\"expires_in\":true}",
        "{\"access_token\":\"a\",\"expires_in\":[3600]}",
        "{\"access_token\":\"a\",\"expires_in\":1e300}",
        "{\"access_token\":\"a\",\"expires_in\":\"99999999999999999999\"}",
        "access_token=a&expires_in=abc",
    };
    size_t i;

    for (i = 0; i < sizeof(bad_in) / sizeof(bad_in[0]); ++i) {
        assert_string_equal(parse_fails(p, NULL, bad_in[i], APR_EINVAL),
                            "token response field 'expires_in' is not a "
                            "non-negative number of seconds");
    }
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"expires_at\":\"x\"}",
                    APR_EINVAL),
        "token response field 'expires_at' is not a non-negative number of "
        "seconds");
}

/* ---- errors ----------------------------------------------------------- */

static void wrong_types(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(parse_fails(p, NULL, "{\"access_token\":123}",
                                    APR_EINVAL),
                        "access_token is not a string");
    assert_string_equal(parse_fails(p, NULL, "{\"access_token\":[\"a\"]}",
                                    APR_EINVAL),
                        "access_token is not a string");
    assert_string_equal(parse_fails(p, NULL, "{\"oauth_token\":true}",
                                    APR_EINVAL),
                        "oauth_token is not a string");
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"token_type\":1}",
                    APR_EINVAL),
        "token response field 'token_type' is not a string");
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"refresh_token\":5}",
                    APR_EINVAL),
        "token response field 'refresh_token' is not a string");
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"scope\":{}}",
                    APR_EINVAL),
        "token response field 'scope' is not a string");
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"scope\":[\"a\",1]}",
                    APR_EINVAL),
        "token response field 'scope' is not a string or an array of "
        "strings");
    assert_string_equal(
        parse_fails(p, NULL, "{\"oauth_token\":\"a\",\"oauth_token_secret\":"
                             "{}}", APR_EINVAL),
        "token response field 'oauth_token_secret' is not a string");
}

static void missing_access_token(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(parse_fails(p, "application/json",
                                    "{\"token_type\":\"bearer\"}",
                                    APR_EINVAL),
                        "token response has no access_token");
    assert_string_equal(parse_fails(p, NULL, "{\"access_token\":null}",
                                    APR_EINVAL),
                        "token response has no access_token");
    assert_string_equal(parse_fails(p, NULL, "{}", APR_EINVAL),
                        "token response has no access_token");
    assert_string_equal(parse_fails(p, NULL, "token_type=bearer",
                                    APR_EINVAL),
                        "token response has no access_token");
    assert_string_equal(parse_fails(p, NULL, "{\"access_token\":\"\"}",
                                    APR_EINVAL),
                        "token response has an empty access_token");
    assert_string_equal(parse_fails(p, NULL, "oauth_token=&x=1", APR_EINVAL),
                        "token response has an empty oauth_token");
    assert_string_equal(parse_fails(p, "application/json", "", APR_EINVAL),
                        "token response is empty");
    assert_string_equal(parse_fails(p, NULL, " \r\n", APR_EINVAL),
                        "token response is empty");
}

static void provider_errors(void **state)
{
    apr_pool_t *p = *state;
    char *long_desc;

    assert_string_equal(parse_fails(p, "application/json",
                                    "{\"error\":\"invalid_grant\"}",
                                    APR_EGENERAL),
                        "provider returned error 'invalid_grant'");
    assert_string_equal(
        parse_fails(p, "application/json",
                    "{\"error\":\"invalid_client\",\"error_description\":"
                    "\"Client authentication failed\",\"error_uri\":\"x\"}",
                    APR_EGENERAL),
        "provider returned error 'invalid_client': Client authentication "
        "failed");
    /* GitHub answers 200 with a form-encoded error */
    assert_string_equal(
        parse_fails(p, "application/x-www-form-urlencoded",
                    "error=bad_verification_code&error_description=The+code"
                    "+passed+is+incorrect+or+expired.&error_uri=https%3A%2F"
                    "%2Fdocs.github.com", APR_EGENERAL),
        "provider returned error 'bad_verification_code': The code passed is "
        "incorrect or expired.");
    /* an error wins even next to a token */
    assert_string_equal(
        parse_fails(p, NULL, "{\"access_token\":\"a\",\"error\":\"x\"}",
                    APR_EGENERAL),
        "provider returned error 'x'");
    /* control characters are neutralised */
    assert_string_equal(
        parse_fails(p, NULL, "{\"error\":\"a\\nb\",\"error_description\":"
                             "\"x\\u001b[31my\\r\\n\"}", APR_EGENERAL),
        "provider returned error 'a?b': x?[31my??");
    /* non-string values are shown as JSON */
    assert_string_equal(
        parse_fails(p, NULL, "{\"error\":{\"code\":190,\"type\":\"OAuthException\"}}",
                    APR_EGENERAL),
        "provider returned error '{\"code\":190,\"type\":\"OAuthException\"}'");
    /* long descriptions are cut to 200 bytes, and marked */
    long_desc = apr_pstrcat(p, "{\"error\":\"e\",\"error_description\":\"",
                            apr_psprintf(p, "%0300d", 0), "\"}", NULL);
    assert_string_equal(parse_fails(p, NULL, long_desc, APR_EGENERAL),
                        apr_pstrcat(p, "provider returned error 'e': ",
                                    apr_psprintf(p, "%0200d", 0),
                                    OAC_UTIL_CUT, NULL));
    /* a null error is no error */
    assert_string_equal(parse_ok(p, NULL, "{\"access_token\":\"a\","
                                          "\"error\":null}")->access_token,
                        "a");
}

static void invalid_json(void **state)
{
    apr_pool_t *p = *state;
    const char *err;

    err = parse_fails(p, "application/json",
                      "{\"access_token\": SECRETVALUE}", APR_EINVAL);
    assert_string_equal(err, "token response is not valid JSON: invalid "
                             "token at line 1 column 28");
    assert_null(strstr(err, "SECRET"));

    err = parse_fails(p, NULL, "{\"access_token\":\"abc\"", APR_EINVAL);
    assert_string_equal(err, "token response is not valid JSON: '}' "
                             "expected at line 1 column 21");

    err = parse_fails(p, "application/json", "access_token=abc", APR_EINVAL);
    assert_string_equal(err, "token response is not valid JSON: '[' or '{' "
                             "expected at line 1 column 6");

    err = parse_fails(p, "application/json", "[{\"access_token\":\"a\"}]",
                      APR_EINVAL);
    assert_string_equal(err, "token response is not valid JSON: top level "
                             "is not an object at line 1 column 1");

    err = parse_fails(p, "application/json",
                      "{\"access_token\":\"a\",\"access_token\":\"b\"}",
                      APR_EINVAL);
    assert_string_equal(err, "token response is not valid JSON: duplicate "
                             "object key at line 1 column 34");
}

static void form_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t;
    const char *err;

    assert_string_equal(parse_fails(p, NULL, "access_token=a&access_token=b",
                                    APR_EINVAL),
                        "token response repeats field 'access_token'");
    assert_string_equal(parse_fails(p, NULL, "access_token=a&=b",
                                    APR_EINVAL),
                        "token response is not valid form data: form has a "
                        "parameter with an empty name");
    assert_string_equal(parse_fails(p, NULL, "access_token=a%zz",
                                    APR_EINVAL),
                        "token response is not valid form data: value of "
                        "form parameter 'access_token': malformed "
                        "percent-encoding at offset 1");
    assert_string_equal(parse_fails(p, NULL, "access_token=%FF",
                                    APR_EINVAL),
                        "token response has a field that is not valid "
                        "UTF-8");
    assert_int_equal(oac_token_parse(&t, &err, p, NULL, "access_token=a\0b",
                                     16, NOW),
                     APR_EINVAL);
    assert_string_equal(err, "token response contains a NUL byte");
}

static void errors_never_quote_tokens(void **state)
{
    apr_pool_t *p = *state;

    assert_null(strstr(parse_fails(p, NULL, "{\"access_token\":\"SECRET\","
                                            "\"refresh_token\":5}",
                                   APR_EINVAL), "SECRET"));
    assert_null(strstr(parse_fails(p, NULL, "{\"refresh_token\":\"SECRET\"}",
                                   APR_EINVAL), "SECRET"));
    assert_null(strstr(parse_fails(p, NULL, "access_token=SECRET%4",
                                   APR_EINVAL), "SECRET"));
}

/* ---- the stored form --------------------------------------------------- */

/* What the session keeps of a token: every field but expires_in (it comes
 * back as -1) and the extra fields (none come back). */
static void assert_same_stored(const oac_token_t *a, const oac_token_t *b)
{
#define SAME_STR(f)                                  \
    if (a->f) {                                      \
        assert_non_null(b->f);                       \
        assert_string_equal(a->f, b->f);             \
    }                                                \
    else {                                           \
        assert_null(b->f);                           \
    }
    SAME_STR(access_token);
    SAME_STR(token_secret);
    SAME_STR(token_type);
    SAME_STR(refresh_token);
    SAME_STR(scope);
#undef SAME_STR
    assert_int_equal(b->expires_in, -1);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_int_equal(b->extra->nelts, 0);
}

static void session_round_trip(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bodies[] = {
        "{\"access_token\":\"a\\\"b\\\\c\",\"token_type\":\"Bearer\","
        "\"expires_in\":3600,\"refresh_token\":\"r\",\"scope\":[\"x\",\"y\"],"
        "\"id_token\":\"eyJ\",\"n\":1,\"o\":{\"k\":\"\\u00e9\"},\"e\":\"\"}",
        "oauth_token=t&oauth_token_secret=s&user_id=1&screen_name=bob",
        "{\"access_token\":\"a\",\"expires_in\":0}",
        "{\"access_token\":\"a\"}",
    };
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); ++i) {
        oac_token_t *t = parse_ok(p, NULL, bodies[i]), *back = NULL;
        const char *err = NULL;
        char *s = oac_token_to_string(p, t);

        assert_non_null(s);
        assert_int_equal(oac_token_from_string(&back, &err, p, s),
                         APR_SUCCESS);
        assert_same_stored(t, back);
        /* and again: the serialisation is stable */
        assert_string_equal(oac_token_to_string(p, back), s);
    }
}

/* Only what is read back is written: no expires_in, no extra field (an
 * id_token would be most of the cookie). */
static void session_exact_form(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t *t = parse_ok(p, NULL,
        "oauth_token=t&oauth_token_secret=s&user_id=1");

    assert_string_equal(oac_token_to_string(p, t), "3.t.s....0");
    t = parse_ok(p, NULL, "{\"access_token\":\"a.b~c\",\"token_type\":"
                          "\"bearer\",\"expires_in\":10,\"scope\":\"s t\","
                          "\"refresh_token\":\"r\",\"e\":\"\","
                          "\"id_token\":\"eyJhbGciOi.x.y\"}");
    assert_string_equal(oac_token_to_string(p, t),
                        "3.a*2Eb*7Ec..bearer.r.s*20t.1700000010");
}

/* The stored form keeps NULL and "" apart, and any byte but NUL. */
static void session_every_byte_and_empty(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t t, *back = NULL;
    char all[256];
    const char *err = NULL, *s;
    int i;

    for (i = 1; i < 256; ++i) {
        all[i - 1] = (char)i;
    }
    all[255] = '\0';
    memset(&t, 0, sizeof(t));
    t.access_token = all;
    t.token_secret = "";
    t.token_type = NULL;
    t.refresh_token = "-";
    t.scope = "*";
    t.expires_in = 999999999;
    t.expires_at = 0;
    t.extra = oac_form_make(p);
    oac_form_add(t.extra, "k.", "\xFF");
    s = oac_token_to_string(p, &t);
    for (i = 0; s[i]; ++i) {
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                               "QRSTUVWXYZ0123456789_-.*", s[i]));
    }
    assert_int_equal(oac_token_from_string(&back, &err, p, s), APR_SUCCESS);
    assert_same_stored(&t, back);
    assert_string_equal(back->token_secret, "");
    assert_null(back->token_type);
    assert_string_equal(back->scope, "*");
}

static void session_garbage(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in, *err; } cases[] = {
        { NULL, "stored token is not in the module's form" },
        { "", "stored token is not in the module's form" },
        { "{\"access_token\":\"a\"}",
          "stored token is not in the module's form" },
        /* the earlier form, with expires_in and extra fields */
        { "2.a.....-1.0", "stored token is not in the module's form" },
        { "3.", "stored token does not have 6 fields" },
        { "3.a....", "stored token does not have 6 fields" },
        { "3.a.....0.k", "stored token does not have 6 fields" },
        { "3.a b....0", "stored token field 'access_token' is not valid" },
        { "3.a*2....0", "stored token field 'access_token' is not valid" },
        { "3.a*2e....0", "stored token field 'access_token' is not valid" },
        { "3.a*00....0", "stored token field 'access_token' is not valid" },
        { "3.a....s%20.0", "stored token field 'scope' is not valid" },
        { "3.a.....", "stored token field 'expires_at' is not valid" },
        { "3.a.....-1", "stored token field 'expires_at' is not valid" },
        { "3.a.....1x", "stored token field 'expires_at' is not valid" },
        { "3.a.....1234567890123456789",
          "stored token field 'expires_at' is not valid" },
        { "3......0", "stored token has no access_token" },
        { "3.*.....0", "stored token has no access_token" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        oac_token_t sentinel, *t = &sentinel;
        const char *err = NULL;

        assert_int_equal(oac_token_from_string(&t, &err, p, cases[i].in),
                         APR_EINVAL);
        assert_ptr_equal(t, &sentinel);
        assert_string_equal(err, cases[i].err);
    }
}

/* Damaged stored strings never crash the reader; what it accepts it
 * writes back in a form it reads the same. */
static void session_mutations(void **state)
{
    apr_pool_t *p = *state, *sub;
    static const char seed[] =
        "3.at-1*2E2.sec.Bearer.rt.a*20b*C3*B6.1700003600";
    static const char alphabet[] = ".*-_09AFaf+% \x80\xFF";
    uint32_t x = 88172645u;
    unsigned taken = 0;
    int n;

    apr_pool_create(&sub, p);
    for (n = 0; n < 100000; ++n) {
        size_t len = sizeof(seed) - 1, pos;
        char *s = apr_palloc(sub, len + 1);
        oac_token_t *t = NULL, *again = NULL;
        const char *err = NULL;

        memcpy(s, seed, len + 1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pos = 2 + x % (len - 2);
        if ((x >> 20) & 1) {
            s[pos] = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
        }
        else {
            memmove(s + pos, s + pos + 1, len - pos);
        }
        if (oac_token_from_string(&t, &err, sub, s) == APR_SUCCESS) {
            ++taken;
            assert_int_equal(oac_token_from_string(&again, &err, sub,
                                                   oac_token_to_string(sub,
                                                                       t)),
                             APR_SUCCESS);
            assert_same_stored(t, again);
        }
        else {
            assert_non_null(err);
        }
        apr_pool_clear(sub);
    }
    assert_true(taken > 1000);
}

/* Every value that leaves as a header, a variable or REMOTE_USER: a
 * control character would end the header there (mod_proxy writes values
 * verbatim), so the check refuses it and never quotes the value. */
static void check_sendable_refuses_control_characters(void **state)
{
    apr_pool_t *p = *state;
    static const char *const poison[] = {
        "a\r\nX-OAuth-User: admin", "a\nb", "a\rb", "a\tb", "a\x01b",
        "a\x7f" "b", "\x1b[31m",
    };
    oac_token_t t;
    const char *err;
    apr_size_t i;
    int field;

    for (i = 0; i < sizeof(poison) / sizeof(poison[0]); ++i) {
        for (field = 0; field < 6; ++field) {
            const char *user = "alice";
            memset(&t, 0, sizeof(t));
            t.access_token = "at";
            t.token_type = "Bearer";
            switch (field) {
            case 0: t.access_token = poison[i]; break;
            case 1: t.token_secret = poison[i]; break;
            case 2: t.token_type = poison[i]; break;
            case 3: t.refresh_token = poison[i]; break;
            case 4: t.scope = poison[i]; break;
            case 5: user = poison[i]; break;
            }
            err = NULL;
            assert_int_equal(oac_token_check_sendable(&err, p, &t, user),
                             APR_EINVAL);
            assert_non_null(strstr(err, "control character"));
            assert_null(strstr(err, "admin"));
            assert_null(strchr(err, '\n'));
        }
    }
}

static void check_sendable_bounds(void **state)
{
    apr_pool_t *p = *state;
    oac_token_t t;
    const char *err;
    char *big = apr_palloc(p, OAC_TOKEN_VALUE_MAX + 2);

    memset(&t, 0, sizeof(t));
    memset(big, 'a', OAC_TOKEN_VALUE_MAX + 1);
    big[OAC_TOKEN_VALUE_MAX + 1] = '\0';
    /* at each bound: fine; one byte over: refused */
    t.access_token = big + 1;
    assert_int_equal(oac_token_check_sendable(&err, p, &t, NULL),
                     APR_SUCCESS);
    t.access_token = big;
    assert_int_equal(oac_token_check_sendable(&err, p, &t, NULL), APR_EINVAL);
    assert_non_null(strstr(err, "access_token is too long"));
    t.access_token = "at";
    t.token_type = big + OAC_TOKEN_VALUE_MAX + 1 - OAC_TOKEN_TYPE_MAX;
    assert_int_equal(oac_token_check_sendable(&err, p, &t, NULL),
                     APR_SUCCESS);
    t.token_type = big + OAC_TOKEN_VALUE_MAX - OAC_TOKEN_TYPE_MAX;
    assert_int_equal(oac_token_check_sendable(&err, p, &t, NULL), APR_EINVAL);
    t.token_type = NULL;
    t.scope = big + OAC_TOKEN_VALUE_MAX - OAC_TOKEN_SCOPE_MAX;
    assert_int_equal(oac_token_check_sendable(&err, p, &t, NULL), APR_EINVAL);
    assert_non_null(strstr(err, "scope is too long"));
    t.scope = NULL;
    assert_int_equal(oac_token_check_sendable(
                         &err, p, &t,
                         big + OAC_TOKEN_VALUE_MAX + 1 - OAC_TOKEN_USER_MAX),
                     APR_SUCCESS);
    assert_int_equal(oac_token_check_sendable(
                         &err, p, &t,
                         big + OAC_TOKEN_VALUE_MAX - OAC_TOKEN_USER_MAX),
                     APR_EINVAL);
    assert_non_null(strstr(err, "user name is too long"));
    /* an empty user is no user; UTF-8 is fine */
    assert_int_equal(oac_token_check_sendable(&err, p, &t, ""), APR_EINVAL);
    /* a backend trims header values: "admin " must not become admin */
    assert_int_equal(oac_token_check_sendable(&err, p, &t, "admin "),
                     APR_EINVAL);
    assert_int_equal(oac_token_check_sendable(&err, p, &t, " admin"),
                     APR_EINVAL);
    assert_int_equal(oac_token_check_sendable(&err, p, &t, "Ada Lovelace"),
                     APR_SUCCESS);
    assert_int_equal(oac_token_check_sendable(&err, p, &t, "Jos\xC3\xA9"),
                     APR_SUCCESS);
    assert_int_equal(oac_token_check_sendable(&err, p, NULL, "bob"),
                     APR_SUCCESS);
}

/* A provider's answer padded with tiny values (1 MiB of "{}," took
 * Jansson 80 MB per login) is refused before it is parsed. */
static void padded_answer_refused(void **state)
{
    apr_pool_t *p = *state;
    const char *head = "{\"access_token\":\"a\",\"token_type\":\"Bearer\","
                       "\"pad\":[{}";
    apr_size_t n = 30000, hl = strlen(head), i;
    char *body = apr_palloc(p, hl + n * 3 + 3), *o = body;

    memcpy(o, head, hl);
    o += hl;
    for (i = 0; i < n; ++i) {
        memcpy(o, ",{}", 3);
        o += 3;
    }
    memcpy(o, "]}", 3);
    assert_non_null(strstr(parse_fails(p, "application/json", body,
                                       APR_EINVAL),
                           "token response is not valid JSON: more than "
                           "40000 values"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(json_full_response),
        T(json_minimal_response),
        T(json_content_type_variants),
        T(json_with_bom),
        T(json_scope_array),
        T(json_extra_fields_of_each_type),
        T(form_github_style),
        T(form_text_plain_and_no_content_type),
        T(form_oauth1_access_token),
        T(form_oauth1_request_token),
        T(access_token_wins_over_oauth_token),
        T(body_not_nul_terminated),
        T(expires_variants),
        T(expires_errors),
        T(wrong_types),
        T(missing_access_token),
        T(provider_errors),
        T(invalid_json),
        T(form_errors),
        T(errors_never_quote_tokens),
        T(session_round_trip),
        T(session_exact_form),
        T(session_every_byte_and_empty),
        T(session_garbage),
        T(session_mutations),
        T(check_sendable_refuses_control_characters),
        T(check_sendable_bounds),
        T(padded_answer_refused),
    };

    return OAC_RUN_TESTS("oac_token", tests);
}
