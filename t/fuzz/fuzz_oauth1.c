/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OAuth 1.0a signing (RFC 5849 section 3.4): the base string URI, the
 * signature base string, the four signature methods and the
 * Authorization header.
 *
 * Input: a method-selector byte, then NUL-separated
 * HTTP_METHOD, URL, BODY_FORM, CONSUMER_KEY, CONSUMER_SECRET, TOKEN,
 * TOKEN_SECRET, REALM, EXTRA_OAUTH_FORM, NONCE.
 *
 * The base string is rebuilt here from the RFC, independently of
 * oac_oauth1.c, and the signature in the header is checked against it:
 * what the header says was signed must be what was signed.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "fuzz_common.h"
#include "oac_oauth1.h"
#include "oac_url.h"
#include "oac_util.h"

#define TIMESTAMP APR_INT64_C(1700000000)

/* RSA-SHA1 with a small key made once: the fuzzer exercises the framing,
 * not the key size, and 512 bits keeps the run fast. */
static EVP_PKEY *rsa_key;

typedef struct {
    const char *name, *value;    /* both percent-encoded */
} enc_t;

static int enc_cmp(const void *a, const void *b)
{
    const enc_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

static void push_encoded(apr_array_header_t *out, apr_pool_t *p,
                         const apr_array_header_t *params, int skip_realm)
{
    int i;

    for (i = 0; params && i < params->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(params, i, oac_param_t);
        enc_t *e;

        if (!strcmp(kv->name, "oauth_signature")
            || (skip_realm && !strcmp(kv->name, "realm"))) {
            continue;
        }
        e = apr_array_push(out);
        e->name = fuzz_pct_encode(p, kv->name);
        e->value = fuzz_pct_encode(p, kv->value ? kv->value : "");
    }
}

/* RFC 5849 section 3.4.1, written out plainly. NULL when url or its
 * query is not acceptable. */
static char *ref_base_string(apr_pool_t *p, const char *method,
                             const char *url,
                             const apr_array_header_t *header_params,
                             const apr_array_header_t *body_params)
{
    apr_array_header_t *enc = apr_array_make(p, 8, sizeof(enc_t)), *query;
    apr_array_header_t *parts = apr_array_make(p, 8, sizeof(char *));
    char *bsuri, *m;
    const char *err;
    apr_uri_t u;
    int i;

    if (oac_oauth1_base_string_uri(&bsuri, &err, p, url) != APR_SUCCESS
        || oac_url_check(&u, &err, p, url) != APR_SUCCESS
        || oac_form_decode(&query, &err, p, u.query) != APR_SUCCESS) {
        return NULL;
    }
    push_encoded(enc, p, query, 0);
    push_encoded(enc, p, header_params, 1);
    push_encoded(enc, p, body_params, 0);
    qsort(enc->elts, (size_t)enc->nelts, sizeof(enc_t), enc_cmp);
    for (i = 0; i < enc->nelts; ++i) {
        const enc_t *e = &APR_ARRAY_IDX(enc, i, enc_t);
        APR_ARRAY_PUSH(parts, char *) = apr_pstrcat(p, e->name, "=",
                                                    e->value, NULL);
    }
    m = apr_pstrdup(p, method);
    for (i = 0; m[i]; ++i) {
        if (m[i] >= 'a' && m[i] <= 'z') {
            m[i] = (char)(m[i] - 'a' + 'A');
        }
    }
    return apr_pstrcat(p, m, "&", fuzz_pct_encode(p, bsuri), "&",
                       fuzz_pct_encode(p, apr_array_pstrcat(p, parts, '&')),
                       NULL);
}

/* Section 3.4.1.2: lowercase scheme and host, no default port, no query
 * or fragment, a path. */
static void check_base_string_uri(apr_pool_t *p, const char *url)
{
    char *bsuri;
    const char *err, *c, *rest;
    apr_uri_t u, b;

    if (oac_oauth1_base_string_uri(&bsuri, &err, p, url) != APR_SUCCESS) {
        CHECK(oac_url_check(&u, &err, p, url) != APR_SUCCESS);
        return;
    }
    CHECK(oac_url_check(&u, &err, p, url) == APR_SUCCESS);
    CHECK(oac_url_check(&b, &err, p, bsuri) == APR_SUCCESS);
    CHECK(!strncmp(bsuri, "http://", 7) || !strncmp(bsuri, "https://", 8));
    rest = strstr(bsuri, "://") + 3;
    for (c = bsuri; c < rest + strcspn(rest, "/"); ++c) {
        CHECK(!(*c >= 'A' && *c <= 'Z'));
    }
    CHECK(!b.query && !strchr(bsuri, '#'));
    CHECK(b.path && b.path[0] == '/');
    CHECK(!b.port_str || (strcmp(b.scheme, "http") || b.port != 80));
    CHECK(!b.port_str || (strcmp(b.scheme, "https") || b.port != 443));
    CHECK(!strcmp(b.path, u.path && *u.path ? u.path : "/"));
}

static int is_http_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) {
            return 0;
        }
    }
    return 1;
}

