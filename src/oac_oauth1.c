/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_uri.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "oac_form.h"
#include "oac_oauth1.h"
#include "oac_url.h"
#include "oac_util.h"

/* 16 bytes = 128 bits: a nonce that never repeats by chance. */
#define OAC_OAUTH1_NONCE_BYTES 16

/* Provider text (oauth_problem) reaches logs and error pages: keep it short. */
#define OAC_OAUTH1_ERROR_TEXT_MAX 200

/* A PEM private key is a few KiB; anything far larger is not one. */
#define OAC_OAUTH1_PEM_MAX ((apr_size_t)1024 * 1024)


/* ---- small helpers ------------------------------------------------------- */




/* ASCII only: toupper()/tolower() would follow LC_CTYPE. */
static char *ascii_case(apr_pool_t *p, const char *s, int upper)
{
    char *out = apr_pstrdup(p, s), *c;

    for (c = out; *c; ++c) {
        if (upper && *c >= 'a' && *c <= 'z') {
            *c = (char)(*c - 'a' + 'A');
        }
        else if (!upper && *c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return out;
}

/* RFC 5849 section 3.4.1.1 takes the method as a token: no separators,
 * spaces or controls, which would change the base string's structure. */
static int is_http_token(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) {
            return 0;
        }
    }
    return 1;
}


static const char *sig_method_name(oac_sig_method_e m)
{
    switch (m) {
    case OAC_SIG_HMAC_SHA1:
        return "HMAC-SHA1";
    case OAC_SIG_HMAC_SHA256:
        return "HMAC-SHA256";
    case OAC_SIG_RSA_SHA1:
        return "RSA-SHA1";
    case OAC_SIG_PLAINTEXT:
        return "PLAINTEXT";
    }
    return NULL;
}

/*
 * OpenSSL's reason for the last failure, then its error queue cleared:
 * the queue is per thread, and a stale entry would be blamed on the next
 * unrelated call in this worker.
 */
static const char *openssl_reason(apr_pool_t *p)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason, *data = NULL;
    int flags = 0;
    char buf[256];

    if (e == 0) {
        return "unknown OpenSSL error";
    }
    reason = ERR_reason_error_string(e);
    if (!reason) {
        ERR_error_string_n(e, buf, sizeof(buf));
        reason = buf;
    }
    /* OpenSSL 3's decoders put the useful part in the data ("No supported
     * data to decode. Input type: PEM"); the reason alone is
     * "unsupported". */
    if (ERR_peek_last_error_data(&data, &flags) && (flags & ERR_TXT_STRING)
        && data && *data) {
        reason = apr_psprintf(p, "%s: %s", reason, data);
    }
    else {
        reason = apr_pstrdup(p, reason);
    }
    ERR_clear_error();
    return reason;
}

/* Standard base64 with padding (RFC 5849 section 3.4.2 and 3.4.3). */
static char *b64_encode(apr_pool_t *p, const unsigned char *data,
                        apr_size_t len)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));

    apr_base64_encode_binary(out, data, (int)len);
    return out;
}

/* ---- base string (section 3.4.1) ----------------------------------------- */

/* The base string URI and the raw query of url (NULL when none). */
static apr_status_t split_url(const char **pbsuri, const char **pquery,
                              const char **perr, apr_pool_t *p,
                              const char *url)
{
    apr_uri_t uri;
    const char *why, *scheme, *host, *path, *port = "";
    apr_port_t default_port;

    if (oac_url_check(&uri, &why, p, url) != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "cannot sign request: ", why, NULL);
        return APR_EINVAL;
    }
    scheme = ascii_case(p, uri.scheme, 0);
    host = ascii_case(p, uri.hostname, 0);
    /* apr_uri_parse strips the brackets of an IPv6 literal. */
    if (strchr(host, ':')) {
        host = apr_pstrcat(p, "[", host, "]", NULL);
    }
    default_port = strcmp(scheme, "https") == 0 ? 443 : 80;
    if (uri.port_str && *uri.port_str && uri.port != default_port) {
        port = apr_psprintf(p, ":%u", (unsigned)uri.port);
    }
    /* As sent on the request line: no normalisation of the path. */
    path = uri.path && *uri.path ? uri.path : "/";
    *pbsuri = apr_pstrcat(p, scheme, "://", host, port, path, NULL);
    *pquery = uri.query;
    return APR_SUCCESS;
}

apr_status_t oac_oauth1_base_string_uri(char **pout, const char **perr,
                                        apr_pool_t *p, const char *url)
{
    const char *bsuri, *query;
    apr_status_t rv;

    if ((rv = split_url(&bsuri, &query, perr, p, url)) != APR_SUCCESS) {
        return rv;
    }
    *pout = (char *)bsuri;
    return APR_SUCCESS;
}

