/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_oauth1.c
 *
 * Where the expected values come from:
 * - RFC 5849 section 3.4.1.1 (base string; the signature printed in the
 *   RFC for that example is wrong, the value here was computed with
 *   Python's hmac over the RFC's own base string and key),
 *   section 3.4.1.2 (base string URIs), section 1.2 / OAuth Core 1.0
 *   appendix A (photos.example.net, HMAC-SHA1).
 * - The wiki.oauth.net TestCases page (section 9.3 RSA-SHA1, the
 *   "vacaction.jpg" request with its published test key; the same vector
 *   and key are in liboauth's tests/selftest_wiki.c, x42/liboauth), and
 *   its HMAC-SHA1 and normalisation cases. Checked with
 *   `openssl dgst -sha1 -sign key.pem` over the base string.
 * - HMAC-SHA256: `printf '%s' "$BASE" | openssl dgst -sha256 -hmac
 *   'kd94hf93k423kf44&pfkkdhi9sl3r4s00' -binary | base64`, and the same
 *   with t/provider/provider.py's hmac_signature().
 * - The Authorization header examples: the signature computed with
 *   t/provider/provider.py's signature_base_string() and hmac_signature()
 *   (the provider's verifier), the layout being ours (section 3.5.1).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <malloc.h>
#include <pthread.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "oac_form.h"
#include "oac_oauth1.h"
#include "oac_token.h"
#include "oac_util.h"

#define NOW APR_INT64_C(1700000000)

/* ---- fixtures ------------------------------------------------------------ */

/* The wiki.oauth.net TestCases RSA-SHA1 key (PKCS#8), as published. */
static const char rsa_test_key_pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALRiMLAh9iimur8V\n"
    "A7qVvdqxevEuUkW4K+2KdMXmnQbG9Aa7k7eBjK1S+0LYmVjPKlJGNXHDGuy5Fw/d\n"
    "7rjVJ0BLB+ubPK8iA/Tw3hLQgXMRRGRXXCn8ikfuQfjUS1uZSatdLB81mydBETlJ\n"
    "hI6GH4twrbDJCR2Bwy/XWXgqgGRzAgMBAAECgYBYWVtleUzavkbrPjy0T5FMou8H\n"
    "X9u2AC2ry8vD/l7cqedtwMPp9k7TubgNFo+NGvKsl2ynyprOZR1xjQ7WgrgVB+mm\n"
    "uScOM/5HVceFuGRDhYTCObE+y1kxRloNYXnx3ei1zbeYLPCHdhxRYW7T0qcynNmw\n"
    "rn05/KO2RLjgQNalsQJBANeA3Q4Nugqy4QBUCEC09SqylT2K9FrrItqL2QKc9v0Z\n"
    "zO2uwllCbg0dwpVuYPYXYvikNHHg+aCWF+VXsb9rpPsCQQDWR9TT4ORdzoj+Nccn\n"
    "qkMsDmzt0EfNaAOwHOmVJ2RVBspPcxt5iN4HI7HNeG6U5YsFBb+/GZbgfBT3kpNG\n"
    "WPTpAkBI+gFhjfJvRw38n3g/+UeAkwMI2TJQS4n8+hid0uus3/zOjDySH3XHCUno\n"
    "cn1xOJAyZODBo47E+67R4jV1/gzbAkEAklJaspRPXP877NssM5nAZMU0/O/NGCZ+\n"
    "3jPgDUno6WbJn5cqm8MqWhW1xGkImgRk+fkDBquiq4gPiT898jusgQJAd5Zrr6Q8\n"
    "AO/0isr/3aa6O6NLQxISLKcPDk2NOccAfS/xOtfOz4sJYM3+Bs4Io9+dZGSDCA54\n"
    "Lw03eHTNQghS0A==\n"
    "-----END PRIVATE KEY-----\n";

/* The same key as PKCS#1 (`openssl rsa -traditional`). */
static const char rsa_test_key_pkcs1[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXAIBAAKBgQC0YjCwIfYoprq/FQO6lb3asXrxLlJFuCvtinTF5p0GxvQGu5O3\n"
    "gYytUvtC2JlYzypSRjVxwxrsuRcP3e641SdASwfrmzyvIgP08N4S0IFzEURkV1wp\n"
    "/IpH7kH41EtbmUmrXSwfNZsnQRE5SYSOhh+LcK2wyQkdgcMv11l4KoBkcwIDAQAB\n"
    "AoGAWFlbZXlM2r5G6z48tE+RTKLvB1/btgAtq8vLw/5e3KnnbcDD6fZO07m4DRaP\n"
    "jRryrJdsp8qazmUdcY0O1oK4FQfpprknDjP+R1XHhbhkQ4WEwjmxPstZMUZaDWF5\n"
    "8d3otc23mCzwh3YcUWFu09KnMpzZsK59OfyjtkS44EDWpbECQQDXgN0ODboKsuEA\n"
    "VAhAtPUqspU9ivRa6yLai9kCnPb9GcztrsJZQm4NHcKVbmD2F2L4pDRx4Pmglhfl\n"
    "V7G/a6T7AkEA1kfU0+DkXc6I/jXHJ6pDLA5s7dBHzWgDsBzplSdkVQbKT3MbeYje\n"
    "ByOxzXhulOWLBQW/vxmW4HwU95KTRlj06QJASPoBYY3yb0cN/J94P/lHgJMDCNky\n"
    "UEuJ/PoYndLrrN/8zow8kh91xwlJ6HJ9cTiQMmTgwaOOxPuu0eI1df4M2wJBAJJS\n"
    "WrKUT1z/O+zbLDOZwGTFNPzvzRgmft4z4A1J6OlmyZ+XKpvDKloVtcRpCJoEZPn5\n"
    "AwaroquID4k/PfI7rIECQHeWa6+kPADv9IrK/92mujujS0MSEiynDw5NjTnHAH0v\n"
    "8TrXzs+LCWDN/gbOCKPfnWRkgwgOeC8NN3h0zUIIUtA=\n"
    "-----END RSA PRIVATE KEY-----\n";

/* The same key encrypted (`openssl pkcs8 -topk8 -v2 aes-128-cbc
 * -passout pass:test`): must fail to load, never prompt. */
static const char rsa_test_key_encrypted[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIIC3TBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIRkn6EEIQ4BQCAggA\n"
    "MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAECBBA9pGEI5bIfaGFM1GtWDO98BIIC\n"
    "gEacqkYQim4aB33inSUZDsUeIEdZkVJ6FqTt8OQY8gLOWNHMm1QyMq+qaWZ+9bcj\n"
    "W4q99X3/3L4vMOG0/cBqzMF5o0uPebkFS8e7y+Ddt9qmHxzi6Y92vh8btHwdh0BK\n"
    "3I3lVC34jwyzXg4932KeSm1AUIuvSy3c96Kw8F71Gxo296M2qfwXk21xC25KlQK6\n"
    "btM4ssVcMQCcbP6jwYNogky/fGRL27c4DqXysMZPzY5noyZG0SIzsfvVDoM7uoVb\n"
    "//ItNAQyMq6Hs+qP1Fxk5XKHxiWmnMRYRCA60SkjKnauzs5+IfhTdp+9G1Pr4EPZ\n"
    "JbXQlo9vaXjkeLrNAXQ90KuTNNtQkn/RiyqSDPlvLJbskJkWHqomTl99pRKxefgR\n"
    "w6uW3nCwK08hOeYh2Dse9c/7vxId2Mg7Yu3gws7kH+q1PvjJNDlT9ArFlaGjZZ3g\n"
    "MhOEnZnQcyHUt34kVph82FLs8RlNJO+fTL0oUtQwXWj9sSzDJjd4CFmnq47ZJ+dL\n"
    "EQBwZl9YNqxsia5B9Ddy/pjtQ884ZH2Th4TrRoTi4BiyxDMYo2PuH53ZhMqEThC1\n"
    "sjq1C/sev0O3+L3kU+ASQt/mvoG0g9ctRow+IEcL3ecpy0VJdAE4fvZoO3+0rnhS\n"
    "8SDNZXVEI/JL+xlDS6h23ND2W8HcwaXKaRottcgA2EQWkUSCUh7Ms75G6kO/hTBv\n"
    "RmH9lVwJyNzle3LzMOL45Agi/c6D9JDtg8veKcsf699NyosF+G2U0PQEQe9NtGI2\n"
    "OPLs2ILzv/5MwthNeVlwWhrJUQlodVajaI2Rw3xDqzU6XWBO+tHWchY24fOKWfdr\n"
    "9r0ttgSX75/tFIOGXbs4qec=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

/* A P-256 key (`openssl genpkey -algorithm EC`): not RSA. */
static const char ec_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggO1HHvHmRJs98swo\n"
    "nnO1mB9qbKDHZctmwo5zAHP3YCGhRANCAATLDkd3gcfqi+ZIJpuWqi5Q+osAKvQu\n"
    "0xfPwsFOnijD85hs5wljUyfEXl5GFxmoFRBewN3YAUWNI0Pt3aXonZnX\n"
    "-----END PRIVATE KEY-----\n";

/* ---- helpers ------------------------------------------------------------- */

static apr_array_header_t *form(apr_pool_t *p, const char *s)
{
    apr_array_header_t *f = NULL;
    const char *err = NULL;

    if (oac_form_decode(&f, &err, p, s) != APR_SUCCESS) {
        fail_msg("form '%s': %s", s, err);
    }
    return f;
}

/* A file holding content, deleted when p is destroyed. */
static const char *temp_file(apr_pool_t *p, const char *content)
{
    const char *dir = NULL;
    char *path;
    apr_file_t *f;
    apr_size_t len = strlen(content);

    assert_int_equal(apr_temp_dir_get(&dir, p), APR_SUCCESS);
    path = apr_pstrcat(p, dir, "/test_oauth1_XXXXXX", NULL);
    assert_int_equal(apr_file_mktemp(&f, path, 0, p), APR_SUCCESS);
    assert_int_equal(apr_file_write_full(f, content, len, NULL), APR_SUCCESS);
    assert_int_equal(apr_file_flush(f), APR_SUCCESS);
    return path;
}

static EVP_PKEY *load_key_ok(apr_pool_t *p, const char *pem)
{
    EVP_PKEY *key = NULL;
    const char *err = NULL;
    apr_status_t rv = oac_oauth1_load_rsa_key(&key, &err, p,
                                              temp_file(p, pem));

    if (rv != APR_SUCCESS) {
        fail_msg("load_rsa_key: %s", err);
    }
    assert_non_null(key);
    return key;
}

static const char *base_string_ok(apr_pool_t *p, const char *method,
                                  const char *url,
                                  const apr_array_header_t *params)
{
    char *out = NULL;
    const char *err = NULL;

    if (oac_oauth1_base_string(&out, &err, p, method, url, params)
        != APR_SUCCESS) {
        fail_msg("base_string: %s", err);
    }
    return out;
}

static const char *signature_ok(apr_pool_t *p, const oac_oauth1_creds_t *c,
                                const char *base)
{
    char *sig = NULL;
    const char *err = NULL;

    if (oac_oauth1_signature(&sig, &err, p, c, base) != APR_SUCCESS) {
        fail_msg("signature: %s", err);
    }
    return sig;
}

static const char *sign_ok(apr_pool_t *p, const oac_oauth1_creds_t *c,
                           const char *method, const char *url,
                           const apr_array_header_t *body,
                           const apr_array_header_t *extra,
                           const char *nonce, apr_int64_t ts)
{
    char *h = NULL;
    const char *err = NULL;

    if (oac_oauth1_sign_request(&h, &err, p, c, method, url, body, extra,
                                nonce, ts) != APR_SUCCESS) {
        fail_msg("sign_request: %s", err);
    }
    return h;
}

/* The error of a sign_request that must fail with APR_EINVAL, leaving the
 * out-parameter alone. */
static const char *sign_fails(apr_pool_t *p, const oac_oauth1_creds_t *c,
                              const char *method, const char *url,
                              const apr_array_header_t *extra)
{
    char sentinel[] = "untouched", *h = sentinel;
    const char *err = NULL;

    assert_int_equal(oac_oauth1_sign_request(&h, &err, p, c, method, url,
                                             NULL, extra, "n", 1),
                     APR_EINVAL);
    assert_ptr_equal(h, sentinel);
    assert_non_null(err);
    return err;
}

/* The third part of a base string: the normalized parameters, decoded
 * once (what section 3.4.1.3.2 builds before the final encoding). */
static const char *normalized_part(apr_pool_t *p, const char *base)
{
    const char *amp = strchr(base, '&');
    char *out = NULL;
    const char *err = NULL;

    assert_non_null(amp);
    amp = strchr(amp + 1, '&');
    assert_non_null(amp);
    assert_int_equal(oac_util_pct_decode(&out, &err, p, amp + 1, 0),
                     APR_SUCCESS);
    return out;
}

static oac_oauth1_creds_t photos_creds(void)
{
    oac_oauth1_creds_t c;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_HMAC_SHA1;
    c.consumer_key = "dpf43f3p2l4k3l03";
    c.consumer_secret = "kd94hf93k423kf44";
    c.token = "nnch734d00sl2jdk";
    c.token_secret = "pfkkdhi9sl3r4s00";
    return c;
}

/* ---- base string URI (section 3.4.1.2) ----------------------------------- */

static void bsuri_is(apr_pool_t *p, const char *url, const char *expected)
{
    char *out = NULL;
    const char *err = NULL;

    if (oac_oauth1_base_string_uri(&out, &err, p, url) != APR_SUCCESS) {
        fail_msg("base_string_uri(%s): %s", url, err);
    }
    assert_string_equal(out, expected);
}

static void test_base_string_uri_rfc(void **state)
{
    apr_pool_t *p = *state;

    bsuri_is(p, "HTTP://EXAMPLE.COM:80/r%20v/X?id=123",
             "http://example.com/r%20v/X");
    bsuri_is(p, "https://www.example.net:8080/?q=1",
             "https://www.example.net:8080/");
}

static void test_base_string_uri_more(void **state)
{
    apr_pool_t *p = *state;

    bsuri_is(p, "http://example.com", "http://example.com/");
    bsuri_is(p, "http://example.com?a=b", "http://example.com/");
    bsuri_is(p, "HTTPS://Api.Example.COM:443/Path/To?x", 
             "https://api.example.com/Path/To");
    /* Only the scheme's own default port is dropped. */
    bsuri_is(p, "https://example.com:80/", "https://example.com:80/");
    bsuri_is(p, "http://example.com:443/", "http://example.com:443/");
    bsuri_is(p, "http://127.0.0.1:8529/oauth1/request_token",
             "http://127.0.0.1:8529/oauth1/request_token");
    bsuri_is(p, "http://[::1]:8080/a", "http://[::1]:8080/a");
    bsuri_is(p, "http://[::1]/a", "http://[::1]/a");
    /* The path as sent: no decoding, no dot-segment removal. */
    bsuri_is(p, "http://example.com/a/../b%2fc/", "http://example.com/a/../b%2fc/");
}

static void test_base_string_uri_errors(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "ftp://example.com/", "/relative/path", "", "http://", 
        "http://example.com/#frag", "http://user:pw@example.com/",
        "http://example.com:99999/", NULL
    };
    int i;

    for (i = 0; bad[i]; ++i) {
        char sentinel[] = "x", *out = sentinel;
        const char *err = NULL;

        assert_int_equal(oac_oauth1_base_string_uri(&out, &err, p, bad[i]),
                         APR_EINVAL);
        assert_ptr_equal(out, sentinel);
        assert_non_null(err);
        assert_non_null(strstr(err, "cannot sign request"));
    }
    {
        char sentinel[] = "x", *out = sentinel;
        const char *err = NULL;

        assert_int_equal(oac_oauth1_base_string_uri(&out, &err, p, NULL),
                         APR_EINVAL);
        assert_ptr_equal(out, sentinel);
    }
}

/* ---- base string (section 3.4.1) ----------------------------------------- */

static const char rfc_base_string[] =
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
    "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_"
    "method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
    "9d7dh3k39sjv7";

static apr_array_header_t *rfc_params(apr_pool_t *p)
{
    /* The body "c2&a3=2+q", form-decoded: '+' is a space. */
    apr_array_header_t *params = form(p, "c2&a3=2+q");

    oac_form_add(params, "oauth_consumer_key", "9djdj82h48djs9d2");
    oac_form_add(params, "oauth_token", "kkk9d7dh3k39sjv7");
    oac_form_add(params, "oauth_signature_method", "HMAC-SHA1");
    oac_form_add(params, "oauth_timestamp", "137131201");
    oac_form_add(params, "oauth_nonce", "7d8f3e4a");
    /* From the Authorization header: never signed. */
    oac_form_add(params, "realm", "Example");
    oac_form_add(params, "oauth_signature", "ignored");
    return params;
}

static void test_base_string_rfc5849(void **state)
{
    apr_pool_t *p = *state;
    const char *base = base_string_ok(
        p, "POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        rfc_params(p));

    assert_string_equal(base, rfc_base_string);
}

static void test_signature_rfc5849(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_HMAC_SHA1;
    c.consumer_key = "9djdj82h48djs9d2";
    c.consumer_secret = "j49sk3j29djd";
    c.token = "kkk9d7dh3k39sjv7";
    c.token_secret = "dh893hdasih9";
    /* Not the RFC's printed "tR3+Ty81lMeYAr/Fid0kMTYa/WM=": that one is
     * wrong for this example (RFC 5849 erratum). */
    assert_string_equal(signature_ok(p, &c, rfc_base_string),
                        "r6/TJjbCOr97/+UU0NsvSne7s5g=");
}

static void test_base_string_method_uppercased(void **state)
{
    apr_pool_t *p = *state;
    const char *base = base_string_ok(p, "post", "http://example.com/",
                                      NULL);

    assert_string_equal(base, "POST&http%3A%2F%2Fexample.com%2F&");
}

static void test_base_string_errors(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad_methods[] = { "", "GE T", "GET/", "G\r\n",
                                               NULL };
    char sentinel[] = "x", *out = sentinel;
    const char *err = NULL;
    int i;

    for (i = 0; bad_methods[i]; ++i) {
        err = NULL;
        assert_int_equal(oac_oauth1_base_string(&out, &err, p, bad_methods[i],
                                                "http://example.com/", NULL),
                         APR_EINVAL);
        assert_ptr_equal(out, sentinel);
        assert_non_null(err);
    }
    assert_int_equal(oac_oauth1_base_string(&out, &err, p, NULL,
                                            "http://example.com/", NULL),
                     APR_EINVAL);
    /* Malformed query: the error never quotes the value. */
    err = NULL;
    assert_int_equal(oac_oauth1_base_string(&out, &err, p, "GET",
                                            "http://example.com/?a=sec%zz",
                                            NULL),
                     APR_EINVAL);
    assert_ptr_equal(out, sentinel);
    assert_non_null(err);
    assert_null(strstr(err, "sec"));
}

/* ---- normalisation (section 3.4.1.3.2) ----------------------------------- */

static void test_normalize_wiki_cases(void **state)
{
    apr_pool_t *p = *state;

    /* wiki.oauth.net TestCases, "Normalize Request Parameters". */
    assert_string_equal(normalized_part(p, base_string_ok(
                            p, "GET", "http://example.com/?name", NULL)),
                        "name=");
    assert_string_equal(normalized_part(p, base_string_ok(
                            p, "GET", "http://example.com/?a=b", NULL)),
                        "a=b");
    assert_string_equal(normalized_part(p, base_string_ok(
                            p, "GET", "http://example.com/?a=b&c=d", NULL)),
                        "a=b&c=d");
    assert_string_equal(normalized_part(p, base_string_ok(
                            p, "GET", "http://example.com/?a=x!y&a=x+y",
                            NULL)),
                        "a=x%20y&a=x%21y");
    assert_string_equal(normalized_part(p, base_string_ok(
                            p, "GET", "http://example.com/?x!y=a&x=a",
                            NULL)),
                        "x=a&x%21y=a");
}

static void test_normalize_sorting(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *params = oac_form_make(p);

    /* Duplicates (same name and same value too) are all kept, sorted by
     * value. */
    oac_form_add(params, "dup", "z");
    oac_form_add(params, "dup", "a");
    oac_form_add(params, "dup", "a");
    oac_form_add(params, "dup", "");
    /* Byte order of the ENCODED strings: "\xC3\xBC" (u-umlaut) encodes to
     * "%C3%BC", which sorts before "z" although 0xC3 > 'z'. */
    oac_form_add(params, "u", "z");
    oac_form_add(params, "u", "\xC3\xBC");
    /* Uppercase before lowercase; '%' (0x25) before '-' (0x2D) before
     * '.' (0x2E) before digits. */
    oac_form_add(params, "b", "1");
    oac_form_add(params, "B", "1");
    oac_form_add(params, "a.", "1");
    oac_form_add(params, "a-", "1");
    oac_form_add(params, "a ", "1");
    oac_form_add(params, "a0", "1");
    /* Reserved characters are encoded, unreserved ones are not. */
    oac_form_add(params, "r", ":/?#[]@!$&'()*+,;= %~-._");
    /* Empty values and a NULL value. */
    oac_form_add(params, "e", "");
    oac_form_add(params, "n", NULL);

    assert_string_equal(
        normalized_part(p, base_string_ok(p, "GET", "http://example.com/",
                                          params)),
        "B=1&a%20=1&a-=1&a.=1&a0=1&b=1&dup=&dup=a&dup=a&dup=z&e=&n="
        "&r=%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%20%25~-._"
        "&u=%C3%BC&u=z");
}

static void test_normalize_query_and_params_merge(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *params = form(p, "a=2&b=x%2By&oauth_signature=s");

    /* The query is parsed here ('+' a space, "%2B" a plus), merged with
     * params; oauth_signature from either place is left out. A realm in
     * the query is a plain parameter and is signed. */
    assert_string_equal(
        normalized_part(p, base_string_ok(
                            p, "GET",
                            "http://example.com/p?a=1&b=x+y&oauth_signature=q"
                            "&realm=r",
                            params)),
        "a=1&a=2&b=x%20y&b=x%2By&realm=r");
}

/* ---- signatures ---------------------------------------------------------- */

static const char photos_base_string[] =
    "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26"
    "oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh"
    "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096"
    "%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3D"
    "original";

static void test_photos_example(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    apr_array_header_t *params = oac_form_make(p);
    const char *h;

    oac_form_add(params, "oauth_consumer_key", "dpf43f3p2l4k3l03");
    oac_form_add(params, "oauth_token", "nnch734d00sl2jdk");
    oac_form_add(params, "oauth_signature_method", "HMAC-SHA1");
    oac_form_add(params, "oauth_timestamp", "1191242096");
    oac_form_add(params, "oauth_nonce", "kllo9940pd9333jh");
    oac_form_add(params, "oauth_version", "1.0");
    assert_string_equal(
        base_string_ok(p, "GET",
                       "http://photos.example.net/photos?file=vacation.jpg"
                       "&size=original",
                       params),
        photos_base_string);
    assert_string_equal(signature_ok(p, &c, photos_base_string),
                        "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");

    /* The same through sign_request. */
    h = sign_ok(p, &c, "GET",
                "http://photos.example.net/photos?file=vacation.jpg"
                "&size=original",
                NULL, NULL, "kllo9940pd9333jh", APR_INT64_C(1191242096));
    assert_string_equal(h,
                        "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", "
                        "oauth_nonce=\"kllo9940pd9333jh\", "
                        "oauth_signature_method=\"HMAC-SHA1\", "
                        "oauth_timestamp=\"1191242096\", "
                        "oauth_token=\"nnch734d00sl2jdk\", "
                        "oauth_version=\"1.0\", "
                        "oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa"
                        "%2FWM%3D\"");
}

static void test_hmac_sha1_wiki_cases(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c;

    /* wiki.oauth.net TestCases, HMAC-SHA1 (section 9.2). */
    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_HMAC_SHA1;
    c.consumer_key = "k";
    c.consumer_secret = "cs";
    assert_string_equal(signature_ok(p, &c, "bs"),
                        "egQqG5AJep5sJ7anhXju1unge2I=");
    c.token_secret = "";
    assert_string_equal(signature_ok(p, &c, "bs"),
                        "egQqG5AJep5sJ7anhXju1unge2I=");
    c.token_secret = "ts";
    assert_string_equal(signature_ok(p, &c, "bs"),
                        "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
}

/* Each thread keeps its HMAC context keyed with the last key: keys that
 * alternate, share a prefix or differ in length must each give their own
 * signature, and a base string signed again gives the same one. */
static void test_hmac_key_reuse(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c;
    char longer[300];
    int round;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_HMAC_SHA1;
    c.consumer_key = "k";
    c.consumer_secret = "cs";
    for (round = 0; round < 2; ++round) {
        c.token_secret = "ts";
        assert_string_equal(signature_ok(p, &c, "bs"),
                            "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
        assert_string_equal(signature_ok(p, &c, "bs"),
                            "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
        c.token_secret = NULL;
        assert_string_equal(signature_ok(p, &c, "bs"),
                            "egQqG5AJep5sJ7anhXju1unge2I=");
        /* "cs&ts" again after "cs&": one more byte than the cached key */
        c.token_secret = "ts";
        assert_string_equal(signature_ok(p, &c, "bs"),
                            "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
    }
    /* a key longer than the cache keeps: keyed every time, still right
     * (printf bs | openssl dgst -sha1 -hmac "cs&$(printf 't%.0s' {1..299})"
     * -binary | base64) */
    memset(longer, 't', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    c.token_secret = longer;
    assert_string_equal(signature_ok(p, &c, "bs"), "IdWNh+BiNG12/Y9p9XkatF3VMS4=");
    assert_string_equal(signature_ok(p, &c, "bs"), "IdWNh+BiNG12/Y9p9XkatF3VMS4=");
    c.token_secret = "ts";
    assert_string_equal(signature_ok(p, &c, "bs"),
                        "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
}

/* A thread that signs and ends (mod_http2's idle workers do) leaves
 * nothing behind: its HMAC contexts, and the key in clear they were
 * keyed with, went with it (they leaked, ~1.7 KB a thread). */
typedef struct {
    apr_pool_t *p;
    int ok;
} thread_sign_t;

static void *sign_and_end(void *arg)
{
    thread_sign_t *t = arg;
    oac_oauth1_creds_t c = photos_creds();
    char *h = NULL;
    const char *err = NULL;

    t->ok = 1;
    for (c.method = OAC_SIG_HMAC_SHA1; t->ok;
         c.method = OAC_SIG_HMAC_SHA256) {
        t->ok = oac_oauth1_sign_request(&h, &err, t->p, &c, "GET",
                                        "http://photos.example.net/p", NULL,
                                        NULL, "n", 1) == APR_SUCCESS;
        if (c.method == OAC_SIG_HMAC_SHA256) {
            break;
        }
    }
    return NULL;
}

static void test_hmac_threads_leave_nothing(void **state)
{
    apr_pool_t *p = *state;
    thread_sign_t t = { p, 0 };
    size_t before = 0;
    int i;

    for (i = 0; i < 1100; ++i) {
        pthread_t th;
        if (i == 100) {
            /* after OpenSSL's and libc's one-time allocations */
            before = mallinfo2().uordblks;
        }
        assert_int_equal(pthread_create(&th, NULL, sign_and_end, &t), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_true(t.ok);
    }
    /* 1000 threads: 1.7 MB when each left its contexts */
    assert_true(mallinfo2().uordblks < before + 200 * 1024);
}

static void test_hmac_sha256(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    static const char base[] =
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26"
        "oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3D"
        "kllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA256%26"
        "oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26"
        "oauth_version%3D1.0%26size%3Doriginal";
    const char *h;

    c.method = OAC_SIG_HMAC_SHA256;
    /* printf '%s' "$base" | openssl dgst -sha256
     *     -hmac 'kd94hf93k423kf44&pfkkdhi9sl3r4s00' -binary | base64 */
    assert_string_equal(signature_ok(p, &c, base),
                        "WVPzl1j6ZsnkIjWr7e3OZ3jkenL57KwaLFhYsroX1hg=");
    h = sign_ok(p, &c, "GET",
                "http://photos.example.net/photos?file=vacation.jpg"
                "&size=original",
                NULL, NULL, "kllo9940pd9333jh", APR_INT64_C(1191242096));
    assert_non_null(strstr(h, "oauth_signature_method=\"HMAC-SHA256\""));
    assert_non_null(strstr(h, "oauth_signature=\"WVPzl1j6ZsnkIjWr7e3OZ3jke"
                              "nL57KwaLFhYsroX1hg%3D\""));
}

static void test_plaintext(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c;
    const char *h;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_PLAINTEXT;
    c.consumer_key = "key";
    c.consumer_secret = "a&b c";
    c.token_secret = "x y&z";
    /* Each secret encoded, then joined with a literal '&'. */
    assert_string_equal(signature_ok(p, &c, "ignored"),
                        "a%26b%20c&x%20y%26z");
    c.token_secret = NULL;
    assert_string_equal(signature_ok(p, &c, "ignored"), "a%26b%20c&");
    c.consumer_secret = NULL;
    assert_string_equal(signature_ok(p, &c, "ignored"), "&");

    /* In the header the signature is encoded once more (section 3.5.1). */
    c.consumer_secret = "a&b c";
    h = sign_ok(p, &c, "POST", "https://example.com/initiate", NULL, NULL,
                "n1", 1);
    assert_string_equal(h, "OAuth oauth_consumer_key=\"key\", "
                           "oauth_nonce=\"n1\", "
                           "oauth_signature_method=\"PLAINTEXT\", "
                           "oauth_timestamp=\"1\", oauth_version=\"1.0\", "
                           "oauth_signature=\"a%2526b%2520c%26\"");
}

static void test_rsa_sha1_vector(void **state)
{
    apr_pool_t *p = *state;
    static const char base[] =
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacaction.jpg"
        "%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3D"
        "13917289812797014437%26oauth_signature_method%3DRSA-SHA1%26"
        "oauth_timestamp%3D1196666512%26oauth_version%3D1.0%26size%3D"
        "original";
    static const char expected[] =
        "jvTp/wX1TYtByB1m+Pbyo0lnCOLIsyGCH7wke8AUs3BpnwZJtAuEJkvQL2/9n4s5wU"
        "mUl4aCI4BwpraNx4RtEXMe5qg5T1LVTGliMRpKasKsW//e+RinhejgCuzoH26dyF8i"
        "Y2ZZ/5D1ilgeijhV/vBka5twt399mXwaYdCwFYE=";
    apr_array_header_t *params = oac_form_make(p);
    oac_oauth1_creds_t c;
    const char *h;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_RSA_SHA1;
    c.consumer_key = "dpf43f3p2l4k3l03";
    c.rsa_key = load_key_ok(p, rsa_test_key_pkcs8);

    /* "vacaction" is the test case's own spelling. */
    oac_form_add(params, "oauth_consumer_key", "dpf43f3p2l4k3l03");
    oac_form_add(params, "oauth_nonce", "13917289812797014437");
    oac_form_add(params, "oauth_signature_method", "RSA-SHA1");
    oac_form_add(params, "oauth_timestamp", "1196666512");
    oac_form_add(params, "oauth_version", "1.0");
    assert_string_equal(
        base_string_ok(p, "GET",
                       "http://photos.example.net/photos?file=vacaction.jpg"
                       "&size=original",
                       params),
        base);
    assert_string_equal(signature_ok(p, &c, base), expected);

    /* The PKCS#1 form of the key signs the same. */
    c.rsa_key = load_key_ok(p, rsa_test_key_pkcs1);
    assert_string_equal(signature_ok(p, &c, base), expected);

    /* Through sign_request: no token, so no oauth_token. */
    h = sign_ok(p, &c, "GET",
                "http://photos.example.net/photos?file=vacaction.jpg"
                "&size=original",
                NULL, NULL, "13917289812797014437", APR_INT64_C(1196666512));
    assert_string_equal(h, apr_pstrcat(
                               p,
                               "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\""
                               ", oauth_nonce=\"13917289812797014437\", "
                               "oauth_signature_method=\"RSA-SHA1\", "
                               "oauth_timestamp=\"1196666512\", "
                               "oauth_version=\"1.0\", oauth_signature=\"",
                               oac_util_pct_encode(p, expected), "\"", NULL));
}

static void test_signature_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c;
    char sentinel[] = "x", *sig = sentinel;
    const char *err = NULL;

    memset(&c, 0, sizeof(c));
    c.method = OAC_SIG_RSA_SHA1;
    c.consumer_key = "k";
    assert_int_equal(oac_oauth1_signature(&sig, &err, p, &c, "bs"),
                     APR_EINVAL);
    assert_ptr_equal(sig, sentinel);
    assert_non_null(strstr(err, "RSA"));

    c.method = (oac_sig_method_e)42;
    err = NULL;
    assert_int_equal(oac_oauth1_signature(&sig, &err, p, &c, "bs"),
                     APR_EINVAL);
    assert_ptr_equal(sig, sentinel);
    assert_non_null(err);

    err = NULL;
    assert_int_equal(oac_oauth1_signature(&sig, &err, p, NULL, "bs"),
                     APR_EINVAL);
    assert_ptr_equal(sig, sentinel);
    assert_non_null(err);
}

/* ---- sign_request -------------------------------------------------------- */

static void test_sign_request_full_header(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    apr_array_header_t *extra = oac_form_make(p);
    apr_array_header_t *body = oac_form_make(p);
    const char *h;

    c.realm = "Photos";
    oac_form_add(extra, "oauth_callback",
                 "http://printer.example.com/ready?a=1&b=c d&\xC3\xA9");
    oac_form_add(body, "b", "2 3");
    /* A form field called realm is an ordinary, signed parameter; only the
     * header's realm is not. */
    oac_form_add(body, "realm", "body realm");
    h = sign_ok(p, &c, "POST", "https://photos.example.net:443/initiate?x=1",
                body, extra, "wIjqoS", APR_INT64_C(137131200));
    /* Signature from t/provider/provider.py's verifier code. */
    assert_string_equal(
        h,
        "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", "
        "oauth_nonce=\"wIjqoS\", oauth_signature_method=\"HMAC-SHA1\", "
        "oauth_timestamp=\"137131200\", oauth_token=\"nnch734d00sl2jdk\", "
        "oauth_version=\"1.0\", oauth_callback=\"http%3A%2F%2Fprinter."
        "example.com%2Fready%3Fa%3D1%26b%3Dc%20d%26%C3%A9\", "
        "oauth_signature=\"hwEndDFhvluFsWSRF2TuWj56Yo4%3D\"");
}

static void test_sign_request_empty_token_omitted(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    const char *h;

    c.token = "";
    c.token_secret = "";
    h = sign_ok(p, &c, "GET", "http://example.com/", NULL, NULL, "n", 5);
    assert_null(strstr(h, "oauth_token"));
    assert_null(strstr(h, "realm"));
}

static void test_sign_request_fresh_nonce_and_time(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    const char *h1, *h2, *n1, *n2, *ts;
    apr_int64_t before = (apr_int64_t)apr_time_sec(apr_time_now()), when;

    h1 = sign_ok(p, &c, "GET", "http://example.com/", NULL, NULL, NULL, 0);
    h2 = sign_ok(p, &c, "GET", "http://example.com/", NULL, NULL, NULL, 0);
    n1 = strstr(h1, "oauth_nonce=\"");
    n2 = strstr(h2, "oauth_nonce=\"");
    assert_non_null(n1);
    assert_non_null(n2);
    n1 += 13;
    n2 += 13;
    /* 16 random bytes, base64url: 22 characters. */
    assert_int_equal(strcspn(n1, "\""), 22);
    assert_int_equal(strspn(n1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                "opqrstuvwxyz0123456789-_"),
                     22);
    assert_memory_not_equal(n1, n2, 22);

    ts = strstr(h1, "oauth_timestamp=\"");
    assert_non_null(ts);
    when = apr_atoi64(ts + 17);
    assert_true(when >= before);
    assert_true(when <= (apr_int64_t)apr_time_sec(apr_time_now()));
}

static void test_sign_request_errors(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    apr_array_header_t *extra;
    const char *err;
    char sentinel[] = "x", *h = sentinel;

    /* An extra parameter outside the oauth_ namespace. */
    extra = form(p, "callback=x");
    err = sign_fails(p, &c, "POST", "http://example.com/", extra);
    assert_non_null(strstr(err, "'callback'"));
    extra = form(p, "oauth_=x");
    sign_fails(p, &c, "POST", "http://example.com/", extra);

    /* Extras may not replace what sign_request sets, nor repeat. */
    extra = form(p, "oauth_signature=forged");
    sign_fails(p, &c, "POST", "http://example.com/", extra);
    extra = form(p, "oauth_token=other");
    err = sign_fails(p, &c, "POST", "http://example.com/", extra);
    /* Never the value. */
    assert_null(strstr(err, "other"));
    extra = form(p, "oauth_verifier=a&oauth_verifier=b");
    sign_fails(p, &c, "POST", "http://example.com/", extra);

    /* Bad realm, key, method, URL. */
    c.realm = "a\"b";
    sign_fails(p, &c, "GET", "http://example.com/", NULL);
    c.realm = "a\r\nX-Evil: 1";
    sign_fails(p, &c, "GET", "http://example.com/", NULL);
    c = photos_creds();
    c.consumer_key = "";
    sign_fails(p, &c, "GET", "http://example.com/", NULL);
    c = photos_creds();
    c.method = OAC_SIG_RSA_SHA1;
    err = sign_fails(p, &c, "GET", "http://example.com/", NULL);
    assert_non_null(strstr(err, "rsa_key_file"));
    c = photos_creds();
    sign_fails(p, &c, "GE T", "http://example.com/", NULL);
    sign_fails(p, &c, "GET", "ftp://example.com/", NULL);
    sign_fails(p, NULL, "GET", "http://example.com/", NULL);

    /* Empty nonce, negative timestamp. */
    assert_int_equal(oac_oauth1_sign_request(&h, &err, p, &c, "GET",
                                             "http://example.com/", NULL,
                                             NULL, "", 1),
                     APR_EINVAL);
    assert_int_equal(oac_oauth1_sign_request(&h, &err, p, &c, "GET",
                                             "http://example.com/", NULL,
                                             NULL, "n", -1),
                     APR_EINVAL);
    assert_ptr_equal(h, sentinel);
}

static void test_sign_request_never_leaks_secrets(void **state)
{
    apr_pool_t *p = *state;
    oac_oauth1_creds_t c = photos_creds();
    const char *h = sign_ok(p, &c, "GET", "http://example.com/", NULL, NULL,
                            "n", 1);

    assert_null(strstr(h, c.consumer_secret));
    assert_null(strstr(h, c.token_secret));
}

/* ---- load_rsa_key -------------------------------------------------------- */

static const char *load_key_fails(apr_pool_t *p, const char *path)
{
    EVP_PKEY *sentinel = (EVP_PKEY *)&sentinel, *key = sentinel;
    const char *err = NULL;

    assert_int_not_equal(oac_oauth1_load_rsa_key(&key, &err, p, path),
                         APR_SUCCESS);
    assert_ptr_equal(key, sentinel);
    assert_non_null(err);
    return err;
}

static void test_load_rsa_key_good(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *k1 = load_key_ok(p, rsa_test_key_pkcs8);
    EVP_PKEY *k2 = load_key_ok(p, rsa_test_key_pkcs1);

    assert_true(EVP_PKEY_is_a(k1, "RSA"));
    assert_int_equal(EVP_PKEY_get_bits(k1), 1024);
    assert_int_equal(EVP_PKEY_eq(k1, k2), 1);
    /* Freed by the pool's cleanup at teardown (valgrind checks). */
}

static void test_load_rsa_key_missing(void **state)
{
    apr_pool_t *p = *state;
    const char *err = load_key_fails(p, "/nonexistent/dir/key.pem");

    assert_non_null(strstr(err, "/nonexistent/dir/key.pem"));
    assert_non_null(strstr(err, "cannot open"));
    err = load_key_fails(p, "");
    assert_non_null(strstr(err, "rsa_key_file"));
    load_key_fails(p, NULL);
}

static void test_load_rsa_key_not_rsa(void **state)
{
    apr_pool_t *p = *state;
    const char *path = temp_file(p, ec_key);
    const char *err = load_key_fails(p, path);

    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "EC"));
    assert_non_null(strstr(err, "not RSA"));
}

static void test_load_rsa_key_garbage(void **state)
{
    apr_pool_t *p = *state;
    const char *path = temp_file(p, "this is not a key\n");
    const char *err = load_key_fails(p, path);

    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot load RSA private key"));
    assert_non_null(strstr(err, "not PEM"));
    /* OpenSSL's own reason too. */
    assert_non_null(strstr(err, "(OpenSSL: "));

    /* A truncated key. */
    path = temp_file(p, apr_pstrndup(p, rsa_test_key_pkcs8, 200));
    load_key_fails(p, path);
    /* An empty file. */
    path = temp_file(p, "");
    err = load_key_fails(p, path);
    assert_non_null(strstr(err, "empty"));
    /* A public key is no private key. */
    path = temp_file(p, "-----BEGIN PUBLIC KEY-----\n"
                        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyw5Hd4HH6ovmSCab"
                        "lqouUPqLACr0\nLtMXz8LBTp4ow/OYbOcJY1MnxF5eRhcZqBUQXs"
                        "Dd2AFFjSND7d2l6J2Z1w==\n"
                        "-----END PUBLIC KEY-----\n");
    err = load_key_fails(p, path);
    assert_non_null(strstr(err, "no private key"));
}

static void test_load_rsa_key_encrypted(void **state)
{
    apr_pool_t *p = *state;
    const char *path = temp_file(p, rsa_test_key_encrypted);
    const char *err = load_key_fails(p, path);

    /* Fails (without prompting on a terminal) and says what was wanted. */
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "encrypted"));
    assert_non_null(strstr(err, "passphrase"));
}

/* ---- the flows, over a fake HTTP client ---------------------------------- */

typedef struct {
    int calls;
    /* what was sent */
    const char *method, *url, *auth, *body, *content_type;
    /* what to answer */
    apr_status_t transport_rv;
    int status;
    const char *resp_content_type;
    const char *resp_body;
} fake_http_t;

static apr_status_t fake_perform(oac_http_response_t **presp,
                                 const char **perr, void *baton,
                                 apr_pool_t *p,
                                 const oac_http_request_t *req)
{
    fake_http_t *f = baton;
    oac_http_response_t *resp;

    ++f->calls;
    f->method = apr_pstrdup(p, req->method);
    f->url = apr_pstrdup(p, req->url);
    f->auth = req->headers ? apr_pstrdup(p, apr_table_get(req->headers,
                                                          "Authorization"))
                           : NULL;
    f->body = req->body ? apr_pstrmemdup(p, req->body, req->body_len) : NULL;
    f->content_type = req->content_type;
    if (f->transport_rv != APR_SUCCESS) {
        *perr = "connection refused by fake (host:1)";
        return f->transport_rv;
    }
    resp = apr_pcalloc(p, sizeof(*resp));
    resp->status = f->status;
    resp->headers = apr_table_make(p, 1);
    resp->content_type = f->resp_content_type;
    resp->body = apr_pstrdup(p, f->resp_body ? f->resp_body : "");
    resp->body_len = strlen(resp->body);
    *presp = resp;
    return APR_SUCCESS;
}

static oac_app_t *make_app(apr_pool_t *p)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));

    app->name = "twitter";
    app->version = OAC_OAUTH1;
    app->client_id = "oauth1-client";
    app->client_secret = "oauth1-secret";
    /* A query on the endpoint: signed, and never shown in errors. */
    app->request_token_url =
        "https://api.example.com/oauth/request_token?apikey=hush";
    app->request_token_params = form(p, "x_auth_access_type=read+write&l=fr");
    app->access_token_url = "https://api.example.com/oauth/access_token";
    app->access_token_params = form(p, "x_mode=full");
    app->authorize_url = "https://api.example.com/oauth/authorize";
    app->authorize_params = oac_form_make(p);
    app->signature_method = OAC_SIG_HMAC_SHA1;
    return app;
}

static oac_oauth1_creds_t app_creds(const oac_app_t *app)
{
    oac_oauth1_creds_t c;

    memset(&c, 0, sizeof(c));
    c.method = app->signature_method;
    c.consumer_key = app->client_id;
    c.consumer_secret = app->client_secret;
    return c;
}

static oac_http_client_t fake_client(fake_http_t *f)
{
    oac_http_client_t http;

    http.perform = fake_perform;
    http.baton = f;
    return http;
}

/*
 * Re-checks the recorded request's signature the way a server does
 * (section 3.2): every header parameter but realm and oauth_signature,
 * the URL's query and the form body, through oac_oauth1_base_string.
 * Returns the decoded header parameters.
 */
static apr_array_header_t *verify_recorded(apr_pool_t *p,
                                           const fake_http_t *f,
                                           const oac_oauth1_creds_t *c)
{
    apr_array_header_t *params = oac_form_make(p), *body;
    const char *sig = NULL, *rest, *err = NULL;
    char *base, *expected;
    const oac_param_t *bp;
    int i;

    assert_non_null(f->auth);
    assert_int_equal(strncmp(f->auth, "OAuth ", 6), 0);
    rest = f->auth + 6;
    while (*rest) {
        const char *eq = strchr(rest, '='), *end;
        char *name, *value;

        assert_non_null(eq);
        assert_int_equal(eq[1], '"');
        end = strchr(eq + 2, '"');
        assert_non_null(end);
        name = apr_pstrmemdup(p, rest, (apr_size_t)(eq - rest));
        assert_int_equal(oac_util_pct_decode(&value, &err, p,
                                             apr_pstrmemdup(
                                                 p, eq + 2,
                                                 (apr_size_t)(end - eq - 2)),
                                             0),
                         APR_SUCCESS);
        if (strcmp(name, "oauth_signature") == 0) {
            sig = value;
        }
        oac_form_add(params, name, value);
        rest = end + 1;
        if (*rest) {
            assert_int_equal(strncmp(rest, ", ", 2), 0);
            rest += 2;
        }
    }
    assert_non_null(sig);
    body = form(p, f->body);
    bp = (const oac_param_t *)body->elts;
    {
        apr_array_header_t *all = apr_array_copy(p, params);

        for (i = 0; i < body->nelts; ++i) {
            oac_form_add(all, bp[i].name, bp[i].value);
        }
        assert_int_equal(oac_oauth1_base_string(&base, &err, p, f->method,
                                                f->url, all),
                         APR_SUCCESS);
    }
    assert_int_equal(oac_oauth1_signature(&expected, &err, p, c, base),
                     APR_SUCCESS);
    assert_string_equal(sig, expected);
    return params;
}

static void test_request_token_ok(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t *t = NULL;
    const char *err = NULL;
    apr_array_header_t *sent;

    f.status = 200;
    f.resp_content_type = "application/x-www-form-urlencoded";
    f.resp_body = "oauth_token=hh5s93j4hdidpola&oauth_token_secret=hdhd0244k9j7ao03"
                  "&oauth_callback_confirmed=true";
    /* A token in c is ignored: the request token call is consumer-only. */
    c.token = "stale";
    c.token_secret = "stale-secret";
    assert_int_equal(oac_oauth1_request_token(&t, &err, p, &http, app, &c,
                                              "https://client.example/cb?a=1"
                                              "&b=2",
                                              NOW),
                     APR_SUCCESS);
    assert_non_null(t);
    assert_string_equal(t->access_token, "hh5s93j4hdidpola");
    assert_string_equal(t->token_secret, "hdhd0244k9j7ao03");
    assert_int_equal(t->extra->nelts, 0);

    /* The request. */
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.method, "POST");
    assert_string_equal(f.url, app->request_token_url);
    assert_string_equal(f.content_type, "application/x-www-form-urlencoded");
    assert_string_equal(f.body, "x_auth_access_type=read%20write&l=fr");
    assert_non_null(strstr(f.auth, "oauth_callback=\"https%3A%2F%2Fclient."
                                   "example%2Fcb%3Fa%3D1%26b%3D2\""));
    assert_non_null(strstr(f.auth, "oauth_timestamp=\"1700000000\""));
    assert_non_null(strstr(f.auth, "oauth_consumer_key=\"oauth1-client\""));
    assert_null(strstr(f.auth, "oauth_token"));
    assert_null(strstr(f.auth, "oauth1-secret"));
    /* c itself was not changed. */
    assert_string_equal(c.token, "stale");
    /* Signed with the consumer's credentials alone. */
    c.token = NULL;
    c.token_secret = NULL;
    sent = verify_recorded(p, &f, &c);
    assert_string_equal(oac_form_get(sent, "oauth_version"), "1.0");
}

static void test_request_token_confirmed_case(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t *t = NULL;
    const char *err = NULL;

    f.status = 200;
    /* Twitter-like: "True", text/html, extra fields kept. */
    f.resp_content_type = "text/html; charset=utf-8";
    f.resp_body = "oauth_token=t1&oauth_token_secret=s1"
                  "&oauth_callback_confirmed=True&xoauth_request_auth_url="
                  "https%3A%2F%2Fexample.com%2Fauth\r\n";
    assert_int_equal(oac_oauth1_request_token(&t, &err, p, &http, app, &c,
                                              NULL, NOW),
                     APR_SUCCESS);
    assert_string_equal(t->access_token, "t1");
    assert_int_equal(t->extra->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(t->extra, 0, oac_param_t).name,
                        "xoauth_request_auth_url");
    /* The trailing CRLF is not part of the last value. */
    assert_string_equal(APR_ARRAY_IDX(t->extra, 0, oac_param_t).value,
                        "https://example.com/auth");
    /* No callback: "oob" (section 2.1). */
    assert_non_null(strstr(f.auth, "oauth_callback=\"oob\""));
}

static const char *request_token_fails(apr_pool_t *p, fake_http_t *f,
                                       apr_status_t expected_rv)
{
    oac_http_client_t http = fake_client(f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t sentinel, *t = &sentinel;
    const char *err = NULL;

    assert_int_equal(oac_oauth1_request_token(&t, &err, p, &http, app, &c,
                                              "https://client.example/cb",
                                              NOW),
                     expected_rv);
    assert_ptr_equal(t, &sentinel);
    assert_non_null(err);
    assert_null(strstr(err, "oauth1-secret"));
    assert_null(strstr(err, "hush"));
    return err;
}

static void test_request_token_not_confirmed(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };

    f.status = 200;
    f.resp_body = "oauth_token=t1&oauth_token_secret=s1";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "provider did not confirm the callback "
                        "(oauth_callback_confirmed missing)");
    f.resp_body = "oauth_token=t1&oauth_token_secret=s1"
                  "&oauth_callback_confirmed=false";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "provider did not confirm the callback "
                        "(oauth_callback_confirmed=false)");
    f.resp_body = "oauth_token=t1&oauth_token_secret=s1"
                  "&oauth_callback_confirmed=";
    request_token_fails(p, &f, APR_EINVAL);
}

