/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The open-redirect check on the login's `next` (oac_redirect_is_local).
 * Input: the candidate `next`.
 *
 * The oracle is written from what browsers do (the WHATWG URL parser),
 * not from the implementation: whatever is accepted must resolve on this
 * origin when used as a Location, as is or after up to three rounds of
 * percent-decoding by a backend.
 */

#include "fuzz_common.h"
#include "oac_redirect.h"

/*
 * Whether a browser, resolving s against https://origin/, could leave
 * the origin: it strips leading and trailing C0 controls and spaces,
 * removes every TAB, CR and LF, reads '\' as '/' in http(s) URLs, treats
 * "//" or a scheme at the start as naming another host or document.
 */
static int browser_may_leave(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), i;
    char *t = apr_palloc(p, n + 1), *o = t;
    size_t k;

    while (*s && (unsigned char)*s <= 0x20) {
        ++s;
    }
    for (; *s; ++s) {
        if (*s != '\t' && *s != '\n' && *s != '\r') {
            *o++ = *s;
        }
    }
    while (o > t && (unsigned char)o[-1] <= 0x20) {
        --o;
    }
    *o = '\0';
    for (i = 0; t[i]; ++i) {
        if (t[i] == '\\') {
            t[i] = '/';
        }
    }
    if (t[0] == '/' && t[1] == '/') {
        return 1;
    }
    /* A scheme: letter, then letters, digits, + - . up to a ':'. */
    k = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789+-.");
    if (k > 0 && t[k] == ':' && ((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z')) {
        return 1;
    }
    /* Not a path at all: relative to whatever page redirects. */
    return t[0] != '/';
}

/* One round of a backend's percent-decoding; NULL when it would stop
 * (malformed escape) or when it yields a NUL. */
static char *decode_once(apr_pool_t *p, const char *s, int *nul)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    *nul = 0;
    for (; *s; ++s) {
        if (*s == '%') {
            int hi = fuzz_hex((unsigned char)s[1]), lo;
            if (hi < 0 || (lo = fuzz_hex((unsigned char)s[2])) < 0) {
                return NULL;
            }
            if (!hi && !lo) {
                *nul = 1;
                return NULL;
            }
            *o++ = (char)(hi << 4 | lo);
            s += 2;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void check_accepted(apr_pool_t *p, const char *s)
{
    const char *c, *cur = s;
    int round, nul;

    CHECK(strlen(s) >= 1 && strlen(s) <= OAC_REDIRECT_MAX_LEN);
    CHECK(s[0] == '/');
    for (c = s; *c; ++c) {
        /* Raw bytes: printable ASCII without '\', as documented. */
        CHECK((unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f
              && *c != '\\');
    }
    for (round = 0; round <= 3 && cur; ++round) {
        CHECK(!browser_may_leave(p, cur));
        for (c = cur; round > 0 && *c; ++c) {
            /* Decoded control characters split headers in backends. */
            CHECK((unsigned char)*c >= 0x20 && *c != 0x7f && *c != '\\');
        }
        if (round == 3) {
            break;                   /* the documented depth */
        }
        cur = decode_once(p, cur, &nul);
        CHECK(!nul);
        CHECK(round > 0 || cur);     /* the browser's view is well-formed */
    }
}

/* Plain local paths must keep working: a check that refuses everything
 * would pass the rest. */
static int plainly_local(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= OAC_REDIRECT_MAX_LEN && s[0] == '/' && s[1] != '/'
           && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789/._-~") == n;
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s;
    int local;

    apr_pool_create(&p, NULL);
    s = apr_pstrmemdup(p, (const char *)data, size);
    local = oac_redirect_is_local(s);
    CHECK(local == 0 || local == 1);
    if (local) {
        check_accepted(p, s);
    }
    else {
        CHECK(!plainly_local(s));
    }
    apr_pool_destroy(p);
    return 0;
}
