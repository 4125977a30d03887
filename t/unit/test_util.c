/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_util.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_base64.h>
#include <apr_hash.h>

#include <openssl/rand.h>

#include "oac_util.h"

/* ---- percent-encoding ------------------------------------------------- */

static void pct_encode_unreserved_kept(void **state)
{
    apr_pool_t *p = *state;
    const char *all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-._~";

    assert_string_equal(oac_util_pct_encode(p, all), all);
}

static void pct_encode_reserved(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_util_pct_encode(p, " "), "%20");
    assert_string_equal(oac_util_pct_encode(p, "+"), "%2B");
    assert_string_equal(oac_util_pct_encode(p, "*"), "%2A");
    assert_string_equal(oac_util_pct_encode(p, "~"), "~");
    assert_string_equal(oac_util_pct_encode(p, "/"), "%2F");
    assert_string_equal(oac_util_pct_encode(p, "?"), "%3F");
    assert_string_equal(oac_util_pct_encode(p, "&"), "%26");
    assert_string_equal(oac_util_pct_encode(p, "="), "%3D");
    assert_string_equal(oac_util_pct_encode(p, "%"), "%25");
    assert_string_equal(oac_util_pct_encode(p, ":@!$'()[],;#"),
                        "%3A%40%21%24%27%28%29%5B%5D%2C%3B%23");
    assert_string_equal(oac_util_pct_encode(p, "\x01\x7f\n"), "%01%7F%0A");
    assert_string_equal(oac_util_pct_encode(p, ""), "");
    assert_string_equal(oac_util_pct_encode(p, NULL), "");
}

static void pct_encode_utf8(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_util_pct_encode(p, "\xC3\xA9"), "%C3%A9");
    /* U+1F600 GRINNING FACE, four bytes */
    assert_string_equal(oac_util_pct_encode(p, "\xF0\x9F\x98\x80"),
                        "%F0%9F%98%80");
    /* U+2603 SNOWMAN */
    assert_string_equal(oac_util_pct_encode(p, "\xE2\x98\x83"),
                        "%E2%98%83");
}

/* Examples used by RFC 5849 section 3.4.1 and its common test suites. */
static void pct_encode_rfc5849_examples(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oac_util_pct_encode(p, "Ladies + Gentlemen"),
                        "Ladies%20%2B%20Gentlemen");
    assert_string_equal(oac_util_pct_encode(p, "An encoded string!"),
                        "An%20encoded%20string%21");
    assert_string_equal(oac_util_pct_encode(p, "Dogs, Cats & Mice"),
                        "Dogs%2C%20Cats%20%26%20Mice");
    /* RFC 5849 3.4.1.3.1: c2&a3=2+q as a value in the base string */
    assert_string_equal(oac_util_pct_encode(p, "c2&a3=2+q"),
                        "c2%26a3%3D2%2Bq");
    assert_string_equal(oac_util_pct_encode(p, "2 q"), "2%20q");
    /* a signature ending in '=' */
    assert_string_equal(oac_util_pct_encode(p, "tR3+Ty81lMeYAr/Fid0kMTYa/WM="),
                        "tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D");
}

static void pct_encode_every_byte_uppercase(void **state)
{
    apr_pool_t *p = *state;
    int c;

    for (c = 1; c < 256; ++c) {
        char in[2] = { (char)c, '\0' };
        const char *out = oac_util_pct_encode(p, in);
        int unreserved = strchr("-._~", c) != NULL
                         || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                         || (c >= '0' && c <= '9');

        if (unreserved) {
            assert_string_equal(out, in);
        }
        else {
            assert_string_equal(out, apr_psprintf(p, "%%%02X", c));
        }
    }
}

