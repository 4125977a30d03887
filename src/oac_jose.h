/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_jose: what an OpenID Connect client needs of JOSE to trust an
 * id_token: the provider's keys (a JWK Set, RFC 7517, from jwks_uri), a
 * compact JWS (RFC 7515) checked against them, and the id_token's claims
 * (OpenID Connect Core 1.0 section 3.1.3.7, as CONTRACT.md section 9
 * lists them). Verification only: the module never signs a JWS.
 *
 * Written on OpenSSL 3's EVP interface rather than on libcjose, because
 * Debian 12's libcjose (0.6.2.1, checked on the installed library) would
 * buy little and miss what the contract needs:
 *  - it has no OKP keys and no EdDSA (nor any "OKP", "Ed25519" or "EdDSA"
 *    name in the library), which section 9 lists as supported;
 *  - it has no JWK Set: the jwks_uri document would still be split here
 *    and each key imported one by one, and cjose_jws_verify() takes one
 *    key, so the choice of key by kid or by type, the algorithm allow-list
 *    and the binding of algorithm to key type (the checks that stop
 *    "alg":"none" and algorithm confusion) would be written here anyway;
 *  - it calls OpenSSL's low-level RSA_* functions (RSA_verify,
 *    RSA_public_decrypt ...), deprecated in OpenSSL 3.
 * What is left, each signature check, is a few EVP calls; a new
 * dependency for that is not worth its packaging and its own allocator.
 */

#ifndef OAC_JOSE_H
#define OAC_JOSE_H

#include <apr_pools.h>

#include <jansson.h>

/* A parsed JWK Set: public keys ready to verify with, and, only when the
 * caller asks, symmetric ("oct") keys. Lives as long as its pool. */
typedef struct oac_jose_jwks_t oac_jose_jwks_t;

/* The most keys of a set that are kept (the rest are skipped): a token
 * without kid is tried against every key of the right type. */
#define OAC_JOSE_MAX_KEYS 64

/* The longest compact JWS accepted, in bytes: an id_token of this size
 * could not be carried anywhere anyway. */
#define OAC_JOSE_MAX_JWS 65536

/* Flag of oac_jose_jwks_parse: keep "oct" keys (their "k" is a secret).
 * Only for a set the caller holds privately: a set fetched from jwks_uri
 * is public, and a secret published there is no secret. */
#define OAC_JOSE_JWKS_OCT 1

/*
 * Parses json, a JWK Set ({"keys":[...]}), into *pjwks. Keys are kept
 * with their "kid" and "alg" when present:
 *  - "RSA" with "n" and "e" (at most 16384 bits);
 *  - "EC" with "crv" P-256, P-384 or P-521 and "x", "y" of the curve's
 *    full size, a point on the curve;
 *  - "OKP" with "crv" Ed25519 or Ed448 and "x";
 *  - "oct" with "k", only with OAC_JOSE_JWKS_OCT.
 * A key is skipped, without failing the set, when it is of another type
 * or curve, malformed, has a "use" other than "sig", "key_ops" without
 * "verify", or a non-string "kid" or "alg"; beyond OAC_JOSE_MAX_KEYS.
 * Private members ("d", "p" ...) are ignored: only public halves are
 * used. An RSA key shorter than 2048 bits is kept, and refused when used
 * (so that a token signed with it says why, not "unknown kid").
 * On success *pwhy is NULL, or says how many keys were skipped and why the
 * first one was (for the log: the set may be usable without them).
 * APR_EGENERAL, *pwhy saying why, when json is not a JSON object with a
 * "keys" array or holds a member twice in one object.
 */
apr_status_t oac_jose_jwks_parse(oac_jose_jwks_t **pjwks, const char **pwhy,
                                 apr_pool_t *p, const char *json, int flags);

/* The number of keys kept in jwks (0 for NULL). */
int oac_jose_jwks_count(const oac_jose_jwks_t *jwks);

/* The slots jwks's array of keys was made with: what a cached set holds in
 * memory, which follows the keys kept, never the entries the set lists
 * (for the unit tests). */
int oac_jose_jwks_room(const oac_jose_jwks_t *jwks);

typedef enum {
    OAC_JOSE_OK,
    OAC_JOSE_INVALID,       /* refused: *pwhy says why */
    OAC_JOSE_UNKNOWN_KID,   /* the header's kid names no key of the set:
                             * the keys may have rotated, so the caller
                             * may fetch jwks_uri again (rate-limited) */
    OAC_JOSE_NO_KEY_VERIFIES /* refused, but the header names no kid and
                             * no key of the set verified an asymmetric
                             * alg: keys rotated by a provider that names
                             * none look like this too, so the caller may
                             * fetch again and verify once more; the
                             * token stays refused otherwise */
} oac_jose_e;