static void test_request_token_http_error(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };

    /* The provider's debug fields are never quoted: only oauth_problem. */
    f.status = 401;
    f.resp_content_type = "application/x-www-form-urlencoded";
    f.resp_body = "oauth_problem=signature_invalid&debug_base_string="
                  "POST%26https%253A%252F%252Fapi.example.com";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint answered HTTP 401: "
                        "oauth_problem=signature_invalid");
    f.status = 500;
    f.resp_content_type = "text/html";
    f.resp_body = "<html>oops</html>";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint answered HTTP 500");
    f.status = 400;
    f.resp_body = "oauth_problem=bad%0Aline%00";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint answered HTTP 400");
    f.resp_body = "oauth_problem=bad%0Aline";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint answered HTTP 400: "
                        "oauth_problem=bad?line");
    /* A provider echoing the consumer secret has it redacted. */
    f.resp_body = "oauth_problem=consumer_key_rejected+oauth1-secret";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint answered HTTP 400: "
                        "oauth_problem=consumer_key_rejected [redacted]");
    /* oauth_problem on a 200 is still a failure. */
    f.status = 200;
    f.resp_body = "oauth_problem=timestamp_refused";
    assert_string_equal(request_token_fails(p, &f, APR_EGENERAL),
                        "request token endpoint reported "
                        "oauth_problem=timestamp_refused");
}

