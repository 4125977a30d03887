/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_handoff: one refresh per refresh token across processes.
 *
 * Refresh tokens rotate: the first refresh spends the token that every
 * parallel request of a browser carries. So the first request to see an
 * expired token claims the refresh, and the others wait and then take the
 * new token it obtained from this table, a fixed-size array of slots in
 * memory shared by every httpd child.
 *
 * What the functions below call refresh_token is the coordination key: a
 * secret that every request needing the same refresh holds. The module
 * passes the old refresh token and the access token it replaces (so that
 * with a provider that does not rotate refresh tokens, the next refresh is
 * a new key, not the previous result again).
 *
 * A slot is found by a SHA-256 hash of that key, never by the key. Its result is kept AES-256-GCM encrypted under a key derived (by
 * HKDF-SHA256, a different derivation) from that same old token, so the
 * shared memory holds nothing usable by anyone who does not already have
 * it, and a result is kept for OAC_HANDOFF_TTL seconds at most.
 *
 * Locking is the caller's: every call must be made holding one mutex that
 * is global to all users of the table (processes and threads), and that
 * mutex must NOT be held while the refresh itself talks to the provider.
 *
 * The memory must be aligned for an apr_int64_t (8 bytes; what
 * apr_shm_baseaddr_get() and malloc() give) and be oac_handoff_size(slots)
 * bytes, and oac_handoff_init() must be called once, before fork.
 */

#ifndef OAC_HANDOFF_H
#define OAC_HANDOFF_H

#include <apr_pools.h>

/* The longest result (a serialized token) a slot can hold, in bytes. */
/* Large enough for JWT access and refresh tokens of a few KB each (Entra,
 * Keycloak): a result that does not fit is a failure for the waiters. The
 * shared table only touches the pages of a slot a result fills. */
#define OAC_HANDOFF_MAX_RESULT 16384

/* Seconds a finished refresh (result or failure) is handed out. */
#define OAC_HANDOFF_TTL 60

typedef enum {
    OAC_HANDOFF_MINE,   /* refresh now, then call oac_handoff_finish() */
    OAC_HANDOFF_WAIT,   /* another caller is refreshing: unlock, sleep, retry */
    OAC_HANDOFF_DONE,   /* another caller refreshed: *presult is its result */
    OAC_HANDOFF_FAILED, /* another caller's refresh failed: give up too */
    OAC_HANDOFF_UNSHARED /* another caller refreshed, but its result was
                          * too large to hand over: the caller's token is
                          * spent, and the refresher's session has the new
                          * one (leave the session alone) */
} oac_handoff_e;

/*
 * Bytes a table of slots slots needs (slots < 1 counts as 1): ~80 bytes
 * of header a slot, kept together, and OAC_HANDOFF_MAX_RESULT bytes of
 * room for its result, touched only as far as a result fills it (2,048
 * slots reserve 33 MiB, of which a lookup reads 160 KiB).
 */
apr_size_t oac_handoff_size(int slots);

/*
 * Makes an empty table in mem, oac_handoff_size(slots) bytes (slots < 1
 * counts as 1, as in oac_handoff_size).
 */
void oac_handoff_init(void *mem, int slots);

/*
 * The same for memory known to hold only zero bytes (a fresh anonymous
 * shared mapping): only the header is written, so the slots stay out of
 * memory until a refresh uses them.
 */
void oac_handoff_init_zeroed(void *mem, int slots);

/*
 * What the caller holding refresh_token should do, at time now (Unix
 * seconds):
 *  - nobody refreshed it lately: the caller's slot is claimed (in progress
 *    since now) and MINE returned;
 *  - someone is refreshing it, and started less than patience seconds ago:
 *    WAIT. An older claim is taken to belong to a refresher that died or
 *    hung, and is claimed again (MINE);
 *  - someone refreshed it less than OAC_HANDOFF_TTL seconds ago: DONE and
 *    *presult its result (decrypted into p; every waiter gets it), or
 *    FAILED if that refresh failed or the stored result does not decrypt
 *    (memory damaged or tampered with: never garbage), UNSHARED if its
 *    result was too large to keep;
 *  - older results count as none (MINE).
 * When no slot is free, the oldest finished one is reused, or if none is
 * finished the oldest in progress (its waiters will then claim again).
 * *presult is set only for DONE. A NULL or empty refresh_token cannot be
 * coordinated: MINE, without claiming anything.
 */
