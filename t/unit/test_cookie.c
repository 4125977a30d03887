/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_cookie.c. Each expected result is httpd's
 * (ap_cookie_read's scan); every case is also run through the reference
 * copy of its algorithm (t/fuzz/cookie_ref.h) to keep the two in step. */

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

/* One header line: the value found and the duplicate flag, from
 * oac_cookie_scan and from the reference. */
static void expect(apr_pool_t *p, const char *header, const char *name,
                   const char *value, int dup)
{
    oac_cookie_found_t found = { NULL, 0 };
    const char *ref_value = NULL;
    int ref_dup = 0;

    oac_cookie_scan(p, header, name, &found);
    cookie_ref_scan(p, header, name, &ref_value, &ref_dup);
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
}

static void finds_the_cookie(void **state)
{
    apr_pool_t *p = *state;

    expect(p, "s=abc", "s", "abc", 0);
    expect(p, "a=1; s=abc; b=2", "s", "abc", 0);
    expect(p, "a=1", "s", NULL, 0);
    expect(p, "", "s", NULL, 0);
    /* the value runs to the end of its piece, spaces and all */
    expect(p, " s= x y ", "s", " x y ", 0);
    expect(p, "s=", "s", "", 0);
    expect(p, "s", "s", NULL, 0);
    /* ',' cuts as ';' does; empty pieces are skipped */
    expect(p, "a=1, s=2; b=3", "s", "2", 0);
    expect(p, ";; s=1;;, ,a=2", "s", "1", 0);
    expect(p, "s=1; $Path=/; a=2", "s", "1", 0);
}

static void only_that_name(void **state)
{
    apr_pool_t *p = *state;

    expect(p, "ss=1; s=2", "s", "2", 0);
    expect(p, "xs=1; S=2", "s", NULL, 0);
    expect(p, "session_b=1", "session", NULL, 0);
    expect(p, "s =1", "s", NULL, 0);
}

/* Two different values are flagged (the glue then leaves the request to
 * mod_session_cookie, which gives an empty session); the same value twice
 * is not. */
static void duplicates_are_flagged(void **state)
{
    apr_pool_t *p = *state;
    oac_cookie_found_t found = { NULL, 0 };

    expect(p, "s=1; s=2", "s", "2", 1);
    expect(p, "s=1; a=0; s=1", "s", "1", 0);
    expect(p, "s=1, s=", "s", "", 1);
    /* across header lines too */
    oac_cookie_scan(p, "s=1", "s", &found);
    oac_cookie_scan(p, "a=2; s=3", "s", &found);
    assert_string_equal(found.value, "3");
    assert_int_equal(found.duplicated, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(finds_the_cookie),
        T(only_that_name),
        T(duplicates_are_flagged),
    };

    return OAC_RUN_TESTS("oac_cookie", tests);
}
