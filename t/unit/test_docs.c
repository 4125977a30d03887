/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Unit tests for src/mod_oauthclient_docs.c, the one glue file tested
 * alone: how long a process's parsed copy of a document lives while
 * request threads read it. A service token that expired makes every
 * request that wants it fetch a new one at once, each replacing the
 * copy; a request still using an older copy must keep reading it.
 * Built with httpd's headers; what the file calls of httpd and of the
 * other glue files is stubbed below. The first test has no shared memory
 * (the process's own bookkeeping); the second has it, and forks to play
 * the machine's other processes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "mod_oauthclient_docs.h"
#include "mod_oauthclient_hooks.h"
#include "util_mutex.h"

/* --- what the file uses of httpd and of the rest of the module --------- */

module AP_MODULE_DECLARE_DATA oauthclient_module;
static oac_server_conf the_sc;
static server_rec the_server;

oac_server_conf *oac_server_config(const server_rec *s)
{
    (void)s;
    return &the_sc;
}

void ap_log_error_(const char *file, int line, int index, int level,
                   apr_status_t status, const server_rec *s,
                   const char *fmt, ...)
{
    (void)file; (void)line; (void)index; (void)level; (void)status;
    (void)s; (void)fmt;
}

apr_status_t ap_mutex_register(apr_pool_t *p, const char *type,
                               const char *default_dir,
                               apr_lockmech_e mech, apr_int32_t options)
{
    (void)p; (void)type; (void)default_dir; (void)mech; (void)options;
    return APR_SUCCESS;
}

/* Off until a test wants the machine's shared memory */
static int with_mutex;

apr_status_t ap_global_mutex_create(apr_global_mutex_t **mutex,
                                    const char **name, const char *type,
                                    const char *instance, server_rec *s,
                                    apr_pool_t *pconf, apr_int32_t options)
{
    (void)type; (void)instance; (void)s; (void)options;
    if (!with_mutex) {
        return APR_ENOTIMPL;
    }
    *name = NULL;
    return apr_global_mutex_create(mutex, NULL, APR_LOCK_DEFAULT, pconf);
}

oac_http_client_t *oac_hooked_client(request_rec *r, const oac_app_t *app,
                                     oac_hook_call_e which)
{
    (void)r; (void)app; (void)which;
    return NULL;
}

apr_int64_t oac_now(void)
{
    return apr_time_sec(apr_time_now());
}

/* --- a document: a token, fetched with a new value each time ----------- */

typedef struct {
    char token[32];
} doc_t;

static apr_uint32_t fetches, freed;
static volatile apr_uint32_t expired;

/* Tokens name the process that fetched them in the second test */
static int with_pid;
/* The third test's provider: slow, and failing when asked to */
static int slow_fetch, failing_fetch, slow_ms = 100;

static apr_status_t fetch(char **pbody, apr_size_t *plen, const char **pwhy,
                          request_rec *r, const oac_app_t *app,
                          const void *ctx)
{
    (void)pwhy; (void)app; (void)ctx;
    if (slow_fetch) {
        usleep(1000 * (unsigned)slow_ms);
        apr_atomic_inc32(&fetches);
        if (failing_fetch) {
            *pwhy = "the provider answered HTTP 503";
            return APR_EGENERAL;
        }
        *pbody = apr_pstrdup(r->pool, "token-slow");
        *plen = strlen(*pbody);
        return APR_SUCCESS;
    }
    if (with_pid) {
        *pbody = apr_psprintf(r->pool, "token-%ld-%u", (long)getpid(),
                              apr_atomic_inc32(&fetches) + 1);
        *plen = strlen(*pbody);
        return APR_SUCCESS;
    }
    /* a token endpoint's latency, for the fetches to overlap */
    usleep(1000 * (unsigned)(rand() % 10));
    *pbody = apr_psprintf(r->pool, "token-%u",
                          apr_atomic_inc32(&fetches) + 1);
    *plen = strlen(*pbody);
    return APR_SUCCESS;
}

static apr_status_t count_freed(void *data)
{
    (void)data;
    apr_atomic_inc32(&freed);
    return APR_SUCCESS;
}

static const void *parse(apr_pool_t *pool, const char *body, apr_size_t len,
                         const void *ctx, const char **pwhy)
{
    doc_t *d = apr_pcalloc(pool, sizeof(*d));

    (void)ctx; (void)pwhy;
    memcpy(d->token, body, len < sizeof(d->token) - 1 ? len
                                                      : sizeof(d->token) - 1);
    apr_pool_cleanup_register(pool, d, count_freed, apr_pool_cleanup_null);
    return d;
}

static int state(const void *parsed, apr_int64_t now)
{
    (void)parsed; (void)now;
    return apr_atomic_read32(&expired) ? OAC_DOC_EXPIRED : OAC_DOC_FRESH;
}

static oac_doc_spec_t spec;

/* A request in pool p: its document, held until p is destroyed; again:
 * fetched again (a key set without the id_token's kid). */
static const doc_t *request_doc_again(apr_pool_t *p, int again)
{
    request_rec *r = apr_pcalloc(p, sizeof(*r));
    oac_doc_info_t info;
    const char *why = NULL;

    r->pool = p;
    r->server = &the_server;
    return oac_doc_get(r, NULL, &spec, again, &why, &info);
}

static const doc_t *request_doc(apr_pool_t *p)
{
    return request_doc_again(p, 0);
}

static void *APR_THREAD_FUNC one_request(apr_thread_t *t, void *data)
{
    apr_pool_t *p;

    (void)t; (void)data;
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) == APR_SUCCESS) {
        request_doc(p);
        apr_pool_destroy(p);
    }
    return NULL;
}

