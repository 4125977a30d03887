/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Service tokens: an app's own token (client credentials grant) for
 * service-to-service calls through OAuthProxyAPI, with no user and no
 * session. The token is kept as a provider document is
 * (mod_oauthclient_docs.c): the machine's latest in shared memory, each
 * child's parsed copy beside it, one process fetching a new one at a time.
 */
#include "mod_oauthclient_service.h"
#include "mod_oauthclient_cache.h"
#include "mod_oauthclient_docs.h"
#include "mod_oauthclient_hooks.h"

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "oac_codec.h"
#include "oac_form.h"
#include "oac_oauth2.h"
#include "oac_sign.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

/* A failed token request is not repeated for this long by any process. */
#define RETRY_SECONDS 5
/* Renewed ahead of its expiry by the smaller of this and a tenth of its
 * lifetime (contract section 11). */
#define AHEAD_SECONDS 60
/* An API's refusal renews the token at most this often: whoever can make
 * the API refuse must not make the provider issue a token per request. */
#define RENEW_SECONDS 30
/* How long one machine may hold the fetch for all, and how long the
 * others wait for its token before fetching their own. */
#define SHARED_LOCK_SECONDS 10
#define SHARED_WAIT_STEPS 50
#define SHARED_WAIT_STEP apr_time_from_msec(100)
#define SHARED_NO_EXPIRY_SECONDS 3600
/* PBKDF2 of the shared entry's name and key (about 10 ms, once per
 * process and app, with OAuthCache memcache or dbd only) */
#define SEAL_SALT "mod_oauthclient service token"
#define SEAL_ROUNDS 20000

/* What names an app's service token, per app and virtual host, made once
 * per child process. */
typedef struct {
    const char *url;        /* its document in the machine's memory */
    const char *name;       /* its entry in a shared OAuthCache */
    const char *lock;       /* the entry that lets one machine fetch */
    oac_codec_t *seal;      /* seals that entry, with a key of its own
                             * (set when shareable and shared) */
    int shareable;          /* the key holds a secret of the client's */
    /* SHA-256 of the last token an API refused here: an entry that holds
     * it (put back by whoever writes to the cache) is not taken again */
    unsigned char refused[32];
    int has_refused;
    /* what ident_of() found it by */
    const oac_app_t *conf;
    int shared, method;
    const char *token_url;
} ident_t;

static apr_pool_t *ident_pool;
static apr_hash_t *idents;
/* Moves with every child_init: a memo of an earlier child's is stale. */
static apr_uint32_t ident_epoch;
/* The ident each thread found last: a service location's requests come
 * back for the same one, and formatting its key each time cost more
 * than the rest of finding the token. */
static _Thread_local struct {
    apr_uint32_t epoch;
    const ident_t *id;
} ident_memo;
#if APR_HAS_THREADS
static apr_thread_mutex_t *ident_lock;
#endif

typedef struct {
    oac_token_t *token;
    apr_int64_t fetched_at;
} kept_t;

/* "FETCHED_AT TOKEN": what a fetch keeps */
static const void *parse(apr_pool_t *pool, const char *body, apr_size_t len,
                         const void *ctx, const char **pwhy)
{
    char *text = apr_pstrmemdup(pool, body, len), *space, *end;
    kept_t *k = apr_pcalloc(pool, sizeof(*k));

    (void)ctx;
    if (!(space = strchr(text, ' '))) {
        *pwhy = "a kept service token is damaged";
        return NULL;
    }
    *space = '\0';
    k->fetched_at = apr_strtoi64(text, &end, 10);
    if (*end || oac_token_from_string(&k->token, pwhy, pool, space + 1)
                != APR_SUCCESS
        /* sent as a header: checked again, as a session's token is, when
         * it comes from a store other processes or machines write */
        || oac_token_check_sendable(pwhy, pool, k->token, NULL)
           != APR_SUCCESS) {
        *pwhy = "a kept service token is damaged";
        return NULL;
    }
    return k;
}

static int state(const void *parsed, apr_int64_t now)
{
    const kept_t *k = parsed;
    apr_int64_t at = k->token->expires_at, ahead;

    if (!at) {
        /* No expiry given: used until the API refuses it. */
        return OAC_DOC_FRESH;
    }
    ahead = (at - k->fetched_at) / 10;
    ahead = ahead < AHEAD_SECONDS ? ahead : AHEAD_SECONDS;
    return now >= at ? OAC_DOC_EXPIRED
           : now >= at - ahead ? OAC_DOC_USABLE : OAC_DOC_FRESH;
}

static const kept_t *shared_token(request_rec *r, const ident_t *id,
                                  char **pbody, apr_size_t *plen);

