/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The session cookie reader (oac_cookie_scan) against httpd's own
 * algorithm (cookie_ref.h): the same value and the same duplicate flag,
 * line after line. Input: the cookie name, then up to eleven Cookie header
 * lines, NUL-separated.
 */

#include "fuzz_common.h"
#include "cookie_ref.h"
#include "oac_cookie.h"

FUZZ_APR_INITIALIZE

/* What mod_session_cookie accepts as a name: its first word, not empty,
 * without '=', ';' or '&' (ap_cookie_check_string). */
static int valid_name(const char *name)
{
    return *name && !strpbrk(name, "=;& \t");
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_parts_t in;
    oac_cookie_found_t found = { NULL, 0 };
    const char *ref_value = NULL;
    int ref_dup = 0, i;

    apr_pool_create(&p, NULL);
    fuzz_split(&in, p, data, size);
    if (!valid_name(in.part[0])) {
        apr_pool_destroy(p);
        return 0;
    }
    for (i = 1; i < in.n; ++i) {
        oac_cookie_scan(p, in.part[i], in.part[0], &found);
        cookie_ref_scan(p, in.part[i], in.part[0], &ref_value, &ref_dup);
        CHECK(same(found.value, ref_value));
        CHECK(found.duplicated == ref_dup);
    }
    apr_pool_destroy(p);
    return 0;
}
