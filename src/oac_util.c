/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "oac_util.h"

/* Bounds a random token to a size no caller needs to exceed. */
#define OAC_RANDOM_MAX_BYTES 65536

static const char hex_upper[] = "0123456789ABCDEF";

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Locale-independent on purpose: isalnum() would follow LC_CTYPE. */
static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}

int oac_util_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *oac_util_pct_encode_into(char *out, const char *s)
{
    const unsigned char *in = (const unsigned char *)(s ? s : "");

    for (; *in; ++in) {
        if (is_unreserved(*in)) {
            *out++ = (char)*in;
        }
        else {
            *out++ = '%';
            *out++ = hex_upper[*in >> 4];
            *out++ = hex_upper[*in & 0x0F];
        }
    }
    *out = '\0';
    return out;
}

char *oac_util_pct_encode(apr_pool_t *p, const char *s)
{
    /* Worst case: every byte becomes three. */
    char *out = apr_palloc(p, strlen(s ? s : "") * 3 + 1);

    oac_util_pct_encode_into(out, s);
    return out;
}

apr_status_t oac_util_pct_decode(char **pout, const char **perr,
                                 apr_pool_t *p, const char *s,
                                 int plus_as_space)
{
    const char *in = s ? s : "";
    apr_size_t i, n = strlen(in);
    char *out, *o;

    out = o = apr_palloc(p, n + 1);
    for (i = 0; i < n; ++i) {
        int hi, lo;

        if (in[i] == '+' && plus_as_space) {
            *o++ = ' ';
            continue;
        }
        if (in[i] != '%') {
            *o++ = in[i];
            continue;
        }
        /* in[i + 1] may be the terminating NUL, which hex_value rejects
         * before in[i + 2] is read. */
        if ((hi = oac_util_hex_value((unsigned char)in[i + 1])) < 0
            || (lo = oac_util_hex_value((unsigned char)in[i + 2])) < 0) {
            *perr = apr_psprintf(p, "malformed percent-encoding at offset %"
                                 APR_SIZE_T_FMT, i);
            return APR_EINVAL;
        }
        if (hi == 0 && lo == 0) {
            *perr = apr_psprintf(p, "percent-encoded NUL byte at offset %"
                                 APR_SIZE_T_FMT, i);
            return APR_EINVAL;
        }
        *o++ = (char)((hi << 4) | lo);
        i += 2;
    }
    *o = '\0';
    *pout = out;
    return APR_SUCCESS;
}

apr_size_t oac_util_b64url_encode_to(char *out, const unsigned char *data,
                                     apr_size_t len)
{
    char *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        apr_uint32_t v = ((apr_uint32_t)data[i] << 16)
                         | ((apr_uint32_t)data[i + 1] << 8) | data[i + 2];
        *o++ = b64url_alphabet[(v >> 18) & 0x3F];
        *o++ = b64url_alphabet[(v >> 12) & 0x3F];
        *o++ = b64url_alphabet[(v >> 6) & 0x3F];
        *o++ = b64url_alphabet[v & 0x3F];
    }
    if (len - i == 1) {
        apr_uint32_t v = (apr_uint32_t)data[i] << 16;
        *o++ = b64url_alphabet[(v >> 18) & 0x3F];
        *o++ = b64url_alphabet[(v >> 12) & 0x3F];
    }
    else if (len - i == 2) {
        apr_uint32_t v = ((apr_uint32_t)data[i] << 16)
                         | ((apr_uint32_t)data[i + 1] << 8);
        *o++ = b64url_alphabet[(v >> 18) & 0x3F];
        *o++ = b64url_alphabet[(v >> 12) & 0x3F];
        *o++ = b64url_alphabet[(v >> 6) & 0x3F];
    }
    *o = '\0';
    return (apr_size_t)(o - out);
}