typedef struct {
    const char *name;    /* percent-encoded */
    const char *value;   /* percent-encoded */
    apr_size_t name_len, value_len;
} enc_param_t;

/* An already percent-encoded string encoded once more: only '%' changes. */
static char *encode_again(char *o, const char *s, apr_size_t len)
{
    const char *end = s + len;

    for (; s < end; ++s) {
        if (*s == '%') {
            memcpy(o, "%25", 3);
            o += 3;
        }
        else {
            *o++ = *s;
        }
    }
    return o;
}

/* Section 3.4.1.3.2: by encoded name, then encoded value, byte order
 * (strcmp compares as unsigned char). */
static int enc_param_cmp(const void *a, const void *b)
{
    const enc_param_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Appends the encoded form of params, skipping oauth_signature always and
 * "realm" when skip_realm. */
static void add_encoded(apr_array_header_t *out, apr_pool_t *p,
                        const apr_array_header_t *params, int skip_realm)
{
    const oac_param_t *in;
    int i;

    if (!params) {
        return;
    }
    in = (const oac_param_t *)params->elts;
    for (i = 0; i < params->nelts; ++i) {
        enc_param_t *e;

        if (!in[i].name || strcmp(in[i].name, "oauth_signature") == 0
            || (skip_realm && strcmp(in[i].name, "realm") == 0)) {
            continue;
        }
        e = apr_array_push(out);
        e->name = oac_util_pct_encode(p, in[i].name);
        e->value = oac_util_pct_encode(p, in[i].value);
        e->name_len = strlen(e->name);
        e->value_len = strlen(e->value);
    }
}

/*
 * The base string over url's query, header_params (the Authorization
 * header's: a realm there is not signed) and body_params (all signed).
 */
static apr_status_t build_base_string(char **pout, const char **perr,
                                      apr_pool_t *p, const char *method,
                                      const char *url,
                                      const apr_array_header_t *header_params,
                                      const apr_array_header_t *body_params)
{
    apr_array_header_t *enc = apr_array_make(p, 16, sizeof(enc_param_t));
    apr_array_header_t *query_params;
    const char *bsuri, *query, *why;
    apr_size_t room;
    char *out, *o;
    apr_status_t rv;
    int i;

    if (!is_http_token(method)) {
        *perr = "cannot sign request: the HTTP method is empty or not a "
                "valid token";
        return APR_EINVAL;
    }
    if ((rv = split_url(&bsuri, &query, perr, p, url)) != APR_SUCCESS) {
        return rv;
    }
    if (oac_form_decode(&query_params, &why, p, query) != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "cannot sign request: URL query: ", why,
                            NULL);
        return APR_EINVAL;
    }
    add_encoded(enc, p, query_params, 0);
    add_encoded(enc, p, header_params, 1);
    add_encoded(enc, p, body_params, 0);
    qsort(enc->elts, (size_t)enc->nelts, sizeof(enc_param_t), enc_param_cmp);

    /* METHOD & pct(bsuri) & pct(name=value&...): the joined parameters
     * are already encoded, so encoding them again only turns '%' into
     * "%25" and the separators into "%3D" and "%26". One buffer, sized
     * for the worst case (every encoded byte a '%'). */
    room = strlen(method) + 3 * strlen(bsuri) + 3;
    for (i = 0; i < enc->nelts; ++i) {
        const enc_param_t *e = &APR_ARRAY_IDX(enc, i, enc_param_t);

        room += 3 * (e->name_len + e->value_len) + 6;
    }
    out = o = apr_palloc(p, room);
    for (i = 0; method[i]; ++i) {
        *o++ = apr_toupper(method[i]);
    }
    *o++ = '&';
    o = oac_util_pct_encode_into(o, bsuri);
    *o++ = '&';
    for (i = 0; i < enc->nelts; ++i) {
        const enc_param_t *e = &APR_ARRAY_IDX(enc, i, enc_param_t);

        if (i > 0) {
            memcpy(o, "%26", 3);
            o += 3;
        }
        o = encode_again(o, e->name, e->name_len);
        memcpy(o, "%3D", 3);
        o += 3;
        o = encode_again(o, e->value, e->value_len);
    }
    *o = '\0';
    *pout = out;
    return APR_SUCCESS;
}

apr_status_t oac_oauth1_base_string(char **pout, const char **perr,
                                    apr_pool_t *p, const char *method,
                                    const char *url,
                                    const apr_array_header_t *params)
{
    return build_base_string(pout, perr, p, method, url, params, NULL);
}

/* ---- signatures (sections 3.4.2 - 3.4.4) --------------------------------- */

/* pct(consumer_secret) "&" pct(token_secret): the HMAC key and the
 * PLAINTEXT signature. */
