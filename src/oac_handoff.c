/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <stddef.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <apr_strings.h>

#include "oac_handoff.h"
#include "oac_util.h"

#define ID_LEN    32    /* SHA-256 */
#define KEY_LEN   32    /* AES-256 */
#define NONCE_LEN 12    /* the GCM nonce size that needs no extra hashing */
#define TAG_LEN   16

/*
 * Distinct labels keep the slot id and the key independent: the id is
 * public (anyone who can read the memory sees it), the key must not
 * follow from it. The NUL ends the label so no token can extend it.
 */
static const char id_label[] = "mod_oauthclient handoff slot v1";
static const char key_label[] = "mod_oauthclient handoff key v1";

/* "oacH": says oac_handoff_init() ran on this memory. */
#define TABLE_MAGIC 0x6f616348u

enum {
    SLOT_FREE = 0,      /* zeroed memory is an empty table */
    SLOT_BUSY,          /* claimed; stamp is when */
    SLOT_RESULT,        /* finished; data holds len bytes of ciphertext */
    SLOT_FAILED,        /* finished; the refresh failed */
    SLOT_TOO_LARGE      /* finished; the result did not fit */
};

typedef struct {
    apr_int64_t stamp;          /* Unix seconds: claimed, or finished */
    apr_uint32_t state;         /* SLOT_* */
    apr_uint32_t len;           /* SLOT_RESULT: bytes of data used */
    unsigned char id[ID_LEN];
    unsigned char nonce[NONCE_LEN];
    unsigned char tag[TAG_LEN];
} handoff_slot_t;

typedef struct {
    apr_uint32_t magic;
    /* The slot count and its complement: a stray write to the count must
     * not send a lookup beyond the end of the memory. */
    apr_uint32_t nslots;
    apr_uint32_t nslots_check;
    /* Slots taken from a claim or result still in use: each is a promise
     * broken (a waiter may refresh again), so the caller reports them. */
    apr_uint32_t live_evictions;
    /* The slots' headers, contiguous so that a lookup reads a few pages,
     * then each slot's OAC_HANDOFF_MAX_RESULT bytes of ciphertext: only
     * the pages a result fills are ever touched. */
    handoff_slot_t slot[];
} handoff_table_t;

static int clamp_slots(int slots)
{
    return slots < 1 ? 1 : slots;
}

static apr_size_t data_offset(apr_uint32_t slots)
{
    apr_size_t off = sizeof(handoff_table_t) + slots * sizeof(handoff_slot_t);
    return (off + 63) & ~(apr_size_t)63;
}

apr_size_t oac_handoff_size(int slots)
{
    apr_uint32_t n = (apr_uint32_t)clamp_slots(slots);
    return data_offset(n) + (apr_size_t)n * OAC_HANDOFF_MAX_RESULT;
}

static void init_header(handoff_table_t *t, int slots)
{
    t->magic = TABLE_MAGIC;
    t->nslots = (apr_uint32_t)slots;
    t->nslots_check = ~(apr_uint32_t)slots;
    t->live_evictions = 0;
}

void oac_handoff_init(void *mem, int slots)
{
    slots = clamp_slots(slots);
    memset(mem, 0, oac_handoff_size(slots));
    init_header(mem, slots);
}

void oac_handoff_init_zeroed(void *mem, int slots)
{
    init_header(mem, clamp_slots(slots));
}

/* NULL for memory oac_handoff_init() did not prepare: the callers then
 * fall back to an uncoordinated refresh rather than crash. */
static handoff_table_t *table_of(void *mem)
{
    handoff_table_t *t = mem;

    if (!t || t->magic != TABLE_MAGIC || t->nslots == 0
        || t->nslots_check != ~t->nslots) {
        return NULL;
    }
    return t;
}

/*
 * Distance, not difference: a clock stepped backwards ages a stamp as
 * much as one stepped forwards, so no slot stays pinned (in progress, or
 * handing out a result) until the clock catches up.
 */
static apr_int64_t age_of(const handoff_slot_t *s, apr_int64_t now)
{
    /* A stamp no clock wrote (damaged memory) is as old as can be; two
     * non-negative values cannot overflow a difference. */
    if (s->stamp < 0 || now < 0) {
        return APR_INT64_MAX;
    }
    return now >= s->stamp ? now - s->stamp : s->stamp - now;
}

