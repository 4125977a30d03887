/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The providers' documents — discovery metadata, key sets — fetched once
 * for the whole machine and kept in shared memory (contract section 9:
 * "shared by all child processes"), each process keeping its own parsed
 * copy of the machine's latest (mod_oauthclient_docs.c).
 */
#ifndef MOD_OAUTHCLIENT_DOCS_H
#define MOD_OAUTHCLIENT_DOCS_H

#include "mod_oauthclient_config.h"

/* A document's bytes as this process's own object (allocated from pool,
 * which lives as long as the copy is used); NULL with *pwhy on a document
 * that cannot be used. ctx is the caller's. */
typedef const void *oac_doc_parse_fn(apr_pool_t *pool, const char *body,
                                     apr_size_t len, const void *ctx,
                                     const char **pwhy);

typedef struct {
    const char *url;
    const char *key;            /* the app's key that names url, for messages */
    apr_int64_t keep;           /* seconds a copy is used before a new fetch */
    apr_int64_t retry;          /* seconds after a failed fetch before another */
    apr_int64_t again;          /* seconds between fetches asked for with again */
    oac_doc_parse_fn *parse;
    const void *ctx;            /* for parse; one parsed copy per (url, ctx) */
    /* Instead of a GET of url (which then only names the document): the
     * caller's fetch, giving the bytes to keep (a token request) */
    apr_status_t (*fetch)(char **pbody, apr_size_t *plen, const char **pwhy,
                          request_rec *r, const oac_app_t *app,
                          const void *ctx);
    /* How good a parsed copy is at now: OAC_DOC_FRESH, OAC_DOC_USABLE (a
     * new one is fetched unless another process is at it) or
     * OAC_DOC_EXPIRED; NULL: fresh while younger than keep */
    int (*state)(const void *parsed, apr_int64_t now);
} oac_doc_spec_t;

#define OAC_DOC_EXPIRED 0
#define OAC_DOC_USABLE 1
#define OAC_DOC_FRESH 2

typedef struct {
    int failed_now;             /* this call fetched, and that failed */
    int stale;                  /* the copy returned is older than keep */
    apr_int64_t age;            /* seconds since the copy returned was fetched */
} oac_doc_info_t;

void oac_docs_pre_config(apr_pool_t *pconf);
/* The shared memory, sized for the apps of every virtual host. */
void oac_docs_post_config(apr_pool_t *pconf, server_rec *main_s);
void oac_docs_child_init(apr_pool_t *pchild, server_rec *s);

/*
 * The parsed document of spec: the process's copy while it is the
 * machine's latest and younger than keep; else the machine's latest,
 * parsed; else fetched (by one process at a time; a failure is not tried
 * again for retry seconds by any). again: the copy lacks what the caller
 * needs (an unknown kid), so the document is fetched once more unless
 * that was done on this machine less than spec->again seconds ago. When a
 * fetch fails or is not allowed, the last good copy is returned with
 * *pwhy set; NULL with *pwhy when there is none.
 */
const void *oac_doc_get(request_rec *r, const oac_app_t *app,
                        const oac_doc_spec_t *spec, int again,
                        const char **pwhy, oac_doc_info_t *info);

/* The machine's latest copy of spec's document is not to be used again:
 * the next oac_doc_get fetches a new one (while the others keep using it
 * if it is usable). At most once per spec->again seconds on the machine;
 * 1 when this call marked it. */
int oac_doc_stale(request_rec *r, const oac_doc_spec_t *spec);

/* One GET of a provider document (JSON), for this app's HTTP client. */
const oac_http_response_t *oac_provider_document(request_rec *r,
                                                 const oac_app_t *app,
                                                 const char *key,
                                                 const char *url,
                                                 const char **pwhy);

#endif
