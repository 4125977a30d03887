/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Unit tests for src/oac_sign.c: the JWS the module signs (RFC 7523 client
 * assertions, RFC 9449 DPoP proofs).
 *
 * Published vectors: RFC 7515 A.1 (HS256) and A.2 (RS256), RFC 8037 A.4
 * (Ed25519) re-signed byte for byte with their private keys (PEM made from
 * the RFCs' JWKs with python3-cryptography); RFC 7515 A.3's ES256 key
 * (ECDSA is randomized: checked by verifying); RFC 9449's JWK thumbprint
 * (section 6.1) and ath (section 7.1) examples.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "oac_test.h"

#include "oac_jose.h"
#include "oac_sign.h"
#include "oac_util.h"

static const char PEM_RSA[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO\n"
    "jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL\n"
    "aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn\n"
    "juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5\n"
    "ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf\n"
    "toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg\n"
    "VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW\n"
    "PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G\n"
    "O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj\n"
    "kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6\n"
    "XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB\n"
    "4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K\n"
    "pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr\n"
    "0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE\n"
    "lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6\n"
    "kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP\n"
    "rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw\n"
    "kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp\n"
    "5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2\n"
    "9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/\n"
    "evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG\n"
    "yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj\n"
    "OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2\n"
    "tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3\n"
    "ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56\n"
    "03k2+ZQwVK0JKSHuLFkuQ3U=\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char PEM_ED[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char PEM_EC[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
    "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
    "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char PEM_EC384[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDa2x/CypldSwlg+xFB\n"
    "/2diDnGpMjW3aEryylal6rqGPQwBkJyFlVIaFakOyEEkBumhZANiAAQ34nKBS7I9\n"
    "0Es6/ZMtgLZEv4wwNyKZYktvO7yCLAFeSGeq01hxXHtCNRg73DQDrkgse4a0FV12\n"
    "y4DSE8csz/XDgYVStvgj8JvRsJthhCgbuYB0uvPsglEhy3sdbhOmPiI=\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char PEM_RSA1024[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICeQIBADANBgkqhkiG9w0BAQEFAASCAmMwggJfAgEAAoGBAMoqQJJeX0uJ1oTa\n"
    "i9DAPkcKuao4LmUgANYtGZZ9xFnvP+uSR5ZcCHdbnYxXiIGZHkGTc1uUcABTQr3R\n"
    "yry7vgVsV20Aon5tJ3NKeflNf9w9x1ySJJMS6ScXin04zwo4qG1AvyibVuztycBZ\n"
    "tthO+enaQOmCntv6WO7exYR3T//jAgMBAAECgYEAjQ8uPvLaSzrCE7DqHZ4F1kwF\n"
    "gF/y/1x1OPv+/qKCfr4RO621hZRx09Z495OcC9Fq6xaXRy8rdw6hYxEfBNF6o9BZ\n"
    "of0wq2kDi1FKFz3X2uF6KYktL0fnHXfrxmg7uvWg4Y5zjzDj5RqieMr8uBn/9iVu\n"
    "rP5uP5TFEphVukctcQECQQDs3lJcSKbw08WobR9B0925wBbCmvFZWXhvTyQEThwS\n"
    "QvRz7m6VnSiJmIi/G9NrlxTkDYATW8wSBYNZMeULerFPAkEA2n5gM74dkTQI4Yb7\n"
    "Uod9NZ+qHSjvWzR3fEoMPUUT2khSBMUYaFQRbrgvSbCtsipPd7JSye/FL8d3Lkks\n"
    "P1ybLQJBAN0SCjBTJmvyWrH9VoTrpi8tFpD+Z28K0Bqi9GyIMi7hCqIA0HkWurTh\n"
    "Bg/HeqUZ1seZygVHUckoGBTxOmJiWoUCQQCQGQStW1b4qo6o3nLlzQGg2fpBXPvu\n"
    "9L1QtS05Q1OChGvDRZGBTOBqWwKk4ObNN+ZNFMhQ8dbkWfKaDhwmdZbJAkEAsbhb\n"
    "s+JyU2Pk9BKLesiwE3E55PHgYL7Tm7UhoQ1HshOFHV+Bm+bdQwFg8lp2rVU1hEpB\n"
    "mOUCgdCnb9YeZkZ3Ww==\n"
    "-----END PRIVATE KEY-----\n"
    ;

#define RFC7515_A2 \
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODA" \
    "sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Ee" \
    "tdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Q" \
    "c_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--" \
    "f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN" \
    "9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6I" \
    "eYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypG" \
    "lUPQGe77Rw"
#define RFC7515_A1 \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJ" \
    "leHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp" \
    "0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC7515_A1_K \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0i" \
    "PS4hcgUuTwjAzZr1Z9CAow"
#define RFC8037_A4 \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il" \
    "_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g" \
    "7sVvpAr_MuM0KAg"
#define RFC7515_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

static oac_signer_t *load(apr_pool_t *p, const char *pem, const char *kid)
{
    oac_signer_t *s = NULL;
    const char *why = NULL;

    if (oac_signer_from_pem(&s, &why, p, pem, strlen(pem), kid)
        != APR_SUCCESS) {
        fail_msg("load: %s", why);
    }
    return s;
}

/* Signs the signing input of a published JWS and compares the signature:
 * deterministic algorithms give the very bytes. */
static void resign(apr_pool_t *p, const oac_signer_t *s, const char *jws)
{
    const char *dot = strrchr(jws, '.');
    char *sig = NULL;
    const char *why = NULL;

    assert_int_equal(oac_sign_input(&sig, &why, p, s, jws,
                                    (apr_size_t)(dot - jws)), APR_SUCCESS);
    assert_string_equal(sig, dot + 1);
}

static void published_signatures(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *k;
    apr_size_t klen;
    const char *why;

    resign(p, load(p, PEM_RSA, NULL), RFC7515_A2);
    resign(p, load(p, PEM_ED, NULL), RFC8037_A4);
    assert_int_equal(oac_util_b64url_decode(&k, &klen, &why, p,
                                            RFC7515_A1_K), APR_SUCCESS);
    resign(p, oac_signer_hmac(p, apr_pstrmemdup(p, (char *)k, klen),
                              "HS256"), RFC7515_A1);
}

static void algorithms_follow_keys(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *s;
    const char *why = NULL;

    assert_string_equal(oac_signer_alg(load(p, PEM_RSA, NULL)), "RS256");
    assert_string_equal(oac_signer_alg(load(p, PEM_EC, NULL)), "ES256");
    assert_string_equal(oac_signer_alg(load(p, PEM_ED, NULL)), "EdDSA");
    assert_string_equal(oac_signer_alg(oac_signer_hmac(p, "s3cret", "HS256")),
                        "HS256");
    assert_null(oac_signer_hmac(p, "", "HS256"));
    assert_null(oac_signer_hmac(p, "s3cret", "RS256"));

    /* keys that cannot be used say why */
    assert_int_equal(oac_signer_from_pem(&s, &why, p, PEM_EC384,
                                         strlen(PEM_EC384), NULL),
                     APR_EINVAL);
    assert_string_equal(why, "an EC key on the curve secp384r1; only P-256 "
                             "(ES256) is used");
    assert_int_equal(oac_signer_from_pem(&s, &why, p, PEM_RSA1024,
                                         strlen(PEM_RSA1024), NULL),
                     APR_EINVAL);
    assert_string_equal(why, "an RSA key of 1024 bits; at least 2048 are "
                             "needed");
    assert_int_equal(oac_signer_from_pem(&s, &why, p, "hello", 5, NULL),
                     APR_EINVAL);
    assert_string_equal(why, "no PEM private key in it");
}

static void files(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/tmp/oac-test-sign-XXXXXX";
    oac_signer_t *s = NULL;
    const char *why = NULL;
    int fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(PEM_EC, f);
    fclose(f);
    assert_int_equal(oac_signer_from_file(&s, &why, p, path, "k1"),
                     APR_SUCCESS);
    assert_string_equal(oac_signer_alg(s), "ES256");
    f = fopen(path, "w");
    fputs(PEM_EC384, f);
    fclose(f);
    assert_int_equal(oac_signer_from_file(&s, &why, p, path, NULL),
                     APR_EINVAL);
    /* the message names the file */
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "secp384r1"));
    unlink(path);
    assert_int_not_equal(oac_signer_from_file(&s, &why, p, path, NULL),
                         APR_SUCCESS);
    assert_non_null(strstr(why, path));
}

