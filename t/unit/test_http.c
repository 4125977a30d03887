/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests of oac_http (the interface) and oac_http_curl (libcurl),
 * against an in-process HTTP/1.1 server on 127.0.0.1 that answers
 * scripted responses per path, speaks keep-alive, optionally TLS, and
 * records what it received and how many connections it accepted. */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oac_http.h"
#include "oac_http_curl.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* ------------------------------------------------------------------------
 * Test server
 */

#define MAX_ROUTES   16
#define MAX_RECORDS  64
#define MAX_CONNS    64

typedef struct {
    const char *path;              /* matched against the target up to '?' */
    int status;
    const char *extra_headers;     /* raw "Name: value\r\n" lines, or NULL */
    const char *body;              /* NULL = empty */
    size_t body_len;               /* 0 = strlen(body) */
    int delay_ms;                  /* stall before answering */
    int chunked;                   /* no Content-Length, chunked encoding */
} route_t;

typedef struct {
    char method[16];
    char target[1024];
    char *headers;                 /* raw header block, CRLF separated */
    char *body;
    size_t body_len;
    int conn_id;
} record_t;

typedef struct server_t server_t;

typedef struct {
    server_t *s;
    int fd;
    int id;
    SSL *ssl;
} conn_t;

struct server_t {
    int lfd;
    int port;
    SSL_CTX *ssl_ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    route_t routes[MAX_ROUTES];
    int nroutes;
    record_t recs[MAX_RECORDS];
    int nrecs;
    int accepted;
    pthread_t conn_threads[MAX_CONNS];
    int nconn_threads;
    atomic_int stop;
};

static int stopping(server_t *s)
{
    return atomic_load(&s->stop);
}

/* Waits for input, waking up regularly to notice the server stopping. */
static ssize_t conn_read(conn_t *c, char *buf, size_t n)
{
    for (;;) {
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        int r;

        if (stopping(c->s)) {
            return -1;
        }
        if (!(c->ssl && SSL_pending(c->ssl))) {
            r = poll(&pfd, 1, 50);
            if (r == 0 || (r < 0 && errno == EINTR)) {
                continue;
            }
            if (r < 0) {
                return -1;
            }
        }
        if (c->ssl) {
            r = SSL_read(c->ssl, buf, (int)n);
            if (r > 0) {
                return r;
            }
            if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
                continue;
            }
            return 0;
        }
        else {
            ssize_t got = recv(c->fd, buf, n, 0);

            if (got < 0 && errno == EINTR) {
                continue;
            }
            return got;
        }
    }
}

static int conn_write(conn_t *c, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w;

        if (c->ssl) {
            w = SSL_write(c->ssl, buf, (int)n);
        }
        else {
            w = send(c->fd, buf, n, MSG_NOSIGNAL);
        }
        if (w <= 0) {
            if (!c->ssl && w < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int conn_printf(conn_t *c, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return conn_write(c, buf, (size_t)n);
}

/* Returns 1 when the peer went away during the stall. */
static int stall(conn_t *c, int ms)
{
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        long elapsed;

        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (now.tv_sec - start.tv_sec) * 1000
                  + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= ms) {
            return 0;
        }
        if (stopping(c->s)) {
            return 1;
        }
        if (poll(&pfd, 1, 20) > 0) {
            char b;

            if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
                return 1;
            }
            usleep(20000);
        }
    }
}

