/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * id_token verification (oac_jose.h): a compact JWS checked against a
 * fixed key set and against a key set from the input, and id_token claims
 * checked as section 9 of the contract says, the checks written out again
 * here.
 *
 * Input, NUL-separated: the JWS, a JWK Set, claims (JSON), an access
 * token, and a byte of options (bit 0: keep oct keys of the input's set;
 * bit 1: no nonce sent; bits 2-4: the alg at_hash is checked with; the
 * rest: the leeway, 0 to 7 minutes).
 */

#include <openssl/evp.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "oac_jose.h"
#include "oac_util.h"

#define ISSUER "https://op.example"
#define CLIENT_ID "client-1"
#define NONCE "n-0S6_WzA2Mj"
#define SECRET "client-secret-0123456789"
#define NOW APR_INT64_C(1700000100)
#define ALL_ALGS "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512," \
                 "EdDSA,Ed25519,Ed448,HS256,HS384,HS512,none"

/* RFC 7515 A.2 (RSA), A.3 (P-256), A.1 (oct), RFC 8037 A.4 (Ed25519). */
#define FIXED_JWKS \
    "{\"keys\":[" \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRl" \
    "zo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJ" \
    "PMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo" \
    "9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2" \
    "R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWN" \
    "moudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}," \
    "{\"kty\":\"EC\",\"kid\":\"ec256-1\",\"crv\":\"P-256\"," \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}," \
    "{\"kty\":\"OKP\",\"kid\":\"ed25519-1\",\"crv\":\"Ed25519\"," \
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}," \
    "{\"kty\":\"oct\",\"kid\":\"oct-1\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKO" \
    "bwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}"

static const char *const fixed_kids[] = {
    "rsa-1", "ec256-1", "ed25519-1", "oct-1"
};

static const char *const hash_algs[] = {
    NULL, "RS256", "ES384", "HS512", "Ed25519", "Ed448", "EdDSA", "PS512"
};

static oac_jose_jwks_t *fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *why;

    (void)argc;
    (void)argv;
    CHECK(oac_jose_jwks_parse(&fixed, &why, fuzz_init_with_process_pool(),
                              FIXED_JWKS, OAC_JOSE_JWKS_OCT) == APR_SUCCESS);
    CHECK(oac_jose_jwks_count(fixed) == 4 && why == NULL);
    return 0;
}

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The decoded part i of a JWS that verified (it must decode). */
static const char *part_of(apr_pool_t *p, const char *jws, int i,
                           apr_size_t *plen)
{
    unsigned char *out;
    const char *err;

    while (i--) {
        jws = strchr(jws, '.') + 1;
    }
    CHECK(oac_util_b64url_decode(&out, plen, &err, p,
                                 apr_pstrndup(p, jws, strcspn(jws, ".")))
          == APR_SUCCESS);
    return (const char *)out;
}

/* The header of a JWS that got past splitting, or NULL. */
static json_t *header_of(apr_pool_t *p, const char *jws)
{
    unsigned char *out;
    apr_size_t len;
    const char *err;

    if (oac_util_b64url_decode(&out, &len, &err, p,
                               apr_pstrndup(p, jws, strcspn(jws, ".")))
        != APR_SUCCESS) {
        return NULL;
    }
    return json_loadb((const char *)out, len, JSON_REJECT_DUPLICATES, NULL);
}

