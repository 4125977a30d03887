/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Microbenchmark of an OpenID Connect login's id_token checks, as the
 * callback does them once per login (src/mod_oauthclient_oidc.c): the
 * RS256 signature against the provider's key set (oac_jose_verify), then
 * the claims (oac_jose_check_id_token: iss, aud, exp, iat, nonce, at_hash),
 * against the raw OpenSSL primitive over the same signing input (the
 * physical limit).
 *
 * bench/run builds it with one line, from the top of a built tree:
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) \
 *       -o jose_bench bench/jose_bench.c liboac.a \
 *       $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)
 *
 *   ./jose_bench [seconds-per-row]
 *
 * The key, the key set and the id_token are made here as the local provider
 * (t/provider/provider.py) makes them: one RSA-2048 key with a kid, "use"
 * sig and "alg" RS256; a header {"alg":"RS256","typ":"JWT","kid":...}; the
 * claims of alice's id_token (iss, sub, aud, exp, iat, auth_time, at_hash,
 * preferred_username, name, email, groups, email_verified, nonce).
 *
 * Rows, each on one thread (so the times are per core), timed in the
 * thread's CPU time, five rounds with the rows interleaved, the median:
 *  (1) oac_jose_verify + oac_jose_check_id_token: what a login pays for its
 *      id_token once the keys are parsed and kept (split, base64url, the
 *      header's JSON, the key by kid, RS256, the payload's JSON, then the
 *      claims with the nonce and at_hash); the pool is cleared after each,
 *      as httpd clears the request's.
 *  (2) oac_jose_verify alone.
 *  (3) oac_jose_check_id_token alone, on claims parsed once.
 *  (4) raw RS256: EVP_DigestVerifyInit + Update + Final over the signing
 *      input with the key imported once, the signature already decoded:
 *      nothing that checks an RS256 signature can go faster.
 *  (5) oac_jose_jwks_parse of the one-key set: paid when the keys are
 *      fetched (kept an hour, shared by the machine's processes), not per
 *      login.
 *
 * Every row's result is checked once before anything is timed, and a token
 * with one signature bit flipped must be refused. Output: a markdown table,
 * then machine-readable "key=value" lines for bench/bench.py.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define BENCH_NAME "jose_bench"
#include "bench_common.h"
#include "oac_jose.h"
#include "oac_util.h"

static const char ISSUER[] = "http://127.0.0.1:8080";
static const char CLIENT_ID[] = "oauth2-client";
static const char KID[] = "x3Kf0n1wUfNbB8y3gLkq8XyqEoGm0oW6mVvJr2t7Yy4";
static const char NONCE[] = "n8s4bW3m2f9Jk6qQeT1zYx0vH5pR7cLdA2uG4iNbE0o";
static const char ACCESS_TOKEN[] = "at-rtVzFLhQ2mB6x9Kc3PjN7sW1aZ5eY8uD4gT0vR";
static const char ALGS[] = "RS256";

typedef enum { ROW_BOTH, ROW_VERIFY, ROW_CLAIMS, ROW_RAW, ROW_JWKS } row_e;

typedef struct {
    apr_pool_t *p;
    const char *jwt;            /* the compact id_token */
    const char *jwks_json;
    const oac_jose_jwks_t *jwks;
    json_t *claims;             /* parsed once, for row (3) */
    apr_int64_t now;
    EVP_PKEY *pkey;             /* the public half, for row (4) */
    const unsigned char *input; /* the signing input: header.payload */
    size_t input_len;
    unsigned char *sig;
    size_t sig_len;
} bench_t;

static const char *bn_b64url(apr_pool_t *p, const BIGNUM *bn)
{
    int len = BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, (apr_size_t)(len ? len : 1));

    BN_bn2bin(bn, buf);
    return oac_util_b64url_encode(p, buf, (apr_size_t)len);
}

static const char *b64url_str(apr_pool_t *p, const char *s)
{
    return oac_util_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

/* OIDC Core 3.1.3.6: the left half of SHA-256 of the access token. */
static const char *at_hash(apr_pool_t *p, const char *token)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL) != 1) {
        die("SHA-256 failed");
    }
    return oac_util_b64url_encode(p, md, len / 2);
}