char *oac_util_b64url_encode(apr_pool_t *p, const unsigned char *data,
                             apr_size_t len)
{
    char *out = apr_palloc(p, OAC_B64URL_LEN(len) + 1);

    oac_util_b64url_encode_to(out, data, len);
    return out;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/*
 * Length of the data part of s once optional padding is removed, or
 * (apr_size_t)-1 with *perr set when the padding is malformed.
 */
static apr_size_t b64url_data_len(const char **perr, apr_pool_t *p,
                                  const char *s)
{
    apr_size_t n = strlen(s), data = n;

    while (data > 0 && s[data - 1] == '=') {
        --data;
    }
    if (data == n) {
        return data;
    }
    if (n - data > 2 || n % 4 != 0) {
        *perr = apr_psprintf(p, "base64url padding is malformed at offset %"
                             APR_SIZE_T_FMT, data);
        return (apr_size_t)-1;
    }
    return data;
}

apr_status_t oac_util_b64url_decode(unsigned char **pout, apr_size_t *plen,
                                    const char **perr, apr_pool_t *p,
                                    const char *s)
{
    apr_size_t n, i, olen = 0;
    apr_uint32_t acc = 0;
    int bits = 0;
    unsigned char *out;

    if (!s) {
        s = "";
    }
    if ((n = b64url_data_len(perr, p, s)) == (apr_size_t)-1) {
        return APR_EINVAL;
    }
    if (n % 4 == 1) {
        *perr = "base64url input has an impossible length";
        return APR_EINVAL;
    }
    out = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i < n; ++i) {
        int v = b64url_value((unsigned char)s[i]);

        if (v < 0) {
            *perr = apr_psprintf(p, "invalid base64url character at offset %"
                                 APR_SIZE_T_FMT, i);
            return APR_EINVAL;
        }
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[olen++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        *perr = "base64url input has non-zero trailing bits";
        return APR_EINVAL;
    }
    out[olen] = '\0';
    *pout = out;
    *plen = olen;
    return APR_SUCCESS;
}

apr_status_t oac_util_random_token(char **pout, const char **perr,
                                   apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char *buf;

    if (nbytes == 0 || nbytes > OAC_RANDOM_MAX_BYTES) {
        *perr = apr_psprintf(p, "random token size %" APR_SIZE_T_FMT
                             " is out of range 1..%d", nbytes,
                             OAC_RANDOM_MAX_BYTES);
        return APR_EINVAL;
    }
    buf = apr_palloc(p, nbytes);
    if (RAND_bytes(buf, (int)nbytes) != 1) {
        unsigned long e = ERR_get_error();
        char reason[256];

        ERR_error_string_n(e, reason, sizeof(reason));
        *perr = apr_psprintf(p, "random number generator failed: %s", reason);
        return APR_EGENERAL;
    }
    *pout = oac_util_b64url_encode(p, buf, nbytes);
    /* The pool outlives this call; do not leave the raw bytes in it. */
    OPENSSL_cleanse(buf, nbytes);
    return APR_SUCCESS;
}

int oac_util_ct_streq(const char *a, const char *b)
{
    size_t la, lb;

    if (!a || !b) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* Cut to max bytes (not inside a UTF-8 sequence), control chars -> '?'. */
const char *oac_util_sanitize(apr_pool_t *p, const char *s,
                              apr_size_t max)
{
    apr_size_t len = strlen(s), i;
    char *out;

    if (len > max) {
        len = max;
        /* Back off over continuation bytes to the start of a character. */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
            --len;
        }
    }
    /* marked, so that a reader knows, and so that oac_util_redact() can
     * find a secret cut here */
    out = len < strlen(s) ? apr_pstrcat(p, apr_pstrmemdup(p, s, len),
                                        OAC_UTIL_CUT, NULL)
                          : apr_pstrmemdup(p, s, len);
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == 0x7f) {
            out[i] = '?';
        }
    }
    return out;
}

/* msg with every occurrence of s replaced by "[redacted]". */
static const char *redact_one(apr_pool_t *p, const char *msg, const char *s)
{
    apr_size_t slen = strlen(s);
    const char *hit, *from = msg;
    apr_array_header_t *parts;

    if (!strstr(msg, s)) {
        return msg;
    }
    parts = apr_array_make(p, 4, sizeof(const char *));
    while ((hit = strstr(from, s)) != NULL) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrmemdup(p, from, (apr_size_t)(hit - from));
        APR_ARRAY_PUSH(parts, const char *) = "[redacted]";
        from = hit + slen;
    }
    APR_ARRAY_PUSH(parts, const char *) = from;
    return apr_array_pstrcat(p, parts, 0);
}

/* The shortest start of a secret redacted where a cut ends it: shorter
 * ones match ordinary words too often, and tell little. */
#define CUT_SECRET_MIN 4

/* msg with the longest start of s (CUT_SECRET_MIN bytes or more, not all
 * of it) that ends right before a cut mark replaced by "[redacted]". */
static const char *redact_cut(apr_pool_t *p, const char *msg, const char *s)
{
    apr_size_t slen = strlen(s), k;
    const char *mark = msg;

    while ((mark = strstr(mark, OAC_UTIL_CUT)) != NULL) {
        apr_size_t before = (apr_size_t)(mark - msg);

        for (k = slen - 1 < before ? slen - 1 : before; k >= CUT_SECRET_MIN;
             --k) {
            if (!memcmp(mark - k, s, k)) {
                const char *out = apr_pstrcat(p,
                    apr_pstrmemdup(p, msg, before - k), "[redacted]", mark,
                    NULL);
                mark = out + (before - k) + strlen("[redacted]");
                msg = out;
                break;
            }
        }
        mark += strlen(OAC_UTIL_CUT);
    }
    return msg;
}

