/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Thread safety and connection reuse
 * ----------------------------------
 * An easy handle may only be used by one thread at a time, and libcurl
 * documents sharing the connection cache (CURL_LOCK_DATA_CONNECT) between
 * concurrently running threads as unsupported. So connections are reused
 * through a mutex-protected stack of idle easy handles: a request pops a
 * handle (or makes one), and pushes it back afterwards. curl_easy_reset()
 * between requests forgets every option but keeps the handle's own
 * connection cache, so the next request to the token endpoint finds the
 * kept-alive connection. The stack is LIFO so sequential requests land on
 * the same warm handle, and bounded so a burst of concurrency does not
 * leave hundreds of idle sockets behind.
 *
 * What libcurl does support sharing across threads, the DNS cache and the
 * TLS session cache, goes into a CURLSH guarded by one APR mutex per data
 * kind, so a fresh handle still skips the lookup and resumes TLS.
 *
 * Fork: handles and their sockets are process state. The client records
 * the pid that created it; when it finds itself in another process it
 * forgets (without closing, which would send TLS close_notify on a
 * connection the parent still owns) any idle handle it inherited.
 */

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#ifndef __STDC_NO_THREADS__
#include <threads.h>
#else
#include <pthread.h>
#define once_flag pthread_once_t
#define ONCE_FLAG_INIT PTHREAD_ONCE_INIT
#define call_once(flag, fn) pthread_once((flag), (fn))
#endif
#include <unistd.h>
#include <sys/types.h>

#include <curl/curl.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#if APR_HAS_THREADS
#include <apr_thread_mutex.h>
#endif

#include "oac_http.h"
#include "oac_http_curl.h"
#include "oac_util.h"

/* Enough for every thread of a default event MPM child. */
#define OAC_CURL_IDLE_MAX          64
/* Response headers are not capped by libcurl as a whole; a hostile peer
 * could otherwise grow the caller's pool without bound. */
#define OAC_CURL_MAX_HEADER_BYTES  (256 * 1024)
/* Obsolete line folding (RFC 9112 5.2) in one response: a provider that
 * folds at all folds a line or two. libcurl keeps every header for its
 * header API and unfolds each continuation by growing the header before
 * it, copying it whole where realloc cannot grow in place. */
#define OAC_CURL_MAX_FOLDED_LINES  64

typedef struct {
    oac_http_client_t iface;
    long timeout_ms;
    long connect_timeout_ms;
    int verify_tls;
    const char *ca_file;
    const char *user_agent;
    apr_size_t max_response;
    CURLSH *share;
#if APR_HAS_THREADS
    apr_thread_mutex_t *share_locks[CURL_LOCK_DATA_LAST];
    apr_thread_mutex_t *idle_lock;
#endif
    CURL **idle;
    int nidle;
    pid_t pid;
} curl_client_t;

typedef struct {
    apr_pool_t *p;
    apr_size_t max;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    int too_big;
    int out_of_memory;
    apr_table_t *headers;
    apr_size_t header_bytes;
    int headers_too_big;
    int folded_lines;           /* too many: the answer is refused */
    /* The value that obsolete line folding extends (the last header's),
     * grown by doubling: copied whole at each folded line, a value of
     * 256 KiB in one-byte lines would take gigabytes. */
    struct {
        int idx;                /* its entry in headers, or -1 */
        char *buf;
        apr_size_t len, cap;
    } fold;
} transfer_t;

/* The parts of a URL: what may be shown, and what must never be. */
typedef struct {
    const char *scheme;
    const char *host;
    const char *target;            /* scheme://host:port/path */
    const char *secrets[4];        /* query, fragment, user, password */
} url_parts_t;

static once_flag global_once = ONCE_FLAG_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

