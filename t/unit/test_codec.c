/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_codec.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oac_codec.h"
#include "oac_util.h"

/* The binary layout the header documents. */
#define KID_OFF    1
#define KID_LEN    4
#define NONCE_OFF  5
#define NONCE_LEN  12

#define PASS_A "correct horse battery staple A"
#define PASS_B "correct horse battery staple B"
#define PASS_C "exactly16chars!!"   /* the shortest accepted */

#define SESSION "oauth.github.access_token=gho_16C7e42F292c6912E7710c83" \
                "&oauth.github.expires_at=1700003600&expiry=17000072000"

/*
 * Key derivation takes about 0.2 s per passphrase on purpose, so the
 * codecs are made once for the whole group: [A], [B, A], [B] and [C].
 */
static apr_pool_t *group_pool;
static oac_codec_t *codec_a, *codec_ba, *codec_b, *codec_c;

static oac_codec_t *make_codec(const char *first, const char *second)
{
    apr_array_header_t *list = apr_array_make(group_pool, 2,
                                              sizeof(const char *));
    oac_codec_t *c = NULL;
    const char *err = NULL;

    APR_ARRAY_PUSH(list, const char *) = first;
    if (second) {
        APR_ARRAY_PUSH(list, const char *) = second;
    }
    if (oac_codec_create(&c, &err, group_pool, list) != APR_SUCCESS) {
        fprintf(stderr, "oac_codec_create: %s\n", err ? err : "?");
        return NULL;
    }
    return c;
}

static int group_setup(void **state)
{
    (void)state;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&group_pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    codec_a = make_codec(PASS_A, NULL);
    codec_ba = make_codec(PASS_B, PASS_A);
    codec_b = make_codec(PASS_B, NULL);
    codec_c = make_codec(PASS_C, NULL);
    return codec_a && codec_ba && codec_b && codec_c ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    /* Runs the codecs' cleanups: valgrind sees their contexts freed. */
    apr_pool_destroy(group_pool);
    apr_terminate();
    return 0;
}

/* Each test gets its own pool, so the big ones do not pile up. */
static int setup(void **state)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, group_pool) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static char *encode(apr_pool_t *p, const oac_codec_t *c, const char *plain,
                    apr_size_t len)
{
    char *out = NULL;
    const char *err = NULL;

    assert_int_equal(oac_codec_encode(&out, &err, p, c, plain, len),
                     APR_SUCCESS);
    assert_non_null(out);
    return out;
}

/* Decodes what must decode, to exactly len bytes of expected. */
static void assert_decodes(apr_pool_t *p, const oac_codec_t *c,
                           const char *encoded, const char *expected,
                           apr_size_t len)
{
    char *out = NULL;
    apr_size_t outlen = (apr_size_t)-1;
    const char *err = NULL;

    assert_int_equal(oac_codec_decode(&out, &outlen, &err, p, c, encoded),
                     APR_SUCCESS);
    assert_non_null(out);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, expected, len);
    assert_int_equal(out[len], '\0');
}

/*
 * Decodes what must not decode: status rv, reason why (when not NULL),
 * and the out-parameters untouched.
 */
static void assert_rejected(apr_pool_t *p, const oac_codec_t *c,
                            const char *encoded, apr_status_t rv,
                            const char *why)
{
    char sentinel, *out = &sentinel;
    apr_size_t outlen = 4242;
    const char *err = NULL;

    assert_int_equal(oac_codec_decode(&out, &outlen, &err, p, c, encoded),
                     rv);
    assert_ptr_equal(out, &sentinel);
    assert_int_equal(outlen, 4242);
    assert_non_null(err);
    if (why) {
        assert_string_equal(err, why);
    }
}

/* Decodes what must not decode, for whichever reason. */
static void assert_rejected_any(apr_pool_t *p, const oac_codec_t *c,
                                const char *encoded)
{
    char sentinel, *out = &sentinel;
    apr_size_t outlen = 4242;
    const char *err = NULL;
    apr_status_t rv = oac_codec_decode(&out, &outlen, &err, p, c, encoded);

    assert_true(rv == APR_EINVAL || rv == APR_ECRYPT);
    assert_ptr_equal(out, &sentinel);
    assert_int_equal(outlen, 4242);
    assert_non_null(err);
}

/* The binary form of an encoded value, through the reference decoder. */
static unsigned char *binary_of(apr_pool_t *p, const char *encoded,
                                apr_size_t *plen)
{
    unsigned char *bin = NULL;
    const char *err = NULL;

    assert_int_equal(oac_util_b64url_decode(&bin, plen, &err, p, encoded),
                     APR_SUCCESS);
    return bin;
}