static const char *find_header(const char *block, const char *name,
                               char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *line = block;

    while (line && *line) {
        const char *eol = strstr(line, "\r\n");
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);

        if (llen > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
            const char *v = line + nlen + 1;
            size_t vlen;

            while (*v == ' ') {
                ++v;
            }
            vlen = (size_t)(line + llen - v);
            if (vlen >= outlen) {
                vlen = outlen - 1;
            }
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

static const route_t *find_route(server_t *s, const char *target)
{
    size_t plen = strcspn(target, "?");
    int i;

    for (i = 0; i < s->nroutes; ++i) {
        if (strlen(s->routes[i].path) == plen
            && !strncmp(s->routes[i].path, target, plen)) {
            return &s->routes[i];
        }
    }
    return NULL;
}

/* The route's headers, of any size (conn_printf's buffer is 4 KB), and
 * the blank line that ends the head. */
static int write_extra_headers(conn_t *c, const route_t *r)
{
    const char *h = r->extra_headers ? r->extra_headers : "";

    return conn_write(c, h, strlen(h)) || conn_write(c, "\r\n", 2);
}

static int respond(conn_t *c, const route_t *r)
{
    static const route_t not_found = { "", 404, NULL, "no route\n", 0, 0, 0 };
    const char *body;
    size_t len;

    if (!r) {
        r = &not_found;
    }
    body = r->body ? r->body : "";
    len = r->body_len ? r->body_len : strlen(body);
    if (r->delay_ms && stall(c, r->delay_ms)) {
        return -1;
    }
    if (r->chunked) {
        size_t off = 0;

        if (conn_printf(c, "HTTP/1.1 %d Scripted\r\nConnection: keep-alive\r\n"
                        "Transfer-Encoding: chunked\r\n", r->status)
            || write_extra_headers(c, r)) {
            return -1;
        }
        while (off < len) {
            size_t n = len - off > 1000 ? 1000 : len - off;

            if (conn_printf(c, "%zx\r\n", n) || conn_write(c, body + off, n)
                || conn_write(c, "\r\n", 2)) {
                return -1;
            }
            off += n;
        }
        return conn_write(c, "0\r\n\r\n", 5);
    }
    if (conn_printf(c, "HTTP/1.1 %d Scripted\r\nConnection: keep-alive\r\n"
                    "Content-Length: %zu\r\n", r->status, len)
        || write_extra_headers(c, r)) {
        return -1;
    }
    return conn_write(c, body, len);
}

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    server_t *s = c->s;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);

    if (s->ssl_ctx) {
        c->ssl = SSL_new(s->ssl_ctx);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_accept(c->ssl) != 1) {
            goto done;
        }
    }
    for (;;) {
        char *end, *hdrs, *sp1, *sp2;
        size_t head_len, body_len = 0;
        char cl[32];
        record_t *rec = NULL;
        const route_t *route;

        buf[len] = '\0';
        while (!(end = strstr(buf, "\r\n\r\n"))) {
            ssize_t n;

            if (len >= cap) {
                goto done;
            }
            if ((n = conn_read(c, buf + len, cap - len)) <= 0) {
                goto done;
            }
            len += (size_t)n;
            buf[len] = '\0';
        }
        head_len = (size_t)(end - buf) + 4;
        *end = '\0';
        hdrs = strstr(buf, "\r\n");
        hdrs = hdrs ? hdrs + 2 : end;
        if (find_header(hdrs, "Content-Length", cl, sizeof(cl))) {
            body_len = strtoul(cl, NULL, 10);
        }
        while (len < head_len + body_len) {
            ssize_t n;

            if (head_len + body_len > cap) {
                goto done;
            }
            if ((n = conn_read(c, buf + len, cap - len)) <= 0) {
                goto done;
            }
            len += (size_t)n;
        }

        pthread_mutex_lock(&s->mu);
        if (s->nrecs < MAX_RECORDS) {
            rec = &s->recs[s->nrecs++];
            sp1 = strchr(buf, ' ');
            sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
            if (sp1 && sp2) {
                snprintf(rec->method, sizeof(rec->method), "%.*s",
                         (int)(sp1 - buf), buf);
                snprintf(rec->target, sizeof(rec->target), "%.*s",
                         (int)(sp2 - sp1 - 1), sp1 + 1);
            }
            rec->headers = strdup(hdrs);
            rec->body = malloc(body_len + 1);
            memcpy(rec->body, buf + head_len, body_len);
            rec->body[body_len] = '\0';
            rec->body_len = body_len;
            rec->conn_id = c->id;
        }
        route = rec ? find_route(s, rec->target) : NULL;
        pthread_mutex_unlock(&s->mu);

        if (respond(c, route)) {
            goto done;
        }
        memmove(buf, buf + head_len + body_len, len - head_len - body_len);
        len -= head_len + body_len;
    }
done:
    if (c->ssl) {
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(buf);
    free(c);
    return NULL;
}

static void *server_main(void *arg)
{
    server_t *s = arg;

    while (!stopping(s)) {
        struct pollfd pfd = { s->lfd, POLLIN, 0 };
        conn_t *c;
        int fd;

        if (poll(&pfd, 1, 50) <= 0) {
            continue;
        }
        if ((fd = accept(s->lfd, NULL, NULL)) < 0) {
            continue;
        }
        pthread_mutex_lock(&s->mu);
        if (s->nconn_threads >= MAX_CONNS) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            continue;
        }
        c = calloc(1, sizeof(*c));
        c->s = s;
        c->fd = fd;
        c->id = s->accepted++;
        pthread_create(&s->conn_threads[s->nconn_threads++], NULL, conn_main,
                       c);
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static server_t *server_start(SSL_CTX *ssl_ctx)
{
    server_t *s = calloc(1, sizeof(*s));
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int one = 1;

    pthread_mutex_init(&s->mu, NULL);
    s->ssl_ctx = ssl_ctx;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &salen), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

static void server_route(server_t *s, route_t r)
{
    pthread_mutex_lock(&s->mu);
    assert_true(s->nroutes < MAX_ROUTES);
    s->routes[s->nroutes++] = r;
    pthread_mutex_unlock(&s->mu);
}

static int server_accepted(server_t *s)
{
    int n;

    pthread_mutex_lock(&s->mu);
    n = s->accepted;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int server_nrecs(server_t *s)
{
    int n;

    pthread_mutex_lock(&s->mu);
    n = s->nrecs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Records are only appended, and read once the client got its answer. */
static const record_t *server_rec(server_t *s, int i)
{
    assert_true(i < server_nrecs(s));
    return &s->recs[i];
}

static void server_stop(server_t *s)
{
    int i;

    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    for (i = 0; i < s->nconn_threads; ++i) {
        pthread_join(s->conn_threads[i], NULL);
    }
    for (i = 0; i < s->nrecs; ++i) {
        free(s->recs[i].headers);
        free(s->recs[i].body);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------------------
 * Fixtures
 */

typedef struct {
    apr_pool_t *pool;
    char tmpdir[64];
    char cert_file[128];
    SSL_CTX *ssl_ctx;
} suite_t;

static suite_t suite;

static apr_pool_t *pool;           /* per test */

static X509 *make_cert(EVP_PKEY *pkey)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    X509V3_CTX ctx;
    static const struct { int nid; const char *value; } exts[] = {
        { NID_basic_constraints, "critical,CA:TRUE" },
        { NID_key_usage, "critical,digitalSignature,keyCertSign" },
        { NID_ext_key_usage, "serverAuth" },
        { NID_subject_key_identifier, "hash" },
        /* IP only: "localhost" must then fail host name verification. */
        { NID_subject_alt_name, "IP:127.0.0.1" },
    };
    size_t i;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4711);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); ++i) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid,
                                                exts[i].value);

        if (!e) {
            X509_free(x);
            return NULL;
        }
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, pkey, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int make_tls(suite_t *st)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = pkey ? make_cert(pkey) : NULL;
    FILE *f;
    int ok = 0;

    strcpy(st->tmpdir, "/tmp/oac_test_http_XXXXXX");
    if (!x || !mkdtemp(st->tmpdir)) {
        goto leave;
    }
    snprintf(st->cert_file, sizeof(st->cert_file), "%s/cert.pem",
             st->tmpdir);
    if (!(f = fopen(st->cert_file, "w"))) {
        goto leave;
    }
    ok = PEM_write_X509(f, x);
    fclose(f);
    if (!ok) {
        goto leave;
    }
    st->ssl_ctx = SSL_CTX_new(TLS_server_method());
    ok = st->ssl_ctx && SSL_CTX_use_certificate(st->ssl_ctx, x) == 1
         && SSL_CTX_use_PrivateKey(st->ssl_ctx, pkey) == 1;
leave:
    X509_free(x);
    EVP_PKEY_free(pkey);
    return ok;
}

