/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_pending.c: logins in flight in the session. */

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

#include "oac_pending.h"

#define NOW APR_INT64_C(1700000000)

static apr_array_header_t *decode_ok(apr_pool_t *p, const char *s,
                                     apr_int64_t now)
{
    apr_array_header_t *list = NULL;
    const char *err = NULL;

    if (oac_pending_decode(&list, &err, p, s, now) != APR_SUCCESS) {
        fail_msg("decode failed: %s", err);
    }
    assert_non_null(list);
    return list;
}

static const oac_pending_t *entry(const apr_array_header_t *list, int i)
{
    assert_true(i < list->nelts);
    return &APR_ARRAY_IDX(list, i, oac_pending_t);
}

static oac_pending_t make(const char *state, const char *verifier,
                          const char *next, const char *secret,
                          apr_int64_t expires_at)
{
    oac_pending_t e;

    e.state = state;
    e.verifier = verifier;
    e.next = next;
    e.secret = secret;
    e.expires_at = expires_at;
    return e;
}

static void empty_inputs(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(decode_ok(p, NULL, NOW)->nelts, 0);
    assert_int_equal(decode_ok(p, "", NOW)->nelts, 0);
    assert_string_equal(oac_pending_encode(p, NULL), "");
    assert_string_equal(oac_pending_encode(p, decode_ok(p, "", NOW)), "");
}

static void exact_encoding(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    oac_pending_t a = make("st1", "ver1", "/app?x=1", NULL, NOW + 600);
    oac_pending_t b = make("rt", NULL, NULL, "rts", NOW + 300);

    oac_pending_add(list, &a, 8);
    oac_pending_add(list, &b, 8);
    /* the token's stored form: '.' before each field, *XX for bytes
     * outside [A-Za-z0-9_-], an empty field for NULL */
    assert_string_equal(oac_pending_encode(p, list),
        "P.st1.ver1.*2Fapp*3Fx*3D1..1700000600"
        ".rt...rts.1700000300");
}

