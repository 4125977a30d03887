/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The providers' documents (discovery metadata, key sets), fetched once
 * for the machine: the bytes sit in shared memory with the time they were
 * fetched and a generation number, and each child process parses the
 * machine's latest into its own copy when the generation moves. So a key
 * set one process fetched again after a provider rotated its keys serves
 * every process at once, and the minute between fetches for unknown kids
 * is the machine's: forged id_tokens sent to many processes still fetch
 * the keys once a minute. A document over DOC_BODY_MAX, or no shared
 * memory, leaves each process on its own.
 */
#include "mod_oauthclient_docs.h"
#include "mod_oauthclient_hooks.h"

#include "util_mutex.h"

#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include <openssl/evp.h>

#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define DOCS_MUTEX "oauthclient-docs"
#define DOC_BODY_MAX (64 * 1024)
#define DOC_URL_MAX 1024
#define DOC_WHY_MAX 256
/* The shared room is reserved when httpd starts (AddressSanitizer even
 * writes its shadow): documents beyond this many are kept by each process
 * for itself. 64 covers dozens of providers. */
#define DOC_SLOTS_MAX 64
/* A process that claimed a fetch and died (or hangs) stops holding the
 * others back after this long. */
#define CLAIM_SECONDS 30

typedef struct {
    char url[DOC_URL_MAX];      /* "" while free */
    apr_int64_t fetched_at;     /* of body; 0 before the first */
    apr_int64_t claimed_at;     /* a process is fetching since then */
    apr_int64_t again_at;       /* the last fetch for something missing */
    apr_int64_t failed_at;      /* the last fetch failed then */
    apr_uint32_t gen;           /* moves with every new body; 0 for none */
    apr_uint32_t stale_gen;     /* this generation is not to be used */
    unsigned char digest[32];   /* SHA-256 of this generation's content */
    apr_uint32_t len;
    char why[DOC_WHY_MAX];      /* what the failed fetch said */
    char body[DOC_BODY_MAX];
} slot_t;

static slot_t *slots;
static int nslots;
static apr_global_mutex_t *mutex;
static const char *mutex_file;

/* A parsed copy of a document, and the requests that read it. A copy
 * replaced by a newer one lives on until its last reader ends: requests
 * that fetch at once (an expired service token, a cold start) replace it
 * quickly, and a fixed count of copies kept was freed under readers. */
typedef struct {
    apr_pool_t *pool;           /* the copy's, this struct's too */
    const void *parsed;
    int readers;                /* requests holding it (hold_copy) */
    int replaced;               /* no longer the process's copy */
} copy_t;

/* This process's parsed copy, per (ctx, url). Never freed before the
 * child ends. */
typedef struct {
    const void *ctx;            /* of the spec (compared, never read) */
    const char *url;            /* the spec's */
    const char *doc;            /* doc_key(): the machine's name for it */
    slot_t *slot;               /* the machine's slot, once known: a slot
                                 * keeps its document while httpd runs */
    copy_t *cur;                /* or NULL */
    apr_uint32_t gen;           /* of the shared body parsed; 0: own fetch */
    int stale;                  /* this copy is not to be used again */
    apr_int64_t fetched_at;
    /* without shared memory, this process's own bookkeeping */
    apr_int64_t claimed_at, again_at, failed_at;
    char failure[DOC_WHY_MAX];
} local_t;

static apr_pool_t *child_pool;
static apr_hash_t *locals;
/* Moves with every child_init: a thread's memo of an earlier child (one
 * process, restarted) is not taken for this one's. */
static apr_uint32_t child_epoch;
/* The last documents each thread asked for: the same service token or
 * key set comes back request after request, and finding it by its key
 * (two formatted strings and a hash) cost more than the rest of the
 * lookup. A request may ask for several: an app's metadata, then its
 * service token or its keys. */
