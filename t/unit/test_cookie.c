/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_cookie.c. Each expected result is httpd's
 * (ap_cookie_read); every case is also run through the reference copy of
 * its algorithm (t/fuzz/cookie_ref.h) to keep the two in step. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "oac_cookie.h"
#include "../fuzz/cookie_ref.h"

/* One header line: the value found, the duplicate flag and the rewrite
 * (NULL: nothing left), from oac_cookie_scan and from the reference. */
static void expect(apr_pool_t *p, const char *header, const char *name,
                   const char *value, int dup, const char *rest)
{
    oac_cookie_found_t found = { NULL, 0 };
    const char *got_rest = "unset", *ref_value = NULL, *ref_rest = "unset";
    int ref_dup = 0;

    oac_cookie_scan(p, header, name, &found, &got_rest);
    cookie_ref_scan(p, header, name, &ref_value, &ref_dup, &ref_rest);
    if (value) {
        assert_non_null(found.value);
        assert_string_equal(found.value, value);
        assert_string_equal(ref_value, value);
    }
    else {
        assert_null(found.value);
        assert_null(ref_value);
    }
    assert_int_equal(found.duplicated, dup);
    assert_int_equal(ref_dup, dup);
    if (rest) {
        assert_non_null(got_rest);
        assert_string_equal(got_rest, rest);
        assert_string_equal(ref_rest, rest);
    }
    else {
        assert_null(got_rest);
        assert_null(ref_rest);
    }
}

static void finds_the_cookie(void **state)
{
    apr_pool_t *p = *state;

    expect(p, "s=abc", "s", "abc", 0, NULL);
    expect(p, "a=1; s=abc; b=2", "s", "abc", 0, "a=1; b=2");
    expect(p, "a=1", "s", NULL, 0, "a=1");
    expect(p, "", "s", NULL, 0, NULL);
    /* the value runs to the end of its piece, spaces and all */
    expect(p, " s= x y ", "s", " x y ", 0, NULL);
    expect(p, "s=", "s", "", 0, NULL);
    expect(p, "s", "s", NULL, 0, "s");
}

static void only_that_name(void **state)
{
    apr_pool_t *p = *state;

    expect(p, "ss=1; s=2", "s", "2", 0, "ss=1");
    expect(p, "xs=1; S=2", "s", NULL, 0, "xs=1; S=2");
    expect(p, "session_b=1", "session", NULL, 0, "session_b=1");
}

static void the_last_one_wins(void **state)
{
    apr_pool_t *p = *state;
    oac_cookie_found_t found = { NULL, 0 };

    expect(p, "s=1; s=2", "s", "2", 1, NULL);
    expect(p, "s=1; a=0; s=1", "s", "1", 0, "; a=0");
    /* across header lines too */
    oac_cookie_scan(p, "s=1", "s", &found, NULL);
    oac_cookie_scan(p, "a=2; s=3", "s", &found, NULL);
    assert_string_equal(found.value, "3");
    assert_int_equal(found.duplicated, 1);
}

/* The rewrite keeps httpd's quirks: the separator in force is written
 * even after a removed first cookie, and '$' attributes go with the cookie
 * before them. */
static void rewrites_like_httpd(void **state)
{
    apr_pool_t *p = *state;

    expect(p, "s=abc; a=1", "s", "abc", 0, "; a=1");
    expect(p, "s=1; $Path=/; a=2", "s", "1", 0, "; a=2");
    expect(p, "a=1; $Path=/", "s", NULL, 0, "a=1; $Path=/");
    expect(p, "a=1, b=2", "s", NULL, 0, "a=1, b=2");
    expect(p, "a=1, s=2; b=3", "s", "2", 0, "a=1; b=3");
    expect(p, ";; s=1;;, ,a=2", "s", "1", 0, ", ,a=2");
    /* a piece of spaces counts as a cookie, as in httpd */
    expect(p, "  ", "s", NULL, 0, "  ");
    expect(p, "$Version=1", "s", NULL, 0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(finds_the_cookie),
        T(only_that_name),
        T(the_last_one_wins),
        T(rewrites_like_httpd),
    };

    return OAC_RUN_TESTS("oac_cookie", tests);
}
