/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_claims.c ('Require oauth-claim' rules, forwarded
 * claim text, the session's copy) and for the claims oac_userinfo_user
 * hands out (id_token claims with userinfo merged over them). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "oac_test.h"
#include "fake_http.h"

#include "oac_claims.h"
#include "oac_form.h"
#include "oac_userinfo.h"

static const char doc[] =
    "{\"sub\":\"1001\",\"email\":\"alice@example.org\","
    "\"email_verified\":true,\"age\":42,\"ratio\":0.5,\"nothing\":null,"
    "\"groups\":[\"staff\",\"admins\",7,true],"
    "\"address\":{\"country\":\"FR\",\"geo\":{\"zone\":\"eu\"}},"
    "\"a.b\":\"dotted member\","
    "\"nonce\":\"n-1\",\"at_hash\":\"h\",\"exp\":2000000000,"
    "\"iat\":1000000000,\"evil\":\"x\\r\\nInjected: 1\","
    "\"roles\":[{\"r\":1}]}";

static json_t *claims(apr_pool_t *p)
{
    json_t *c = oac_claims_parse(p, doc);
    assert_non_null(c);
    return c;
}

static void parse_rules(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *rules;
    const char *err = NULL;
    const oac_claim_rule_t *r;

    assert_int_equal(oac_claims_parse_rules(&rules, &err, p,
                         "groups:admins \"email:a b@x\" iss:https://x.example"),
                     APR_SUCCESS);
    assert_int_equal(rules->nelts, 3);
    r = &APR_ARRAY_IDX(rules, 0, oac_claim_rule_t);
    assert_string_equal(r->name, "groups");
    assert_string_equal(r->value, "admins");
    r = &APR_ARRAY_IDX(rules, 1, oac_claim_rule_t);
    assert_string_equal(r->value, "a b@x");
    /* split at the first colon: a URL value stays whole */
    r = &APR_ARRAY_IDX(rules, 2, oac_claim_rule_t);
    assert_string_equal(r->name, "iss");
    assert_string_equal(r->value, "https://x.example");
    /* an empty value is a value */
    assert_int_equal(oac_claims_parse_rules(&rules, &err, p, "hd:"),
                     APR_SUCCESS);
    assert_string_equal(APR_ARRAY_IDX(rules, 0, oac_claim_rule_t).value, "");

    assert_int_equal(oac_claims_parse_rules(&rules, &err, p, ""), APR_EINVAL);
    assert_non_null(strstr(err, "names no claim"));
    assert_int_equal(oac_claims_parse_rules(&rules, &err, p, "groups"),
                     APR_EINVAL);
    assert_non_null(strstr(err, "'groups' is not NAME:VALUE"));
    assert_int_equal(oac_claims_parse_rules(&rules, &err, p, ":admins"),
                     APR_EINVAL);
}

static void match(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = claims(p);

    assert_true(oac_claims_match(c, "email", "alice@example.org"));
    assert_false(oac_claims_match(c, "email", "alice@example.or"));
    assert_false(oac_claims_match(c, "email", "ALICE@example.org"));
    /* booleans, numbers and null as their JSON text */
    assert_true(oac_claims_match(c, "email_verified", "true"));
    assert_false(oac_claims_match(c, "email_verified", "false"));
    assert_false(oac_claims_match(c, "email_verified", "1"));
    assert_true(oac_claims_match(c, "age", "42"));
    assert_false(oac_claims_match(c, "age", "042"));
    assert_true(oac_claims_match(c, "ratio", "0.5"));
    assert_true(oac_claims_match(c, "nothing", "null"));
    /* arrays: membership */
    assert_true(oac_claims_match(c, "groups", "admins"));
    assert_true(oac_claims_match(c, "groups", "staff"));
    assert_true(oac_claims_match(c, "groups", "7"));
    assert_true(oac_claims_match(c, "groups", "true"));
    assert_false(oac_claims_match(c, "groups", "admin"));
    assert_false(oac_claims_match(c, "groups", "staff,admins"));
    /* dotted paths into objects; an object itself never matches */
    assert_true(oac_claims_match(c, "address.country", "FR"));
    assert_true(oac_claims_match(c, "address.geo.zone", "eu"));
    assert_false(oac_claims_match(c, "address.country", "DE"));
    assert_false(oac_claims_match(c, "address", "FR"));
    assert_false(oac_claims_match(c, "address.nowhere", "FR"));
    assert_false(oac_claims_match(c, "email.x", "alice@example.org"));
    /* a member named with a dot is found as such */
    assert_true(oac_claims_match(c, "a.b", "dotted member"));
    /* missing claims, no claims */
    assert_false(oac_claims_match(c, "missing", ""));
    assert_false(oac_claims_match(NULL, "email", "alice@example.org"));
}

static void match_any(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = claims(p);
    apr_array_header_t *rules;
    const char *err;

    assert_int_equal(oac_claims_parse_rules(&rules, &err, p,
                         "groups:nobody address.country:FR"), APR_SUCCESS);
    assert_true(oac_claims_match_any(c, rules));
    assert_int_equal(oac_claims_parse_rules(&rules, &err, p,
                         "groups:nobody address.country:DE"), APR_SUCCESS);
    assert_false(oac_claims_match_any(c, rules));
}

static void text(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = claims(p);

    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c, "email"), NULL),
                        "alice@example.org");
    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c, "groups"), NULL),
                        "staff,admins,7,true");
    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c, "address"), NULL),
                        "{\"country\":\"FR\",\"geo\":{\"zone\":\"eu\"}}");
    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c,
                                                             "email_verified"), NULL),
                        "true");
    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c, "age"), NULL), "42");
    assert_string_equal(oac_claims_text(p, oac_claims_lookup(c, "roles"), NULL),
                        "{\"r\":1}");
    /* what would split a header is never forwarded */
    assert_null(oac_claims_text(p, oac_claims_lookup(c, "evil"), NULL));
    {
        json_t *nul = json_stringn("a\0b", 3);
        json_t *list = json_pack("[s, O]", "staff", nul);
        assert_null(oac_claims_text(p, nul, NULL));
        /* nor "staff,a" from an element with one */
        assert_non_null(list);
        assert_null(oac_claims_text(p, list, NULL));
        json_decref(list);
        json_decref(nul);
    }
    assert_null(oac_claims_text(p, NULL, NULL));
}

