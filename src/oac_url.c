/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "oac_form.h"
#include "oac_url.h"
#include "oac_util.h"

static int is_ctl_or_space(unsigned char c)
{
    return c <= 0x20 || c == 0x7f;
}

static apr_status_t check_chars(const char **perr, apr_pool_t *p,
                                const char *url)
{
    const char *c;

    for (c = url; *c; ++c) {
        if (is_ctl_or_space((unsigned char)*c)) {
            *perr = apr_psprintf(p, "URL contains whitespace or a control "
                                 "character at offset %ld", (long)(c - url));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* Port given as "" or "80:90" or "70000" slips past apr_uri_parse. */
static int port_is_valid(const char *port_str)
{
    apr_int64_t port = 0;
    const char *c;

    if (!port_str) {
        return 1;
    }
    if (!*port_str || strlen(port_str) > 5) {
        return 0;
    }
    for (c = port_str; *c; ++c) {
        if (*c < '0' || *c > '9') {
            return 0;
        }
        port = port * 10 + (*c - '0');
    }
    return port >= 1 && port <= 65535;
}

/*
 * apr_uri_parse does not validate the host; a '\' or '<' there is read
 * differently by different clients, so only RFC 3986 reg-name characters
 * without sub-delims (and ':' inside an IPv6 literal) are let through.
 */
static int host_is_valid(const apr_uri_t *uri)
{
    int ipv6 = uri->hostinfo && uri->hostinfo[0] == '[';
    const char *c;

    for (c = uri->hostname; *c; ++c) {
        unsigned char ch = (unsigned char)*c;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'
            || ch == '_' || ch == '~' || ch == '%' || (ipv6 && ch == ':')) {
            continue;
        }
        return 0;
    }
    return 1;
}

static apr_status_t check_parts(const char **perr, apr_pool_t *p,
                                const apr_uri_t *uri)
{
    if (!uri->scheme) {
        *perr = "URL is not absolute (it has no scheme); expected "
                "http://... or https://...";
        return APR_EINVAL;
    }
    if (strcasecmp(uri->scheme, "http") && strcasecmp(uri->scheme, "https")) {
        *perr = apr_psprintf(p, "URL scheme '%.32s' is not http or https",
                             uri->scheme);
        return APR_EINVAL;
    }
    if (uri->user || uri->password) {
        *perr = "credentials in URLs are not allowed";
        return APR_EINVAL;
    }
    if (!uri->hostname || !*uri->hostname) {
        *perr = "URL has no host";
        return APR_EINVAL;
    }
    if (!host_is_valid(uri)) {
        *perr = "URL host contains an invalid character";
        return APR_EINVAL;
    }
    if (!port_is_valid(uri->port_str)) {
        *perr = "URL has an invalid port (expected a number 1..65535)";
        return APR_EINVAL;
    }
    if (uri->fragment) {
        *perr = "URL must not have a fragment ('#...')";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t oac_url_check(apr_uri_t *puri, const char **perr, apr_pool_t *p,
                           const char *url)
{
    apr_uri_t uri;
    apr_status_t rv;

    if (!url || !*url) {
        *perr = "URL is empty";
        return APR_EINVAL;
    }
    if ((rv = check_chars(perr, p, url)) != APR_SUCCESS) {
        return rv;
    }
    memset(&uri, 0, sizeof(uri));
    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS) {
        /* apr_uri_parse only fails on a bad port or an unclosed '[';
         * tell them apart for the user. */
        *perr = uri.port_str ? "URL has an invalid port (expected a number "
                               "1..65535)"
                             : "URL cannot be parsed";
        return APR_EINVAL;
    }
    if ((rv = check_parts(perr, p, &uri)) != APR_SUCCESS) {
        return rv;
    }
    *puri = uri;
    return APR_SUCCESS;
}

/* RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static int has_scheme(const char *s)
{
    const char *c = s;

    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z'))) {
        return 0;
    }
    for (++c; *c; ++c) {
        if (*c == ':') {
            return 1;
        }
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
              || (*c >= '0' && *c <= '9') || *c == '+' || *c == '-'
              || *c == '.')) {
            return 0;
        }
    }
    return 0;
}

/*
 * Upstream servers differ in what ends a segment once decoded: '/' from
 * %2F, '\' on some platforms, ';' (path parameters: Tomcat reads "..;x"
 * as ".."). A dot segment under any of these readings is refused.
 */
static int contains_dot_segment(const char *seg, apr_size_t len)
{
    const char *c = seg, *end = seg + len;

    while (1) {
        const char *stop = c;
        while (stop < end && *stop != '/' && *stop != '\\' && *stop != ';') {
            ++stop;
        }
        if ((stop - c == 1 && c[0] == '.')
            || (stop - c == 2 && c[0] == '.' && c[1] == '.')) {
            return 1;
        }
        if (stop == end) {
            return 0;
        }
        c = stop + 1;
    }
}

static apr_status_t check_rel_path(const char **perr, apr_pool_t *p,
                                   const char *rel)
{
    apr_size_t plen = strcspn(rel, "?");
    const char *seg = rel, *end = rel + plen;

    if (check_chars(perr, p, rel) != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "relative ", *perr, NULL);
        return APR_EINVAL;
    }
    if (strchr(rel, '#')) {
        *perr = "relative URL must not have a fragment ('#...')";
        return APR_EINVAL;
    }
    while (seg <= end) {
        apr_size_t len = strcspn(seg, "/?");
        const char *checked = seg, *why;
        apr_size_t checked_len = len;

        /* Every API call comes through here: a segment without '%' is
         * checked as it is, without a copy. */
        if (memchr(seg, '%', len)) {
            char *decoded;
            if (oac_util_pct_decode(&decoded, &why, p,
                                    apr_pstrmemdup(p, seg, len), 0)
                != APR_SUCCESS) {
                *perr = apr_psprintf(p, "relative URL path has invalid "
                                     "percent-encoding in segment at offset "
                                     "%ld", (long)(seg - rel));
                return APR_EINVAL;
            }
            checked = decoded;
            checked_len = strlen(decoded);
        }
        if (contains_dot_segment(checked, checked_len)) {
            *perr = "relative URL path must not contain '.' or '..' "
                    "segments";
            return APR_EINVAL;
        }
        seg += len + 1;
    }
    return APR_SUCCESS;
}

apr_status_t oac_url_check_base(const char **perr, apr_pool_t *p,
                                const char *base)
{
    apr_uri_t uri;
    const char *why;

    if (oac_url_check(&uri, &why, p, base) != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "base URL: ", why, NULL);
        return APR_EINVAL;
    }
    if (uri.query) {
        *perr = "base URL must not have a query ('?...')";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/*
 * The joined URL is not parsed again: everything oac_url_check looks at
 * (the scheme, the authority, a fragment) is base's, which passed it, and
 * rel can change none of it: it comes after a '/' that ends base's
 * authority, and it has no '#' and no control character or space.
 */
apr_status_t oac_url_append_path(char **pout, const char **perr,
                                 apr_pool_t *p, const char *base,
                                 const char *rel)
{
    apr_status_t rv;
    apr_size_t blen = strlen(base);

    rel = rel ? rel : "";
    if ((rv = check_rel_path(perr, p, rel)) != APR_SUCCESS) {
        return rv;
    }
    while (*rel == '/') {
        ++rel;
    }
    *pout = apr_pstrcat(p, base, blen && base[blen - 1] == '/' ? "" : "/",
                        rel, NULL);
    return APR_SUCCESS;
}

apr_status_t oac_url_join_path(char **pout, const char **perr, apr_pool_t *p,
                               const char *base, const char *rel)
{
    apr_status_t rv;

    if ((rv = oac_url_check_base(perr, p, base)) != APR_SUCCESS) {
        return rv;
    }
    return oac_url_append_path(pout, perr, p, base, rel);
}

apr_status_t oac_url_join(char **pout, const char **perr, apr_pool_t *p,
                          const char *base, const char *rel)
{
    apr_uri_t uri;
    apr_status_t rv;

    if (rel && has_scheme(rel)) {
        if ((rv = oac_url_check(&uri, perr, p, rel)) != APR_SUCCESS) {
            return rv;
        }
        *pout = apr_pstrdup(p, rel);
        return APR_SUCCESS;
    }
    return oac_url_join_path(pout, perr, p, base, rel);
}

char *oac_url_add_query(apr_pool_t *p, const char *url,
                        const apr_array_header_t *params)
{
    apr_size_t before = strcspn(url, "#");
    const char *fragment = url + before;
    const char *head, *sep;

    if (!params || params->nelts == 0) {
        return (char *)url;
    }
    head = apr_pstrmemdup(p, url, before);
    if (!memchr(head, '?', before)) {
        sep = "?";
    }
    else if (head[before - 1] == '?' || head[before - 1] == '&') {
        sep = "";
    }
    else {
        sep = "&";
    }
    return apr_pstrcat(p, head, sep, oac_form_encode(p, params), fragment,
                       NULL);
}

/* --- references an API answers with ------------------------------------ */

/* RFC 3986 3: the parts of a reference; NULL where a part is absent. */
typedef struct {
    const char *scheme, *authority, *path, *query, *fragment;
} ref_parts_t;

static void split_ref(ref_parts_t *r, apr_pool_t *p, const char *s)
{
    const char *hash = strchr(s, '#'), *q;
    apr_size_t n;

    r->fragment = hash ? apr_pstrdup(p, hash + 1) : NULL;
    s = hash ? apr_pstrmemdup(p, s, (apr_size_t)(hash - s)) : s;
    r->scheme = NULL;
    if (has_scheme(s)) {
        n = strcspn(s, ":");
        r->scheme = apr_pstrmemdup(p, s, n);
        s += n + 1;
    }
    r->authority = NULL;
    if (s[0] == '/' && s[1] == '/') {
        s += 2;
        n = strcspn(s, "/?");
        r->authority = apr_pstrmemdup(p, s, n);
        s += n;
    }
    q = strchr(s, '?');
    r->query = q ? apr_pstrdup(p, q + 1) : NULL;
    r->path = q ? apr_pstrmemdup(p, s, (apr_size_t)(q - s)) : s;
}

/* Removes the last segment and its '/' from out[0..*n). */
static void drop_last_segment(const char *out, apr_size_t *n)
{
    while (*n > 0 && out[*n - 1] != '/') {
        --*n;
    }
    if (*n > 0) {
        --*n;
    }
}

/* RFC 3986 5.2.4 */
static char *remove_dot_segments(apr_pool_t *p, const char *in)
{
    char *out = apr_palloc(p, strlen(in) + 2);
    apr_size_t n = 0, len;

    while (*in) {
        if (!strncmp(in, "../", 3)) {
            in += 3;
        }
        else if (!strncmp(in, "./", 2)) {
            in += 2;
        }
        else if (!strncmp(in, "/./", 3)) {
            in += 2;
        }
        else if (!strcmp(in, "/.")) {
            in = "/";
        }
        else if (!strncmp(in, "/../", 4)) {
            in += 3;
            drop_last_segment(out, &n);
        }
        else if (!strcmp(in, "/..")) {
            in = "/";
            drop_last_segment(out, &n);
        }
        else if (!strcmp(in, ".") || !strcmp(in, "..")) {
            break;
        }
        else {
            len = 1 + strcspn(in + 1, "/");
            if (*in != '/') {
                len = strcspn(in, "/");
            }
            memcpy(out + n, in, len);
            n += len;
            in += len;
        }
    }
    out[n] = '\0';
    return out;
}

/* RFC 3986 5.2.2 (strict) */
static void resolve_ref(ref_parts_t *t, apr_pool_t *p, const ref_parts_t *b,
                        const ref_parts_t *r)
{
    if (r->scheme) {
        *t = *r;
        t->path = remove_dot_segments(p, r->path);
        return;
    }
    if (r->authority) {
        t->authority = r->authority;
        t->path = remove_dot_segments(p, r->path);
        t->query = r->query;
    }
    else {
        if (!*r->path) {
            t->path = b->path;
            t->query = r->query ? r->query : b->query;
        }
        else {
            if (r->path[0] == '/') {
                t->path = remove_dot_segments(p, r->path);
            }
            else {
                const char *slash = strrchr(b->path, '/');
                const char *merged = b->authority && !*b->path
                    ? apr_pstrcat(p, "/", r->path, NULL)
                    : apr_pstrcat(p, apr_pstrmemdup(p, b->path,
                                                    slash ? (apr_size_t)(slash
                                                    - b->path + 1) : 0),
                                  r->path, NULL);
                t->path = remove_dot_segments(p, merged);
            }
            t->query = r->query;
        }
        t->authority = b->authority;
    }
    t->scheme = b->scheme;
    t->fragment = r->fragment;
}

static char *join_ref(apr_pool_t *p, const ref_parts_t *t)
{
    return apr_pstrcat(p, t->scheme, ":", t->authority ? "//" : "",
                       t->authority ? t->authority : "", t->path,
                       t->query ? "?" : "", t->query ? t->query : "",
                       t->fragment ? "#" : "", t->fragment ? t->fragment : "",
                       NULL);
}

/* A URL left absolute goes to the browser only when the browser reads it
 * as this parser does: http(s) with a plain, valid host (no userinfo, no
 * '\\', no percent-encoding a browser would decode into another host).
 * "https:/path" without a host is one a browser resolves against its own
 * page, this site: refused, as everything else. */
static oac_url_rev_e elsewhere(apr_pool_t *p, const char *url)
{
    apr_uri_t u;
    const char *why;

    /* a fragment stays with the browser: only the rest is checked */
    if (oac_url_check(&u, &why, p, apr_pstrmemdup(p, url, strcspn(url, "#")))
        != APR_SUCCESS
        || (strchr(u.hostname, '%') && u.hostinfo[0] != '[')) {
        return OAC_URL_REV_BAD;
    }
    return OAC_URL_REV_ELSEWHERE;
}

oac_url_rev_e oac_url_reverse(char **pout, apr_pool_t *p, const char *base,
                              const char *from, const char *ref,
                              const char *local)
{
    ref_parts_t b, f, r, t;
    apr_size_t blen, llen;
    const char *tail, *why;

    split_ref(&b, p, base);
    split_ref(&f, p, from);
    split_ref(&r, p, ref);
    if (!b.scheme || !b.authority || !f.scheme || !f.authority
        || check_chars(&why, p, ref) != APR_SUCCESS) {
        return OAC_URL_REV_BAD;
    }
    resolve_ref(&t, p, &f, &r);
    *pout = join_ref(p, &t);
    if (!t.authority || strcasecmp(t.scheme, b.scheme)
        || strcasecmp(t.authority, b.authority)) {
        return elsewhere(p, *pout);
    }
    /* below base's path, or base's path itself without its '/' */
    blen = strlen(b.path);
    if (blen && b.path[blen - 1] == '/') {
        --blen;
    }
    if (strncmp(t.path, b.path, blen)
        || (t.path[blen] && t.path[blen] != '/')) {
        return elsewhere(p, *pout);
    }
    /* Browsers read '\' as '/': either would make "//host" of local's
     * final '/' */
    tail = t.path + blen;
    while (*tail == '/' || *tail == '\\') {
        ++tail;
    }
    tail = t.query ? apr_pstrcat(p, tail, "?", t.query, NULL) : tail;
    if (check_rel_path(&why, p, tail) != APR_SUCCESS) {
        return elsewhere(p, *pout);
    }
    llen = strlen(local);
    *pout = apr_pstrcat(p, local, llen && local[llen - 1] == '/' ? "" : "/",
                        tail, t.fragment ? "#" : "",
                        t.fragment ? t.fragment : "", NULL);
    return OAC_URL_REV_LOCAL;
}

char *oac_url_host(apr_pool_t *p, const char *url)
{
    ref_parts_t u;
    const char *a, *at;
    apr_size_t n;

    split_ref(&u, p, url);
    if (!u.scheme || !u.authority) {
        return NULL;
    }
    a = u.authority;
    if ((at = strrchr(a, '@'))) {
        a = at + 1;
    }
    if (*a == '[') {
        n = strcspn(a, "]");
        return apr_pstrmemdup(p, a + 1, n ? n - 1 : 0);
    }
    return apr_pstrmemdup(p, a, strcspn(a, ":"));
}

int oac_url_names_host(apr_pool_t *p, const char *url, const char *host)
{
    char *h = oac_url_host(p, url);
    apr_size_t n;

    if (!h || !host) {
        return 0;
    }
    n = strlen(h);
    if (n > 1 && h[n - 1] == '.') {
        h[n - 1] = '\0';
    }
    return !strcasecmp(h, host);
}
