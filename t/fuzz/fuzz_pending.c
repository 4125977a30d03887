/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Logins in flight kept in the session (oac_pending_decode / encode /
 * add / take). Input: the stored list, as a client may send it back.
 */

#include "fuzz_common.h"
#include "oac_pending.h"

#define NOW APR_INT64_C(1700000000)

static int entry_equal(const oac_pending_t *a, const oac_pending_t *b)
{
    return fuzz_streq(a->state, b->state)
           && fuzz_streq(a->verifier, b->verifier)
           && fuzz_streq(a->next, b->next)
           && fuzz_streq(a->secret, b->secret)
           && a->expires_at == b->expires_at;
}

static int list_equal(const apr_array_header_t *a,
                      const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; ++i) {
        if (!entry_equal(&APR_ARRAY_IDX(a, i, oac_pending_t),
                         &APR_ARRAY_IDX(b, i, oac_pending_t))) {
            return 0;
        }
    }
    return 1;
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *list, *again;
    const char *s, *err = NULL, *e;
    oac_pending_t taken, first;
    int i, n;

    apr_pool_create(&p, NULL);
    s = apr_pstrmemdup(p, (const char *)data, size);
    if (oac_pending_decode(&list, &err, p, s, NOW) != APR_SUCCESS) {
        CHECK(err != NULL && fuzz_printable(err));
        apr_pool_destroy(p);
        return 0;
    }
    /* Only live entries with a state come out: an expired or stateless
     * entry must never be taken by a callback. */
    for (i = 0; i < list->nelts; ++i) {
        const oac_pending_t *x = &APR_ARRAY_IDX(list, i, oac_pending_t);
        CHECK(x->state && *x->state && x->expires_at > NOW);
    }
    /* Round trip: what decode gives, encode keeps entirely, and the text
     * is stable from then on. */
    e = oac_pending_encode(p, list);
    CHECK(oac_pending_decode(&again, &err, p, e, NOW) == APR_SUCCESS);
    CHECK(list_equal(list, again));
    CHECK(strcmp(oac_pending_encode(p, again), e) == 0);
    CHECK(list->nelts > 0 || *e == '\0');

    if (list->nelts > 0) {
        /* take: exactly the first entry with that state, once. */
        first = APR_ARRAY_IDX(list, 0, oac_pending_t);
        n = list->nelts;
        CHECK(oac_pending_take(&taken, again, first.state) == 1);
        CHECK(entry_equal(&taken, &first));
        CHECK(again->nelts == n - 1);
        for (i = 0; i < again->nelts; ++i) {
            CHECK(entry_equal(&APR_ARRAY_IDX(again, i, oac_pending_t),
                              &APR_ARRAY_IDX(list, i + 1, oac_pending_t)));
        }
        /* add bounds the list: the oldest go first. */
        oac_pending_add(again, &first, 2);
        CHECK(again->nelts <= 2);
        CHECK(entry_equal(&APR_ARRAY_IDX(again, again->nelts - 1,
                                         oac_pending_t), &first));
    }
    CHECK(oac_pending_take(&taken, list, NULL) == 0);
    apr_pool_destroy(p);
    return 0;
}