/* A JWS the module signed verifies with the key's public half, and its
 * header says what the RFCs ask. */
static json_t *verified(apr_pool_t *p, const char *jws, const json_t *jwk,
                        const char *alg)
{
    json_t *set = json_pack("{s:[O]}", "keys", jwk);
    char *text = json_dumps(set, JSON_COMPACT);
    oac_jose_jwks_t *jwks;
    json_t *claims = NULL;
    const char *why = NULL, *used = NULL;

    json_decref(set);
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, text, 0),
                     APR_SUCCESS);
    free(text);
    if (oac_jose_verify(&claims, &used, &why, p, jws, jwks, alg, NULL)
        != OAC_JOSE_OK) {
        fail_msg("verify: %s", why);
    }
    return claims;
}

static json_t *header_of(apr_pool_t *p, const char *jws)
{
    unsigned char *raw;
    apr_size_t len;
    const char *why;
    json_error_t jerr;
    json_t *h;

    assert_int_equal(oac_util_b64url_decode(&raw, &len, &why, p,
                         apr_pstrmemdup(p, jws, strchr(jws, '.') - jws)),
                     APR_SUCCESS);
    h = json_loadb((const char *)raw, len, 0, &jerr);
    assert_non_null(h);
    return h;
}

static void public_keys(void **state)
{
    apr_pool_t *p = *state;
    json_t *jwk = oac_signer_public_jwk(load(p, PEM_EC, NULL));

    /* RFC 7515 A.3's public half, from its private key */
    assert_string_equal(json_string_value(json_object_get(jwk, "x")),
                        RFC7515_A3_X);
    assert_string_equal(json_string_value(json_object_get(jwk, "y")),
                        RFC7515_A3_Y);
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
    jwk = oac_signer_public_jwk(load(p, PEM_ED, NULL));
    assert_string_equal(json_string_value(json_object_get(jwk, "x")),
                        RFC8037_X);
    json_decref(jwk);
    assert_null(oac_signer_public_jwk(oac_signer_hmac(p, "s", "HS256")));
}