static char *signing_key(apr_pool_t *p, const oac_oauth1_creds_t *c)
{
    return apr_pstrcat(p, oac_util_pct_encode(p, c->consumer_secret), "&",
                       oac_util_pct_encode(p, c->token_secret), NULL);
}

/* Setting up an HMAC context (fetching the MAC and the digest) costs as
 * much as the MAC itself, so each thread keeps one per digest and only
 * re-keys it. Most of httpd's threads live as long as the process, not
 * all: mod_http2's workers beyond its minimum end when idle, so a
 * thread's contexts and key are freed and wiped when it ends. */
static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_thread_end;
static int hmac_thread_end_ok;
static _Thread_local EVP_MAC_CTX *hmac_ctx[2];
/* The key each context was last keyed with. Keying costs two hash blocks
 * and OpenSSL's dispatch, a third of the HMAC of a base string; a user's
 * API calls come back to the same thread with the same key, and a
 * context keyed once is reset with the same key for free. The context
 * holds what the key gives anyway (the padded hash states), so keeping
 * the key beside it exposes nothing more. */
#define HMAC_KEY_CACHE_MAX 256
static _Thread_local struct {
    apr_size_t len;             /* 0: none */
    unsigned char key[HMAC_KEY_CACHE_MAX];
} hmac_key[2];

/* A thread that kept contexts ends (pthread key destructor). */
static void free_thread_hmac(void *unused)
{
    int i;

    (void)unused;
    for (i = 0; i < 2; ++i) {
        EVP_MAC_CTX_free(hmac_ctx[i]);
        hmac_ctx[i] = NULL;
        OPENSSL_cleanse(&hmac_key[i], sizeof(hmac_key[i]));
    }
}

static void fetch_hmac(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_thread_end_ok = pthread_key_create(&hmac_thread_end,
                                            free_thread_hmac) == 0;
}

/* The thread's context for digest, or -1: a digest without one of its
 * own must never be computed in another's context. */
static int digest_slot(const char *digest)
{
    return !strcmp(digest, "SHA1") ? 0 : !strcmp(digest, "SHA256") ? 1 : -1;
}

static EVP_MAC_CTX *thread_hmac(const char *digest)
{
    int slot = digest_slot(digest);
    OSSL_PARAM params[2];

    if (slot < 0) {
        return NULL;
    }
    if (hmac_ctx[slot]) {
        return hmac_ctx[slot];
    }
    pthread_once(&hmac_once, fetch_hmac);
    /* None is made that could not be freed when the thread ends (no
     * pthread key left in the process: the signature fails, saying so) */
    if (!hmac_alg || !hmac_thread_end_ok
        || pthread_setspecific(hmac_thread_end, hmac_ctx) != 0
        || !(hmac_ctx[slot] = EVP_MAC_CTX_new(hmac_alg))) {
        return NULL;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_CTX_set_params(hmac_ctx[slot], params)) {
        EVP_MAC_CTX_free(hmac_ctx[slot]);
        hmac_ctx[slot] = NULL;
    }
    return hmac_ctx[slot];
}

/* EVP_MAC_init with the key, or without it (the same key again). */
static int hmac_init(EVP_MAC_CTX *ctx, int slot, const char *key,
                     apr_size_t keylen)
{
    int same = hmac_key[slot].len == keylen
               && CRYPTO_memcmp(hmac_key[slot].key, key, keylen) == 0;

    if (same && keylen) {
        return EVP_MAC_init(ctx, NULL, 0, NULL);
    }
    OPENSSL_cleanse(&hmac_key[slot], sizeof(hmac_key[slot]));
    if (!EVP_MAC_init(ctx, (const unsigned char *)key, keylen, NULL)) {
        return 0;
    }
    if (keylen && keylen <= HMAC_KEY_CACHE_MAX) {
        memcpy(hmac_key[slot].key, key, keylen);
        hmac_key[slot].len = keylen;
    }
    return 1;
}

static apr_status_t hmac_signature(char **psig, const char **perr,
                                   apr_pool_t *p, const char *digest,
                                   const oac_oauth1_creds_t *c,
                                   const char *base_string)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    char *key = signing_key(p, c);
    apr_size_t keylen = strlen(key);
    EVP_MAC_CTX *ctx = thread_hmac(digest);
    int ok;

    ok = ctx && hmac_init(ctx, digest_slot(digest), key, keylen)
         && EVP_MAC_update(ctx, (const unsigned char *)base_string,
                           strlen(base_string))
         && EVP_MAC_final(ctx, mac, &maclen, sizeof(mac));
    /* The pool outlives this call; the key is the secrets in clear. */
    OPENSSL_cleanse(key, keylen);
    if (!ok) {
        *perr = apr_psprintf(p, "HMAC-%s signature failed: %s", digest,
                             openssl_reason(p));
        return APR_EGENERAL;
    }
    *psig = b64_encode(p, mac, maclen);
    return APR_SUCCESS;
}

