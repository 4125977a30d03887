/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_url.c */

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
#include "oac_url.h"

/* ---- oac_url_check ---------------------------------------------------- */

static apr_uri_t check_ok(apr_pool_t *p, const char *url)
{
    apr_uri_t uri;
    const char *err = NULL;

    memset(&uri, 0, sizeof(uri));
    assert_int_equal(oac_url_check(&uri, &err, p, url), APR_SUCCESS);
    assert_null(err);
    return uri;
}

static void check_accepts(void **state)
{
    apr_pool_t *p = *state;
    apr_uri_t u;

    u = check_ok(p, "https://example.com");
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.hostname, "example.com");
    assert_null(u.path);

    u = check_ok(p, "http://example.com:8080/a/b?c=d&e=f");
    assert_string_equal(u.hostname, "example.com");
    assert_string_equal(u.port_str, "8080");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/a/b");
    assert_string_equal(u.query, "c=d&e=f");

    u = check_ok(p, "HTTPS://Example.COM/x");
    assert_string_equal(u.scheme, "HTTPS");
    assert_string_equal(u.path, "/x");

    u = check_ok(p, "http://[::1]:8080/x");
    assert_string_equal(u.hostname, "::1");
    assert_int_equal(u.port, 8080);

    u = check_ok(p, "https://h:65535/");
    assert_int_equal(u.port, 65535);

    u = check_ok(p, "https://api.github.com/user?x=%20%2F");
    assert_string_equal(u.query, "x=%20%2F");
}

static void assert_check_fails(apr_pool_t *p, const char *url,
                               const char *expected_err)
{
    apr_uri_t uri;
    const char *err = NULL;

    memset(&uri, 0, sizeof(uri));
    uri.hostname = "sentinel";
    assert_int_equal(oac_url_check(&uri, &err, p, url), APR_EINVAL);
    assert_string_equal(uri.hostname, "sentinel");
    assert_non_null(err);
    assert_string_equal(err, expected_err);
}

#define NOT_ABSOLUTE "URL is not absolute (it has no scheme); expected " \
                     "http://... or https://..."
#define BAD_PORT "URL has an invalid port (expected a number 1..65535)"

static void check_rejects(void **state)
{
    apr_pool_t *p = *state;

    assert_check_fails(p, NULL, "URL is empty");
    assert_check_fails(p, "", "URL is empty");
    assert_check_fails(p, "ftp://example.com/file",
                       "URL scheme 'ftp' is not http or https");
    assert_check_fails(p, "mailto:a@example.com",
                       "URL scheme 'mailto' is not http or https");
    assert_check_fails(p, "/relative/path", NOT_ABSOLUTE);
    assert_check_fails(p, "example.com/x", NOT_ABSOLUTE);
    assert_check_fails(p, "//example.com/x", NOT_ABSOLUTE);
    assert_check_fails(p, "http:///x", "URL has no host");
    assert_check_fails(p, "http:/x", "URL has no host");
    assert_check_fails(p, "https://user:pw@example.com/",
                       "credentials in URLs are not allowed");
    assert_check_fails(p, "https://user@example.com/",
                       "credentials in URLs are not allowed");
    assert_check_fails(p, "https://@example.com/",
                       "credentials in URLs are not allowed");
    assert_check_fails(p, "https://example.com/#frag",
                       "URL must not have a fragment ('#...')");
    assert_check_fails(p, "https://example.com/#",
                       "URL must not have a fragment ('#...')");
    assert_check_fails(p, "https://example.com/a b",
                       "URL contains whitespace or a control character at "
                       "offset 21");
    assert_check_fails(p, " https://example.com/",
                       "URL contains whitespace or a control character at "
                       "offset 0");
    assert_check_fails(p, "https://example.com/\t",
                       "URL contains whitespace or a control character at "
                       "offset 20");
    assert_check_fails(p, "https://example.com/\r\nX: y",
                       "URL contains whitespace or a control character at "
                       "offset 20");
    assert_check_fails(p, "https://example.com/\x7f",
                       "URL contains whitespace or a control character at "
                       "offset 20");
    assert_check_fails(p, "https://example.com:abc/", BAD_PORT);
    assert_check_fails(p, "https://example.com:70000/", BAD_PORT);
    assert_check_fails(p, "https://example.com:0/", BAD_PORT);
    assert_check_fails(p, "https://example.com:/", BAD_PORT);
    assert_check_fails(p, "https://example.com:80:90/", BAD_PORT);
    assert_check_fails(p, "https://example.com\\@evil.com/",
                       "credentials in URLs are not allowed");
    assert_check_fails(p, "https://exa<mple.com/",
                       "URL host contains an invalid character");
    assert_check_fails(p, "https://[::1/", "URL cannot be parsed");
}

