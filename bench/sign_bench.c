/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Microbenchmark of OAuth 1.0a request signing (HMAC-SHA1), as
 * OAuthProxyAPI does it for every API call, against the raw OpenSSL
 * primitive over the same signature base string (the physical limit).
 *
 * bench/run builds it with one line, from the top of a built tree:
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags apr-1 apr-util-1) \
 *       -o sign_bench bench/sign_bench.c liboac.a \
 *       $(pkg-config --libs apr-1 apr-util-1 openssl libcurl jansson)
 *
 *   ./sign_bench [seconds-per-row]
 *
 * Rows, each on one thread (so the rates are per core):
 *  (1) oac_oauth1_sign_request: a fresh nonce (CSPRNG), the timestamp, the
 *      base string (URL split, query decoded, 7 oauth_* + 3 query
 *      parameters encoded and sorted), HMAC-SHA1, the Authorization header;
 *      the request pool is cleared after each, as httpd does.
 *  (2) the same with a fixed nonce and timestamp (no CSPRNG, no clock).
 *  (3) oac_oauth1_base_string alone (no HMAC, no header).
 *  (4) raw HMAC-SHA1 over the base string of (2) with OpenSSL's one-shot
 *      HMAC(): what a plain implementation pays for the MAC.
 *  (5) raw HMAC-SHA1 with the MAC fetched once and one EVP_MAC_CTX reused:
 *      EVP_MAC_init(key) + update + final per signature. Nothing that
 *      signs with a per-user key can go faster.
 *
 * Row (2)'s signature is checked against (5)'s (both base64 of the same
 * MAC) before anything is timed. Output: a markdown table, then
 * machine-readable "key=value" lines for bench/bench.py.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#define BENCH_NAME "sign_bench"
#include "bench_common.h"
#include "oac_form.h"
#include "oac_oauth1.h"

/* A typical API call: Twitter's v1.1 home timeline with three query
 * parameters, tokens and secrets of the usual lengths. */
static const char URL[] =
    "https://api.twitter.com/1.1/statuses/home_timeline.json"
    "?count=200&exclude_replies=true&include_entities=false";
static const char CONSUMER_KEY[] = "xvz1evFS4wEEPTGEFPHBog";
static const char CONSUMER_SECRET[] =
    "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
static const char TOKEN[] =
    "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
static const char TOKEN_SECRET[] =
    "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
static const char NONCE[] = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
static const apr_int64_t TIMESTAMP = 1318622958;

typedef enum { ROW_SIGN, ROW_SIGN_FIXED, ROW_BASE, ROW_HMAC, ROW_MAC_CTX } row_e;

typedef struct {
    apr_pool_t *p;
    oac_oauth1_creds_t creds;
    const char *base;
    size_t base_len;
    char key[256];
    size_t key_len;
    EVP_MAC_CTX *mac_ctx;
    unsigned char mac[EVP_MAX_MD_SIZE];
    apr_array_header_t *oauth_params;
} bench_t;

static void op(void *arg, int row)
{
    bench_t *b = arg;
    const char *err = NULL;
    char *out;
    size_t len = 0;

    switch (row) {
    case ROW_SIGN:
    case ROW_SIGN_FIXED:
        if (oac_oauth1_sign_request(&out, &err, b->p, &b->creds, "GET", URL,
                                    NULL, NULL,
                                    row == ROW_SIGN ? NULL : NONCE,
                                    row == ROW_SIGN ? 0 : TIMESTAMP)
            != APR_SUCCESS) {
            die(err ? err : "oac_oauth1_sign_request failed");
        }
        apr_pool_clear(b->p);
        break;
    case ROW_BASE:
        if (oac_oauth1_base_string(&out, &err, b->p, "GET", URL,
                                   b->oauth_params) != APR_SUCCESS) {
            die(err ? err : "oac_oauth1_base_string failed");
        }
        apr_pool_clear(b->p);
        break;
    case ROW_HMAC:
        if (!HMAC(EVP_sha1(), b->key, (int)b->key_len,
                  (const unsigned char *)b->base, b->base_len, b->mac,
                  NULL)) {
            die("HMAC failed");
        }
        break;
    case ROW_MAC_CTX:
        if (EVP_MAC_init(b->mac_ctx, (const unsigned char *)b->key,
                         b->key_len, NULL) != 1
            || EVP_MAC_update(b->mac_ctx, (const unsigned char *)b->base,
                              b->base_len) != 1
            || EVP_MAC_final(b->mac_ctx, b->mac, &len, sizeof(b->mac)) != 1) {
            die("EVP_MAC failed");
        }
        break;
    }
}

static double measure(bench_t *b, row_e row, double seconds)
{
    double elapsed;
    long ops = bench_timed(op, b, row, 1000, 1, seconds, bench_wall_s,
                           &elapsed);

    return (double)ops / elapsed;
}

