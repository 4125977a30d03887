/* Licensed under the Apache License, Version 2.0 */

/*
 * oac_pending: logins in flight, kept in the session between the login
 * redirect and the callback. A list, not a single slot, because several
 * tabs of one browser may start a login at once; each entry is taken (and
 * so spent) by the callback that names its state.
 */

#ifndef OAC_PENDING_H
#define OAC_PENDING_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *state;      /* OAuth 2: state; OAuth 1: the request token */
    const char *verifier;   /* OAuth 2 PKCE code_verifier, or NULL */
    const char *next;       /* local path to return to, or NULL */
    const char *secret;     /* OAuth 1 request-token secret, or NULL */
    apr_int64_t expires_at; /* Unix seconds; the entry is dropped from then on */
} oac_pending_t;

/*
 * The list (of oac_pending_t, oldest first) kept in s, an
 * oac_pending_encode string. s NULL or "" gives an empty list. Entries
 * with expires_at <= now are dropped. Anything that is not such a string
 * is an error (APR_EINVAL); callers treat it as an empty list.
 */
apr_status_t oac_pending_decode(apr_array_header_t **plist, const char **perr,
                                apr_pool_t *p, const char *s,
                                apr_int64_t now);

/*
 * Compact JSON text of list, "" for an empty (or NULL) list. An entry
 * without a state, or with a string that is not valid UTF-8, is left out:
 * it could never be taken back.
 */
char *oac_pending_encode(apr_pool_t *p, const apr_array_header_t *list);

/*
 * Appends a copy of *e (its strings copied into list's pool), then drops
 * the oldest entries while there are more than max (max < 1 counts as 1),
 * so a browser that starts many logins cannot grow the session forever.
 */
void oac_pending_add(apr_array_header_t *list, const oac_pending_t *e,
                     int max);

/*
 * Finds the entry whose state is state (compared with oac_util_ct_streq,
 * so never for state NULL), removes it from list (a state is single use)
 * and copies it to *out. Returns 1 if found, 0 if not (*out untouched).
 */
int oac_pending_take(oac_pending_t *out, apr_array_header_t *list,
                     const char *state);

#endif /* OAC_PENDING_H */