/* The signature the RFC asks for, from OpenSSL directly. */
static int ref_verify(apr_pool_t *p, oac_sig_method_e m, const char *cs,
                      const char *ts, const char *base, const char *sig)
{
    char *key = apr_pstrcat(p, fuzz_pct_encode(p, cs), "&",
                            fuzz_pct_encode(p, ts), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE], raw[1024];
    unsigned int maclen = 0;
    char b64[EVP_MAX_MD_SIZE * 2];
    int ok, rawlen;
    EVP_MD_CTX *ctx;

    switch (m) {
    case OAC_SIG_PLAINTEXT:
        return !strcmp(sig, key);
    case OAC_SIG_HMAC_SHA1:
    case OAC_SIG_HMAC_SHA256:
        CHECK(HMAC(m == OAC_SIG_HMAC_SHA1 ? EVP_sha1() : EVP_sha256(), key,
                   (int)strlen(key), (const unsigned char *)base,
                   strlen(base), mac, &maclen));
        EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
        return !strcmp(sig, b64);
    case OAC_SIG_RSA_SHA1:
        if (strlen(sig) > 4 * sizeof(raw) / 3) {
            return 0;
        }
        rawlen = EVP_DecodeBlock(raw, (const unsigned char *)sig,
                                 (int)strlen(sig));
        if (rawlen < 0 || strlen(sig) % 4) {
            return 0;
        }
        /* EVP_DecodeBlock counts padding as zero bytes. */
        rawlen -= (int)(strlen(sig) - strcspn(sig, "="));
        ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha1(), NULL,
                                         rsa_key) == 1
             && EVP_DigestVerify(ctx, raw, (size_t)rawlen,
                                 (const unsigned char *)base,
                                 strlen(base)) == 1;
        EVP_MD_CTX_free(ctx);
        return ok;
    }
    return 0;
}

/* Section 3.5.1: OAuth [realm="R", ]name="value", ... with names and
 * values percent-encoded, so nothing can break out of the quotes or the
 * header. Returns the parameters, decoded. */