static int suite_setup(void **state)
{
    const char *err = NULL;

    (void)state;
    /* The server writes to sockets the client may have dropped. */
    signal(SIGPIPE, SIG_IGN);
    /* A proxy from the environment would intercept 127.0.0.1. */
    unsetenv("http_proxy");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&suite.pool, NULL) != APR_SUCCESS
        || oac_http_curl_global_init(&err) != APR_SUCCESS) {
        return -1;
    }
    if (!make_tls(&suite)) {
        fprintf(stderr, "cannot make a test certificate\n");
        ERR_print_errors_fp(stderr);
        return -1;
    }
    return 0;
}

static int suite_teardown(void **state)
{
    (void)state;
    SSL_CTX_free(suite.ssl_ctx);
    unlink(suite.cert_file);
    rmdir(suite.tmpdir);
    apr_pool_destroy(suite.pool);
    apr_terminate();
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    return apr_pool_create(&pool, suite.pool) == APR_SUCCESS ? 0 : -1;
}

static int test_teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    pool = NULL;
    return 0;
}

static oac_http_client_t *make_client(apr_interval_time_t timeout,
                                      apr_size_t max_response,
                                      const char *ca_file, int verify)
{
    oac_http_options_t opts;
    oac_http_client_t *client = NULL;
    const char *err = NULL;
    apr_status_t rv;

    oac_http_options_init(&opts);
    opts.timeout = timeout;
    opts.max_response = max_response;
    opts.ca_file = ca_file;
    opts.verify_tls = verify;
    rv = oac_http_curl_create(&client, &err, pool, &opts);
    if (rv != APR_SUCCESS) {
        fail_msg("oac_http_curl_create: %s", err);
    }
    assert_non_null(client);
    return client;
}

static const char *url(server_t *s, const char *scheme, const char *path)
{
    return apr_psprintf(pool, "%s://127.0.0.1:%d%s", scheme, s->port, path);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *rec_header(const record_t *rec, const char *name)
{
    char buf[512];

    return find_header(rec->headers, name, buf, sizeof(buf))
           ? apr_pstrdup(pool, buf) : NULL;
}

/* ------------------------------------------------------------------------
 * The interface, with a fake implementation
 */

typedef struct {
    int calls;
    oac_http_request_t last;
} fake_t;

static apr_status_t fake_perform(oac_http_response_t **presp,
                                 const char **perr, void *baton,
                                 apr_pool_t *p, const oac_http_request_t *req)
{
    fake_t *f = baton;
    oac_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));

    f->calls++;
    f->last = *req;
    if (strstr(req->url, "fail")) {
        *perr = "fake failure";
        return APR_EGENERAL;
    }
    resp->status = 201;
    resp->headers = apr_table_make(p, 1);
    resp->body = apr_pstrdup(p, "ok");
    resp->body_len = 2;
    *presp = resp;
    return APR_SUCCESS;
}

static void test_fake_wrappers(void **state)
{
    fake_t fake = { 0, { 0 } };
    oac_http_client_t client = { fake_perform, &fake };
    oac_http_response_t *resp = NULL;
    apr_table_t *h = apr_table_make(pool, 1);
    const char *err = NULL;

    (void)state;
    apr_table_set(h, "Authorization", "Basic Zm9vOmJhcg==");
    assert_int_equal(oac_http_post_form(&resp, &err, &client, pool,
                                        "https://as.example/token", h,
                                        "grant_type=authorization_code"),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 201);
    assert_string_equal(fake.last.method, "POST");
    assert_string_equal(fake.last.url, "https://as.example/token");
    assert_string_equal(fake.last.content_type,
                        "application/x-www-form-urlencoded");
    assert_string_equal(fake.last.body, "grant_type=authorization_code");
    assert_int_equal(fake.last.body_len, strlen("grant_type=authorization_code"));
    assert_ptr_equal(fake.last.headers, h);

    resp = NULL;
    assert_int_equal(oac_http_get(&resp, &err, &client, pool,
                                  "https://as.example/jwks", NULL),
                     APR_SUCCESS);
    assert_string_equal(fake.last.method, "GET");
    assert_null(fake.last.body);
    assert_null(fake.last.content_type);
    assert_non_null(resp);

    /* Failures leave *presp alone and pass the message through. */
    resp = (oac_http_response_t *)&fake;
    assert_int_equal(oac_http_get(&resp, &err, &client, pool,
                                  "https://as.example/fail", NULL),
                     APR_EGENERAL);
    assert_ptr_equal(resp, &fake);
    assert_string_equal(err, "fake failure");
    assert_int_equal(fake.calls, 3);
}