static void test_request_token_malformed(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };

    f.status = 200;
    f.resp_body = "oauth_token=t1&oauth_callback_confirmed=true";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "request token endpoint answer has no "
                        "oauth_token_secret");
    f.resp_body = "oauth_token_secret=s1&oauth_callback_confirmed=true";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "request token endpoint answer has no oauth_token");
    f.resp_body = "oauth_token=&oauth_token_secret=s&"
                  "oauth_callback_confirmed=true";
    request_token_fails(p, &f, APR_EINVAL);
    f.resp_body = "";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "request token endpoint answered with an empty body");
    f.resp_body = "{\"oauth_token\":\"t\"}";
    request_token_fails(p, &f, APR_EINVAL);
    f.resp_body = "oauth_token=t%zz&oauth_token_secret=s";
    request_token_fails(p, &f, APR_EINVAL);
    /* Repeated fields are ambiguous. */
    f.resp_body = "oauth_token=a&oauth_token=b&oauth_token_secret=s"
                  "&oauth_callback_confirmed=true";
    request_token_fails(p, &f, APR_EINVAL);
    /* A token that could split a forwarded header. */
    f.resp_body = "oauth_token=a%0D%0AX-Evil%3A1&oauth_token_secret=s"
                  "&oauth_callback_confirmed=true";
    request_token_fails(p, &f, APR_EINVAL);
    /* The fields checked are the ones used: an OAuth 2 access_token
     * beside them would be taken as the token, without its secret. */
    f.resp_body = "oauth_token=t1&oauth_token_secret=s1"
                  "&oauth_callback_confirmed=true&access_token=OTHER";
    assert_string_equal(request_token_fails(p, &f, APR_EINVAL),
                        "request token endpoint answer has an access_token "
                        "field beside its oauth_token");
}