/* Whether s still means something: a claim younger than patience, an
 * outcome younger than OAC_HANDOFF_TTL. A state this file never writes
 * (damaged memory) is treated as a finished failure. */
static int is_live(const handoff_slot_t *s, apr_int64_t now,
                   apr_int64_t patience)
{
    if (s->state == SLOT_FREE) {
        return 0;
    }
    if (s->state == SLOT_BUSY) {
        return age_of(s, now) < patience;
    }
    return age_of(s, now) < OAC_HANDOFF_TTL;
}

static apr_status_t slot_id(unsigned char *id, const char *token)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    ok = ctx != NULL
         && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
         && EVP_DigestUpdate(ctx, id_label, sizeof(id_label)) == 1
         && EVP_DigestUpdate(ctx, token, strlen(token)) == 1
         && EVP_DigestFinal_ex(ctx, id, &len) == 1
         && len == ID_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* HKDF-SHA256(ikm = token, info = key_label). */
static apr_status_t derive_key(unsigned char *key, const char *token)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[4];
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)token,
                                                  strlen(token));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  (void *)key_label,
                                                  sizeof(key_label));
    params[3] = OSSL_PARAM_construct_end();
    ok = kctx != NULL && EVP_KDF_derive(kctx, key, KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok) {
        OPENSSL_cleanse(key, KEY_LEN);
        ERR_clear_error();
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/*
 * Encrypts len bytes of plain into data under key with a fresh nonce.
 * The slot id is authenticated too, so a ciphertext copied into another
 * slot does not decrypt there.
 */
static apr_status_t seal(handoff_slot_t *s, unsigned char *data,
                         const unsigned char *key, const char *plain,
                         apr_size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, finl = 0, ok;

    ok = ctx != NULL
         && RAND_bytes(s->nonce, NONCE_LEN) == 1
         && EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, s->nonce,
                                NULL) == 1
         && EVP_EncryptUpdate(ctx, NULL, &outl, s->id, ID_LEN) == 1
         && EVP_EncryptUpdate(ctx, data, &outl,
                              (const unsigned char *)plain, (int)len) == 1
         && EVP_EncryptFinal_ex(ctx, data + outl, &finl) == 1
         && (apr_size_t)outl + (apr_size_t)finl == len
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
                                s->tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    s->len = (apr_uint32_t)len;
    return APR_SUCCESS;
}

/*
 * Decrypts s into a NUL-terminated string in p. Fails (never hands out
 * unauthenticated bytes) when the memory was changed since seal().
 */
static apr_status_t unseal(char **pout, apr_pool_t *p,
                           const handoff_slot_t *s, const unsigned char *data,
                           const unsigned char *key)
{
    EVP_CIPHER_CTX *ctx;
    unsigned char *buf;
    unsigned char tag[TAG_LEN];
    apr_size_t len = s->len;
    int outl = 0, finl = 0, ok;

    /* s->len is read from shared memory: bound it before use. */
    if (len > OAC_HANDOFF_MAX_RESULT) {
        return APR_EGENERAL;
    }
    buf = apr_palloc(p, len + 1);
    memcpy(tag, s->tag, TAG_LEN);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL
         && EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, s->nonce,
                                NULL) == 1
         && EVP_DecryptUpdate(ctx, NULL, &outl, s->id, ID_LEN) == 1
         && EVP_DecryptUpdate(ctx, buf, &outl, data, (int)len) == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
                                tag) == 1
         && EVP_DecryptFinal_ex(ctx, buf + outl, &finl) == 1
         && (apr_size_t)outl + (apr_size_t)finl == len
         /* seal() only ever stores a C string. */
         && memchr(buf, '\0', len) == NULL;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        /* The pool outlives this call: leave no unauthenticated bytes. */
        OPENSSL_cleanse(buf, len + 1);
        ERR_clear_error();
        return APR_EGENERAL;
    }
    buf[len] = '\0';
    *pout = (char *)buf;
    return APR_SUCCESS;
}

/* The result s holds, for a holder of refresh_token: DONE, or FAILED when
 * it does not open. Refreshing again is no remedy for a result we cannot
 * read: the token it was refreshed with is spent. */
static oac_handoff_e open_result(char **presult, apr_pool_t *p,
                                 const handoff_slot_t *s,
                                 const unsigned char *data,
                                 const char *refresh_token)
{
    unsigned char key[KEY_LEN];
    apr_status_t rv;
    char *result;

    rv = derive_key(key, refresh_token);
    if (rv == APR_SUCCESS) {
        rv = unseal(&result, p, s, data, key);
        OPENSSL_cleanse(key, KEY_LEN);
    }
    if (rv != APR_SUCCESS) {
        return OAC_HANDOFF_FAILED;
    }
    *presult = result;
    return OAC_HANDOFF_DONE;
}