#define BURST 16

static void copy_outlives_replacements(void **state_)
{
    apr_pool_t *pchild = *state_, *ra;
    apr_thread_t *threads[BURST];
    apr_status_t rv;
    const doc_t *a;
    int i;

    spec.url = "client_credentials test";
    spec.key = "access_token_url";
    spec.retry = 5;
    spec.again = 30;
    spec.parse = parse;
    spec.fetch = fetch;
    spec.state = state;
    spec.ctx = &spec;
    oac_docs_child_init(pchild, &the_server);

    /* request A takes the token and is still writing it into its headers */
    assert_int_equal(apr_pool_create(&ra, pchild), APR_SUCCESS);
    a = request_doc(ra);
    assert_non_null(a);
    assert_string_equal(a->token, "token-1");

    /* the token expires: every request of a burst fetches, and each
     * replaces the process's copy */
    apr_atomic_set32(&expired, 1);
    for (i = 0; i < BURST; ++i) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, one_request,
                                           NULL, pchild), APR_SUCCESS);
    }
    for (i = 0; i < BURST; ++i) {
        apr_thread_join(&rv, threads[i]);
    }
    assert_int_equal(apr_atomic_read32(&fetches), 1 + BURST);
    /* A's copy is still A's (a fixed ring of four freed it under A) */
    assert_string_equal(a->token, "token-1");
    /* every copy replaced and no longer read is gone; A's is not */
    assert_int_equal(apr_atomic_read32(&freed), BURST - 1);

    /* once A ends, its copy goes too; the latest stays */
    apr_pool_destroy(ra);
    assert_int_equal(apr_atomic_read32(&freed), BURST);
}

/* A request in r's pool that marks the token refused (an API answered
 * 401), in a process of its own */
static int mark_stale(apr_pool_t *p)
{
    request_rec *r = apr_pcalloc(p, sizeof(*r));

    r->pool = p;
    r->server = &the_server;
    return oac_doc_stale(r, &spec);
}

/* Runs what in a forked process, as another child of httpd (its own
 * child_init, the machine's shared memory); its exit status says how it
 * went. */