#define MEMO_SIZE 4
static _Thread_local struct {
    apr_uint32_t epoch;
    unsigned next;              /* the entry replaced next */
    struct {
        const oac_server_conf *sc;  /* asked for in this virtual host */
        local_t *l;
    } e[MEMO_SIZE];
} memo;
#if APR_HAS_THREADS
static apr_thread_mutex_t *child_mutex;
#endif

void oac_docs_pre_config(apr_pool_t *pconf)
{
    slots = NULL;
    nslots = 0;
    mutex = NULL;
    ap_mutex_register(pconf, DOCS_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

void oac_docs_post_config(apr_pool_t *pconf, server_rec *main_s)
{
    apr_shm_t *shm;
    server_rec *s;
    int n = 0, i;

    for (s = main_s; s; s = s->next) {
        const apr_array_header_t *apps = oac_server_config(s)->apps;
        for (i = 0; apps && i < apps->nelts; ++i) {
            const oac_app_t *app = APR_ARRAY_IDX(apps, i, const oac_app_t *);
            if (app->version == OAC_OAUTH2) {
                /* its service token; the metadata, the keys */
                n += app->server_metadata_url || app->oidc ? 3 : 1;
            }
        }
    }
    if (!n) {
        return;
    }
    n = n > DOC_SLOTS_MAX ? DOC_SLOTS_MAX : n;
    /* Anonymous shared memory starts zeroed, every slot free; a slot's
     * body pages are touched only as far as a document fills them. */
    if (apr_shm_create(&shm, (apr_size_t)n * sizeof(slot_t), NULL, pconf)
        != APR_SUCCESS
        || ap_global_mutex_create(&mutex, &mutex_file, DOCS_MUTEX, NULL,
                                  main_s, pconf, 0) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_s, OAC_LOGNO(00120)
                     "no shared memory for the providers' metadata and "
                     "keys: each child process fetches its own");
        mutex = NULL;
        return;
    }
    slots = apr_shm_baseaddr_get(shm);
    nslots = n;
}

void oac_docs_child_init(apr_pool_t *pchild, server_rec *s)
{
    /* A pool of its own, used only under child_mutex: other parts of the
     * module allocate from pchild under their own locks. */
    if (apr_pool_create(&child_pool, pchild) != APR_SUCCESS) {
        return;
    }
    locals = apr_hash_make(child_pool);
    ++child_epoch;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&child_mutex, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS) {
        child_mutex = NULL;
    }
#endif
    if (mutex && apr_global_mutex_child_init(&mutex, mutex_file, pchild)
                 != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OAC_LOGNO(00121)
                     "cannot reopen the '%s' mutex: this child process "
                     "fetches the providers' documents on its own",
                     DOCS_MUTEX);
        mutex = NULL;
    }
}

const oac_http_response_t *oac_provider_document(request_rec *r,
                                                 const oac_app_t *app,
                                                 const char *key,
                                                 const char *url,
                                                 const char **pwhy)
{
    oac_http_response_t *resp;
    apr_table_t *headers = apr_table_make(r->pool, 1);
    const char *why;

    apr_table_setn(headers, "Accept", "application/json");
    if (oac_http_get(&resp, &why, oac_hooked_client(r, app, OAC_CALL_OTHER),
                     r->pool, url, headers) != APR_SUCCESS) {
        *pwhy = apr_psprintf(r->pool, "%s: %s", key, why);
        return NULL;
    }
    if (resp->status != 200) {
        *pwhy = apr_psprintf(r->pool, "%s answered HTTP %d", key,
                             resp->status);
        return NULL;
    }
    return resp;
}

/* --- the shared slots (callers hold mutex) ------------------------------- */

static int shared_lock(void)
{
    return slots && mutex && apr_global_mutex_lock(mutex) == APR_SUCCESS;
}

static void shared_unlock(void)
{
    apr_global_mutex_unlock(mutex);
}