/* Seals result into s (whose id is set) for holders of refresh_token. */
static apr_status_t seal_for(handoff_slot_t *s, unsigned char *data,
                             const char *refresh_token, const char *result,
                             apr_size_t len)
{
    unsigned char key[KEY_LEN];
    apr_status_t rv = derive_key(key, refresh_token);

    if (rv == APR_SUCCESS) {
        rv = seal(s, data, key, result, len);
        OPENSSL_cleanse(key, KEY_LEN);
    }
    return rv;
}

/* The slot holding id, or NULL. */
static handoff_slot_t *find(handoff_table_t *t, const unsigned char *id)
{
    apr_uint32_t i;

    for (i = 0; i < t->nslots; ++i) {
        handoff_slot_t *s = &t->slot[i];
        if (s->state != SLOT_FREE && CRYPTO_memcmp(s->id, id, ID_LEN) == 0) {
            return s;
        }
    }
    return NULL;
}

/*
 * A slot to reuse: a free or dead one if any; else the oldest finished
 * one, whose waiters have had the longest to take it; else the oldest
 * claim, the likeliest to be a refresher that is stuck.
 */
static handoff_slot_t *pick_victim(handoff_table_t *t, apr_int64_t now,
                                   apr_int64_t patience)
{
    handoff_slot_t *done = NULL, *busy = NULL;
    apr_uint32_t i;

    for (i = 0; i < t->nslots; ++i) {
        handoff_slot_t *s = &t->slot[i];
        if (!is_live(s, now, patience)) {
            return s;
        }
        if (s->state == SLOT_BUSY) {
            if (!busy || s->stamp < busy->stamp) {
                busy = s;
            }
        }
        else if (!done || s->stamp < done->stamp) {
            done = s;
        }
    }
    ++t->live_evictions;
    return done ? done : busy;
}

apr_uint32_t oac_handoff_live_evictions(void *mem)
{
    handoff_table_t *t = table_of(mem);
    return t ? t->live_evictions : 0;
}

/* Slot s's ciphertext. */
static unsigned char *data_of(handoff_table_t *t, const handoff_slot_t *s)
{
    return (unsigned char *)t + data_offset(t->nslots)
           + (apr_size_t)(s - t->slot) * OAC_HANDOFF_MAX_RESULT;
}

/* Wipes s (an older ciphertext included: as far as it went, so that the
 * rest of the slot stays untouched) and gives it to id. */
static void reset(handoff_table_t *t, handoff_slot_t *s,
                  const unsigned char *id, apr_uint32_t state,
                  apr_int64_t now)
{
    if (s->len) {
        memset(data_of(t, s), 0, s->len <= OAC_HANDOFF_MAX_RESULT
                                 ? s->len : OAC_HANDOFF_MAX_RESULT);
    }
    memset(s, 0, sizeof(*s));
    memcpy(s->id, id, ID_LEN);
    s->state = state;
    s->stamp = now;
}

oac_handoff_e oac_handoff_begin(char **presult, apr_pool_t *p, void *mem,
                                const char *refresh_token, apr_int64_t now,
                                apr_int64_t patience)
{
    handoff_table_t *t = table_of(mem);
    handoff_slot_t *s;
    unsigned char id[ID_LEN];

    /* Without a table or a token there is nothing to coordinate on; a
     * refresh without coordination still beats none. */
    if (!t || !refresh_token || !*refresh_token
        || slot_id(id, refresh_token) != APR_SUCCESS) {
        return OAC_HANDOFF_MINE;
    }
    s = find(t, id);
    if (s && is_live(s, now, patience)) {
        if (s->state == SLOT_BUSY) {
            return OAC_HANDOFF_WAIT;
        }
        if (s->state == SLOT_TOO_LARGE) {
            return OAC_HANDOFF_UNSHARED;
        }
        if (s->state != SLOT_RESULT) {
            return OAC_HANDOFF_FAILED;
        }
        return open_result(presult, p, s, data_of(t, s), refresh_token);
    }
    if (!s) {
        s = pick_victim(t, now, patience);
    }
    reset(t, s, id, SLOT_BUSY, now);
    return OAC_HANDOFF_MINE;
}