static void pct_decode_ok(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    char *out;

    assert_int_equal(oac_util_pct_decode(&out, &err, p, "a%20b", 0),
                     APR_SUCCESS);
    assert_string_equal(out, "a b");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "%c3%A9", 0),
                     APR_SUCCESS);
    assert_string_equal(out, "\xC3\xA9");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "a+b", 0),
                     APR_SUCCESS);
    assert_string_equal(out, "a+b");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "a+b%2Bc", 1),
                     APR_SUCCESS);
    assert_string_equal(out, "a b+c");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "", 1), APR_SUCCESS);
    assert_string_equal(out, "");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, NULL, 1),
                     APR_SUCCESS);
    assert_string_equal(out, "");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "%25%2541", 0),
                     APR_SUCCESS);
    assert_string_equal(out, "%%41");
    assert_int_equal(oac_util_pct_decode(&out, &err, p, "%F0%9F%98%80", 0),
                     APR_SUCCESS);
    assert_string_equal(out, "\xF0\x9F\x98\x80");
    assert_null(err);
}

static void assert_decode_fails(apr_pool_t *p, const char *in,
                                const char *expected_err)
{
    char sentinel[] = "unchanged";
    char *out = sentinel;
    const char *err = NULL;

    assert_int_equal(oac_util_pct_decode(&out, &err, p, in, 1), APR_EINVAL);
    assert_ptr_equal(out, sentinel);
    assert_non_null(err);
    assert_string_equal(err, expected_err);
}

static void pct_decode_errors(void **state)
{
    apr_pool_t *p = *state;

    assert_decode_fails(p, "%", "malformed percent-encoding at offset 0");
    assert_decode_fails(p, "%4", "malformed percent-encoding at offset 0");
    assert_decode_fails(p, "%zz", "malformed percent-encoding at offset 0");
    assert_decode_fails(p, "ab%4g", "malformed percent-encoding at offset 2");
    assert_decode_fails(p, "abc%", "malformed percent-encoding at offset 3");
    assert_decode_fails(p, "%%41", "malformed percent-encoding at offset 0");
    assert_decode_fails(p, "%00", "percent-encoded NUL byte at offset 0");
    assert_decode_fails(p, "ab%00cd", "percent-encoded NUL byte at offset 2");
}

static void pct_round_trip_all_bytes(void **state)
{
    apr_pool_t *p = *state;
    char all[256], *out;
    const char *err;
    int i;

    for (i = 1; i < 256; ++i) {
        all[i - 1] = (char)i;
    }
    all[255] = '\0';
    assert_int_equal(oac_util_pct_decode(&out, &err, p,
                                         oac_util_pct_encode(p, all), 1),
                     APR_SUCCESS);
    assert_memory_equal(out, all, 256);
}

/* ---- base64url -------------------------------------------------------- */

static void b64url_rfc4648_vectors(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" },
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); ++i) {
        assert_string_equal(
            oac_util_b64url_encode(p, (const unsigned char *)v[i].in,
                                   strlen(v[i].in)),
            v[i].out);
    }
}

static void b64url_url_safe_alphabet(void **state)
{
    apr_pool_t *p = *state;
    static const unsigned char fbff[] = { 0xfb, 0xff };
    static const unsigned char ones[] = { 0xff, 0xff, 0xff };
    static const unsigned char dashes[] = { 0xfb, 0xef, 0xbe };
    unsigned char *out;
    apr_size_t len;
    const char *err;

    assert_string_equal(oac_util_b64url_encode(p, fbff, 2), "-_8");
    assert_string_equal(oac_util_b64url_encode(p, ones, 3), "____");
    assert_string_equal(oac_util_b64url_encode(p, dashes, 3), "----");
    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, "-_8"),
                     APR_SUCCESS);
    assert_int_equal(len, 2);
    assert_memory_equal(out, fbff, 2);
}