/* Every byte value, in a pattern that does not repeat every 3 or 4. */
static char *binary_plain(apr_pool_t *p, apr_size_t len)
{
    char *s = apr_palloc(p, len + 1);
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        s[i] = (char)((i * 7 + i / 256) & 0xFF);
    }
    s[len] = '\0';
    return s;
}

static int is_b64url_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
           || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* ---- creation --------------------------------------------------------- */

static void create_rejects_bad_lists(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *list = apr_array_make(p, 3, sizeof(const char *));
    oac_codec_t *sentinel = (oac_codec_t *)&list, *c = sentinel;
    const char *err = NULL;

    assert_int_equal(oac_codec_create(&c, &err, p, NULL), APR_EINVAL);
    assert_string_equal(err, "no passphrase given");
    err = NULL;
    assert_int_equal(oac_codec_create(&c, &err, p, list), APR_EINVAL);
    assert_string_equal(err, "no passphrase given");

    APR_ARRAY_PUSH(list, const char *) = "";
    err = NULL;
    assert_int_equal(oac_codec_create(&c, &err, p, list), APR_EINVAL);
    assert_string_equal(err, "passphrase is empty");

    APR_ARRAY_IDX(list, 0, const char *) = NULL;
    err = NULL;
    assert_int_equal(oac_codec_create(&c, &err, p, list), APR_EINVAL);
    assert_string_equal(err, "passphrase is empty");

    /* 15 bytes: one short, weak but taken (the glue warns; contract
     * section 3's terms are mod_session_crypto's), and it works. */
    APR_ARRAY_IDX(list, 0, const char *) = "fifteen chars!!";
    assert_true(oac_codec_passphrase_weak("fifteen chars!!"));
    assert_false(oac_codec_passphrase_weak("sixteen chars!!!"));
    assert_true(oac_codec_passphrase_weak(""));
    err = NULL;
    {
        oac_codec_t *weak = NULL;
        char *sealed, *opened;
        apr_size_t n;
        assert_int_equal(oac_codec_create(&weak, &err, p, list),
                         APR_SUCCESS);
        assert_int_equal(oac_codec_encode(&sealed, &err, p, weak, "k=v", 3),
                         APR_SUCCESS);
        assert_int_equal(oac_codec_decode(&opened, &n, &err, p, weak,
                                          sealed), APR_SUCCESS);
        assert_memory_equal(opened, "k=v", 3);
    }

    /* A bad older passphrase fails the whole list, before any key is
     * derived, and the message does not quote it. */
    APR_ARRAY_IDX(list, 0, const char *) = PASS_A;
    APR_ARRAY_PUSH(list, const char *) = "";
    err = NULL;
    assert_int_equal(oac_codec_create(&c, &err, p, list), APR_EINVAL);
    assert_string_equal(err, "passphrase is empty");

    /* more than 8: refused before any key is derived (in an .htaccess,
     * each would cost a request 0.2 s) */
    APR_ARRAY_IDX(list, 1, const char *) = PASS_A;
    while (list->nelts < OAC_CODEC_MAX_PASSPHRASES + 1) {
        APR_ARRAY_PUSH(list, const char *) = PASS_A;
    }
    err = NULL;
    assert_int_equal(oac_codec_create(&c, &err, p, list), APR_EINVAL);
    assert_string_equal(err, "9 passphrases: at most 8 (one seals, the "
                             "others open what older ones sealed)");

    assert_ptr_equal(c, sentinel);
}

static void key_count(void **state)
{
    (void)state;
    assert_int_equal(oac_codec_key_count(codec_a), 1);
    assert_int_equal(oac_codec_key_count(codec_ba), 2);
    assert_int_equal(oac_codec_key_count(codec_c), 1);
    assert_int_equal(oac_codec_key_count(NULL), 0);
}

/* ---- round trips ------------------------------------------------------ */

static void round_trip_sizes(void **state)
{
    static const apr_size_t sizes[] = { 0, 1, 1024, 64 * 1024 };
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
        char *plain = binary_plain(p, sizes[i]);
        char *enc = encode(p, codec_a, plain, sizes[i]);

        assert_int_equal(strlen(enc), OAC_CODEC_ENCODED_LEN(sizes[i]));
        assert_decodes(p, codec_a, enc, plain, sizes[i]);
    }
    /* 0 bytes: 33 bytes of overhead, 44 characters. */
    assert_int_equal(OAC_CODEC_ENCODED_LEN(0), 44);
    assert_int_equal(OAC_CODEC_ENCODED_LEN(1024), 1410);
}

/*
 * Every length from 0 to 300 bytes: crosses every boundary of the
 * base64url code's 12-, 6- and 3-byte steps and their tails. The encoded
 * form must be exactly what the reference encoder makes of the layout
 * the header documents.
 */
