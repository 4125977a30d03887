/* Unit tests of the session codec behind OAuthSessionPassphrase. Key
 * derivation is slow on purpose, so the codecs are made once per group. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "oac_codec.h"
#include "oac_util.h"

static apr_pool_t *pool;
static oac_codec_t *codec_a, *codec_b_a, *codec_b;

static const char pass_a[] = "passphrase-A-0123456789";
static const char pass_b[] = "passphrase-B-0123456789";

static oac_codec_t *make(const char *first, const char *second)
{
    apr_array_header_t *list = apr_array_make(pool, 2, sizeof(const char *));
    oac_codec_t *c = NULL;
    const char *err = NULL;
    APR_ARRAY_PUSH(list, const char *) = first;
    if (second) {
        APR_ARRAY_PUSH(list, const char *) = second;
    }
    if (oac_codec_create(&c, &err, pool, list) != APR_SUCCESS) {
        fail_msg("codec: %s", err);
    }
    return c;
}

static int setup(void **state)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    codec_a = make(pass_a, NULL);
    codec_b_a = make(pass_b, pass_a);
    codec_b = make(pass_b, NULL);
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

static char *enc(const oac_codec_t *c, const char *plain, apr_size_t len)
{
    char *out = NULL;
    const char *err = NULL;
    assert_int_equal(oac_codec_encode(&out, &err, pool, c, plain, len),
                     APR_SUCCESS);
    return out;
}

static int dec_ok(const oac_codec_t *c, const char *encoded, char **pout,
                  apr_size_t *plen)
{
    const char *err = NULL;
    return oac_codec_decode(pout, plen, &err, pool, c, encoded)
           == APR_SUCCESS;
}

static void test_round_trip_sizes(void **state)
{
    static const apr_size_t sizes[] = { 0, 1, 1024, 64 * 1024 };
    apr_size_t i;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
        char *plain = apr_palloc(pool, sizes[i] + 1), *back, *e;
        apr_size_t j, len = 0;
        for (j = 0; j < sizes[i]; ++j) {
            plain[j] = (char)('a' + j % 26);
        }
        plain[sizes[i]] = '\0';
        e = enc(codec_a, plain, sizes[i]);
        assert_int_equal(strlen(e), OAC_CODEC_ENCODED_LEN(sizes[i]));
        assert_true(dec_ok(codec_a, e, &back, &len));
        assert_int_equal(len, sizes[i]);
        assert_memory_equal(back, plain, sizes[i]);
        assert_int_equal(back[len], '\0');
    }
}

static void test_fresh_nonce_and_charset(void **state)
{
    const char *s = "oauthclient.gh.token=secret-token";
    char *e1 = enc(codec_a, s, strlen(s)), *e2 = enc(codec_a, s, strlen(s));
    const char *c;
    assert_string_not_equal(e1, e2);
    for (c = e1; *c; ++c) {
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                               "qrstuvwxyz0123456789-_", *c));
    }
    assert_null(strstr(e1, "secret"));
}

static void test_rotation(void **state)
{
    const char *s = "k=v";
    char *back;
    apr_size_t len;
    /* made under A: read by [B, A], not by [B] */
    char *old = enc(codec_a, s, 3);
    assert_true(dec_ok(codec_b_a, old, &back, &len));
    assert_string_equal(back, "k=v");
    assert_false(dec_ok(codec_b, old, &back, &len));
    /* [B, A] encrypts under B: read by [B], not by [A] */
    {
        char *fresh = enc(codec_b_a, s, 3);
        assert_true(dec_ok(codec_b, fresh, &back, &len));
        assert_false(dec_ok(codec_a, fresh, &back, &len));
    }
    assert_int_equal(oac_codec_key_count(codec_b_a), 2);
}

/* Every single-byte change of the binary form fails authentication. */
static void test_every_flip_fails(void **state)
{
    const char *s = "oauthclient.x.token={\"access_token\":\"t\"}";
    char *e = enc(codec_a, s, strlen(s)), *back;
    unsigned char *bin;
    apr_size_t n, i, len;
    const char *err;
    assert_int_equal(oac_util_b64url_decode(&bin, &n, &err, pool, e),
                     APR_SUCCESS);
    for (i = 0; i < n; ++i) {
        bin[i] ^= 0x01;
        assert_false(dec_ok(codec_a, oac_util_b64url_encode(pool, bin, n),
                            &back, &len));
        bin[i] ^= 0x01;
    }
    assert_true(dec_ok(codec_a, oac_util_b64url_encode(pool, bin, n), &back,
                       &len));
}

static void test_truncation_and_garbage(void **state)
{
    const char *s = "a=1&b=2";
    char *e = enc(codec_a, s, strlen(s)), *back;
    apr_size_t i, len;
    for (i = 0; i < strlen(e); ++i) {
        assert_false(dec_ok(codec_a, apr_pstrndup(pool, e, i), &back, &len));
    }
    assert_false(dec_ok(codec_a, "not base64url!", &back, &len));
    assert_false(dec_ok(codec_a, "a=1&b=2", &back, &len));
    assert_false(dec_ok(codec_a, "", &back, &len));
}

static void test_bad_passphrases(void **state)
{
    apr_array_header_t *list = apr_array_make(pool, 1, sizeof(const char *));
    oac_codec_t *c;
    const char *err = NULL;
    assert_int_not_equal(oac_codec_create(&c, &err, pool, list), APR_SUCCESS);
    APR_ARRAY_PUSH(list, const char *) = "short";
    assert_int_not_equal(oac_codec_create(&c, &err, pool, list), APR_SUCCESS);
    assert_non_null(strstr(err, "shorter than 16"));
    /* the passphrase itself is never quoted back */
    assert_null(strstr(err, "short\""));
}

static void *worker(void *arg)
{
    apr_pool_t *p;
    int i, ok = 1;
    apr_pool_create(&p, NULL);
    for (i = 0; i < 1000 && ok; ++i) {
        char plain[64], *e = NULL, *back = NULL;
        apr_size_t len = 0;
        const char *err;
        snprintf(plain, sizeof(plain), "thread=%p&i=%d", arg, i);
        ok = oac_codec_encode(&e, &err, p, codec_b_a, plain, strlen(plain))
                 == APR_SUCCESS
             && oac_codec_decode(&back, &len, &err, p, codec_b_a, e)
                 == APR_SUCCESS
             && !strcmp(back, plain);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return ok ? arg : NULL;
}

static void test_threads_share_one_codec(void **state)
{
    pthread_t t[4];
    int i, ids[4];
    for (i = 0; i < 4; ++i) {
        ids[i] = i;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &ids[i]), 0);
    }
    for (i = 0; i < 4; ++i) {
        void *r = NULL;
        pthread_join(t[i], &r);
        assert_ptr_equal(r, &ids[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sizes),
        cmocka_unit_test(test_fresh_nonce_and_charset),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_every_flip_fails),
        cmocka_unit_test(test_truncation_and_garbage),
        cmocka_unit_test(test_bad_passphrases),
        cmocka_unit_test(test_threads_share_one_codec),
    };
    return cmocka_run_group_tests_name("oac_codec", tests, setup, teardown);
}