static slot_t *find_slot(const char *url)
{
    slot_t *free_slot = NULL;
    int i;

    if (strlen(url) >= DOC_URL_MAX) {
        return NULL;
    }
    for (i = 0; i < nslots; ++i) {
        if (!slots[i].url[0]) {
            if (!free_slot) {
                free_slot = &slots[i];
            }
        }
        else if (!strcmp(slots[i].url, url)) {
            return &slots[i];
        }
    }
    if (free_slot) {
        apr_cpystrn(free_slot->url, url, DOC_URL_MAX);
    }
    return free_slot;
}

/* What the machine knows of a document. */
typedef struct {
    int shared;                 /* there is a slot */
    slot_t *slot;
    apr_uint32_t gen, stale_gen;
    apr_int64_t fetched_at, claimed_at, again_at, failed_at;
    const char *why;
    const char *body;           /* copied when gen is not the caller's */
    apr_size_t len;
} view_t;

static void read_shared(view_t *v, apr_pool_t *p, const char *url,
                        apr_uint32_t have_gen)
{
    slot_t *s;

    memset(v, 0, sizeof(*v));
    if (!shared_lock()) {
        return;
    }
    if ((s = find_slot(url))) {
        v->shared = 1;
        v->slot = s;
        v->gen = s->gen;
        v->stale_gen = s->stale_gen;
        v->fetched_at = s->fetched_at;
        v->claimed_at = s->claimed_at;
        v->again_at = s->again_at;
        v->failed_at = s->failed_at;
        v->why = s->why[0] ? apr_pstrdup(p, s->why) : NULL;
        if (s->gen && s->gen != have_gen && s->len) {
            v->body = apr_pstrmemdup(p, s->body, s->len);
            v->len = s->len;
        }
    }
    shared_unlock();
}

/* 1 when this process is to fetch now, marking it for the others; 0
 * when it is not; -1 when another request fetches a document that this
 * one has no usable copy of and may_wait: *pclaimed is since when. */
static int claim(const char *url, local_t *l, const oac_doc_spec_t *spec,
                 int again, int have_copy, apr_int64_t now, int may_wait,
                 apr_int64_t *pclaimed)
{
    int mine = 0;
    slot_t *s = NULL;
    apr_int64_t *claimed_at, *again_at;

    if (shared_lock()) {
        s = find_slot(url);
        if (!s) {
            shared_unlock();
        }
    }
    if (s) {
        claimed_at = &s->claimed_at;
        again_at = &s->again_at;
    }
    else {
        OAC_LOCK(child_mutex);
        claimed_at = &l->claimed_at;
        again_at = &l->again_at;
    }
    if (again) {
        if (now - *again_at >= spec->again) {
            *again_at = now;
            mine = 1;
        }
    }
    else if (!have_copy && may_wait && *claimed_at
             && now - *claimed_at < CLAIM_SECONDS
             /* a document too big for the room: each process fetches
              * its own, the others' fetch would give it nothing */
             && !(s && s->gen && !s->len)) {
        /* Nothing to go on but the other's fetch: at a cold start, or
         * after a service token expired unused, every request of a burst
         * would otherwise ask the provider at once. */
        *pclaimed = *claimed_at;
        mine = -1;
    }
    else if (!have_copy || !*claimed_at
             || now - *claimed_at >= CLAIM_SECONDS) {
        /* Without any copy and done waiting, a request fetches even
         * while another does: it has nothing else to go on. */
        mine = 1;
    }
    if (mine > 0) {
        *claimed_at = now;
    }
    if (s) {
        shared_unlock();
    }
    else {
        OAC_UNLOCK(child_mutex);
    }
    return mine;
}

/* Since when the document is claimed; 0 when it is not. */
static apr_int64_t claimed_since(const char *url, local_t *l)
{
    apr_int64_t at = 0;
    slot_t *s = NULL;

    if (shared_lock()) {
        if ((s = find_slot(url))) {
            at = s->claimed_at;
        }
        shared_unlock();
    }
    if (!s) {
        OAC_LOCK(child_mutex);
        at = l->claimed_at;
        OAC_UNLOCK(child_mutex);
    }
    return at;
}