void oac_handoff_finish(void *mem, const char *refresh_token,
                        const char *result, apr_int64_t now)
{
    handoff_table_t *t = table_of(mem);
    handoff_slot_t *s;
    unsigned char id[ID_LEN];
    apr_size_t len;

    if (!t || !refresh_token || !*refresh_token
        || slot_id(id, refresh_token) != APR_SUCCESS) {
        return;
    }
    s = find(t, id);
    if (!s) {
        /* finish() has no patience to judge claims by: it takes none that
         * a free, dead or finished slot can spare. */
        s = pick_victim(t, now, APR_INT64_MAX);
    }
    else if (!result
             && (s->state == SLOT_RESULT || s->state == SLOT_TOO_LARGE)
             && age_of(s, now) < OAC_HANDOFF_TTL) {
        /* as on a key-value store, where both are added, never set */
        return;
    }
    if (!result) {
        reset(t, s, id, SLOT_FAILED, now);
        return;
    }
    /*
     * Too large to keep: UNSHARED, for the waiters. Letting one of them
     * claim and refresh instead would only spend the old refresh token a
     * second time, which the provider refuses, and which a provider that
     * detects refresh token reuse (RFC 9700 section 4.14.2) answers by
     * revoking the new token too. Nor is it a failure: the caller who
     * refreshed keeps its result and stores it in the session, which a
     * waiter taking it for a failure would log out. OAC_HANDOFF_MAX_RESULT
     * is above any token we have seen serialized.
     */
    len = strlen(result);
    if (len > OAC_HANDOFF_MAX_RESULT) {
        reset(t, s, id, SLOT_TOO_LARGE, now);
        return;
    }
    /* A failure until sealed, so a crypto error leaves nothing half set:
     * for the waiters, not a refresh to make again (see above). */
    reset(t, s, id, SLOT_FAILED, now);
    if (seal_for(s, data_of(t, s), refresh_token, result, len)
        == APR_SUCCESS) {
        s->state = SLOT_RESULT;
    }
    else {
        reset(t, s, id, SLOT_FAILED, now);
    }
}

/* ---- the same protocol on a shared key-value store ---------------------- */

static const char kv_lock_prefix[] = "oauthclient:l:";
static const char kv_result_prefix[] = "oauthclient:r:";

static char *kv_name(apr_pool_t *p, const char *prefix,
                     const unsigned char *id)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t plen = strlen(prefix), i;
    char *name = apr_palloc(p, plen + 2 * ID_LEN + 1);

    memcpy(name, prefix, plen);
    for (i = 0; i < ID_LEN; ++i) {
        name[plen + 2 * i] = hex[id[i] >> 4];
        name[plen + 2 * i + 1] = hex[id[i] & 15];
    }
    name[plen + 2 * ID_LEN] = '\0';
    return name;
}

/* The name of refresh_token's outcome (its id into id), or NULL. */
static char *kv_result_name(apr_pool_t *p, unsigned char *id,
                            const char *refresh_token)
{
    return slot_id(id, refresh_token) == APR_SUCCESS
           ? kv_name(p, kv_result_prefix, id) : NULL;
}

/* An outcome as stored: "F" for a failure, "T" for a result too large to
 * keep, "R" and the base64url of nonce, tag and ciphertext for a result.
 * (A version before "T" reads it as a failure.) */
static oac_handoff_e kv_outcome(char **presult, apr_pool_t *p,
                                const unsigned char *id,
                                const char *refresh_token, const char *value)
{
    handoff_slot_t *s;
    unsigned char *raw;
    apr_size_t len;
    const char *why;

    if (value[0] == 'T' && !value[1]) {
        return OAC_HANDOFF_UNSHARED;
    }
    if (value[0] != 'R'
        || oac_util_b64url_decode(&raw, &len, &why, p, value + 1)
           != APR_SUCCESS
        || len < NONCE_LEN + TAG_LEN
        || len - NONCE_LEN - TAG_LEN > OAC_HANDOFF_MAX_RESULT) {
        return OAC_HANDOFF_FAILED;
    }
    s = apr_pcalloc(p, sizeof(*s));
    memcpy(s->id, id, ID_LEN);
    memcpy(s->nonce, raw, NONCE_LEN);
    memcpy(s->tag, raw + NONCE_LEN, TAG_LEN);
    s->len = (apr_uint32_t)(len - NONCE_LEN - TAG_LEN);
    return open_result(presult, p, s, raw + NONCE_LEN + TAG_LEN,
                       refresh_token);
}