/*
 * msg with every occurrence of each of the count secrets replaced (NULL or
 * empty ones are skipped): providers sometimes quote what they were sent
 * ("invalid code 'abc'"), and the message goes to logs and error pages.
 */
const char *oac_util_redact(apr_pool_t *p, const char *msg,
                            const char *const *secrets, int count)
{
    int i;

    for (i = 0; i < count; ++i) {
        const char *s = secrets[i], *enc;

        if (!s || !*s) {
            continue;
        }
        msg = redact_one(p, msg, s);
        /* as sent in a form or a query, and quoted so */
        enc = oac_util_pct_encode(p, s);
        if (strcmp(enc, s)) {
            msg = redact_one(p, msg, enc);
        }
        if (strlen(s) > CUT_SECRET_MIN) {
            msg = redact_cut(p, msg, s);
            if (strcmp(enc, s)) {
                msg = redact_cut(p, msg, enc);
            }
        }
    }
    return msg;
}

/* scheme://host[:port]/path of url: its query may carry an API key. */
const char *oac_util_url_for_message(apr_pool_t *p, const char *url)
{
    apr_uri_t uri;

    memset(&uri, 0, sizeof(uri));
    if (!url || apr_uri_parse(p, url, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname) {
        return "(invalid URL)";
    }
    return apr_uri_unparse(p, &uri, APR_URI_UNP_OMITUSERINFO
                                    | APR_URI_UNP_OMITQUERY);
}

int oac_util_has_control(const char *s)
{
    for (; *s; ++s) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

int oac_util_is_field_value(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* RFC 6749 appendix A: access-token and refresh-token are 1*VSCHAR. */
int oac_util_is_vschar(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/*
 * Nonces (the codec's GCM nonces, OAuth 1 oauth_nonce) are handed out from
 * a per-thread batch of CSPRNG output: one RAND_bytes() call costs about as
 * much as encrypting a 1 KiB session or signing an OAuth 1 request, so one
 * per nonce would be the largest cost of either. Every nonce is still fresh
 * random bytes, used once. Per thread, so no lock. Secrets (state, PKCE
 * verifiers) do not come from here: a batch sits in memory until used.
 *
 * The one way a batch could be used twice is a fork copying it (httpd
 * forks its children after startup), and a repeated GCM nonce under one
 * key gives away the authentication key. A fork handler therefore bumps a
 * generation that every batch remembers; getpid() would do the same, but
 * it is a system call per nonce. The counter is written only in a freshly
 * forked child, before it has a second thread. glibc drops the handler
 * when this code is unloaded (it is registered against the DSO).
 */
#define NONCE_BATCH_BYTES 512

typedef struct {
    unsigned int generation;
    unsigned int left;                  /* unused bytes at the start */
    unsigned char buf[NONCE_BATCH_BYTES];
} nonce_batch_t;

static _Thread_local nonce_batch_t nonces;

/* Starts at 1 so that a thread's zeroed batch never matches. */
static atomic_uint fork_generation = 1;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static int fork_handler_rv;

static void after_fork_in_child(void)
{
    atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void register_fork_handler(void)
{
    fork_handler_rv = pthread_atfork(NULL, NULL, after_fork_in_child);
}

apr_status_t oac_util_nonce_init(void)
{
    if (pthread_once(&fork_handler_once, register_fork_handler) != 0
        || fork_handler_rv != 0) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t oac_util_nonce(unsigned char *out, apr_size_t n)
{
    nonce_batch_t *b = &nonces;
    unsigned int generation;

    if (n == 0 || n > OAC_NONCE_MAX_BYTES) {
        return APR_EINVAL;
    }
    /* Cheap after the first call; a first call in a forked child has no
     * batch of the parent's to repeat. */
    if (oac_util_nonce_init() != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    generation = atomic_load_explicit(&fork_generation, memory_order_relaxed);
    if (b->left < n || b->generation != generation) {
        b->left = 0;
        if (RAND_bytes(b->buf, (int)sizeof(b->buf)) != 1) {
            ERR_clear_error();
            return APR_EGENERAL;
        }
        b->generation = generation;
        b->left = sizeof(b->buf);
    }
    b->left -= (unsigned int)n;
    memcpy(out, b->buf + b->left, n);
    return APR_SUCCESS;
}

/* ---- the stored form ----------------------------------------------------- */

static int stored_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

apr_size_t oac_util_stored_room(const char *v)
{
    return 2 + (v ? 3 * strlen(v) : 0);
}

char *oac_util_stored_put(char *o, const char *v)
{
    const unsigned char *s = (const unsigned char *)v;

    *o++ = '.';
    if (!v) {
        return o;
    }
    if (!*s) {
        *o++ = '*';
        return o;
    }
    for (; *s; ++s) {
        if (stored_plain(*s)) {
            *o++ = (char)*s;
        }
        else {
            *o++ = '*';
            *o++ = hex_upper[*s >> 4];
            *o++ = hex_upper[*s & 0x0F];
        }
    }
    return o;
}

/* Uppercase only: one spelling per byte, so a stored value has one form. */
static int stored_hex(char c)
{
    return (c >= 'a' && c <= 'f') ? -1 : oac_util_hex_value((unsigned char)c);
}

/* One field of len bytes at s. */
static apr_status_t stored_field(const char **pv, apr_pool_t *p,
                                 const char *s, apr_size_t len)
{
    const char *end = s + len;
    char *out, *o;

    if (len == 0) {
        *pv = NULL;
        return APR_SUCCESS;
    }
    if (len == 1 && *s == '*') {
        *pv = "";
        return APR_SUCCESS;
    }
    out = o = apr_palloc(p, len + 1);
    while (s < end) {
        int hi, lo;

        if (stored_plain((unsigned char)*s)) {
            *o++ = *s++;
            continue;
        }
        if (*s != '*' || end - s < 3 || (hi = stored_hex(s[1])) < 0
            || (lo = stored_hex(s[2])) < 0 || (hi == 0 && lo == 0)) {
            return APR_EINVAL;
        }
        *o++ = (char)(hi << 4 | lo);
        s += 3;
    }
    *o = '\0';
    *pv = out;
    return APR_SUCCESS;
}

apr_status_t oac_util_stored_split(apr_array_header_t **pfields,
                                   int *pindex, apr_pool_t *p,
                                   const char *s)
{
    apr_array_header_t *fields = apr_array_make(p, 8, sizeof(const char *));

    if (!s || *s != '.') {
        *pindex = -1;
        return APR_EINVAL;
    }
    while (*s == '.') {
        const char *start = s + 1;
        apr_size_t len = strcspn(start, ".");

        if (stored_field((const char **)apr_array_push(fields), p, start,
                         len) != APR_SUCCESS) {
            *pindex = fields->nelts - 1;
            return APR_EINVAL;
        }
        s = start + len;
    }
    *pfields = fields;
    return APR_SUCCESS;
}

int oac_util_stored_seconds(apr_int64_t *pv, const char *s)
{
    apr_int64_t v = 0;
    int digits = 0;

    if (!s) {
        return 0;
    }
    for (; *s >= '0' && *s <= '9'; ++s) {
        if (++digits > 18) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    if (!digits || *s) {
        return 0;
    }
    *pv = v;
    return 1;
}

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

#define JSON_TOO_LARGE "more than %d values"

json_t *oac_util_json_loadb(const char *buf, size_t len, size_t flags,
                            json_error_t *err)
{
    size_t marks = 0, i;

    /* Those inside strings count too: a bound, and cheap */
    for (i = 0; buf && i < len; ++i) {
        unsigned char c = (unsigned char)buf[i];
        if ((c == ',' || c == '{' || c == '[')
            && ++marks > OAC_JSON_MAX_VALUES) {
            if (err) {
                memset(err, 0, sizeof(*err));
                apr_snprintf(err->text, sizeof(err->text), JSON_TOO_LARGE,
                             OAC_JSON_MAX_VALUES);
            }
            return NULL;
        }
    }
    return json_loadb(buf, len, flags, err);
}

int oac_util_json_too_large(const json_error_t *err)
{
    char text[sizeof(err->text)];

    apr_snprintf(text, sizeof(text), JSON_TOO_LARGE, OAC_JSON_MAX_VALUES);
    return err && !strcmp(err->text, text);
}

json_t *oac_util_json_owned(apr_pool_t *p, json_t *v)
{
    apr_pool_cleanup_register(p, v, release_json, apr_pool_cleanup_null);
    return v;
}

int oac_util_say_due(volatile apr_uint32_t *said_at, apr_int64_t now,
                     apr_uint32_t every)
{
    /* Seconds in 32 bits wrap in 2106, and differences of them still
     * count right across it; odd, so that 0 stays "never said". */
    apr_uint32_t at = (apr_uint32_t)now | 1;
    apr_uint32_t then = apr_atomic_read32(said_at);
    /* signed: a thread whose clock read is a second or two older than the
     * last saying is not due (it would move the time back, and make the
     * next one due too); a clock set back by more than the interval is */
    apr_int64_t ago = (apr_int32_t)(at - then);

    if (then && ago < (apr_int64_t)every && ago > -(apr_int64_t)every) {
        return 0;
    }
    /* The thread whose swap moves the time on says it. */
    return apr_atomic_cas32(said_at, at, then) == then;
}