static void round_trip_every_length(void **state)
{
    apr_pool_t *p = *state;
    char *plain = binary_plain(p, 300);
    apr_size_t len;

    for (len = 0; len <= 300; ++len) {
        char *enc = encode(p, codec_ba, plain, len);
        apr_size_t n;
        unsigned char *bin = binary_of(p, enc, &n);

        assert_int_equal(strlen(enc), OAC_CODEC_ENCODED_LEN(len));
        assert_int_equal(n, len + OAC_CODEC_OVERHEAD);
        assert_int_equal(bin[0], 0x01);
        assert_string_equal(enc, oac_util_b64url_encode(p, bin, n));
        assert_decodes(p, codec_ba, enc, plain, len);
    }
}

static void null_plain_of_zero_length(void **state)
{
    apr_pool_t *p = *state;
    char *out = NULL;
    const char *err = NULL;

    assert_decodes(p, codec_a, encode(p, codec_a, NULL, 0), "", 0);
    assert_int_equal(oac_codec_encode(&out, &err, p, codec_a, NULL, 1),
                     APR_EINVAL);
    assert_string_equal(err, "no session to encode");
    assert_null(out);
}

static void too_large_is_refused(void **state)
{
    apr_pool_t *p = *state;
    char *out = NULL, *big;
    const char *err = NULL;
    apr_size_t n = OAC_CODEC_ENCODED_LEN(OAC_CODEC_MAX_PLAIN) + 4;

    /* Refused by its length, before anything is read. */
    assert_int_equal(oac_codec_encode(&out, &err, p, codec_a, "x",
                                      OAC_CODEC_MAX_PLAIN + 1),
                     APR_EINVAL);
    assert_string_equal(err, "session is too large to encode");
    assert_null(out);

    big = apr_palloc(p, n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    assert_rejected(p, codec_a, big, APR_EINVAL, "session is too long");
}

static void same_plaintext_encodes_differently(void **state)
{
    apr_pool_t *p = *state;
    char *first = encode(p, codec_a, SESSION, strlen(SESSION));
    char *second = encode(p, codec_a, SESSION, strlen(SESSION));
    apr_size_t n1, n2;
    unsigned char *b1 = binary_of(p, first, &n1);
    unsigned char *b2 = binary_of(p, second, &n2);

    assert_string_not_equal(first, second);
    assert_int_equal(n1, n2);
    /* Same version and key id; fresh nonce; so different ciphertext. */
    assert_memory_equal(b1, b2, NONCE_OFF);
    assert_memory_not_equal(b1 + NONCE_OFF, b2 + NONCE_OFF, NONCE_LEN);
    /* No plaintext shows through. */
    assert_null(strstr(first, "oauth"));
    assert_decodes(p, codec_a, first, SESSION, strlen(SESSION));
    assert_decodes(p, codec_a, second, SESSION, strlen(SESSION));
}

/* Nonces never repeat, across many batches of the per-thread supply. */
static void nonces_are_unique(void **state)
{
    apr_pool_t *p = *state;
    enum { N = 500 };
    unsigned char (*nonce)[NONCE_LEN] = apr_palloc(p, N * NONCE_LEN);
    int i, j;

    for (i = 0; i < N; ++i) {
        apr_size_t n;
        unsigned char *bin = binary_of(p, encode(p, codec_a, "", 0), &n);

        memcpy(nonce[i], bin + NONCE_OFF, NONCE_LEN);
        for (j = 0; j < i; ++j) {
            assert_memory_not_equal(nonce[i], nonce[j], NONCE_LEN);
        }
    }
}

static void output_is_cookie_safe(void **state)
{
    apr_pool_t *p = *state;
    char *plain = binary_plain(p, 2048);
    apr_size_t len;

    for (len = 0; len <= 2048; len += 7) {
        const char *enc = encode(p, codec_a, plain, len), *s;

        for (s = enc; *s; ++s) {
            assert_true(is_b64url_char(*s));
        }
    }
}

/* ---- keys ------------------------------------------------------------- */

static void rotation(void **state)
{
    apr_pool_t *p = *state;
    const char *old = encode(p, codec_a, SESSION, strlen(SESSION));
    const char *fresh = encode(p, codec_ba, SESSION, strlen(SESSION));
    const char *under_b = encode(p, codec_b, SESSION, strlen(SESSION));
    apr_size_t n;

    /* A cookie of the old passphrase still reads after the rotation... */
    assert_decodes(p, codec_ba, old, SESSION, strlen(SESSION));
    /* ...and no longer once the old passphrase is dropped. */
    assert_rejected(p, codec_b, old, APR_ENOKEY,
                    "session was encrypted with an unknown key");

    /* New cookies use the first passphrase: [B] reads them, [A] not. */
    assert_decodes(p, codec_b, fresh, SESSION, strlen(SESSION));
    assert_decodes(p, codec_ba, fresh, SESSION, strlen(SESSION));
    assert_rejected(p, codec_a, fresh, APR_ENOKEY,
                    "session was encrypted with an unknown key");
    assert_memory_equal(binary_of(p, fresh, &n) + KID_OFF,
                        binary_of(p, under_b, &n) + KID_OFF, KID_LEN);
    assert_decodes(p, codec_ba, under_b, SESSION, strlen(SESSION));
}

static void foreign_key_fails(void **state)
{
    apr_pool_t *p = *state;
    const char *enc = encode(p, codec_a, SESSION, strlen(SESSION));
    const char *enc_c = encode(p, codec_c, SESSION, strlen(SESSION));
    apr_size_t n, nc;
    unsigned char *bin = binary_of(p, enc, &n);
    unsigned char *bin_c = binary_of(p, enc_c, &nc);

    assert_rejected(p, codec_c, enc, APR_ENOKEY,
                    "session was encrypted with an unknown key");
    assert_rejected(p, codec_a, enc_c, APR_ENOKEY, NULL);
    assert_memory_not_equal(bin + KID_OFF, bin_c + KID_OFF, KID_LEN);

    /* Relabelled with C's key id, A's cookie reaches C's key, which
     * does not authenticate it. */
    memcpy(bin + KID_OFF, bin_c + KID_OFF, KID_LEN);
    assert_rejected(p, codec_c, oac_util_b64url_encode(p, bin, n),
                    APR_ECRYPT, "session does not authenticate");
}

/* ---- raw keys ---------------------------------------------------------- */

/* 00 01 .. 1f, and the same with its last bit flipped */
static void raw_key(unsigned char key[OAC_CODEC_KEY_LEN], int flip)
{
    int i;

    for (i = 0; i < OAC_CODEC_KEY_LEN; ++i) {
        key[i] = (unsigned char)i;
    }
    key[OAC_CODEC_KEY_LEN - 1] ^= (unsigned char)flip;
}

static oac_codec_t *make_raw(apr_pool_t *p, const unsigned char *key)
{
    oac_codec_t *c = NULL;
    const char *err = NULL;

    assert_int_equal(oac_codec_create_raw(&c, &err, p, key), APR_SUCCESS);
    assert_non_null(c);
    return c;
}

static void raw_round_trip(void **state)
{
    apr_pool_t *p = *state;
    unsigned char key[OAC_CODEC_KEY_LEN];
    oac_codec_t *c, *sentinel = (oac_codec_t *)&key, *none = sentinel;
    const char *err = NULL;
    char *enc;

    raw_key(key, 0);
    c = make_raw(p, key);
    assert_int_equal(oac_codec_key_count(c), 1);
    enc = encode(p, c, SESSION, strlen(SESSION));
    assert_int_equal(strlen(enc), OAC_CODEC_ENCODED_LEN(strlen(SESSION)));
    assert_decodes(p, c, enc, SESSION, strlen(SESSION));
    assert_decodes(p, c, encode(p, c, NULL, 0), "", 0);

    assert_int_equal(oac_codec_create_raw(&none, &err, p, NULL), APR_EINVAL);
    assert_string_equal(err, "no key given");
    assert_ptr_equal(none, sentinel);
}

static void raw_foreign_key_fails(void **state)
{
    apr_pool_t *p = *state;
    unsigned char key[OAC_CODEC_KEY_LEN], other[OAC_CODEC_KEY_LEN];
    oac_codec_t *c, *d;
    const char *enc, *enc_d;
    unsigned char *bin, *bin_d;
    apr_size_t n, nd;

    raw_key(key, 0);
    raw_key(other, 1);
    c = make_raw(p, key);
    d = make_raw(p, other);
    enc = encode(p, c, SESSION, strlen(SESSION));
    enc_d = encode(p, d, SESSION, strlen(SESSION));

    /* One bit of key apart: another key id, so no decryption is tried */
    assert_rejected(p, d, enc, APR_ENOKEY,
                    "session was encrypted with an unknown key");
    assert_rejected(p, c, enc_d, APR_ENOKEY, NULL);
    /* ...nor by a codec from a passphrase */
    assert_rejected(p, codec_a, enc, APR_ENOKEY, NULL);

    /* Relabelled with the other key's id, it reaches that key, which does
     * not authenticate it. */
    bin = binary_of(p, enc, &n);
    bin_d = binary_of(p, enc_d, &nd);
    assert_memory_not_equal(bin + KID_OFF, bin_d + KID_OFF, KID_LEN);
    memcpy(bin + KID_OFF, bin_d + KID_OFF, KID_LEN);
    assert_rejected(p, d, oac_util_b64url_encode(p, bin, n), APR_ECRYPT,
                    "session does not authenticate");
}

/*
 * Made outside the codec (Python's cryptography, AESGCM) by the header's
 * layout: key 00..1f, key id HMAC-SHA256(key, "mod_oauthclient session
 * key id v1")[:4] = 9c730a32, nonce a0..ab, the version and key id as
 * associated data. What t/cluster/test_cluster.py plants is made so.
 */
#define RAW_KAT_PLAIN "1700000000 known answer"
#define RAW_KAT "AZxzCjKgoaKjpKWmp6ipqqvXL0wddfsyj1JVp7hpFbewUM03Y-XSMHbEY" \
                "76FJqICveRcOTBuusY"

static void raw_known_answer(void **state)
{
    static const unsigned char kid[KID_LEN] = { 0x9c, 0x73, 0x0a, 0x32 };
    /* the salt and rounds oac_codec.c derives a passphrase's key with */
    static const char salt[] = "mod_oauthclient session codec v1";
    apr_pool_t *p = *state;
    unsigned char key[OAC_CODEC_KEY_LEN], derived[OAC_CODEC_KEY_LEN];
    oac_codec_t *c, *as_a;
    apr_size_t n;

    raw_key(key, 0);
    c = make_raw(p, key);
    assert_decodes(p, c, RAW_KAT, RAW_KAT_PLAIN, strlen(RAW_KAT_PLAIN));
    assert_memory_equal(binary_of(p, encode(p, c, "x", 1), &n) + KID_OFF,
                        kid, KID_LEN);

    /* The bytes of PASS_A's key: the same key, whichever way it came */
    assert_int_equal(PKCS5_PBKDF2_HMAC(PASS_A, (int)strlen(PASS_A),
                                       (const unsigned char *)salt,
                                       (int)sizeof(salt) - 1, 600000,
                                       EVP_sha256(), sizeof(derived),
                                       derived), 1);
    as_a = make_raw(p, derived);
    assert_decodes(p, codec_a, encode(p, as_a, SESSION, strlen(SESSION)),
                   SESSION, strlen(SESSION));
    assert_decodes(p, as_a, encode(p, codec_a, SESSION, strlen(SESSION)),
                   SESSION, strlen(SESSION));
    assert_decodes(p, codec_ba, encode(p, as_a, SESSION, strlen(SESSION)),
                   SESSION, strlen(SESSION));
}

/* ---- tampering -------------------------------------------------------- */

/* The status a change at byte i of the binary form gets. */
static apr_status_t status_for_offset(apr_size_t i)
{
    if (i == 0) {
        return APR_EINVAL;              /* version */
    }
    if (i < NONCE_OFF) {
        return APR_ENOKEY;              /* key id */
    }
    return APR_ECRYPT;                  /* nonce, ciphertext, tag */
}

static void every_byte_flip_fails(void **state)
{
    static const unsigned char flips[] = { 0x01, 0x80, 0xFF };
    apr_pool_t *p = *state;
    const char *enc = encode(p, codec_ba, SESSION, strlen(SESSION));
    apr_size_t n, i, f;
    unsigned char *bin = binary_of(p, enc, &n);

    for (i = 0; i < n; ++i) {
        for (f = 0; f < sizeof(flips); ++f) {
            bin[i] ^= flips[f];
            assert_rejected(p, codec_ba, oac_util_b64url_encode(p, bin, n),
                            status_for_offset(i), NULL);
            bin[i] ^= flips[f];
        }
    }
    /* Restored, it decodes again: the flips were what failed. */
    assert_decodes(p, codec_ba, oac_util_b64url_encode(p, bin, n), SESSION,
                   strlen(SESSION));
}

static void every_truncation_fails(void **state)
{
    apr_pool_t *p = *state;
    const char *enc = encode(p, codec_a, SESSION, strlen(SESSION));
    apr_size_t len = strlen(enc), i, n;
    unsigned char *bin = binary_of(p, enc, &n);

    /* Of the text, at every length (the empty one included): too short,
     * an impossible length, unused bits set, or a tag that fails. */
    for (i = 0; i < len; ++i) {
        const char *cut = apr_pstrndup(p, enc, i);

        if (i < OAC_CODEC_ENCODED_LEN(0)) {
            assert_rejected(p, codec_a, cut, APR_EINVAL,
                            i == 0 ? "session is empty"
                                   : "session is too short");
        }
        else if (i % 4 == 1) {
            assert_rejected(p, codec_a, cut, APR_EINVAL,
                            "session is not base64url");
        }
        else {
            assert_rejected_any(p, codec_a, cut);
        }
    }
    /* Whole bytes off the end of the binary form. */
    for (i = 1; i <= n; ++i) {
        assert_rejected(p, codec_a,
                        oac_util_b64url_encode(p, bin, n - i),
                        n - i < OAC_CODEC_OVERHEAD ? APR_EINVAL
                                                   : APR_ECRYPT, NULL);
    }
    /* Extended is no better. */
    assert_rejected(p, codec_a, apr_pstrcat(p, enc, "AAAA", NULL),
                    APR_ECRYPT, "session does not authenticate");
}

static void garbage_fails(void **state)
{
    static const char *const garbage[] = {
        "", "=", "A", "AAAA",
        "not base64url at all, surely",
        "????????????????????????????????????????????????????",
        /* Right length, all zero bytes: version 0. */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        /* 45 characters: no byte string encodes to that. */
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    apr_pool_t *p = *state;
    size_t i;

    assert_rejected(p, codec_a, NULL, APR_EINVAL, "session is empty");
    assert_rejected(p, codec_a, "", APR_EINVAL, "session is empty");
    for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); ++i) {
        assert_true(oac_codec_decode(&(char *){ NULL }, &(apr_size_t){ 0 },
                                     &(const char *){ NULL }, p, codec_a,
                                     garbage[i])
                    != APR_SUCCESS);
    }
    assert_rejected(p, codec_a, garbage[2], APR_EINVAL,
                    "session is too short");
    assert_rejected(p, codec_a, garbage[6], APR_EINVAL,
                    "session has an unknown format version");
    assert_rejected(p, codec_a, garbage[7], APR_EINVAL,
                    "session is not base64url");
}

