/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* ECDSA_do_sign() on an EC_KEY, for ES256 (see es256_direct()): OpenSSL
 * 3 deprecates the EC_KEY API. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#ifndef OPENSSL_NO_DEPRECATED_3_0
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#define OAC_ES256_DIRECT 1
#endif

#include "oac_sign.h"
#include "oac_util.h"

/* A PEM file bigger than this is no single key. */
#define PEM_MAX (64 * 1024)

typedef enum { SIGN_RSA, SIGN_EC, SIGN_ED25519, SIGN_HMAC } sign_kind_e;

struct oac_signer_t {
    sign_kind_e kind;
    const char *alg;
    const char *md;             /* RSA, EC, HMAC */
    EVP_PKEY *pkey;             /* RSA, EC, Ed25519 */
    const char *secret;         /* HMAC */
    const char *kid;
    int pss;                    /* RSA: PS256 */
    /* Made once, for every JWS after: the digest fetched (OpenSSL 3
     * fetches by name at each init otherwise) and the two headers the
     * module signs under, base64url (a DPoP proof's holds the public
     * JWK, whose parameters are costly to read out of the key) */
    EVP_MD *fetched_md;
    /* A signing context set up once (key, digest, padding), copied for
     * each signature: setting one up costs as much again as the SHA-256
     * and half of what an ES256 proof costs besides its signature. */
    EVP_MD_CTX *tmpl;
#ifdef OAC_ES256_DIRECT
    EC_KEY *eck;                /* EC: the key as ECDSA_do_sign takes it */
#endif
    const char *jwt_header;     /* {"alg","typ":"JWT","kid"} */
    const char *dpop_header;    /* {"alg","typ":"dpop+jwt","jwk"} */
    apr_pool_t *pool;
};

static char *b64url_json(apr_pool_t *p, const json_t *v);
static char *header_b64(apr_pool_t *p, const oac_signer_t *s,
                        const char *typ, int with_jwk);

static apr_status_t free_md(void *data)
{
    EVP_MD_free(data);
    return APR_SUCCESS;
}

static apr_status_t free_tmpl(void *data)
{
    oac_signer_t *s = data;
    EVP_MD_CTX_free(s->tmpl);
    s->tmpl = NULL;
    return APR_SUCCESS;
}

static int sign_init(EVP_MD_CTX *ctx, const oac_signer_t *s)
{
    EVP_PKEY_CTX *pctx = NULL;

    return (s->fetched_md
            ? EVP_DigestSignInit(ctx, &pctx, s->fetched_md, NULL, s->pkey)
            : EVP_DigestSignInit_ex(ctx, &pctx, s->md, NULL, NULL, s->pkey,
                                    NULL)) == 1
           && (!s->pss
               || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
                   == 1
                   && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                       RSA_PSS_SALTLEN_DIGEST)
                      == 1));
}

#ifdef OAC_ES256_DIRECT
static apr_status_t free_eck(void *data)
{
    EC_KEY_free(data);
    return APR_SUCCESS;
}
#endif

/* The parts of every JWS of s that do not change (s's alg and kid are
 * final). */