static void thumbprint(void **state)
{
    apr_pool_t *p = *state;
    /* RFC 9449 section 6.1 (members in any order, extra ones ignored) */
    json_t *jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "y",
        "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA", "x",
        "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", "kty", "EC", "crv",
        "P-256", "use", "sig");

    assert_string_equal(oac_jwk_thumbprint(p, jwk),
                        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    json_object_del(jwk, "y");
    assert_null(oac_jwk_thumbprint(p, jwk));
    json_decref(jwk);
}

static void ath_and_htu(void **state)
{
    apr_pool_t *p = *state;

    /* RFC 9449 section 7.1 */
    assert_string_equal(oac_dpop_ath(p, "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~"
                                        "zsPE_NeO.gxU"),
                        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    assert_string_equal(oac_dpop_htu(p, "https://rs.example/a/b?x=1#f"),
                        "https://rs.example/a/b");
    assert_string_equal(oac_dpop_htu(p, "https://rs.example/a#f?x"),
                        "https://rs.example/a");
    assert_string_equal(oac_dpop_htu(p, "https://rs.example/"),
                        "https://rs.example/");
}

static void dpop_proofs(void **state)
{
    apr_pool_t *p = *state;
    const char *algs[] = { "ES256", "RS256", "EdDSA" };
    int i;

    for (i = 0; i < 3; ++i) {
        oac_signer_t *s = NULL;
        char *proof = NULL, *again = NULL;
        const char *why = NULL;
        json_t *h, *claims, *jwk;

        assert_int_equal(oac_signer_generate(&s, &why, p, algs[i]),
                         APR_SUCCESS);
        assert_int_equal(oac_dpop_proof(&proof, &why, p, s, "GET",
                             "https://rs.example/api/v1/things?page=2#top",
                             "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
                             "eyJ7S_zG.eyJH0-Z.HX4w-7v", 1700000000),
                         APR_SUCCESS);
        h = header_of(p, proof);
        /* RFC 9449 4.2: typ, an asymmetric alg, the public key and
         * nothing private */
        assert_string_equal(json_string_value(json_object_get(h, "typ")),
                            "dpop+jwt");
        assert_string_equal(json_string_value(json_object_get(h, "alg")),
                            algs[i]);
        jwk = json_object_get(h, "jwk");
        assert_non_null(jwk);
        assert_null(json_object_get(jwk, "d"));
        assert_non_null(oac_jwk_thumbprint(p, jwk));
        claims = verified(p, proof, jwk, algs[i]);
        assert_string_equal(json_string_value(json_object_get(claims, "htm")),
                            "GET");
        assert_string_equal(json_string_value(json_object_get(claims, "htu")),
                            "https://rs.example/api/v1/things");
        assert_int_equal(json_integer_value(json_object_get(claims, "iat")),
                         1700000000);
        assert_string_equal(json_string_value(json_object_get(claims, "ath")),
                            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert_string_equal(json_string_value(json_object_get(claims,
                                                              "nonce")),
                            "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_true(strlen(json_string_value(json_object_get(claims, "jti")))
                    >= 22);
        /* a fresh jti every time; no ath or nonce when there is none */
        assert_int_equal(oac_dpop_proof(&again, &why, p, s, "POST",
                                        "https://as.example/token", NULL,
                                        NULL, 1700000001), APR_SUCCESS);
        {
            json_t *c2 = verified(p, again, jwk, algs[i]);
            assert_string_not_equal(
                json_string_value(json_object_get(claims, "jti")),
                json_string_value(json_object_get(c2, "jti")));
            assert_null(json_object_get(c2, "ath"));
            assert_null(json_object_get(c2, "nonce"));
        }
        json_decref(h);
    }
}

/* The claims are written without a JSON library: what a URL or a
 * server's nonce may hold must come out as the same string, and what a
 * JSON text cannot hold must be refused, never sent. */
static void dpop_claims_escaped(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *s = NULL;
    char *proof = NULL;
    const char *why = NULL;
    json_t *jwk, *claims;
    static const char *const urls[] = {
        "https://rs.example/a\"b\\c/d\x01\x1f\x7f",
        "https://rs.example/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80",
        "https://rs.example/?only=query",
    };
    static const char *const bad[] = {
        "\xc3",                 /* cut short */
        "\xc0\xaf",             /* overlong '/' */
        "\xed\xa0\x80",         /* a surrogate */
        "\xf4\x90\x80\x80",     /* past U+10FFFF */
        "\xff",
    };
    apr_size_t i;

    assert_int_equal(oac_signer_generate(&s, &why, p, "ES256"), APR_SUCCESS);
    jwk = oac_signer_public_jwk(s);
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); ++i) {
        assert_int_equal(oac_dpop_proof(&proof, &why, p, s, "PATCH", urls[i],
                                        "tok", "n\"o\\nce\t", 1700000000),
                         APR_SUCCESS);
        claims = verified(p, proof, jwk, "ES256");
        assert_string_equal(json_string_value(json_object_get(claims, "htu")),
                            oac_dpop_htu(p, urls[i]));
        assert_string_equal(json_string_value(json_object_get(claims,
                                                              "nonce")),
                            "n\"o\\nce\t");
        assert_int_equal(json_object_size(claims), 6);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        proof = NULL;
        assert_int_equal(oac_dpop_proof(&proof, &why, p, s, "GET",
                                        "https://rs.example/", "tok",
                                        bad[i], 1700000000), APR_EINVAL);
        assert_null(proof);
        assert_non_null(strstr(why, "UTF-8"));
    }
    /* R and S shorter than 32 bytes (one proof in 128 has one) are
     * padded, not cut: every proof verifies */
    for (i = 0; i < 600; ++i) {
        assert_int_equal(oac_dpop_proof(&proof, &why, p, s, "GET",
                                        "https://rs.example/", "tok", NULL,
                                        1700000000 + (apr_int64_t)i),
                         APR_SUCCESS);
        verified(p, proof, jwk, "ES256");
    }
    json_decref(jwk);
}