/* What a backend would read as another value is not forwarded, and why
 * says so without the value. */
static void text_misread(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "\" admin@corp\"", "\"admin@corp \"", "[\"users,admins\"]",
        "[\"staff\",\" admins\"]", "[\"staff\",\"admins \"]", NULL
    };
    static const char *const good[] = {
        "\"a b\"", "\"Sales, EMEA\"", "[\"a b\",\"c\"]", "\"\"",
        "[{\"a\":1,\"b\":2}]", NULL
    };
    const char *why;
    int i;

    for (i = 0; bad[i]; ++i) {
        json_error_t jerr;
        json_t *v = json_loads(bad[i], JSON_DECODE_ANY, &jerr);
        assert_non_null(v);
        why = NULL;
        assert_null(oac_claims_text(p, v, &why));
        assert_non_null(why);
        assert_null(strstr(why, "admin"));
        json_decref(v);
    }
    for (i = 0; good[i]; ++i) {
        json_error_t jerr;
        json_t *v = json_loads(good[i], JSON_DECODE_ANY, &jerr);
        assert_non_null(v);
        why = "unset";
        assert_non_null(oac_claims_text(p, v, &why));
        assert_null(why);
        json_decref(v);
    }
    /* and controls are said as such */
    {
        json_t *v = json_string("a\r\nb");
        assert_null(oac_claims_text(p, v, &why));
        assert_string_equal(why, "control characters");
        json_decref(v);
    }
}

static void names(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_claims_header_name(p, "email_verified"),
                        "email-verified");
    assert_string_equal(oac_claims_header_name(p, "https://x.example/roles"),
                        "https---x.example-roles");
    assert_string_equal(oac_claims_header_name(p, "a b\r\nc"), "a-b--c");
    assert_string_equal(oac_claims_env_name(p, "email_verified"),
                        "EMAIL_VERIFIED");
    assert_string_equal(oac_claims_env_name(p, "address.country"),
                        "ADDRESS_COUNTRY");
    assert_string_equal(oac_claims_top(p, "address.geo.zone"), "address");
    assert_string_equal(oac_claims_top(p, "email"), "email");
}

/* A namespaced claim ("example.com/blocked", Auth0's style) is a
 * top-level name with dots: the names a session keeps for a rule on it
 * hold it, so the rule finds it in the kept claims (keeping "example"
 * alone, a 'Require not' on it read it as absent). */
static void namespaced_claims_are_kept(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = oac_claims_parse(p, "{\"example.com/blocked\":true,"
                                    "\"address\":{\"geo\":\"zone\"}}");
    const apr_array_header_t *tops = oac_claims_tops(p, "example.com/blocked");
    const char *kept;
    json_t *back;
    int shrunk;

    assert_int_equal(tops->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(tops, 0, const char *), "example");
    assert_string_equal(APR_ARRAY_IDX(tops, 1, const char *),
                        "example.com/blocked");
    tops = oac_claims_tops(p, "a.b.c");
    assert_int_equal(tops->nelts, 3);
    assert_string_equal(APR_ARRAY_IDX(tops, 1, const char *), "a.b");
    assert_int_equal(oac_claims_tops(p, "email")->nelts, 1);

    kept = oac_claims_select(p, c, oac_claims_tops(p, "example.com/blocked"),
                             0, 2048, &shrunk);
    assert_non_null(kept);
    back = json_loads(kept, 0, NULL);
    assert_true(json_is_true(oac_claims_lookup(back, "example.com/blocked")));
    assert_null(json_object_get(back, "address"));
    json_decref(back);
}

