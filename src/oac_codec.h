/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_codec: the authenticated encryption behind OAuthSessionPassphrase.
 * It turns an encoded mod_session session into a cookie-safe string and
 * back; service tokens shared through OAuthCache are sealed with it too,
 * under keys of their own (oac_codec_create_raw). No httpd headers: only
 * APR and OpenSSL.
 *
 * mod_session_crypto runs PBKDF2 on every encode and decode; this codec
 * derives its keys once, in oac_codec_create(), so a request pays for
 * AES-256-GCM alone.
 *
 * Encoded form, base64url without padding (RFC 4648 section 5):
 *
 *     version (1 byte, 0x01) | key id (4) | nonce (12) | ciphertext | tag (16)
 *
 * The version and key id are authenticated as associated data; the nonce
 * is fresh from the CSPRNG on every encode.
 *
 * Thread safety: a codec is read-only once created. Any number of threads
 * may encode and decode with one codec at once, each with its own pool.
 * Nonces come from a small per-thread batch of RAND_bytes() output, which
 * a fork invalidates (pthread_atfork, registered by the first create), so
 * processes forked after oac_codec_create(), as httpd's children are,
 * never share one.
 */

#ifndef OAC_CODEC_H
#define OAC_CODEC_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>
#include <apu_errno.h>

/* The largest plaintext encode accepts and decode returns. */
#define OAC_CODEC_MAX_PLAIN (16 * 1024 * 1024)

/* Bytes the codec adds before base64url: version, key id, nonce, tag. */
#define OAC_CODEC_OVERHEAD (1 + 4 + 12 + 16)

/*
 * Length of the string oac_codec_encode() makes from len bytes, without
 * its NUL: base64url of len + OAC_CODEC_OVERHEAD bytes, so about
 * 4/3 * len + 44.
 */
#define OAC_CODEC_ENCODED_LEN(len) \
    ((((apr_size_t)(len) + OAC_CODEC_OVERHEAD) * 4 + 2) / 3)

/* Bytes of an AES-256 key, as oac_codec_create_raw() takes one. */
#define OAC_CODEC_KEY_LEN 32

/* Passphrases shorter than this (in bytes) are refused. */
#define OAC_CODEC_MIN_PASSPHRASE 16

/* At most this many passphrases in one list: one seals, the others open
 * what older ones sealed while a rotation ends. Each costs 0.2 s of key
 * derivation, and in an .htaccess file that is paid in a request. */
#define OAC_CODEC_MAX_PASSPHRASES 8

typedef struct oac_codec_t oac_codec_t;

/*
 * Derives one AES-256 key per passphrase (PBKDF2-HMAC-SHA256, 600000
 * iterations: about 0.2 s each, on purpose) and fetches the cipher.
 * passphrases holds const char *; the first encrypts, every one decrypts.
 * The keys live in p and are wiped when p is cleared or destroyed.
 *
 * Errors (APR_EINVAL, *perr says which): no passphrase, more than
 * OAC_CODEC_MAX_PASSPHRASES, an empty one (one shorter than
 * OAC_CODEC_MIN_PASSPHRASE is taken: see oac_codec_passphrase_weak).
 * APR_EGENERAL: OpenSSL failed
 * (e.g. AES-256-GCM unavailable), *perr says how.
 */
/* 1 when s is shorter than OAC_CODEC_MIN_PASSPHRASE bytes: guessable
 * offline by anyone holding a cookie it sealed. */
int oac_codec_passphrase_weak(const char *s);

apr_status_t oac_codec_create(oac_codec_t **pcodec, const char **perr,
                              apr_pool_t *p,
                              const apr_array_header_t *passphrases);

/*
 * A codec of one key, the OAC_CODEC_KEY_LEN bytes at key, for a caller
 * that already has a key of full strength (derived from a secret of its
 * own): no PBKDF2, so this is cheap. Its values are in the same format,
 * with the key id made the same way, as those of oac_codec_create(); a
 * passphrase's derived key given here makes a codec that reads that
 * passphrase's values. The key is copied into p and wiped when p is
 * cleared or destroyed; the caller's copy remains the caller's to wipe.
 *
 * Errors: APR_EINVAL when key is NULL; APR_EGENERAL: OpenSSL failed,
 * *perr says how.
 */
apr_status_t oac_codec_create_raw(oac_codec_t **pcodec, const char **perr,
                                  apr_pool_t *p,
                                  const unsigned char key[OAC_CODEC_KEY_LEN]);

/*
 * Encrypts len bytes of plain (any bytes; plain may be NULL when len is 0)
 * under the first key into a NUL-terminated string of [A-Za-z0-9_-] of
 * OAC_CODEC_ENCODED_LEN(len) characters, allocated from p.
 *
 * Errors: APR_EINVAL when len exceeds OAC_CODEC_MAX_PLAIN; APR_EGENERAL
 * when OpenSSL (random nonce or cipher) fails.
 */
apr_status_t oac_codec_encode(char **pout, const char **perr, apr_pool_t *p,
                              const oac_codec_t *c, const char *plain,
                              apr_size_t len);

/*
 * Authenticates and decrypts what oac_codec_encode() made with any of the
 * codec's keys. *pout (from p) is NUL-terminated; *plen does not count the
 * NUL. Out-parameters are set only on success, and no byte of a value
 * that fails to authenticate is ever handed out.
 *
 * A value the codec does not accept returns, with a short reason in *perr:
 *   APR_EINVAL  empty, not base64url, too short or too long, unknown version
 *   APR_ENOKEY  made with a key this codec does not have
 *   APR_ECRYPT  authentication failed (tampered, truncated, foreign)
 * Anything else (APR_EGENERAL) is an OpenSSL failure, not the input's.
 */
apr_status_t oac_codec_decode(char **pout, apr_size_t *plen,
                              const char **perr, apr_pool_t *p,
                              const oac_codec_t *c, const char *encoded);

/*
 * Fills a mod_session table from a decrypted session string in the one
 * shape where doing so cannot differ from mod_session's own decoder, on
 * any httpd 2.4 release: "k=v&k=v..." with every key and value non-empty,
 * exactly one '=' per pair, no empty pair, and only bytes that URL
 * unescaping leaves alone ([A-Za-z0-9._~*-]). The module's own entries
 * always have that shape; mod_session's identity decoder (an apr_strtok
 * scan, a copy and an unescape per pair) then has nothing left to do.
 *
 * Returns 1 when it took the string: text is cut in place (its '=' and
 * '&' become NULs) and its pieces go into entries with apr_table_setn, so
 * text must live as long as entries; the pair "expiry=N" sets *expiry
 * instead, as mod_session does. Later pairs replace earlier ones.
 * Returns 0, touching nothing, for anything else: mod_session decodes it.
 */
int oac_codec_split_session(apr_table_t *entries, apr_int64_t *expiry,
                            char *text);

/* Number of keys (= passphrases given to oac_codec_create(); 1 for
 * oac_codec_create_raw()). */
int oac_codec_key_count(const oac_codec_t *c);

#endif /* OAC_CODEC_H */
