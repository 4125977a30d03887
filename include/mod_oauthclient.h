/*
 * mod_oauthclient public interface, for modules that extend it.
 *
 * Install with 'make install' (into apxs' include directory) and build an
 * extension with apxs alone. The compliance hooks (access_token_response,
 * refresh_token_response, refresh_token_request, protected_request) are
 * declared here as they land; until then this header only names the module
 * and its version.
 */
#ifndef MOD_OAUTHCLIENT_H
#define MOD_OAUTHCLIENT_H

#define MOD_OAUTHCLIENT_VERSION "0.1.0"

/* The module record's symbol, for LoadModule. */
#define MOD_OAUTHCLIENT_MODULE oauthclient_module

#endif
