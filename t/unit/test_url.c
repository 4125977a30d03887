/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_url.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_lib.h>
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

/* A "." or ".." segment in path under any reading a server may have:
 * percent-decoded once, and '/', '\' or ';' ending a segment. Written
 * apart from oac_url.c's, as the oracle of the test below. */
static int dot_segment_anywhere(const char *path)
{
    char dec[64];
    apr_size_t n = 0, i, start = 0;

    for (i = 0; path[i] && path[i] != '?' && n < sizeof(dec) - 1; ++i) {
        if (path[i] == '%' && apr_isxdigit(path[i + 1])
            && apr_isxdigit(path[i + 2])) {
            char hex[3] = { path[i + 1], path[i + 2], 0 };
            dec[n++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            dec[n++] = path[i];
        }
    }
    dec[n] = '\0';
    for (i = 0; i <= n; ++i) {
        if (i == n || dec[i] == '/' || dec[i] == '\\' || dec[i] == ';') {
            apr_size_t len = i - start;
            if ((len == 1 && dec[start] == '.')
                || (len == 2 && dec[start] == '.' && dec[start + 1] == '.')) {
                return 1;
            }
            start = i + 1;
        }
    }
    return 0;
}

/*
 * oac_url_append_path does not parse what it joins: whatever a client
 * puts in the path, the result must still pass oac_url_check with base's
 * host and port, be base with the path (its leading '/'s dropped) after
 * it, and hold no dot segment below base. Every string of up to four
 * characters from those that matter to a URL parser is tried.
 */
static void append_path_keeps_base_authority(void **state)
{
    apr_pool_t *p = *state;
    static const char alphabet[] = "/?#@:.%\\;[]a2eE";
    static const char *const bases[] = {
        "https://api.a/v1", "https://api.a:8443/", "http://[::1]:8080/x",
        "https://api.a",
    };
    const apr_size_t n = sizeof(alphabet) - 1;
    size_t b;

    for (b = 0; b < sizeof(bases) / sizeof(bases[0]); ++b) {
        apr_uri_t base_uri;
        const char *err = NULL;
        apr_size_t len, blen = strlen(bases[b]);

        assert_int_equal(oac_url_check_base(&err, p, bases[b]), APR_SUCCESS);
        assert_int_equal(oac_url_check(&base_uri, &err, p, bases[b]),
                         APR_SUCCESS);
        for (len = 0; len <= 4; ++len) {
            apr_size_t total = 1, i, k;
            for (i = 0; i < len; ++i) {
                total *= n;
            }
            for (k = 0; k < total; ++k) {
                char rel[5], *out = NULL;
                apr_size_t v = k;
                apr_uri_t uri;
                apr_status_t rv;
                apr_pool_t *sub;

                for (i = 0; i < len; ++i, v /= n) {
                    rel[i] = alphabet[v % n];
                }
                rel[len] = '\0';
                apr_pool_create(&sub, p);
                rv = oac_url_append_path(&out, &err, sub, bases[b], rel);
                if (rv == APR_SUCCESS) {
                    const char *tail = rel + strspn(rel, "/");
                    assert_string_equal(out, apr_pstrcat(sub, bases[b],
                        bases[b][blen - 1] == '/' ? "" : "/", tail, NULL));
                    assert_int_equal(oac_url_check(&uri, &err, sub, out),
                                     APR_SUCCESS);
                    assert_string_equal(uri.hostname, base_uri.hostname);
                    assert_int_equal(uri.port, base_uri.port);
                    assert_null(uri.fragment);
                    assert_false(dot_segment_anywhere(tail));
                }
                else {
                    /* refused for a reason a client can be told */
                    assert_non_null(err);
                    assert_true(strchr(rel, '#') || strchr(rel, '%')
                                || strchr(rel, '.'));
                }
                apr_pool_destroy(sub);
            }
        }
    }
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

/* ---- oac_url_reverse ---------------------------------------------------- */

static void assert_rev(apr_pool_t *p, const char *base, const char *from,
                       const char *ref, const char *local,
                       oac_url_rev_e want, const char *out)
{
    char *got = NULL;
    oac_url_rev_e rv = oac_url_reverse(&got, p, base, from, ref, local);

    if (rv != want || (out && (!got || strcmp(got, out)))) {
        print_error("oac_url_reverse(%s): %d '%s', want %d '%s'\n", ref,
                    rv, got ? got : "(null)", want, out ? out : "(null)");
        fail();
    }
}

/* RFC 3986 5.4's examples: the resolution alone (a base nothing is below) */
static void reverse_resolves_as_rfc3986(void **state)
{
    static const char *const ex[][2] = {
        { "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" },
        { "g/", "http://a/b/c/g/" }, { "/g", "http://a/g" },
        { "//g", "http://g" }, { "?y", "http://a/b/c/d;p?y" },
        { "g?y", "http://a/b/c/g?y" }, { "#s", "http://a/b/c/d;p?q#s" },
        { "g#s", "http://a/b/c/g#s" }, { "g?y#s", "http://a/b/c/g?y#s" },
        { ";x", "http://a/b/c/;x" }, { "g;x", "http://a/b/c/g;x" },
        { "", "http://a/b/c/d;p?q" }, { ".", "http://a/b/c/" },
        { "./", "http://a/b/c/" }, { "..", "http://a/b/" },
        { "../", "http://a/b/" }, { "../g", "http://a/b/g" },
        { "../..", "http://a/" }, { "../../", "http://a/" },
        { "../../g", "http://a/g" }, { "../../../g", "http://a/g" },
        { "../../../../g", "http://a/g" }, { "/./g", "http://a/g" },
        { "/../g", "http://a/g" }, { "g.", "http://a/b/c/g." },
        { ".g", "http://a/b/c/.g" }, { "g..", "http://a/b/c/g.." },
        { "..g", "http://a/b/c/..g" }, { "./../g", "http://a/b/g" },
        { "./g/.", "http://a/b/c/g/" }, { "g/./h", "http://a/b/c/g/h" },
        { "g/../h", "http://a/b/c/h" }, { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
        { "g;x=1/../y", "http://a/b/c/y" },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(ex) / sizeof(ex[0]); ++i) {
        assert_rev(p, "http://zz/", "http://a/b/c/d;p?q", ex[i][0], "/l/",
                   OAC_URL_REV_ELSEWHERE, ex[i][1]);
    }
    /* 5.4.1's first, "g:h": resolved, but no http(s) URL for a browser */
    assert_rev(p, "http://zz/", "http://a/b/c/d;p?q", "g:h", "/l/",
               OAC_URL_REV_BAD, NULL);
}

static void reverse_maps_below_base(void **state)
{
    apr_pool_t *p = *state;
    const char *b = "https://api.example.com/v1/";
    const char *f = "https://api.example.com/v1/repos/x?page=2";

#define LOCAL(ref, out) \
    assert_rev(p, b, f, ref, "/api/gh/", OAC_URL_REV_LOCAL, out)
#define ELSEWHERE(ref, out) \
    assert_rev(p, b, f, ref, "/api/gh/", OAC_URL_REV_ELSEWHERE, out)
    LOCAL("https://api.example.com/v1/repos/y", "/api/gh/repos/y");
    LOCAL("HTTPS://API.example.com/v1/a?b=1#f", "/api/gh/a?b=1#f");
    LOCAL("/v1/z", "/api/gh/z");
    LOCAL("y", "/api/gh/repos/y");
    LOCAL("../other", "/api/gh/other");
    LOCAL("?page=3", "/api/gh/repos/x?page=3");
    LOCAL("", "/api/gh/repos/x?page=2");
    LOCAL("https://api.example.com/v1", "/api/gh/");
    LOCAL("https://api.example.com/v1?q=1", "/api/gh/?q=1");
    /* what the browser would take for another of this site's paths goes
     * to the API's origin instead */
    ELSEWHERE("../../admin", "https://api.example.com/admin");
    ELSEWHERE("/oauth/gh/logout", "https://api.example.com/oauth/gh/logout");
    ELSEWHERE("https://api.example.com/v10/x",
              "https://api.example.com/v10/x");
    ELSEWHERE("https://api.example.com:8443/v1/x",
              "https://api.example.com:8443/v1/x");
    ELSEWHERE("http://api.example.com/v1/x", "http://api.example.com/v1/x");
    ELSEWHERE("//cdn.example.com/f", "https://cdn.example.com/f");
    ELSEWHERE("https://other.example/x", "https://other.example/x");
    /* dot segments a browser reads and resolution does not: never below
     * local */
    ELSEWHERE("https://api.example.com/v1/%2e%2e/bank",
              "https://api.example.com/v1/%2e%2e/bank");
    ELSEWHERE("https://api.example.com/v1/a/%2E./bank",
              "https://api.example.com/v1/a/%2E./bank");
    ELSEWHERE("https://api.example.com/v1/a\\..\\..\\bank",
              "https://api.example.com/v1/a\\..\\..\\bank");
    ELSEWHERE("https://api.example.com/v1/a/..;/bank",
              "https://api.example.com/v1/a/..;/bank");
#undef LOCAL
#undef ELSEWHERE
    /* a tail's leading '/'s never make "//host" of a location at "/" */
    assert_rev(p, b, f, "https://api.example.com/v1//evil.example/x", "/",
               OAC_URL_REV_LOCAL, "/evil.example/x");
    /* a local prefix without its '/' */
    assert_rev(p, b, f, "z", "/api/gh", OAC_URL_REV_LOCAL, "/api/gh/repos/z");
    assert_rev(p, b, f, "https://api.example.com/v1/\\evil.example/x", "/",
               OAC_URL_REV_LOCAL, "/evil.example/x");
    assert_rev(p, b, f, "http://a b/", "/api/gh/", OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "x\001y", "/api/gh/", OAC_URL_REV_BAD, NULL);
    /* what a browser reads otherwise: never left absolute */
    assert_rev(p, b, f, "https:/api/post/transfer", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "HTTPS:..\\..\\x", "/api/gh/", OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "///site.example/api/post", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "https://site.example\\api\\post", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "https://site.example\\@evil.example/x", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "https://u@site.example/x", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "https://%73ite.example/api/post", "/api/gh/",
               OAC_URL_REV_BAD, NULL);
    assert_rev(p, b, f, "ftp://site.example/x", "/api/gh/", OAC_URL_REV_BAD,
               NULL);
}

static void names_host(void **state)
{
    apr_pool_t *p = *state;

    assert_true(oac_url_names_host(p, "https://Site.Example:8443/x",
                                   "site.example"));
    assert_true(oac_url_names_host(p, "http://site.example./x",
                                   "site.example"));
    assert_false(oac_url_names_host(p, "http://other.example/x",
                                    "site.example"));
    assert_false(oac_url_names_host(p, "/x", "site.example"));
    assert_false(oac_url_names_host(p, "http://site.example/", NULL));
}

static void host_of(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_url_host(p, "https://Site.example:8443/x"),
                        "Site.example");
    assert_string_equal(oac_url_host(p, "https://u:pw@h.example/x"),
                        "h.example");
    assert_string_equal(oac_url_host(p, "http://[::1]:81/"), "::1");
    assert_string_equal(oac_url_host(p, "HTTP://h"), "h");
    assert_null(oac_url_host(p, "/path"));
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
        T(append_path_keeps_base_authority),
        T(add_query_cases),
        T(reverse_resolves_as_rfc3986),
        T(reverse_maps_below_base),
        T(host_of),
        T(names_host),
    };

    return OAC_RUN_TESTS("oac_url", tests);
}