static void in_other_process(apr_pool_t *pconf, int (*what)(apr_pool_t *))
{
    int status = -1;
    pid_t pid = fork();

    if (pid == 0) {
        apr_pool_t *pchild;
        int ok;
        apr_pool_create(&pchild, pconf);
        oac_docs_child_init(pchild, &the_server);
        ok = what(pchild);
        _exit(ok ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int fetch_other(apr_pool_t *p)
{
    /* the machine's copy, then fetched again for the machine, as a key
     * set is for a new kid */
    const doc_t *d = request_doc(p);
    if (!d || atol(d->token + 6) == (long)getpid()
        || !(d = request_doc_again(p, 1))) {
        return 0;
    }
    return strncmp(d->token, "token-", 6) == 0
           && atol(d->token + 6) == (long)getpid();
}

/* httpd starting with napps OAuth 2 apps (a shared slot each; none: no
 * shared memory), then one child: the child's pool. */
static apr_pool_t *start_httpd(apr_pool_t *pconf, int napps)
{
    apr_array_header_t *apps = apr_array_make(pconf, 2, sizeof(void *));
    apr_pool_t *pchild;
    int i;

    for (i = 0; i < napps; ++i) {
        oac_app_t *app = apr_pcalloc(pconf, sizeof(*app));
        app->version = OAC_OAUTH2;
        APR_ARRAY_PUSH(apps, oac_app_t *) = app;
    }
    the_sc.apps = napps ? apps : NULL;
    with_mutex = napps > 0;
    apr_atomic_set32(&expired, 0);
    apr_atomic_set32(&fetches, 0);
    oac_docs_pre_config(pconf);
    oac_docs_post_config(pconf, &the_server);
    apr_pool_create(&pchild, pconf);
    oac_docs_child_init(pchild, &the_server);
    return pchild;
}

static void stop_httpd(apr_pool_t *pchild)
{
    apr_pool_destroy(pchild);
    the_sc.apps = NULL;
    with_mutex = 0;
}

/* The token a new request in pchild gets, copied into buf */
static const char *token_of_request(apr_pool_t *pchild, char buf[32])
{
    apr_pool_t *r;
    const doc_t *d;

    apr_pool_create(&r, pchild);
    d = request_doc(r);
    assert_non_null(d);
    apr_cpystrn(buf, d->token, 32);
    apr_pool_destroy(r);
    return buf;
}

/*
 * Most requests take the process's copy after reading two words of the
 * machine's slot, without its lock. They must still see what other
 * processes did: a token fetched again elsewhere is taken over, without
 * a fetch here; a token another process marked refused is not used
 * again here; and the memo of the last document a thread found does not
 * outlive the child it was made in.
 */
static void fast_path_follows_the_machine(void **state_)
{
    apr_pool_t *pconf = *state_, *pchild, *r1;
    const doc_t *d;
    char first[32], taken[32], own[32];

    with_pid = 1;
    spec.url = "client_credentials shared";
    /* each refusal here may renew: not the once per 30 s of httpd */
    spec.again = 0;
    pchild = start_httpd(pconf, 1);

    /* this process fetches the first token, and reads it again */
    apr_pool_create(&r1, pchild);
    assert_non_null(d = request_doc(r1));
    apr_cpystrn(first, d->token, sizeof(first));
    assert_int_equal(atol(first + 6), (long)getpid());
    assert_string_equal(request_doc(r1)->token, first);
    assert_int_equal(apr_atomic_read32(&fetches), 1);
    apr_pool_destroy(r1);

    /* another process fetches the document again, and it changed: this
     * process takes it over at once, without a fetch of its own */
    in_other_process(pconf, fetch_other);
    token_of_request(pchild, taken);
    assert_string_not_equal(taken, first);
    assert_int_not_equal(atol(taken + 6), (long)getpid());
    assert_int_equal(apr_atomic_read32(&fetches), 1);

    /* another process has that token refused and fetches nothing: this
     * process does not use it again, it fetches */
    in_other_process(pconf, mark_stale);
    assert_string_not_equal(token_of_request(pchild, own), taken);
    assert_int_equal(atol(own + 6), (long)getpid());
    assert_int_equal(apr_atomic_read32(&fetches), 2);

    /* a new child (one process restarted) starts from nothing: the
     * memo of the last one is not taken for it */
    apr_pool_destroy(pchild);
    apr_pool_create(&pchild, pconf);
    oac_docs_child_init(pchild, &the_server);
    assert_string_equal(token_of_request(pchild, taken), own);
    assert_int_equal(apr_atomic_read32(&fetches), 2);
    stop_httpd(pchild);
    with_pid = 0;
}

/* BURST requests at once, each a thread running fn(data) */
static void burst(apr_thread_start_t fn, void *data, apr_pool_t *p)
{
    apr_thread_t *threads[BURST];
    apr_status_t rv;
    int i;

    for (i = 0; i < BURST; ++i) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, fn, data, p),
                         APR_SUCCESS);
    }
    for (i = 0; i < BURST; ++i) {
        apr_thread_join(&rv, threads[i]);
    }
}

