/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_form.c */

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

#include "oac_form.h"

static void assert_param(const apr_array_header_t *form, int i,
                         const char *name, const char *value)
{
    const oac_param_t *params = (const oac_param_t *)form->elts;

    assert_true(i < form->nelts);
    assert_string_equal(params[i].name, name);
    assert_string_equal(params[i].value, value);
}

static apr_array_header_t *decode_ok(apr_pool_t *p, const char *s)
{
    apr_array_header_t *form = NULL;
    const char *err = NULL;

    assert_int_equal(oac_form_decode(&form, &err, p, s), APR_SUCCESS);
    assert_null(err);
    assert_non_null(form);
    return form;
}

static void make_add_get(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *form = oac_form_make(p);

    assert_int_equal(form->nelts, 0);
    assert_int_equal(form->elt_size, sizeof(oac_param_t));
    assert_null(oac_form_get(form, "a"));
    oac_form_add(form, "a", "1");
    oac_form_add(form, "b", "");
    oac_form_add(form, "a", "2");
    assert_int_equal(form->nelts, 3);
    assert_string_equal(oac_form_get(form, "a"), "1");
    assert_string_equal(oac_form_get(form, "b"), "");
    assert_null(oac_form_get(form, "A"));
    assert_param(form, 2, "a", "2");
    assert_int_equal(oac_form_count(form, "a"), 2);
    assert_int_equal(oac_form_count(form, "b"), 1);
    assert_int_equal(oac_form_count(form, "A"), 0);
    assert_int_equal(oac_form_count(NULL, "a"), 0);
}

static void set_replaces_first_and_drops_duplicates(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *form = oac_form_make(p);

    oac_form_add(form, "a", "1");
    oac_form_add(form, "b", "2");
    oac_form_add(form, "a", "3");
    oac_form_add(form, "c", "4");
    oac_form_add(form, "a", "5");
    oac_form_set(form, "a", "X");
    assert_int_equal(form->nelts, 3);
    assert_param(form, 0, "a", "X");
    assert_param(form, 1, "b", "2");
    assert_param(form, 2, "c", "4");
    oac_form_set(form, "d", "9");
    assert_int_equal(form->nelts, 4);
    assert_param(form, 3, "d", "9");
    oac_form_set(form, "c", "");
    assert_int_equal(form->nelts, 4);
    assert_param(form, 2, "c", "");
    assert_string_equal(oac_form_encode(p, form), "a=X&b=2&c=&d=9");
}

static void encode_cases(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *form = oac_form_make(p);

    assert_string_equal(oac_form_encode(p, form), "");
    assert_string_equal(oac_form_encode(p, NULL), "");
    oac_form_add(form, "a", "1");
    assert_string_equal(oac_form_encode(p, form), "a=1");
    oac_form_add(form, "b", "2");
    assert_string_equal(oac_form_encode(p, form), "a=1&b=2");

    form = oac_form_make(p);
    oac_form_add(form, "q", "a b+c");
    oac_form_add(form, "x=y", "1&2=3");
    oac_form_add(form, "empty", "");
    oac_form_add(form, "null", NULL);
    oac_form_add(form, "scope", "openid profile");
    oac_form_add(form, "redirect_uri", "https://c.example/cb?x=1");
    oac_form_add(form, "\xC3\xA9", "~*");
    assert_string_equal(oac_form_encode(p, form),
                        "q=a%20b%2Bc&x%3Dy=1%262%3D3&empty=&null="
                        "&scope=openid%20profile"
                        "&redirect_uri=https%3A%2F%2Fc.example%2Fcb%3Fx%3D1"
                        "&%C3%A9=~%2A");
}

static void decode_order_and_duplicates(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *form = decode_ok(p, "a=1&b=2&a=3");

    assert_int_equal(form->nelts, 3);
    assert_param(form, 0, "a", "1");
    assert_param(form, 1, "b", "2");
    assert_param(form, 2, "a", "3");
    assert_string_equal(oac_form_get(form, "a"), "1");
}