apr_status_t oac_http_curl_global_init(const char **perr)
{
    call_once(&global_once, global_init_once);
    if (CURLE_OK != global_rc) {
        if (perr) {
            *perr = "could not initialise libcurl (curl_global_init failed)";
        }
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void lock_idle(curl_client_t *cc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(cc->idle_lock);
#else
    (void)cc;
#endif
}

static void unlock_idle(curl_client_t *cc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(cc->idle_lock);
#else
    (void)cc;
#endif
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *userptr)
{
#if APR_HAS_THREADS
    curl_client_t *cc = userptr;

    if ((unsigned)data < CURL_LOCK_DATA_LAST && cc->share_locks[data]) {
        apr_thread_mutex_lock(cc->share_locks[data]);
    }
#else
    (void)userptr;
    (void)data;
#endif
    (void)h;
    (void)access;
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr)
{
#if APR_HAS_THREADS
    curl_client_t *cc = userptr;

    if ((unsigned)data < CURL_LOCK_DATA_LAST && cc->share_locks[data]) {
        apr_thread_mutex_unlock(cc->share_locks[data]);
    }
#else
    (void)userptr;
    (void)data;
#endif
    (void)h;
}

static apr_status_t client_cleanup(void *baton)
{
    curl_client_t *cc = baton;
    int i;

    /* Runs before the mutexes' own cleanups (registered earlier, run
     * later), so the share can still lock while it is torn down. */
    if (cc->pid == getpid()) {
        for (i = 0; i < cc->nidle; ++i) {
            curl_easy_cleanup(cc->idle[i]);
        }
    }
    cc->nidle = 0;
    if (cc->share) {
        /* Fails with CURLSHE_IN_USE when handles are still attached
         * (inherited across fork, or a request still running): leaking
         * the share then is safer than freeing what a handle points to. */
        curl_share_cleanup(cc->share);
        cc->share = NULL;
    }
    return APR_SUCCESS;
}

static long interval_to_ms(apr_interval_time_t t)
{
    apr_int64_t ms = apr_time_as_msec(t);

    if (ms < 1) {
        return 1;
    }
    if (ms > 24 * 3600 * 1000) {
        return 24 * 3600 * 1000;
    }
    return (long)ms;
}

/* Handles ---------------------------------------------------------------- */

static apr_status_t acquire_handle(CURL **ph, const char **perr,
                                   curl_client_t *cc)
{
    CURL *h = NULL;
    pid_t pid = getpid();

    lock_idle(cc);
    if (cc->pid != pid) {
        /* Inherited across fork: the sockets are shared with the parent. */
        cc->nidle = 0;
        cc->pid = pid;
    }
    if (cc->nidle > 0) {
        h = cc->idle[--cc->nidle];
    }
    unlock_idle(cc);

    if (!h) {
        if (!(h = curl_easy_init())) {
            *perr = "cannot create a libcurl handle";
            return APR_ENOMEM;
        }
        /* Survives curl_easy_reset(), so it is attached once per handle. */
        if (CURLE_OK != curl_easy_setopt(h, CURLOPT_SHARE, cc->share)) {
            curl_easy_cleanup(h);
            *perr = "cannot attach a libcurl handle to the share";
            return APR_EGENERAL;
        }
    }
    *ph = h;
    return APR_SUCCESS;
}

static void release_handle(curl_client_t *cc, CURL *h)
{
    /* Drops every pointer into this request (body, header list, error
     * buffer) but keeps the connection cache. */
    curl_easy_reset(h);
    lock_idle(cc);
    if (cc->nidle < OAC_CURL_IDLE_MAX) {
        cc->idle[cc->nidle++] = h;
        h = NULL;
    }
    unlock_idle(cc);
    if (h) {
        curl_easy_cleanup(h);
    }
}

/* URL -------------------------------------------------------------------- */

static const char *url_part(apr_pool_t *p, CURLU *u, CURLUPart what,
                            unsigned int flags)
{
    char *s = NULL;
    const char *r = NULL;

    if (CURLUE_OK == curl_url_get(u, what, &s, flags) && s) {
        r = apr_pstrdup(p, s);
    }
    curl_free(s);
    return r;
}

static apr_status_t parse_url(url_parts_t *parts, const char **perr,
                              apr_pool_t *p, const char *url)
{
    CURLU *u;
    CURLUcode uc;
    const char *port, *path;

    if (!(u = curl_url())) {
        *perr = "out of memory parsing a URL";
        return APR_ENOMEM;
    }
    /* Unknown schemes parse too, so the error can name the scheme instead
     * of calling the URL malformed. */
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (CURLUE_OK != uc) {
        curl_url_cleanup(u);
#if LIBCURL_VERSION_NUM >= 0x075000
        *perr = apr_psprintf(p, "malformed URL (%s)", curl_url_strerror(uc));
#else
        *perr = apr_psprintf(p, "malformed URL (libcurl URL error %d)",
                             (int)uc);
#endif
        return APR_EINVAL;
    }
    memset(parts, 0, sizeof(*parts));
    parts->scheme = url_part(p, u, CURLUPART_SCHEME, 0);
    parts->host = url_part(p, u, CURLUPART_HOST, 0);
    port = url_part(p, u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    path = url_part(p, u, CURLUPART_PATH, 0);
    parts->secrets[0] = url_part(p, u, CURLUPART_QUERY, 0);
    parts->secrets[1] = url_part(p, u, CURLUPART_FRAGMENT, 0);
    parts->secrets[2] = url_part(p, u, CURLUPART_USER, 0);
    parts->secrets[3] = url_part(p, u, CURLUPART_PASSWORD, 0);
    curl_url_cleanup(u);

    if (!parts->scheme) {
        *perr = "malformed URL (no scheme)";
        return APR_EINVAL;
    }
    /* A missing host is left for the caller to report, after the scheme:
     * "file:///etc/passwd" is better refused for its scheme. */
    parts->target = apr_pstrcat(p, parts->scheme, "://",
                                parts->host ? parts->host : "",
                                port ? ":" : "", port ? port : "",
                                path ? path : "/", NULL);
    return APR_SUCCESS;
}

/* libcurl's error text may quote the URL; it is only passed on when it
 * contains none of the parts that must stay private. */
static const char *safe_detail(const url_parts_t *parts, const char *errbuf,
                               CURLcode cr)
{
    int i;

    if (!errbuf || !*errbuf) {
        return curl_easy_strerror(cr);
    }
    for (i = 0; i < 4; ++i) {
        if (parts->secrets[i] && *parts->secrets[i]
            && strstr(errbuf, parts->secrets[i])) {
            return curl_easy_strerror(cr);
        }
    }
    return errbuf;
}

/* Request headers -------------------------------------------------------- */

static int is_token(const char *s)
{
    static const char *const extra = "!#$%&'*+-.^_`|~";

    if (!s || !*s) {
        return 0;
    }
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z') || strchr(extra, c))) {
            return 0;
        }
    }
    return 1;
}

typedef struct {
    apr_pool_t *p;
    struct curl_slist *list;
    const char *skip;              /* a header we set ourselves */
    const char *err;
    apr_status_t rv;
} header_ctx_t;

static int add_header_line(header_ctx_t *ctx, const char *line)
{
    struct curl_slist *l = curl_slist_append(ctx->list, line);

    if (!l) {
        ctx->err = "out of memory building request headers";
        ctx->rv = APR_ENOMEM;
        return 0;
    }
    ctx->list = l;
    return 1;
}

static int add_header(void *baton, const char *name, const char *value)
{
    header_ctx_t *ctx = baton;

    if (!is_token(name)) {
        /* The name itself may be what is broken: do not echo it. */
        ctx->err = "invalid request header name";
        ctx->rv = APR_EINVAL;
        return 0;
    }
    if (!value) {
        value = "";
    }
    if (!oac_util_is_field_value(value)) {
        ctx->err = apr_psprintf(ctx->p, "request header %s has a value with "
                                "control characters", name);
        ctx->rv = APR_EINVAL;
        return 0;
    }
    if (ctx->skip && !strcasecmp(name, ctx->skip)) {
        return 1;
    }
    /* "Name:" would tell libcurl to remove the header; "Name;" sends it
     * empty. */
    return add_header_line(ctx, *value ? apr_pstrcat(ctx->p, name, ": ",
                                                     value, NULL)
                                       : apr_pstrcat(ctx->p, name, ";", NULL));
}

static apr_status_t build_headers(struct curl_slist **plist,
                                  const char **perr, apr_pool_t *p,
                                  const oac_http_request_t *req)
{
    header_ctx_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.rv = APR_SUCCESS;

    if (req->body && req->content_type) {
        if (!oac_util_is_field_value(req->content_type)) {
            *perr = "request content type has control characters";
            return APR_EINVAL;
        }
        ctx.skip = "Content-Type";
        add_header_line(&ctx, apr_pstrcat(p, "Content-Type: ",
                                          req->content_type, NULL));
    }
    else if (req->body && !(req->headers
                             && apr_table_get(req->headers, "Content-Type"))) {
        /* libcurl would claim application/x-www-form-urlencoded. */
        add_header_line(&ctx, "Content-Type:");
    }
    if (APR_SUCCESS == ctx.rv && req->body
        && !(req->headers && apr_table_get(req->headers, "Expect"))) {
        /* "Expect: 100-continue" costs a round trip (or a 1 s wait on
         * servers that ignore it) for no gain on small bodies. */
        add_header_line(&ctx, "Expect:");
    }
    if (APR_SUCCESS == ctx.rv && req->headers) {
        apr_table_do(add_header, &ctx, req->headers, NULL);
    }
    if (APR_SUCCESS != ctx.rv) {
        curl_slist_free_all(ctx.list);
        *perr = ctx.err;
        return ctx.rv;
    }
    *plist = ctx.list;
    return APR_SUCCESS;
}

/* Response --------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    transfer_t *t = baton;
    size_t n = size * nmemb;

    if (n > t->max - t->len) {
        t->too_big = 1;
        return 0;
    }
    if (n > t->cap - t->len) {
        size_t need = t->len + n;
        size_t cap = t->cap ? t->cap : 4096;
        char *buf;

        while (cap < need) {
            cap = (cap > t->max / 2) ? t->max : cap * 2;
        }
        if (cap > t->max) {
            cap = t->max;
        }
        if (!(buf = realloc(t->buf, cap))) {
            t->out_of_memory = 1;
            return 0;
        }
        t->buf = buf;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, n);
    t->len += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    transfer_t *t = baton;
    size_t n = size * nmemb, len = n;
    const char *colon, *v, *vend;

    t->header_bytes += n;
    if (t->header_bytes > OAC_CURL_MAX_HEADER_BYTES) {
        t->headers_too_big = 1;
        return 0;
    }
    while (len && (data[len - 1] == '\r' || data[len - 1] == '\n')) {
        --len;
    }
    if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
        /* A new response (after 1xx, or a proxy's CONNECT reply): only
         * the last one's headers are kept. */
        apr_table_clear(t->headers);
        t->fold.idx = -1;
        return n;
    }
    if (!len) {
        return n;
    }
    if (data[0] == ' ' || data[0] == '\t') {
        /* Obsolete line folding continues the previous header's value,
         * the fold read as one space (RFC 9112 5.2). */
        const apr_array_header_t *arr = apr_table_elts(t->headers);

        if (++t->folded_lines > OAC_CURL_MAX_FOLDED_LINES) {
            return 0;
        }
        if (arr->nelts > 0) {
            apr_table_entry_t *e = &((apr_table_entry_t *)arr->elts)[arr->nelts - 1];
            apr_size_t add;

            v = data;
            vend = data + len;
            while (v < vend && (*v == ' ' || *v == '\t')) {
                ++v;
            }
            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
                --vend;
            }
            add = (apr_size_t)(vend - v);
            if (t->fold.idx != arr->nelts - 1) {
                t->fold.idx = arr->nelts - 1;
                t->fold.len = strlen(e->val);
                t->fold.cap = 0;
                t->fold.buf = NULL;
            }
            if (t->fold.len + 1 + add + 1 > t->fold.cap) {
                apr_size_t cap = t->fold.cap ? t->fold.cap : 256;
                char *buf;

                while (cap < t->fold.len + 1 + add + 1) {
                    cap *= 2;
                }
                buf = apr_palloc(t->p, cap);
                memcpy(buf, e->val, t->fold.len);
                t->fold.buf = buf;
                t->fold.cap = cap;
            }
            t->fold.buf[t->fold.len++] = ' ';
            memcpy(t->fold.buf + t->fold.len, v, add);
            t->fold.len += add;
            t->fold.buf[t->fold.len] = '\0';
            e->val = t->fold.buf;
        }
        return n;
    }
    if (!(colon = memchr(data, ':', len)) || colon == data) {
        return n;
    }
    v = colon + 1;
    vend = data + len;
    while (v < vend && (*v == ' ' || *v == '\t')) {
        ++v;
    }
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
        --vend;
    }
    apr_table_addn(t->headers, apr_pstrmemdup(t->p, data, colon - data),
                   apr_pstrmemdup(t->p, v, vend - v));
    return n;
}