static apr_status_t rsa_signature(char **psig, const char **perr,
                                  apr_pool_t *p, EVP_PKEY *key,
                                  const char *base_string)
{
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    apr_size_t len = strlen(base_string);
    apr_status_t rv = APR_EGENERAL;

    if (!key) {
        *perr = "RSA-SHA1 signature needs an RSA private key (rsa_key_file)";
        return APR_EINVAL;
    }
    if (!EVP_PKEY_is_a(key, "RSA")) {
        *perr = "RSA-SHA1 signature needs an RSA key, not another type";
        return APR_EINVAL;
    }
    if (!(ctx = EVP_MD_CTX_new())
        || EVP_DigestSignInit_ex(ctx, &pctx, "SHA1", NULL, NULL, key,
                                 NULL) != 1
        /* RFC 5849 section 3.4.3 names RSASSA-PKCS1-v1_5; say so rather
         * than rely on the default. */
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0
        || EVP_DigestSign(ctx, NULL, &siglen,
                          (const unsigned char *)base_string, len) != 1) {
        goto openssl_failed;
    }
    sig = apr_palloc(p, siglen);
    if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)base_string,
                       len) != 1) {
        goto openssl_failed;
    }
    *psig = b64_encode(p, sig, siglen);
    rv = APR_SUCCESS;
    goto leave;

openssl_failed:
    *perr = apr_psprintf(p, "RSA-SHA1 signature failed: %s",
                         openssl_reason(p));
leave:
    EVP_MD_CTX_free(ctx);
    return rv;
}

apr_status_t oac_oauth1_signature(char **psig, const char **perr,
                                  apr_pool_t *p, const oac_oauth1_creds_t *c,
                                  const char *base_string)
{
    if (!c || !base_string) {
        *perr = "cannot sign request: no credentials or no base string";
        return APR_EINVAL;
    }
    switch (c->method) {
    case OAC_SIG_HMAC_SHA1:
        return hmac_signature(psig, perr, p, "SHA1", c, base_string);
    case OAC_SIG_HMAC_SHA256:
        return hmac_signature(psig, perr, p, "SHA256", c, base_string);
    case OAC_SIG_RSA_SHA1:
        return rsa_signature(psig, perr, p, c->rsa_key, base_string);
    case OAC_SIG_PLAINTEXT:
        *psig = signing_key(p, c);
        return APR_SUCCESS;
    }
    *perr = apr_psprintf(p, "unknown OAuth 1 signature method %d",
                         (int)c->method);
    return APR_EINVAL;
}

/* ---- the Authorization header (section 3.5.1) ---------------------------- */

/* realm is written as a quoted-string without escapes: anything that would
 * need one (or could split the header) is refused. */
