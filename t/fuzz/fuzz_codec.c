/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The session codec (oac_codec.h). Decoding is what every request does
 * with a cookie the client controls, so it must never crash, and never
 * hand out anything but what encode was given.
 *
 * Input: a mode byte, then bytes. Mode & 3:
 *   0  the bytes are a cookie value: decode it (and split it)
 *   1  the bytes are a plaintext: encode, decode, tamper
 *   2  the bytes follow a valid header (version, key id): base64url them
 *      and decode, so the fuzzer reaches the cipher, not only the parser
 *   3  the bytes are a decrypted session: oac_codec_split_session
 */

#include <strings.h>

#include "fuzz_common.h"
#include "oac_codec.h"
#include "oac_util.h"

/*
 * PBKDF2 with 600,000 iterations per passphrase is paid here, once per
 * process: per input it would cost ~0.2 s each.
 * codec_a has key A; codec_ba has B (encrypts) and A (still decrypts).
 */
static apr_pool_t *keys_pool;
static oac_codec_t *codec_a, *codec_ba;
static unsigned char kid_a[4];

static oac_codec_t *make(const char *first, const char *second)
{
    apr_array_header_t *list = apr_array_make(keys_pool, 2,
                                              sizeof(const char *));
    oac_codec_t *c = NULL;
    const char *err = NULL;

    APR_ARRAY_PUSH(list, const char *) = first;
    if (second) {
        APR_ARRAY_PUSH(list, const char *) = second;
    }
    CHECK(oac_codec_create(&c, &err, keys_pool, list) == APR_SUCCESS);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *enc;
    unsigned char *bin;
    apr_size_t len;
    const char *err;

    (void)argc;
    (void)argv;
    keys_pool = fuzz_init_with_process_pool();
    codec_a = make("fuzzing passphrase A, long enough", NULL);
    codec_ba = make("fuzzing passphrase B, long enough",
                    "fuzzing passphrase A, long enough");
    /* The key id is public (in every cookie): read it from one. */
    CHECK(oac_codec_encode(&enc, &err, keys_pool, codec_a, "", 0)
          == APR_SUCCESS);
    CHECK(oac_util_b64url_decode(&bin, &len, &err, keys_pool, enc)
          == APR_SUCCESS && len == OAC_CODEC_OVERHEAD);
    memcpy(kid_a, bin + 1, 4);
    return 0;
}

/*
 * Any string: either rejected with one of the documented statuses, or,
 * only for what encode made, accepted. The codec's own base64url decoder
 * (table and SIMD) must agree with the plain one in oac_util.c.
 */
static void decode_any(apr_pool_t *p, const char *s)
{
    char *out = (char *)"untouched";
    apr_size_t len = 12345;
    const char *err = NULL;
    unsigned char *bin;
    apr_size_t n;
    apr_status_t rv, ref;

    rv = oac_codec_decode(&out, &len, &err, p, codec_a, s);
    CHECK(rv != APR_SUCCESS);     /* nobody but us holds key A */
    CHECK(err != NULL && fuzz_printable(err));
    CHECK(!strcmp(out, "untouched") && len == 12345);
    CHECK(rv == APR_EINVAL || rv == APR_ENOKEY || rv == APR_ECRYPT);

    ref = strchr(s, '=') ? APR_EINVAL
                         : oac_util_b64url_decode(&bin, &n, &err, p, s);
    if (ref != APR_SUCCESS || n < OAC_CODEC_OVERHEAD || bin[0] != 1
        || strlen(s) > OAC_CODEC_ENCODED_LEN(OAC_CODEC_MAX_PLAIN)) {
        CHECK(rv == APR_EINVAL);
    }
    else {
        CHECK(rv == (memcmp(bin + 1, kid_a, 4) ? APR_ENOKEY : APR_ECRYPT));
    }
}

static int url_safe(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == strlen(s);
}

