/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Invariants of oac_token_t shared by fuzz_token_parse (tokens from a
 * provider) and fuzz_token_store (tokens read back from a session).
 */

#ifndef TOKEN_CHECKS_H
#define TOKEN_CHECKS_H

#include "fuzz_common.h"
#include "oac_token.h"

static inline int extra_has_repeat(const apr_array_header_t *extra)
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

/* What the session keeps of a token: every field but expires_in (read
 * back as -1) and the extra fields (none read back). */
static inline void check_same_stored(const oac_token_t *a, const oac_token_t *back)
{
    CHECK(fuzz_streq(a->access_token, back->access_token));
    CHECK(fuzz_streq(a->token_secret, back->token_secret));
    CHECK(fuzz_streq(a->token_type, back->token_type));
    CHECK(fuzz_streq(a->refresh_token, back->refresh_token));
    CHECK(fuzz_streq(a->scope, back->scope));
    CHECK(back->expires_in == -1);
    CHECK(a->expires_at == back->expires_at);
    CHECK(back->extra && back->extra->nelts == 0);
}

/* What every token the module holds must satisfy. */
static inline void check_sane(const oac_token_t *t)
{
    CHECK(t->access_token && *t->access_token);
    CHECK(t->expires_in >= -1);
    CHECK(t->expires_at >= 0);
    CHECK(t->extra);
}

static inline int has_control(const char *s)
{
    for (; s && *s; ++s) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7F) {
            return 1;
        }
    }
    return 0;
}

/*
 * oac_token_check_sendable, the one gate before a value becomes a header:
 * what it lets through carries no control character and no field over its
 * bound, and what it refuses does (written out again here, independently).
 */
static inline void check_sendable(apr_pool_t *p, const oac_token_t *t)
{
    const char *err = NULL;
    int bad = has_control(t->access_token) || has_control(t->token_secret)
        || has_control(t->token_type) || has_control(t->refresh_token)
        || has_control(t->scope)
        || strlen(t->access_token) > OAC_TOKEN_VALUE_MAX
        || (t->token_secret && strlen(t->token_secret) > OAC_TOKEN_VALUE_MAX)
        || (t->refresh_token
            && strlen(t->refresh_token) > OAC_TOKEN_VALUE_MAX)
        || (t->token_type && strlen(t->token_type) > OAC_TOKEN_TYPE_MAX)
        || (t->scope && strlen(t->scope) > OAC_TOKEN_SCOPE_MAX);

    if (oac_token_check_sendable(&err, p, t, NULL) == APR_SUCCESS) {
        CHECK(!bad);
    }
    else {
        CHECK(bad);
        CHECK(err && fuzz_printable(err));
    }
}

/*
 * A token written to the session must read back as it was (what the
 * session keeps of it), and writing what was read must give the same
 * string: otherwise a session changes, or is lost, on its way through a
 * request.
 */
static inline void check_session_round_trip(apr_pool_t *p, const oac_token_t *t)
{
    const char *s = oac_token_to_string(p, t), *c, *err = NULL;
    oac_token_t *back = NULL;

    CHECK(s && s[0] == '3' && s[1] == '.');
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
    check_same_stored(t, back);
    CHECK(strcmp(oac_token_to_string(p, back), s) == 0);
}

#endif
