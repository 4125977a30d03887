/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Forms and queries (oac_form_decode / oac_form_encode / oac_form_set)
 * and the percent-encoding under them (oac_util_pct_*). Input: the form.
 */

#include "fuzz_common.h"
#include "oac_util.h"

static int upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* What oac_form_encode may write: unreserved bytes, %XX in uppercase hex,
 * and the separators. Anything else would change meaning on the wire. */
static void check_encoded_shape(const char *e)
{
    for (; *e; ++e) {
        if (*e == '%') {
            CHECK(upper_hex(e[1]) && upper_hex(e[2]));
            e += 2;
            continue;
        }
        CHECK(fuzz_unreserved((unsigned char)*e) || *e == '=' || *e == '&');
    }
}

/* The decoder's contract, checked from the outside: it fails exactly when
 * a '%' lacks two hex digits or encodes a NUL. */
static int pct_valid(const char *s)
{
    for (; *s; ++s) {
        if (*s == '%') {
            if (fuzz_hex((unsigned char)s[1]) < 0
                || fuzz_hex((unsigned char)s[2]) < 0
                || (s[1] == '0' && s[2] == '0')) {
                return 0;
            }
            s += 2;
        }
    }
    return 1;
}

static void check_pct(apr_pool_t *p, const char *s)
{
    const char *enc = oac_util_pct_encode(p, s), *err;
    char *dec;
    apr_status_t rv;

    CHECK(strcmp(enc, fuzz_pct_encode(p, s)) == 0);
    CHECK(oac_util_pct_decode(&dec, &err, p, enc, 0) == APR_SUCCESS);
    CHECK(strcmp(dec, s) == 0);
    CHECK(oac_util_pct_decode(&dec, &err, p, enc, 1) == APR_SUCCESS);
    CHECK(strcmp(dec, s) == 0);

    rv = oac_util_pct_decode(&dec, &err, p, s, 1);
    CHECK((rv == APR_SUCCESS) == pct_valid(s));
    if (rv == APR_SUCCESS) {
        CHECK(strlen(dec) <= strlen(s));
    }
}

static void check_form(apr_pool_t *p, const char *s, unsigned pick)
{
    apr_array_header_t *form, *again, *copy, *expect;
    const char *err = NULL, *e, *name;
    int i, seen;

    if (oac_form_decode(&form, &err, p, s) != APR_SUCCESS) {
        CHECK(err != NULL && fuzz_printable(err));
        return;
    }
    for (i = 0; i < form->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(form, i, oac_param_t);
        CHECK(kv->name && *kv->name && kv->value);
    }
    /* encode(decode(x)) is a fixed point, and decodes to the same list:
     * a form the module re-encodes means what the client sent. */
    e = oac_form_encode(p, form);
    check_encoded_shape(e);
    CHECK(oac_form_decode(&again, &err, p, e) == APR_SUCCESS);
    CHECK(fuzz_form_equal(form, again));
    CHECK(strcmp(oac_form_encode(p, again), e) == 0);

    if (form->nelts == 0) {
        CHECK(*e == '\0');
        return;
    }
    /* set: the first parameter of that name takes the new value where
     * it stands, later ones go, the others stay in order. */
    copy = apr_array_copy(p, form);
    expect = oac_form_make(p);
    name = APR_ARRAY_IDX(form, (int)(pick % (unsigned)form->nelts),
                         oac_param_t).name;
    for (i = 0, seen = 0; i < form->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(form, i, oac_param_t);

        if (strcmp(kv->name, name) != 0) {
            oac_form_add(expect, kv->name, kv->value);
        }
        else if (!seen++) {
            oac_form_add(expect, kv->name, "\x01set");
        }
    }
    oac_form_set(copy, name, "\x01set");
    CHECK(fuzz_form_equal(copy, expect));
    CHECK(fuzz_streq(oac_form_get(copy, name), "\x01set"));
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s;

    apr_pool_create(&p, NULL);
    s = apr_pstrmemdup(p, (const char *)data, size);
    check_pct(p, s);
    check_form(p, s, size ? data[size - 1] : 0);
    apr_pool_destroy(p);
    return 0;
}