/*
 * One character swapped for one outside the alphabet, at every position
 * of a cookie long enough for every decoding path (16, 8 and 4 characters
 * at a time, and the tail).
 */
static void foreign_characters_fail(void **state)
{
    static const char bad[] = { '+', '/', '=', ' ', '.', '@', '[', '`',
                                '{', ':', '\n', '\x7f', '\x80', '\xff' };
    apr_pool_t *p = *state;
    const char *plain = SESSION "&z";
    const char *enc = encode(p, codec_a, plain, strlen(plain));
    char *copy = apr_pstrdup(p, enc);
    apr_size_t len = strlen(enc), i, b;

    /* Long enough for 16 characters at a time, and not a multiple of 4:
     * there is a tail to test. */
    assert_true(len > 64);
    assert_int_not_equal(len % 4, 0);
    for (i = 0; i < len; ++i) {
        for (b = 0; b < sizeof(bad); ++b) {
            copy[i] = bad[b];
            assert_rejected(p, codec_a, copy, APR_EINVAL,
                            "session is not base64url");
        }
        copy[i] = enc[i];
    }
    /* Padding and the standard alphabet are refused too. */
    assert_rejected(p, codec_a, apr_pstrcat(p, enc, "=", NULL), APR_EINVAL,
                    NULL);
    assert_decodes(p, codec_a, copy, plain, strlen(plain));
}