apr_status_t oac_handoff_kv_begin(oac_handoff_e *pstate, char **presult,
                                  apr_pool_t *p, const oac_kv_t *kv,
                                  const char *refresh_token,
                                  apr_int64_t lock_seconds)
{
    unsigned char id[ID_LEN];
    char *rname, *value = NULL;
    oac_kv_e rc;

    if (!refresh_token || !*refresh_token) {
        *pstate = OAC_HANDOFF_MINE;
        return APR_SUCCESS;
    }
    if (!(rname = kv_result_name(p, id, refresh_token))) {
        return APR_EGENERAL;
    }
    rc = kv->get(kv->baton, p, rname, &value);
    if (rc == OAC_KV_NOTFOUND) {
        rc = kv->add(kv->baton, p, kv_name(p, kv_lock_prefix, id), "L",
                     lock_seconds < 1 ? 1 : lock_seconds);
        if (rc == OAC_KV_EXISTS) {
            *pstate = OAC_HANDOFF_WAIT;
            return APR_SUCCESS;
        }
        if (rc != OAC_KV_OK) {
            return APR_EGENERAL;
        }
        /* The claim is ours; the outcome may have come in between a
         * lapsed claim's refresher finishing and this add. */
        rc = kv->get(kv->baton, p, rname, &value);
        if (rc != OAC_KV_OK) {
            *pstate = OAC_HANDOFF_MINE;
            return APR_SUCCESS;
        }
    }
    if (rc != OAC_KV_OK) {
        return APR_EGENERAL;
    }
    *pstate = kv_outcome(presult, p, id, refresh_token, value);
    return APR_SUCCESS;
}

/* oac_handoff_kv_finish, or with unshared its outcome for a result too
 * large to keep, known without the result. */
static apr_status_t kv_record(apr_pool_t *p, const oac_kv_t *kv,
                              const char *refresh_token, const char *result,
                              int unshared)
{
    unsigned char id[ID_LEN];
    handoff_slot_t *s = NULL;
    apr_size_t len;
    char *rname, *raw = NULL;
    oac_kv_e rc;

    if (!refresh_token || !*refresh_token) {
        return APR_SUCCESS;
    }
    if (!(rname = kv_result_name(p, id, refresh_token))) {
        return APR_EGENERAL;
    }
    len = result ? strlen(result) : 0;
    unshared = unshared || len > OAC_HANDOFF_MAX_RESULT;
    if (result && !unshared) {
        /* nonce, tag and ciphertext, as stored */
        raw = apr_palloc(p, NONCE_LEN + TAG_LEN + len);
        s = apr_pcalloc(p, sizeof(*s));
        memcpy(s->id, id, ID_LEN);
        if (seal_for(s, (unsigned char *)raw + NONCE_LEN + TAG_LEN,
                     refresh_token, result, len) != APR_SUCCESS) {
            s = NULL;
        }
    }
    if (!s) {
        /* A failure never replaces a result. Nor does a result too large
         * to keep: unlike the table (one writer at a time), a store may
         * hold a result written by a refresher on another machine. */
        rc = kv->add(kv->baton, p, rname, unshared ? "T" : "F",
                     OAC_HANDOFF_TTL);
        return rc == OAC_KV_OK || rc == OAC_KV_EXISTS ? APR_SUCCESS
                                                      : APR_EGENERAL;
    }
    memcpy(raw, s->nonce, NONCE_LEN);
    memcpy(raw + NONCE_LEN, s->tag, TAG_LEN);
    rc = kv->set(kv->baton, p, rname,
                 apr_pstrcat(p, "R", oac_util_b64url_encode(p,
                             (unsigned char *)raw,
                             NONCE_LEN + TAG_LEN + s->len), NULL),
                 OAC_HANDOFF_TTL);
    return rc == OAC_KV_OK ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t oac_handoff_kv_finish(apr_pool_t *p, const oac_kv_t *kv,
                                   const char *refresh_token,
                                   const char *result)
{
    return kv_record(p, kv, refresh_token, result, 0);
}

apr_status_t oac_handoff_kv_finish_unshared(apr_pool_t *p,
                                            const oac_kv_t *kv,
                                            const char *refresh_token)
{
    return kv_record(p, kv, refresh_token, NULL, 1);
}
