/* Licensed under the Apache License, Version 2.0 */

/*
 * Invariants of oac_token_t shared by fuzz_token_parse (tokens from a
 * provider) and fuzz_token_store (tokens read back from a session).
 */

#ifndef TOKEN_CHECKS_H
#define TOKEN_CHECKS_H

#include "fuzz_common.h"
#include "oac_token.h"

static int extra_has_repeat(const apr_array_header_t *extra)
{
    int i, j;

    for (i = 0; i < extra->nelts; ++i) {
        for (j = 0; j < i; ++j) {
            if (!strcmp(APR_ARRAY_IDX(extra, i, oac_param_t).name,
                        APR_ARRAY_IDX(extra, j, oac_param_t).name)) {
                return 1;
            }
        }
    }
    return 0;
}

static void check_same(const oac_token_t *a, const oac_token_t *b)
{
    CHECK(fuzz_streq(a->access_token, b->access_token));
    CHECK(fuzz_streq(a->token_secret, b->token_secret));
    CHECK(fuzz_streq(a->token_type, b->token_type));
    CHECK(fuzz_streq(a->refresh_token, b->refresh_token));
    CHECK(fuzz_streq(a->scope, b->scope));
    CHECK(a->expires_in == b->expires_in);
    CHECK(a->expires_at == b->expires_at);
    CHECK(fuzz_form_equal(a->extra, b->extra));
}

/* What every token the module holds must satisfy. */
static void check_sane(const oac_token_t *t)
{
    CHECK(t->access_token && *t->access_token);
    CHECK(t->expires_in >= -1);
    CHECK(t->expires_at >= 0);
    CHECK(t->extra);
}

/*
 * KNOWN FINDING, reported and left to src/: the JSON (version 1) reader
 * takes expires_in / expires_at of up to 19 digits, which
 * oac_token_to_string writes, but the version 2 reader takes 18 at most,
 * so such a token does not read back. Tokens from oac_token_parse stay
 * below 10^15 and never hit it. Remove this once src/ agrees on a bound.
 */
static int known_long_expiry(const oac_token_t *t)
{
    return t->expires_in >= APR_INT64_C(1000000000000000000)
           || t->expires_at >= APR_INT64_C(1000000000000000000);
}

/*
 * A token written to the session must read back as it was (a repeated
 * extra name keeps its first value only, as documented), and writing what
 * was read must give the same string: otherwise a session changes, or is
 * lost, on its way through a request.
 */
static void check_session_round_trip(apr_pool_t *p, const oac_token_t *t)
{
    const char *s = oac_token_to_string(p, t), *c, *err = NULL;
    oac_token_t *back = NULL;

    if (known_long_expiry(t)) {
        return;
    }
    CHECK(s && s[0] == '2' && s[1] == '.');
    /* Nothing mod_session would have to URL-encode. */
    for (c = s; *c; ++c) {
        CHECK((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
              || (*c >= '0' && *c <= '9') || strchr("_-.*", *c));
    }
    if (oac_token_from_string(&back, &err, p, s) != APR_SUCCESS) {
        fprintf(stderr, "session string does not read back: %s\n%s\n",
                err ? err : "?", s);
        CHECK(!"session round trip");
    }
    check_sane(back);
    if (!extra_has_repeat(t->extra)) {
        check_same(t, back);
    }
    CHECK(strcmp(oac_token_to_string(p, back), s) == 0);
}

/* The legacy JSON form: jansson and the fast reader must agree on it. */
static void check_json_round_trip(apr_pool_t *p, const oac_token_t *t)
{
    const char *j = oac_token_to_json_string(p, t), *err = NULL;
    oac_token_t *slow = NULL, *fast = NULL;

    if (!j) {
        return;              /* a string of t is not UTF-8: documented */
    }
    CHECK(oac_token_from_string_json(&slow, &err, p, j) == APR_SUCCESS);
    if (!extra_has_repeat(t->extra)) {
        check_same(t, slow);
    }
    if (oac_token_from_compact(&fast, p, j)) {
        check_same(slow, fast);
    }
}

#endif