static void select_kept(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = claims(p);
    apr_array_header_t *wanted = apr_array_make(p, 2, sizeof(const char *));
    const char *s;
    json_t *back;
    int shrunk;

    /* named ones only, in sorted compact JSON */
    APR_ARRAY_PUSH(wanted, const char *) = "groups";
    APR_ARRAY_PUSH(wanted, const char *) = "email";
    APR_ARRAY_PUSH(wanted, const char *) = "missing";
    s = oac_claims_select(p, c, wanted, 0, OAC_CLAIMS_MAX, &shrunk);
    assert_string_equal(s, "{\"email\":\"alice@example.org\","
                           "\"groups\":[\"staff\",\"admins\",7,true]}");
    assert_int_equal(shrunk, 0);

    /* all: but the id_token's one-time claims */
    s = oac_claims_select(p, c, NULL, 1, OAC_CLAIMS_MAX, &shrunk);
    back = oac_claims_parse(p, s);
    assert_non_null(back);
    assert_non_null(json_object_get(back, "address"));
    assert_non_null(json_object_get(back, "sub"));
    assert_null(json_object_get(back, "nonce"));
    assert_null(json_object_get(back, "at_hash"));
    assert_null(json_object_get(back, "exp"));
    assert_null(json_object_get(back, "iat"));
    assert_true(oac_claims_match(back, "address.country", "FR"));

    /* over the room: the named ones; and nothing when even they are */
    s = oac_claims_select(p, c, wanted, 1, 80, &shrunk);
    assert_int_equal(shrunk, 1);
    assert_string_equal(s, "{\"email\":\"alice@example.org\","
                           "\"groups\":[\"staff\",\"admins\",7,true]}");
    s = oac_claims_select(p, c, wanted, 1, 20, &shrunk);
    assert_int_equal(shrunk, 2);
    assert_null(s);

    /* nothing wanted, nothing kept */
    assert_null(oac_claims_select(p, c, NULL, 0, OAC_CLAIMS_MAX, &shrunk));
    assert_null(oac_claims_parse(p, "[1]"));
    assert_null(oac_claims_parse(p, "{"));
}

static oac_app_t *oidc_app(apr_pool_t *p, const char *userinfo)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));
    app->name = "oidc";
    app->version = OAC_OAUTH2;
    app->client_id = "client";
    app->oidc = 1;
    app->userinfo_endpoint = userinfo;
    return app;
}

static oac_token_t *token(apr_pool_t *p)
{
    oac_token_t *t = apr_pcalloc(p, sizeof(*t));
    t->access_token = "AT-1";
    t->token_type = "Bearer";
    t->expires_in = -1;
    t->extra = oac_form_make(p);
    return t;
}

/* userinfo's answer over the id_token's claims; the id_token's alone
 * without a userinfo endpoint; userinfo's alone for a plain OAuth app */
static void userinfo_claims(void **state)
{
    apr_pool_t *p = *state;
    json_t *id = oac_claims_parse(p, "{\"sub\":\"1001\",\"email\":\"old@x\","
                                     "\"nonce\":\"n\"}");
    json_t *got = NULL;
    const char *user, *err;
    fake_t f;

    fake_answer(&f, 200, "application/json",
                "{\"sub\":\"1001\",\"email\":\"new@x\",\"groups\":[\"g\"]}");
    assert_int_equal(oac_userinfo_user(&user, &err, p, fake_client(p, &f),
                                       oidc_app(p, "https://op.example/ui"),
                                       token(p), id, &got), APR_SUCCESS);
    assert_string_equal(user, "1001");
    assert_non_null(got);
    assert_true(oac_claims_match(got, "email", "new@x"));
    assert_true(oac_claims_match(got, "groups", "g"));
    assert_true(oac_claims_match(got, "nonce", "n"));
    /* the id_token's claims themselves are untouched */
    assert_true(oac_claims_match(id, "email", "old@x"));

    got = NULL;
    assert_int_equal(oac_userinfo_user(&user, &err, p, fake_client(p, &f),
                                       oidc_app(p, NULL), token(p), id, &got),
                     APR_SUCCESS);
    assert_true(oac_claims_match(got, "email", "old@x"));

    got = NULL;
    fake_answer(&f, 200, "application/json", "{\"login\":\"octocat\"}");
    {
        oac_app_t *plain = oidc_app(p, "https://api.example/user");
        plain->oidc = 0;
        plain->user_claim = "login";
        assert_int_equal(oac_userinfo_user(&user, &err, p,
                                           fake_client(p, &f), plain,
                                           token(p), NULL, &got),
                         APR_SUCCESS);
    }
    assert_true(oac_claims_match(got, "login", "octocat"));

    /* a refused userinfo hands out nothing */
    got = NULL;
    fake_answer(&f, 200, "application/json", "{\"sub\":\"9999\"}");
    assert_int_equal(oac_userinfo_user(&user, &err, p, fake_client(p, &f),
                                       oidc_app(p, "https://op.example/ui"),
                                       token(p), id, &got), APR_EGENERAL);
    assert_null(got);
}