static int raw_verify(bench_t *b)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx
             && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, b->pkey) == 1
             && EVP_DigestVerifyUpdate(ctx, b->input, b->input_len) == 1
             && EVP_DigestVerifyFinal(ctx, b->sig, b->sig_len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

static void op(void *arg, int row)
{
    bench_t *b = arg;
    const char *why = NULL, *alg = NULL;
    json_t *claims = NULL;
    oac_jose_jwks_t *jwks;

    switch (row) {
    case ROW_BOTH:
        if (oac_jose_verify(&claims, &alg, &why, b->p, b->jwt, b->jwks, ALGS,
                            NULL) != OAC_JOSE_OK
            || oac_jose_check_id_token(&why, b->p, claims, ISSUER, CLIENT_ID,
                                       NONCE, b->now, 60, ACCESS_TOKEN, alg)
               != APR_SUCCESS) {
            die(why ? why : "the id_token was refused");
        }
        apr_pool_clear(b->p);
        break;
    case ROW_VERIFY:
        if (oac_jose_verify(&claims, &alg, &why, b->p, b->jwt, b->jwks, ALGS,
                            NULL) != OAC_JOSE_OK) {
            die(why ? why : "oac_jose_verify refused the id_token");
        }
        apr_pool_clear(b->p);
        break;
    case ROW_CLAIMS:
        if (oac_jose_check_id_token(&why, b->p, b->claims, ISSUER, CLIENT_ID,
                                    NONCE, b->now, 60, ACCESS_TOKEN, "RS256")
            != APR_SUCCESS) {
            die(why ? why : "oac_jose_check_id_token refused the claims");
        }
        apr_pool_clear(b->p);
        break;
    case ROW_RAW:
        if (!raw_verify(b)) {
            die("raw RS256 verification failed");
        }
        break;
    case ROW_JWKS:
        if (oac_jose_jwks_parse(&jwks, &why, b->p, b->jwks_json, 0)
            != APR_SUCCESS || oac_jose_jwks_count(jwks) != 1) {
            die(why ? why : "oac_jose_jwks_parse failed");
        }
        apr_pool_clear(b->p);
        break;
    }
}

/* Microseconds of the thread's CPU per operation. */
static double measure(bench_t *b, row_e row, double seconds)
{
    double elapsed;
    long ops = bench_timed(op, b, row, 200, 1, seconds, bench_cpu_s,
                           &elapsed);

    return elapsed * 1e6 / (double)ops;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

#define ROUNDS 5
#define ROWS 5

/* Each row ROUNDS times, the rows interleaved, seconds/ROUNDS each time;
 * the median of each row's rounds into us[row]. */
static void measure_all(bench_t *b, double seconds, double us[ROWS])
{
    double t[ROWS][ROUNDS];
    int row, round;

    for (round = 0; round < ROUNDS; ++round) {
        for (row = 0; row < ROWS; ++row) {
            t[row][round] = measure(b, (row_e)row, seconds / ROUNDS);
        }
    }
    for (row = 0; row < ROWS; ++row) {
        qsort(t[row], ROUNDS, sizeof(double), cmp_double);
        us[row] = t[row][ROUNDS / 2];
    }
}

int main(int argc, const char *const *argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    apr_pool_t *pool;
    bench_t b;
    EVP_PKEY *key;
    EVP_MD_CTX *ctx;
    BIGNUM *n = NULL, *e = NULL;
    oac_jose_jwks_t *jwks;
    const char *why = NULL, *alg = NULL, *header, *payload;
    char *bad;
    json_t *claims = NULL;
    double us[ROWS], t_both, t_verify, t_claims, t_raw, t_jwks;
    size_t sig_len = 0;

    if (seconds <= 0) {
        seconds = 1.0;
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        die("APR initialisation failed");
    }
    memset(&b, 0, sizeof(b));
    if (apr_pool_create(&b.p, pool) != APR_SUCCESS) {
        die("pool creation failed");
    }
    b.now = (apr_int64_t)time(NULL);

    /* The provider's key and its JWK Set. */
    if (!(key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048))
        || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1
        || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        die("RSA-2048 key generation failed");
    }
    b.jwks_json = apr_psprintf(pool,
        "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\","
        "\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}]}",
        KID, bn_b64url(pool, n), bn_b64url(pool, e));
    BN_free(n);
    BN_free(e);
    if (oac_jose_jwks_parse(&jwks, &why, pool, b.jwks_json, 0) != APR_SUCCESS
        || oac_jose_jwks_count(jwks) != 1) {
        die(why ? why : "the key set was not parsed");
    }
    b.jwks = jwks;

    /* alice's id_token, as the provider signs it. */
    header = apr_psprintf(pool, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                          KID);
    payload = apr_psprintf(pool,
        "{\"iss\":\"%s\",\"sub\":\"1001\",\"aud\":\"%s\",\"exp\":%" APR_INT64_T_FMT
        ",\"iat\":%" APR_INT64_T_FMT ",\"auth_time\":%" APR_INT64_T_FMT
        ",\"at_hash\":\"%s\",\"preferred_username\":\"alice\","
        "\"name\":\"Alice Liddell\",\"email\":\"alice@example.org\","
        "\"groups\":[\"staff\",\"admins\"],\"email_verified\":true,"
        "\"nonce\":\"%s\"}",
        ISSUER, CLIENT_ID, b.now + 86400, b.now, b.now,
        at_hash(pool, ACCESS_TOKEN), NONCE);
    b.input = (const unsigned char *)apr_pstrcat(pool, b64url_str(pool, header),
                                                 ".", b64url_str(pool, payload),
                                                 NULL);
    b.input_len = strlen((const char *)b.input);
    if (!(ctx = EVP_MD_CTX_new())
        || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1
        || EVP_DigestSign(ctx, NULL, &sig_len, b.input, b.input_len) != 1) {
        die("RS256 signing failed");
    }
    b.sig = apr_palloc(pool, sig_len);
    if (EVP_DigestSign(ctx, b.sig, &sig_len, b.input, b.input_len) != 1) {
        die("RS256 signing failed");
    }
    EVP_MD_CTX_free(ctx);
    b.sig_len = sig_len;
    b.jwt = apr_pstrcat(pool, (const char *)b.input, ".",
                        oac_util_b64url_encode(pool, b.sig, sig_len), NULL);

    /* The public half alone, as a provider's key would be imported. */
    {
        OSSL_PARAM params[3];
        unsigned char nbuf[512], ebuf[8];
        BIGNUM *pn = NULL, *pe = NULL;
        int nlen, elen;
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

        if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &pn) != 1
            || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &pe) != 1
            || (nlen = BN_bn2nativepad(pn, nbuf, BN_num_bytes(pn))) <= 0
            || (elen = BN_bn2nativepad(pe, ebuf, BN_num_bytes(pe))) <= 0) {
            die("cannot read the public key");
        }
        params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, nbuf,
                                            (size_t)nlen);
        params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, ebuf,
                                            (size_t)elen);
        params[2] = OSSL_PARAM_construct_end();
        if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1
            || EVP_PKEY_fromdata(pctx, &b.pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            die("cannot import the public key");
        }
        EVP_PKEY_CTX_free(pctx);
        BN_free(pn);
        BN_free(pe);
    }
    EVP_PKEY_free(key);

    /* Correctness first: the token passes every check, with the raw
     * primitive too, and a flipped signature bit is refused. */
    if (oac_jose_verify(&claims, &alg, &why, pool, b.jwt, b.jwks, ALGS, NULL)
        != OAC_JOSE_OK || strcmp(alg, "RS256")) {
        die(why ? why : "the id_token was refused");
    }
    b.claims = claims;
    if (oac_jose_check_id_token(&why, pool, claims, ISSUER, CLIENT_ID, NONCE,
                                b.now, 60, ACCESS_TOKEN, alg) != APR_SUCCESS) {
        die(why ? why : "the id_token's claims were refused");
    }
    if (oac_jose_check_id_token(&why, pool, claims, ISSUER, CLIENT_ID,
                                "another nonce", b.now, 60, ACCESS_TOKEN, alg)
        == APR_SUCCESS) {
        die("a wrong nonce was accepted");
    }
    if (!raw_verify(&b)) {
        die("the raw RS256 check refused the module's token");
    }
    bad = apr_pstrdup(pool, b.jwt);
    {
        char *last = strrchr(bad, '.') + 10;    /* inside the signature */
        *last = *last == 'A' ? 'B' : 'A';
    }
    if (oac_jose_verify(&claims, &alg, &why, pool, bad, b.jwks, ALGS, NULL)
        == OAC_JOSE_OK) {
        die("a token with a changed signature was accepted");
    }

    measure_all(&b, seconds, us);
    t_both = us[ROW_BOTH];
    t_verify = us[ROW_VERIFY];
    t_claims = us[ROW_CLAIMS];
    t_raw = us[ROW_RAW];
    t_jwks = us[ROW_JWKS];

    printf("OpenID Connect id_token checks: RS256 with a 2048-bit key, an "
           "id_token of %zu bytes (payload %zu bytes) as the local provider "
           "issues it, a key set of one key; %s; one thread, its CPU time "
           "(CLOCK_THREAD_CPUTIME_ID), median of %d interleaved rounds of "
           "%.2f s per row.\n\n",
           strlen(b.jwt), strlen(payload), OpenSSL_version(OPENSSL_VERSION),
           ROUNDS, seconds / ROUNDS);
    printf("| row | operation | us/id_token | per second |\n");
    printf("|---|---|---:|---:|\n");
    printf("| (1) | oac_jose_verify + oac_jose_check_id_token (a login's "
           "checks, keys kept) | %.1f | %.0f |\n", t_both, 1e6 / t_both);
    printf("| (2) | oac_jose_verify alone (signature, header and payload "
           "JSON) | %.1f | %.0f |\n", t_verify, 1e6 / t_verify);
    printf("| (3) | oac_jose_check_id_token alone (claims, nonce, at_hash) "
           "| %.1f | %.0f |\n", t_claims, 1e6 / t_claims);
    printf("| (4) | raw EVP_DigestVerify RS256, key imported once, "
           "signature decoded | %.1f | %.0f |\n", t_raw, 1e6 / t_raw);
    printf("| (5) | oac_jose_jwks_parse of the key set (per fetch of "
           "jwks_uri, not per login) | %.1f | %.0f |\n", t_jwks, 1e6 / t_jwks);
    printf("\n(1)/(4) = %.2f x the raw signature check\n", t_both / t_raw);
    printf("id_token_us=%.2f\nverify_us=%.2f\nclaims_us=%.2f\nraw_rs256_us=%.2f\n"
           "jwks_parse_us=%.2f\n", t_both, t_verify, t_claims, t_raw, t_jwks);

    EVP_PKEY_free(b.pkey);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