static void *APR_THREAD_FUNC cold_request(apr_thread_t *t, void *data)
{
    apr_pool_t *p;
    apr_uint32_t *got = data;

    (void)t;
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) == APR_SUCCESS) {
        const doc_t *d = request_doc(p);
        if (d && !strcmp(d->token, "token-slow")) {
            apr_atomic_inc32(got);
        }
        apr_pool_destroy(p);
    }
    return NULL;
}

/* A burst of requests for a document nobody has yet: cold, with and
 * without the machine's shared memory. */
static void cold_burst(apr_pool_t *pconf, int shared)
{
    /* with shared memory, a slot for each of the two documents below */
    apr_pool_t *pchild = start_httpd(pconf, shared ? 2 : 0);
    apr_uint32_t got = 0;

    spec.url = shared ? "cold shared" : "cold";
    spec.retry = 5;
    slow_fetch = 1;

    /* the provider fails: one request asks it, the burst learns why */
    failing_fetch = 1;
    burst(cold_request, &got, pchild);
    assert_int_equal(apr_atomic_read32(&fetches), 1);
    assert_int_equal(apr_atomic_read32(&got), 0);

    /* it answers again: one fetch serves the whole burst */
    failing_fetch = 0;
    spec.url = shared ? "cold shared, again" : "cold, again";
    burst(cold_request, &got, pchild);
    assert_int_equal(apr_atomic_read32(&fetches), 2);
    assert_int_equal(apr_atomic_read32(&got), BURST);

    slow_fetch = 0;
    stop_httpd(pchild);
}

/* A provider that takes longer to fail than a failure is remembered
 * (a service token: retried after 5 s, a timeout of 10 s): the burst
 * that waited takes the failure it waited for, and asks nothing. */
static void slow_failure_fetches_once(void **state_)
{
    apr_pool_t *pchild = start_httpd(*state_, 0);
    apr_uint32_t got = 0;

    spec.url = "slow failure";
    spec.retry = 1;
    slow_fetch = 1;
    slow_ms = 2100;
    failing_fetch = 1;
    burst(cold_request, &got, pchild);
    assert_int_equal(apr_atomic_read32(&fetches), 1);
    assert_int_equal(apr_atomic_read32(&got), 0);
    slow_fetch = 0;
    slow_ms = 100;
    failing_fetch = 0;
    stop_httpd(pchild);
}

static void cold_burst_fetches_once(void **state_)
{
    cold_burst(*state_, 0);
}

static void cold_burst_fetches_once_for_the_machine(void **state_)
{
    cold_burst(*state_, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(copy_outlives_replacements,
                                        oac_test_setup, oac_test_teardown),
        cmocka_unit_test_setup_teardown(fast_path_follows_the_machine,
                                        oac_test_setup, oac_test_teardown),
        cmocka_unit_test_setup_teardown(cold_burst_fetches_once,
                                        oac_test_setup, oac_test_teardown),
        cmocka_unit_test_setup_teardown(cold_burst_fetches_once_for_the_machine,
                                        oac_test_setup, oac_test_teardown),
        cmocka_unit_test_setup_teardown(slow_failure_fetches_once,
                                        oac_test_setup, oac_test_teardown),
    };

    return cmocka_run_group_tests_name("mod_oauthclient_docs", tests,
                                       oac_test_group_setup,
                                       oac_test_group_teardown);
}
