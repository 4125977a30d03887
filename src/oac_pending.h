/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

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
 * list in the module's stored form (oac_util_stored_put): "P", then
 * state, verifier, next, secret and expires_at of each entry; "" for an
 * empty (or NULL) list. An entry without a state is left out: it could
 * never be taken back.
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

/*
 * The bytes list takes in a session, as oac_pending_encode writes it and
 * mod_session then URL-encodes it (every byte but [A-Za-z0-9.*_-] as %XX,
 * which the stored form never holds).
 */
apr_size_t oac_pending_stored_size(apr_pool_t *p,
                                   const apr_array_header_t *list);

/*
 * Keeps the pending logins of every app of a session (lists[0 .. n-1]) to
 * at most budget bytes in all (oac_pending_stored_size), so that a page
 * which makes a browser start login after login cannot grow the session
 * cookie past what browsers keep. Drops entries oldest first (smallest
 * expires_at, across all lists), but never the last entry of
 * lists[newest], the login being started; when that one alone is over
 * budget it loses its next (the user lands on "/"). changed[i] is set to 1
 * for every list that was changed.
 */
void oac_pending_fit(apr_pool_t *p, apr_array_header_t **lists, int n,
                     int newest, apr_size_t budget, int *changed);

#endif /* OAC_PENDING_H */