static void test_incomplete_request_rejected(void **state)
{
    fake_t fake = { 0, { 0 } };
    oac_http_client_t client = { fake_perform, &fake };
    oac_http_response_t *resp = NULL;
    oac_http_request_t req;
    const char *err = NULL;

    (void)state;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    assert_int_equal(oac_http_perform(&resp, &err, &client, pool, &req),
                     APR_EINVAL);
    assert_non_null(strstr(err, "URL"));
    assert_int_equal(oac_http_get(&resp, &err, NULL, pool, "http://x/", NULL),
                     APR_EINVAL);
    assert_int_equal(fake.calls, 0);
    assert_null(resp);
}

/* ------------------------------------------------------------------------
 * libcurl implementation, plain HTTP
 */

static void test_get_with_header(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    apr_table_t *h = apr_table_make(pool, 2);
    const char *err = NULL;
    const record_t *rec;

    (void)state;
    server_route(s, (route_t){ "/hello", 200,
                               "Content-Type: text/plain\r\n"
                               "X-Reply: one\r\nX-Reply: two\r\n",
                               "hello world", 0, 0, 0 });
    apr_table_set(h, "X-Test", "value 42");
    apr_table_set(h, "Accept", "application/json");
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/hello?a=b"), h),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 200);
    assert_string_equal(resp->body, "hello world");
    assert_int_equal(resp->body_len, 11);
    assert_string_equal(resp->content_type, "text/plain");
    assert_string_equal(apr_table_get(resp->headers, "content-length"), "11");
    assert_int_equal(apr_table_elts(resp->headers)->nelts, 5);

    assert_int_equal(server_nrecs(s), 1);
    rec = server_rec(s, 0);
    assert_string_equal(rec->method, "GET");
    assert_string_equal(rec->target, "/hello?a=b");
    assert_string_equal(rec_header(rec, "X-Test"), "value 42");
    assert_string_equal(rec_header(rec, "Accept"), "application/json");
    assert_string_equal(rec_header(rec, "User-Agent"), "mod_oauthclient");
    assert_int_equal(rec->body_len, 0);
    server_stop(s);
}

static void test_post_form(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *form = "grant_type=authorization_code&code=abc%2Fdef"
                       "&redirect_uri=https%3A%2F%2Fclient%2Fcb";
    const char *err = NULL;
    const record_t *rec;

    (void)state;
    server_route(s, (route_t){ "/token", 200,
                               "Content-Type: application/json\r\n",
                               "{\"access_token\":\"t\"}", 0, 0, 0 });
    assert_int_equal(oac_http_post_form(&resp, &err, client, pool,
                                        url(s, "http", "/token"), NULL, form),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 200);
    assert_string_equal(resp->body, "{\"access_token\":\"t\"}");
    assert_string_equal(resp->content_type, "application/json");

    rec = server_rec(s, 0);
    assert_string_equal(rec->method, "POST");
    assert_string_equal(rec->target, "/token");
    assert_string_equal(rec_header(rec, "Content-Type"),
                        "application/x-www-form-urlencoded");
    assert_string_equal(rec_header(rec, "Content-Length"),
                        apr_psprintf(pool, "%" APR_SIZE_T_FMT, strlen(form)));
    assert_null(rec_header(rec, "Expect"));
    assert_int_equal(rec->body_len, strlen(form));
    assert_memory_equal(rec->body, form, strlen(form));
    server_stop(s);
}

static void test_other_methods(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    oac_http_request_t req;
    const char *err = NULL;
    static const char bin[] = { 'a', '\0', 'b' };
    const record_t *rec;

    (void)state;
    server_route(s, (route_t){ "/r", 204, NULL, NULL, 0, 0, 0 });

    /* A body with embedded NUL and no content type: sent as is, and
     * libcurl's default form content type is not claimed. */
    memset(&req, 0, sizeof(req));
    req.method = "PUT";
    req.url = url(s, "http", "/r");
    req.body = bin;
    req.body_len = sizeof(bin);
    assert_int_equal(oac_http_perform(&resp, &err, client, pool, &req),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 204);
    assert_int_equal(resp->body_len, 0);
    assert_string_equal(resp->body, "");
    rec = server_rec(s, 0);
    assert_string_equal(rec->method, "PUT");
    assert_int_equal(rec->body_len, 3);
    assert_memory_equal(rec->body, bin, 3);
    assert_null(rec_header(rec, "Content-Type"));

    memset(&req, 0, sizeof(req));
    req.method = "DELETE";
    req.url = url(s, "http", "/r");
    assert_int_equal(oac_http_perform(&resp, &err, client, pool, &req),
                     APR_SUCCESS);
    rec = server_rec(s, 1);
    assert_string_equal(rec->method, "DELETE");
    assert_int_equal(rec->body_len, 0);

    /* POST without a body still says how long it is. */
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url(s, "http", "/r");
    assert_int_equal(oac_http_perform(&resp, &err, client, pool, &req),
                     APR_SUCCESS);
    rec = server_rec(s, 2);
    assert_string_equal(rec->method, "POST");
    assert_string_equal(rec_header(rec, "Content-Length"), "0");

    memset(&req, 0, sizeof(req));
    req.method = "GET\r\nX: y";
    req.url = url(s, "http", "/r");
    assert_int_equal(oac_http_perform(&resp, &err, client, pool, &req),
                     APR_EINVAL);
    assert_non_null(strstr(err, "method"));
    assert_int_equal(server_nrecs(s), 3);
    server_stop(s);
}