static void decode_edge_cases(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *form;

    form = decode_ok(p, "a");
    assert_int_equal(form->nelts, 1);
    assert_param(form, 0, "a", "");

    form = decode_ok(p, "a=&b");
    assert_int_equal(form->nelts, 2);
    assert_param(form, 0, "a", "");
    assert_param(form, 1, "b", "");

    form = decode_ok(p, "a=1&&b=2&");
    assert_int_equal(form->nelts, 2);
    assert_param(form, 0, "a", "1");
    assert_param(form, 1, "b", "2");

    form = decode_ok(p, "&&&");
    assert_int_equal(form->nelts, 0);
    form = decode_ok(p, "");
    assert_int_equal(form->nelts, 0);
    form = decode_ok(p, NULL);
    assert_int_equal(form->nelts, 0);

    form = decode_ok(p, "q=a+b%20c%2Bd&x=a=b&a%20b+c=%3d");
    assert_int_equal(form->nelts, 3);
    assert_param(form, 0, "q", "a b c+d");
    assert_param(form, 1, "x", "a=b");
    assert_param(form, 2, "a b c", "=");

    form = decode_ok(p, "name=%C3%A9t%C3%A9");
    assert_param(form, 0, "name", "\xC3\xA9t\xC3\xA9");
}

static void assert_decode_fails(apr_pool_t *p, const char *s,
                                const char *expected_err)
{
    apr_array_header_t *sentinel = oac_form_make(p), *form = sentinel;
    const char *err = NULL;

    assert_int_equal(oac_form_decode(&form, &err, p, s), APR_EINVAL);
    assert_ptr_equal(form, sentinel);
    assert_string_equal(err, expected_err);
}

static void decode_errors(void **state)
{
    apr_pool_t *p = *state;

    assert_decode_fails(p, "=x", "form has a parameter with an empty name");
    assert_decode_fails(p, "a=1&=2",
                        "form has a parameter with an empty name");
    assert_decode_fails(p, "=", "form has a parameter with an empty name");
    assert_decode_fails(p, "a=1&code=%zz",
                        "value of form parameter 'code': malformed "
                        "percent-encoding at offset 0");
    assert_decode_fails(p, "state=ab%4",
                        "value of form parameter 'state': malformed "
                        "percent-encoding at offset 2");
    assert_decode_fails(p, "x=%00",
                        "value of form parameter 'x': percent-encoded NUL "
                        "byte at offset 0");
    assert_decode_fails(p, "b%4=1",
                        "form parameter name 'b%4': malformed "
                        "percent-encoding at offset 1");
    assert_decode_fails(p, "a\x01%=1",
                        "form parameter name 'a?%': malformed "
                        "percent-encoding at offset 2");
}

static void round_trip(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *in = oac_form_make(p), *out;
    const oac_param_t *a, *b;
    int i;

    oac_form_add(in, "a", "1");
    oac_form_add(in, "a", "");
    oac_form_add(in, "b", "x y+z");
    oac_form_add(in, "a", "=&?#%");
    oac_form_add(in, "e m", "\xF0\x9F\x98\x80");
    oac_form_add(in, "+", "~-._*");
    out = decode_ok(p, oac_form_encode(p, in));
    assert_int_equal(out->nelts, in->nelts);
    a = (const oac_param_t *)in->elts;
    b = (const oac_param_t *)out->elts;
    for (i = 0; i < in->nelts; ++i) {
        assert_string_equal(b[i].name, a[i].name);
        assert_string_equal(b[i].value, a[i].value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(make_add_get),
        T(set_replaces_first_and_drops_duplicates),
        T(encode_cases),
        T(decode_order_and_duplicates),
        T(decode_edge_cases),
        T(decode_errors),
        T(round_trip),
    };

    return OAC_RUN_TESTS("oac_form", tests);
}