static int is_plain_quoted_text(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Adds the extra protocol parameters after checking each: an oauth_ name,
 * and not one already set (the provider would reject a repeat, and a
 * caller must not be able to replace the signature or the token). */
static apr_status_t add_extra_oauth(apr_array_header_t *oauth,
                                    const char **perr, apr_pool_t *p,
                                    const apr_array_header_t *extra)
{
    const oac_param_t *e;
    int i;

    if (!extra) {
        return APR_SUCCESS;
    }
    e = (const oac_param_t *)extra->elts;
    for (i = 0; i < extra->nelts; ++i) {
        if (!e[i].name || strncmp(e[i].name, "oauth_", 6) != 0
            || !e[i].name[6]) {
            *perr = apr_psprintf(p, "extra OAuth protocol parameter '%s' "
                                 "does not start with oauth_",
                                 oac_util_sanitize(p, e[i].name
                                                      ? e[i].name : "", 64));
            return APR_EINVAL;
        }
        if (strcmp(e[i].name, "oauth_signature") == 0
            || oac_form_get(oauth, e[i].name)) {
            *perr = apr_psprintf(p, "extra OAuth protocol parameter '%s' "
                                 "is set more than once",
                                 oac_util_sanitize(p, e[i].name, 64));
            return APR_EINVAL;
        }
        oac_form_add(oauth, e[i].name, e[i].value ? e[i].value : "");
    }
    return APR_SUCCESS;
}

static apr_status_t check_creds(const char **perr, apr_pool_t *p,
                                const oac_oauth1_creds_t *c)
{
    if (!c) {
        *perr = "cannot sign request: no OAuth 1 credentials";
        return APR_EINVAL;
    }
    if (!sig_method_name(c->method)) {
        *perr = apr_psprintf(p, "unknown OAuth 1 signature method %d",
                             (int)c->method);
        return APR_EINVAL;
    }
    if (!c->consumer_key || !*c->consumer_key) {
        *perr = "cannot sign request: no consumer key (client_id)";
        return APR_EINVAL;
    }
    if (c->method == OAC_SIG_RSA_SHA1 && !c->rsa_key) {
        *perr = "cannot sign request: RSA-SHA1 needs an RSA private key "
                "(rsa_key_file)";
        return APR_EINVAL;
    }
    if (c->realm && !is_plain_quoted_text(c->realm)) {
        *perr = "cannot sign request: realm contains '\"', '\\' or a "
                "control character";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* OAuth realm="...", name="pct(value)", ... in one buffer. */
static char *header_value(apr_pool_t *p, const char *realm,
                          const apr_array_header_t *oauth)
{
    const oac_param_t *o = (const oac_param_t *)oauth->elts;
    apr_size_t room = sizeof("OAuth realm=\"\"") + (realm ? strlen(realm) : 0);
    char *out, *w;
    int i;

    for (i = 0; i < oauth->nelts; ++i) {
        room += 3 * (strlen(o[i].name) + strlen(o[i].value)) + 5;
    }
    out = w = apr_palloc(p, room);
    memcpy(w, "OAuth ", 6);
    w += 6;
    if (realm) {
        w += sprintf(w, "realm=\"%s\"", realm);
    }
    for (i = 0; i < oauth->nelts; ++i) {
        if (i > 0 || realm) {
            *w++ = ',';
            *w++ = ' ';
        }
        w = oac_util_pct_encode_into(w, o[i].name);
        *w++ = '=';
        *w++ = '"';
        w = oac_util_pct_encode_into(w, o[i].value);
        *w++ = '"';
    }
    *w = '\0';
    return out;
}

apr_status_t oac_oauth1_sign_request(char **pauth_header, const char **perr,
                                     apr_pool_t *p,
                                     const oac_oauth1_creds_t *c,
                                     const char *method, const char *url,
                                     const apr_array_header_t *body_params,
                                     const apr_array_header_t *extra_oauth,
                                     const char *nonce,
                                     apr_int64_t timestamp)
{
    apr_array_header_t *oauth = oac_form_make(p);
    char *base, *sig;
    apr_status_t rv;

    if ((rv = check_creds(perr, p, c)) != APR_SUCCESS) {
        return rv;
    }
    if (timestamp < 0) {
        *perr = "cannot sign request: negative timestamp";
        return APR_EINVAL;
    }
    if (!nonce) {
        unsigned char raw[OAC_OAUTH1_NONCE_BYTES];

        /* Unique, not secret: the batched source is enough. */
        if (oac_util_nonce(raw, sizeof(raw)) != APR_SUCCESS) {
            *perr = "cannot sign request: random number generator failed";
            return APR_EGENERAL;
        }
        nonce = oac_util_b64url_encode(p, raw, sizeof(raw));
    }
    else if (!*nonce) {
        *perr = "cannot sign request: empty nonce";
        return APR_EINVAL;
    }
    if (timestamp == 0) {
        timestamp = (apr_int64_t)apr_time_sec(apr_time_now());
    }

    oac_form_add(oauth, "oauth_consumer_key", c->consumer_key);
    oac_form_add(oauth, "oauth_nonce", nonce);
    oac_form_add(oauth, "oauth_signature_method", sig_method_name(c->method));
    oac_form_add(oauth, "oauth_timestamp",
                 apr_psprintf(p, "%" APR_INT64_T_FMT, timestamp));
    if (c->token && *c->token) {
        oac_form_add(oauth, "oauth_token", c->token);
    }
    oac_form_add(oauth, "oauth_version", "1.0");
    if ((rv = add_extra_oauth(oauth, perr, p, extra_oauth)) != APR_SUCCESS) {
        return rv;
    }

    /* Not oac_oauth1_base_string: that one skips a "realm" in its params,
     * which here would wrongly drop a form body field of that name. */
    if ((rv = build_base_string(&base, perr, p, method, url, oauth,
                                body_params)) != APR_SUCCESS
        || (rv = oac_oauth1_signature(&sig, perr, p, c, base))
        != APR_SUCCESS) {
        return rv;
    }
    oac_form_add(oauth, "oauth_signature", sig);
    *pauth_header = header_value(p, c->realm, oauth);
    return APR_SUCCESS;
}

/* ---- RSA key loading ----------------------------------------------------- */

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* Never prompts: httpd runs unattended, and a prompt on the console would
 * hang its start. Returning -1 makes an encrypted key fail to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static apr_status_t read_pem(char **pbuf, apr_size_t *plen, const char **perr,
                             apr_pool_t *p, const char *pem_file)
{
    apr_file_t *f;
    apr_finfo_t finfo;
    apr_size_t len;
    char *buf, msg[120];
    apr_status_t rv;

    if ((rv = apr_file_open(&f, pem_file, APR_FOPEN_READ, APR_OS_DEFAULT, p))
        != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot open RSA key file %s: %s", pem_file,
                             apr_strerror(rv, msg, sizeof(msg)));
        return rv;
    }
    if ((rv = apr_file_info_get(&finfo, APR_FINFO_SIZE, f)) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot read RSA key file %s: %s", pem_file,
                             apr_strerror(rv, msg, sizeof(msg)));
        apr_file_close(f);
        return rv;
    }
    if (finfo.size <= 0 || (apr_size_t)finfo.size > OAC_OAUTH1_PEM_MAX) {
        *perr = apr_psprintf(p, "RSA key file %s is %s", pem_file,
                             finfo.size <= 0 ? "empty"
                                             : "too large for a PEM key");
        apr_file_close(f);
        return APR_EINVAL;
    }
    len = (apr_size_t)finfo.size;
    buf = apr_palloc(p, len + 1);
    rv = apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    buf[len] = '\0';
    if (rv != APR_SUCCESS) {
        OPENSSL_cleanse(buf, len);
        *perr = apr_psprintf(p, "cannot read RSA key file %s: %s", pem_file,
                             apr_strerror(rv, msg, sizeof(msg)));
        return rv;
    }
    *pbuf = buf;
    *plen = len;
    return APR_SUCCESS;
}

/* What an administrator most likely got wrong, from the PEM labels (read
 * before OpenSSL's reason, which is terse). */
static const char *pem_hint(const char *pem)
{
    if (strstr(pem, "ENCRYPTED")) {
        return "the key is encrypted, and httpd cannot ask for a "
               "passphrase; give an unencrypted PEM private key";
    }
    if (!strstr(pem, "-----BEGIN ")) {
        return "the file is not PEM; expected an unencrypted PEM private "
               "key";
    }
    if (!strstr(pem, "PRIVATE KEY-----")) {
        return "the file holds no private key (a public key or a "
               "certificate?); expected an unencrypted PEM private key";
    }
    return "expected an unencrypted PEM private key";
}

apr_status_t oac_oauth1_load_rsa_key(EVP_PKEY **pkey, const char **perr,
                                     apr_pool_t *p, const char *pem_file)
{
    EVP_PKEY *key = NULL;
    BIO *bio;
    char *buf;
    const char *hint;
    apr_size_t len;
    apr_status_t rv;

    if (!pem_file || !*pem_file) {
        *perr = "no RSA key file given (rsa_key_file)";
        return APR_EINVAL;
    }
    if ((rv = read_pem(&buf, &len, perr, p, pem_file)) != APR_SUCCESS) {
        return rv;
    }
    ERR_clear_error();
    if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
        /* PEM_read_bio_PrivateKey reads both "RSA PRIVATE KEY" (PKCS#1)
         * and "PRIVATE KEY" (PKCS#8). */
        key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    hint = key ? NULL : pem_hint(buf);
    /* The pool outlives this call; do not leave the key in clear in it. */
    OPENSSL_cleanse(buf, len);
    if (!key) {
        *perr = apr_psprintf(p, "cannot load RSA private key from %s: %s "
                             "(OpenSSL: %s)", pem_file, hint,
                             openssl_reason(p));
        return APR_EINVAL;
    }
    if (!EVP_PKEY_is_a(key, "RSA")) {
        const char *type = EVP_PKEY_get0_type_name(key);

        *perr = apr_psprintf(p, "key in %s is %s, not RSA: RSA-SHA1 needs "
                             "an RSA private key", pem_file,
                             type ? type : "of another type");
        EVP_PKEY_free(key);
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, key, free_pkey, apr_pool_cleanup_null);
    *pkey = key;
    return APR_SUCCESS;
}

/* ---- the flows ----------------------------------------------------------- */

/* ": oauth_problem=<problem>" when body is form data with one, else "". */
static const char *problem_detail(apr_pool_t *p,
                                  const oac_http_response_t *resp)
{
    apr_array_header_t *form;
    const char *why, *problem;

    if (!resp->body || resp->body_len == 0
        || memchr(resp->body, '\0', resp->body_len)
        || oac_form_decode(&form, &why, p,
                           apr_pstrmemdup(p, resp->body, resp->body_len))
        != APR_SUCCESS
        || !(problem = oac_form_get(form, "oauth_problem")) || !*problem) {
        return "";
    }
    /* Only oauth_problem: other fields (oauth_problem_advice, debug
     * output) may echo the request, and with it a token. */
    return apr_pstrcat(p, ": oauth_problem=",
                       oac_util_sanitize(p, problem,
                                         OAC_OAUTH1_ERROR_TEXT_MAX), NULL);
}

/* Drops every extra field called name. */
static void drop_extra(oac_token_t *t, const char *name)
{
    oac_param_t *e;
    int i, kept = 0;

    if (!t->extra) {
        return;
    }
    e = (oac_param_t *)t->extra->elts;
    for (i = 0; i < t->extra->nelts; ++i) {
        if (strcmp(e[i].name, name) != 0) {
            e[kept++] = e[i];
        }
    }
    t->extra->nelts = kept;
}

/* The callback confirmation of section 2.1, case-insensitive because
 * some servers answer "True". */
static apr_status_t check_callback_confirmed(const char **perr,
                                             apr_pool_t *p,
                                             const apr_array_header_t *form)
{
    const char *confirmed = oac_form_get(form, "oauth_callback_confirmed");

    if (!confirmed) {
        *perr = "provider did not confirm the callback "
                "(oauth_callback_confirmed missing)";
        return APR_EINVAL;
    }
    if (strcasecmp(confirmed, "true") != 0) {
        *perr = apr_psprintf(p, "provider did not confirm the callback "
                             "(oauth_callback_confirmed=%s)",
                             oac_util_sanitize(p, confirmed, 32));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/*
 * Reads a credentials answer (sections 2.1 and 2.3): what names the
 * endpoint in messages; confirm asks for oauth_callback_confirmed.
 */
static apr_status_t read_credentials(oac_token_t **ptoken, const char **perr,
                                     apr_pool_t *p, const char *what,
                                     const oac_http_response_t *resp,
                                     int confirm, apr_int64_t now)
{
    apr_array_header_t *form;
    const char *body, *why, *problem, *value;
    apr_size_t len = resp->body_len;
    oac_token_t *t;
    apr_status_t rv;

    if (resp->status < 200 || resp->status > 299) {
        *perr = apr_psprintf(p, "%s answered HTTP %d%s", what, resp->status,
                             problem_detail(p, resp));
        return APR_EGENERAL;
    }
    body = resp->body ? resp->body : "";
    if (!resp->body) {
        len = 0;
    }
    if (memchr(body, '\0', len)) {
        *perr = apr_psprintf(p, "%s answer contains a NUL byte", what);
        return APR_EINVAL;
    }
    /* Surrounding whitespace (a trailing newline is common) would end up
     * in the first name or the last value. */
    while (len > 0 && strchr(" \t\r\n", body[len - 1])) {
        --len;
    }
    body = apr_pstrmemdup(p, body, len);
    body += strspn(body, " \t\r\n");
    if (!*body) {
        *perr = apr_psprintf(p, "%s answered with an empty body", what);
        return APR_EINVAL;
    }
    if (*body == '{') {
        *perr = apr_psprintf(p, "%s answered JSON; RFC 5849 requires "
                             "application/x-www-form-urlencoded", what);
        return APR_EINVAL;
    }
    if (oac_form_decode(&form, &why, p, body) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "%s answer is not form-encoded: %s", what,
                             why);
        return APR_EINVAL;
    }
    if ((problem = oac_form_get(form, "oauth_problem")) != NULL) {
        *perr = apr_psprintf(p, "%s reported oauth_problem=%s", what,
                             oac_util_sanitize(p, problem,
                                      OAC_OAUTH1_ERROR_TEXT_MAX));
        return APR_EGENERAL;
    }
    if (!(value = oac_form_get(form, "oauth_token")) || !*value) {
        *perr = apr_psprintf(p, "%s answer has no oauth_token", what);
        return APR_EINVAL;
    }
    if (!oac_form_get(form, "oauth_token_secret")) {
        *perr = apr_psprintf(p, "%s answer has no oauth_token_secret", what);
        return APR_EINVAL;
    }
    if (confirm
        && (rv = check_callback_confirmed(perr, p, form)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = oac_token_parse(&t, &why, p,
                              "application/x-www-form-urlencoded", body,
                              strlen(body), now)) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "%s answer: %s", what, why);
        return rv;
    }
    /* The token parser prefers an OAuth 2 access_token field: beside
     * oauth_token, it would be the token used, without the secret. */
    if (strcmp(t->access_token, value) || !t->token_secret) {
        *perr = apr_psprintf(p, "%s answer has an access_token field "
                             "beside its oauth_token", what);
        return APR_EINVAL;
    }
    if (!oac_util_is_vschar(t->access_token)
        || !oac_util_is_vschar(t->token_secret ? t->token_secret : "")) {
        *perr = apr_psprintf(p, "%s answer has an oauth_token or "
                             "oauth_token_secret with characters outside "
                             "printable ASCII", what);
        return APR_EINVAL;
    }
    if (confirm) {
        /* Protocol state, not something about the user. */
        drop_extra(t, "oauth_callback_confirmed");
    }
    *ptoken = t;
    return APR_SUCCESS;
}

/* POSTs the signed request to url and reads the answer; secrets are
 * redacted from *perr. */
static apr_status_t credentials_call(oac_token_t **ptoken, const char **perr,
                                     apr_pool_t *p, oac_http_client_t *http,
                                     const char *what, const char *url,
                                     const oac_oauth1_creds_t *c,
                                     const apr_array_header_t *body_params,
                                     const apr_array_header_t *extra_oauth,
                                     int confirm, apr_int64_t now,
                                     const char *const *secrets, int nsecrets)
{
    oac_http_response_t *resp;
    apr_table_t *headers = apr_table_make(p, 2);
    const char *why = NULL;
    char *auth;
    apr_status_t rv;

    if (!url || !*url) {
        *perr = apr_psprintf(p, "no %s URL configured", what);
        return APR_EINVAL;
    }
    if ((rv = oac_oauth1_sign_request(&auth, &why, p, c, "POST", url,
                                      body_params, extra_oauth, NULL, now))
        != APR_SUCCESS) {
        why = apr_psprintf(p, "%s: %s", what, why);
        goto leave;
    }
    apr_table_setn(headers, "Authorization", auth);
    if ((rv = oac_http_post_form(&resp, &why, http, p, url, headers,
                                 oac_form_encode(p, body_params)))
        != APR_SUCCESS) {
        why = apr_psprintf(p, "%s %s: %s", what,
                           oac_util_url_for_message(p, url),
                           why ? why : "request failed");
        goto leave;
    }
    rv = read_credentials(ptoken, &why, p, what, resp, confirm, now);

leave:
    if (rv != APR_SUCCESS) {
        *perr = oac_util_redact(p, why, secrets, nsecrets);
    }
    return rv;
}

apr_status_t oac_oauth1_request_token(oac_token_t **ptoken,
                                      const char **perr, apr_pool_t *p,
                                      oac_http_client_t *http,
                                      const oac_app_t *app,
                                      const oac_oauth1_creds_t *c,
                                      const char *callback_url,
                                      apr_int64_t now)
{
    apr_array_header_t *extra = oac_form_make(p);
    oac_oauth1_creds_t consumer;
    const char *secrets[2];

    if (!app || !c) {
        *perr = "request token: no app or no credentials";
        return APR_EINVAL;
    }
    /* Temporary credentials are asked for with the consumer's alone. */
    consumer = *c;
    consumer.token = NULL;
    consumer.token_secret = NULL;
    /* Section 2.1: "oob" when there is no callback to redirect to. */
    oac_form_add(extra, "oauth_callback",
                 callback_url && *callback_url ? callback_url : "oob");
    secrets[0] = c->consumer_secret;
    secrets[1] = NULL;
    return credentials_call(ptoken, perr, p, http, "request token endpoint",
                            app->request_token_url, &consumer,
                            app->request_token_params, extra, 1, now,
                            secrets, 1);
}

apr_status_t oac_oauth1_access_token(oac_token_t **ptoken,
                                     const char **perr, apr_pool_t *p,
                                     oac_http_client_t *http,
                                     const oac_app_t *app,
                                     const oac_oauth1_creds_t *c,
                                     const char *verifier, apr_int64_t now)
{
    apr_array_header_t *extra = oac_form_make(p);
    const char *secrets[4];

    if (!app || !c) {
        *perr = "access token: no app or no credentials";
        return APR_EINVAL;
    }
    if (!c->token || !*c->token) {
        *perr = "access token: no request token to exchange";
        return APR_EINVAL;
    }
    if (!verifier || !*verifier) {
        *perr = "access token: no oauth_verifier from the provider";
        return APR_EINVAL;
    }
    oac_form_add(extra, "oauth_verifier", verifier);
    secrets[0] = c->consumer_secret;
    secrets[1] = c->token;
    secrets[2] = c->token_secret;
    secrets[3] = verifier;
    return credentials_call(ptoken, perr, p, http, "access token endpoint",
                            app->access_token_url, c,
                            app->access_token_params, extra, 0, now,
                            secrets, 4);
}

char *oac_oauth1_authorize_url(apr_pool_t *p, const oac_app_t *app,
                               const char *request_token)
{
    apr_array_header_t *params = oac_form_make(p);

    oac_form_add(params, "oauth_token", request_token);
    if (app->authorize_params) {
        const oac_param_t *extra =
            (const oac_param_t *)app->authorize_params->elts;
        int i;

        for (i = 0; i < app->authorize_params->nelts; ++i) {
            if (strcmp(extra[i].name, "oauth_token") != 0) {
                oac_form_add(params, extra[i].name, extra[i].value);
            }
        }
    }
    return oac_url_add_query(p, app->authorize_url, params);
}

void oac_oauth1_creds_for_app(oac_oauth1_creds_t *c, const oac_app_t *app,
                              const char *token, const char *secret)
{
    memset(c, 0, sizeof(*c));
    c->method = app->signature_method;
    c->consumer_key = app->client_id;
    c->consumer_secret = app->client_secret;
    c->rsa_key = app->rsa_key;
    c->realm = app->realm;
    c->token = token;
    c->token_secret = secret;
}