static apr_status_t fetch(char **pbody, apr_size_t *plen, const char **pwhy,
                          request_rec *r, const oac_app_t *app,
                          const void *ctx)
{
    const ident_t *id = ctx;
    apr_int64_t now = oac_now();
    oac_token_t *t;
    apr_status_t rv;
    int shared = id->shareable && oac_cache_is_shared(r), i;

    if (shared) {
        /* Another machine's token, or one machine fetching for all. */
        if (shared_token(r, id, pbody, plen)) {
            goto taken;
        }
        if (oac_cache_add(r, id->lock, "L", SHARED_LOCK_SECONDS)
            == APR_EEXIST) {
            for (i = 0; i < SHARED_WAIT_STEPS; ++i) {
                apr_sleep(SHARED_WAIT_STEP);
                if (shared_token(r, id, pbody, plen)) {
                    goto taken;
                }
            }
            /* That machine took too long (or died): fetch here. */
        }
    }
    rv = oac_oauth2_client_credentials(&t, pwhy, r->pool,
                                       oac_hooked_client(r, app,
                                                         OAC_CALL_ACCESS_TOKEN),
                                       app, now);
    if (rv == APR_SUCCESS) {
        /* Sent as a header to the API: checked as a user's token is */
        rv = oac_token_check_sendable(pwhy, r->pool, t, NULL);
    }
    if (rv != APR_SUCCESS) {
        if (shared) {
            /* the other machines try for themselves now, not in 10 s */
            oac_cache_set(r, id->lock, "-", 1);
        }
        return rv;
    }
    *pbody = apr_psprintf(r->pool, "%" APR_INT64_T_FMT " %s", now,
                          oac_token_to_string(r->pool, t));
    *plen = strlen(*pbody);
    if (shared) {
        char *sealed = NULL;
        const char *why;
        /* Kept as long as it is valid (an hour without an expiry: the
         * API's refusal replaces it sooner) */
        apr_int64_t ttl = t->expires_at ? t->expires_at - now
                                        : SHARED_NO_EXPIRY_SECONDS;
        /* A body the codec refuses (over OAC_CODEC_MAX_PLAIN, far beyond
         * any token) stays on the machine, as one the cache refuses. */
        if (oac_codec_encode(&sealed, &why, r->pool, id->seal, *pbody,
                             *plen) == APR_SUCCESS
            && oac_cache_set(r, id->name, sealed,
                             ttl > 0 ? ttl : 1) == APR_SUCCESS) {
            /* the others need not wait for the lock to lapse */
            oac_cache_set(r, id->lock, "-", 1);
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00123)
                  "app %s: a service token (client credentials) was "
                  "fetched, valid %s", app->name,
                  t->expires_at ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT
                                               " s", t->expires_at - now)
                                : "until refused");
    return APR_SUCCESS;

taken:
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00131)
                  "app %s: the service token (client credentials) was taken "
                  "from OAuthCache, where another machine put it", app->name);
    return APR_SUCCESS;
}

/* SHA-256 of a token: what a process remembers of one an API refused */
static int token_digest(unsigned char md[32], const oac_token_t *t)
{
    unsigned int len = 0;
    return EVP_Digest(t->access_token, strlen(t->access_token), md, &len,
                      EVP_sha256(), NULL) == 1;
}

void oac_service_child_init(apr_pool_t *pchild)
{
    /* A pool of its own, used only under ident_lock: other parts of the
     * module allocate from pchild under their own locks. */
    if (apr_pool_create(&ident_pool, pchild) != APR_SUCCESS) {
        return;
    }
    idents = apr_hash_make(ident_pool);
    ++ident_epoch;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&ident_lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS) {
        ident_lock = NULL;
    }
#endif
}

static void digest(unsigned char md[32], const char *label, const char *what,
                   const unsigned char *secret, apr_size_t secret_len)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int len = 0;

    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(c, label, strlen(label) + 1) != 1
        || EVP_DigestUpdate(c, what, strlen(what)) != 1
        || EVP_DigestUpdate(c, secret, secret_len) != 1
        || EVP_DigestFinal_ex(c, md, &len) != 1) {
        /* Not expected with OpenSSL's SHA-256; a zero digest would only
         * merge entries, never show one to another key. */
        memset(md, 0, 32);
    }
    EVP_MD_CTX_free(c);
}