/* Standard base64 with + -> -, / -> _ and no '=' is the reference. */
static const char *reference_b64url(apr_pool_t *p, const unsigned char *d,
                                    int len)
{
    char *s = apr_palloc(p, apr_base64_encode_len(len));
    char *c;

    apr_base64_encode_binary(s, d, len);
    for (c = s; *c; ++c) {
        if (*c == '+') {
            *c = '-';
        }
        else if (*c == '/') {
            *c = '_';
        }
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    return s;
}

static void b64url_round_trip_lengths(void **state)
{
    apr_pool_t *p = *state;
    unsigned char data[64], *out;
    apr_size_t len;
    const char *err;
    int n;

    for (n = 0; n <= 64; ++n) {
        char *enc;

        assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
        enc = oac_util_b64url_encode(p, data, (apr_size_t)n);
        assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
        assert_string_equal(enc, reference_b64url(p, data, n));
        assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, enc),
                         APR_SUCCESS);
        assert_int_equal(len, n);
        assert_memory_equal(out, data, (size_t)n);
        /* the padded form decodes to the same bytes */
        while (strlen(enc) % 4) {
            enc = apr_pstrcat(p, enc, "=", NULL);
        }
        assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, enc),
                         APR_SUCCESS);
        assert_int_equal(len, n);
        assert_memory_equal(out, data, (size_t)n);
    }
}

static void b64url_padding_accepted(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out;
    apr_size_t len;
    const char *err;

    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, "Zg=="),
                     APR_SUCCESS);
    assert_int_equal(len, 1);
    assert_string_equal((char *)out, "f");
    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, "Zm8="),
                     APR_SUCCESS);
    assert_string_equal((char *)out, "fo");
    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, "Zg"),
                     APR_SUCCESS);
    assert_string_equal((char *)out, "f");
    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, ""),
                     APR_SUCCESS);
    assert_int_equal(len, 0);
}

static void assert_b64_fails(apr_pool_t *p, const char *in,
                             const char *expected_err)
{
    unsigned char sentinel[] = "x", *out = sentinel;
    apr_size_t len = 777;
    const char *err = NULL;

    assert_int_equal(oac_util_b64url_decode(&out, &len, &err, p, in),
                     APR_EINVAL);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(len, 777);
    assert_string_equal(err, expected_err);
}

static void b64url_rejects(void **state)
{
    apr_pool_t *p = *state;

    assert_b64_fails(p, "+/8", "invalid base64url character at offset 0");
    assert_b64_fails(p, "ab/c", "invalid base64url character at offset 2");
    assert_b64_fails(p, "a+bc", "invalid base64url character at offset 1");
    assert_b64_fails(p, "Zg\n", "invalid base64url character at offset 2");
    assert_b64_fails(p, "Z=g=", "invalid base64url character at offset 1");
    assert_b64_fails(p, "Zg=", "base64url padding is malformed at offset 2");
    assert_b64_fails(p, "Zg===",
                     "base64url padding is malformed at offset 2");
    assert_b64_fails(p, "====", "base64url padding is malformed at offset 0");
    assert_b64_fails(p, "Z", "base64url input has an impossible length");
    assert_b64_fails(p, "Zm9vY", "base64url input has an impossible length");
    /* "Zh" would also decode to "f" if unused bits were ignored */
    assert_b64_fails(p, "Zh", "base64url input has non-zero trailing bits");
}

/* ---- random tokens ---------------------------------------------------- */

static void random_token_shape_and_uniqueness(void **state)
{
    apr_pool_t *p = *state;
    apr_hash_t *seen = apr_hash_make(p);
    const char *err;
    char *tok;
    int i;

    for (i = 0; i < 1000; ++i) {
        assert_int_equal(oac_util_random_token(&tok, &err, p, 32),
                         APR_SUCCESS);
        assert_int_equal(strlen(tok), 43);
        assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "abcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"), 43);
        assert_null(apr_hash_get(seen, tok, APR_HASH_KEY_STRING));
        apr_hash_set(seen, tok, APR_HASH_KEY_STRING, tok);
    }
    assert_int_equal(oac_util_random_token(&tok, &err, p, 16), APR_SUCCESS);
    assert_int_equal(strlen(tok), 22);
    assert_int_equal(oac_util_random_token(&tok, &err, p, 1), APR_SUCCESS);
    assert_int_equal(strlen(tok), 2);
}