/* Errors ----------------------------------------------------------------- */

static int is_tls_error(CURLcode cr)
{
    switch (cr) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return 1;
    default:
        return 0;
    }
}

static apr_status_t transfer_error(const char **perr, apr_pool_t *p,
                                   curl_client_t *cc, CURL *h,
                                   const oac_http_request_t *req,
                                   const url_parts_t *parts,
                                   const transfer_t *t, CURLcode cr,
                                   const char *errbuf)
{
    const char *u = parts->target;
    const char *detail = safe_detail(parts, errbuf, cr);

    if (t->too_big || CURLE_FILESIZE_EXCEEDED == cr) {
        *perr = apr_psprintf(p, "response from %s exceeds %" APR_SIZE_T_FMT
                             " bytes", u, cc->max_response);
        return APR_EGENERAL;
    }
    if (t->headers_too_big) {
        *perr = apr_psprintf(p, "response headers from %s exceed %d bytes",
                             u, OAC_CURL_MAX_HEADER_BYTES);
        return APR_EGENERAL;
    }
    if (t->folded_lines > OAC_CURL_MAX_FOLDED_LINES) {
        *perr = apr_psprintf(p, "response headers from %s fold more than %d "
                             "lines (obsolete line folding)", u,
                             OAC_CURL_MAX_FOLDED_LINES);
        return APR_EGENERAL;
    }
    if (t->out_of_memory) {
        *perr = apr_psprintf(p, "out of memory reading the response from %s",
                             u);
        return APR_ENOMEM;
    }
    if (is_tls_error(cr)) {
        *perr = apr_psprintf(p, "TLS failure talking to %s: %s", u, detail);
        return APR_EGENERAL;
    }

    switch (cr) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected = 0;
        CURLINFO phase = strcmp(parts->scheme, "https")
                         ? CURLINFO_CONNECT_TIME_T : CURLINFO_APPCONNECT_TIME_T;

        /* The connect limit is never above the total one, so a transfer
         * that never got connected hit the connect limit. */
        curl_easy_getinfo(h, phase, &connected);
        if (!connected) {
            *perr = apr_psprintf(p, "connecting to %s timed out after %ld ms",
                                 u, cc->connect_timeout_ms);
        }
        else {
            *perr = apr_psprintf(p, "%s %s timed out after %ld ms",
                                 req->method, u, cc->timeout_ms);
        }
        return APR_TIMEUP;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
        *perr = apr_psprintf(p, "could not resolve host %s for %s: %s",
                             parts->host, u, detail);
        return APR_EGENERAL;
    case CURLE_COULDNT_RESOLVE_PROXY:
        *perr = apr_psprintf(p, "could not resolve the proxy for %s: %s",
                             u, detail);
        return APR_EGENERAL;
    case CURLE_COULDNT_CONNECT: {
        long os_errno = 0;

        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        if (ECONNREFUSED == os_errno) {
            *perr = apr_psprintf(p, "could not connect to %s: connection "
                                 "refused", u);
            return APR_ECONNREFUSED;
        }
        *perr = apr_psprintf(p, "could not connect to %s: %s", u, detail);
        return APR_EGENERAL;
    }
    case CURLE_URL_MALFORMAT:
        *perr = apr_psprintf(p, "malformed URL %s: %s", u, detail);
        return APR_EINVAL;
    case CURLE_GOT_NOTHING:
        *perr = apr_psprintf(p, "empty reply from %s", u);
        return APR_EGENERAL;
    case CURLE_OUT_OF_MEMORY:
        *perr = apr_psprintf(p, "out of memory talking to %s", u);
        return APR_ENOMEM;
    default:
        *perr = apr_psprintf(p, "%s %s failed: %s", req->method, u, detail);
        return APR_EGENERAL;
    }
}