/* Differential: random strings of the bytes that matter (quotes,
 * backslashes, control characters, pieces of UTF-8 sequences, valid and
 * not) as the nonce. Jansson's own check decides which a JSON text can
 * carry; the proof must refuse exactly those it refuses, and carry every
 * other one unchanged. */
static void dpop_claims_random(void **state)
{
    apr_pool_t *p = *state, *sub;
    /* single bytes, and whole sequences from U+0080 to U+10FFFF */
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "~", "\"", "\\", "/", "\x01", "\t", "\n",
        "\x1f", "\x7f", "\x80", "\x8f", "\x9f", "\xa0", "\xbf", "\xc0",
        "\xc2", "\xdf", "\xe0", "\xed", "\xef", "\xf0", "\xf4", "\xf5",
        "\xff", "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80",
        "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
        "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"
    };
    oac_signer_t *s = NULL;
    const char *why = NULL;
    unsigned int seed = 17;
    int i, accepted = 0, refused = 0;

    assert_int_equal(oac_signer_generate(&s, &why, p, "ES256"), APR_SUCCESS);
    apr_pool_create(&sub, p);
    for (i = 0; i < 3000; ++i) {
        char nonce[64], *proof = NULL, *dot;
        int n = 1 + (int)(rand_r(&seed) % 6), k;
        json_t *expect, *claims;
        json_error_t jerr;
        unsigned char *raw;
        apr_size_t len;

        nonce[0] = '\0';
        for (k = 0; k < n; ++k) {
            strcat(nonce, pieces[rand_r(&seed)
                                 % (sizeof(pieces) / sizeof(pieces[0]))]);
        }
        expect = json_string(nonce);
        if (!expect) {
            assert_int_equal(oac_dpop_proof(&proof, &why, sub, s, "GET",
                                            "https://rs.example/", NULL,
                                            nonce, 1700000000), APR_EINVAL);
            ++refused;
            apr_pool_clear(sub);
            continue;
        }
        assert_int_equal(oac_dpop_proof(&proof, &why, sub, s, "GET",
                                        "https://rs.example/", NULL, nonce,
                                        1700000000), APR_SUCCESS);
        proof = strchr(proof, '.') + 1;
        dot = strchr(proof, '.');
        assert_int_equal(oac_util_b64url_decode(&raw, &len, &why, sub,
                             apr_pstrmemdup(sub, proof, dot - proof)),
                         APR_SUCCESS);
        claims = json_loadb((const char *)raw, len, 0, &jerr);
        if (!claims) {
            fail_msg("claims of nonce #%d do not parse: %s", i, jerr.text);
        }
        assert_true(json_equal(json_object_get(claims, "nonce"), expect));
        json_decref(claims);
        json_decref(expect);
        ++accepted;
        apr_pool_clear(sub);
    }
    /* both kinds were tried, many times */
    assert_true(accepted > 300 && refused > 300);
}