static void round_trip(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    oac_pending_t a = make("s-A_1", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                           "/caf%C3%A9#x", NULL, NOW + 600);
    oac_pending_t b = make("s\"B\\", NULL, NULL, "sec\xC3\xA9", NOW + 1);
    const oac_pending_t *e;

    oac_pending_add(list, &a, 8);
    oac_pending_add(list, &b, 8);
    list = decode_ok(p, oac_pending_encode(p, list), NOW);
    assert_int_equal(list->nelts, 2);
    e = entry(list, 0);
    assert_string_equal(e->state, "s-A_1");
    assert_string_equal(e->verifier,
                        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_string_equal(e->next, "/caf%C3%A9#x");
    assert_null(e->secret);
    assert_int_equal(e->expires_at, NOW + 600);
    e = entry(list, 1);
    assert_string_equal(e->state, "s\"B\\");
    assert_null(e->verifier);
    assert_null(e->next);
    assert_string_equal(e->secret, "sec\xC3\xA9");
    assert_int_equal(e->expires_at, NOW + 1);
}

static void decode_drops_expired(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = decode_ok(p,
        "P.old....1699999999"
        ".edge....1700000000"
        ".live.v...1700000001"
        ".x....1800000000", NOW);

    assert_int_equal(list->nelts, 2);
    assert_string_equal(entry(list, 0)->state, "live");
    assert_string_equal(entry(list, 0)->verifier, "v");
    assert_string_equal(entry(list, 1)->state, "x");
    assert_null(entry(list, 1)->next);
    /* "*" is the empty string, not a missing value */
    list = decode_ok(p, "P.a.*...1800000000", NOW);
    assert_string_equal(entry(list, 0)->verifier, "");
}

static void decode_garbage(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in;
        const char *err;
    } cases[] = {
        { "x", "pending logins are not in the module's form" },
        { "[{\"s\":\"a\",\"e\":1800000000}]",
          "pending logins are not in the module's form" },
        { "P", "pending logins are not in the module's form" },
        { "Px.a....1800000000", "pending logins are not in the module's form" },
        { "P.a...1800000000", "pending logins do not have 5 fields per entry" },
        { "P.a....1800000000.b", "pending logins do not have 5 fields per "
          "entry" },
        { "P.....1800000000", "pending login entry has an empty state" },
        { "P.*....1800000000", "pending login entry has an empty state" },
        { "P.a.v%20....1800000000", "pending login field 'verifier' is not "
          "valid" },
        { "P.a.x.y.z.1800000000.b.*0....1", "pending login field 'verifier' "
          "is not valid" },
        { "P.a.*00...1800000000", "pending login field 'verifier' is not "
          "valid" },
        { "P.a....", "pending login entry has no valid expiry" },
        { "P.a....1800000000x", "pending login entry has no valid expiry" },
        { "P.a....0", "pending login entry has no valid expiry" },
        { "P.a....*2D1", "pending login entry has no valid expiry" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        apr_array_header_t sentinel, *list = &sentinel;
        const char *err = NULL;

        assert_int_equal(oac_pending_decode(&list, &err, p, cases[i].in,
                                            NOW), APR_EINVAL);
        assert_ptr_equal(list, &sentinel);
        assert_string_equal(err, cases[i].err);
    }
}

/* An error names the field, never its value: it may be a verifier. */
static void decode_error_quotes_nothing(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list;
    const char *err = NULL;

    assert_int_equal(oac_pending_decode(&list, &err, p,
                                        "P.s.SECRETVERIFIER%...1", NOW),
                     APR_EINVAL);
    assert_null(strstr(err, "SECRETVERIFIER"));
}

static void add_caps_the_list(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    char name[8];
    int i;

    for (i = 0; i < 5; ++i) {
        oac_pending_t e;

        apr_snprintf(name, sizeof(name), "s%d", i);
        e = make(name, NULL, NULL, NULL, NOW + 10);
        oac_pending_add(list, &e, 3);
    }
    /* the strings were copied: name is reused for every entry */
    assert_int_equal(list->nelts, 3);
    assert_string_equal(entry(list, 0)->state, "s2");
    assert_string_equal(entry(list, 1)->state, "s3");
    assert_string_equal(entry(list, 2)->state, "s4");
    {
        oac_pending_t e = make("only", NULL, NULL, NULL, NOW + 10);

        oac_pending_add(list, &e, 0);
        assert_int_equal(list->nelts, 1);
        assert_string_equal(entry(list, 0)->state, "only");
    }
}

static void take_is_single_use(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    oac_pending_t a = make("tab1", "v1", "/one", NULL, NOW + 10);
    oac_pending_t b = make("tab2", "v2", "/two", NULL, NOW + 20);
    oac_pending_t c = make("tab3", NULL, NULL, "sec3", NOW + 30);
    oac_pending_t out = make("untouched", NULL, NULL, NULL, 7);

    oac_pending_add(list, &a, 8);
    oac_pending_add(list, &b, 8);
    oac_pending_add(list, &c, 8);

    assert_int_equal(oac_pending_take(&out, list, "tab2"), 1);
    assert_string_equal(out.state, "tab2");
    assert_string_equal(out.verifier, "v2");
    assert_string_equal(out.next, "/two");
    assert_null(out.secret);
    assert_int_equal(out.expires_at, NOW + 20);
    assert_int_equal(list->nelts, 2);
    assert_string_equal(entry(list, 0)->state, "tab1");
    assert_string_equal(entry(list, 1)->state, "tab3");

    /* spent */
    out = make("untouched", NULL, NULL, NULL, 7);
    assert_int_equal(oac_pending_take(&out, list, "tab2"), 0);
    assert_string_equal(out.state, "untouched");
    assert_int_equal(out.expires_at, 7);

    assert_int_equal(oac_pending_take(&out, list, "tab3"), 1);
    assert_string_equal(out.secret, "sec3");
    assert_int_equal(oac_pending_take(&out, list, "tab1"), 1);
    assert_string_equal(out.verifier, "v1");
    assert_int_equal(list->nelts, 0);
    assert_string_equal(oac_pending_encode(p, list), "");
}

static void take_misses(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = decode_ok(p, "P.abc....1800000000", NOW);
    oac_pending_t out = make("untouched", NULL, NULL, NULL, 7);

    assert_int_equal(oac_pending_take(&out, list, NULL), 0);
    assert_int_equal(oac_pending_take(&out, list, ""), 0);
    assert_int_equal(oac_pending_take(&out, list, "ab"), 0);
    assert_int_equal(oac_pending_take(&out, list, "abcd"), 0);
    assert_int_equal(oac_pending_take(&out, list, "ABC"), 0);
    assert_string_equal(out.state, "untouched");
    assert_int_equal(list->nelts, 1);
}

/* Entries that could never be taken back are not written; any byte but
 * NUL can be (no UTF-8 rule, as JSON had). */
static void encode_skips_unusable(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    oac_pending_t nostate = make(NULL, "v", NULL, NULL, NOW + 10);
    oac_pending_t emptystate = make("", "v", NULL, NULL, NOW + 10);
    oac_pending_t binary = make("s1", NULL, "/\xFF", NULL, NOW + 10);

    oac_pending_add(list, &nostate, 8);
    oac_pending_add(list, &emptystate, 8);
    assert_string_equal(oac_pending_encode(p, list), "");
    oac_pending_add(list, &binary, 8);
    assert_string_equal(oac_pending_encode(p, list),
                        "P.s1..*2F*FF..1700000010");
    list = decode_ok(p, oac_pending_encode(p, list), NOW);
    assert_string_equal(entry(list, 0)->next, "/\xFF");
}

/* mod_session URL-encodes what it stores; the stored form needs none of
 * it, and the size says so. */
static void stored_size_counts_url_encoding(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(oac_pending_t));
    oac_pending_t e = { "s", NULL, NULL, NULL, NOW + 10 };

    assert_int_equal(oac_pending_stored_size(p, list), 0);
    oac_pending_add(list, &e, 8);
    assert_string_equal(oac_pending_encode(p, list), "P.s....1700000010");
    assert_int_equal(oac_pending_stored_size(p, list), 17);
}

