/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_redirect: the open-redirect defence for the login's `next`
 * parameter. Only a path the browser resolves on this origin may become a
 * Location after login.
 */

#ifndef OAC_REDIRECT_H
#define OAC_REDIRECT_H

/* Longest `next` accepted, in bytes: it is kept in the session (in the
 * cookie, for cookie sessions) while the login is at the provider. */
#define OAC_REDIRECT_MAX_LEN 1024

/*
 * 1 when next is a local path, else 0 (also for NULL and "").
 *
 * Accepted: at most OAC_REDIRECT_MAX_LEN bytes of printable ASCII
 * (%x21-7E) other than '\', starting with exactly one '/' (so no scheme,
 * no "//host" and no "/\host", which browsers read as another host), with
 * valid percent-encoding. A query and a fragment are allowed
 * ("/app?x=1#y"); non-ASCII must be percent-encoded ("/caf%C3%A9").
 *
 * Because some servers and frameworks decode a path before redirecting
 * with it, the same dangerous shapes are refused once percent-decoded, up
 * to three times: a decoded control character (CR, LF, TAB, NUL, ...) or
 * '\' anywhere, or a decoded "//" at the start ("/%2F%2Fevil",
 * "/%5Cevil", "/%09/evil", "%0d%0a" are all refused). A decoded space is
 * fine ("/my%20docs").
 */
int oac_redirect_is_local(const char *next);

#endif /* OAC_REDIRECT_H */