/* Waits for the fetch claimed at claimed to end (its result published or
 * its failure recorded): 1 when it did, 0 when it took longer than a
 * fetch may. A document is one GET; a fetch of spec's own (a service
 * token) may first wait for another machine's and make several calls,
 * and is waited for as long as its claim holds. */
static int wait_for_claim(request_rec *r, const oac_doc_spec_t *spec,
                          const char *url, local_t *l, apr_int64_t claimed)
{
    const oac_server_conf *sc = oac_server_config(r->server);
    apr_time_t lapse = apr_time_from_sec(claimed + CLAIM_SECONDS);
    apr_time_t deadline = spec->fetch ? lapse
        : apr_time_now() + (sc->http_timeout > 0 ? sc->http_timeout
                                                 : OAC_HTTP_DEFAULT_TIMEOUT)
          + apr_time_from_sec(1);
    apr_interval_time_t step = apr_time_from_msec(5);

    if (deadline > lapse) {
        deadline = lapse;
    }

    while (apr_time_now() < deadline) {
        apr_sleep(step);
        if (step < apr_time_from_msec(50)) {
            step *= 2;
        }
        if (claimed_since(url, l) != claimed) {
            return 1;
        }
    }
    return 0;
}

/* Publishes a fetched body; its generation, or 0 when there is no shared
 * memory. The generation moves only when the content does (a digest
 * tells), so that processes that fetch the same document each do not
 * make each other's copy look outdated. A body too big for the room is
 * not kept, but its generation still moves: no process then takes the
 * older body for the latest (a key set that grew past the room would
 * otherwise roll back to the keys before a rotation), and each fetches
 * its own. */
static apr_uint32_t publish(const char *url, const char *body,
                            apr_size_t len, apr_int64_t now)
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    apr_uint32_t gen = 0;
    slot_t *s;

    if (!EVP_Digest(body, len, digest, &dlen, EVP_sha256(), NULL)
        || !shared_lock()) {
        return 0;
    }
    if ((s = find_slot(url))) {
        if (!s->gen || memcmp(s->digest, digest, sizeof(digest))) {
            /* never 0, which means "nothing fetched yet" */
            /* atomic: oac_doc_get reads it without the lock */
            apr_atomic_set32(&s->gen, s->gen + 1 ? s->gen + 1 : 1);
            memcpy(s->digest, digest, sizeof(digest));
            if (len <= DOC_BODY_MAX) {
                memcpy(s->body, body, len);
                s->len = (apr_uint32_t)len;
            }
            else {
                s->len = 0;
            }
        }
        gen = s->gen;
        s->fetched_at = now;
        s->failed_at = 0;
        s->why[0] = '\0';
        /* the claim ends once this process has parsed it (end_claim),
         * or failed to (publish_failure) */
    }
    shared_unlock();
    return gen;
}

static void publish_failure(const char *url, const char *why,
                            apr_int64_t now)
{
    slot_t *s;

    if (!shared_lock()) {
        return;
    }
    if ((s = find_slot(url))) {
        s->failed_at = now;
        s->claimed_at = 0;
        apr_cpystrn(s->why, why, DOC_WHY_MAX);
    }
    shared_unlock();
}

/* --- this process's copies ----------------------------------------------- */

/* What a copy is kept under: its URL, and how it was fetched (a virtual
 * host with OAuthSSLVerify Off or another OAuthCAFile must not fill the
 * copy that the others trust). */
static const char *doc_key(request_rec *r, const oac_doc_spec_t *spec)
{
    const oac_server_conf *sc = oac_server_config(r->server);
    return apr_psprintf(r->pool, "%s %d %s", spec->url, sc->ssl_verify,
                        sc->ca_file ? sc->ca_file : "-");
}

