/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Claims about the user, which a provider writes (id_token, userinfo):
 * what OAuthForwardClaims passes on (oac_claims_text, the header and
 * variable names), what a session keeps (oac_claims_select), the rules of
 * 'Require oauth-claim', and what a refresh's id_token makes of the kept
 * claims (oac_claims_userinfo_names, oac_claims_renewed).
 *
 * Input, cut at NUL bytes: the login's claims (JSON), a second claims
 * document (the login's id_token claims for userinfo_names, the refreshed
 * id_token's for renewed), a Require line, a claim name; the first byte
 * picks "all" for oac_claims_select.
 */

#include "fuzz_common.h"
#include "oac_claims.h"

FUZZ_APR_INITIALIZE

/* The one-time claims of oac_claims.h's oac_claims_select comment, written
 * out again on purpose: the oracle states the list, and does not ask the
 * code under test for it. */
static int is_one_time(const char *name)
{
    static const char *const names[] = {
        "nonce", "at_hash", "c_hash", "exp", "iat", "nbf", "jti", NULL
    };
    const char *const *n;

    for (n = names; *n; ++n) {
        if (!strcmp(*n, name)) {
            return 1;
        }
    }
    return 0;
}

static int listed(const json_t *names, const char *name)
{
    size_t i;

    for (i = 0; i < json_array_size(names); ++i) {
        if (!strcmp(json_string_value(json_array_get(names, i)), name)) {
            return 1;
        }
    }
    return 0;
}

static char *dumped(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *out;

    CHECK(s != NULL);
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

/* A string with no control character and no NUL. */
static int plain(const json_t *v)
{
    const char *s = json_string_value(v), *c;

    if (!s || strlen(s) != json_string_length(v)) {
        return 0;
    }
    for (c = s; *c; ++c) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* A string a header can carry as it is: plain, no space at either end (a
 * header's value is read without them); in a list, no ',' either (it
 * would read as two elements). */
static int forwardable(const json_t *v, int in_list)
{
    const char *s = json_string_value(v);
    size_t n;

    if (!plain(v)) {
        return 0;
    }
    n = strlen(s);
    return !(n && (s[0] == ' ' || s[n - 1] == ' '))
           && !(in_list && strchr(s, ','));
}

/* The text of a string, or of an array of strings, written here: the
 * contract's "arrays joined with ','"; NULL for anything else. */
static const char *expected_text(apr_pool_t *p, const json_t *v)
{
    const char *out = NULL;
    size_t i;

    if (forwardable(v, 0)) {
        return json_string_value(v);
    }
    if (!json_is_array(v)) {
        return NULL;
    }
    for (i = 0; i < json_array_size(v); ++i) {
        const json_t *e = json_array_get(v, i);
        if (!forwardable(e, 1)) {
            return NULL;
        }
        out = out ? apr_pstrcat(p, out, ",", json_string_value(e), NULL)
                  : json_string_value(e);
    }
    return out ? out : "";
}

/* What reaches a header or a variable: no control character (a CR or LF
 * would split the request the backend reads), no space at either end, no
 * list element with a ','; names of safe bytes only; strings and lists of
 * strings that can go as they are, do. */
static void check_forwarded(apr_pool_t *p, const json_t *claims)
{
    const char *name, *text, *c, *want;
    json_t *v;

    json_object_foreach((json_t *)claims, name, v) {
        const char *h = oac_claims_header_name(p, name);
        const char *e = oac_claims_env_name(p, name);

        text = oac_claims_text(p, v, NULL);
        if ((want = expected_text(p, v))) {
            CHECK(text && !strcmp(text, want));
        }
        if (text) {
            for (c = text; *c; ++c) {
                CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
            }
            if (json_is_string(v) && *text) {
                CHECK(text[0] != ' ' && text[strlen(text) - 1] != ' ');
            }
        }
        CHECK(strlen(h) == strlen(name) && strlen(e) == strlen(name));
        for (c = h; *c; ++c) {
            CHECK((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                  || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-');
        }
        for (c = e; *c; ++c) {
            CHECK((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
                  || *c == '_');
        }
    }
}

/* The session's copy: within max, JSON that reads back, and with "all"
 * and nothing shrunk, every claim but the one-time ones, as they were. */
static void check_select(apr_pool_t *p, const json_t *claims,
                         const char *name, int all)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    const char *kept, *key, *top = *name ? oac_claims_top(p, name) : NULL;
    const json_t *back;
    json_t *v;
    int shrunk = -1;

    if (top) {
        APR_ARRAY_PUSH(names, const char *) = top;
    }
    kept = oac_claims_select(p, claims, names, all, OAC_CLAIMS_MAX, &shrunk);
    CHECK(shrunk >= 0 && shrunk <= 2);
    CHECK(shrunk != 1 || all);
    if (!kept) {
        /* nothing, without shrinking: there was nothing to keep */
        if (shrunk == 0 && all) {
            json_object_foreach((json_t *)claims, key, v) {
                CHECK(is_one_time(key));
            }
        }
        if (shrunk == 0 && !all) {
            CHECK(!top || !json_object_get(claims, top));
        }
        return;
    }
    CHECK(shrunk != 2);
    CHECK(strlen(kept) <= OAC_CLAIMS_MAX);
    CHECK((back = oac_claims_parse(p, kept)) != NULL);
    json_object_foreach((json_t *)back, key, v) {
        CHECK(json_equal(v, json_object_get(claims, key)));
        CHECK(!all || shrunk || !is_one_time(key));
        /* named only: the name, and nothing else */
        CHECK((all && !shrunk) || (top && !strcmp(key, top)));
    }
    if (all && !shrunk) {
        json_object_foreach((json_t *)claims, key, v) {
            CHECK(is_one_time(key) || json_object_get(back, key));
        }
    }
}

/* userinfo_names: sorted, without repeats, each a claim of the login
 * that the id_token lacks or holds otherwise; renewed: the login's
 * claims with the refreshed id_token's over them, but for userinfo's. */
static void check_renewal(apr_pool_t *p, const json_t *kept,
                          const json_t *id)
{
    const json_t *ui = oac_claims_userinfo_names(p, kept, id);
    const json_t *got;
    const char *before = dumped(p, kept), *key;
    json_t *v;
    size_t i;

    CHECK(ui != NULL && json_is_array(ui));
    for (i = 0; i < json_array_size(ui); ++i) {
        const char *n = json_string_value(json_array_get(ui, i));
        const json_t *inid;

        CHECK(n != NULL);
        CHECK(i == 0
              || strcmp(json_string_value(json_array_get(ui, i - 1)), n) < 0);
        CHECK(json_object_get(kept, n));
        inid = json_object_get(id, n);
        CHECK(!inid || !json_equal((json_t *)inid,
                                   json_object_get(kept, n)));
    }
    json_object_foreach((json_t *)kept, key, v) {
        const json_t *inid = json_object_get(id, key);
        CHECK(listed(ui, key) == (!inid || !json_equal((json_t *)inid, v)));
    }
    CHECK(json_equal((json_t *)oac_claims_parse_names(p, dumped(p, ui)),
                     (json_t *)ui));

    /* the second document as the refreshed id_token */
    got = oac_claims_renewed(p, kept, ui, id);
    CHECK(got != NULL);
    CHECK(!strcmp(dumped(p, kept), before));
    json_object_foreach((json_t *)got, key, v) {
        const json_t *fresh = json_object_get(id, key);
        if (fresh && !listed(ui, key)) {
            CHECK(json_equal(v, (json_t *)fresh));
        }
        else {
            CHECK(json_equal(v, json_object_get(kept, key)));
        }
    }
    json_object_foreach((json_t *)kept, key, v) {
        CHECK(json_object_get(got, key));
    }
    json_object_foreach((json_t *)id, key, v) {
        CHECK(json_object_get(got, key));
    }
    /* a refreshed id_token with the login's claims changes nothing */
    CHECK(json_equal((json_t *)oac_claims_renewed(p, kept, ui, kept),
                     (json_t *)kept));
}

static void check_rules(apr_pool_t *p, const json_t *claims,
                        const char *line)
{
    apr_array_header_t *rules;
    const char *err = NULL, *key;
    json_t *v;
    int i;

    /* A top-level claim is found by its own (non-empty) name, dots and
     * all: a string matches its text and nothing longer, an array each of
     * its strings, an object nothing. */
    json_object_foreach((json_t *)claims, key, v) {
        if (!*key) {
            continue;       /* no rule can name it: parse_rules refuses */
        }
        if (plain(v)) {
            CHECK(oac_claims_match(claims, key, json_string_value(v)));
            CHECK(!oac_claims_match(claims, key,
                                    apr_pstrcat(p, json_string_value(v),
                                                "#", NULL)));
        }
        else if (json_is_array(v)) {
            size_t k;
            for (k = 0; k < json_array_size(v); ++k) {
                const json_t *e = json_array_get(v, k);
                if (plain(e)) {
                    CHECK(oac_claims_match(claims, key,
                                           json_string_value(e)));
                }
            }
        }
        else if (json_is_object(v)) {
            CHECK(!oac_claims_match(claims, key, "{}"));
        }
    }

    if (oac_claims_parse_rules(&rules, &err, p, line) != APR_SUCCESS) {
        CHECK(err != NULL);
        return;
    }
    CHECK(rules->nelts > 0);
    for (i = 0; i < rules->nelts; ++i) {
        const oac_claim_rule_t *r = &APR_ARRAY_IDX(rules, i,
                                                   oac_claim_rule_t);
        CHECK(r->name && *r->name && r->value);
        /* any of them matching is what match_any says */
        if (oac_claims_match(claims, r->name, r->value)) {
            CHECK(oac_claims_match_any(claims, rules));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_parts_t in;
    const json_t *a, *b;
    int all;

    apr_pool_create(&p, NULL);
    fuzz_split(&in, p, data, size);
    /* the first byte of the first part picks, the rest is the JSON */
    all = in.part[0][0] & 1;
    a = oac_claims_parse(p, in.part[0] + (in.part[0][0] != '\0'));
    b = oac_claims_parse(p, in.part[1]);
    if (a) {
        check_forwarded(p, a);
        check_select(p, a, in.part[3], all);
        check_rules(p, a, in.part[2]);
        check_renewal(p, a, b ? b : a);
    }
    if (a && b) {
        check_renewal(p, b, a);
    }
    apr_pool_destroy(p);
    return 0;
}