static void test_error_statuses_are_responses(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;

    (void)state;
    server_route(s, (route_t){ "/boom", 500,
                               "Content-Type: application/json\r\n",
                               "{\"error\":\"server_error\"}", 0, 0, 0 });
    server_route(s, (route_t){ "/missing", 404, NULL, "not here", 0, 0, 0 });

    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/boom"), NULL),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 500);
    assert_string_equal(resp->body, "{\"error\":\"server_error\"}");
    assert_string_equal(resp->content_type, "application/json");

    assert_int_equal(oac_http_post_form(&resp, &err, client, pool,
                                        url(s, "http", "/missing"), NULL,
                                        "a=b"),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 404);
    assert_string_equal(resp->body, "not here");
    assert_null(resp->content_type);
    server_stop(s);
}

static void test_redirect_not_followed(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;

    (void)state;
    server_route(s, (route_t){ "/authorize", 302,
                               "Location: /elsewhere?code=x\r\n", NULL, 0, 0,
                               0 });
    server_route(s, (route_t){ "/elsewhere", 200, NULL, "followed", 0, 0,
                               0 });
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/authorize"), NULL),
                     APR_SUCCESS);
    assert_int_equal(resp->status, 302);
    assert_string_equal(apr_table_get(resp->headers, "location"),
                        "/elsewhere?code=x");
    assert_int_equal(server_nrecs(s), 1);
    assert_string_equal(server_rec(s, 0)->target, "/authorize");
    server_stop(s);
}

static char *filled(size_t n)
{
    char *b = apr_palloc(pool, n + 1);

    memset(b, 'x', n);
    b[n] = '\0';
    return b;
}

static void test_max_response(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 1000, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    (void)state;
    server_route(s, (route_t){ "/999", 200, NULL, filled(999), 0, 0, 0 });
    server_route(s, (route_t){ "/1000", 200, NULL, filled(1000), 0, 0, 0 });
    server_route(s, (route_t){ "/1001", 200, NULL, filled(1001), 0, 0, 0 });
    server_route(s, (route_t){ "/chunked1000", 200, NULL, filled(1000), 0, 0,
                               1 });
    server_route(s, (route_t){ "/chunked5000", 200, NULL, filled(5000), 0, 0,
                               1 });

    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/999"), NULL), APR_SUCCESS);
    assert_int_equal(resp->body_len, 999);
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/1000"), NULL), APR_SUCCESS);
    assert_int_equal(resp->body_len, 1000);
    assert_int_equal(strlen(resp->body), 1000);
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/chunked1000"), NULL),
                     APR_SUCCESS);
    assert_int_equal(resp->body_len, 1000);

    /* Announced by Content-Length: refused before reading. */
    resp = NULL;
    rv = oac_http_get(&resp, &err, client, pool,
                      url(s, "http", "/1001?code=SECRETCODE"), NULL);
    assert_int_equal(rv, APR_EGENERAL);
    assert_null(resp);
    assert_string_equal(err, apr_psprintf(pool, "response from http://127.0.0.1"
                                          ":%d/1001 exceeds 1000 bytes",
                                          s->port));

    /* Only found out while reading. */
    rv = oac_http_get(&resp, &err, client, pool,
                      url(s, "http", "/chunked5000?code=SECRETCODE"), NULL);
    assert_int_equal(rv, APR_EGENERAL);
    assert_null(resp);
    assert_string_equal(err, apr_psprintf(pool, "response from http://127.0.0.1"
                                          ":%d/chunked5000 exceeds 1000 bytes",
                                          s->port));
    server_stop(s);
}

/* Obsolete line folding (RFC 9112 5.2) read as one space. A provider that
 * folds a value into many short lines, within the 256 KiB header cap, is
 * refused: the client copied the value at each line (3.5 GB for 60,000
 * lines), and libcurl, which keeps every header for its header API,
 * grows the header at each line too. */
static void test_folded_headers(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL, *v;
    struct rusage before, after;
    apr_size_t i, lines = 60000;
    char *many = apr_palloc(pool, 16 + lines * 4 + 1), *w = many;
    char *some = apr_palloc(pool, 16 + 64 * 4 + 1), *x = some;

    (void)state;
    w += sprintf(w, "X-Many: a\r\n");
    for (i = 1; i < lines; ++i) {
        memcpy(w, " a\r\n", 4);
        w += 4;
    }
    *w = '\0';
    /* 64 folded lines: the most one answer may have */
    x += sprintf(x, "X-Some: a\r\n");
    for (i = 0; i < 64; ++i) {
        memcpy(x, " a\r\n", 4);
        x += 4;
    }
    *x = '\0';
    server_route(s, (route_t){ "/fold", 200,
                               "X-Folded: one\r\n two\r\n\t three \r\n"
                               "X-After: z\r\n", "ok", 0, 0, 0 });
    server_route(s, (route_t){ "/some", 200, some, "ok", 0, 0, 0 });
    server_route(s, (route_t){ "/many", 200, many, "ok", 0, 0, 0 });

    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/fold"), NULL), APR_SUCCESS);
    assert_string_equal(apr_table_get(resp->headers, "X-Folded"),
                        "one two three");
    assert_string_equal(apr_table_get(resp->headers, "X-After"), "z");

    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/some"), NULL), APR_SUCCESS);
    v = apr_table_get(resp->headers, "X-Some");
    assert_non_null(v);
    assert_int_equal(strlen(v), 2 * 65 - 1);

    getrusage(RUSAGE_SELF, &before);
    resp = NULL;
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/many"), NULL),
                     APR_EGENERAL);
    getrusage(RUSAGE_SELF, &after);
    assert_null(resp);
    assert_string_equal(err, apr_psprintf(pool, "response headers from "
                                          "http://127.0.0.1:%d/many fold "
                                          "more than 64 lines (obsolete "
                                          "line folding)", s->port));
    /* refused at the 65th line: the value copied at each line peaked at
     * gigabytes (also libcurl's copy, under AddressSanitizer) */
    assert_true(after.ru_maxrss - before.ru_maxrss < 64 * 1024);
    server_stop(s);
}