/* Perform ---------------------------------------------------------------- */

#define SETOPT(h, opt, val)                                           \
    do {                                                              \
        if (CURLE_OK != (cr = curl_easy_setopt((h), (opt), (val)))) { \
            goto setopt_failed;                                       \
        }                                                             \
    } while (0)

/* Every option of one transfer; CURLE_OK or the first option that failed
 * (SETOPT leaves through setopt_failed). */
static CURLcode set_options(CURL *h, const curl_client_t *cc,
                            const oac_http_request_t *req, transfer_t *t,
                            struct curl_slist *headers, char *errbuf)
{
    CURLcode cr = CURLE_OK;

    SETOPT(h, CURLOPT_URL, req->url);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS,
           (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(h, CURLOPT_TIMEOUT_MS, cc->timeout_ms);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, cc->connect_timeout_ms);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, cc->verify_tls ? 1L : 0L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, cc->verify_tls ? 2L : 0L);
    if (cc->ca_file) {
        SETOPT(h, CURLOPT_CAINFO, cc->ca_file);
    }
    SETOPT(h, CURLOPT_USERAGENT, cc->user_agent);
    SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cc->max_response);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, t);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, t);
    if (headers) {
        SETOPT(h, CURLOPT_HTTPHEADER, headers);
    }

    if (!strcmp(req->method, "HEAD")) {
        SETOPT(h, CURLOPT_NOBODY, 1L);
    }
    else if (req->body) {
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(h, CURLOPT_POSTFIELDS, req->body);
        if (strcmp(req->method, "POST")) {
            SETOPT(h, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    else if (!strcmp(req->method, "POST")) {
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        SETOPT(h, CURLOPT_POSTFIELDS, "");
    }
    else {
        SETOPT(h, CURLOPT_HTTPGET, 1L);
        if (strcmp(req->method, "GET")) {
            SETOPT(h, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    return CURLE_OK;

setopt_failed:
    return cr;
}

static apr_status_t curl_perform(oac_http_response_t **presp,
                                 const char **perr, void *baton,
                                 apr_pool_t *p, const oac_http_request_t *req)
{
    curl_client_t *cc = baton;
    oac_http_response_t *resp;
    url_parts_t parts;
    transfer_t t;
    struct curl_slist *headers = NULL;
    CURL *h = NULL;
    CURLcode cr = CURLE_OK;
    char errbuf[CURL_ERROR_SIZE];
    long status = 0;
    const char *err = NULL;
    apr_status_t rv;

    memset(&t, 0, sizeof(t));
    errbuf[0] = '\0';

    if (APR_SUCCESS != (rv = parse_url(&parts, &err, p, req->url))) {
        goto leave;
    }
    if (strcmp(parts.scheme, "http") && strcmp(parts.scheme, "https")) {
        err = apr_psprintf(p, "unsupported URL scheme \"%s\" in %s: only "
                           "http and https are allowed", parts.scheme,
                           parts.target);
        rv = APR_EINVAL;
        goto leave;
    }
    if (!parts.host || !*parts.host) {
        err = apr_psprintf(p, "malformed URL %s (no host)", parts.target);
        rv = APR_EINVAL;
        goto leave;
    }
    if (!is_token(req->method)) {
        err = apr_psprintf(p, "invalid HTTP method for %s", parts.target);
        rv = APR_EINVAL;
        goto leave;
    }
    if (req->body && !strcmp(req->method, "HEAD")) {
        err = apr_psprintf(p, "HEAD request to %s with a body", parts.target);
        rv = APR_EINVAL;
        goto leave;
    }
    if (APR_SUCCESS != (rv = build_headers(&headers, &err, p, req))) {
        goto leave;
    }
    if (APR_SUCCESS != (rv = acquire_handle(&h, &err, cc))) {
        goto leave;
    }

    t.p = p;
    t.max = cc->max_response;
    t.headers = apr_table_make(p, 16);
    t.fold.idx = -1;

    if (CURLE_OK != (cr = set_options(h, cc, req, &t, headers, errbuf))) {
        err = apr_psprintf(p, "cannot configure the request to %s: %s",
                           parts.target, curl_easy_strerror(cr));
        rv = APR_EGENERAL;
        goto leave;
    }

    cr = curl_easy_perform(h);
    if (CURLE_OK != cr) {
        rv = transfer_error(&err, p, cc, h, req, &parts, &t, cr, errbuf);
        goto leave;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);

    resp = apr_pcalloc(p, sizeof(*resp));
    resp->status = (int)status;
    resp->headers = t.headers;
    resp->content_type = apr_table_get(t.headers, "Content-Type");
    resp->body = apr_palloc(p, t.len + 1);
    if (t.len) {
        memcpy(resp->body, t.buf, t.len);
    }
    resp->body[t.len] = '\0';
    resp->body_len = t.len;
    *presp = resp;

leave:
    if (h) {
        release_handle(cc, h);
    }
    curl_slist_free_all(headers);
    free(t.buf);
    if (APR_SUCCESS != rv && perr) {
        *perr = err;
    }
    return rv;
}

/* The handle that shares DNS answers and TLS sessions between this
 * client's transfers, under the client's locks. */
static apr_status_t share_init(const char **perr, apr_pool_t *p,
                               curl_client_t *cc)
{
    CURLSHcode sc;

    if (!(cc->share = curl_share_init())) {
        *perr = "cannot create a libcurl share handle";
        return APR_ENOMEM;
    }
    /* Registered after the mutexes so it runs before their cleanups. */
    apr_pool_cleanup_register(p, cc, client_cleanup, apr_pool_cleanup_null);
    sc = curl_share_setopt(cc->share, CURLSHOPT_LOCKFUNC, share_lock);
    if (CURLSHE_OK == sc) {
        sc = curl_share_setopt(cc->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    }
    if (CURLSHE_OK == sc) {
        sc = curl_share_setopt(cc->share, CURLSHOPT_USERDATA, cc);
    }
    if (CURLSHE_OK == sc) {
        sc = curl_share_setopt(cc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    if (CURLSHE_OK == sc) {
        sc = curl_share_setopt(cc->share, CURLSHOPT_SHARE,
                               CURL_LOCK_DATA_SSL_SESSION);
    }
    if (CURLSHE_OK != sc) {
        *perr = apr_psprintf(p, "cannot set up the libcurl share handle: %s",
                             curl_share_strerror(sc));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t oac_http_curl_create(oac_http_client_t **pclient,
                                  const char **perr, apr_pool_t *p,
                                  const oac_http_options_t *opts)
{
    oac_http_options_t defaults;
    curl_client_t *cc;
    const char *err = NULL;
    apr_status_t rv;

    if (!opts) {
        oac_http_options_init(&defaults);
        opts = &defaults;
    }
    if (APR_SUCCESS != (rv = oac_http_curl_global_init(&err))) {
        goto leave;
    }
    if (opts->timeout < 0 || opts->connect_timeout < 0) {
        err = "HTTP timeouts must not be negative";
        rv = APR_EINVAL;
        goto leave;
    }

    cc = apr_pcalloc(p, sizeof(*cc));
    cc->timeout_ms = interval_to_ms(opts->timeout ? opts->timeout
                                                  : OAC_HTTP_DEFAULT_TIMEOUT);
    if (opts->connect_timeout) {
        cc->connect_timeout_ms = interval_to_ms(opts->connect_timeout);
    }
    else {
        cc->connect_timeout_ms =
            interval_to_ms(OAC_HTTP_DEFAULT_CONNECT_TIMEOUT);
        if (cc->connect_timeout_ms > cc->timeout_ms) {
            cc->connect_timeout_ms = cc->timeout_ms;
        }
    }
    cc->verify_tls = opts->verify_tls ? 1 : 0;
    cc->max_response = opts->max_response ? opts->max_response
                                          : OAC_HTTP_DEFAULT_MAX_RESPONSE;
    cc->user_agent = apr_pstrdup(p, opts->user_agent
                                    ? opts->user_agent
                                    : OAC_HTTP_DEFAULT_USER_AGENT);
    if (opts->ca_file && *opts->ca_file) {
        apr_file_t *f;
        char buf[120];

        /* Checked here so a typo is reported at startup, not as a TLS
         * failure on the first login. */
        rv = apr_file_open(&f, opts->ca_file, APR_FOPEN_READ, 0, p);
        if (APR_SUCCESS != rv) {
            err = apr_psprintf(p, "cannot read CA file %s: %s", opts->ca_file,
                               apr_strerror(rv, buf, sizeof(buf)));
            goto leave;
        }
        apr_file_close(f);
        cc->ca_file = apr_pstrdup(p, opts->ca_file);
    }
    cc->pid = getpid();
    cc->idle = apr_pcalloc(p, OAC_CURL_IDLE_MAX * sizeof(*cc->idle));

#if APR_HAS_THREADS
    {
        int i;

        rv = apr_thread_mutex_create(&cc->idle_lock, APR_THREAD_MUTEX_DEFAULT,
                                     p);
        for (i = 0; APR_SUCCESS == rv && i < CURL_LOCK_DATA_LAST; ++i) {
            rv = apr_thread_mutex_create(&cc->share_locks[i],
                                         APR_THREAD_MUTEX_DEFAULT, p);
        }
        if (APR_SUCCESS != rv) {
            err = "cannot create mutexes for the HTTP client";
            goto leave;
        }
    }
#endif

    if (APR_SUCCESS != (rv = share_init(&err, p, cc))) {
        goto leave;
    }

    cc->iface.perform = curl_perform;
    cc->iface.baton = cc;

leave:
    if (APR_SUCCESS != rv) {
        if (perr) {
            *perr = err;
        }
        return rv;
    }
    *pclient = &cc->iface;
    return APR_SUCCESS;
}
