/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "oac_codec.h"
#include "oac_util.h"

/*
 * x86 with GCC or Clang: base64url 16 characters at a time with SSSE3,
 * chosen at run time (every x86-64 CPU since 2006 has it). Elsewhere the
 * table-driven code below does all of it.
 */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define B64_SSSE3 1
#include <tmmintrin.h>
#else
#define B64_SSSE3 0
#endif

#define CODEC_VERSION 0x01
#define KEY_LEN    OAC_CODEC_KEY_LEN   /* AES-256 */
#define KID_LEN    4
#define NONCE_LEN  12   /* the GCM nonce size that needs no extra hashing */
#define TAG_LEN    16
#define HEADER_LEN (1 + KID_LEN)

/*
 * OWASP's 2023 figure for PBKDF2-HMAC-SHA256. Paid once per passphrase at
 * startup (about 0.2 s), never per request: what it buys is that every
 * guess at a passphrase, by anyone holding a cookie, costs as much.
 */
#define PBKDF2_ITER 600000

/*
 * The salt is fixed because it cannot be random: every server of a
 * cluster, and every restart, must derive the same key from the same
 * passphrase, and a per-cookie salt would bring back the per-request
 * derivation this codec exists to avoid. Being specific to this module
 * and version, it keeps a passphrase reused elsewhere (in
 * SessionCryptoPassphrase, say) from yielding a key used there.
 */
static const char kdf_salt[] = "mod_oauthclient session codec v1";

/* The key id is public; this label keeps it independent of the key. */
static const char kid_label[] = "mod_oauthclient session key id v1";

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Outside the 24 bits a group of four characters decodes to. */
#define B64_BAD 0x80000000u

typedef struct {
    unsigned char key[KEY_LEN];
    unsigned char kid[KID_LEN];
    /*
     * The cipher with this key already expanded. Each call copies it
     * (EVP_CIPHER_CTX_copy() takes it const, and openssl-threads(7) makes
     * such calls safe from many threads at once) and sets only its nonce,
     * which halves the cost of a fresh context keyed from scratch.
     */
    EVP_CIPHER_CTX *keyed;
} codec_key_t;

struct oac_codec_t {
    EVP_CIPHER *cipher;
    int nkeys;
    codec_key_t *keys;                  /* keys[0] encrypts */
    /*
     * base64url by table, built once here: a session cookie is base64
     * decoded and encoded on every request, and with the per-character
     * branches of oac_util_b64url_*() that costs more than AES-GCM.
     */
    char enc_pair[4096][2];             /* 12 bits -> two characters */
    apr_uint32_t dec[4][256];           /* character -> its bits, in place
                                         * for its position in a group of
                                         * four; B64_BAD if not base64url */
    int ssse3;                          /* the CPU has SSSE3 */
};

/* One line of OpenSSL's reason, and an empty error queue for the next
 * caller on this thread. */
static const char *openssl_error(apr_pool_t *p, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char reason[256];

    if (e == 0) {
        ERR_clear_error();
        return what;
    }
    ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return apr_pstrcat(p, what, ": ", reason, NULL);
}

static apr_status_t codec_cleanup(void *data)
{
    oac_codec_t *c = data;
    int i;

    for (i = 0; i < c->nkeys; ++i) {
        /* Frees (and OpenSSL wipes) the expanded key schedule. */
        EVP_CIPHER_CTX_free(c->keys[i].keyed);
        c->keys[i].keyed = NULL;
    }
    OPENSSL_cleanse(c->keys, (size_t)c->nkeys * sizeof(*c->keys));
    EVP_CIPHER_free(c->cipher);
    c->cipher = NULL;
    return APR_SUCCESS;
}

