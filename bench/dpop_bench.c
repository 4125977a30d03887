/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Microbenchmark of a DPoP proof (RFC 9449), as OAuthProxyAPI makes one
 * for every API call with a DPoP-bound token (issue #17: at most 50 us of
 * CPU for an ES256 proof), beside the raw signature it contains.
 *
 * bench/run builds it with one line, from the top of a built tree:
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) \
 *       -o dpop_bench bench/dpop_bench.c liboac.a \
 *       $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)
 *
 *   ./dpop_bench [seconds-per-row]
 *
 * Rows, each on one thread (thread CPU time, so the rates are per core):
 *  (1) oac_dpop_proof, ES256: a fresh jti (CSPRNG), htu without the query,
 *      ath (SHA-256 of a 1 KB access token), a nonce, the header with the
 *      public JWK, JSON, base64url, the ECDSA signature; the pool cleared
 *      after each, as httpd does;
 *  (2) the same with EdDSA (Ed25519), (3) with PS256 (RSA 2048);
 *  (4) the raw ES256 signature alone (EVP_DigestSign over a proof's
 *      signing input): the floor of (1).
 * Each proof of rows 1-3 is checked to verify before anything is timed.
 * Output: a markdown table, then "key=value" lines for bench/bench.py.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/evp.h>

#define BENCH_NAME "dpop_bench"
#include "bench_common.h"
#include "oac_jose.h"
#include "oac_sign.h"
#include "oac_util.h"

static char token[1025];

static int verifies(apr_pool_t *p, const oac_signer_t *s, const char *proof)
{
    json_t *jwk = oac_signer_public_jwk(s), *set = json_pack("{s:[o]}", "keys",
                                                             jwk), *claims;
    char *text = json_dumps(set, JSON_COMPACT);
    oac_jose_jwks_t *jwks;
    const char *why, *alg;
    int ok = oac_jose_jwks_parse(&jwks, &why, p, text, 0) == APR_SUCCESS
             && oac_jose_verify(&claims, &alg, &why, p, proof, jwks,
                                oac_signer_alg(s), NULL) == OAC_JOSE_OK;
    free(text);
    json_decref(set);
    return ok;
}

typedef struct {
    apr_pool_t *rp;             /* cleared after each proof, as httpd does */
    const oac_signer_t *s;
    EVP_PKEY *key;              /* row (4) */
} dpop_arg_t;

static void proof_op(void *arg, int row)
{
    dpop_arg_t *a = arg;
    char *proof;
    const char *why;

    (void)row;
    if (oac_dpop_proof(&proof, &why, a->rp, a->s, "GET",
                       "https://rs.example/api/v1/accounts?page=2", token,
                       "eyJ7S_zG.eyJH0-Z.HX4w-7v", 1700000000)
        != APR_SUCCESS) {
        die(why);
    }
    apr_pool_clear(a->rp);
}

static void raw_op(void *arg, int row)
{
    static const char input[] =
        "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0IiwiandrIjp7Imt0eSI6IkVD"
        "IiwiY3J2IjoiUC0yNTYiLCJ4IjoieCIsInkiOiJ5In19.eyJqdGkiOiJqIiwiaHRt"
        "IjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9ycy5leGFtcGxlL2FwaSIsImlhdCI6MX0";
    dpop_arg_t *a = arg;
    unsigned char sig[128];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = sizeof(sig);

    (void)row;
    if (!ctx
        || EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, a->key,
                                 NULL) != 1
        || EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
                          sizeof(input) - 1) != 1) {
        die("raw ES256 failed");
    }
    EVP_MD_CTX_free(ctx);
}

/* Microseconds of the thread's CPU per operation. */
static double row_us(bench_op_fn *op, dpop_arg_t *a, double secs)
{
    double elapsed;
    long ops = bench_timed(op, a, 0, 100, 1, secs, bench_cpu_s, &elapsed);

    return elapsed * 1e6 / (double)ops;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    static const char *const algs[] = { "ES256", "EdDSA", "PS256" };
    double us[4];
    dpop_arg_t a = { NULL, NULL, NULL };
    apr_pool_t *p;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&a.rp, p);
    if (oac_util_nonce_init() != APR_SUCCESS) {
        return 1;
    }
    memset(token, 'T', sizeof(token) - 1);
    for (i = 0; i < 3; ++i) {
        oac_signer_t *s;
        const char *why;
        char *proof;
        if (oac_signer_generate(&s, &why, p, !strcmp(algs[i], "PS256")
                                                 ? "RS256" : algs[i])
            != APR_SUCCESS) {
            fprintf(stderr, "%s: %s\n", algs[i], why);
            return 1;
        }
        if (!strcmp(algs[i], "PS256")) {
            oac_signer_use_pss(s);
        }
        if (oac_dpop_proof(&proof, &why, p, s, "GET", "https://rs.example/a",
                           token, "n", 1700000000) != APR_SUCCESS
            || !verifies(p, s, proof)) {
            fprintf(stderr, "%s: the proof does not verify\n", algs[i]);
            return 1;
        }
        a.s = s;
        us[i] = row_us(proof_op, &a, secs);
    }
    if (!(a.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"))) {
        die("no P-256 key");
    }
    us[3] = row_us(raw_op, &a, secs);
    EVP_PKEY_free(a.key);

    printf("| row | what | us of CPU each | proofs/s per core |\n");
    printf("|---|---|---:|---:|\n");
    for (i = 0; i < 3; ++i) {
        printf("| (%d) | oac_dpop_proof, %s (jti, htu, ath, nonce, JWK, "
               "signature) | %.1f | %.0f |\n", i + 1, algs[i], us[i],
               1e6 / us[i]);
    }
    printf("| (4) | raw ES256 signature (EVP_DigestSign) | %.1f | %.0f |\n",
           us[3], 1e6 / us[3]);
    printf("dpop_es256_us=%.2f\ndpop_eddsa_us=%.2f\ndpop_ps256_us=%.2f\n"
           "raw_es256_us=%.2f\n", us[0], us[1], us[2], us[3]);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