static void check_error_does_not_quote_secrets(void **state)
{
    apr_pool_t *p = *state;
    apr_uri_t uri;
    const char *err = NULL;

    assert_int_equal(oac_url_check(&uri, &err, p,
                                   "https://u:S3CRET@h/?key=S3CRET"),
                     APR_EINVAL);
    assert_null(strstr(err, "S3CRET"));
    assert_int_equal(oac_url_check(&uri, &err, p,
                                   "https://h/?key=S3CRET x"),
                     APR_EINVAL);
    assert_null(strstr(err, "S3CRET"));
}

/* ---- oac_url_join ----------------------------------------------------- */

static void assert_join(apr_pool_t *p, const char *base, const char *rel,
                        const char *expected)
{
    char *out = NULL;
    const char *err = NULL;

    assert_int_equal(oac_url_join(&out, &err, p, base, rel), APR_SUCCESS);
    assert_null(err);
    assert_string_equal(out, expected);
    /* a relative path joins the same way through the proxy variant */
    if (rel && !strstr(rel, "://")) {
        assert_int_equal(oac_url_join_path(&out, &err, p, base, rel),
                         APR_SUCCESS);
        assert_string_equal(out, expected);
    }
}

static void assert_join_fails(apr_pool_t *p, const char *base,
                              const char *rel, const char *expected_err)
{
    char sentinel[] = "unchanged", *out = sentinel;
    const char *err = NULL;

    assert_int_equal(oac_url_join(&out, &err, p, base, rel), APR_EINVAL);
    assert_ptr_equal(out, sentinel);
    assert_string_equal(err, expected_err);
}

static void join_examples(void **state)
{
    apr_pool_t *p = *state;

    assert_join(p, "https://api.github.com", "user/repos?page=2",
                "https://api.github.com/user/repos?page=2");
    assert_join(p, "https://api.x.com/1.1/", "/statuses/home.json",
                "https://api.x.com/1.1/statuses/home.json");
    assert_join(p, "https://api.x.com/1.1", "statuses",
                "https://api.x.com/1.1/statuses");
    assert_join(p, "https://a/b/", "", "https://a/b/");
    assert_join(p, "https://a/b", NULL, "https://a/b/");
    assert_join(p, "https://a", "", "https://a/");
    assert_join(p, "https://a/b", "//c//d", "https://a/b/c//d");
    assert_join(p, "https://a:8443/v2/", "x?q=a/../b&r=./c",
                "https://a:8443/v2/x?q=a/../b&r=./c");
    assert_join(p, "https://a/b", "?page=2", "https://a/b/?page=2");
    assert_join(p, "https://a/b", "...", "https://a/b/...");
    assert_join(p, "https://a/b", ".well-known/x..y",
                "https://a/b/.well-known/x..y");
    assert_join(p, "https://a/b", "repos/o/r:1/%2Ex",
                "https://a/b/repos/o/r:1/%2Ex");
}

static void join_absolute_rel(void **state)
{
    apr_pool_t *p = *state;

    assert_join(p, "https://api.example.com/v1",
                "https://other.example.com/me?fields=id",
                "https://other.example.com/me?fields=id");
    assert_join(p, "https://api.example.com", "HTTP://x.example/",
                "HTTP://x.example/");
    assert_join_fails(p, "https://api.example.com", "ftp://x.example/",
                      "URL scheme 'ftp' is not http or https");
    assert_join_fails(p, "https://api.example.com", "https://u:p@x/",
                      "credentials in URLs are not allowed");
    /* per RFC 3986 a colon in the first segment makes it a scheme */
    assert_join_fails(p, "https://api.example.com", "user:email",
                      "URL scheme 'user' is not http or https");
}

static void join_rejects_dot_segments(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "..", "../x", "a/..", "a/../b", ".", "./a", "a/.", "a/./b",
        "/../etc/passwd", "%2e%2e", "%2E%2e/x", ".%2e/x", "%2e./x", "a/%2e",
        "a/%2E/b", "a%2f..%2fb", "a%2F%2e%2E", "..%5cx", "a/..\\b?x",
        "../?q=1", "a/..?q=1", "..;/x", "a/..;jsessionid=1/b", "a/.%3bx",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        char *out = NULL;
        const char *err = NULL;

        assert_int_equal(oac_url_join(&out, &err, p, "https://a/b/", bad[i]),
                         APR_EINVAL);
        assert_null(out);
        assert_string_equal(err, "relative URL path must not contain '.' "
                                 "or '..' segments");
        assert_int_equal(oac_url_join_path(&out, &err, p, "https://a/b/",
                                           bad[i]),
                         APR_EINVAL);
        assert_null(out);
    }
}

