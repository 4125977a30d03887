/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "oac_jose.h"
#include "oac_util.h"

/* RFC 7518 section 3.3: "A key of size 2048 bits or larger MUST be used". */
#define RSA_MIN_BITS 2048
/* Half OpenSSL's own limit (16384): a verification costs the square of
 * the modulus times the bits of e, and a provider's set of 64 keys of
 * 16384 bits with a 64-bit e took 0.3 s of CPU for each id_token without
 * a kid. No provider signs with more than 4096 bits. */
#define RSA_MAX_BITS 8192
/* Room for e: every key in use has 65537; 32 bits leave room to spare. */
#define RSA_MAX_E_BYTES 4

/* How much of a value from a token or a key set goes into a message. */
#define WHY_MAX 64

typedef enum { KTY_RSA, KTY_EC, KTY_OKP, KTY_OCT } kty_e;

static const char *const kty_names[] = { "RSA", "EC", "OKP", "oct" };

typedef struct {
    kty_e kty;
    const char *kid;            /* NULL when absent */
    const char *alg;            /* NULL when absent */
    const char *crv;            /* EC, OKP: the curve's JOSE name */
    int bits;                   /* RSA: of the modulus */
    EVP_PKEY *pkey;             /* RSA, EC, OKP */
    unsigned char *k;           /* oct: the secret */
    apr_size_t klen;
} jose_key_t;

struct oac_jose_jwks_t {
    apr_array_header_t *keys;   /* of jose_key_t */
};

/* The curves a JWK may name, with what OpenSSL calls them. */
typedef struct {
    const char *crv;
    kty_e kty;
    const char *ossl;           /* group (EC) or key type (OKP) */
    apr_size_t len;             /* EC: bytes of a coordinate; OKP: of x */
} curve_t;

static const curve_t curves[] = {
    { "P-256",   KTY_EC,  "prime256v1", 32 },
    { "P-384",   KTY_EC,  "secp384r1",  48 },
    { "P-521",   KTY_EC,  "secp521r1",  66 },
    { "Ed25519", KTY_OKP, "ED25519",    32 },
    { "Ed448",   KTY_OKP, "ED448",      57 },
};

typedef struct {
    const char *name;
    kty_e kty;
    int pss;                    /* RSA: PSS padding, else PKCS #1 v1.5 */
    const char *md;             /* of the signature; NULL for EdDSA */
    const char *crv;            /* the key's curve; NULL for any */
    /* at_hash: the hash of OpenID Connect Core 3.1.3.6, and how many of
     * its bytes it gives (NULL when alg alone does not tell: EdDSA) */
    const char *token_md;
    apr_size_t token_md_len;
} alg_t;

