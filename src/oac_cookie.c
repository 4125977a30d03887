/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include "oac_cookie.h"

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

/*
 * httpd's algorithm, which this follows exactly (server/util_cookies.c,
 * extract_cookie_line): the header is cut at ',' into groups and each
 * group at ';' into cookies, empty pieces skipped (apr_strtok). A cookie
 * whose text after leading spaces starts with "name=" is ours; its value
 * runs to the end of the piece. The rewritten header keeps every other
 * piece as it was, each preceded by the separator in force: "" before the
 * first piece, ';' after a piece, ',' after a group. '$' attributes that
 * follow our cookie are dropped with it.
 */

static void found_value(apr_pool_t *p, oac_cookie_found_t *found,
                        const char *v, apr_size_t len)
{
    if (found->value && (strlen(found->value) != len
                         || memcmp(found->value, v, len) != 0)) {
        found->duplicated = 1;
    }
    found->value = apr_pstrmemdup(p, v, len);
}

void oac_cookie_scan(apr_pool_t *p, const char *header, const char *name,
                     oac_cookie_found_t *found, const char **rest)
{
    apr_size_t nlen = strlen(name);
    /* The rewrite never outgrows the header: each separator written
     * stands for at least one delimiter of the input. */
    char *out = rest ? apr_palloc(p, strlen(header) + 1) : NULL;
    apr_size_t olen = 0;
    char sep = 0;
    int cookies = 0, eat = 0;
    const char *g = header;

    for (;;) {
        const char *gend, *t;
        while (*g == ',') {
            ++g;
        }
        if (!*g) {
            break;
        }
        gend = g + strcspn(g, ",");
        for (t = g; t < gend;) {
            const char *tend, *trim, *semi;
            while (t < gend && *t == ';') {
                ++t;
            }
            if (t == gend) {
                break;
            }
            semi = memchr(t, ';', (apr_size_t)(gend - t));
            tend = semi ? semi : gend;
            for (trim = t; trim < tend && apr_isspace(*trim); ++trim) {
            }
            if ((apr_size_t)(tend - trim) > nlen && trim[nlen] == '='
                && memcmp(trim, name, nlen) == 0) {
                found_value(p, found, trim + nlen + 1,
                            (apr_size_t)(tend - trim) - nlen - 1);
                eat = 1;
            }
            else {
                if (trim == tend || *trim != '$') {
                    ++cookies;
                    eat = 0;
                }
                if (!eat && out) {
                    if (sep) {
                        out[olen++] = sep;
                    }
                    memcpy(out + olen, t, (apr_size_t)(tend - t));
                    olen += (apr_size_t)(tend - t);
                }
            }
            sep = ';';
            t = tend;
        }
        sep = ',';
        g = gend;
    }
    if (rest) {
        out[olen] = '\0';
        *rest = cookies ? out : NULL;
    }
}