static void build_tables(oac_codec_t *c)
{
    int i, pos;

#if B64_SSSE3
    c->ssse3 = __builtin_cpu_supports("ssse3") ? 1 : 0;
#endif
    for (i = 0; i < 4096; ++i) {
        c->enc_pair[i][0] = b64url_alphabet[i >> 6];
        c->enc_pair[i][1] = b64url_alphabet[i & 0x3F];
    }
    for (pos = 0; pos < 4; ++pos) {
        for (i = 0; i < 256; ++i) {
            c->dec[pos][i] = B64_BAD;
        }
        for (i = 0; i < 64; ++i) {
            c->dec[pos][(unsigned char)b64url_alphabet[i]] =
                (apr_uint32_t)i << (18 - 6 * pos);
        }
    }
}

/*
 * Where unaligned 8-byte loads and stores are cheap and a byte swap is
 * one instruction, base64url moves 6 bytes <-> 8 characters per step,
 * a third faster than the portable 3 <-> 4 below, which handles the
 * rest and every other platform.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define B64_WIDE 1
#else
#define B64_WIDE 0
#endif

#if B64_SSSE3
/*
 * 12 bytes -> 16 characters per step, while 16 bytes can be read; returns
 * the bytes consumed (a multiple of 12). The bytes of each 3-byte group
 * are spread over a 32-bit lane, the four 6-bit fields moved to the
 * bytes of the lane by two multiplications (W. Mula's method), and each
 * value 0..63 turned into its character by adding the offset of its
 * range of the alphabet.
 */
__attribute__((target("ssse3")))
static apr_size_t b64_encode_ssse3(char *out, const unsigned char *in,
                                   apr_size_t n)
{
    const __m128i spread = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7,
                                        4, 5, 3, 4, 1, 2, 0, 1);
    apr_size_t i;

    for (i = 0; i + 16 <= n; i += 12) {
        __m128i v = _mm_shuffle_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(in + i)),
            spread);
        __m128i hi = _mm_mulhi_epu16(
            _mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)),
            _mm_set1_epi32(0x04000040));
        __m128i lo = _mm_mullo_epi16(
            _mm_and_si128(v, _mm_set1_epi32(0x003f03f0)),
            _mm_set1_epi32(0x01000010));
        __m128i idx = _mm_or_si128(hi, lo);
        /* 'A' for 0..25, then corrections for 26..51 ('a'), 52..61
         * ('0'), 62 ('-') and 63 ('_'). */
        __m128i off = _mm_set1_epi8('A');

        off = _mm_add_epi8(off, _mm_and_si128(
            _mm_cmpgt_epi8(idx, _mm_set1_epi8(25)), _mm_set1_epi8(6)));
        off = _mm_add_epi8(off, _mm_and_si128(
            _mm_cmpgt_epi8(idx, _mm_set1_epi8(51)), _mm_set1_epi8(-75)));
        off = _mm_add_epi8(off, _mm_and_si128(
            _mm_cmpeq_epi8(idx, _mm_set1_epi8(62)), _mm_set1_epi8(-13)));
        off = _mm_add_epi8(off, _mm_and_si128(
            _mm_cmpeq_epi8(idx, _mm_set1_epi8(63)), _mm_set1_epi8(36)));
        _mm_storeu_si128((__m128i *)(void *)out, _mm_add_epi8(idx, off));
        out += 16;
    }
    return i;
}

/* All-ones in the bytes of x within lo..hi. Bytes >= 0x80 compare as
 * negative, so they are never in a range. */
__attribute__((target("ssse3")))
static inline __m128i in_range(__m128i x, char lo, char hi)
{
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1))),
                         _mm_cmpgt_epi8(_mm_set1_epi8((char)(hi + 1)), x));
}

/*
 * 16 characters -> 12 bytes per step, storing 16 (the room has the 4
 * over); returns the characters consumed (a multiple of 16). *bad is set
 * when any of them is outside the base64url alphabet.
 */