static const alg_t algs[] = {
    { "RS256",   KTY_RSA, 0, "SHA256", NULL,      "SHA256",   32 },
    { "RS384",   KTY_RSA, 0, "SHA384", NULL,      "SHA384",   48 },
    { "RS512",   KTY_RSA, 0, "SHA512", NULL,      "SHA512",   64 },
    { "PS256",   KTY_RSA, 1, "SHA256", NULL,      "SHA256",   32 },
    { "PS384",   KTY_RSA, 1, "SHA384", NULL,      "SHA384",   48 },
    { "PS512",   KTY_RSA, 1, "SHA512", NULL,      "SHA512",   64 },
    { "ES256",   KTY_EC,  0, "SHA256", "P-256",   "SHA256",   32 },
    { "ES384",   KTY_EC,  0, "SHA384", "P-384",   "SHA384",   48 },
    { "ES512",   KTY_EC,  0, "SHA512", "P-521",   "SHA512",   64 },
    { "EdDSA",   KTY_OKP, 0, NULL,     NULL,      NULL,       0 },
    /* RFC 8032: Ed25519 hashes with SHA-512, Ed448 with SHAKE256 giving
     * 114 bytes; OpenID Connect's issue 1125 takes the same for at_hash. */
    { "Ed25519", KTY_OKP, 0, NULL,     "Ed25519", "SHA512",   64 },
    { "Ed448",   KTY_OKP, 0, NULL,     "Ed448",   "SHAKE256", 114 },
    { "HS256",   KTY_OCT, 0, "SHA256", NULL,      "SHA256",   32 },
    { "HS384",   KTY_OCT, 0, "SHA384", NULL,      "SHA384",   48 },
    { "HS512",   KTY_OCT, 0, "SHA512", NULL,      "SHA512",   64 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The entry of table (count entries of size bytes, each starting with
 * its name) named name, or NULL. */
static const void *named(const void *table, apr_size_t count,
                         apr_size_t size, const char *name)
{
    const char *entry = table;

    for (; count--; entry += size) {
        if (!strcmp(*(const char *const *)entry, name)) {
            return entry;
        }
    }
    return NULL;
}

static const alg_t *alg_named(const char *name)
{
    return named(algs, COUNT(algs), sizeof(algs[0]), name);
}

static const curve_t *curve_named(const char *crv)
{
    return named(curves, COUNT(curves), sizeof(curves[0]), crv);
}

/* A value from a token or a key set, fit for a message. */
static const char *shown(apr_pool_t *p, const char *s)
{
    return oac_util_sanitize(p, s, WHY_MAX);
}

/* ---- JWK Set ----------------------------------------------------------- */

static apr_status_t free_keys(void *data)
{
    oac_jose_jwks_t *jwks = data;
    int i;

    for (i = 0; i < jwks->keys->nelts; ++i) {
        jose_key_t *k = &APR_ARRAY_IDX(jwks->keys, i, jose_key_t);

        EVP_PKEY_free(k->pkey);
        if (k->k) {
            OPENSSL_cleanse(k->k, k->klen);
        }
    }
    return APR_SUCCESS;
}

/* 1 and the base64url member name of key decoded into *pout, or 0: it
 * is missing, not a string or not base64url. */
static int member_bytes(unsigned char **pout, apr_size_t *plen,
                        apr_pool_t *p, json_t *key, const char *name)
{
    json_t *v = json_object_get(key, name);
    const char *err;

    /* Unpadded, as everywhere in JOSE (RFC 7515 section 2). */
    return json_is_string(v) && !strchr(json_string_value(v), '=')
           && oac_util_b64url_decode(pout, plen, &err, p,
                                     json_string_value(v)) == APR_SUCCESS;
}

/* NULL, or a key made by OpenSSL's fromdata of the params bld holds. */
static EVP_PKEY *pkey_from(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY *pkey = NULL;

    if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static const char *rsa_key(jose_key_t *k, apr_pool_t *p, json_t *key)
{
    unsigned char *n, *e;
    apr_size_t nlen, elen;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;

    if (!member_bytes(&n, &nlen, p, key, "n")
        || !member_bytes(&e, &elen, p, key, "e")) {
        return "RSA key without base64url n and e";
    }
    /* RFC 7518 wants no leading zero; some sets have one. Harmless. */
    while (nlen && !*n) {
        ++n, --nlen;
    }
    while (elen && !*e) {
        ++e, --elen;
    }
    if (!nlen || !(n[nlen - 1] & 1)) {
        return "RSA modulus is not odd";
    }
    if (!elen || elen > RSA_MAX_E_BYTES || !(e[elen - 1] & 1)
        || (elen == 1 && e[0] < 3)) {
        return "RSA exponent is not an odd number of 3 to 32 bits";
    }
    if (nlen > RSA_MAX_BITS / 8) {
        return "RSA modulus of more than 8192 bits";
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    if (bn_n && bn_e && (bld = OSSL_PARAM_BLD_new()) != NULL
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        k->pkey = pkey_from("RSA", bld);
        k->bits = BN_num_bits(bn_n);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return k->pkey ? NULL : "OpenSSL refused the RSA key";
}

static const char *curve_of(const curve_t **pc, json_t *key, kty_e kty)
{
    json_t *v = json_object_get(key, "crv");

    *pc = json_is_string(v) ? curve_named(json_string_value(v)) : NULL;
    if (!*pc || (*pc)->kty != kty) {
        return kty == KTY_EC ? "EC key not on P-256, P-384 or P-521"
                             : "OKP key not on Ed25519 or Ed448";
    }
    return NULL;
}

static const char *ec_key(jose_key_t *k, apr_pool_t *p, json_t *key)
{
    const curve_t *c;
    unsigned char *x, *y, *point;
    apr_size_t xlen, ylen;
    OSSL_PARAM_BLD *bld;
    const char *why = curve_of(&c, key, KTY_EC);

    if (why) {
        return why;
    }
    if (!member_bytes(&x, &xlen, p, key, "x")
        || !member_bytes(&y, &ylen, p, key, "y")
        || xlen != c->len || ylen != c->len) {
        return "EC key without x and y of its curve's size";
    }
    /* The uncompressed point, SEC 1 section 2.3.3. */
    point = apr_palloc(p, 1 + 2 * c->len);
    point[0] = 0x04;
    memcpy(point + 1, x, c->len);
    memcpy(point + 1 + c->len, y, c->len);
    bld = OSSL_PARAM_BLD_new();
    if (bld
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           c->ossl, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            point, 1 + 2 * c->len)) {
        k->pkey = pkey_from("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    if (k->pkey) {
        /* Off-curve points are refused by fromdata already; this also
         * refuses the point at infinity and one outside the group. */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

        EVP_PKEY_CTX_free(ctx);
        if (!ok) {
            EVP_PKEY_free(k->pkey);
            k->pkey = NULL;
        }
    }
    k->crv = c->crv;
    return k->pkey ? NULL : "EC key is not a point of its curve";
}

static const char *okp_key(jose_key_t *k, apr_pool_t *p, json_t *key)
{
    const curve_t *c;
    unsigned char *x;
    apr_size_t xlen;
    const char *why = curve_of(&c, key, KTY_OKP);

    if (why) {
        return why;
    }
    if (!member_bytes(&x, &xlen, p, key, "x") || xlen != c->len) {
        return "OKP key without x of its curve's size";
    }
    k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, c->ossl, NULL, x, xlen);
    k->crv = c->crv;
    return k->pkey ? NULL : "OpenSSL refused the OKP key";
}

static const char *oct_key(jose_key_t *k, apr_pool_t *p, json_t *key)
{
    if (!member_bytes(&k->k, &k->klen, p, key, "k") || !k->klen) {
        k->k = NULL;
        return "oct key without a base64url k";
    }
    return NULL;
}

/* An optional string member: 1 and *pv (NULL when absent), or 0 when it
 * is there but not a string. */
static int optional_string(const char **pv, json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    *pv = json_is_string(v) ? json_string_value(v) : NULL;
    return !v || *pv;
}

/* key_ops (RFC 7517 section 4.3), when present, must allow verifying. */
static int ops_allow_verify(json_t *key)
{
    json_t *ops = json_object_get(key, "key_ops"), *op;
    size_t i;

    if (!ops) {
        return 1;
    }
    json_array_foreach(ops, i, op) {
        if (json_is_string(op) && !strcmp(json_string_value(op), "verify")) {
            return 1;
        }
    }
    return 0;
}

/* Fills k from key, or says why key cannot be used. */
static const char *jwk_parse(jose_key_t *k, apr_pool_t *p, json_t *key,
                             int flags)
{
    const char *kty, *use, *kid, *alg;

    if (!json_is_object(key)) {
        return "not a JSON object";
    }
    if (!optional_string(&kty, key, "kty") || !kty) {
        return "no kty";
    }
    if (!optional_string(&use, key, "use")
        || (use && strcmp(use, "sig"))) {
        return "use is not \"sig\"";
    }
    if (!ops_allow_verify(key)) {
        return "key_ops without \"verify\"";
    }
    if (!optional_string(&kid, key, "kid")
        || !optional_string(&alg, key, "alg")) {
        return "kid or alg is not a string";
    }
    memset(k, 0, sizeof(*k));
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->alg = alg ? apr_pstrdup(p, alg) : NULL;
    if (!strcmp(kty, "RSA")) {
        k->kty = KTY_RSA;
        return rsa_key(k, p, key);
    }
    if (!strcmp(kty, "EC")) {
        k->kty = KTY_EC;
        return ec_key(k, p, key);
    }
    if (!strcmp(kty, "OKP")) {
        k->kty = KTY_OKP;
        return okp_key(k, p, key);
    }
    if (!strcmp(kty, "oct") && (flags & OAC_JOSE_JWKS_OCT)) {
        k->kty = KTY_OCT;
        return oct_key(k, p, key);
    }
    return apr_psprintf(p, "kty \"%s\" is not used", shown(p, kty));
}

apr_status_t oac_jose_jwks_parse(oac_jose_jwks_t **pjwks, const char **pwhy,
                                 apr_pool_t *p, const char *json, int flags)
{
    oac_jose_jwks_t *jwks;
    json_error_t jerr;
    json_t *doc, *keys, *key;
    const char *first = NULL;
    size_t i;
    int skipped = 0;

    *pwhy = NULL;
    jerr.text[0] = '\0';
    doc = json ? oac_util_json_loadb(json, strlen(json),
                                     JSON_REJECT_DUPLICATES, &jerr)
               : NULL;
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        *pwhy = doc ? "JWK Set has no \"keys\" array"
                : oac_util_json_too_large(&jerr)
                    ? apr_pstrcat(p, "JWK Set has ", jerr.text, NULL)
                    : "JWK Set is not JSON, or has a member twice";
        json_decref(doc);
        return APR_EGENERAL;
    }
    jwks = apr_palloc(p, sizeof(*jwks));
    /* sized by what is kept, not by what the set lists: a set of a
     * million entries would otherwise hold megabytes for as long as it
     * is cached */
    jwks->keys = apr_array_make(p, json_array_size(keys) < OAC_JOSE_MAX_KEYS
                                       ? (int)json_array_size(keys) + 1
                                       : OAC_JOSE_MAX_KEYS + 1,
                                sizeof(jose_key_t));
    apr_pool_cleanup_register(p, jwks, free_keys, apr_pool_cleanup_null);
    json_array_foreach(keys, i, key) {
        jose_key_t k = { 0 };
        const char *why = jwks->keys->nelts < OAC_JOSE_MAX_KEYS
                          ? jwk_parse(&k, p, key, flags)
                          : "more keys than the set may have";

        if (!why) {
            APR_ARRAY_PUSH(jwks->keys, jose_key_t) = k;
            continue;
        }
        EVP_PKEY_free(k.pkey);
        if (!skipped++) {
            const char *kid;

            first = optional_string(&kid, key, "kid") && kid
                    ? apr_psprintf(p, "key %d (kid \"%s\"): %s", (int)i + 1,
                                   shown(p, kid), why)
                    : apr_psprintf(p, "key %d: %s", (int)i + 1, why);
        }
    }
    if (skipped) {
        *pwhy = apr_psprintf(p, "%d of %d keys skipped; %s", skipped,
                             (int)json_array_size(keys), first);
    }
    json_decref(doc);
    ERR_clear_error();
    *pjwks = jwks;
    return APR_SUCCESS;
}

int oac_jose_jwks_count(const oac_jose_jwks_t *jwks)
{
    return jwks ? jwks->keys->nelts : 0;
}

int oac_jose_jwks_room(const oac_jose_jwks_t *jwks)
{
    return jwks ? jwks->keys->nalloc : 0;
}

/* ---- compact JWS ------------------------------------------------------- */

/* 1 if name is an entry of list (comma-separated, blanks around entries
 * ignored). */
static int listed(const char *list, const char *name)
{
    apr_size_t n = strlen(name);

    while (list && *list) {
        const char *end = list + strcspn(list, ","), *e = end;

        while (*list == ' ' || *list == '\t') {
            ++list;
        }
        while (e > list && (e[-1] == ' ' || e[-1] == '\t')) {
            --e;
        }
        if ((apr_size_t)(e - list) == n && !memcmp(list, name, n)) {
            return 1;
        }
        list = *end ? end + 1 : end;
    }
    return 0;
}

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * The three parts of jws, each decoded into part[i] (len[i] bytes): the
 * signing input is jws up to the second '.', *pinlen bytes. base64url is
 * taken strictly (RFC 7515 section 2): no padding, no blank, no other
 * byte; oac_util_b64url_decode refuses impossible lengths and non-zero
 * unused bits, so a token has one spelling only.
 */
static const char *split_jws(unsigned char *part[3], apr_size_t len[3],
                             apr_size_t *pinlen, apr_pool_t *p,
                             const char *jws)
{
    const char *start = jws, *s;
    const char *err;
    int i = 0;

    for (s = jws; *s; ++s) {
        if (s - jws >= OAC_JOSE_MAX_JWS) {
            return "JWS longer than " APR_STRINGIFY(OAC_JOSE_MAX_JWS)
                   " bytes";
        }
        if (*s == '.') {
            if (++i == 2) {
                *pinlen = (apr_size_t)(s - jws);
            }
        }
        else if (!is_b64url((unsigned char)*s)) {
            return "JWS holds a byte outside base64url";
        }
    }
    if (i != 2) {
        return "JWS is not three parts";
    }
    for (i = 0; i < 3; ++i) {
        apr_size_t n = strcspn(start, ".");

        if (oac_util_b64url_decode(&part[i], &len[i], &err, p,
                                   apr_pstrmemdup(p, start, n))
            != APR_SUCCESS) {
            return apr_psprintf(p, "JWS %s is not base64url",
                                i == 0 ? "header" : i == 1 ? "payload"
                                                           : "signature");
        }
        start += n + 1;
    }
    return NULL;
}

/* R || S (RFC 7518 section 3.4) as the DER SEQUENCE OpenSSL verifies, or
 * NULL. */
static unsigned char *ecdsa_der(apr_size_t *plen, apr_pool_t *p,
                                const unsigned char *sig, apr_size_t half)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *der = NULL, *out = NULL;
    int len = -1;

    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;           /* es owns them now */
        len = i2d_ECDSA_SIG(es, &der);
    }
    if (len > 0) {
        out = apr_pmemdup(p, der, (apr_size_t)len);
        *plen = (apr_size_t)len;
    }
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return out;
}

static int hmac_ok(const alg_t *a, const unsigned char *key,
                   apr_size_t keylen, const char *in, apr_size_t inlen,
                   const unsigned char *sig, apr_size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;

    return EVP_Q_mac(NULL, "HMAC", NULL, a->md, NULL, key, keylen,
                     (const unsigned char *)in, inlen, mac, sizeof(mac),
                     &maclen) != NULL
           && maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
}

static int signature_ok(const alg_t *a, const jose_key_t *k, apr_pool_t *p,
                        const char *in, apr_size_t inlen,
                        const unsigned char *sig, apr_size_t siglen)
{
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (k->kty == KTY_OCT) {
        return hmac_ok(a, k->k, k->klen, in, inlen, sig, siglen);
    }
    if (k->kty == KTY_EC) {
        if (siglen != 2 * curve_named(k->crv)->len) {
            return 0;
        }
        sig = ecdsa_der(&siglen, p, sig, siglen / 2);
        if (!sig) {
            return 0;
        }
    }
    /* RSASSA-PKCS1-v1_5 and -PSS verification start with this check
     * (RFC 8017 sections 8.1.2, 8.2.2); OpenSSL's PSS path would take a
     * shorter signature. */
    if (k->kty == KTY_RSA
        && siglen != (apr_size_t)EVP_PKEY_get_size(k->pkey)) {
        return 0;
    }
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL
         && EVP_DigestVerifyInit_ex(ctx, &pctx, a->md, NULL, NULL, k->pkey,
                                    NULL) == 1
         /* RFC 7518 section 3.5: MGF1 with the same hash, a salt as long
          * as the hash. */
         && (!a->pss
             || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
                 && EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) > 0
                 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                     RSA_PSS_SALTLEN_DIGEST)
                    > 0))
         && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)in,
                             inlen) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* NULL if key k may verify alg a, else why not. */