static void test_timeout(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(apr_time_from_msec(500), 0, NULL,
                                            1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    long start, elapsed;
    apr_status_t rv;

    (void)state;
    server_route(s, (route_t){ "/slow", 200, NULL, "late", 0, 5000, 0 });
    start = now_ms();
    rv = oac_http_get(&resp, &err, client, pool,
                      url(s, "http", "/slow?code=SECRETCODE"), NULL);
    elapsed = now_ms() - start;
    assert_int_equal(rv, APR_TIMEUP);
    assert_null(resp);
    assert_non_null(strstr(err, "timed out after 500 ms"));
    assert_non_null(strstr(err, apr_psprintf(pool, "127.0.0.1:%d/slow",
                                             s->port)));
    assert_null(strstr(err, "SECRETCODE"));
    assert_in_range(elapsed, 450, UNDER_VALGRIND() ? 3000 : 1000);
    server_stop(s);
}

static int closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_connection_refused(void **state)
{
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    int port = closed_port();
    apr_status_t rv;

    (void)state;
    rv = oac_http_post_form(&resp, &err, client, pool,
                            apr_psprintf(pool, "http://127.0.0.1:%d/token"
                                         "?code=SECRETCODE", port),
                            NULL, "client_secret=SECRETBODY");
    assert_int_equal(rv, APR_ECONNREFUSED);
    assert_null(resp);
    assert_string_equal(err, apr_psprintf(pool, "could not connect to http://"
                                          "127.0.0.1:%d/token: connection "
                                          "refused", port));
}

static void test_unknown_host(void **state)
{
    oac_http_client_t *client = make_client(apr_time_from_sec(2), 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    (void)state;
    /* .invalid never resolves (RFC 6761); a resolver that cannot be
     * reached at all may time out instead. */
    rv = oac_http_get(&resp, &err, client, pool,
                      "https://oac-test.invalid/jwks?code=SECRETCODE", NULL);
    assert_null(resp);
    if (rv == APR_TIMEUP) {
        assert_non_null(strstr(err, "timed out"));
    }
    else {
        assert_int_equal(rv, APR_EGENERAL);
        assert_non_null(strstr(err, "could not resolve host oac-test.invalid "
                                    "for https://oac-test.invalid:443/jwks"));
    }
    assert_null(strstr(err, "SECRETCODE"));
}

static void test_bad_urls_rejected(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;

    (void)state;
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  apr_psprintf(pool, "ftp://127.0.0.1:%d/f"
                                               "?code=SECRETCODE", s->port),
                                  NULL),
                     APR_EINVAL);
    assert_string_equal(err, apr_psprintf(pool, "unsupported URL scheme "
                                          "\"ftp\" in ftp://127.0.0.1:%d/f: "
                                          "only http and https are allowed",
                                          s->port));
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  "file:///etc/passwd", NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "unsupported URL scheme \"file\""));
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  "gopher://127.0.0.1/x", NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "\"gopher\""));

    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  "http://127.0.0.1:99999/x?code=SECRETCODE",
                                  NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "malformed URL"));
    assert_null(strstr(err, "SECRETCODE"));
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  "127.0.0.1/no-scheme", NULL),
                     APR_EINVAL);
    assert_non_null(strstr(err, "malformed URL"));
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  "http://exa mple/", NULL),
                     APR_EINVAL);
    assert_null(resp);
    assert_int_equal(server_accepted(s), 0);
    server_stop(s);
}

static void test_header_injection_rejected(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    apr_table_t *h = apr_table_make(pool, 1);
    const char *err = NULL;

    (void)state;
    apr_table_set(h, "Authorization", "Bearer SECRETTOKEN\r\nX-Evil: 1");
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/x"), h),
                     APR_EINVAL);
    assert_non_null(strstr(err, "Authorization"));
    assert_null(strstr(err, "SECRETTOKEN"));

    apr_table_clear(h);
    apr_table_set(h, "Bad Name", "v");
    assert_int_equal(oac_http_get(&resp, &err, client, pool,
                                  url(s, "http", "/x"), h),
                     APR_EINVAL);
    assert_non_null(strstr(err, "header name"));
    assert_null(resp);
    assert_int_equal(server_accepted(s), 0);
    server_stop(s);
}

static void test_keepalive_one_connection(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    int i;

    (void)state;
    server_route(s, (route_t){ "/token", 200, NULL, "{}", 0, 0, 0 });
    for (i = 0; i < 3; ++i) {
        assert_int_equal(i % 2
                         ? oac_http_get(&resp, &err, client, pool,
                                        url(s, "http", "/token"), NULL)
                         : oac_http_post_form(&resp, &err, client, pool,
                                              url(s, "http", "/token"), NULL,
                                              "a=b"),
                         APR_SUCCESS);
        assert_int_equal(resp->status, 200);
    }
    assert_int_equal(server_nrecs(s), 3);
    assert_int_equal(server_accepted(s), 1);
    assert_int_equal(server_rec(s, 2)->conn_id, 0);
    server_stop(s);
}

