/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_util: encodings and small security primitives shared by the protocol
 * core. No httpd headers: only APR, OpenSSL and the C library.
 */

#ifndef OAC_UTIL_H
#define OAC_UTIL_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>

#include <jansson.h>

/*
 * Percent-encode every byte outside ALPHA / DIGIT / "-" / "." / "_" / "~"
 * as %XX with uppercase hex (RFC 3986, as RFC 5849 section 3.6 requires).
 * s == NULL is encoded as "".
 */
char *oac_util_pct_encode(apr_pool_t *p, const char *s);

/* The same written to out, which has room for 3 * strlen(s) + 1 bytes;
 * returns the end (the NUL written there). */
char *oac_util_pct_encode_into(char *out, const char *s);

/* The value of a hex digit of either case, or -1 (also for NUL). */
int oac_util_hex_value(unsigned char c);

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

/* Characters of the base64url (unpadded) of len bytes. */
#define OAC_B64URL_LEN(len) ((((apr_size_t)(len)) * 4 + 2) / 3)

/* The same into out, which has room for OAC_B64URL_LEN(len) + 1 chars
 * (NUL-terminated); returns the characters written. */
apr_size_t oac_util_b64url_encode_to(char *out, const unsigned char *data,
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

/* Largest single nonce oac_util_nonce hands out. */
#define OAC_NONCE_MAX_BYTES 64

/*
 * n (1 .. OAC_NONCE_MAX_BYTES) fresh bytes from OpenSSL's CSPRNG, drawn
 * from a per-thread batch: for values that must be unique and
 * unpredictable but are not secrets (nonces). Safe across fork(): a child
 * never repeats its parent's bytes. APR_EGENERAL when the CSPRNG fails.
 */
apr_status_t oac_util_nonce(unsigned char *out, apr_size_t n);

/*
 * Registers the fork handler oac_util_nonce relies on; called once at
 * startup, before any fork, so that a failure is reported there.
 * oac_util_nonce calls it too.
 */
apr_status_t oac_util_nonce_init(void);

/*
 * 1 if a and b are equal C strings, else 0. The time taken does not depend
 * on where the strings differ (it may depend on their lengths). NULL never
 * equals anything, not even NULL.
 */
int oac_util_ct_streq(const char *a, const char *b);

/* s cut to max bytes (never inside a UTF-8 sequence) and then marked
 * OAC_UTIL_CUT, control characters replaced by '?': for provider text that
 * reaches logs and error pages. */
#define OAC_UTIL_CUT "[...]"
const char *oac_util_sanitize(apr_pool_t *p, const char *s, apr_size_t max);

/* msg with every occurrence of each of the count secrets (NULL or empty
 * ones skipped), or of its percent-encoded form, replaced by "[redacted]":
 * providers sometimes quote what they were sent, and messages go to logs
 * and error pages. A secret that oac_util_sanitize() cut is redacted as
 * well: the start of it (four bytes or more) before OAC_UTIL_CUT. */
const char *oac_util_redact(apr_pool_t *p, const char *msg,
                            const char *const *secrets, int count);

/* scheme://host[:port]/path of url, without user info or query (which may
 * carry secrets), or "(invalid URL)". */
const char *oac_util_url_for_message(apr_pool_t *p, const char *url);

/* 1 if every byte is printable ASCII (%x20-7E, RFC 6749's VSCHAR): tokens
 * end up in headers and URLs. */
int oac_util_is_vschar(const char *s);

/* 1 if s has a control character (below 0x20, or 0x7F): a header or an
 * environment variable would end there, or begin a new one. */
int oac_util_has_control(const char *s);
/* 1 if s may be a header field's value as it is written (RFC 9110 5.5):
 * no control character but the tab, so no CR or LF to end the line. */
int oac_util_is_field_value(const char *s);

/*
 * The module's stored form for what it keeps in a session (the token,
 * the logins in flight): a prefix, then fields each written as '.'
 * followed by its bytes, those outside [A-Za-z0-9_-] as "*XX" (uppercase
 * hex); NULL as an empty field, "" as "*". mod_session stores it as it is
 * (nothing in it needs URL-encoding), and reading it back is a few scans.
 */

/* The most bytes oac_util_stored_put writes for v, its '.' included. */
apr_size_t oac_util_stored_room(const char *v);
/* Writes '.' and v at o; returns where it stopped (no NUL written). */
char *oac_util_stored_put(char *o, const char *v);
/*
 * The fields of s, a sequence of fields as oac_util_stored_put writes
 * them: an array of const char * (NULL for an empty field) in *pfields.
 * APR_EINVAL for s not starting with '.', or a field with a byte outside
 * the alphabet, a bad escape or an escaped NUL (*pindex: that field,
 * counted from 0; -1 for the start).
 */
apr_status_t oac_util_stored_split(apr_array_header_t **pfields,
                                   int *pindex, apr_pool_t *p,
                                   const char *s);
/* Unix seconds as stored: digits only, at most 18; 0 for anything else. */
int oac_util_stored_seconds(apr_int64_t *pv, const char *s);
/* Whether a line said at most once every so many seconds is due at now
 * (seconds), for the calling thread: of the threads that ask at once, one
 * is told yes. said_at (0 at first) is shared by those that say it. */
int oac_util_say_due(volatile apr_uint32_t *said_at, apr_int64_t now,
                     apr_uint32_t every);

/* v (a reference the caller gives up) owned by p from now on: released
 * when p is cleared or destroyed. Returns v. */
json_t *oac_util_json_owned(apr_pool_t *p, json_t *v);

/* The most '{', '[' and ',' a JSON text from a provider or a browser may
 * hold (a bound on its values, each past the first behind one of them): a
 * 1 MiB answer of "[{},{},...]" took Jansson 80 MB of heap to parse, in
 * every thread that read one; 40,000 is at most ~5 MB. The largest real
 * ones (a key set of 64 keys, a discovery document, a user's groups)
 * hold a few thousand. */
#define OAC_JSON_MAX_VALUES 40000

/* json_loadb, after a scan that refuses a text of more than
 * OAC_JSON_MAX_VALUES of those (err->text says so) before Jansson builds
 * any of it. */
json_t *oac_util_json_loadb(const char *buf, size_t len, size_t flags,
                            json_error_t *err);
/* 1 when oac_util_json_loadb refused for that limit, not for the syntax
 * (err as it filled it in). */
int oac_util_json_too_large(const json_error_t *err);

#endif /* OAC_UTIL_H */
