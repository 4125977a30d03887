/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* The one implementation of oac_http.h, over libcurl.
 *
 * Lifecycle in httpd:
 * - oac_http_curl_global_init() from a single-threaded phase (post_config
 *   or child_init). It is idempotent, but curl_global_init() itself is not
 *   thread-safe against other modules (mod_md, mod_auth_openidc) calling it
 *   concurrently, so do not call it first from a worker thread.
 * - oac_http_curl_create() in child_init, on the child's pool. The client
 *   may be shared by all threads of that process.
 * - A client created before fork() is meant to be used in the children
 *   only. Should a child use a client whose parent already made requests,
 *   the child detects the pid change and drops (without closing) the
 *   inherited idle connections, so it never writes into a socket the
 *   parent still owns. The parent must not use the client after forking.
 * - The client's pool must not be destroyed while requests are in flight.
 * - libcurl honours the usual proxy environment variables (http_proxy,
 *   https_proxy, no_proxy) of the process.
 */

#ifndef OAC_HTTP_CURL_H
#define OAC_HTTP_CURL_H

#include <apr_pools.h>

#include "oac_http.h"

apr_status_t oac_http_curl_global_init(const char **perr);

/* Creates a thread-safe client living as long as pool p. opts NULL means
 * all defaults (verification on); otherwise start from
 * oac_http_options_init(), since verify_tls is taken as given and 0 turns
 * verification off. The strings in opts are copied. */
apr_status_t oac_http_curl_create(oac_http_client_t **pclient,
                                  const char **perr, apr_pool_t *p,
                                  const oac_http_options_t *opts);

#endif /* OAC_HTTP_CURL_H */
