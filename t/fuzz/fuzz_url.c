/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Provider URLs: oac_url_check, oac_url_join, oac_url_join_path (the API
 * proxy's upstream URL from a request path), oac_url_add_query and
 * oac_url_reverse (the API's own URLs in its answer, for the browser);
 * and the Entra issuers compliance_fix=microsoft takes in their place.
 *
 * Input: a selector byte, then "REL" or, when the selector picks none of
 * the fixed bases, "BASE\0REL". The fixed bases keep most executions on
 * the join itself rather than on finding a valid base.
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "oac_fix.h"
#include "oac_url.h"
#include "oac_util.h"

static const char *const bases[] = {
    "https://api.example.com/v1",
    "https://api.example.com/v1/",
    "http://h",
    "https://H.example:8443/a/b",
    "http://[::1]:8080/x%2Fy/",
    "https://api.example.com/a;b/c",
};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

/* The promises of oac_url_check about any URL it accepts. */
static void check_accepted(const char *url, const apr_uri_t *u)
{
    const char *c;

    CHECK(u->scheme && (!strcasecmp(u->scheme, "http")
                        || !strcasecmp(u->scheme, "https")));
    CHECK(u->hostname && *u->hostname);
    CHECK(!u->user && !u->password && !u->fragment);
    CHECK(!u->port_str || (u->port >= 1 && u->port <= 65535));
    for (c = url; *c; ++c) {
        CHECK((unsigned char)*c > 0x20 && *c != 0x7f);
    }
}

/* A path segment that an upstream would read as "." or "..": each of
 * '/', '\' and ';' ends a segment for some server. */
static int is_dot_segment(const char *seg, size_t len)
{
    return (len == 1 && seg[0] == '.')
           || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

static int tail_has_dot_segment(apr_pool_t *p, const char *tail)
{
    char *dec;
    const char *err, *c;

    /* join_path checked the percent-encoding of the path. */
    CHECK(oac_util_pct_decode(&dec, &err, p, tail, 0) == APR_SUCCESS);
    for (c = dec;;) {
        size_t len = strcspn(c, "/\\;");

        if (is_dot_segment(c, len)) {
            return 1;
        }
        if (!c[len]) {
            return 0;
        }
        c += len + 1;
    }
}

/*
 * The joined URL goes to the same origin as base, and its path, once
 * decoded and split the way any upstream might, stays below base's path:
 * a client's request path must never reach another host or climb out of
 * api_base_url.
 */
static void check_join_path(apr_pool_t *p, const char *base, const char *rel,
                            const char *out)
{
    apr_uri_t b, o;
    const char *err, *prefix, *path;
    size_t blen = strlen(base);

    CHECK(oac_url_check(&b, &err, p, base) == APR_SUCCESS && !b.query);
    CHECK(oac_url_check(&o, &err, p, out) == APR_SUCCESS);
    check_accepted(out, &o);
    CHECK(strncmp(out, base, blen) == 0);
    CHECK(!strcmp(b.scheme, o.scheme) && !strcmp(b.hostname, o.hostname));
    CHECK(fuzz_streq(b.port_str, o.port_str));

    prefix = b.path && *b.path ? b.path : "/";
    if (prefix[strlen(prefix) - 1] != '/') {
        prefix = apr_pstrcat(p, prefix, "/", NULL);
    }
    path = o.path ? o.path : "";
    CHECK(strncmp(path, prefix, strlen(prefix)) == 0);
    CHECK(!tail_has_dot_segment(p, path + strlen(prefix)));

    /* The query is rel's, as given. */
    if (strchr(rel, '?')) {
        CHECK(o.query && !strcmp(o.query, strchr(rel, '?') + 1));
    }
    else {
        CHECK(!o.query);
    }
}

/* RFC 3986 section 3.1. */
static int has_scheme(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789+-.");

    return n > 0 && s[n] == ':' && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z');
}

static void check_add_query(apr_pool_t *p, const char *url, const char *rel)
{
    apr_array_header_t *params;
    const char *err, *out, *mid, *enc;
    size_t before = strcspn(url, "#"), flen = strlen(url + before);

    if (oac_form_decode(&params, &err, p, rel) != APR_SUCCESS) {
        return;
    }
    out = oac_url_add_query(p, url, params);
    if (params->nelts == 0) {
        CHECK(out == url);
        return;
    }
    /* url's head, one separator, the encoded form, url's fragment. */
    enc = oac_form_encode(p, params);
    CHECK(strncmp(out, url, before) == 0);
    CHECK(strlen(out) >= before + flen
          && !strcmp(out + strlen(out) - flen, url + before));
    mid = apr_pstrmemdup(p, out + before, strlen(out) - before - flen);
    if (!memchr(url, '?', before)) {
        CHECK(mid[0] == '?' && !strcmp(mid + 1, enc));
    }
    else if (before > 0 && (url[before - 1] == '?' || url[before - 1] == '&')) {
        CHECK(!strcmp(mid, enc));
    }
    else {
        CHECK(mid[0] == '&' && !strcmp(mid + 1, enc));
    }
}

/*
 * oac_url_reverse with rel as what an API answered: a URL mapped below
 * the location is one the browser's next request maps back below base
 * (no dot segment under any reading, no "//" that would name a host);
 * anything else is left absolute, so that no relative reference reaches
 * the browser to be resolved against this site.
 */
static void check_reverse(apr_pool_t *p, const char *base, const char *rel)
{
    const char *from = apr_pstrcat(p, base, base[strlen(base) - 1] == '/'
                                   ? "" : "/", "x/y?q=1", NULL);
    const char *err, *tail;
    char *out = NULL, *joined = NULL;

    switch (oac_url_reverse(&out, p, base, from, rel, "/l/")) {
    case OAC_URL_REV_LOCAL:
        CHECK(!strncmp(out, "/l/", 3) && out[3] != '/' && out[3] != '\\');
        tail = apr_pstrmemdup(p, out + 3, strcspn(out + 3, "#"));
        CHECK(!tail_has_dot_segment(p, apr_pstrmemdup(p, tail,
                                                      strcspn(tail, "?"))));
        CHECK(oac_url_join_path(&joined, &err, p, base, tail)
              == APR_SUCCESS);
        break;
    case OAC_URL_REV_ELSEWHERE: {
        /* one a browser reads as here: http(s), a plain valid host */
        apr_uri_t u;
        CHECK(oac_url_check(&u, &err, p, apr_pstrmemdup(p, out,
                                                      strcspn(out, "#")))
              == APR_SUCCESS);
        check_accepted(apr_pstrmemdup(p, out, strcspn(out, "#")), &u);
        CHECK(!strchr(u.hostname, '%') || u.hostinfo[0] == '[');
        CHECK(oac_url_host(p, out) != NULL);
        break;
    }
    default:
        break;
    }
}

FUZZ_APR_INITIALIZE

static int guid_at(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t i;

    for (i = 0; shape[i]; ++i) {
        if (shape[i] == '-' ? s[i] != '-'
                            : !isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* The length of "scheme://authority/" in url, 0 without one. */
static size_t origin_len(const char *url)
{
    const char *a = strstr(url, "://"), *slash;

    if (!a || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        return 0;
    }
    slash = strchr(a + 3, '/');
    return slash ? (size_t)(slash - url) + 1 : 0;
}

/* compliance_fix=microsoft: a document may name another issuer than its
 * URL promises (expected) only on the same origin, without userinfo,
 * with the same path after the first segment, and there the template or
 * a tenant ID; an iss matches a template only as the template filled
 * with a tenant ID. */
static void check_tenant_issuers(apr_pool_t *p, const char *expected,
                                 const char *iss)
{
    oac_app_t app = { 0 };
    const char *taken, *c;
    size_t n = origin_len(expected), ilen, elen;

    app.compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(app.compliance_fixes, const char *) = "microsoft";
    if ((taken = oac_fix_metadata_issuer(&app, expected, iss))) {
        CHECK(taken == iss && strcmp(expected, iss));
        CHECK(n && !strncmp(expected, iss, n));
        CHECK(!memchr(expected, '@', n) && !memchr(expected, '?', n)
              && !memchr(expected, '#', n));
        elen = strcspn(expected + n, "/?#");
        ilen = strcspn(iss + n, "/?#");
        CHECK(!strcmp(expected + n + elen, iss + n + ilen));
        CHECK((ilen == 10 && !strncmp(iss + n, "{tenantid}", 10))
              || (ilen == 36 && guid_at(iss + n)));
        for (c = expected + n; c < expected + n + elen; ++c) {
            CHECK(isalnum((unsigned char)*c) || strchr(".-_", *c));
        }
    }
    /* iss as an app's issuer, expected as an RFC 9207 iss */
    app.issuer = iss;
    if (oac_fix_issuer_matches(&app, expected)) {
        const char *t = strstr(iss, "{tenantid}");
        if (!t) {
            CHECK(!strcmp(iss, expected));
        }
        else {
            size_t pre = (size_t)(t - iss);
            CHECK(!strncmp(expected, iss, pre) && guid_at(expected + pre)
                  && !strcmp(expected + pre + 36, t + 10));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_parts_t in;
    const char *base, *rel, *err = NULL;
    char *out = NULL, *out2 = NULL;
    apr_uri_t u;
    apr_status_t rv, rv2;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    fuzz_split(&in, p, data + 1, size - 1);
    if (data[0] < NBASES) {
        base = bases[data[0]];
        rel = in.part[0];
    }
    else {
        base = in.part[0];
        rel = in.part[1];
    }

    if (oac_url_check(&u, &err, p, base) == APR_SUCCESS) {
        check_accepted(base, &u);
    }
    if (oac_url_check(&u, &err, p, rel) == APR_SUCCESS) {
        check_accepted(rel, &u);
    }

    rv = oac_url_join_path(&out, &err, p, base, rel);
    if (rv == APR_SUCCESS) {
        check_join_path(p, base, rel, out);
    }
    else {
        CHECK(rv == APR_EINVAL && err && fuzz_printable(err));
    }

    /* join = join_path unless rel is absolute, then rel itself. */
    rv2 = oac_url_join(&out2, &err, p, base, rel);
    if (has_scheme(rel)) {
        CHECK((rv2 == APR_SUCCESS)
              == (oac_url_check(&u, &err, p, rel) == APR_SUCCESS));
        if (rv2 == APR_SUCCESS) {
            CHECK(!strcmp(out2, rel));
        }
    }
    else {
        CHECK(rv2 == rv);
        CHECK(rv != APR_SUCCESS || !strcmp(out, out2));
    }

    check_tenant_issuers(p, base, rel);
    check_add_query(p, base, rel);
    if (oac_url_check(&u, &err, p, base) == APR_SUCCESS && !u.query) {
        check_reverse(p, base, rel);
    }
    apr_pool_destroy(p);
    return 0;
}