static const char *unfit(apr_pool_t *p, const alg_t *a, const jose_key_t *k)
{
    if (k->kty != a->kty) {
        return apr_psprintf(p, "alg %s needs a key of kty %s, not %s",
                            a->name, kty_names[a->kty], kty_names[k->kty]);
    }
    if (k->alg && strcmp(k->alg, a->name)) {
        return apr_psprintf(p, "the key is for alg %s, the JWS is %s",
                            shown(p, k->alg), a->name);
    }
    if (a->crv && strcmp(k->crv, a->crv)) {
        return apr_psprintf(p, "alg %s needs a key on %s, not %s", a->name,
                            a->crv, k->crv);
    }
    if (k->kty == KTY_RSA && k->bits < RSA_MIN_BITS) {
        return apr_psprintf(p, "RSA key of %d bits, fewer than %d", k->bits,
                            RSA_MIN_BITS);
    }
    return NULL;
}

/* The header's alg, NULL when there is none to trust, *pwhy saying why. */
static const alg_t *header_alg(const char **pkid, const char **pwhy,
                               apr_pool_t *p, const unsigned char *header,
                               apr_size_t len, const char *allowed_algs)
{
    json_error_t jerr;
    json_t *h = oac_util_json_loadb((const char *)header, len,
                                    JSON_REJECT_DUPLICATES, &jerr);
    const char *name = NULL, *kid = NULL;
    const alg_t *a = NULL;

    if (!json_is_object(h)) {
        *pwhy = "JWS header is not a JSON object, or has a member twice";
    }
    else if (!optional_string(&name, h, "alg") || !name) {
        *pwhy = "JWS header has no alg";
    }
    else if (!optional_string(&kid, h, "kid")) {
        *pwhy = "JWS header's kid is not a string";
    }
    else if (json_object_get(h, "crit")) {
        *pwhy = "JWS header has crit: no extension is understood here";
    }
    else if (!strcmp(name, "none")) {
        *pwhy = "alg none: the JWS is not signed";
    }
    else if (!listed(allowed_algs, name)) {
        *pwhy = apr_psprintf(p, "alg %s is not allowed (allowed: %s)",
                             shown(p, name),
                             allowed_algs ? allowed_algs : "none");
    }
    else if (!(a = alg_named(name))) {
        *pwhy = apr_psprintf(p, "alg %s is not supported", shown(p, name));
    }
    *pkid = kid ? apr_pstrdup(p, kid) : NULL;
    json_decref(h);
    return a;
}