/* The same bytes with unused trailing bits set: the only encoding
 * accepted is the canonical one. */
static void non_canonical_tail_fails(void **state)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                 "opqrstuvwxyz0123456789-_";
    apr_pool_t *p = *state;
    apr_size_t len;

    for (len = 0; len < 3; ++len) {
        char *enc = encode(p, codec_a, "ab", len);
        apr_size_t n = strlen(enc);

        if (n % 4 == 0) {
            continue;                   /* no unused bits */
        }
        /* The next character sets the lowest bit, always an unused one
         * when the length is not a multiple of 4. */
        enc[n - 1] = b64url[strchr(b64url, enc[n - 1]) - b64url + 1];
        assert_rejected(p, codec_a, enc, APR_EINVAL,
                        "session is not base64url");
    }
}

/* ---- concurrency ------------------------------------------------------ */

#define NTHREADS 4
#define ROUNDS 1000

typedef struct {
    int id;
    int failures;
    apr_pool_t *p;                      /* this thread's alone */
    unsigned char (*nonces)[NONCE_LEN];
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p = w->p;
    char plain[600];
    int i;

    for (i = 0; i < ROUNDS; ++i) {
        char *enc = NULL, *dec = NULL;
        unsigned char *bin = NULL;
        apr_size_t len, n = 0, dlen = 0;
        const char *err = NULL;

        /* Sizes vary so the threads take every code path at once. */
        len = (apr_size_t)snprintf(plain, sizeof(plain), "thread=%d&i=%d&",
                                   w->id, i);
        memset(plain + len, 'a' + w->id, (apr_size_t)(i % 500));
        len += (apr_size_t)(i % 500);
        plain[len] = '\0';
        if (oac_codec_encode(&enc, &err, p, codec_ba, plain, len)
                != APR_SUCCESS
            || oac_codec_decode(&dec, &dlen, &err, p, codec_ba, enc)
                != APR_SUCCESS
            || dlen != len || memcmp(dec, plain, len) != 0
            || oac_util_b64url_decode(&bin, &n, &err, p, enc)
                != APR_SUCCESS) {
            ++w->failures;
        }
        else {
            memcpy(w->nonces[i], bin + NONCE_OFF, NONCE_LEN);
        }
        apr_pool_clear(p);
    }
    return NULL;
}