/*
 * Verifies jws, a compact JWS: exactly three parts of strict base64url
 * (no padding, no other byte) and at most OAC_JOSE_MAX_JWS bytes; a
 * protected header that is a JSON object with "alg" (a string), maybe
 * "kid" (a string), no "crit" (no extension is understood here) and no
 * member twice. Header members that point at keys ("jwk", "jku", "x5u",
 * "x5c") are ignored: only keys of jwks, or the secret, are used.
 *
 * alg "none" is always refused. Otherwise alg must be in allowed_algs
 * (comma-separated, spaces around names ignored; NULL allows nothing) and
 * supported: RS256/384/512, PS256/384/512 (salt as long as the hash),
 * ES256/384/512 (a raw R || S signature of 64, 96 or 132 bytes), EdDSA
 * (RFC 8037, Ed25519 or Ed448), Ed25519 and Ed448 (RFC 9864's names for
 * the same), HS256/384/512.
 *
 * The keys tried: with a "kid", those of jwks with that kid; without, all
 * of jwks. Each must fit alg: RSA of at least 2048 bits for RS and PS,
 * EC on the alg's curve for ES, OKP for EdDSA (of the named curve for
 * Ed25519 and Ed448), oct for HS; and a key's own "alg", when it has one,
 * must equal the header's. So an HS token is never checked against a
 * public key taken as a secret. For HS, hmac_secret (the client secret's
 * bytes; NULL or "" for none) is tried too, whatever the kid: a provider
 * may label it, but it is the client's own.
 *
 * OAC_JOSE_OK: *ppayload holds the payload's *plen bytes (NUL-terminated
 * too), *palg the algorithm that verified it, fully specified: the
 * header's alg, except "Ed25519" or "Ed448" for "EdDSA" (what
 * oac_jose_check_id_token needs for at_hash). OAC_JOSE_UNKNOWN_KID when
 * the kid names no key of jwks and no secret applies;
 * OAC_JOSE_NO_KEY_VERIFIES when there is no kid, the alg is not HS and no
 * key of jwks verified it (or fitted it). Otherwise OAC_JOSE_INVALID.
 * *pwhy (also set on success, to NULL) names the check that failed, with
 * the header's alg and kid at most, never the token.
 * Outputs other than *pwhy are set only on success. jwks may be NULL.
 */
oac_jose_e oac_jose_jws_verify(const char **ppayload, apr_size_t *plen,
                               const char **palg, const char **pwhy,
                               apr_pool_t *p, const char *jws,
                               const oac_jose_jwks_t *jwks,
                               const char *allowed_algs,
                               const char *hmac_secret);

/*
 * oac_jose_jws_verify for a JWT: the payload must also be a JSON object
 * without a member twice, handed out in *pclaims. The pool owns that
 * reference (it is released when p is cleared or destroyed): the caller
 * must not json_decref it, and takes its own (json_incref) to keep it
 * longer.
 */
oac_jose_e oac_jose_verify(json_t **pclaims, const char **palg,
                           const char **pwhy, apr_pool_t *p, const char *jwt,
                           const oac_jose_jwks_t *jwks,
                           const char *allowed_algs,
                           const char *hmac_secret);

/*
 * The claims of a JWT whose signature was checked before (an id_token the
 * module stored after oac_jose_verify): parsed as oac_jose_verify does
 * (three strict base64url parts, a JSON object without a member twice),
 * the signature not checked again, since its key may have been rotated
 * out since. Owned by p as there; NULL and *pwhy otherwise.
 */
json_t *oac_jose_claims_unverified(const char **pwhy, apr_pool_t *p,
                                 const char *jwt);

/*
 * The id_token checks of CONTRACT.md section 9, on claims that
 * oac_jose_verify checked the signature of, at time now (Unix seconds),
 * allowing leeway seconds of clock skew (a negative leeway counts as 0):
 *  - "iss", "sub" (a non-empty string), "aud", "exp" and "iat" present;
 *  - "iss" equal to issuer;
 *  - "aud", a string or an array of strings, contains client_id;
 *  - "azp", when present, equals client_id, and is required when "aud"
 *    is an array of more than one value;
 *  - "exp" (a number) not passed: now < exp + leeway; "iat" (a number)
 *    not in the future: iat <= now + leeway; and, when present, "nbf"
 *    (RFC 7519 section 4.1.5) reached: nbf <= now + leeway;
 *  - when nonce is not NULL, "nonce" equal to it;
 *  - when "at_hash" is present and access_token is not NULL, at_hash
 *    equal to the base64url of the left half of the hash of access_token.
 *    The hash is that of alg, as oac_jose_jws_verify reports it: SHA-256,
 *    -384 or -512 for RS, PS, ES and HS; for Ed25519, SHA-512, and for
 *    Ed448, SHAKE256 with 114 bytes of output (OpenID Connect issue 1125
 *    and its Token Hash Algorithms guide: EdDSA names no hash, the curve's
 *    own is used). An at_hash that cannot be checked (alg NULL, or the
 *    curve-less "EdDSA") is refused, not skipped.
 * APR_EGENERAL on the first failure, *pwhy naming the check (values of
 * iss, aud and azp, cut short; never the nonce, at_hash or the token).
 */
apr_status_t oac_jose_check_id_token(const char **pwhy, apr_pool_t *p,
                                     const json_t *claims,
                                     const char *issuer,
                                     const char *client_id,
                                     const char *nonce, apr_int64_t now,
                                     apr_int64_t leeway,
                                     const char *access_token,
                                     const char *alg);

#endif /* OAC_JOSE_H */