oac_jose_e oac_jose_jws_verify(const char **ppayload, apr_size_t *plen,
                               const char **palg, const char **pwhy,
                               apr_pool_t *p, const char *jws,
                               const oac_jose_jwks_t *jwks,
                               const char *allowed_algs,
                               const char *hmac_secret)
{
    unsigned char *part[3];
    apr_size_t len[3], inlen = 0;
    const alg_t *a;
    const char *kid, *first_unfit = NULL;
    int i, tried = 0, kid_found = 0;

    *pwhy = jws ? split_jws(part, len, &inlen, p, jws) : "no JWS";
    if (*pwhy) {
        return OAC_JOSE_INVALID;
    }
    a = header_alg(&kid, pwhy, p, part[0], len[0], allowed_algs);
    if (!a) {
        return OAC_JOSE_INVALID;
    }
    for (i = 0; jwks && i < jwks->keys->nelts; ++i) {
        const jose_key_t *k = &APR_ARRAY_IDX(jwks->keys, i, jose_key_t);
        const char *why;

        if (kid && (!k->kid || strcmp(k->kid, kid))) {
            continue;
        }
        kid_found = 1;
        /* Without a kid, keys of other types are no candidates; a key
         * the token names must fit, or the token is refused for it. */
        if (!kid && k->kty != a->kty) {
            continue;
        }
        if ((why = unfit(p, a, k)) != NULL) {
            first_unfit = first_unfit ? first_unfit : why;
            continue;
        }
        ++tried;
        if (signature_ok(a, k, p, jws, inlen, part[2], len[2])) {
            *palg = k->kty == KTY_OKP ? k->crv : a->name;
            goto verified;
        }
    }
    if (a->kty == KTY_OCT && hmac_secret && *hmac_secret) {
        ++tried;
        if (hmac_ok(a, (const unsigned char *)hmac_secret,
                    strlen(hmac_secret), jws, inlen, part[2], len[2])) {
            *palg = a->name;
            goto verified;
        }
    }
    ERR_clear_error();
    if (tried) {
        *pwhy = apr_psprintf(p, "alg %s: signature does not verify "
                             "(%d key%s tried)", a->name, tried,
                             tried == 1 ? "" : "s");
        return !kid && a->kty != KTY_OCT ? OAC_JOSE_NO_KEY_VERIFIES
                                         : OAC_JOSE_INVALID;
    }
    if (kid && !kid_found) {
        *pwhy = apr_psprintf(p, "kid \"%s\" names no key of the set",
                             shown(p, kid));
        return OAC_JOSE_UNKNOWN_KID;
    }
    *pwhy = first_unfit ? apr_psprintf(p, "no key fits: %s", first_unfit)
            : a->kty == KTY_OCT
            ? apr_psprintf(p, "alg %s needs the client secret", a->name)
            : apr_psprintf(p, "no key of kty %s for alg %s",
                           kty_names[a->kty], a->name);
    return !kid && a->kty != KTY_OCT ? OAC_JOSE_NO_KEY_VERIFIES
                                     : OAC_JOSE_INVALID;

verified:
    ERR_clear_error();
    *ppayload = (const char *)part[1];
    *plen = len[1];
    return OAC_JOSE_OK;
}