/* What every answer of oac_jose_jws_verify must satisfy. */
static void check_verify(apr_pool_t *p, oac_jose_e e, const char *jws,
                         const char *payload, apr_size_t len,
                         const char *alg, const char *why,
                         const oac_jose_jwks_t *jwks, const char *secret)
{
    apr_size_t i, dots = 0, n;
    json_t *h;
    const char *halg;

    CHECK(e == OAC_JOSE_OK || e == OAC_JOSE_INVALID
          || e == OAC_JOSE_UNKNOWN_KID || e == OAC_JOSE_NO_KEY_VERIFIES);
    if (e != OAC_JOSE_OK) {
        CHECK(why && *why && fuzz_printable(why));
        if (e == OAC_JOSE_NO_KEY_VERIFIES) {
            /* a header that names no kid and a public-key alg */
            h = header_of(p, jws);
            halg = json_string_value(json_object_get(h, "alg"));
            CHECK(!json_object_get(h, "kid") && halg
                  && strncmp(halg, "HS", 2));
            json_decref(h);
        }
        if (e == OAC_JOSE_UNKNOWN_KID) {
            h = header_of(p, jws);
            CHECK(json_is_string(json_object_get(h, "kid")));
            if (jwks == fixed) {
                for (i = 0; i < 4; ++i) {
                    CHECK(strcmp(json_string_value(json_object_get(h, "kid")),
                                 fixed_kids[i]));
                }
            }
            json_decref(h);
        }
        return;
    }
    /* Accepted: the strict shape, a listed alg other than none, a key. */
    CHECK(why == NULL && alg && payload);
    CHECK(oac_jose_jwks_count(jwks) > 0 || secret);
    n = strlen(jws);
    CHECK(n <= OAC_JOSE_MAX_JWS);
    for (i = 0; i < n; ++i) {
        dots += jws[i] == '.';
        CHECK(jws[i] == '.' || is_b64url((unsigned char)jws[i]));
    }
    CHECK(dots == 2);
    h = header_of(p, jws);
    CHECK(json_is_object(h) && !json_object_get(h, "crit"));
    halg = json_string_value(json_object_get(h, "alg"));
    CHECK(halg && strcmp(halg, "none"));
    CHECK(!strcmp(alg, halg)
          || (!strcmp(halg, "EdDSA")
              && (!strcmp(alg, "Ed25519") || !strcmp(alg, "Ed448"))));
    json_decref(h);
    {
        apr_size_t plen;
        const char *pl = part_of(p, jws, 1, &plen);

        CHECK(plen == len && !memcmp(pl, payload, len));
    }
    /* Another signature for the same input never verifies. */
    {
        char *other = apr_pstrdup(p, jws), *sig = strrchr(other, '.') + 1;
        apr_size_t slen = strlen(sig);

        if (slen >= 2) {
            const char *pl2, *alg2, *why2;
            apr_size_t len2;

            sig[slen / 2] = sig[slen / 2] == 'A' ? 'B' : 'A';
            CHECK(oac_jose_jws_verify(&pl2, &len2, &alg2, &why2, p, other,
                                      jwks, ALL_ALGS, secret)
                  != OAC_JOSE_OK);
        }
    }
}

static int json_streq(const json_t *v, const char *s)
{
    return json_is_string(v) && !strcmp(json_string_value(v), s);
}

static int aud_has(const json_t *aud, const char *client)
{
    const json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        return json_streq(aud, client);
    }
    json_array_foreach(aud, i, v) {
        if (json_streq(v, client)) {
            return 1;
        }
    }
    return 0;
}

/* at_hash recomputed apart: EVP_Q_digest, for the SHA-2 algs. */
static int at_hash_ok(apr_pool_t *p, const char *at_hash,
                      const char *access_token, const char *alg)
{
    unsigned char md[64];
    size_t len = 0;
    /* SHA-512 for the *512 algs and Ed25519 */
    const char *name = !strcmp(alg + 2, "256") ? "SHA256"
                       : !strcmp(alg + 2, "384") ? "SHA384" : "SHA512";

    if (!strcmp(alg, "Ed448")) {
        /* SHAKE256, 114 bytes: checked by its length only */
        return strlen(at_hash) == 76;
    }
    CHECK(EVP_Q_digest(NULL, name, NULL, access_token, strlen(access_token),
                       md, &len) == 1);
    return !strcmp(at_hash, oac_util_b64url_encode(p, md, len / 2));
}

/* The nonce and at_hash rejections that carry nothing of the input. */
static int fixed_text(const char *why)
{
    static const char *const texts[] = {
        "id_token at_hash is not a string",
        "id_token at_hash: the hash failed",
        "id_token at_hash does not match the access token",
        "id_token nonce is not a string",
        "id_token has no nonce",
        "id_token nonce is not the one sent",
    };
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (!strcmp(why, texts[i])) {
            return 1;
        }
    }
    /* the alg named is one of hash_algs[], never the input's */
    return !strncmp(why, "id_token at_hash cannot be checked for alg ", 43);
}

/* oac_jose_check_id_token on c (any JSON, or NULL) and, when it passes,
 * section 9's checks again. */