oac_handoff_e oac_handoff_begin(char **presult, apr_pool_t *p, void *mem,
                                const char *refresh_token, apr_int64_t now,
                                apr_int64_t patience);

/*
 * Records the outcome of the refresh of refresh_token claimed by
 * oac_handoff_begin: result is the new serialized token (a C string), or
 * NULL when the refresh failed. Without a slot for refresh_token (it was
 * reused meanwhile), one is taken as oac_handoff_begin would, so that late
 * waiters still find the outcome. A failure never replaces a result (nor
 * one too large to keep) less than OAC_HANDOFF_TTL old: once a refresh
 * succeeded the old token is spent, so a later failure with it (a second
 * refresher after a stale claim) says nothing new, and the waiters need
 * the result.
 * A result longer than OAC_HANDOFF_MAX_RESULT bytes is recorded as such
 * (UNSHARED for the waiters), one that cannot be encrypted as a failure
 * (see oac_handoff.c for why).
 */
void oac_handoff_finish(void *mem, const char *refresh_token,
                        const char *result, apr_int64_t now);

/*
 * How many times a slot still in use (a claim younger than patience, a
 * result younger than OAC_HANDOFF_TTL) had to be reused because every slot
 * was: the table is too small for the refresh rate, and a waiter may have
 * refreshed again. Read under the same mutex.
 */
apr_uint32_t oac_handoff_live_evictions(void *mem);

/*
 * The same protocol on a key-value store shared by several machines
 * (OAuthCache memcache and dbd), through three calls the caller provides.
 * Entry names are derived from the key by a hash ("oauthclient:l:" or
 * "oauthclient:r:" and 64 hex digits, 78 characters), values are
 * printable ASCII; results are sealed as in the table, under a key derived
 * from the coordination key, so the store sees no token.
 */
typedef enum {
    OAC_KV_OK,
    OAC_KV_NOTFOUND,    /* get: no live entry of that name */
    OAC_KV_EXISTS,      /* add: the name is taken by a live entry */
    OAC_KV_ERROR        /* the store cannot be used now */
} oac_kv_e;

typedef struct {
    void *baton;
    /* The live value of name, into p */
    oac_kv_e (*get)(void *baton, apr_pool_t *p, const char *name,
                    char **pvalue);
    /* Stores value under name for ttl seconds only if no live entry has
     * that name, atomically across every user of the store (a lock) */
    oac_kv_e (*add)(void *baton, apr_pool_t *p, const char *name,
                    const char *value, apr_int64_t ttl);
    /* Stores value under name for ttl seconds, replacing any entry */
    oac_kv_e (*set)(void *baton, apr_pool_t *p, const char *name,
                    const char *value, apr_int64_t ttl);
} oac_kv_t;

/*
 * oac_handoff_begin on kv: the claim is an entry added for lock_seconds,
 * after which the claim of a refresher that died or hung lapses by
 * itself. APR_EGENERAL (and *pstate untouched) when the store failed:
 * the caller coordinates some other way.
 */
apr_status_t oac_handoff_kv_begin(oac_handoff_e *pstate, char **presult,
                                  apr_pool_t *p, const oac_kv_t *kv,
                                  const char *refresh_token,
                                  apr_int64_t lock_seconds);

/*
 * oac_handoff_finish on kv: the outcome is kept OAC_HANDOFF_TTL seconds; a
 * failure never replaces a result. APR_EGENERAL when the store failed.
 */
apr_status_t oac_handoff_kv_finish(apr_pool_t *p, const oac_kv_t *kv,
                                   const char *refresh_token,
                                   const char *result);

/*
 * Records on kv that refresh_token was refreshed with a result too large
 * to hand over (UNSHARED for the waiters), as oac_handoff_kv_finish does
 * with such a result: for an outcome learnt elsewhere, without the result.
 */
apr_status_t oac_handoff_kv_finish_unshared(apr_pool_t *p,
                                            const oac_kv_t *kv,
                                            const char *refresh_token);

#endif /* OAC_HANDOFF_H */