static void round_trip(apr_pool_t *p, const uint8_t *plain, size_t len,
                       unsigned where)
{
    char *enc, *enc_b, *out, *bad;
    apr_size_t olen;
    const char *err;
    size_t elen;

    CHECK(oac_codec_encode(&enc, &err, p, codec_a, (const char *)plain, len)
          == APR_SUCCESS);
    elen = strlen(enc);
    CHECK(elen == OAC_CODEC_ENCODED_LEN(len) && url_safe(enc));
    CHECK(oac_codec_decode(&out, &olen, &err, p, codec_a, enc)
          == APR_SUCCESS);
    CHECK(olen == len && !memcmp(out, plain, len) && out[len] == '\0');
    /* Key rotation: the old key still decrypts behind the new one. */
    CHECK(oac_codec_decode(&out, &olen, &err, p, codec_ba, enc)
          == APR_SUCCESS);
    CHECK(olen == len && !memcmp(out, plain, len));
    /* ...but a cookie made with the new key means nothing to the old. */
    CHECK(oac_codec_encode(&enc_b, &err, p, codec_ba, (const char *)plain,
                           len) == APR_SUCCESS);
    CHECK(oac_codec_decode(&out, &olen, &err, p, codec_a, enc_b)
          == APR_ENOKEY);

    /* Any other string is refused: one character changed, or cut. */
    bad = apr_pstrdup(p, enc);
    bad[where % elen] = bad[where % elen] == 'A' ? 'B' : 'A';
    CHECK(oac_codec_decode(&out, &olen, &err, p, codec_a, bad)
          != APR_SUCCESS);
    bad = apr_pstrmemdup(p, enc, where % elen);
    CHECK(oac_codec_decode(&out, &olen, &err, p, codec_a, bad)
          != APR_SUCCESS);
}

/* version | key id A | bytes as nonce, ciphertext and tag: the parser
 * accepts it, the cipher must refuse it. */
static void forged(apr_pool_t *p, const uint8_t *data, size_t size)
{
    unsigned char *bin = apr_palloc(p, size + 5);
    char *out;
    apr_size_t olen;
    const char *err;
    apr_status_t rv;

    bin[0] = 1;
    memcpy(bin + 1, kid_a, 4);
    memcpy(bin + 5, data, size);
    rv = oac_codec_decode(&out, &olen, &err, p, codec_a,
                          oac_util_b64url_encode(p, bin, size + 5));
    CHECK(rv == (size + 5 < OAC_CODEC_OVERHEAD ? APR_EINVAL : APR_ECRYPT));
}

static int plain_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || strchr("._~*-", c);
}

/* The shape documented in oac_codec.h, checked pair by pair. */
static int split_shape(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (;;) {
        size_t len = strcspn(s, "&"), i, eq = 0;

        if (len == 0 || s[0] == '=' || s[len - 1] == '=') {
            return 0;
        }
        for (i = 0; i < len; ++i) {
            if (s[i] == '=') {
                ++eq;
            }
            else if (!plain_byte(s[i])) {
                return 0;
            }
        }
        if (eq != 1) {
            return 0;
        }
        if (!s[len]) {
            return 1;
        }
        s += len + 1;
    }
}

/* Every entry is a pair of the text; keys compare without case, as in
 * any apr table (and so in mod_session's own decoder). */
static int has_pair(const char *s, const char *key, const char *val)
{
    size_t kl = strlen(key), vl = strlen(val);

    for (;;) {
        size_t len = strcspn(s, "&");

        if (len == kl + 1 + vl && !strncasecmp(s, key, kl) && s[kl] == '='
            && !strncmp(s + kl + 1, val, vl)) {
            return 1;
        }
        if (!s[len]) {
            return 0;
        }
        s += len + 1;
    }
}

/* Taken only in the one shape documented; otherwise not one byte of the
 * text is changed, and mod_session decodes it. */
static void split(apr_pool_t *p, const char *s)
{
    apr_table_t *t = apr_table_make(p, 4);
    char *text = apr_pstrdup(p, s);
    apr_int64_t expiry = -7;
    const apr_array_header_t *arr;
    int i;
    int taken = oac_codec_split_session(t, &expiry, text);

    CHECK(taken == split_shape(s));
    if (!taken) {
        CHECK(!strcmp(text, s) && apr_is_empty_table(t) && expiry == -7);
        return;
    }
    arr = apr_table_elts(t);
    for (i = 0; i < arr->nelts; ++i) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(arr, i,
                                                    apr_table_entry_t);
        const char *c;
        CHECK(*e->key && *e->val && strcmp(e->key, "expiry"));
        for (c = e->key; *c; ++c) {
            CHECK(plain_byte(*c));
        }
        for (c = e->val; *c; ++c) {
            CHECK(plain_byte(*c));
        }
        CHECK(has_pair(s, e->key, e->val));
    }
    CHECK(expiry == -7 || strstr(s, "expiry="));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    switch (data[0] & 3) {
    case 0:
        decode_any(p, apr_pstrmemdup(p, (const char *)data + 1, size - 1));
        break;
    case 1:
        /* Spread the tampered position over the whole value. */
        round_trip(p, data + 1, size - 1, (data[0] >> 2) * 131u + size);
        break;
    case 2:
        forged(p, data + 1, size - 1);
        break;
    case 3:
        split(p, apr_pstrmemdup(p, (const char *)data + 1, size - 1));
        break;
    }
    apr_pool_destroy(p);
    return 0;
}
