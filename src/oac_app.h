/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The remote-application model: what an administrator declares with
 * OAuthRemoteApp, checked and turned into a typed oac_app_t.
 *
 * Declarations are kept as raw key/value tables until the whole
 * configuration is read, because an app may be spread over several lines
 * and a virtual host may override one key of a server-level app: only the
 * merged table can be checked for required keys.
 */
#ifndef OAC_APP_H
#define OAC_APP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

typedef enum {
    OAC_OAUTH1 = 1,
    OAC_OAUTH2 = 2
} oac_oauth_version_e;

typedef enum {
    OAC_AUTH_CLIENT_SECRET_BASIC = 0,
    OAC_AUTH_CLIENT_SECRET_POST,
    OAC_AUTH_NONE,
    OAC_AUTH_CLIENT_SECRET_JWT,     /* RFC 7523 assertion, HS256 by the secret */
    OAC_AUTH_PRIVATE_KEY_JWT        /* RFC 7523 assertion by client_key_file */
} oac_client_auth_e;

typedef enum {
    OAC_PLACE_HEADER = 0,
    OAC_PLACE_URI,
    OAC_PLACE_BODY
} oac_placement_e;

typedef enum {
    OAC_SIG_HMAC_SHA1 = 0,
    OAC_SIG_HMAC_SHA256,
    OAC_SIG_RSA_SHA1,
    OAC_SIG_PLAINTEXT
} oac_sig_method_e;

/* One app as written: key -> value, the later declaration winning. */
typedef struct {
    const char *name;
    apr_table_t *keys;
    const char *where;      /* "file:line" of its latest line, for messages */
} oac_app_decl_t;

typedef struct {
    const char *name;
    oac_oauth_version_e version;
    const char *client_id;
    const char *client_secret;        /* never logged, never shown */
    const char *request_token_url;
    apr_array_header_t *request_token_params;   /* oac_param_t */
    const char *access_token_url;
    apr_array_header_t *access_token_params;    /* oac_param_t */
    const char *refresh_token_url;    /* defaults to access_token_url */
    const char *revocation_endpoint;  /* RFC 7009, called on logout, or NULL */
    const char *issuer;               /* the provider's issuer identifier, or NULL */
    const char *server_metadata_url;  /* discovery (oac_metadata.c), or NULL */
    const char *jwks_uri;             /* from the metadata, or NULL */
    const char *end_session_endpoint; /* RP-initiated logout, or NULL */
    const char *post_logout_redirect_uri; /* path or URL, or NULL for / */
    int iss_required;                 /* the metadata says responses carry iss */
    int oidc;                         /* the scope has openid: id_tokens are checked */
    const char *id_token_algs;        /* "RS256,ES256", or NULL for the default */
    int leeway;                       /* seconds of clock skew on exp, iat */
    const char *authorize_url;
    apr_array_header_t *authorize_params;       /* oac_param_t */
    const char *api_base_url;         /* or NULL */
    const char *scope;                /* or NULL */
    int pkce_s256;
    oac_client_auth_e token_endpoint_auth_method;
    oac_placement_e token_placement;
    oac_sig_method_e signature_method;
    const char *rsa_key_file;         /* or NULL */
    EVP_PKEY *rsa_key;                /* loaded from rsa_key_file */
    const char *realm;                /* OAuth 1 Authorization realm, or NULL */
    apr_array_header_t *compliance_fixes;       /* const char * */
    const char *token_field_map;      /* "from:to,..." or NULL */
    const char *redirect_uri;         /* as configured: a path or an absolute URL */
    const char *redirect_path;        /* the path the module intercepts */
    const char *login_path;
    const char *logout_path;
    const char *userinfo_endpoint;    /* absolute URL (joined with api_base_url), or NULL */
    const char *user_claim;           /* or NULL */
    /* contract section 11 */
    const char *client_key_file;      /* private_key_jwt's key, or NULL */
    const char *client_key_id;        /* its kid, or NULL */
    const char *apple_team_id;        /* compliance_fix=apple: iss of its client_secret */
    struct oac_signer_t *client_signer;   /* loaded from client_key_file */
    const char *dpop_alg;             /* dpop_signing_alg: DPoP on, or NULL */
    const char *dpop_key_file;        /* or NULL: a key made at startup */
    struct oac_signer_t *dpop_signer;
    const char *par_endpoint;         /* pushed_authorization_request_endpoint */
    int par_required;                 /* the metadata requires PAR */
    int fapi2;                        /* security_profile=fapi2 */
    /* Who vouches for a login to this app (see oac_app_session_bind):
     * kept with it in the session, compared when it is used. */
    const char *session_bind;
} oac_app_t;

/* Splits the arguments of one OAuthRemoteApp line into key=value pairs
 * (oac_param_t). A value may be quoted with " or ' (scope="openid email"),
 * or the whole pair may be ("scope=openid email"); \" and \\ escape inside
 * quotes. */
apr_status_t oac_app_tokenize(apr_array_header_t **ppairs, const char **perr,
                              apr_pool_t *p, const char *line);

oac_app_decl_t *oac_app_decl_make(apr_pool_t *p, const char *name);

/* Checks what can be checked of one key on its own (known key, URL syntax,
 * enum value, form syntax) and records it in decl: key and value, which
 * must live as long as p, are kept, not copied. */
apr_status_t oac_app_decl_set(const char **perr, apr_pool_t *p,
                              oac_app_decl_t *decl, const char *key,
                              const char *value);

/* base's keys overlaid with add's: a virtual host's override of one key. */
oac_app_decl_t *oac_app_decl_merge(apr_pool_t *p, const oac_app_decl_t *base,
                                   const oac_app_decl_t *add);

/*
 * A short fingerprint of what makes a login to app the login it is: the
 * client and the provider that vouched for the user (client_id, issuer,
 * discovery URL, token, request token and userinfo endpoints) and how the
 * user's name is read (user_claim, token_field_map, compliance_fix), not
 * the app's name. Two apps of one name (two virtual hosts, one session
 * passphrase) with another provider or client differ, so a session made
 * at one is not taken at the other; an app whose provider changed does
 * not take the sessions made before.
 */
const char *oac_app_session_bind(apr_pool_t *p, const oac_app_t *app);

/*
 * A DPoP key made at startup (no dpop_key_file) is made in keep and
 * found there again by the next oac_app_finalize of the same app (name,
 * algorithm, client, provider), so it outlives a reading of the
 * configuration: httpd passes its process pool, and a graceful restart
 * (logrotate's, daily) no longer orphans every DPoP-bound token. NULL
 * (the default): a new key each time, in the finalizing pool.
 */
void oac_app_keep_generated_keys(apr_pool_t *keep);

/* Unpacks client_kwargs (an explicit key wins), applies defaults, and checks
 * what needs the whole declaration: required keys for the OAuth version,
 * keys that do not apply to it; loads rsa_key_file (freed with p). */
apr_status_t oac_app_finalize(oac_app_t **papp, const char **perr,
                              apr_pool_t *p, const oac_app_decl_t *decl);

/* Checks the apps of one virtual host against each other (paths shared by
 * two apps). */
apr_status_t oac_app_check_set(const char **perr, apr_pool_t *p,
                               const apr_array_header_t *apps);

const char *oac_app_client_auth_name(oac_client_auth_e m);
const char *oac_app_placement_name(oac_placement_e m);
const char *oac_app_sig_method_name(oac_sig_method_e m);

/* Whether the space-separated scope holds the value want. */
int oac_scope_has(const char *scope, const char *want);

#endif
