/* Licensed under the Apache License, Version 2.0 */

/*
 * oac_util: encodings and small security primitives shared by the protocol
 * core. No httpd headers: only APR, OpenSSL and the C library.
 */

#ifndef OAC_UTIL_H
#define OAC_UTIL_H

#include <apr_pools.h>
#include <apr_errno.h>

/*
 * Percent-encode every byte outside ALPHA / DIGIT / "-" / "." / "_" / "~"
 * as %XX with uppercase hex (RFC 3986, as RFC 5849 section 3.6 requires).
 * s == NULL is encoded as "".
 */
char *oac_util_pct_encode(apr_pool_t *p, const char *s);

/*
 * Decode %XX (either case). If plus_as_space, '+' becomes ' '.
 * Errors: a '%' not followed by two hex digits, a decoded NUL byte.
 * s == NULL decodes to "".
 */
apr_status_t oac_util_pct_decode(char **pout, const char **perr,
                                 apr_pool_t *p, const char *s,
                                 int plus_as_space);

/* base64url (RFC 4648 section 5) without padding. */
char *oac_util_b64url_encode(apr_pool_t *p, const unsigned char *data,
                             apr_size_t len);

/*
 * Decode base64url, with or without '=' padding. Rejects any character
 * outside the base64url alphabet (so '+' and '/' too), misplaced padding,
 * an impossible length and non-zero unused trailing bits (only one encoding
 * of a given byte string is accepted). *pout is NUL-terminated for
 * convenience; *plen does not count that NUL.
 */
apr_status_t oac_util_b64url_decode(unsigned char **pout, apr_size_t *plen,
                                    const char **perr, apr_pool_t *p,
                                    const char *s);

/*
 * nbytes (1 .. 65536) bytes from OpenSSL's CSPRNG, base64url encoded
 * (ceil(4 * nbytes / 3) characters of [A-Za-z0-9_-]).
 */
apr_status_t oac_util_random_token(char **pout, const char **perr,
                                   apr_pool_t *p, apr_size_t nbytes);

/*
 * 1 if a and b are equal C strings, else 0. The time taken does not depend
 * on where the strings differ (it may depend on their lengths). NULL never
 * equals anything, not even NULL.
 */
int oac_util_ct_streq(const char *a, const char *b);

#endif /* OAC_UTIL_H */