static int compare_nonces(const void *a, const void *b)
{
    return memcmp(a, b, NONCE_LEN);
}

static void threads_share_one_codec(void **state)
{
    apr_pool_t *p = *state;
    unsigned char (*all)[NONCE_LEN] = apr_pcalloc(p, NTHREADS * ROUNDS
                                                     * NONCE_LEN);
    pthread_t tid[NTHREADS];
    worker_t w[NTHREADS];
    int i;

    for (i = 0; i < NTHREADS; ++i) {
        w[i].id = i;
        w[i].failures = 0;
        w[i].nonces = all + i * ROUNDS;
        /* Made here: creating pools is not safe from many threads. */
        assert_int_equal(apr_pool_create(&w[i].p, p), APR_SUCCESS);
        assert_int_equal(pthread_create(&tid[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; ++i) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    }
    for (i = 0; i < NTHREADS; ++i) {
        assert_int_equal(w[i].failures, 0);
    }
    /* No two of the 4000 cookies, from any threads, share a nonce. */
    qsort(all, NTHREADS * ROUNDS, NONCE_LEN, compare_nonces);
    for (i = 1; i < NTHREADS * ROUNDS; ++i) {
        assert_memory_not_equal(all[i - 1], all[i], NONCE_LEN);
    }
}

/*
 * httpd forks its children from a parent that may have encoded already:
 * the child must not reuse the nonces the parent has lined up.
 */
static void fork_does_not_repeat_nonces(void **state)
{
    apr_pool_t *p = *state;
    unsigned char mine[NONCE_LEN], theirs[NONCE_LEN];
    int fds[2], status = 0;
    apr_size_t n;
    pid_t pid;

    /* Parent's batch started, with nonces left in it. */
    encode(p, codec_a, "", 0);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *enc = NULL;
        const char *err = NULL;
        unsigned char *bin = NULL;
        int ok;

        close(fds[0]);
        ok = oac_codec_encode(&enc, &err, p, codec_a, "", 0) == APR_SUCCESS
             && oac_util_b64url_decode(&bin, &n, &err, p, enc)
                == APR_SUCCESS
             && write(fds[1], bin + NONCE_OFF, NONCE_LEN) == NONCE_LEN;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], theirs, NONCE_LEN), NONCE_LEN);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    memcpy(mine, binary_of(p, encode(p, codec_a, "", 0), &n) + NONCE_OFF,
           NONCE_LEN);
    assert_memory_not_equal(mine, theirs, NONCE_LEN);
}