static void test_request_token_transport_error(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    const char *err;

    f.transport_rv = APR_ECONNREFUSED;
    err = request_token_fails(p, &f, APR_ECONNREFUSED);
    assert_string_equal(err, "request token endpoint https://api.example.com"
                             "/oauth/request_token: connection refused by "
                             "fake (host:1)");
}

static void test_request_token_no_url(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t *t = NULL;
    const char *err = NULL;

    app->request_token_url = NULL;
    assert_int_equal(oac_oauth1_request_token(&t, &err, p, &http, app, &c,
                                              NULL, NOW),
                     APR_EINVAL);
    assert_null(t);
    assert_int_equal(f.calls, 0);
    assert_non_null(strstr(err, "request token"));
}

static void test_access_token_ok(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t *t = NULL;
    const char *err = NULL;
    const oac_param_t *extra;
    apr_array_header_t *sent;

    c.token = "hh5s93j4hdidpola";
    c.token_secret = "hdhd0244k9j7ao03";
    f.status = 200;
    f.resp_content_type = "application/x-www-form-urlencoded";
    f.resp_body = "oauth_token=6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY"
                  "&oauth_token_secret=2EEfA6BG3ly3sR3RjE0IBSnlQu4ZrUzPiYKmrkVU"
                  "&user_id=6253282&screen_name=twitterapi";
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "hfdp7dh39dks9884", NOW),
                     APR_SUCCESS);
    assert_string_equal(t->access_token,
                        "6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY");
    assert_string_equal(t->token_secret,
                        "2EEfA6BG3ly3sR3RjE0IBSnlQu4ZrUzPiYKmrkVU");
    assert_int_equal(t->extra->nelts, 2);
    extra = (const oac_param_t *)t->extra->elts;
    assert_string_equal(extra[0].name, "user_id");
    assert_string_equal(extra[0].value, "6253282");
    assert_string_equal(extra[1].name, "screen_name");
    assert_string_equal(extra[1].value, "twitterapi");

    assert_string_equal(f.method, "POST");
    assert_string_equal(f.url, app->access_token_url);
    assert_string_equal(f.body, "x_mode=full");
    assert_non_null(strstr(f.auth, "oauth_verifier=\"hfdp7dh39dks9884\""));
    assert_non_null(strstr(f.auth, "oauth_token=\"hh5s93j4hdidpola\""));
    assert_null(strstr(f.auth, "oauth_callback"));
    sent = verify_recorded(p, &f, &c);
    assert_string_equal(oac_form_get(sent, "oauth_verifier"),
                        "hfdp7dh39dks9884");
}