static void check_claims(apr_pool_t *p, const json_t *c,
                         const char *access_token, unsigned opts)
{
    const char *nonce = opts & 2 ? NULL : NONCE;
    const char *alg = hash_algs[(opts >> 2) & 7];
    const char *at = *access_token ? access_token : NULL;
    apr_int64_t leeway = (apr_int64_t)(opts >> 5) * 60;
    const char *why = NULL;
    apr_status_t rv;

    rv = oac_jose_check_id_token(&why, p, c, ISSUER, CLIENT_ID, nonce, NOW,
                                 leeway, at, alg);
    if (rv != APR_SUCCESS) {
        CHECK(rv == APR_EGENERAL && why && fuzz_printable(why));
        if (!strncmp(why, "id_token nonce", 14)
            || !strncmp(why, "id_token has no nonce", 21)
            || !strncmp(why, "id_token at_hash", 16)) {
            CHECK(!strstr(why, NONCE));
            /* A token may be a word of the message itself ("hash",
             * "the "): only an echo outside the fixed texts is a leak. */
            CHECK(!at || strlen(at) < 4 || !strstr(why, at)
                  || fixed_text(why));
        }
        return;
    }
    CHECK(why == NULL && json_is_object(c));
    CHECK(json_streq(json_object_get(c, "iss"), ISSUER));
    CHECK(json_is_string(json_object_get(c, "sub"))
          && *json_string_value(json_object_get(c, "sub")));
    CHECK(aud_has(json_object_get(c, "aud"), CLIENT_ID));
    if (json_object_get(c, "azp")) {
        CHECK(json_streq(json_object_get(c, "azp"), CLIENT_ID));
    }
    else {
        CHECK(!json_is_array(json_object_get(c, "aud"))
              || json_array_size(json_object_get(c, "aud")) == 1);
    }
    CHECK(json_is_number(json_object_get(c, "exp"))
          && (double)NOW < json_number_value(json_object_get(c, "exp"))
                           + (double)leeway);
    CHECK(json_is_number(json_object_get(c, "iat"))
          && json_number_value(json_object_get(c, "iat"))
             <= (double)(NOW + leeway));
    if (nonce) {
        CHECK(json_streq(json_object_get(c, "nonce"), nonce));
    }
    if (at && json_object_get(c, "at_hash")) {
        CHECK(alg && strcmp(alg, "EdDSA"));
        CHECK(json_is_string(json_object_get(c, "at_hash")));
        CHECK(at_hash_ok(p, json_string_value(json_object_get(c, "at_hash")),
                         at, alg));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_parts_t in;
    oac_jose_jwks_t *jwks = NULL;
    const char *why = NULL, *payload = NULL, *alg = NULL;
    apr_size_t len = 0;
    json_t *claims = NULL;
    unsigned opts;
    apr_status_t rv;
    oac_jose_e e;

    apr_pool_create(&p, NULL);
    fuzz_split(&in, p, data, size);
    opts = (unsigned char)in.part[4][0];

    rv = oac_jose_jwks_parse(&jwks, &why, p, in.part[1], opts & 1);
    CHECK(rv == APR_SUCCESS || rv == APR_EGENERAL);
    CHECK(rv == APR_SUCCESS ? jwks != NULL : why != NULL);
    CHECK(!why || fuzz_printable(why));
    CHECK(oac_jose_jwks_count(jwks) <= OAC_JOSE_MAX_KEYS);

    e = oac_jose_jws_verify(&payload, &len, &alg, &why, p, in.part[0], fixed,
                            ALL_ALGS, SECRET);
    check_verify(p, e, in.part[0], payload, len, alg, why, fixed, SECRET);
    if (rv == APR_SUCCESS) {
        e = oac_jose_jws_verify(&payload, &len, &alg, &why, p, in.part[0],
                                jwks, ALL_ALGS, NULL);
        check_verify(p, e, in.part[0], payload, len, alg, why, jwks, NULL);
    }
    e = oac_jose_verify(&claims, &alg, &why, p, in.part[0], fixed, ALL_ALGS,
                        SECRET);
    CHECK(e != OAC_JOSE_OK || json_is_object(claims));
    if (e == OAC_JOSE_OK) {
        check_claims(p, claims, in.part[3], opts);
    }
    claims = json_loads(in.part[2], 0, NULL);
    check_claims(p, claims, in.part[3], opts);
    json_decref(claims);
    apr_pool_destroy(p);
    return 0;
}
