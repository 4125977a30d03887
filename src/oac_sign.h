/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_sign: the JWS the module signs itself (contract section 11): RFC
 * 7523 client assertions (private_key_jwt, client_secret_jwt) and RFC 9449
 * DPoP proofs. On OpenSSL 3's EVP interface, like the verification in
 * oac_jose.c.
 */
#ifndef OAC_SIGN_H
#define OAC_SIGN_H

#include <apr_pools.h>

#include <jansson.h>

/* A key to sign with, and the one algorithm it signs with. Lives as long
 * as the pool it was made from. */
typedef struct oac_signer_t oac_signer_t;

/*
 * A private key from PEM text (len bytes), its algorithm following its
 * type: RSA of at least 2048 bits -> RS256, EC P-256 -> ES256, Ed25519 ->
 * EdDSA. kid (may be NULL) goes into the headers it signs. APR_EINVAL with
 * *pwhy naming the problem (no key, an encrypted key, another type or
 * curve, a short RSA key) otherwise.
 */
apr_status_t oac_signer_from_pem(oac_signer_t **ps, const char **pwhy,
                                 apr_pool_t *p, const char *pem,
                                 apr_size_t len, const char *kid);

/* The private key of s as an unencrypted PKCS#8 PEM, allocated with
 * malloc (the caller wipes and frees it), or NULL: what
 * oac_signer_from_pem takes back. For a key kept by the process, not
 * written anywhere. */
char *oac_signer_private_pem(const oac_signer_t *s, apr_size_t *plen);

/* The same from a file: *pwhy names the file and what is wrong with it. */
apr_status_t oac_signer_from_file(oac_signer_t **ps, const char **pwhy,
                                  apr_pool_t *p, const char *file,
                                  const char *kid);

/* A fresh key pair for alg: ES256 (P-256), RS256 (2048 bits) or EdDSA
 * (Ed25519). */
apr_status_t oac_signer_generate(oac_signer_t **ps, const char **pwhy,
                                 apr_pool_t *p, const char *alg);

/* An HMAC key (client_secret_jwt: the client secret's bytes), for HS256,
 * HS384 or HS512; NULL for another alg or an empty secret. */
oac_signer_t *oac_signer_hmac(apr_pool_t *p, const char *secret,
                              const char *alg);

/* An RSA key signs PS256 (PSS, salt as long as the hash) from now on
 * instead of RS256: FAPI 2.0 allows no PKCS #1 v1.5. */
void oac_signer_use_pss(oac_signer_t *s);

/* "RS256", "PS256", "ES256", "EdDSA", "HS256" ... */
/* SHA-256 of the private key (or HMAC secret): secret material a key can
 * be derived from, never the key itself. 0 when it cannot be had. */
int oac_signer_secret_digest(const oac_signer_t *s, unsigned char md[32]);

const char *oac_signer_alg(const oac_signer_t *s);

/* 1 when s signs ES256 through OpenSSL's EC_KEY interface, the faster
 * path (a P-256 key of OpenSSL's default provider, FIPS mode off); 0 when
 * through the provider, or for another algorithm. */
int oac_signer_es256_direct(const oac_signer_t *s);

/* The public key as a JWK object with only its public members (kty, crv,
 * x, y / n, e), or NULL for an HMAC key. The caller json_decrefs it. */
json_t *oac_signer_public_jwk(const oac_signer_t *s);

/* RFC 7638: the SHA-256 thumbprint of a public JWK (RSA, EC or OKP),
 * base64url; NULL when a required member is missing. */
const char *oac_jwk_thumbprint(apr_pool_t *p, const json_t *jwk);

/* The base64url signature of the bytes input (len) by s: a JWS's third
 * part for the signing input "header.payload". */
apr_status_t oac_sign_input(char **psig, const char **pwhy, apr_pool_t *p,
                            const oac_signer_t *s, const char *input,
                            apr_size_t len);

/*
 * A compact JWS of payload (a JSON object), its header {"alg", "typ" (when
 * typ is not NULL), "kid" (when s has one), "jwk" (the public key, with
 * with_jwk)}.
 */
apr_status_t oac_sign_jws(char **pjws, const char **pwhy, apr_pool_t *p,
                          const oac_signer_t *s, const char *typ,
                          int with_jwk, const json_t *payload);

/*
 * RFC 7523 section 3: a client assertion of client_id for aud: iss and
 * sub client_id, aud, a fresh jti, iat now and exp now + 60.
 */
apr_status_t oac_sign_client_assertion(char **pjws, const char **pwhy,
                                       apr_pool_t *p, const oac_signer_t *s,
                                       const char *client_id,
                                       const char *aud, apr_int64_t now);

/* RFC 9449 section 4.2's ath: base64url(SHA-256(access_token)). */
const char *oac_dpop_ath(apr_pool_t *p, const char *access_token);

/* The htu of a request URL: without query and fragment (RFC 9449 4.2). */
const char *oac_dpop_htu(apr_pool_t *p, const char *url);

/*
 * RFC 9449 section 4.2: a DPoP proof for method htm at url (its query and
 * fragment left out of htu), typ dpop+jwt, the public key in the header,
 * a fresh jti, iat now, ath when access_token is not NULL, nonce when the
 * server gave one.
 */
apr_status_t oac_dpop_proof(char **pjws, const char **pwhy, apr_pool_t *p,
                            const oac_signer_t *s, const char *htm,
                            const char *url, const char *access_token,
                            const char *nonce, apr_int64_t now);

#endif