/* ---- oac_codec_split_session ---------------------------------------- */

static void split_takes_module_shape(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);
    apr_int64_t expiry = 7;
    char *text = apr_pstrdup(p, "oauthclient.demo2.token=2.at-x.*.Bearer."
                             "rt*2Fy..3600.1800000000.login.alice"
                             "&expiry=1800000123456789&other_key=v~*-.");

    assert_int_equal(oac_codec_split_session(t, &expiry, text), 1);
    assert_string_equal(apr_table_get(t, "oauthclient.demo2.token"),
                        "2.at-x.*.Bearer.rt*2Fy..3600.1800000000.login."
                        "alice");
    assert_string_equal(apr_table_get(t, "other_key"), "v~*-.");
    assert_null(apr_table_get(t, "expiry"));
    assert_int_equal(apr_table_elts(t)->nelts, 2);
    assert_true(expiry == APR_INT64_C(1800000123456789));
}

static void split_later_pair_replaces_earlier(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 4);
    apr_int64_t expiry = 0;
    char *text = apr_pstrdup(p, "a=1&b=2&a=3");

    assert_int_equal(oac_codec_split_session(t, &expiry, text), 1);
    assert_string_equal(apr_table_get(t, "a"), "3");
    assert_string_equal(apr_table_get(t, "b"), "2");
    assert_int_equal(apr_table_elts(t)->nelts, 2);
    assert_true(expiry == 0);
}

/* Everything mod_session might read differently from one release to the
 * next, or unescape, is left to mod_session, untouched. */