static void join_rejects_bad_input(void **state)
{
    apr_pool_t *p = *state;

    assert_join_fails(p, "https://a/b?x=1", "c",
                      "base URL must not have a query ('?...')");
    assert_join_fails(p, "https://a/b?", "c",
                      "base URL must not have a query ('?...')");
    assert_join_fails(p, "a/b", "c",
                      "base URL: URL is not absolute (it has no scheme); "
                      "expected http://... or https://...");
    assert_join_fails(p, NULL, "c", "base URL: URL is empty");
    assert_join_fails(p, "https://a/b#f", "c",
                      "base URL: URL must not have a fragment ('#...')");
    assert_join_fails(p, "https://a/b", "c#frag",
                      "relative URL must not have a fragment ('#...')");
    assert_join_fails(p, "https://a/b", "c d",
                      "relative URL contains whitespace or a control "
                      "character at offset 1");
    assert_join_fails(p, "https://a/b", "x?a=\n",
                      "relative URL contains whitespace or a control "
                      "character at offset 4");
    assert_join_fails(p, "https://a/b", "x/100%",
                      "relative URL path has invalid percent-encoding in "
                      "segment at offset 2");
    assert_join_fails(p, "https://a/b", "/x/100%",
                      "relative URL path has invalid percent-encoding in "
                      "segment at offset 3");
    assert_join_fails(p, "https://a/b", "x/a%00b",
                      "relative URL path has invalid percent-encoding in "
                      "segment at offset 2");
}

/* The proxy variant never lets a request path name another host. */
static void join_path_never_absolute(void **state)
{
    apr_pool_t *p = *state;
    char *out = NULL;
    const char *err = NULL;

    assert_int_equal(oac_url_join_path(&out, &err, p, "https://api.a/v1",
                                       "https://evil.example/x"),
                     APR_SUCCESS);
    assert_string_equal(out, "https://api.a/v1/https://evil.example/x");
    assert_int_equal(oac_url_join_path(&out, &err, p, "https://api.a/v1",
                                       "//evil.example/x"),
                     APR_SUCCESS);
    assert_string_equal(out, "https://api.a/v1/evil.example/x");
    assert_int_equal(oac_url_join_path(&out, &err, p, "https://api.a/v1",
                                       "user:email"),
                     APR_SUCCESS);
    assert_string_equal(out, "https://api.a/v1/user:email");
}

/* ---- oac_url_add_query ------------------------------------------------ */

static void add_query_cases(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *params = oac_form_make(p);
    const char *url = "https://a/b";

    assert_ptr_equal(oac_url_add_query(p, url, params), url);
    assert_ptr_equal(oac_url_add_query(p, url, NULL), url);

    oac_form_add(params, "state", "s 1");
    oac_form_add(params, "scope", "a+b");
    assert_string_equal(oac_url_add_query(p, "https://a/b", params),
                        "https://a/b?state=s%201&scope=a%2Bb");
    assert_string_equal(oac_url_add_query(p, "https://a/b?x=1", params),
                        "https://a/b?x=1&state=s%201&scope=a%2Bb");
    assert_string_equal(oac_url_add_query(p, "https://a/b?", params),
                        "https://a/b?state=s%201&scope=a%2Bb");
    assert_string_equal(oac_url_add_query(p, "https://a/b?x=1&", params),
                        "https://a/b?x=1&state=s%201&scope=a%2Bb");
    assert_string_equal(oac_url_add_query(p, "https://a/b#frag", params),
                        "https://a/b?state=s%201&scope=a%2Bb#frag");
    assert_string_equal(oac_url_add_query(p, "https://a/b?x#f?g", params),
                        "https://a/b?x&state=s%201&scope=a%2Bb#f?g");
    assert_string_equal(oac_url_add_query(p, "https://a", params),
                        "https://a?state=s%201&scope=a%2Bb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(check_accepts),
        T(check_rejects),
        T(check_error_does_not_quote_secrets),
        T(join_examples),
        T(join_absolute_rel),
        T(join_rejects_dot_segments),
        T(join_rejects_bad_input),
        T(join_path_never_absolute),
        T(add_query_cases),
    };

    return OAC_RUN_TESTS("oac_url", tests);
}