/* A JWT's payload as its claims, owned by p; NULL and *pwhy otherwise. */
static json_t *claims_of(const char **pwhy, apr_pool_t *p,
                         const char *payload, apr_size_t len)
{
    json_error_t jerr;
    json_t *claims = oac_util_json_loadb(payload, len,
                                         JSON_REJECT_DUPLICATES, &jerr);

    if (!json_is_object(claims)) {
        json_decref(claims);
        *pwhy = "JWT payload is not a JSON object, or has a member twice";
        return NULL;
    }
    return oac_util_json_owned(p, claims);
}

oac_jose_e oac_jose_verify(json_t **pclaims, const char **palg,
                           const char **pwhy, apr_pool_t *p, const char *jwt,
                           const oac_jose_jwks_t *jwks,
                           const char *allowed_algs,
                           const char *hmac_secret)
{
    const char *payload, *alg;
    apr_size_t len;
    json_t *claims;
    oac_jose_e e = oac_jose_jws_verify(&payload, &len, &alg, pwhy, p, jwt,
                                       jwks, allowed_algs, hmac_secret);

    if (e != OAC_JOSE_OK) {
        return e;
    }
    if (!(claims = claims_of(pwhy, p, payload, len))) {
        return OAC_JOSE_INVALID;
    }
    *pclaims = claims;
    *palg = alg;
    return OAC_JOSE_OK;
}