__attribute__((target("ssse3")))
static apr_size_t b64_decode_ssse3(unsigned char *out, int *bad,
                                   const unsigned char *in, apr_size_t n)
{
    const __m128i gather = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8,
                                         14, 13, 12, -1, -1, -1, -1);
    __m128i valid = _mm_set1_epi8(-1);
    apr_size_t i;

    for (i = 0; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        __m128i upper = in_range(x, 'A', 'Z');
        __m128i lower = in_range(x, 'a', 'z');
        __m128i digit = in_range(x, '0', '9');
        __m128i dash = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
        __m128i under = _mm_cmpeq_epi8(x, _mm_set1_epi8('_'));
        __m128i off = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(upper, _mm_set1_epi8(-'A')),
                         _mm_and_si128(lower, _mm_set1_epi8(26 - 'a'))),
            _mm_or_si128(
                _mm_and_si128(digit, _mm_set1_epi8(52 - '0')),
                _mm_or_si128(_mm_and_si128(dash, _mm_set1_epi8(62 - '-')),
                             _mm_and_si128(under,
                                           _mm_set1_epi8(63 - '_')))));
        __m128i v = _mm_add_epi8(x, off);

        valid = _mm_and_si128(valid, _mm_or_si128(
            _mm_or_si128(upper, lower),
            _mm_or_si128(digit, _mm_or_si128(dash, under))));
        /* Pairs of 6-bit values into 12 bits, pairs of those into 24,
         * then the three bytes of each lane in order. */
        v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
        v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
        _mm_storeu_si128((__m128i *)(void *)out, _mm_shuffle_epi8(v, gather));
        out += 12;
    }
    *bad = _mm_movemask_epi8(valid) != 0xFFFF;
    return i;
}
#endif /* B64_SSSE3 */

/* base64url of n bytes without padding, NUL-terminated, into out. */
static void b64_encode(char *out, const oac_codec_t *c,
                       const unsigned char *in, apr_size_t n)
{
    apr_size_t i = 0;

#if B64_SSSE3
    if (c->ssse3) {
        i = b64_encode_ssse3(out, in, n);
        out += i / 3 * 4;
    }
#endif
#if B64_WIDE
    /* Reads 8 bytes to use 6: stops while 8 remain. */
    for (; i + 8 <= n; i += 6) {
        apr_uint64_t w;
        char q[8];

        memcpy(&w, in + i, 8);
        w = __builtin_bswap64(w);
        memcpy(q, c->enc_pair[(w >> 52) & 0xFFF], 2);
        memcpy(q + 2, c->enc_pair[(w >> 40) & 0xFFF], 2);
        memcpy(q + 4, c->enc_pair[(w >> 28) & 0xFFF], 2);
        memcpy(q + 6, c->enc_pair[(w >> 16) & 0xFFF], 2);
        memcpy(out, q, 8);
        out += 8;
    }
#endif
    for (; i + 3 <= n; i += 3) {
        apr_uint32_t v = ((apr_uint32_t)in[i] << 16)
                         | ((apr_uint32_t)in[i + 1] << 8) | in[i + 2];
        memcpy(out, c->enc_pair[v >> 12], 2);
        memcpy(out + 2, c->enc_pair[v & 0xFFF], 2);
        out += 4;
    }
    if (n - i == 1) {
        apr_uint32_t v = (apr_uint32_t)in[i] << 4;
        memcpy(out, c->enc_pair[v], 2);
        out += 2;
    }
    else if (n - i == 2) {
        apr_uint32_t v = ((apr_uint32_t)in[i] << 10)
                         | ((apr_uint32_t)in[i + 1] << 2);
        memcpy(out, c->enc_pair[v >> 6], 2);
        out[2] = b64url_alphabet[v & 0x3F];
        out += 3;
    }
    *out = '\0';
}

/* Room b64_decode() needs for n characters: what they decode to, and 4
 * bytes over for its 8- and 16-byte stores. */
#define B64_DECODE_ROOM(n) ((n) / 4 * 3 + 2 + 4)

/*
 * Decodes n characters of unpadded base64url into out (at least
 * B64_DECODE_ROOM(n) bytes), setting *olen. Only the one canonical
 * encoding of a byte string is accepted: no padding, no other
 * characters, no set bits left over at the end. Branch-free per
 * character; the verdict comes once, at the end.
 */