static void split_leaves_other_shapes(void **state)
{
    static const char *const refused[] = {
        "", "a", "a=", "=a", "=", "a==b", "a=b=c", "a=b&", "&a=b",
        "a=b&&c=d", "a=b&c", "a=b&=c", "a=%41", "a%3D=b", "a=b+c",
        "a=b c", "a=\xc3\xa9", "a=b\r\n", "a=b&c=d/e", "a=b;c", "a=\"b\"",
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        apr_table_t *t = apr_table_make(p, 4);
        apr_int64_t expiry = 5;
        char *text = apr_pstrdup(p, refused[i]);

        if (oac_codec_split_session(t, &expiry, text) != 0) {
            fail_msg("taken: \"%s\"", refused[i]);
        }
        assert_string_equal(text, refused[i]);
        assert_int_equal(apr_table_elts(t)->nelts, 0);
        assert_true(expiry == 5);
    }
    assert_int_equal(oac_codec_split_session(apr_table_make(p, 1), NULL,
                                             NULL), 0);
}

/*
 * mod_session's identity decoder, both ways httpd 2.4 releases have cut a
 * pair (the value up to the next '=', or to the next '&'). It is only run
 * on strings the splitter took, which contain no '%' or '+', so its URL
 * unescaping would change nothing and is left out.
 */
static void identity_decode_model(apr_table_t *t, apr_int64_t *expiry,
                                  char *encoded, int value_to_amp)
{
    char *last = NULL;
    char *pair = apr_strtok(encoded, "&", &last);

    while (pair && pair[0]) {
        char *plast = NULL;
        char *key = apr_strtok(pair, "=", &plast);
        char *val = apr_strtok(NULL, value_to_amp ? "&" : "=", &plast);
        if (key && *key) {
            if (!val || !*val) {
                apr_table_unset(t, key);
            }
            else if (strcmp(key, "expiry") == 0) {
                *expiry = apr_atoi64(val);
            }
            else {
                apr_table_set(t, key, val);
            }
        }
        pair = apr_strtok(NULL, "&", &last);
    }
}

static int table_equal(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *ea = apr_table_elts(a);
    const apr_array_header_t *eb = apr_table_elts(b);
    const apr_table_entry_t *x = (const apr_table_entry_t *)ea->elts;
    const apr_table_entry_t *y = (const apr_table_entry_t *)eb->elts;
    int i;

    if (ea->nelts != eb->nelts) {
        return 0;
    }
    for (i = 0; i < ea->nelts; ++i) {
        if (strcmp(x[i].key, y[i].key) || strcmp(x[i].val, y[i].val)) {
            return 0;
        }
    }
    return 1;
}

/* Random strings over an alphabet rich in separators: whatever the
 * splitter takes, both models of mod_session read the same way. */
static void split_agrees_with_mod_session(void **state)
{
    static const char alphabet[] = "ab==&&.*%+ expiry19";
    apr_pool_t *p = *state;
    unsigned int seed = 12345;
    int taken = 0, n;

    for (n = 0; n < 200000; ++n) {
        char buf[24];
        int len = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 20;
        int i, model;
        apr_table_t *mine;
        apr_int64_t my_expiry = 0;

        if (n % 4096 == 4095) {
            apr_pool_clear(p);
        }
        mine = apr_table_make(p, 4);
        for (i = 0; i < len; ++i) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        buf[len] = '\0';
        if (!oac_codec_split_session(mine, &my_expiry,
                                     apr_pstrdup(p, buf))) {
            continue;
        }
        ++taken;
        for (model = 0; model < 2; ++model) {
            apr_table_t *theirs = apr_table_make(p, 4);
            apr_int64_t their_expiry = 0;
            identity_decode_model(theirs, &their_expiry,
                                  apr_pstrdup(p, buf), model);
            if (!table_equal(mine, theirs) || my_expiry != their_expiry) {
                fail_msg("\"%s\" read differently (model %d)", buf, model);
            }
        }
    }
    /* the generator must reach the interesting case often */
    assert_true(taken > 1000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_rejects_bad_lists),
        T(key_count),
        T(round_trip_sizes),
        T(round_trip_every_length),
        T(null_plain_of_zero_length),
        T(too_large_is_refused),
        T(same_plaintext_encodes_differently),
        T(nonces_are_unique),
        T(output_is_cookie_safe),
        T(rotation),
        T(foreign_key_fails),
        T(raw_round_trip),
        T(raw_foreign_key_fails),
        T(raw_known_answer),
        T(every_byte_flip_fails),
        T(every_truncation_fails),
        T(garbage_fails),
        T(foreign_characters_fail),
        T(non_canonical_tail_fails),
        T(threads_share_one_codec),
        T(fork_does_not_repeat_nonces),
        T(split_takes_module_shape),
        T(split_later_pair_replaces_earlier),
        T(split_leaves_other_shapes),
        T(split_agrees_with_mod_session),
    };

    return cmocka_run_group_tests_name("oac_codec", tests, group_setup,
                                       group_teardown);
}