static ident_t *make_ident(apr_pool_t *p, const oac_app_t *app,
                           int shared)
{
    /* Everything the token request is made of: two apps that differ in
     * anything (an audience= parameter, another secret) never share a
     * token, and machines share one only when their apps are the same,
     * whatever their ports. A DPoP-bound token goes with its key: the
     * key's thumbprint is part of it (a key made at startup is each
     * machine's own). Hashed: the secret is in it. */
    json_t *jwk = app->dpop_signer ? oac_signer_public_jwk(app->dpop_signer)
                                   : NULL;
    const char *jkt = jwk ? oac_jwk_thumbprint(p, jwk) : NULL;
    const char *what = apr_pstrcat(p, app->name, "\n",
        jkt ? jkt : "", "\n", app->access_token_url,
        "\n", app->client_id, "\n", app->scope ? app->scope : "", "\n",
        app->access_token_params
            ? oac_form_encode(p, app->access_token_params) : "", "\n",
        oac_app_client_auth_name(app->token_endpoint_auth_method), "\n",
        app->client_secret ? app->client_secret : "", "\n",
        app->client_key_file ? app->client_key_file : "", "\n",
        app->dpop_alg ? app->dpop_alg : "", NULL);
    /* The shared entry's name and key: also from the private key, the
     * secret of a private_key_jwt client, so that only the machines that
     * hold the client's credentials can find or read its token. */
    unsigned char secret[32] = { 0 }, md[32], master[32] = { 0 };
    unsigned char key[OAC_CODEC_KEY_LEN];
    ident_t *id = apr_pcalloc(p, sizeof(*id));
    const char *b64, *why;

    json_decref(jwk);

    if (app->client_signer
        && oac_signer_secret_digest(app->client_signer, secret)) {
        id->shareable = 1;
    }
    /* Without a client secret or private key (token_endpoint_auth_method
     * none, TLS client authentication) everything the key is made of is
     * in the configuration and public metadata: whoever reads the cache
     * could open the entry, and whoever writes it could plant a token of
     * his choosing. Such a token stays on the machine. */
    if (app->client_secret && *app->client_secret) {
        id->shareable = 1;
    }
    digest(md, "document", what, secret, 0);
    id->url = apr_pstrcat(p, "client_credentials ",
                          oac_util_b64url_encode(p, md, sizeof(md)), NULL);
    if (!shared) {
        /* OAuthCache shm: no entry elsewhere to name or seal */
        id->shareable = 0;
        return id;
    }
    /* The entry's name and key from a slow hash of it all, once per
     * process: whoever can list or read the cache cannot try client
     * secrets against them at SHA-256's speed. */
    {
        apr_size_t wlen = strlen(what);
        unsigned char *pw = apr_palloc(p, wlen + sizeof(secret));
        memcpy(pw, what, wlen);
        memcpy(pw + wlen, secret, sizeof(secret));
        if (PKCS5_PBKDF2_HMAC((const char *)pw, (int)(wlen + sizeof(secret)),
                              (const unsigned char *)SEAL_SALT,
                              (int)strlen(SEAL_SALT), SEAL_ROUNDS,
                              EVP_sha256(), sizeof(master), master) != 1) {
            /* the machine keeps its token to itself */
            id->shareable = 0;
        }
        OPENSSL_cleanse(pw, wlen + sizeof(secret));
    }
    digest(md, "name", "", master, sizeof(master));
    b64 = oac_util_b64url_encode(p, md, sizeof(md));
    id->name = apr_pstrcat(p, "oacsvc:", b64, NULL);
    id->lock = apr_pstrcat(p, "oacsvl:", b64, NULL);
    /*
     * The codec does not bind the entry's name to its value. It need not:
     * the key is this entry's alone, from the same master as the name, so
     * a value copied under another entry's name does not open there. The
     * key id the codec writes in the clear comes from that master too: it
     * helps whoever tries client secrets against the cache no more than
     * the name already does.
     */
    digest(key, "seal", "", master, sizeof(master));
    OPENSSL_cleanse(master, sizeof(master));
    if (id->shareable
        && oac_codec_create_raw(&id->seal, &why, p, key) != APR_SUCCESS) {
        /* the machine keeps its token to itself */
        id->shareable = 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    return id;
}

static const ident_t *ident_of(request_rec *r, const oac_app_t *app)
{
    /* By the configured app, not the address of app: a discovered app is
     * a copy that lives as long as its metadata, and its address may later
     * be another app's. What discovery may change of the token request
     * (the token endpoint, the authentication method) is in the key too. */
    const oac_server_conf *sc = oac_server_config(r->server);
    const oac_app_t *conf = sc->apps_by_name
        ? apr_hash_get(sc->apps_by_name, app->name, APR_HASH_KEY_STRING)
        : NULL;
    int shared = oac_cache_is_shared(r);
    const char *token_url = app->access_token_url ? app->access_token_url
                                                  : "";
    const ident_t *last = ident_memo.id;
    const char *kstr;
    ident_t *id;

    if (!idents || !conf) {
        return make_ident(r->pool, app, shared);
    }
    if (last && ident_memo.epoch == ident_epoch && last->conf == conf
        && last->shared == shared
        && last->method == (int)app->token_endpoint_auth_method
        && !strcmp(last->token_url, token_url)) {
        return last;
    }
    kstr = apr_psprintf(r->pool, "%pp %d %d %s", (const void *)conf, shared,
                        (int)app->token_endpoint_auth_method, token_url);
    OAC_LOCK(ident_lock);
    if (!(id = apr_hash_get(idents, kstr, APR_HASH_KEY_STRING))) {
        id = make_ident(ident_pool, app, shared);
        id->conf = conf;
        id->shared = shared;
        id->method = (int)app->token_endpoint_auth_method;
        id->token_url = apr_pstrdup(ident_pool, token_url);
        apr_hash_set(idents, apr_pstrdup(ident_pool, kstr),
                     APR_HASH_KEY_STRING, id);
    }
    OAC_UNLOCK(ident_lock);
    ident_memo.epoch = ident_epoch;
    ident_memo.id = id;
    return id;
}

/* --- the shared OAuthCache entry ------------------------------------------ */

/* The shared entry's token, when one is there and not yet due for
 * renewal: another machine fetched it. */
static const kept_t *shared_token(request_rec *r, const ident_t *id,
                                  char **pbody, apr_size_t *plen)
{
    char *text, *body;
    const char *why;
    const kept_t *k;
    apr_size_t len;
    unsigned char md[32];
    int refused;

    if (oac_cache_get(r, id->name, &text) != APR_SUCCESS
        || oac_codec_decode(&body, &len, &why, r->pool, id->seal, text)
           != APR_SUCCESS
        || !(k = parse(r->pool, body, len, NULL, &why))
        || state(k, oac_now()) != OAC_DOC_FRESH
        /* A token without an expiry is taken from there for an hour: an
         * entry put back by whoever writes to the cache does not hold a
         * refused token for ever. */
        || (!k->token->expires_at
            && oac_now() - k->fetched_at > SHARED_NO_EXPIRY_SECONDS)) {
        return NULL;
    }
    if (!token_digest(md, k->token)) {
        return NULL;
    }
    OAC_LOCK(ident_lock);
    refused = id->has_refused && !memcmp(md, id->refused, sizeof(md));
    OAC_UNLOCK(ident_lock);
    if (refused) {
        return NULL;
    }
    *pbody = body;
    *plen = len;
    return k;
}

static void spec_for(oac_doc_spec_t *spec, const ident_t *id)
{
    memset(spec, 0, sizeof(*spec));
    spec->url = id->url;
    spec->ctx = id;
    spec->key = "access_token_url";
    spec->retry = RETRY_SECONDS;
    /* a refused token is renewed at most this often on the machine */
    spec->again = RENEW_SECONDS;
    spec->parse = parse;
    spec->fetch = fetch;
    spec->state = state;
}

const oac_token_t *oac_service_token(request_rec *r, const oac_app_t *app,
                                     const char **pwhy)
{
    oac_doc_spec_t spec;
    oac_doc_info_t info;
    const kept_t *k;

    spec_for(&spec, ident_of(r, app));
    k = oac_doc_get(r, app, &spec, 0, pwhy, &info);
    if (info.failed_now) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00124)
                      "app %s: no service token (client credentials)%s: %s",
                      app->name, k ? ", the valid one is used meanwhile" : "",
                      *pwhy);
    }
    if (k && state(k, oac_now()) == OAC_DOC_EXPIRED) {
        *pwhy = "the service token expired, and no new one could be had";
        return NULL;
    }
    return k ? k->token : NULL;
}

int oac_service_token_refused(request_rec *r, const oac_app_t *app,
                              const oac_token_t *refused)
{
    const ident_t *id = ident_of(r, app);
    oac_doc_spec_t spec;
    const kept_t *k;
    char *body;
    apr_size_t len;
    int renew;

    spec_for(&spec, id);
    renew = oac_doc_stale(r, &spec);
    /* The shared entry holding the refused token would be taken again
     * by the fetch: it goes (a newer one another machine put there
     * stays). */
    if (renew && id->shareable && oac_cache_is_shared(r)
        && (k = shared_token(r, id, &body, &len))
        && !strcmp(k->token->access_token, refused->access_token)) {
        oac_cache_set(r, id->name, "-", 1);
    }
    if (renew && id->shareable) {
        ident_t *w = (ident_t *)id;
        unsigned char md[32];
        if (token_digest(md, refused)) {
            OAC_LOCK(ident_lock);
            memcpy(w->refused, md, sizeof(md));
            w->has_refused = 1;
            OAC_UNLOCK(ident_lock);
        }
    }
    return renew;
}