typedef struct {
    oac_http_client_t *client;
    pthread_barrier_t *start;
    apr_pool_t *pool;
    const char *url;
    int ok;
    int status_ok;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    int i;

    pthread_barrier_wait(w->start);
    for (i = 0; i < 5; ++i) {
        oac_http_response_t *resp = NULL;
        const char *err = NULL;

        if (oac_http_get(&resp, &err, w->client, w->pool, w->url, NULL)
            == APR_SUCCESS) {
            w->ok++;
            if (resp->status == 200 && !strcmp(resp->body, "concurrent")) {
                w->status_ok++;
            }
        }
    }
    return NULL;
}

static void test_concurrent_threads(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    worker_t w[4];
    pthread_t th[4];
    pthread_barrier_t start;
    int i;

    (void)state;
    pthread_barrier_init(&start, NULL, 4);
    /* The stall keeps the requests overlapping. */
    server_route(s, (route_t){ "/c", 200, NULL, "concurrent", 0, 20, 0 });
    for (i = 0; i < 4; ++i) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].client = client;
        w[i].start = &start;
        /* APR pools are not thread-safe: one per thread, made here. */
        assert_int_equal(apr_pool_create(&w[i].pool, pool), APR_SUCCESS);
        w[i].url = url(s, "http", "/c");
    }
    for (i = 0; i < 4; ++i) {
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < 4; ++i) {
        pthread_join(th[i], NULL);
    }
    pthread_barrier_destroy(&start);
    for (i = 0; i < 4; ++i) {
        assert_int_equal(w[i].ok, 5);
        assert_int_equal(w[i].status_ok, 5);
    }
    assert_int_equal(server_nrecs(s), 20);
    /* One handle, hence one connection, per concurrent caller at most. */
    assert_in_range(server_accepted(s), 2, 4);
    server_stop(s);
}

static void test_secrets_never_in_errors(void **state)
{
    server_t *s = server_start(NULL);
    server_t *tls = server_start(suite.ssl_ctx);
    oac_http_client_t *client = make_client(apr_time_from_msec(300), 10, NULL,
                                            1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    const char *urls[5];
    apr_table_t *h = apr_table_make(pool, 1);
    int i, port = closed_port();

    (void)state;
    server_route(s, (route_t){ "/big", 200, NULL, filled(100), 0, 0, 1 });
    server_route(s, (route_t){ "/slow", 200, NULL, "x", 0, 2000, 0 });
    apr_table_set(h, "Authorization", "Bearer SECRETTOKEN");
    urls[0] = apr_psprintf(pool, "http://alice:PASSWORD99@127.0.0.1:%d/big"
                           "?code=SECRETCODE#FRAGSECRET", s->port);
    urls[1] = apr_psprintf(pool, "http://alice:PASSWORD99@127.0.0.1:%d/slow"
                           "?code=SECRETCODE#FRAGSECRET", s->port);
    urls[2] = apr_psprintf(pool, "http://alice:PASSWORD99@127.0.0.1:%d/x"
                           "?code=SECRETCODE#FRAGSECRET", port);
    /* TLS failure (libcurl's text is passed on) and a timeout in the
     * handshake (https to a plain HTTP server). */
    urls[3] = apr_psprintf(pool, "https://alice:PASSWORD99@127.0.0.1:%d/x"
                           "?code=SECRETCODE#FRAGSECRET", tls->port);
    urls[4] = apr_psprintf(pool, "https://alice:PASSWORD99@127.0.0.1:%d/x"
                           "?code=SECRETCODE#FRAGSECRET", s->port);
    for (i = 0; i < 5; ++i) {
        err = NULL;
        assert_int_not_equal(oac_http_post_form(&resp, &err, client, pool,
                                                urls[i], h,
                                                "client_secret=SECRETBODY"),
                             APR_SUCCESS);
        assert_non_null(err);
        assert_non_null(strstr(err, "127.0.0.1:"));
        assert_null(strstr(err, "SECRET"));
        assert_null(strstr(err, "PASSWORD99"));
        assert_null(strstr(err, "alice"));
        assert_null(strstr(err, "?"));
    }
    assert_non_null(strstr(err, "timed out"));
    server_stop(tls);
    server_stop(s);
}

/* A client inherited across fork must not reuse the parent's connections
 * in the child, and the parent's must survive the child. */
static void test_fork_child_gets_own_connection(void **state)
{
    server_t *s = server_start(NULL);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    const char *u = url(s, "http", "/f");
    int wstatus = -1, fds[2];
    char verdict = 0;
    pid_t pid;

    (void)state;
    server_route(s, (route_t){ "/f", 200, NULL, "forked", 0, 0, 0 });
    assert_int_equal(oac_http_get(&resp, &err, client, pool, u, NULL),
                     APR_SUCCESS);
    assert_int_equal(server_accepted(s), 1);

    /* The verdict comes through a pipe: under valgrind the child's exit
     * status reports the parent's threads it never joined. */
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apr_pool_t *cp;
        char ok;

        close(fds[0]);
        apr_pool_create(&cp, NULL);
        ok = oac_http_get(&resp, &err, client, cp, u, NULL) == APR_SUCCESS
             && resp->status == 200 && !strcmp(resp->body, "forked");
        if (write(fds[1], &ok, 1) != 1) {
            _exit(2);
        }
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    assert_int_equal(verdict, 1);
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(server_accepted(s), 2);
    assert_int_equal(server_rec(s, 1)->conn_id, 1);

    assert_int_equal(oac_http_get(&resp, &err, client, pool, u, NULL),
                     APR_SUCCESS);
    assert_string_equal(resp->body, "forked");
    assert_int_equal(server_accepted(s), 2);
    assert_int_equal(server_rec(s, 2)->conn_id, 0);
    server_stop(s);
}

static void test_create_options(void **state)
{
    oac_http_options_t opts;
    oac_http_client_t *client = NULL;
    const char *err = NULL;

    (void)state;
    oac_http_options_init(&opts);
    assert_int_equal(opts.verify_tls, 1);
    assert_int_equal(opts.timeout, 0);

    opts.ca_file = "/nonexistent/ca.pem";
    assert_int_not_equal(oac_http_curl_create(&client, &err, pool, &opts),
                         APR_SUCCESS);
    assert_null(client);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));

    oac_http_options_init(&opts);
    opts.timeout = -1;
    assert_int_equal(oac_http_curl_create(&client, &err, pool, &opts),
                     APR_EINVAL);
    assert_null(client);

    assert_int_equal(oac_http_curl_create(&client, &err, pool, NULL),
                     APR_SUCCESS);
    assert_non_null(client);
}