static apr_array_header_t *parse_header(apr_pool_t *p, const char *h,
                                        const char *realm)
{
    apr_array_header_t *out = oac_form_make(p);
    const char *err;

    CHECK(!strncmp(h, "OAuth ", 6));
    h += 6;
    if (realm) {
        const char *r = apr_psprintf(p, "realm=\"%s\"", realm);
        CHECK(!strncmp(h, r, strlen(r)));
        h += strlen(r);
        if (*h) {
            CHECK(!strncmp(h, ", ", 2));
            h += 2;
        }
    }
    while (*h) {
        size_t nl = strcspn(h, "="), vl;
        char *name, *value;

        CHECK(h[nl] == '=' && h[nl + 1] == '"');
        vl = strcspn(h + nl + 2, "\"");
        CHECK(h[nl + 2 + vl] == '"');
        name = apr_pstrmemdup(p, h, nl);
        value = apr_pstrmemdup(p, h + nl + 2, vl);
        CHECK(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-._~%") == nl);
        CHECK(strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789-._~%") == vl);
        CHECK(oac_util_pct_decode(&name, &err, p, name, 0) == APR_SUCCESS);
        CHECK(oac_util_pct_decode(&value, &err, p, value, 0) == APR_SUCCESS);
        oac_form_add(out, name, value);
        h += nl + 2 + vl + 1;
        if (*h) {
            CHECK(!strncmp(h, ", ", 2));
            h += 2;
        }
    }
    return out;
}

static const char *const set_by_signer[] = {
    "oauth_consumer_key", "oauth_nonce", "oauth_signature_method",
    "oauth_timestamp", "oauth_token", "oauth_version", NULL
};

/* What oac_oauth1_sign_request documents as acceptable input. */
static int extras_ok(const apr_array_header_t *extra, int with_token)
{
    int i, j, k;

    for (i = 0; extra && i < extra->nelts; ++i) {
        const char *n = APR_ARRAY_IDX(extra, i, oac_param_t).name;

        if (strncmp(n, "oauth_", 6) || !n[6] || !strcmp(n, "oauth_signature")) {
            return 0;
        }
        for (k = 0; set_by_signer[k]; ++k) {
            if (!strcmp(n, set_by_signer[k])
                && (with_token || strcmp(n, "oauth_token"))) {
                return 0;
            }
        }
        for (j = 0; j < i; ++j) {
            if (!strcmp(n, APR_ARRAY_IDX(extra, j, oac_param_t).name)) {
                return 0;
            }
        }
    }
    return 1;
}

static int plain_quoted(const char *s)
{
    for (; *s; ++s) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\') {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    rsa_key = EVP_RSA_gen(512);
    CHECK(rsa_key != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const oac_sig_method_e methods[] = {
        OAC_SIG_HMAC_SHA1, OAC_SIG_HMAC_SHA256, OAC_SIG_PLAINTEXT,
        OAC_SIG_RSA_SHA1
    };
    apr_pool_t *p;
    fuzz_parts_t in;
    apr_array_header_t *body = NULL, *extra = NULL, *hdr, *signed_params;
    oac_oauth1_creds_t c;
    const char *method, *url, *err = NULL, *sig;
    char *base = NULL, *header = NULL;
    apr_status_t rv;
    apr_uri_t u;
    int expect_ok, i;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    fuzz_split(&in, p, data + 1, size - 1);
    method = in.part[0];
    url = in.part[1];
    if (oac_form_decode(&body, &err, p, in.part[2]) != APR_SUCCESS) {
        body = NULL;
    }
    if (oac_form_decode(&extra, &err, p, in.part[8]) != APR_SUCCESS) {
        extra = NULL;
    }
    memset(&c, 0, sizeof(c));
    c.method = methods[data[0] & 3];
    c.consumer_key = in.part[3];
    c.consumer_secret = in.part[4];
    c.token = *in.part[5] ? in.part[5] : NULL;
    c.token_secret = in.part[6];
    c.realm = *in.part[7] ? in.part[7] : NULL;
    c.rsa_key = rsa_key;

    check_base_string_uri(p, url);

    /* The base string: exactly the RFC's, or refused for a reason. */
    rv = oac_oauth1_base_string(&base, &err, p, method, url, body);
    if (rv == APR_SUCCESS) {
        CHECK(is_http_token(method));
        CHECK(!strcmp(base, ref_base_string(p, method, url, body, NULL)));
    }
    else {
        CHECK(!is_http_token(method)
              || !ref_base_string(p, method, url, body, NULL));
    }

    expect_ok = is_http_token(method)
                && oac_url_check(&u, &err, p, url) == APR_SUCCESS
                && ref_base_string(p, method, url, NULL, NULL)
                && *c.consumer_key
                && (!c.realm || plain_quoted(c.realm))
                && extras_ok(extra, c.token != NULL);
    rv = oac_oauth1_sign_request(&header, &err, p, &c, method, url, body,
                                 extra, *in.part[9] ? in.part[9] : "nonce",
                                 TIMESTAMP);
    CHECK((rv == APR_SUCCESS) == expect_ok);
    if (rv != APR_SUCCESS) {
        CHECK(err && fuzz_printable(err));
        apr_pool_destroy(p);
        return 0;
    }
    CHECK(!strpbrk(header, "\r\n"));
    hdr = parse_header(p, header, c.realm);

    /* Every protocol parameter the caller gave, once, and nothing else. */
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_consumer_key"), c.consumer_key));
    /* The token, or an extra oauth_token when there is none. */
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_token"),
                     c.token ? c.token
                             : extra ? oac_form_get(extra, "oauth_token")
                                     : NULL));
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_version"), "1.0"));
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_timestamp"), "1700000000"));
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_nonce"),
                     *in.part[9] ? in.part[9] : "nonce"));
    CHECK(fuzz_streq(oac_form_get(hdr, "oauth_signature_method"),
                     oac_app_sig_method_name(c.method)));
    CHECK(hdr->nelts == 6 + (c.token ? 1 : 0) + (extra ? extra->nelts : 0));
    for (i = 0; extra && i < extra->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(extra, i, oac_param_t);
        CHECK(fuzz_streq(oac_form_get(hdr, kv->name), kv->value));
    }
    sig = oac_form_get(hdr, "oauth_signature");
    CHECK(sig != NULL);

    /* The signature covers the header's parameters and the body's. */
    signed_params = apr_array_copy(p, hdr);
    base = ref_base_string(p, method, url, signed_params, body);
    CHECK(base != NULL);
    CHECK(ref_verify(p, c.method, c.consumer_secret, c.token_secret, base,
                     sig));
    apr_pool_destroy(p);
    return 0;
}