static int b64_decode(unsigned char *out, apr_size_t *olen,
                      const oac_codec_t *c, const char *s, apr_size_t n)
{
    const unsigned char *in = (const unsigned char *)s;
    unsigned char *o = out;
    apr_uint32_t bad = 0, v;
    apr_size_t i = 0;

    if (n % 4 == 1) {
        return 0;
    }
#if B64_SSSE3
    if (c->ssse3) {
        int simd_bad = 0;

        i = b64_decode_ssse3(o, &simd_bad, in, n);
        o += i / 4 * 3;
        bad = simd_bad ? B64_BAD : 0;
    }
#endif
#if B64_WIDE
    /* Stores 8 bytes to deliver 6; the room has the 2 over. */
    for (; i + 8 <= n; i += 8) {
        apr_uint32_t a = c->dec[0][in[i]] | c->dec[1][in[i + 1]]
                         | c->dec[2][in[i + 2]] | c->dec[3][in[i + 3]];
        apr_uint32_t b = c->dec[0][in[i + 4]] | c->dec[1][in[i + 5]]
                         | c->dec[2][in[i + 6]] | c->dec[3][in[i + 7]];
        apr_uint64_t w = __builtin_bswap64(((apr_uint64_t)a << 40)
                                           | ((apr_uint64_t)b << 16));

        bad |= a | b;
        memcpy(o, &w, 8);
        o += 6;
    }
#endif
    for (; i + 4 <= n; i += 4) {
        v = c->dec[0][in[i]] | c->dec[1][in[i + 1]]
            | c->dec[2][in[i + 2]] | c->dec[3][in[i + 3]];
        bad |= v;
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
        o += 3;
    }
    if (n - i == 2) {
        v = c->dec[0][in[i]] | c->dec[1][in[i + 1]];
        /* 12 bits carry 8: the low 4 must be 0. */
        bad |= v | ((v & 0xF000) ? B64_BAD : 0);
        *o++ = (unsigned char)(v >> 16);
    }
    else if (n - i == 3) {
        v = c->dec[0][in[i]] | c->dec[1][in[i + 1]] | c->dec[2][in[i + 2]];
        /* 18 bits carry 16: the low 2 must be 0. */
        bad |= v | ((v & 0xC0) ? B64_BAD : 0);
        *o++ = (unsigned char)(v >> 16);
        *o++ = (unsigned char)(v >> 8);
    }
    if (bad & B64_BAD) {
        return 0;
    }
    *olen = (apr_size_t)(o - out);
    return 1;
}

/* The key id and the expanded key of k, whose key is set. */
static apr_status_t key_setup(codec_key_t *k, const char **perr,
                              apr_pool_t *p, const EVP_CIPHER *cipher)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int ok;

    ok = HMAC(EVP_sha256(), k->key, KEY_LEN,
              (const unsigned char *)kid_label, sizeof(kid_label) - 1,
              mac, &maclen) != NULL
         && maclen >= KID_LEN
         && (k->keyed = EVP_CIPHER_CTX_new()) != NULL
         && EVP_CipherInit_ex2(k->keyed, cipher, k->key, NULL, 0,
                               NULL) == 1;
    OPENSSL_cleanse(mac + KID_LEN, sizeof(mac) - KID_LEN);
    if (!ok) {
        *perr = openssl_error(p, "setting up the key failed");
        return APR_EGENERAL;
    }
    memcpy(k->kid, mac, KID_LEN);
    return APR_SUCCESS;
}

static apr_status_t derive(codec_key_t *k, const char **perr, apr_pool_t *p,
                           const EVP_CIPHER *cipher, const char *passphrase)
{
    if (PKCS5_PBKDF2_HMAC(passphrase, (int)strlen(passphrase),
                          (const unsigned char *)kdf_salt,
                          (int)sizeof(kdf_salt) - 1, PBKDF2_ITER,
                          EVP_sha256(), KEY_LEN, k->key) != 1) {
        *perr = openssl_error(p, "deriving the session key failed");
        return APR_EGENERAL;
    }
    return key_setup(k, perr, p, cipher);
}

