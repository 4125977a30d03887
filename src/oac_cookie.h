/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Finding the session cookie in a Cookie header, with the result httpd's
 * ap_cookie_read gives and without its cost.
 *
 * ap_cookie_read splits the whole header twice with apr_strtok, which
 * calls strchr for every byte; for a 270-byte session cookie that is
 * ~17,500 instructions per request, a third of what the module adds to a
 * proxied request. The scan here finds the same cookie and flags the same
 * duplicates (t/fuzz/fuzz_cookie.c checks both against a copy of httpd's
 * algorithm). It does not rewrite the header: where the cookie is to be
 * removed (SessionCookieRemove On) mod_session_cookie still reads it.
 */
#ifndef OAC_COOKIE_H
#define OAC_COOKIE_H

#include <apr_pools.h>

typedef struct {
    /* The value of the last cookie of that name, or NULL */
    const char *value;
    /* Two cookies of that name with different values were seen: httpd
     * then gives no value at all (ap_cookie_read fails) */
    int duplicated;
} oac_cookie_found_t;

/*
 * Scans one Cookie (or Cookie2) header value for the cookie called name;
 * found carries over from one header line to the next. Values are copied
 * into p.
 */
void oac_cookie_scan(apr_pool_t *p, const char *header, const char *name,
                     oac_cookie_found_t *found);

#endif