json_t *oac_jose_claims_unverified(const char **pwhy, apr_pool_t *p,
                                 const char *jwt)
{
    unsigned char *part[3];
    apr_size_t len[3], inlen;
    const char *why = split_jws(part, len, &inlen, p, jwt);

    if (why) {
        *pwhy = why;
        return NULL;
    }
    return claims_of(pwhy, p, (const char *)part[1], len[1]);
}

/* ---- id_token claims --------------------------------------------------- */

/* A difference of NumericDates in whole seconds, for a message. */
static const char *seconds(apr_pool_t *p, double d)
{
    return d < 1e12 ? apr_psprintf(p, "%" APR_INT64_T_FMT " s",
                                   (apr_int64_t)d)
                    : "more than 10^12 s";
}

/* at_hash: base64url of the left half of the hash of access_token. */
static const char *token_hash(apr_pool_t *p, const alg_t *a,
                              const char *access_token)
{
    unsigned char md[114];
    EVP_MD *type = EVP_MD_fetch(NULL, a->token_md, NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    ok = type && ctx && EVP_DigestInit_ex2(ctx, type, NULL) == 1
         && EVP_DigestUpdate(ctx, access_token, strlen(access_token)) == 1
         && (EVP_MD_get_flags(type) & EVP_MD_FLAG_XOF
             ? EVP_DigestFinalXOF(ctx, md, a->token_md_len) == 1
             : EVP_DigestFinal_ex(ctx, md, &len) == 1
               && len == a->token_md_len);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(type);
    ERR_clear_error();
    return ok ? oac_util_b64url_encode(p, md, a->token_md_len / 2) : NULL;
}

/* A NumericDate claim: 1 and *pv, or 0 when missing or not a number. */
static int numeric_date(double *pv, const json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    *pv = json_is_number(v) ? json_number_value(v) : 0;
    return json_is_number(v);
}

/* NULL if aud and azp name client_id as section 9 wants, else why not. */
static const char *audience(apr_pool_t *p, const json_t *claims,
                            const char *client_id)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    json_t *azp = json_object_get(claims, "azp");
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        found = !strcmp(json_string_value(aud), client_id);
    }
    else if (json_is_array(aud) && json_array_size(aud) > 0) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v)) {
                return "id_token aud holds a value that is not a string";
            }
            found |= !strcmp(json_string_value(v), client_id);
        }
    }
    else {
        return aud ? "id_token aud is not a string or an array of strings"
                   : "id_token has no aud";
    }
    if (!found) {
        return apr_psprintf(p, "id_token aud does not contain client_id "
                            "\"%s\"", shown(p, client_id));
    }
    if (azp && (!json_is_string(azp)
                || strcmp(json_string_value(azp), client_id))) {
        return json_is_string(azp)
               ? apr_psprintf(p, "id_token azp \"%s\" is not client_id "
                              "\"%s\"", shown(p, json_string_value(azp)),
                              shown(p, client_id))
               : "id_token azp is not a string";
    }
    if (!azp && json_array_size(aud) > 1) {
        return "id_token has several audiences and no azp";
    }
    return NULL;
}

