/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_redirect.c: the open-redirect defence of `next`. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oac_redirect.h"

static void check_all(const char *const *cases, size_t n, int expected)
{
    size_t i;

    for (i = 0; i < n; ++i) {
        if (oac_redirect_is_local(cases[i]) != expected) {
            fail_msg("oac_redirect_is_local(\"%s\") should be %d",
                     cases[i] ? cases[i] : "(NULL)", expected);
        }
    }
}

static void good_paths(void **state)
{
    static const char *const good[] = {
        "/",
        "/app",
        "/app/",
        "/app/page?x=1&y=%2F#frag",
        "/caf%C3%A9",
        "/app?x=1#y",
        "/a/b/c.html",
        "/my%20docs",
        "/search?q=a+b",
        "/app?next=//evil.com",          /* '//' inside the query is data */
        "/app?u=https://evil.com",
        "/a//b",                          /* '//' after the first segment */
        "/javascript:alert(1)",           /* a path on this host */
        "/100%25",                        /* decodes to "/100%": data */
        "/%7Euser",
        "/.well-known/x",
        "/x?%2F%2F",                      /* decoded "//" not at the start */
        "/?",
        "/#",
    };

    (void)state;
    check_all(good, sizeof(good) / sizeof(good[0]), 1);
}

static void attack_strings(void **state)
{
    static const char *const bad[] = {
        NULL,
        "",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "/\\/evil",
        "\\\\evil.com",
        "\\/evil.com",
        "https://evil",
        "http://evil.com/",
        "HTTPS://evil.com",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "evil.com",
        "app",
        "./app",
        "../app",
        "?x=1",
        "#frag",
        "/%2F%2Fevil.com",
        "/%2f%2fevil.com",
        "/%2Fevil.com",                   /* decoded "//evil.com" */
        "/%5Cevil",
        "/%5cevil",
        "/app/%5Cx",                      /* a decoded backslash anywhere */
        "/ok\r\nSet-Cookie: x",
        "/ok%0d%0aSet-Cookie:%20x",
        "/ok%0D%0ASet-Cookie:%20x",
        "/ok?x=%0d%0a",                   /* %0d%0a anywhere, query too */
        "/ok#%0a",
        "/%09/evil",
        "/\t/evil",
        "/%0a/evil",
        "/%00",
        "/ok%00.html",
        "/%7F",
        "/%1B[31m",
        " /x",
        "/x y",
        "/x\ty",
        "/x\x7fy",
        "/x\x01y",
        "/\xEF\xBC\x8F" "evil.com",       /* raw U+FF0F FULLWIDTH SOLIDUS */
        "/caf\xC3\xA9",                   /* raw non-ASCII must be encoded */
        "/x\\y",
        "/%",
        "/%2",
        "/%zz",
        "/%G0",
        "/%252F%252Fevil.com",            /* double-encoded "//" */
        "/%255Cevil",                     /* double-encoded '\' */
        "/%250d%250a",                    /* double-encoded CR LF */
        "/%25252F%25252Fevil",            /* triple-encoded "//" */
        "/%2500",                         /* double-encoded NUL */
    };

    (void)state;
    check_all(bad, sizeof(bad) / sizeof(bad[0]), 0);
}

static void length_limit(void **state)
{
    char buf[OAC_REDIRECT_MAX_LEN + 2];

    (void)state;
    memset(buf, 'a', sizeof(buf));
    buf[0] = '/';
    buf[OAC_REDIRECT_MAX_LEN] = '\0';
    assert_int_equal(strlen(buf), 1024);
    assert_int_equal(oac_redirect_is_local(buf), 1);
    buf[OAC_REDIRECT_MAX_LEN] = 'a';
    buf[OAC_REDIRECT_MAX_LEN + 1] = '\0';
    assert_int_equal(strlen(buf), 1025);
    assert_int_equal(oac_redirect_is_local(buf), 0);
}

/* Decoding rounds stop at three: a fourth level of encoding is data. */
static void decoding_depth(void **state)
{
    (void)state;
    assert_int_equal(oac_redirect_is_local("/%2525252F%2525252Fevil"), 1);
    assert_int_equal(oac_redirect_is_local("/%25252F%25252Fevil"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_paths),
        cmocka_unit_test(attack_strings),
        cmocka_unit_test(length_limit),
        cmocka_unit_test(decoding_depth),
    };

    return cmocka_run_group_tests_name("oac_redirect", tests, NULL, NULL);
}