static void test_access_token_errors(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t sentinel, *t = &sentinel;
    const char *err = NULL;

    c.token = "reqtok";
    c.token_secret = "reqsecret";

    /* A provider quoting the verifier and token: redacted. */
    f.status = 401;
    f.resp_body = "oauth_problem=verifier_invalid+vvv123+for+reqtok";
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "vvv123", NOW),
                     APR_EGENERAL);
    assert_ptr_equal(t, &sentinel);
    assert_string_equal(err, "access token endpoint answered HTTP 401: "
                             "oauth_problem=verifier_invalid [redacted] for "
                             "[redacted]");

    /* No oauth_token_secret. */
    f.status = 200;
    f.resp_body = "oauth_token=a&screen_name=x";
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "vvv123", NOW),
                     APR_EINVAL);
    assert_ptr_equal(t, &sentinel);
    assert_string_equal(err, "access token endpoint answer has no "
                             "oauth_token_secret");

    /* No verifier, no request token: nothing is sent. */
    f.calls = 0;
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "", NOW),
                     APR_EINVAL);
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             NULL, NOW),
                     APR_EINVAL);
    c.token = NULL;
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "vvv123", NOW),
                     APR_EINVAL);
    assert_int_equal(f.calls, 0);
    assert_ptr_equal(t, &sentinel);
}