static void client_assertions(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *s = load(p, PEM_EC, "key-1");
    json_t *jwk = oac_signer_public_jwk(s), *h, *claims;
    char *jws = NULL, *other = NULL;
    const char *why = NULL;

    /* RFC 7523 3: iss and sub the client, aud the server, exp, jti */
    assert_int_equal(oac_sign_client_assertion(&jws, &why, p, s, "client-1",
                                               "https://as.example/token",
                                               1700000000), APR_SUCCESS);
    h = header_of(p, jws);
    assert_string_equal(json_string_value(json_object_get(h, "kid")),
                        "key-1");
    assert_string_equal(json_string_value(json_object_get(h, "alg")),
                        "ES256");
    assert_null(json_object_get(h, "jwk"));
    json_decref(h);
    json_object_set_new(jwk, "kid", json_string("key-1"));
    claims = verified(p, jws, jwk, "ES256");
    assert_string_equal(json_string_value(json_object_get(claims, "iss")),
                        "client-1");
    assert_string_equal(json_string_value(json_object_get(claims, "sub")),
                        "client-1");
    assert_string_equal(json_string_value(json_object_get(claims, "aud")),
                        "https://as.example/token");
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")),
                     1700000060);
    assert_non_null(json_string_value(json_object_get(claims, "jti")));
    assert_int_equal(oac_sign_client_assertion(&other, &why, p, s, "client-1",
                                               "https://as.example/token",
                                               1700000000), APR_SUCCESS);
    assert_string_not_equal(jws, other);
    json_decref(jwk);

    /* client_secret_jwt: HS256 keyed by the client secret */
    s = oac_signer_hmac(p, "kd94hf93k423kf44", "HS256");
    assert_int_equal(oac_sign_client_assertion(&jws, &why, p, s, "client-1",
                                               "https://as.example",
                                               1700000000), APR_SUCCESS);
    {
        oac_jose_jwks_t *none = NULL;
        const char *alg = NULL;
        assert_int_equal(oac_jose_verify(&claims, &alg, &why, p, jws, none,
                                         "HS256", "kd94hf93k423kf44"),
                         OAC_JOSE_OK);
        assert_int_equal(oac_jose_verify(&claims, &alg, &why, p, jws, none,
                                         "HS256", "another secret"),
                         OAC_JOSE_INVALID);
    }
}