static void random_token_bad_size(void **state)
{
    apr_pool_t *p = *state;
    char *tok = NULL;
    const char *err = NULL;

    assert_int_equal(oac_util_random_token(&tok, &err, p, 0), APR_EINVAL);
    assert_null(tok);
    assert_string_equal(err, "random token size 0 is out of range 1..65536");
    assert_int_equal(oac_util_random_token(&tok, &err, p, 65537), APR_EINVAL);
    assert_null(tok);
}

/* ---- provider text for logs and error pages ----------------------- */

static void sanitize_cut_and_marked(void **state)
{
    apr_pool_t *p = *state;

    (void)state;
    assert_string_equal(oac_util_sanitize(p, "short", 10), "short");
    assert_string_equal(oac_util_sanitize(p, "0123456789", 10), "0123456789");
    assert_string_equal(oac_util_sanitize(p, "0123456789X", 10),
                        "0123456789" OAC_UTIL_CUT);
    assert_string_equal(oac_util_sanitize(p, "a\r\nb\x7f", 10), "a??b?");
    /* never inside a UTF-8 character: "\xc3\xa9" across byte 4 */
    assert_string_equal(oac_util_sanitize(p, "abc\xc3\xa9", 4),
                        "abc" OAC_UTIL_CUT);
}

static void redact_whole_encoded_and_cut(void **state)
{
    apr_pool_t *p = *state;
    const char *secrets[] = { "Secret+/42xyz", NULL, "", "tok" };
    const char *cut;

    (void)state;
    assert_string_equal(oac_util_redact(p, "a Secret+/42xyz b Secret+/42xyz",
                                        secrets, 4),
                        "a [redacted] b [redacted]");
    assert_string_equal(oac_util_redact(p, "sent tok", secrets, 4),
                        "sent [redacted]");
    /* as a form carries it */
    assert_string_equal(oac_util_redact(p, "got Secret%2B%2F42xyz", secrets,
                                        4),
                        "got [redacted]");
    /* cut by oac_util_sanitize: the start of it, at the mark */
    cut = oac_util_sanitize(p, "quoted: Secret+/42xyz", 14);
    assert_string_equal(cut, "quoted: Secret" OAC_UTIL_CUT);
    assert_string_equal(oac_util_redact(p, apr_pstrcat(p, "(", cut, ") and (",
                                                       cut, ")", NULL),
                                        secrets, 4),
                        "(quoted: [redacted]" OAC_UTIL_CUT ") and (quoted: "
                        "[redacted]" OAC_UTIL_CUT ")");
    cut = oac_util_sanitize(p, "quoted: Secret%2B%2F42xyz", 17);
    assert_string_equal(oac_util_redact(p, cut, secrets, 4),
                        "quoted: [redacted]" OAC_UTIL_CUT);
    /* under four bytes, or not before a mark: ordinary text */
    assert_string_equal(oac_util_redact(p, "quoted: Sec" OAC_UTIL_CUT,
                                        secrets, 4),
                        "quoted: Sec" OAC_UTIL_CUT);
    assert_string_equal(oac_util_redact(p, "Secret service", secrets, 4),
                        "Secret service");
    assert_string_equal(oac_util_redact(p, OAC_UTIL_CUT, secrets, 4),
                        OAC_UTIL_CUT);
}

/* ---- constant-time compare -------------------------------------------- */

static void ct_streq_cases(void **state)
{
    char a[] = "secret-value", b[] = "secret-value";

    (void)state;
    assert_int_equal(oac_util_ct_streq(a, b), 1);
    assert_int_equal(oac_util_ct_streq("", ""), 1);
    assert_int_equal(oac_util_ct_streq("Xecret-value", a), 0);
    assert_int_equal(oac_util_ct_streq("secret-valuX", a), 0);
    assert_int_equal(oac_util_ct_streq("secret", a), 0);
    assert_int_equal(oac_util_ct_streq(a, "secret-value-longer"), 0);
    assert_int_equal(oac_util_ct_streq("", "a"), 0);
    assert_int_equal(oac_util_ct_streq(NULL, "a"), 0);
    assert_int_equal(oac_util_ct_streq("a", NULL), 0);
    assert_int_equal(oac_util_ct_streq(NULL, NULL), 0);
    assert_int_equal(oac_util_ct_streq(NULL, ""), 0);
}