static void test_access_token_rsa(void **state)
{
    apr_pool_t *p = *state;
    fake_http_t f = { 0 };
    oac_http_client_t http = fake_client(&f);
    oac_app_t *app = make_app(p);
    oac_oauth1_creds_t c = app_creds(app);
    oac_token_t *t = NULL;
    const char *err = NULL;

    app->access_token_params = NULL;
    c.method = OAC_SIG_RSA_SHA1;
    c.consumer_secret = NULL;
    c.rsa_key = load_key_ok(p, rsa_test_key_pkcs8);
    c.token = "reqtok";
    c.token_secret = "reqsecret";
    f.status = 200;
    f.resp_body = "oauth_token=a&oauth_token_secret=b";
    assert_int_equal(oac_oauth1_access_token(&t, &err, p, &http, app, &c,
                                             "v", NOW),
                     APR_SUCCESS);
    assert_string_equal(f.body, "");
    assert_non_null(strstr(f.auth, "oauth_signature_method=\"RSA-SHA1\""));
    verify_recorded(p, &f, &c);
}

/* ---- authorize URL ------------------------------------------------------- */

static void test_authorize_url(void **state)
{
    apr_pool_t *p = *state;
    oac_app_t *app = make_app(p);

    assert_string_equal(oac_oauth1_authorize_url(p, app, "hh5s93j4hdidpola"),
                        "https://api.example.com/oauth/authorize"
                        "?oauth_token=hh5s93j4hdidpola");
    app->authorize_url = "https://api.example.com/oauth/authorize?lang=en";
    app->authorize_params = form(p, "force_login=true&oauth_token=evil"
                                    "&screen_name=a+b");
    assert_string_equal(oac_oauth1_authorize_url(p, app, "t/+="),
                        "https://api.example.com/oauth/authorize?lang=en"
                        "&oauth_token=t%2F%2B%3D&force_login=true"
                        "&screen_name=a%20b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_base_string_uri_rfc),
        T(test_base_string_uri_more),
        T(test_base_string_uri_errors),
        T(test_base_string_rfc5849),
        T(test_signature_rfc5849),
        T(test_base_string_method_uppercased),
        T(test_base_string_errors),
        T(test_normalize_wiki_cases),
        T(test_normalize_sorting),
        T(test_normalize_query_and_params_merge),
        T(test_photos_example),
        T(test_hmac_sha1_wiki_cases),
        T(test_hmac_key_reuse),
        T(test_hmac_sha256),
        T(test_hmac_threads_leave_nothing),
        T(test_plaintext),
        T(test_rsa_sha1_vector),
        T(test_signature_errors),
        T(test_sign_request_full_header),
        T(test_sign_request_empty_token_omitted),
        T(test_sign_request_fresh_nonce_and_time),
        T(test_sign_request_errors),
        T(test_sign_request_never_leaks_secrets),
        T(test_load_rsa_key_good),
        T(test_load_rsa_key_missing),
        T(test_load_rsa_key_not_rsa),
        T(test_load_rsa_key_garbage),
        T(test_load_rsa_key_encrypted),
        T(test_request_token_ok),
        T(test_request_token_confirmed_case),
        T(test_request_token_not_confirmed),
        T(test_request_token_http_error),
        T(test_request_token_malformed),
        T(test_request_token_transport_error),
        T(test_request_token_no_url),
        T(test_access_token_ok),
        T(test_access_token_errors),
        T(test_access_token_rsa),
        T(test_authorize_url),
    };
#undef T

    return OAC_RUN_TESTS("oac_oauth1", tests);
}