/* NULL if exp, iat and nbf fit now with leeway, else why not. */
static const char *timing(apr_pool_t *p, const json_t *claims,
                          apr_int64_t now, apr_int64_t leeway)
{
    double exp, iat, nbf, t = (double)now, l = leeway > 0 ? leeway : 0;

    if (!numeric_date(&exp, claims, "exp")) {
        return json_object_get(claims, "exp") ? "id_token exp is not a number"
                                              : "id_token has no exp";
    }
    if (!numeric_date(&iat, claims, "iat")) {
        return json_object_get(claims, "iat") ? "id_token iat is not a number"
                                              : "id_token has no iat";
    }
    if (t >= exp + l) {
        return apr_psprintf(p, "id_token expired %s ago (leeway %s)",
                            seconds(p, t - exp), seconds(p, l));
    }
    if (iat > t + l) {
        return apr_psprintf(p, "id_token iat is %s in the future (leeway %s)",
                            seconds(p, iat - t), seconds(p, l));
    }
    if (json_object_get(claims, "nbf")
        && (!numeric_date(&nbf, claims, "nbf") || nbf > t + l)) {
        return "id_token nbf is not a number, or not reached";
    }
    return NULL;
}

/* NULL if at_hash, when there is one to check, matches, else why not. */
static const char *at_hash(apr_pool_t *p, const json_t *claims,
                           const char *access_token, const char *alg_name)
{
    json_t *v = json_object_get(claims, "at_hash");
    const alg_t *a = alg_name ? alg_named(alg_name) : NULL;
    const char *expected;

    if (!v || !access_token) {
        return NULL;
    }
    if (!json_is_string(v)) {
        return "id_token at_hash is not a string";
    }
    if (!a || !a->token_md) {
        return apr_psprintf(p, "id_token at_hash cannot be checked for "
                            "alg %s",
                            alg_name ? shown(p, alg_name) : "(none)");
    }
    expected = token_hash(p, a, access_token);
    if (!expected) {
        return "id_token at_hash: the hash failed";
    }
    if (!oac_util_ct_streq(json_string_value(v), expected)) {
        return "id_token at_hash does not match the access token";
    }
    return NULL;
}