/* Nonces across several batches never repeat; sizes out of range fail. */
static void nonce_unique_across_batches(void **state)
{
    enum { N = 300, LEN = 16 };     /* ~10 batches of 512 bytes */
    static unsigned char seen[N][LEN];
    unsigned char big[OAC_NONCE_MAX_BYTES + 1];
    int i, j;

    (void)state;
    for (i = 0; i < N; ++i) {
        assert_int_equal(oac_util_nonce(seen[i], LEN), APR_SUCCESS);
        for (j = 0; j < i; ++j) {
            assert_memory_not_equal(seen[i], seen[j], LEN);
        }
    }
    assert_int_equal(oac_util_nonce(big, OAC_NONCE_MAX_BYTES), APR_SUCCESS);
    assert_int_equal(oac_util_nonce(big, 0), APR_EINVAL);
    assert_int_equal(oac_util_nonce(big, OAC_NONCE_MAX_BYTES + 1),
                     APR_EINVAL);
}

/* A forked child must not hand out what its parent had lined up. */
static void nonce_fork_does_not_repeat(void **state)
{
    unsigned char parent_next[16], child_first[16];
    int fds[2], status;
    pid_t pid;

    (void)state;
    assert_int_equal(oac_util_nonce_init(), APR_SUCCESS);
    assert_int_equal(oac_util_nonce(parent_next, 16), APR_SUCCESS);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char b[16];

        close(fds[0]);
        _exit(oac_util_nonce(b, 16) == APR_SUCCESS
              && write(fds[1], b, 16) == 16 ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], child_first, 16), 16);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the parent's next nonce is what the child would have taken */
    assert_int_equal(oac_util_nonce(parent_next, 16), APR_SUCCESS);
    assert_memory_not_equal(parent_next, child_first, 16);
}

/* A line said at most once a minute: first time, not within the minute,
 * again after it; a "works again" reset lets the next failure be said. */
static void say_due_once_per_interval(void **state)
{
    volatile apr_uint32_t at = 0;
    const apr_int64_t t0 = 1796743602;

    (void)state;
    assert_int_equal(oac_util_say_due(&at, t0, 60), 1);
    assert_int_equal(oac_util_say_due(&at, t0, 60), 0);
    assert_int_equal(oac_util_say_due(&at, t0 + 58, 60), 0);
    assert_int_equal(oac_util_say_due(&at, t0 + 61, 60), 1);
    assert_int_equal(oac_util_say_due(&at, t0 + 62, 60), 0);
    at = 0;
    assert_int_equal(oac_util_say_due(&at, t0 + 63, 60), 1);
    /* a thread whose clock read is older: not due, the time stays */
    at = 0;
    assert_int_equal(oac_util_say_due(&at, t0 + 100, 60), 1);
    assert_int_equal(oac_util_say_due(&at, t0 + 98, 60), 0);
    assert_int_equal(oac_util_say_due(&at, t0 + 101, 60), 0);
    assert_int_equal(oac_util_say_due(&at, t0 + 161, 60), 1);
    /* a clock set back by an hour: due again */
    assert_int_equal(oac_util_say_due(&at, t0 + 161 - 3600, 60), 1);
    /* across 32-bit seconds' wrap (2106) */
    at = 0;
    assert_int_equal(oac_util_say_due(&at, 0xFFFFFFF0LL, 60), 1);
    assert_int_equal(oac_util_say_due(&at, 0x100000010LL, 60), 0);
    assert_int_equal(oac_util_say_due(&at, 0x100000040LL, 60), 1);
}