/* ES256 signs through the EC_KEY interface (oac_sign.c, es256_direct())
 * with OpenSSL's hedged nonces. A nonce used twice shows as the same R in
 * two signatures, and gives the private key away: these look for one. The
 * R half of an ES256 JWS's signature is the first 42 of its base64url
 * characters (31.5 bytes). */
#define R_CHARS 42

static char *es256_r(apr_pool_t *p, const oac_signer_t *s,
                     const json_t *jwk, int n)
{
    json_t *payload = json_pack("{s:i}", "n", n);
    char *jws = NULL;
    const char *why = NULL;

    assert_int_equal(oac_sign_jws(&jws, &why, p, s, "JWT", 0, payload),
                     APR_SUCCESS);
    json_decref(payload);
    if (jwk) {
        verified(p, jws, jwk, "ES256");
    }
    return apr_pstrndup(p, strrchr(jws, '.') + 1, R_CHARS);
}

static void all_different(char **r, int n)
{
    int i, k;

    for (i = 0; i < n; ++i) {
        assert_int_equal(strlen(r[i]), R_CHARS);
        for (k = 0; k < i; ++k) {
            if (!strcmp(r[i], r[k])) {
                fail_msg("signatures %d and %d share R (a nonce used twice)",
                         k, i);
            }
        }
    }
}

static void es256_nonces_never_repeat(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *a = load(p, PEM_EC, NULL), *b = NULL;
    const char *why = NULL;
    json_t *ja = oac_signer_public_jwk(a), *jb;
    char *r[50];
    int i;

    assert_int_equal(oac_signer_generate(&b, &why, p, "ES256"), APR_SUCCESS);
    jb = oac_signer_public_jwk(b);
    /* both keys take the faster path; other algorithms do not */
    assert_true(oac_signer_es256_direct(a));
    assert_true(oac_signer_es256_direct(b));
    assert_false(oac_signer_es256_direct(load(p, PEM_RSA, NULL)));
    assert_false(oac_signer_es256_direct(load(p, PEM_ED, NULL)));
    /* each message twice, too (i / 2): a hedged nonce has the DRBG's
     * bytes in it besides the key and the message */
    for (i = 0; i < 50; ++i) {
        r[i] = i % 5 == 4 ? es256_r(p, b, jb, i / 2)
                          : es256_r(p, a, ja, i / 2);
    }
    all_different(r, 50);
    json_decref(ja);
    json_decref(jb);
}

