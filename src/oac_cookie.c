/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include "oac_cookie.h"

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

/*
 * httpd's algorithm, which this follows (server/util_cookies.c,
 * extract_cookie_line): the header is cut at ',' and ';' into pieces,
 * empty pieces skipped (apr_strtok). A piece whose text after leading
 * spaces starts with "name=" is the cookie; its value runs to the end of
 * the piece. One pass with memchr-speed scans instead of a strchr per
 * byte.
 */
void oac_cookie_scan(apr_pool_t *p, const char *header, const char *name,
                     oac_cookie_found_t *found)
{
    apr_size_t nlen = strlen(name);
    const char *t = header;

    for (;;) {
        const char *tend, *trim, *v;
        apr_size_t vlen;

        t += strspn(t, ",;");
        if (!*t) {
            return;
        }
        tend = t + strcspn(t, ",;");
        for (trim = t; trim < tend && apr_isspace(*trim); ++trim) {
        }
        if ((apr_size_t)(tend - trim) > nlen && trim[nlen] == '='
            && memcmp(trim, name, nlen) == 0) {
            v = trim + nlen + 1;
            vlen = (apr_size_t)(tend - v);
            if (found->value && (strlen(found->value) != vlen
                                 || memcmp(found->value, v, vlen) != 0)) {
                found->duplicated = 1;
            }
            found->value = apr_pstrmemdup(p, v, vlen);
        }
        t = tend;
    }
}