static local_t *local_for(request_rec *r, const oac_doc_spec_t *spec)
{
    const oac_server_conf *sc = oac_server_config(r->server);
    const char *doc, *key;
    local_t *l;
    unsigned i;

    if (memo.epoch != child_epoch) {
        memset(&memo, 0, sizeof(memo));
        memo.epoch = child_epoch;
    }
    /* The same virtual host has the same TLS settings, the rest of the
     * key is compared */
    for (i = 0; i < MEMO_SIZE; ++i) {
        l = memo.e[i].l;
        if (l && memo.e[i].sc == sc && l->ctx == spec->ctx
            && !strcmp(l->url, spec->url)) {
            return l;
        }
    }
    doc = doc_key(r, spec);
    key = apr_psprintf(r->pool, "%pp %s", spec->ctx, doc);
    OAC_LOCK(child_mutex);
    l = apr_hash_get(locals, key, APR_HASH_KEY_STRING);
    if (!l) {
        l = apr_pcalloc(child_pool, sizeof(*l));
        l->ctx = spec->ctx;
        l->url = apr_pstrdup(child_pool, spec->url);
        l->doc = apr_pstrdup(child_pool, doc);
        apr_hash_set(locals, apr_pstrdup(child_pool, key),
                     APR_HASH_KEY_STRING, l);
    }
    OAC_UNLOCK(child_mutex);
    i = memo.next++ % MEMO_SIZE;
    memo.e[i].sc = sc;
    memo.e[i].l = l;
    return l;
}

/* The end of a request's hold on c: a replaced copy goes with its last
 * reader. */
static apr_status_t release_copy(void *data)
{
    copy_t *c = data;

    OAC_LOCK(child_mutex);
    if (--c->readers == 0 && c->replaced) {
        apr_pool_destroy(c->pool);
    }
    OAC_UNLOCK(child_mutex);
    return APR_SUCCESS;
}

/* Called holding child_mutex: c's document, readable until r ends. The
 * release is registered on r->pool, which only r's thread touches. */
static const void *hold_copy(request_rec *r, copy_t *c)
{
    ++c->readers;
    apr_pool_cleanup_register(r->pool, c, release_copy,
                              apr_pool_cleanup_null);
    return c->parsed;
}

/* The end of a successful fetch's claim: the requests waiting for it go
 * on, and find its result. */
static void end_claim(const char *url, local_t *l)
{
    slot_t *s;

    if (shared_lock()) {
        if ((s = find_slot(url))) {
            s->claimed_at = 0;
        }
        shared_unlock();
    }
    OAC_LOCK(child_mutex);
    l->claimed_at = 0;
    OAC_UNLOCK(child_mutex);
}

/* Parses body into a pool of its own, and makes it the process's copy
 * unless another thread got there first with the same generation; the
 * copy returned is held for r. */