/* Parent and child sign after a fork: OpenSSL's DRBG (reseeded in a child)
 * must not give both the same nonces. */
static void es256_nonces_not_shared_after_fork(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *s = load(p, PEM_EC, NULL);
    json_t *jwk = oac_signer_public_jwk(s);
    char *r[20], buf[8 * (R_CHARS + 1) + 1];
    int fds[2], status = 0, i;
    apr_size_t got = 0;
    ssize_t n;
    pid_t pid;

    for (i = 0; i < 4; ++i) {
        r[i] = es256_r(p, s, jwk, i);
    }
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (i = 0; i < 8; ++i) {
            /* no cmocka here: a failure is what the parent reads */
            const char *why = NULL;
            char *jws = NULL;
            json_t *payload = json_pack("{s:i}", "child", i);
            if (oac_sign_jws(&jws, &why, p, s, "JWT", 0, payload)
                != APR_SUCCESS
                || write(fds[1], strrchr(jws, '.') + 1, R_CHARS) != R_CHARS
                || write(fds[1], "\n", 1) != 1) {
                _exit(1);
            }
            json_decref(payload);
        }
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (apr_size_t)n;
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(got, 8 * (R_CHARS + 1));
    for (i = 0; i < 8; ++i) {
        r[4 + i] = apr_pstrndup(p, buf + i * (R_CHARS + 1), R_CHARS);
        r[12 + i] = es256_r(p, s, jwk, 12 + i);
    }
    all_different(r, 20);
    json_decref(jwk);
}

typedef struct {
    const oac_signer_t *s;
    apr_pool_t *p;
    char *r[20];
    int failed;
} signing_thread_t;

static void *sign_in_thread(void *data)
{
    signing_thread_t *t = data;
    int i;

    for (i = 0; i < 20; ++i) {
        const char *why = NULL;
        char *jws = NULL;
        json_t *payload = json_pack("{s:i}", "n", i);
        if (oac_sign_jws(&jws, &why, t->p, t->s, "JWT", 0, payload)
            != APR_SUCCESS) {
            t->failed = 1;
        }
        json_decref(payload);
        t->r[i] = jws;
    }
    return NULL;
}

/* Threads sign at once with one shared key. */
static void es256_nonces_per_thread(void **state)
{
    apr_pool_t *p = *state;
    oac_signer_t *s = load(p, PEM_EC, NULL);
    json_t *jwk = oac_signer_public_jwk(s);
    signing_thread_t t[4];
    pthread_t tid[4];
    char *r[80];
    int i, k;

    for (i = 0; i < 4; ++i) {
        memset(&t[i], 0, sizeof(t[i]));
        t[i].s = s;
        apr_pool_create(&t[i].p, p);
    }
    for (i = 0; i < 4; ++i) {
        assert_int_equal(pthread_create(&tid[i], NULL, sign_in_thread, &t[i]),
                         0);
    }
    for (i = 0; i < 4; ++i) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_false(t[i].failed);
        for (k = 0; k < 20; ++k) {
            verified(p, t[i].r[k], jwk, "ES256");
            r[i * 20 + k] = apr_pstrndup(p, strrchr(t[i].r[k], '.') + 1,
                                         R_CHARS);
        }
    }
    all_different(r, 80);
    json_decref(jwk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(published_signatures),
        T(algorithms_follow_keys),
        T(files),
        T(public_keys),
        T(thumbprint),
        T(ath_and_htu),
        T(dpop_proofs),
        T(dpop_claims_escaped),
        T(dpop_claims_random),
        T(client_assertions),
        T(es256_nonces_never_repeat),
        T(es256_nonces_not_shared_after_fork),
        T(es256_nonces_per_thread),
    };

    return OAC_RUN_TESTS("oac_sign", tests);
}