/* The oauth_signature="..." value of an Authorization header, decoded. */
static const char *header_signature(apr_pool_t *p, const char *header)
{
    const char *s = strstr(header, "oauth_signature=\"");
    char *v, *end;

    if (!s) {
        die("no oauth_signature in the header");
    }
    v = apr_pstrdup(p, s + strlen("oauth_signature=\""));
    if (!(end = strchr(v, '"'))) {
        die("unterminated oauth_signature");
    }
    *end = '\0';
    /* pct-decoding of base64: only + / = are encoded */
    {
        char *r = v, *w = v;
        while (*r) {
            if (r[0] == '%' && r[1] && r[2]) {
                char hex[3] = {r[1], r[2], 0};
                *w++ = (char)strtol(hex, NULL, 16);
                r += 3;
            }
            else {
                *w++ = *r++;
            }
        }
        *w = '\0';
    }
    return v;
}

int main(int argc, const char *const *argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    apr_pool_t *pool;
    bench_t b;
    EVP_MAC *mac;
    OSSL_PARAM params[2];
    const char *err = NULL;
    char *header, *base, b64[64];
    double r_sign, r_fixed, r_base, r_hmac, r_ctx;
    size_t len = 0;

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
    b.creds.method = OAC_SIG_HMAC_SHA1;
    b.creds.consumer_key = CONSUMER_KEY;
    b.creds.consumer_secret = CONSUMER_SECRET;
    b.creds.token = TOKEN;
    b.creds.token_secret = TOKEN_SECRET;

    /* The base string the module signs in row (2), built the same way. */
    b.oauth_params = oac_form_make(pool);
    oac_form_add(b.oauth_params, "oauth_consumer_key", CONSUMER_KEY);
    oac_form_add(b.oauth_params, "oauth_nonce", NONCE);
    oac_form_add(b.oauth_params, "oauth_signature_method", "HMAC-SHA1");
    oac_form_add(b.oauth_params, "oauth_timestamp",
                 apr_psprintf(pool, "%" APR_INT64_T_FMT, TIMESTAMP));
    oac_form_add(b.oauth_params, "oauth_token", TOKEN);
    oac_form_add(b.oauth_params, "oauth_version", "1.0");
    if (oac_oauth1_base_string(&base, &err, pool, "GET", URL, b.oauth_params)
        != APR_SUCCESS) {
        die(err);
    }
    b.base = base;
    b.base_len = strlen(base);
    /* the secrets above need no percent-encoding */
    b.key_len = (size_t)snprintf(b.key, sizeof(b.key), "%s&%s",
                                 CONSUMER_SECRET, TOKEN_SECRET);

    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL))
        || !(b.mac_ctx = EVP_MAC_CTX_new(mac))) {
        die("EVP_MAC_fetch(HMAC) failed");
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(b.mac_ctx, params) != 1) {
        die("EVP_MAC_CTX_set_params failed");
    }

    /* Correctness first: the module's signature is the raw MAC's. */
    if (oac_oauth1_sign_request(&header, &err, pool, &b.creds, "GET", URL,
                                NULL, NULL, NONCE, TIMESTAMP) != APR_SUCCESS) {
        die(err);
    }
    op(&b, ROW_MAC_CTX);
    len = EVP_MAX_MD_SIZE;
    EVP_EncodeBlock((unsigned char *)b64, b.mac, 20);
    if (strcmp(header_signature(pool, header), b64) != 0) {
        fprintf(stderr, "module: %s\nraw:    %s\n",
                header_signature(pool, header), b64);
        die("the module's HMAC-SHA1 signature differs from OpenSSL's");
    }
    (void)len;

    r_sign = measure(&b, ROW_SIGN, seconds);
    r_fixed = measure(&b, ROW_SIGN_FIXED, seconds);
    r_base = measure(&b, ROW_BASE, seconds);
    r_hmac = measure(&b, ROW_HMAC, seconds);
    r_ctx = measure(&b, ROW_MAC_CTX, seconds);

    printf("OAuth 1 HMAC-SHA1 signing of GET %s (base string %zu bytes); "
           "%s; one thread.\n\n", URL, b.base_len,
           OpenSSL_version(OPENSSL_VERSION));
    printf("| row | operation | signatures/s | us/op |\n");
    printf("|---|---|---:|---:|\n");
    printf("| (1) | oac_oauth1_sign_request, fresh nonce + timestamp "
           "| %.0f | %.2f |\n", r_sign, 1e6 / r_sign);
    printf("| (2) | oac_oauth1_sign_request, fixed nonce + timestamp "
           "| %.0f | %.2f |\n", r_fixed, 1e6 / r_fixed);
    printf("| (3) | oac_oauth1_base_string alone | %.0f | %.2f |\n",
           r_base, 1e6 / r_base);
    printf("| (4) | raw OpenSSL HMAC() one-shot over the base string "
           "| %.0f | %.2f |\n", r_hmac, 1e6 / r_hmac);
    printf("| (5) | raw EVP_MAC_init+update+final, MAC fetched once "
           "| %.0f | %.2f |\n", r_ctx, 1e6 / r_ctx);
    printf("\n(1)/(5) = %.2f of the physical limit\n", r_sign / r_ctx);
    printf("sign_per_s=%.0f\nsign_fixed_per_s=%.0f\nbase_per_s=%.0f\n"
           "raw_hmac_oneshot_per_s=%.0f\nraw_hmac_ctx_per_s=%.0f\n",
           r_sign, r_fixed, r_base, r_hmac, r_ctx);

    EVP_MAC_CTX_free(b.mac_ctx);
    EVP_MAC_free(mac);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