apr_status_t oac_jose_check_id_token(const char **pwhy, apr_pool_t *p,
                                     const json_t *claims,
                                     const char *issuer,
                                     const char *client_id,
                                     const char *nonce, apr_int64_t now,
                                     apr_int64_t leeway,
                                     const char *access_token,
                                     const char *alg)
{
    json_t *iss = json_object_get(claims, "iss");
    json_t *sub = json_object_get(claims, "sub");
    json_t *n = json_object_get(claims, "nonce");
    const char *why = NULL;

    if (!json_is_object(claims)) {
        why = "id_token claims are not a JSON object";
    }
    else if (!json_is_string(iss)) {
        why = iss ? "id_token iss is not a string" : "id_token has no iss";
    }
    else if (!json_is_string(sub) || !*json_string_value(sub)) {
        why = sub ? "id_token sub is not a non-empty string"
                  : "id_token has no sub";
    }
    else if (!issuer || !client_id) {
        why = "no issuer or client_id to check the id_token against";
    }
    else if (strcmp(json_string_value(iss), issuer)) {
        why = apr_psprintf(p, "id_token iss \"%s\" is not the issuer \"%s\"",
                           shown(p, json_string_value(iss)),
                           shown(p, issuer));
    }
    else if (!(why = audience(p, claims, client_id))
             && !(why = timing(p, claims, now, leeway))) {
        if (nonce && !json_is_string(n)) {
            why = n ? "id_token nonce is not a string"
                    : "id_token has no nonce";
        }
        else if (nonce && !oac_util_ct_streq(json_string_value(n), nonce)) {
            why = "id_token nonce is not the one sent";
        }
        else {
            why = at_hash(p, claims, access_token, alg);
        }
    }
    *pwhy = why;
    return why ? APR_EGENERAL : APR_SUCCESS;
}