static apr_array_header_t *list_of(apr_pool_t *p, int n, apr_int64_t first,
                                   const char *next)
{
    apr_array_header_t *list = apr_array_make(p, n, sizeof(oac_pending_t));
    int i;

    for (i = 0; i < n; ++i) {
        oac_pending_t e = { NULL, NULL, next, NULL, first + i };
        e.state = apr_psprintf(p, "state-%" APR_INT64_T_FMT, first + i);
        oac_pending_add(list, &e, 100);
    }
    return list;
}

/* The oldest entries go first, from whichever app they belong to, and
 * the login being started stays. */
static void fit_drops_the_oldest_across_apps(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *lists[3];
    int changed[3] = { 0, 0, 0 };
    apr_size_t budget;
    const oac_pending_t *e;

    lists[0] = list_of(p, 3, NOW + 100, "/a");     /* oldest three */
    lists[1] = list_of(p, 3, NOW + 200, "/b");
    lists[2] = list_of(p, 1, NOW + 300, "/c");     /* the new login */
    /* room for exactly four of the seven (all entries have one size) */
    budget = 4 * oac_pending_stored_size(p, list_of(p, 1, NOW + 100, "/a"))
             + 20;
    oac_pending_fit(p, lists, 3, 2, budget, changed);
    assert_int_equal(lists[0]->nelts, 0);
    assert_int_equal(lists[1]->nelts, 3);
    assert_int_equal(lists[2]->nelts, 1);
    assert_int_equal(changed[0], 1);
    assert_int_equal(changed[1], 0);
    assert_int_equal(changed[2], 0);
    e = (const oac_pending_t *)lists[2]->elts;
    assert_string_equal(e[0].next, "/c");
    assert_true(oac_pending_stored_size(p, lists[0])
                + oac_pending_stored_size(p, lists[1])
                + oac_pending_stored_size(p, lists[2]) <= budget);
}

/* A new login too large on its own keeps its state but not its next. */
static void fit_forgets_next_of_an_oversized_login(void **state)
{
    apr_pool_t *p = *state;
    char next[1025];
    apr_array_header_t *lists[2];
    int changed[2] = { 0, 0 };
    const oac_pending_t *e;

    memset(next, '/', sizeof(next) - 1);   /* "//..." is not local, but
                                              the budget does not care */
    next[0] = '/';
    next[sizeof(next) - 1] = '\0';
    lists[0] = list_of(p, 5, NOW + 100, "/x");
    lists[1] = list_of(p, 1, NOW + 200, next);
    oac_pending_fit(p, lists, 2, 1, 1000, changed);
    assert_int_equal(lists[0]->nelts, 0);
    assert_int_equal(lists[1]->nelts, 1);
    e = (const oac_pending_t *)lists[1]->elts;
    assert_string_equal(e[0].state, "state-1700000200");
    assert_null(e[0].next);
    assert_int_equal(changed[0], 1);
    assert_int_equal(changed[1], 1);
    assert_true(oac_pending_stored_size(p, lists[1]) <= 1000);
}

/* Within budget nothing changes. */
static void fit_leaves_what_fits(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *lists[2];
    int changed[2] = { 0, 0 };

    lists[0] = list_of(p, 2, NOW + 100, "/x");
    lists[1] = list_of(p, 1, NOW + 200, "/y");
    oac_pending_fit(p, lists, 2, 1, 2048, changed);
    assert_int_equal(lists[0]->nelts, 2);
    assert_int_equal(lists[1]->nelts, 1);
    assert_int_equal(changed[0] + changed[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(empty_inputs),
        T(exact_encoding),
        T(round_trip),
        T(decode_drops_expired),
        T(decode_garbage),
        T(decode_error_quotes_nothing),
        T(add_caps_the_list),
        T(take_is_single_use),
        T(take_misses),
        T(encode_skips_unusable),
        T(stored_size_counts_url_encoding),
        T(fit_drops_the_oldest_across_apps),
        T(fit_forgets_next_of_an_oversized_login),
        T(fit_leaves_what_fits),
    };

    return OAC_RUN_TESTS("oac_pending", tests);
}