enum { SAY_THREADS = 8, SAY_ROUNDS = 5000 };

static struct {
    pthread_barrier_t go;
    volatile apr_uint32_t at;
    int yes[SAY_THREADS];
} say;

static void *say_thread(void *arg)
{
    int me = (int)(intptr_t)arg, i;

    for (i = 0; i < SAY_ROUNDS; ++i) {
        pthread_barrier_wait(&say.go);
        /* round i is its own minute */
        say.yes[me] += oac_util_say_due(&say.at, 1796743602 + 60LL * i, 60);
        pthread_barrier_wait(&say.go);
    }
    return NULL;
}

/* Threads that find the line due at the same moment: one says it. */
/* A provider's answer of many tiny values (1 MiB of "{}," took Jansson
 * 80 MB) is refused before Jansson builds any of it; the most values a
 * text may hold still parse, commas in strings counted (an upper bound). */
static void json_loadb_counts_values(void **state)
{
    apr_pool_t *p = *state;
    json_error_t err;
    json_t *doc;
    char *text, *o;
    int n;

    /* "[" and N objects between N-1 commas: 2N marks */
    for (n = OAC_JSON_MAX_VALUES / 2; n <= OAC_JSON_MAX_VALUES / 2 + 1; ++n) {
        int i;
        o = text = apr_palloc(p, (apr_size_t)n * 3 + 3);
        *o++ = '[';
        for (i = 0; i < n; ++i) {
            memcpy(o, i ? ",{}" : "{}", i ? 3 : 2);
            o += i ? 3 : 2;
        }
        *o++ = ']';
        doc = oac_util_json_loadb(text, (size_t)(o - text), 0, &err);
        if (n == OAC_JSON_MAX_VALUES / 2) {
            assert_non_null(doc);
            assert_int_equal(json_array_size(doc), (size_t)n);
            json_decref(doc);
        }
        else {
            assert_null(doc);
            assert_string_equal(err.text, "more than 40000 values");
        }
    }
    doc = oac_util_json_loadb("{\"a\":\"x,y\"}", strlen("{\"a\":\"x,y\"}"),
                              0, &err);
    assert_non_null(doc);
    json_decref(doc);
    assert_null(oac_util_json_loadb("{", 1, 0, &err));
}

static void say_due_one_thread_of_many(void **state)
{
    pthread_t t[SAY_THREADS];
    int i, total = 0;

    (void)state;
    assert_int_equal(pthread_barrier_init(&say.go, NULL, SAY_THREADS), 0);
    for (i = 0; i < SAY_THREADS; ++i) {
        assert_int_equal(pthread_create(&t[i], NULL, say_thread,
                                        (void *)(intptr_t)i), 0);
    }
    for (i = 0; i < SAY_THREADS; ++i) {
        pthread_join(t[i], NULL);
        total += say.yes[i];
    }
    pthread_barrier_destroy(&say.go);
    assert_int_equal(total, SAY_ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(pct_encode_unreserved_kept),
        T(pct_encode_reserved),
        T(pct_encode_utf8),
        T(pct_encode_rfc5849_examples),
        T(pct_encode_every_byte_uppercase),
        T(pct_decode_ok),
        T(pct_decode_errors),
        T(pct_round_trip_all_bytes),
        T(b64url_rfc4648_vectors),
        T(b64url_url_safe_alphabet),
        T(b64url_round_trip_lengths),
        T(b64url_padding_accepted),
        T(b64url_rejects),
        T(random_token_shape_and_uniqueness),
        T(random_token_bad_size),
        T(sanitize_cut_and_marked),
        T(redact_whole_encoded_and_cut),
        T(ct_streq_cases),
        T(nonce_unique_across_batches),
        T(nonce_fork_does_not_repeat),
        T(say_due_once_per_interval),
        T(say_due_one_thread_of_many),
        T(json_loadb_counts_values),
    };

    return OAC_RUN_TESTS("oac_util", tests);
}