static void precompute(oac_signer_t *s)
{
    if (s->md && !s->fetched_md
        && (s->fetched_md = EVP_MD_fetch(NULL, s->md, NULL))) {
        apr_pool_cleanup_register(s->pool, s->fetched_md, free_md,
                                  apr_pool_cleanup_null);
    }
    if (s->pkey) {
        if (s->tmpl) {
            EVP_MD_CTX_free(s->tmpl);
        }
        else {
            apr_pool_cleanup_register(s->pool, s, free_tmpl,
                                      apr_pool_cleanup_null);
        }
        /* Without one (a provider that cannot copy), each signature sets
         * up its own. */
        if ((s->tmpl = EVP_MD_CTX_new()) && !sign_init(s->tmpl, s)) {
            EVP_MD_CTX_free(s->tmpl);
            s->tmpl = NULL;
        }
        ERR_clear_error();
    }
#ifdef OAC_ES256_DIRECT
    if (s->kind == SIGN_EC && !s->eck) {
        /* Only where the provider path would run the same code: a key of
         * a FIPS or hardware provider signs there. */
        const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(s->pkey);
        if (prov && !strcmp(OSSL_PROVIDER_get0_name(prov), "default")
            && !EVP_default_properties_is_fips_enabled(NULL)
            && (s->eck = EVP_PKEY_get1_EC_KEY(s->pkey))) {
            apr_pool_cleanup_register(s->pool, s->eck, free_eck,
                                      apr_pool_cleanup_null);
        }
        ERR_clear_error();
    }
#endif
    s->dpop_header = NULL;
    s->jwt_header = header_b64(s->pool, s, "JWT", 0);
    if (s->kind != SIGN_HMAC) {
        s->dpop_header = header_b64(s->pool, s, "dpop+jwt", 1);
    }
}

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static oac_signer_t *signer_of(apr_pool_t *p, EVP_PKEY *pkey,
                               const char **pwhy)
{
    oac_signer_t *s = apr_pcalloc(p, sizeof(*s));
    char group[64];

    s->pool = p;
    s->pkey = pkey;
    apr_pool_cleanup_register(p, pkey, free_pkey, apr_pool_cleanup_null);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            *pwhy = apr_psprintf(p, "an RSA key of %d bits; at least 2048 "
                                 "are needed", EVP_PKEY_get_bits(pkey));
            return NULL;
        }
        s->kind = SIGN_RSA;
        s->alg = "RS256";
        s->md = "SHA256";
        return s;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL)
            || strcmp(group, "prime256v1")) {
            *pwhy = apr_psprintf(p, "an EC key on the curve %s; only P-256 "
                                 "(ES256) is used", group);
            return NULL;
        }
        s->kind = SIGN_EC;
        s->alg = "ES256";
        s->md = "SHA256";
        return s;
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        s->kind = SIGN_ED25519;
        s->alg = "EdDSA";
        return s;
    }
    *pwhy = apr_psprintf(p, "a %s key; use RSA (2048 bits or more), EC "
                         "P-256 or Ed25519", EVP_PKEY_get0_type_name(pkey));
    return NULL;
}

apr_status_t oac_signer_from_pem(oac_signer_t **ps, const char **pwhy,
                                 apr_pool_t *p, const char *pem,
                                 apr_size_t len, const char *kid)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = NULL;
    oac_signer_t *s;

    /* No passphrase callback: an encrypted key is refused, not prompted
     * for on httpd's terminal. */
    if (bio) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
        BIO_free(bio);
    }
    ERR_clear_error();
    if (!pkey) {
        *pwhy = strstr(pem, "ENCRYPTED")
            ? "an encrypted private key; give it unencrypted (readable by "
              "root only)"
            : "no PEM private key in it";
        return APR_EINVAL;
    }
    if (!(s = signer_of(p, pkey, pwhy))) {
        return APR_EINVAL;
    }
    s->kid = kid;
    precompute(s);
    *ps = s;
    return APR_SUCCESS;
}

char *oac_signer_private_pem(const oac_signer_t *s, apr_size_t *plen)
{
    BIO *bio;
    BUF_MEM *mem = NULL;
    char *out = NULL;

    if (!s || !s->pkey || !(bio = BIO_new(BIO_s_mem()))) {
        return NULL;
    }
    if (PEM_write_bio_PrivateKey(bio, s->pkey, NULL, NULL, 0, NULL, NULL)
        && BIO_get_mem_ptr(bio, &mem) == 1 && mem
        && (out = malloc(mem->length + 1))) {
        memcpy(out, mem->data, mem->length);
        out[mem->length] = '\0';
        *plen = mem->length;
        OPENSSL_cleanse(mem->data, mem->length);
    }
    BIO_free(bio);
    ERR_clear_error();
    return out;
}