/*
 * Short passphrases are weak, not refused (oac_codec_passphrase_weak; the
 * glue warns at every start): every visitor gets a cookie, and a cookie
 * lets its holder test passphrase guesses offline for as long as they
 * like, with nothing in our logs, and what falls to such a guess is every
 * session's OAuth tokens. PBKDF2 only multiplies the cost of a guess; 16
 * characters give it something to multiply (`openssl rand -base64 24`
 * gives 32). They were refused once; contract section 3 gives the
 * directive mod_session_crypto's terms, which take any passphrase, and
 * its example is "secret": a configuration written to it must start.
 * Bytes are counted, so non-ASCII characters count double, and they carry
 * more entropy each anyway.
 */
static apr_status_t check_passphrase(const char **perr, const char *s)
{
    if (!s || !*s) {
        *perr = "passphrase is empty";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

int oac_codec_passphrase_weak(const char *s)
{
    return !s || strlen(s) < OAC_CODEC_MIN_PASSPHRASE;
}

/* A codec for nkeys keys, none set yet, with its cipher. Its cleanup is
 * p's from the start, so whatever fails later is wiped and freed too. */
static apr_status_t codec_new(oac_codec_t **pcodec, const char **perr,
                              apr_pool_t *p, int nkeys)
{
    oac_codec_t *c;

    /* Before any nonce exists, hence before httpd forks its children. */
    if (oac_util_nonce_init() != APR_SUCCESS) {
        *perr = "cannot register the fork handler that keeps nonces unique";
        return APR_EGENERAL;
    }

    c = apr_pcalloc(p, sizeof(*c));
    c->nkeys = nkeys;
    c->keys = apr_pcalloc(p, (apr_size_t)c->nkeys * sizeof(*c->keys));
    build_tables(c);
    /* Registered before the first key exists, so an error halfway still
     * wipes and frees what was made. */
    apr_pool_cleanup_register(p, c, codec_cleanup, apr_pool_cleanup_null);

    /* Fetched once: an implicit fetch per call would look the algorithm
     * up in the provider store every time. */
    c->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!c->cipher) {
        *perr = openssl_error(p, "AES-256-GCM is not available");
        return APR_EGENERAL;
    }
    *pcodec = c;
    return APR_SUCCESS;
}

apr_status_t oac_codec_create(oac_codec_t **pcodec, const char **perr,
                              apr_pool_t *p,
                              const apr_array_header_t *passphrases)
{
    oac_codec_t *c = NULL;
    apr_status_t rv;
    int i;

    if (!passphrases || passphrases->nelts < 1) {
        *perr = "no passphrase given";
        return APR_EINVAL;
    }
    if (passphrases->nelts > OAC_CODEC_MAX_PASSPHRASES) {
        *perr = apr_psprintf(p, "%d passphrases: at most %d (one seals, the "
                             "others open what older ones sealed)",
                             passphrases->nelts, OAC_CODEC_MAX_PASSPHRASES);
        return APR_EINVAL;
    }
    /* All checked before any is derived: a typo is reported at once, not
     * after seconds of key derivation. */
    for (i = 0; i < passphrases->nelts; ++i) {
        rv = check_passphrase(perr, APR_ARRAY_IDX(passphrases, i,
                                                  const char *));
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }

    if ((rv = codec_new(&c, perr, p, passphrases->nelts)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < c->nkeys; ++i) {
        rv = derive(&c->keys[i], perr, p, c->cipher,
                    APR_ARRAY_IDX(passphrases, i, const char *));
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *pcodec = c;
    return APR_SUCCESS;
}

apr_status_t oac_codec_create_raw(oac_codec_t **pcodec, const char **perr,
                                  apr_pool_t *p,
                                  const unsigned char key[OAC_CODEC_KEY_LEN])
{
    oac_codec_t *c = NULL;
    apr_status_t rv;

    if (!key) {
        *perr = "no key given";
        return APR_EINVAL;
    }
    if ((rv = codec_new(&c, perr, p, 1)) != APR_SUCCESS) {
        return rv;
    }
    memcpy(c->keys[0].key, key, KEY_LEN);
    if ((rv = key_setup(&c->keys[0], perr, p, c->cipher)) != APR_SUCCESS) {
        return rv;
    }
    *pcodec = c;
    return APR_SUCCESS;
}

int oac_codec_key_count(const oac_codec_t *c)
{
    return c ? c->nkeys : 0;
}

apr_status_t oac_codec_encode(char **pout, const char **perr, apr_pool_t *p,
                              const oac_codec_t *c, const char *plain,
                              apr_size_t len)
{
    const codec_key_t *k = &c->keys[0];
    apr_size_t n = OAC_CODEC_OVERHEAD + len;
    EVP_CIPHER_CTX *ctx;
    unsigned char *buf, *nonce, *ct;
    char *out;
    int outl = 0, finl = 0, ok;

    if (len > OAC_CODEC_MAX_PLAIN) {
        *perr = "session is too large to encode";
        return APR_EINVAL;
    }
    if (len > 0 && !plain) {
        *perr = "no session to encode";
        return APR_EINVAL;
    }
    /* One allocation for the binary form and the text after it. */
    buf = apr_palloc(p, n + OAC_CODEC_ENCODED_LEN(len) + 1);
    out = (char *)buf + n;
    buf[0] = CODEC_VERSION;
    memcpy(buf + 1, k->kid, KID_LEN);
    nonce = buf + HEADER_LEN;
    ct = nonce + NONCE_LEN;
    if (oac_util_nonce(nonce, NONCE_LEN) != APR_SUCCESS) {
        *perr = openssl_error(p, "no random nonce for the session");
        return APR_EGENERAL;
    }

    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL
         && EVP_CIPHER_CTX_copy(ctx, k->keyed) == 1
         && EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1
         /* The header is authenticated: a cookie relabelled with another
          * version or key id does not decrypt. */
         && EVP_EncryptUpdate(ctx, NULL, &outl, buf, HEADER_LEN) == 1
         && (len == 0
             || EVP_EncryptUpdate(ctx, ct, &outl,
                                  (const unsigned char *)plain,
                                  (int)len) == 1)
         && EVP_EncryptFinal_ex(ctx, ct + outl, &finl) == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
                                ct + len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        *perr = openssl_error(p, "encrypting the session failed");
        return APR_EGENERAL;
    }
    b64_encode(out, c, buf, n);
    *pout = out;
    return APR_SUCCESS;
}

/*
 * Authenticates and decrypts len bytes at ct (the tag follows them) with
 * k, into a NUL-terminated buffer from p. APR_ECRYPT when it does not
 * authenticate.
 */
static apr_status_t open_with(char **pout, const char **perr, apr_pool_t *p,
                              const codec_key_t *k,
                              const unsigned char *header,
                              const unsigned char *nonce,
                              const unsigned char *ct, apr_size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char *out = apr_palloc(p, len + 1);
    unsigned char tag[TAG_LEN];
    int outl = 0, finl = 0, ok, authentic = 0;

    memcpy(tag, ct + len, TAG_LEN);
    ok = ctx != NULL
         && EVP_CIPHER_CTX_copy(ctx, k->keyed) == 1
         && EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1
         && EVP_DecryptUpdate(ctx, NULL, &outl, header, HEADER_LEN) == 1
         && (len == 0
             || EVP_DecryptUpdate(ctx, out, &outl, ct, (int)len) == 1)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
                                tag) == 1;
    if (ok) {
        authentic = EVP_DecryptFinal_ex(ctx, out + outl, &finl) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (!ok || !authentic) {
        /* The pool outlives this call: leave no unauthenticated bytes. */
        OPENSSL_cleanse(out, len + 1);
        if (!ok) {
            *perr = openssl_error(p, "decrypting the session failed");
            return APR_EGENERAL;
        }
        ERR_clear_error();
        *perr = "session does not authenticate";
        return APR_ECRYPT;
    }
    out[len] = '\0';
    *pout = (char *)out;
    return APR_SUCCESS;
}

apr_status_t oac_codec_decode(char **pout, apr_size_t *plen,
                              const char **perr, apr_pool_t *p,
                              const oac_codec_t *c, const char *encoded)
{
    unsigned char *bin;
    apr_size_t n = 0, slen;
    apr_status_t rv = APR_ENOKEY;
    int i;

    if (!encoded || !*encoded) {
        *perr = "session is empty";
        return APR_EINVAL;
    }
    /* Bounded before decoding, so a huge value costs no allocation. */
    slen = strlen(encoded);
    if (slen < OAC_CODEC_ENCODED_LEN(0)) {
        *perr = "session is too short";
        return APR_EINVAL;
    }
    if (slen > OAC_CODEC_ENCODED_LEN(OAC_CODEC_MAX_PLAIN)) {
        *perr = "session is too long";
        return APR_EINVAL;
    }
    bin = apr_palloc(p, B64_DECODE_ROOM(slen));
    if (!b64_decode(bin, &n, c, encoded, slen)) {
        *perr = "session is not base64url";
        return APR_EINVAL;
    }
    /* The length check above implies this; it is the one the code
     * below relies on. */
    if (n < OAC_CODEC_OVERHEAD) {
        *perr = "session is too short";
        return APR_EINVAL;
    }
    if (bin[0] != CODEC_VERSION) {
        *perr = "session has an unknown format version";
        return APR_EINVAL;
    }
    /*
     * The key id picks the key, so a cookie costs one decryption however
     * many passphrases are listed. Ids of different keys collide with a
     * chance of 2^-32 per pair; trying every key that carries the id
     * keeps even that case working.
     */
    for (i = 0; i < c->nkeys; ++i) {
        const codec_key_t *k = &c->keys[i];
        apr_size_t len = n - OAC_CODEC_OVERHEAD;

        if (memcmp(k->kid, bin + 1, KID_LEN) != 0) {
            continue;
        }
        rv = open_with(pout, perr, p, k, bin, bin + HEADER_LEN,
                       bin + HEADER_LEN + NONCE_LEN, len);
        if (rv == APR_SUCCESS) {
            *plen = len;
            return APR_SUCCESS;
        }
        if (rv != APR_ECRYPT) {
            return rv;
        }
    }
    if (rv == APR_ENOKEY) {
        *perr = "session was encrypted with an unknown key";
    }
    return rv;
}

/* Bytes that URL unescaping (ap_unescape_all, ap_unescape_urlencoded)
 * returns unchanged and that are not separators. */
static int session_plain_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'
           || ch == '~' || ch == '*' || ch == '-';
}

int oac_codec_split_session(apr_table_t *entries, apr_int64_t *expiry,
                            char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    apr_size_t i, pair_start = 0;
    int eq = 0;
    char *pair, *end;

    if (!text || !*text) {
        return 0;
    }
    /* Check everything first: a string not taken is left as it was. */
    for (i = 0;; ++i) {
        unsigned char ch = s[i];
        if (ch == '&' || ch == '\0') {
            /* one '=', neither first nor last in the pair */
            if (eq != 1 || s[pair_start] == '=' || s[i - 1] == '=') {
                return 0;
            }
            if (ch == '\0') {
                break;
            }
            pair_start = i + 1;
            eq = 0;
        }
        else if (ch == '=') {
            ++eq;
        }
        else if (!session_plain_byte(ch)) {
            return 0;
        }
    }
    for (pair = text; pair; pair = end) {
        char *val = strchr(pair, '=');
        end = strchr(val, '&');
        *val++ = '\0';
        if (end) {
            *end++ = '\0';
        }
        if (strcmp(pair, "expiry") == 0) {
            *expiry = apr_atoi64(val);
        }
        else {
            apr_table_setn(entries, pair, val);
        }
    }
    return 1;
}