/* The claims a refresh's id_token leaves in a session. */
static const char *dumped(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    const char *out;

    assert_non_null(s);
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

static void renewed(void **state)
{
    apr_pool_t *p = *state;
    /* at login: userinfo's email won over the id_token's, address and
     * phone were userinfo's alone, groups and level the id_token's */
    json_t *before = oac_claims_parse(p, "{\"sub\":\"1001\","
        "\"email\":\"id@x\",\"groups\":[\"staff\",\"admins\"],"
        "\"level\":3,\"exp\":100}");
    const char *kept_text = "{\"address\":{\"country\":\"FR\"},"
        "\"email\":\"ui@x\",\"groups\":[\"staff\",\"admins\"],"
        "\"level\":3,\"phone\":\"1\",\"sub\":\"1001\"}";
    json_t *kept = oac_claims_parse(p, kept_text);
    json_t *ui = oac_claims_userinfo_names(p, kept, before);
    /* the refresh: groups shrank, level not repeated, email and phone in
     * the id_token now, a new claim */
    json_t *after = oac_claims_parse(p, "{\"sub\":\"1001\","
        "\"email\":\"id2@x\",\"groups\":[\"staff\"],"
        "\"phone\":\"2\",\"team\":\"blue\",\"exp\":200}");
    json_t *first, *got;

    /* sorted, whatever the order of the claims; read back from its text */
    assert_string_equal(dumped(p, ui), "[\"address\",\"email\",\"phone\"]");
    assert_string_equal(dumped(p, oac_claims_parse_names(p, dumped(p, ui))),
                        dumped(p, ui));
    assert_null(oac_claims_parse_names(p, "{\"a\":1}"));
    assert_null(oac_claims_parse_names(p, NULL));
    assert_string_equal(dumped(p, oac_claims_userinfo_names(p, before,
                                                             before)), "[]");
    assert_string_equal(dumped(p, oac_claims_userinfo_names(p, NULL,
                                                             before)), "[]");

    /* groups follows the id_token; email (userinfo's at login) and phone
     * (userinfo's alone) stay; level, not repeated, stays; team is new */
    first = got = oac_claims_renewed(p, kept, ui, after);
    assert_non_null(got);
    assert_string_equal(dumped(p, got),
        "{\"address\":{\"country\":\"FR\"},\"email\":\"ui@x\","
        "\"exp\":200,\"groups\":[\"staff\"],\"level\":3,"
        "\"phone\":\"1\",\"sub\":\"1001\",\"team\":\"blue\"}");
    /* the session's copy is not touched */
    assert_string_equal(dumped(p, kept), kept_text);

    /* a refreshed id_token that repeats nothing changes nothing */
    got = oac_claims_renewed(p, kept, ui,
                             oac_claims_parse(p, "{\"sub\":\"1001\"}"));
    assert_non_null(got);
    assert_string_equal(dumped(p, got), kept_text);

    /* a claim one refresh left out is the id_token's at the next, not
     * taken for userinfo's */
    got = oac_claims_renewed(p, got, ui,
                             oac_claims_parse(p, "{\"sub\":\"1001\","
                                              "\"groups\":[\"ops\"]}"));
    assert_true(oac_claims_match(got, "groups", "ops"));
    assert_false(oac_claims_match(got, "groups", "staff"));

    /* an emptied list counts */
    got = oac_claims_renewed(p, first, ui,
                             oac_claims_parse(p, "{\"sub\":\"1001\","
                                              "\"groups\":[]}"));
    assert_false(oac_claims_match(got, "groups", "staff"));
    assert_true(oac_claims_match(got, "phone", "1"));

    /* none kept, none from userinfo: the id_token's claims */
    got = oac_claims_renewed(p, NULL, NULL, after);
    assert_non_null(got);
    assert_string_equal(dumped(p, got),
        "{\"email\":\"id2@x\",\"exp\":200,\"groups\":[\"staff\"],"
        "\"phone\":\"2\",\"sub\":\"1001\",\"team\":\"blue\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(parse_rules),
        T(match),
        T(match_any),
        T(text),
        T(text_misread),
        T(names),
        T(select_kept),
        T(namespaced_claims_are_kept),
        T(userinfo_claims),
        T(renewed),
    };

    return OAC_RUN_TESTS("oac_claims", tests);
}