apr_status_t oac_signer_from_file(oac_signer_t **ps, const char **pwhy,
                                  apr_pool_t *p, const char *file,
                                  const char *kid)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    apr_status_t rv;
    char err[120];
    const char *why;

    rv = apr_file_open(&f, file, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        if (rv == APR_SUCCESS && fi.size > PEM_MAX) {
            apr_file_close(f);
            *pwhy = apr_psprintf(p, "%s: too big for a key", file);
            return APR_EINVAL;
        }
        if (rv == APR_SUCCESS) {
            n = (apr_size_t)fi.size;
            buf = apr_palloc(p, n + 1);
            rv = apr_file_read_full(f, buf, n, &n);
            buf[n] = '\0';
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s: %s", file,
                             apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    if (oac_signer_from_pem(ps, &why, p, buf, n, kid) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s: %s", file, why);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t oac_signer_generate(oac_signer_t **ps, const char **pwhy,
                                 apr_pool_t *p, const char *alg)
{
    EVP_PKEY *pkey = NULL;
    oac_signer_t *s;

    if (!strcmp(alg, "ES256")) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    else if (!strcmp(alg, "RS256")) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    }
    else if (!strcmp(alg, "EdDSA")) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    else {
        *pwhy = apr_psprintf(p, "'%s' is not ES256, RS256 or EdDSA", alg);
        return APR_EINVAL;
    }
    if (!pkey) {
        ERR_clear_error();
        *pwhy = apr_psprintf(p, "OpenSSL could not make an %s key", alg);
        return APR_EGENERAL;
    }
    if (!(s = signer_of(p, pkey, pwhy))) {
        return APR_EGENERAL;
    }
    precompute(s);
    *ps = s;
    return APR_SUCCESS;
}

oac_signer_t *oac_signer_hmac(apr_pool_t *p, const char *secret,
                              const char *alg)
{
    oac_signer_t *s;
    const char *md = !strcmp(alg, "HS256") ? "SHA256"
                     : !strcmp(alg, "HS384") ? "SHA384"
                     : !strcmp(alg, "HS512") ? "SHA512" : NULL;

    if (!md || !secret || !*secret) {
        return NULL;
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->pool = p;
    s->kind = SIGN_HMAC;
    s->alg = alg;
    s->md = md;
    s->secret = secret;
    precompute(s);
    return s;
}

void oac_signer_use_pss(oac_signer_t *s)
{
    if (s->kind == SIGN_RSA) {
        s->pss = 1;
        s->alg = "PS256";
        precompute(s);
    }
}

int oac_signer_secret_digest(const oac_signer_t *s, unsigned char md[32])
{
    unsigned char *der = NULL;
    unsigned int len = 0;
    int n, ok;

    if (s->kind == SIGN_HMAC) {
        return EVP_Digest(s->secret, strlen(s->secret), md, &len,
                          EVP_sha256(), NULL) == 1;
    }
    if ((n = i2d_PrivateKey(s->pkey, &der)) <= 0) {
        ERR_clear_error();
        return 0;
    }
    ok = EVP_Digest(der, (size_t)n, md, &len, EVP_sha256(), NULL) == 1;
    OPENSSL_clear_free(der, (size_t)n);
    return ok;
}

int oac_signer_es256_direct(const oac_signer_t *s)
{
#ifdef OAC_ES256_DIRECT
    return s->kind == SIGN_EC && s->eck != NULL;
#else
    return 0;
#endif
}

const char *oac_signer_alg(const oac_signer_t *s)
{
    return s->alg;
}

/* A big-number parameter of the key, as base64url of its big-endian bytes
 * (padded to pad bytes when pad > 0). */
static char *bn_param(apr_pool_t *p, const EVP_PKEY *pkey, const char *name,
                      int pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;
    char *out = NULL;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
        return NULL;
    }
    n = pad > 0 ? pad : BN_num_bytes(bn);
    buf = apr_palloc(p, n ? n : 1);
    if (BN_bn2binpad(bn, buf, n) == n) {
        out = oac_util_b64url_encode(p, buf, n);
    }
    BN_free(bn);
    return out;
}

json_t *oac_signer_public_jwk(const oac_signer_t *s)
{
    apr_pool_t *p;
    json_t *jwk = NULL;
    char *a = NULL, *b = NULL;
    unsigned char raw[64];
    size_t rawlen = 0;

    if (s->kind == SIGN_HMAC || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return NULL;
    }
    switch (s->kind) {
    case SIGN_RSA:
        a = bn_param(p, s->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        b = bn_param(p, s->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        if (a && b) {
            jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", a, "e", b);
        }
        break;
    case SIGN_EC:
        a = bn_param(p, s->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        b = bn_param(p, s->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        if (a && b) {
            jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv",
                            "P-256", "x", a, "y", b);
        }
        break;
    case SIGN_ED25519:
        if (EVP_PKEY_get_octet_string_param(s->pkey, OSSL_PKEY_PARAM_PUB_KEY,
                                            raw, sizeof(raw), &rawlen)
            && rawlen == 32) {
            jwk = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv",
                            "Ed25519", "x",
                            oac_util_b64url_encode(p, raw, rawlen));
        }
        break;
    default:
        break;
    }
    apr_pool_destroy(p);
    return jwk;
}

const char *oac_jwk_thumbprint(apr_pool_t *p, const json_t *jwk)
{
    /* RFC 7638 3.2: the required members only, in lexicographic order */
    static const char *const rsa[] = { "e", "kty", "n", NULL };
    static const char *const ec[] = { "crv", "kty", "x", "y", NULL };
    static const char *const okp[] = { "crv", "kty", "x", NULL };
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *const *names = !kty ? NULL : !strcmp(kty, "RSA") ? rsa
                                : !strcmp(kty, "EC") ? ec
                                : !strcmp(kty, "OKP") ? okp : NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *json = "{";
    int i;

    if (!names) {
        return NULL;
    }
    for (i = 0; names[i]; ++i) {
        const char *v = json_string_value(json_object_get(jwk, names[i]));
        if (!v) {
            return NULL;
        }
        /* base64url and the names need no JSON escaping */
        json = apr_psprintf(p, "%s%s\"%s\":\"%s\"", json, i ? "," : "",
                            names[i], v);
    }
    json = apr_pstrcat(p, json, "}", NULL);
    if (!EVP_Digest(json, strlen(json), md, &mdlen, EVP_sha256(), NULL)) {
        return NULL;
    }
    return oac_util_b64url_encode(p, md, mdlen);
}

/* Room for s's raw signature: a MAC, R || S, or an RSA or Ed25519
 * signature of the key's size. */
static size_t sig_room(const oac_signer_t *s)
{
    int n;

    if (s->kind == SIGN_HMAC) {
        return EVP_MAX_MD_SIZE;
    }
    if (s->kind == SIGN_EC) {
        return 64;
    }
    n = EVP_PKEY_get_size(s->pkey);
    return n > 0 ? (size_t)n : 0;
}

/* ECDSA's DER signature (a SEQUENCE of the INTEGERs r and s) as JWS's
 * R || S (RFC 7518 3.4), read in place: d2i and two BIGNUMs cost a
 * tenth of what the rest of a DPoP proof does besides its signature. */
static int ecdsa_raw(unsigned char out[64], const unsigned char *der,
                     size_t len)
{
    size_t i = 2, n;
    int half;

    /* P-256's is at most 72 bytes: one length byte */
    if (len < 8 || len > 127 + 2 || der[0] != 0x30 || der[1] != len - 2) {
        return 0;
    }
    for (half = 0; half < 2; ++half) {
        if (i + 2 > len || der[i] != 0x02) {
            return 0;
        }
        n = der[i + 1];
        i += 2;
        if (n == 0 || n > len - i) {
            return 0;
        }
        /* leading zeros only keep a number positive */
        while (n && !der[i]) {
            ++i;
            --n;
        }
        if (n > 32) {
            return 0;
        }
        memset(out + 32 * half, 0, 32 - n);
        memcpy(out + 32 * half + 32 - n, der + i, n);
        i += n;
    }
    return i == len;
}

/* SHA-256 of the two hashes in every DPoP proof, its signing input and
 * ath. Where the deprecated API is built, the low-level call: EVP_Digest
 * allocates a context and dispatches through the provider, ~3,000 more
 * instructions a hash, 2 % of a proof. The context buffers the input's
 * last bytes (the access token's, for ath), so it is wiped as EVP's is. */
static int sha256(unsigned char md[32], const void *in, size_t len)
{
#ifdef OAC_ES256_DIRECT
    SHA256_CTX c;
    int ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, in, len) == 1
             && SHA256_Final(md, &c) == 1;

    OPENSSL_cleanse(&c, sizeof(c));
    return ok;
#else
    unsigned int n = 0;

    return EVP_Digest(in, len, md, &n, EVP_sha256(), NULL) == 1 && n == 32;
#endif
}

#ifdef OAC_ES256_DIRECT
/* ES256 through the EC_KEY interface. The provider path runs the same
 * ECDSA code inside a copied signing context (the operation dispatched
 * through the provider, the signature encoded as DER and read back):
 * 8,600 more instructions per signature, 3 % of a DPoP proof.
 *
 * The nonce stays OpenSSL's hedged one, drawn from the key, the digest
 * and the DRBG. Nonces computed ahead of the message (ECDSA_sign_setup())
 * measured a few per cent faster under load (OpenSSL's 150 KB table of
 * multiples of G stays in cache over a batch, and no hash of the key and
 * message) and were not kept: they come from the DRBG alone, and a VM
 * restored twice from one snapshot, or cloned, signs different messages
 * with the same stored nonce, which gives the key away; a hedged nonce
 * differs with the message. */
static int es256_direct(unsigned char out[64], const oac_signer_t *s,
                        const char *input, apr_size_t len)
{
    unsigned char md[32];
    const BIGNUM *sr = NULL, *ss = NULL;
    ECDSA_SIG *sig;
    int ok;

    if (!s->eck || !sha256(md, input, len)) {
        return 0;
    }
    sig = ECDSA_do_sign(md, (int)sizeof(md), s->eck);
    if (sig) {
        ECDSA_SIG_get0(sig, &sr, &ss);
    }
    ok = sig && BN_bn2binpad(sr, out, 32) == 32
         && BN_bn2binpad(ss, out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ok;
}
#endif

/* s's raw signature of input into out (sig_room(s) bytes). */
static int sign_bytes(unsigned char *out, size_t *poutlen,
                      const oac_signer_t *s, const char *input,
                      apr_size_t len)
{
    unsigned char der[80];
    size_t n = s->kind == SIGN_EC ? sizeof(der) : sig_room(s);
    EVP_MD_CTX *ctx;
    int ok;

    if (s->kind == SIGN_HMAC) {
        ok = EVP_Q_mac(NULL, "HMAC", NULL, s->md, NULL, s->secret,
                       strlen(s->secret), (const unsigned char *)input, len,
                       out, EVP_MAX_MD_SIZE, poutlen) != NULL;
        if (!ok) {
            ERR_clear_error();
        }
        return ok;
    }
#ifdef OAC_ES256_DIRECT
    if (s->kind == SIGN_EC && es256_direct(out, s, input, len)) {
        *poutlen = 64;
        return 1;
    }
#endif
    if (!(ctx = EVP_MD_CTX_new())) {
        return 0;
    }
    /* One call with a buffer of the largest signature: asking the size
     * first runs the whole sign operation's setup twice. */
    ok = ((s->tmpl && EVP_MD_CTX_copy_ex(ctx, s->tmpl) == 1)
          || sign_init(ctx, s))
         && n > 0
         && EVP_DigestSign(ctx, s->kind == SIGN_EC ? der : out, &n,
                           (const unsigned char *)input, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (ok && s->kind == SIGN_EC) {
        ok = ecdsa_raw(out, der, n);
        n = 64;
    }
    if (!ok) {
        ERR_clear_error();
    }
    *poutlen = n;
    return ok;
}

apr_status_t oac_sign_input(char **psig, const char **pwhy, apr_pool_t *p,
                            const oac_signer_t *s, const char *input,
                            apr_size_t len)
{
    unsigned char *sig = apr_palloc(p, sig_room(s) + 1);
    size_t n = 0;

    if (!sign_bytes(sig, &n, s, input, len)) {
        *pwhy = s->kind == SIGN_HMAC
            ? "HMAC failed"
            : apr_psprintf(p, "signing with the %s key failed", s->alg);
        return APR_EGENERAL;
    }
    *psig = oac_util_b64url_encode(p, sig, n);
    return APR_SUCCESS;
}

static char *b64url_json(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    char *out;

    if (!s) {
        return NULL;
    }
    out = oac_util_b64url_encode(p, (const unsigned char *)s, strlen(s));
    free(s);
    return out;
}

static char *header_b64(apr_pool_t *p, const oac_signer_t *s,
                        const char *typ, int with_jwk)
{
    json_t *header = json_pack("{s:s}", "alg", s->alg);
    char *h;

    if (!header) {
        return NULL;
    }
    if (typ) {
        json_object_set_new(header, "typ", json_string(typ));
    }
    if (s->kid) {
        json_object_set_new(header, "kid", json_string(s->kid));
    }
    if (with_jwk) {
        json_t *jwk = oac_signer_public_jwk(s);
        if (!jwk) {
            json_decref(header);
            return NULL;
        }
        json_object_set_new(header, "jwk", jwk);
    }
    h = b64url_json(p, header);
    json_decref(header);
    return h;
}

apr_status_t oac_sign_jws(char **pjws, const char **pwhy, apr_pool_t *p,
                          const oac_signer_t *s, const char *typ,
                          int with_jwk, const json_t *payload)
{
    const char *h = NULL;
    char *body, *input, *sig;
    apr_status_t rv;

    if (typ && !strcmp(typ, "JWT") && !with_jwk) {
        h = s->jwt_header;
    }
    else if (typ && !strcmp(typ, "dpop+jwt") && with_jwk) {
        h = s->dpop_header;
    }
    if (!h && !(h = header_b64(p, s, typ, with_jwk))) {
        *pwhy = with_jwk ? "the key has no public half to send"
                         : "out of memory";
        return APR_EINVAL;
    }
    body = b64url_json(p, payload);
    if (!body) {
        *pwhy = "out of memory";
        return APR_ENOMEM;
    }
    input = apr_pstrcat(p, h, ".", body, NULL);
    if ((rv = oac_sign_input(&sig, pwhy, p, s, input, strlen(input)))
        != APR_SUCCESS) {
        return rv;
    }
    *pjws = apr_pstrcat(p, input, ".", sig, NULL);
    return APR_SUCCESS;
}

/* A fresh, unpredictable jti. */
static const char *new_jti(apr_pool_t *p)
{
    unsigned char b[16];
    return oac_util_nonce(b, sizeof(b)) == APR_SUCCESS
        ? oac_util_b64url_encode(p, b, sizeof(b)) : NULL;
}

apr_status_t oac_sign_client_assertion(char **pjws, const char **pwhy,
                                       apr_pool_t *p, const oac_signer_t *s,
                                       const char *client_id,
                                       const char *aud, apr_int64_t now)
{
    const char *jti = new_jti(p);
    json_t *claims;
    apr_status_t rv;

    if (!jti) {
        *pwhy = "no random bytes for the assertion's jti";
        return APR_EGENERAL;
    }
    claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", client_id,
                       "sub", client_id, "aud", aud, "jti", jti,
                       "iat", (json_int_t)now, "exp", (json_int_t)(now + 60));
    if (!claims) {
        *pwhy = "the assertion's claims are no valid UTF-8";
        return APR_EINVAL;
    }
    rv = oac_sign_jws(pjws, pwhy, p, s, "JWT", 0, claims);
    json_decref(claims);
    return rv;
}

const char *oac_dpop_ath(apr_pool_t *p, const char *access_token)
{
    unsigned char md[32];

    if (!sha256(md, access_token, strlen(access_token))) {
        return NULL;
    }
    return oac_util_b64url_encode(p, md, sizeof(md));
}

const char *oac_dpop_htu(apr_pool_t *p, const char *url)
{
    apr_size_t n = strcspn(url, "?#");
    return apr_pstrmemdup(p, url, n);
}

/* A JSON text written in two passes: o NULL counts, then o writes. */
typedef struct {
    char *o;
    apr_size_t n;
} json_out_t;

static void out_raw(json_out_t *w, const char *s, apr_size_t len)
{
    if (w->o) {
        memcpy(w->o + w->n, s, len);
    }
    w->n += len;
}

/* Bytes of the valid UTF-8 sequence at u (left bytes), or 0. */
static apr_size_t utf8_seq(const unsigned char *u, apr_size_t left)
{
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t n, k;

    if (u[0] < 0x80) {
        return 1;
    }
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        n = 2;
    }
    else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        n = 3;
        lo = u[0] == 0xE0 ? 0xA0 : 0x80;        /* no overlong form */
        hi = u[0] == 0xED ? 0x9F : 0xBF;        /* no surrogate */
    }
    else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        n = 4;
        lo = u[0] == 0xF0 ? 0x90 : 0x80;
        hi = u[0] == 0xF4 ? 0x8F : 0xBF;        /* nothing past U+10FFFF */
    }
    else {
        return 0;
    }
    if (n > left || u[1] < lo || u[1] > hi) {
        return 0;
    }
    for (k = 2; k < n; ++k) {
        if ((u[k] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* "name":"s" (len bytes of s, escaped); 0 when s is no valid UTF-8, which
 * a JSON text cannot carry. */
static int out_member(json_out_t *w, const char *name, const char *s,
                      apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n;
    char esc[8];

    out_raw(w, w->n > 1 ? ",\"" : "\"", w->n > 1 ? 2 : 1);
    out_raw(w, name, strlen(name));
    out_raw(w, "\":\"", 3);
    while (i < len) {
        /* printable ASCII, the whole of most URLs and nonces, in one go */
        for (n = i; n < len && u[n] >= 0x20 && u[n] < 0x7F && u[n] != '"'
                    && u[n] != '\\'; ++n) {
        }
        if (n > i) {
            out_raw(w, s + i, n - i);
            i = n;
            continue;
        }
        if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i++];
            out_raw(w, esc, 2);
        }
        else if (u[i] < 0x20) {
            apr_snprintf(esc, sizeof(esc), "\\u%04x", u[i++]);
            out_raw(w, esc, 6);
        }
        else if ((n = utf8_seq(u + i, len - i))) {
            out_raw(w, s + i, n);
            i += n;
        }
        else {
            return 0;
        }
    }
    out_raw(w, "\"", 1);
    return 1;
}

/* The claims of a proof (RFC 9449 4.2), in this order. */
static int proof_claims(json_out_t *w, const char *jti, const char *htm,
                        const char *url, apr_size_t htu_len,
                        const char *iat, const char *ath, const char *nonce)
{
    int ok;

    out_raw(w, "{", 1);
    ok = out_member(w, "jti", jti, strlen(jti))
         && out_member(w, "htm", htm, strlen(htm))
         && out_member(w, "htu", url, htu_len);
    out_raw(w, ",\"iat\":", 7);
    out_raw(w, iat, strlen(iat));
    ok = ok && (!ath || out_member(w, "ath", ath, strlen(ath)))
         && (!nonce || out_member(w, "nonce", nonce, strlen(nonce)));
    out_raw(w, "}", 1);
    return ok;
}

/* Every API request with a DPoP-bound token makes one, so a proof is
 * written straight into one buffer (header, claims, signature) instead
 * of through a JSON tree: that was a third of what a proof costs besides
 * its signature. */
apr_status_t oac_dpop_proof(char **pjws, const char **pwhy, apr_pool_t *p,
                            const oac_signer_t *s, const char *htm,
                            const char *url, const char *access_token,
                            const char *nonce, apr_int64_t now)
{
    unsigned char rnd[16], *sig;
    char jti[OAC_B64URL_LEN(16) + 1], iat[24];
    const char *ath = NULL;
    json_out_t w = { NULL, 0 };
    apr_size_t hlen, htu_len = strcspn(url, "?#"), room, at;
    size_t siglen = 0;
    char *jws, *claims;

    if (!s->dpop_header) {
        *pwhy = "the key has no public half to send";
        return APR_EINVAL;
    }
    if (oac_util_nonce(rnd, sizeof(rnd)) != APR_SUCCESS) {
        *pwhy = "no random bytes for the proof's jti";
        return APR_EGENERAL;
    }
    oac_util_b64url_encode_to(jti, rnd, sizeof(rnd));
    if (access_token && !(ath = oac_dpop_ath(p, access_token))) {
        *pwhy = "SHA-256 failed";
        return APR_EGENERAL;
    }
    apr_snprintf(iat, sizeof(iat), "%" APR_INT64_T_FMT, now);
    if (!proof_claims(&w, jti, htm, url, htu_len, iat, ath, nonce)) {
        *pwhy = "the proof's claims are no valid UTF-8";
        return APR_EINVAL;
    }
    claims = w.o = apr_palloc(p, w.n);
    w.n = 0;
    proof_claims(&w, jti, htm, url, htu_len, iat, ath, nonce);

    hlen = strlen(s->dpop_header);
    room = sig_room(s);
    jws = apr_palloc(p, hlen + 1 + OAC_B64URL_LEN(w.n) + 1
                     + OAC_B64URL_LEN(room) + 1);
    sig = apr_palloc(p, room);
    memcpy(jws, s->dpop_header, hlen);
    jws[hlen] = '.';
    at = hlen + 1 + oac_util_b64url_encode_to(jws + hlen + 1,
                                              (const unsigned char *)claims,
                                              w.n);
    if (!sign_bytes(sig, &siglen, s, jws, at)) {
        *pwhy = apr_psprintf(p, "signing with the %s key failed", s->alg);
        return APR_EGENERAL;
    }
    jws[at] = '.';
    oac_util_b64url_encode_to(jws + at + 1, sig, siglen);
    *pjws = jws;
    return APR_SUCCESS;
}
