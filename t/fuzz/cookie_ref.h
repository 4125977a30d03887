/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The reference oac_cookie_scan is held to: the part of httpd's algorithm
 * that finds the cookie, as it reads in server/util_cookies.c
 * (extract_cookie_line), strtok for strtok, slow as it is. Shared by t/fuzz/fuzz_cookie.c and t/unit/test_cookie.c.
 */
#ifndef COOKIE_REF_H
#define COOKIE_REF_H

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

static inline void cookie_ref_scan(apr_pool_t *p, const char *header,
                                   const char *cookie_name,
                                   const char **value, int *duplicated)
{
    char *last1, *last2, *next1, *next2;
    char *copy = apr_pstrdup(p, header);
    const char *name = apr_pstrcat(p, cookie_name, "=", NULL);
    apr_size_t len = strlen(name);

    for (next1 = apr_strtok(copy, ",", &last1); next1;
         next1 = apr_strtok(NULL, ",", &last1)) {
        for (next2 = apr_strtok(next1, ";", &last2); next2;
             next2 = apr_strtok(NULL, ";", &last2)) {
            char *trim = next2;
            while (apr_isspace(*trim)) {
                trim++;
            }
            if (!strncmp(trim, name, len)) {
                if (*value && strcmp(*value, trim + len)) {
                    *duplicated = 1;
                }
                *value = apr_pstrdup(p, trim + len);
            }
        }
    }
}

#endif