/* ------------------------------------------------------------------------
 * TLS
 */

static void test_tls_untrusted_fails(void **state)
{
    server_t *s = server_start(suite.ssl_ctx);
    oac_http_client_t *client = make_client(0, 0, NULL, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    (void)state;
    server_route(s, (route_t){ "/t", 200, NULL, "secure", 0, 0, 0 });
    rv = oac_http_get(&resp, &err, client, pool,
                      url(s, "https", "/t?code=SECRETCODE"), NULL);
    assert_int_equal(rv, APR_EGENERAL);
    assert_null(resp);
    assert_non_null(strstr(err, apr_psprintf(pool, "TLS failure talking to "
                                             "https://127.0.0.1:%d/t: ",
                                             s->port)));
    /* libcurl's own explanation is passed on. */
    assert_non_null(strstr(err, "certificate"));
    assert_null(strstr(err, "SECRETCODE"));
    assert_int_equal(server_nrecs(s), 0);
    server_stop(s);
}

static void test_tls_with_ca_file(void **state)
{
    server_t *s = server_start(suite.ssl_ctx);
    oac_http_client_t *client = make_client(0, 0, suite.cert_file, 1);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;
    int i;

    (void)state;
    server_route(s, (route_t){ "/t", 200, "Content-Type: text/plain\r\n",
                               "secure", 0, 0, 0 });
    for (i = 0; i < 2; ++i) {
        rv = oac_http_post_form(&resp, &err, client, pool,
                                url(s, "https", "/t"), NULL, "x=y");
        if (rv != APR_SUCCESS) {
            fail_msg("%s", err);
        }
        assert_int_equal(resp->status, 200);
        assert_string_equal(resp->body, "secure");
    }
    assert_string_equal(server_rec(s, 1)->body, "x=y");
    assert_int_equal(server_accepted(s), 1);

    /* The certificate names 127.0.0.1 only: the host name is checked. */
    rv = oac_http_get(&resp, &err, client, pool,
                      apr_psprintf(pool, "https://localhost:%d/t", s->port),
                      NULL);
    assert_int_equal(rv, APR_EGENERAL);
    assert_non_null(strstr(err, "TLS failure talking to https://localhost:"));
    assert_non_null(strstr(err, "localhost"));
    server_stop(s);
}

static void test_tls_no_verify(void **state)
{
    server_t *s = server_start(suite.ssl_ctx);
    oac_http_client_t *client = make_client(0, 0, NULL, 0);
    oac_http_response_t *resp = NULL;
    const char *err = NULL;
    apr_status_t rv;

    (void)state;
    server_route(s, (route_t){ "/t", 200, NULL, "insecure", 0, 0, 0 });
    rv = oac_http_get(&resp, &err, client, pool, url(s, "https", "/t"), NULL);
    if (rv != APR_SUCCESS) {
        fail_msg("%s", err);
    }
    assert_string_equal(resp->body, "insecure");
    /* Neither peer nor host name checked. */
    rv = oac_http_get(&resp, &err, client, pool,
                      apr_psprintf(pool, "https://localhost:%d/t", s->port),
                      NULL);
    if (rv != APR_SUCCESS) {
        fail_msg("%s", err);
    }
    assert_int_equal(resp->status, 200);
    server_stop(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fake_wrappers),
        T(test_incomplete_request_rejected),
        T(test_create_options),
        T(test_get_with_header),
        T(test_post_form),
        T(test_other_methods),
        T(test_error_statuses_are_responses),
        T(test_redirect_not_followed),
        T(test_max_response),
        T(test_folded_headers),
        T(test_timeout),
        T(test_connection_refused),
        T(test_unknown_host),
        T(test_bad_urls_rejected),
        T(test_header_injection_rejected),
        T(test_keepalive_one_connection),
        T(test_concurrent_threads),
        T(test_secrets_never_in_errors),
        T(test_fork_child_gets_own_connection),
        T(test_tls_untrusted_fails),
        T(test_tls_with_ca_file),
        T(test_tls_no_verify),
    };

    return cmocka_run_group_tests_name("oac_http", tests, suite_setup,
                                       suite_teardown);
}