static const void *install(request_rec *r, local_t *l,
                           const oac_doc_spec_t *spec, const char *body,
                           apr_size_t len, apr_uint32_t gen,
                           apr_int64_t fetched_at, const char **pwhy)
{
    apr_pool_t *pool;
    const void *parsed;
    copy_t *c, *old;

    /* Under the lock throughout: the child pool's allocator may have no
     * mutex of its own, and threads adopt a new generation together. */
    OAC_LOCK(child_mutex);
    if (gen && l->gen == gen && l->cur) {
        /* the same content: only its age changes */
        if (fetched_at > l->fetched_at) {
            l->fetched_at = fetched_at;
        }
        l->stale = 0;
        parsed = hold_copy(r, l->cur);
        OAC_UNLOCK(child_mutex);
        return parsed;
    }
    if (apr_pool_create(&pool, child_pool) != APR_SUCCESS) {
        *pwhy = "out of memory";
        OAC_UNLOCK(child_mutex);
        return NULL;
    }
    if (!(parsed = spec->parse(pool, body, len, spec->ctx, pwhy))) {
        *pwhy = apr_pstrdup(r->pool, *pwhy);
        apr_pool_destroy(pool);
        OAC_UNLOCK(child_mutex);
        return NULL;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->pool = pool;
    c->parsed = parsed;
    if ((old = l->cur)) {
        old->replaced = 1;
        if (!old->readers) {
            apr_pool_destroy(old->pool);
        }
    }
    l->cur = c;
    l->gen = gen;
    l->stale = 0;
    l->fetched_at = fetched_at;
    l->failed_at = 0;
    parsed = hold_copy(r, c);
    OAC_UNLOCK(child_mutex);
    return parsed;
}

/* How usable parsed, fetched at fetched_at, is now: by spec's own
 * judgement (a token's expiry), or by its age. */
static int copy_state(const oac_doc_spec_t *spec, const void *parsed,
                      apr_int64_t fetched_at, apr_int64_t now)
{
    return spec->state ? spec->state(parsed, now)
           : now - fetched_at < spec->keep ? OAC_DOC_FRESH : OAC_DOC_USABLE;
}

/* waited: the claim this request waited for, whose failure is its answer
 * however long ago the fetch began; 0 when it has waited for none, and
 * may wait for one. */
static const void *doc_get(request_rec *r, const oac_app_t *app,
                           const oac_doc_spec_t *spec, int again,
                           const char **pwhy, oac_doc_info_t *info,
                           apr_int64_t waited)
{
    apr_int64_t now = oac_now();
    const oac_http_response_t *resp;
    const void *parsed, *fresh;
    apr_int64_t fetched_at, failed_at;
    apr_uint32_t gen;
    const char *failure, *why = NULL, *body = NULL;
    apr_size_t len = 0;
    local_t *l;
    slot_t *slot;
    view_t v;
    int adopted = 0, stale, state, outdated, mine;
    apr_int64_t claimed = 0;
    const char *key;

    memset(info, 0, sizeof(*info));
    if (!locals) {
        *pwhy = "not available in this process";
        return NULL;
    }
    l = local_for(r, spec);
    key = l->doc;
    OAC_LOCK(child_mutex);
    parsed = l->cur ? hold_copy(r, l->cur) : NULL;
    gen = l->gen;
    fetched_at = l->fetched_at;
    failed_at = l->failed_at;
    stale = l->stale;
    slot = l->slot;
    failure = l->failure[0] ? apr_pstrdup(r->pool, l->failure) : NULL;
    OAC_UNLOCK(child_mutex);

    /* Most requests: this process's copy is the machine's latest, nobody
     * marked it stale, and it is fresh. Two words of the slot tell,
     * without the machine's lock; a slot that changes meanwhile is the
     * same as one that changed just after this request read it. */
    if (parsed && slot && gen && !again && !stale
        && apr_atomic_read32(&slot->gen) == gen
        && apr_atomic_read32(&slot->stale_gen) != gen
        && copy_state(spec, parsed, fetched_at, now) == OAC_DOC_FRESH) {
        info->age = now - fetched_at;
        return parsed;
    }

    /* What another process fetched since */
    read_shared(&v, r->pool, key, gen);
    if (v.slot && !slot) {
        OAC_LOCK(child_mutex);
        l->slot = v.slot;
        OAC_UNLOCK(child_mutex);
    }
    if (v.body) {
        if ((fresh = install(r, l, spec, v.body, v.len, v.gen, v.fetched_at,
                             &why))) {
            adopted = fresh != parsed;
            parsed = fresh;
            fetched_at = v.fetched_at;
        }
    }
    else if (v.shared && v.gen && v.gen == gen) {
        fetched_at = v.fetched_at;
        /* another process fetched the same content again: this copy is
         * as young as its, for the requests after this one too */
        OAC_LOCK(child_mutex);
        if (l->gen == gen && fetched_at > l->fetched_at) {
            l->fetched_at = fetched_at;
        }
        OAC_UNLOCK(child_mutex);
    }
    if (v.shared) {
        failed_at = v.failed_at;
        failure = v.why;
        stale = v.stale_gen && v.stale_gen == v.gen;
    }

    /* The machine has a newer copy than this process's, too big to
     * share: this process fetches its own, past the limit of again. */
    outdated = parsed && v.shared && v.gen && v.gen != gen && !v.body;
    state = parsed ? copy_state(spec, parsed, fetched_at, now)
                   : OAC_DOC_EXPIRED;
    if ((stale || outdated) && state == OAC_DOC_FRESH) {
        state = OAC_DOC_USABLE;
    }
    if (state == OAC_DOC_EXPIRED) {
        parsed = NULL;
    }
    if (parsed && (again ? adopted : state == OAC_DOC_FRESH)) {
        info->age = now - fetched_at;
        return parsed;
    }
    if (!again && failed_at
        && (now - failed_at < spec->retry
            || (waited && failed_at >= waited))) {
        *pwhy = apr_psprintf(r->pool, "%s (tried again every %" 
                             APR_INT64_T_FMT " s)",
                             failure && *failure ? failure
                                                 : "fetching it failed",
                             spec->retry);
        goto last_good;
    }
    mine = claim(key, l, spec, again && !outdated, parsed != NULL, now,
                 !waited, &claimed);
    if (mine < 0) {
        if (wait_for_claim(r, spec, key, l, claimed)) {
            /* its result, or its failure */
            return doc_get(r, app, spec, again, pwhy, info, claimed);
        }
        mine = claim(key, l, spec, again && !outdated, parsed != NULL,
                     oac_now(), 0, &claimed);
    }
    if (!mine) {
        *pwhy = again
            ? apr_psprintf(r->pool, "%s was fetched again less than %"
                           APR_INT64_T_FMT " s ago", spec->key, spec->again)
            : "another process is fetching it";
        goto last_good;
    }

    if (spec->fetch) {
        char *fetched;
        if (spec->fetch(&fetched, &len, &why, r, app, spec->ctx)
            == APR_SUCCESS) {
            body = fetched;
        }
    }
    else if ((resp = oac_provider_document(r, app, spec->key, spec->url,
                                           &why))) {
        body = resp->body;
        len = resp->body_len;
    }
    if (body && (fresh = install(r, l, spec, body, len,
                                 publish(key, body, len, now), now, &why))) {
        end_claim(key, l);
        info->age = 0;
        return fresh;
    }
    info->failed_now = 1;
    /* when it failed, not when it began: a fetch that took longer than
     * spec->retry to fail would otherwise not hold the others back */
    now = oac_now();
    publish_failure(key, why, now);
    OAC_LOCK(child_mutex);
    l->failed_at = now;
    l->claimed_at = 0;
    apr_cpystrn(l->failure, why, sizeof(l->failure));
    OAC_UNLOCK(child_mutex);
    *pwhy = why;

last_good:
    if (parsed) {
        info->stale = 1;
        info->age = now - fetched_at;
    }
    return parsed;
}

const void *oac_doc_get(request_rec *r, const oac_app_t *app,
                        const oac_doc_spec_t *spec, int again,
                        const char **pwhy, oac_doc_info_t *info)
{
    return doc_get(r, app, spec, again, pwhy, info, 0);
}

int oac_doc_stale(request_rec *r, const oac_doc_spec_t *spec)
{
    apr_int64_t now = oac_now();
    int marked = 0;
    local_t *l;
    slot_t *s = NULL;

    if (!locals) {
        return 0;
    }
    l = local_for(r, spec);
    const char *key = l->doc;

    /* At most once per spec->again on the machine: whoever can make the
     * API refuse must not make the provider issue a token per request. */
    if (shared_lock()) {
        if ((s = find_slot(key))) {
            if (s->gen && s->stale_gen != s->gen
                && now - s->again_at >= spec->again) {
                apr_atomic_set32(&s->stale_gen, s->gen);
                s->again_at = now;
                marked = 1;
            }
        }
        shared_unlock();
    }
    OAC_LOCK(child_mutex);
    if (!s && !l->stale && now - l->again_at >= spec->again) {
        l->stale = 1;
        l->again_at = now;
        marked = 1;
    }
    OAC_UNLOCK(child_mutex);
    return marked;
}
