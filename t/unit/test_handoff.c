/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_handoff.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "oac_handoff.h"

/* A fixed clock so ages are exact. */
#define NOW APR_INT64_C(1700000000)
#define PATIENCE 30
#define SLOTS 8

#define RT_A "tGzv3JOkF0XG5Qx2TlKWIA-refresh-token-a"
#define RT_B "8xLOxBtZp8-refresh-token-b"
#define RESULT_A "{\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\"," \
                 "\"refresh_token\":\"NEWrefreshTOKENvalueXYZ\"," \
                 "\"expires_at\":1700003600}"

typedef struct {
    apr_pool_t *p;
    void *mem;
    apr_size_t size;
} fixture_t;

static fixture_t *make_fixture(int slots)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (!f || apr_pool_create(&f->p, NULL) != APR_SUCCESS) {
        free(f);
        return NULL;
    }
    f->size = oac_handoff_size(slots);
    /* malloc's alignment is what apr_shm_baseaddr_get() gives too. */
    f->mem = malloc(f->size);
    if (!f->mem) {
        apr_pool_destroy(f->p);
        free(f);
        return NULL;
    }
    /* Garbage first: init must not rely on zeroed memory. */
    memset(f->mem, 0xA5, f->size);
    oac_handoff_init(f->mem, slots);
    return f;
}

static int setup(void **state)
{
    *state = make_fixture(SLOTS);
    return *state ? 0 : -1;
}

/* The same table over memory that starts zeroed, initialised without
 * writing the slots (how the module does it on fresh shared memory). */
static void zeroed_init_is_an_empty_table(void **state)
{
    apr_size_t size = oac_handoff_size(4);
    void *mem = calloc(1, size);
    apr_pool_t *p;
    char *result = NULL;

    (void)state;
    assert_non_null(mem);
    apr_pool_create(&p, NULL);
    oac_handoff_init_zeroed(mem, 4);
    assert_int_equal(oac_handoff_begin(&result, p, mem, RT_A, NOW, PATIENCE),
                     OAC_HANDOFF_MINE);
    oac_handoff_finish(mem, RT_A, RESULT_A, NOW + 1);
    assert_int_equal(oac_handoff_begin(&result, p, mem, RT_A, NOW + 2,
                                       PATIENCE), OAC_HANDOFF_DONE);
    assert_string_equal(result, RESULT_A);
    assert_int_equal(oac_handoff_begin(&result, p, mem, RT_B, NOW + 2,
                                       PATIENCE), OAC_HANDOFF_MINE);
    assert_int_equal(oac_handoff_live_evictions(mem), 0);
    apr_pool_destroy(p);
    free(mem);
}

static int setup_small(void **state)
{
    *state = make_fixture(3);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    apr_pool_destroy(f->p);
    free(f->mem);
    free(f);
    return 0;
}

static oac_handoff_e begin(fixture_t *f, const char *rt, apr_int64_t now,
                           char **presult)
{
    return oac_handoff_begin(presult, f->p, f->mem, rt, now, PATIENCE);
}

/* begin must return DONE with exactly expected. */
static void assert_done(fixture_t *f, const char *rt, apr_int64_t now,
                        const char *expected)
{
    char *result = NULL;

    assert_int_equal(begin(f, rt, now, &result), OAC_HANDOFF_DONE);
    assert_non_null(result);
    assert_string_equal(result, expected);
}

/* begin must return e without touching *presult. */
static void assert_begin(fixture_t *f, const char *rt, apr_int64_t now,
                         oac_handoff_e e)
{
    char sentinel, *result = &sentinel;

    assert_int_equal(begin(f, rt, now, &result), e);
    assert_ptr_equal(result, &sentinel);
}

/* ---- size and init ---------------------------------------------------- */

static void size_grows_per_slot(void **state)
{
    apr_size_t one = oac_handoff_size(1);
    apr_size_t per_slot = (oac_handoff_size(257) - one) / 256;

    (void)state;
    /* a header of ~80 bytes and the ciphertext room, no more */
    assert_true(per_slot >= OAC_HANDOFF_MAX_RESULT);
    assert_true(per_slot < OAC_HANDOFF_MAX_RESULT + 256);
    assert_int_equal(oac_handoff_size(2048) % 8, 0);
    assert_int_equal(oac_handoff_size(0), one);
    assert_int_equal(oac_handoff_size(-5), one);
}

/* The slots' headers come first, together: looking a token up, or
 * choosing a slot, reads them and no ciphertext page. A result is written
 * only into its own slot's room, and wiped from there only. */
static void headers_apart_from_results(void **state)
{
    apr_size_t size = oac_handoff_size(64);
    unsigned char *mem = calloc(1, size);
    apr_pool_t *p;
    char *result = NULL;
    apr_size_t i, touched = 0, first = size;

    (void)state;
    assert_non_null(mem);
    apr_pool_create(&p, NULL);
    oac_handoff_init_zeroed(mem, 64);
    assert_int_equal(oac_handoff_begin(&result, p, mem, RT_A, NOW, PATIENCE),
                     OAC_HANDOFF_MINE);
    oac_handoff_finish(mem, RT_A, RESULT_A, NOW);
    for (i = 0; i < size; ++i) {
        if (mem[i]) {
            first = i < first ? i : first;
            touched = i;
        }
    }
    /* everything written lies in the first 8 KiB (64 headers) or in one
     * result's room just after them */
    assert_true(first < 64);
    assert_true(touched < 8192 + sizeof(RESULT_A) + 64);
    assert_int_equal(oac_handoff_begin(&result, p, mem, RT_A, NOW, PATIENCE),
                     OAC_HANDOFF_DONE);
    assert_string_equal(result, RESULT_A);
    apr_pool_destroy(p);
    free(mem);
}

static void uninitialised_memory_is_uncoordinated(void **state)
{
    fixture_t *f = *state;
    unsigned char *copy = malloc(f->size);

    assert_non_null(copy);
    memset(f->mem, 0, f->size);
    memcpy(copy, f->mem, f->size);
    /* MINE every time, and nothing written. */
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    assert_memory_equal(copy, f->mem, f->size);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    free(copy);
}

static void null_or_empty_token_is_uncoordinated(void **state)
{
    fixture_t *f = *state;
    unsigned char *copy = malloc(f->size);

    assert_non_null(copy);
    memcpy(copy, f->mem, f->size);
    assert_begin(f, NULL, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, NULL, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, "", NOW, OAC_HANDOFF_MINE);
    assert_begin(f, "", NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, NULL, RESULT_A, NOW);
    oac_handoff_finish(f->mem, "", RESULT_A, NOW);
    assert_memory_equal(copy, f->mem, f->size);
    free(copy);
}

/* ---- the protocol ----------------------------------------------------- */

static void first_mine_then_wait(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_WAIT);
    assert_begin(f, RT_A, NOW + 1, OAC_HANDOFF_WAIT);
    assert_begin(f, RT_A, NOW + PATIENCE - 1, OAC_HANDOFF_WAIT);
}

static void result_goes_to_every_waiter(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_WAIT);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW + 2);
    assert_done(f, RT_A, NOW + 2, RESULT_A);
    assert_done(f, RT_A, NOW + 3, RESULT_A);
    assert_done(f, RT_A, NOW + 2 + OAC_HANDOFF_TTL - 1, RESULT_A);
}

static void empty_and_max_size_results(void **state)
{
    fixture_t *f = *state;
    char *big = apr_palloc(f->p, OAC_HANDOFF_MAX_RESULT + 1);

    memset(big, 'x', OAC_HANDOFF_MAX_RESULT);
    big[0] = '{';
    big[OAC_HANDOFF_MAX_RESULT - 1] = '}';
    big[OAC_HANDOFF_MAX_RESULT] = '\0';

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, "", NOW);
    assert_done(f, RT_A, NOW, "");

    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_B, big, NOW);
    assert_done(f, RT_B, NOW, big);
}

static void failure_goes_to_every_waiter(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_WAIT);
    oac_handoff_finish(f->mem, RT_A, NULL, NOW + 1);
    assert_begin(f, RT_A, NOW + 1, OAC_HANDOFF_FAILED);
    assert_begin(f, RT_A, NOW + 1 + OAC_HANDOFF_TTL - 1, OAC_HANDOFF_FAILED);
}

static void tokens_are_independent(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_WAIT);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_WAIT);
    /* A prefix of a token is another token. */
    assert_begin(f, "tGzv3JOkF0XG5Qx2TlKWIA", NOW, OAC_HANDOFF_MINE);

    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    assert_done(f, RT_A, NOW, RESULT_A);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_WAIT);

    oac_handoff_finish(f->mem, RT_B, NULL, NOW);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_FAILED);
    assert_done(f, RT_A, NOW, RESULT_A);
}

static void stale_claim_is_taken_over(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW + PATIENCE - 1, OAC_HANDOFF_WAIT);
    /* The first refresher died: the next caller claims, once. */
    assert_begin(f, RT_A, NOW + PATIENCE, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW + PATIENCE, OAC_HANDOFF_WAIT);
    assert_begin(f, RT_A, NOW + 2 * PATIENCE - 1, OAC_HANDOFF_WAIT);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW + PATIENCE + 5);
    assert_done(f, RT_A, NOW + PATIENCE + 5, RESULT_A);
}

static void patience_is_per_call(void **state)
{
    fixture_t *f = *state;
    char *result = NULL;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_int_equal(oac_handoff_begin(&result, f->p, f->mem, RT_A, NOW + 9,
                                       10), OAC_HANDOFF_WAIT);
    assert_int_equal(oac_handoff_begin(&result, f->p, f->mem, RT_B, NOW, 0),
                     OAC_HANDOFF_MINE);
    /* patience 0: no claim is ever waited for. */
    assert_int_equal(oac_handoff_begin(&result, f->p, f->mem, RT_B, NOW, 0),
                     OAC_HANDOFF_MINE);
}

static void outcomes_expire(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    assert_done(f, RT_A, NOW + OAC_HANDOFF_TTL - 1, RESULT_A);
    assert_begin(f, RT_A, NOW + OAC_HANDOFF_TTL, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW + OAC_HANDOFF_TTL, OAC_HANDOFF_WAIT);

    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_B, NULL, NOW);
    assert_begin(f, RT_B, NOW + OAC_HANDOFF_TTL - 1, OAC_HANDOFF_FAILED);
    assert_begin(f, RT_B, NOW + OAC_HANDOFF_TTL + 100, OAC_HANDOFF_MINE);
}

static void clock_stepping_back_pins_nothing(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW - 1, OAC_HANDOFF_WAIT);
    assert_begin(f, RT_A, NOW - PATIENCE, OAC_HANDOFF_MINE);

    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_B, RESULT_A, NOW);
    assert_done(f, RT_B, NOW - 5, RESULT_A);
    assert_begin(f, RT_B, NOW - OAC_HANDOFF_TTL, OAC_HANDOFF_MINE);
}

static void failure_never_replaces_result(void **state)
{
    fixture_t *f = *state;

    /* A second refresher (after a stale claim) fails with the spent
     * token after the first one succeeded. */
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW + PATIENCE, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW + PATIENCE + 1);
    oac_handoff_finish(f->mem, RT_A, NULL, NOW + PATIENCE + 2);
    assert_done(f, RT_A, NOW + PATIENCE + 2, RESULT_A);

    /* A result does replace a failure, and a newer result an older one. */
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_B, NULL, NOW);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_FAILED);
    oac_handoff_finish(f->mem, RT_B, "second", NOW + 1);
    assert_done(f, RT_B, NOW + 1, "second");
    oac_handoff_finish(f->mem, RT_B, "third", NOW + 2);
    assert_done(f, RT_B, NOW + 2, "third");

    /* Once the result is dead, a failure is recorded again. */
    oac_handoff_finish(f->mem, RT_B, NULL, NOW + 2 + OAC_HANDOFF_TTL);
    assert_begin(f, RT_B, NOW + 2 + OAC_HANDOFF_TTL, OAC_HANDOFF_FAILED);
}

static void finish_without_claim_is_kept(void **state)
{
    fixture_t *f = *state;

    /* The claim's slot was reused meanwhile: late waiters still learn. */
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    assert_done(f, RT_A, NOW, RESULT_A);
    oac_handoff_finish(f->mem, RT_B, NULL, NOW);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_FAILED);
}

static void too_large_result_is_unshared(void **state)
{
    fixture_t *f = *state;
    char *big = apr_palloc(f->p, OAC_HANDOFF_MAX_RESULT + 2);

    memset(big, 'q', OAC_HANDOFF_MAX_RESULT + 1);
    big[OAC_HANDOFF_MAX_RESULT + 1] = '\0';

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_WAIT);
    oac_handoff_finish(f->mem, RT_A, big, NOW);
    /* Not MINE: a second refresh would spend the old token again; not
     * FAILED: the refresh succeeded, and a waiter that logged the user
     * out would undo it. */
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_UNSHARED);
    assert_begin(f, RT_A, NOW + OAC_HANDOFF_TTL - 1, OAC_HANDOFF_UNSHARED);
    assert_null(memmem(f->mem, f->size, "qqqqqqqq", 8));
    /* A late failure (a second refresher after a stale claim) does not
     * replace it, as on a key-value store. */
    oac_handoff_finish(f->mem, RT_A, NULL, NOW + 1);
    assert_begin(f, RT_A, NOW + 1, OAC_HANDOFF_UNSHARED);
    /* And it expires like any outcome. */
    assert_begin(f, RT_A, NOW + OAC_HANDOFF_TTL, OAC_HANDOFF_MINE);
    /* A result of exactly the limit is still handed over. */
    big[OAC_HANDOFF_MAX_RESULT] = '\0';
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_B, big, NOW);
    assert_done(f, RT_B, NOW, big);
}

/* ---- a full table ----------------------------------------------------- */

static const char *const rts[] = { "rt-0", "rt-1", "rt-2", "rt-3" };

static void full_table_evicts_oldest_finished(void **state)
{
    fixture_t *f = *state;    /* 3 slots */

    assert_begin(f, rts[0], NOW, OAC_HANDOFF_MINE);
    assert_begin(f, rts[1], NOW + 1, OAC_HANDOFF_MINE);
    assert_begin(f, rts[2], NOW + 2, OAC_HANDOFF_MINE);
    /* rts[1] finished first in time, rts[2] later; rts[0] still busy
     * (and the oldest slot of all). */
    oac_handoff_finish(f->mem, rts[2], "two", NOW + 4);
    oac_handoff_finish(f->mem, rts[1], "one", NOW + 3);

    assert_begin(f, rts[3], NOW + 5, OAC_HANDOFF_MINE);

    /* Check the survivors first: they are not changed by begin. */
    assert_begin(f, rts[0], NOW + 5, OAC_HANDOFF_WAIT);
    assert_done(f, rts[2], NOW + 5, "two");
    assert_begin(f, rts[3], NOW + 5, OAC_HANDOFF_WAIT);
    /* rts[1]'s result was evicted: it is claimable again. */
    assert_begin(f, rts[1], NOW + 5, OAC_HANDOFF_MINE);
    /* both evictions took a slot still in use, and are counted */
    assert_int_equal(oac_handoff_live_evictions(f->mem), 2);
}

static void full_table_of_claims_evicts_oldest(void **state)
{
    fixture_t *f = *state;    /* 3 slots */

    assert_begin(f, rts[1], NOW + 1, OAC_HANDOFF_MINE);
    assert_begin(f, rts[0], NOW, OAC_HANDOFF_MINE);
    assert_begin(f, rts[2], NOW + 2, OAC_HANDOFF_MINE);
    assert_begin(f, rts[3], NOW + 3, OAC_HANDOFF_MINE);

    assert_begin(f, rts[1], NOW + 3, OAC_HANDOFF_WAIT);
    assert_begin(f, rts[2], NOW + 3, OAC_HANDOFF_WAIT);
    assert_begin(f, rts[3], NOW + 3, OAC_HANDOFF_WAIT);
    assert_begin(f, rts[0], NOW + 3, OAC_HANDOFF_MINE);
}

static void full_table_prefers_dead_slots(void **state)
{
    fixture_t *f = *state;    /* 3 slots */

    assert_begin(f, rts[0], NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, rts[0], "zero", NOW);
    assert_begin(f, rts[1], NOW + 50, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, rts[1], "one", NOW + 50);
    assert_begin(f, rts[2], NOW + 50, OAC_HANDOFF_MINE);
    /* rts[2]'s claim has gone stale, rts[0]'s result is dead from NOW+60;
     * rts[1]'s result is the oldest live one and stays. */
    assert_begin(f, rts[3], NOW + 90, OAC_HANDOFF_MINE);
    assert_begin(f, "rt-4", NOW + 90, OAC_HANDOFF_MINE);
    assert_done(f, rts[1], NOW + 90, "one");
    assert_begin(f, rts[3], NOW + 90, OAC_HANDOFF_WAIT);
    assert_begin(f, "rt-4", NOW + 90, OAC_HANDOFF_WAIT);
    /* only dead slots were reused: no promise broken */
    assert_int_equal(oac_handoff_live_evictions(f->mem), 0);
}

/* ---- what the memory holds -------------------------------------------- */

static void memory_holds_no_secret(void **state)
{
    fixture_t *f = *state;

    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    assert_begin(f, RT_B, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    oac_handoff_finish(f->mem, RT_B, RESULT_A, NOW);
    assert_done(f, RT_A, NOW, RESULT_A);

    assert_null(memmem(f->mem, f->size, RT_A, strlen(RT_A)));
    assert_null(memmem(f->mem, f->size, RT_B, strlen(RT_B)));
    assert_null(memmem(f->mem, f->size, RESULT_A, strlen(RESULT_A)));
    /* Nor any recognisable part of them. */
    assert_null(memmem(f->mem, f->size, "tGzv3JOk", 8));
    assert_null(memmem(f->mem, f->size, "2YotnFZF", 8));
    assert_null(memmem(f->mem, f->size, "NEWrefresh", 10));
    assert_null(memmem(f->mem, f->size, "access_token", 12));
}

static void same_result_encrypts_differently(void **state)
{
    fixture_t *f = *state;
    unsigned char *first = malloc(f->size);

    assert_non_null(first);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    memcpy(first, f->mem, f->size);
    /* Same token, same result, same time: only the nonce differs, and
     * with it the whole ciphertext. */
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    assert_memory_not_equal(first, f->mem, f->size);
    assert_done(f, RT_A, NOW, RESULT_A);
    free(first);
}

/*
 * Flips, one at a time, every byte that finish() wrote, restoring the table
 * after each: begin may then see no slot (id or stamp damaged), a claim, or
 * a failure, but never DONE with anything, and the ciphertext, nonce and
 * tag bytes all give FAILED. Layout-independent on purpose.
 */
static void tampering_never_yields_garbage(void **state)
{
    fixture_t *f = *state;
    unsigned char *before = malloc(f->size), *after = malloc(f->size);
    apr_size_t i, changed = 0, failed = 0;

    assert_non_null(before);
    assert_non_null(after);
    assert_begin(f, RT_A, NOW, OAC_HANDOFF_MINE);
    memcpy(before, f->mem, f->size);
    oac_handoff_finish(f->mem, RT_A, RESULT_A, NOW);
    memcpy(after, f->mem, f->size);
    assert_done(f, RT_A, NOW, RESULT_A);

    for (i = 0; i < f->size; ++i) {
        unsigned char *mem = f->mem;
        char *result = NULL;
        oac_handoff_e e;

        if (before[i] == after[i]) {
            continue;
        }
        ++changed;
        mem[i] ^= 0x01;
        e = begin(f, RT_A, NOW, &result);
        if (e == OAC_HANDOFF_DONE) {
            fail_msg("flipping byte %lu gave DONE \"%s\"",
                     (unsigned long)i, result ? result : "(null)");
        }
        assert_null(result);
        if (e == OAC_HANDOFF_FAILED) {
            ++failed;
        }
        memcpy(f->mem, after, f->size);
    }
    /* ciphertext + tag + nonce, less the few bytes that happened to be
     * equal before and after. */
    assert_true(changed >= strlen(RESULT_A));
    assert_true(failed + 8 >= strlen(RESULT_A) + 16 + 12);
    assert_done(f, RT_A, NOW, RESULT_A);
    free(before);
    free(after);
}

/* ---- threads ------------------------------------------------------------ */

#define NTHREADS 8

typedef struct {
    pthread_mutex_t *lock;
    pthread_barrier_t *start;
    void *mem;
    apr_pool_t *p;
    int mine;
    int waits;
    const char *result;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    int tries;

    pthread_barrier_wait(w->start);
    /* Bounded, so a bug fails the test instead of hanging it. */
    for (tries = 0; tries < 2000; ++tries) {
        char *result = NULL;
        oac_handoff_e e;
        apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());

        pthread_mutex_lock(w->lock);
        e = oac_handoff_begin(&result, w->p, w->mem, RT_A, now, PATIENCE);
        if (e == OAC_HANDOFF_MINE) {
            ++w->mine;
            pthread_mutex_unlock(w->lock);
            usleep(20000);   /* the provider answering */
            pthread_mutex_lock(w->lock);
            oac_handoff_finish(w->mem, RT_A, "NEW",
                               (apr_int64_t)apr_time_sec(apr_time_now()));
            pthread_mutex_unlock(w->lock);
            w->result = "NEW";
            return NULL;
        }
        pthread_mutex_unlock(w->lock);
        if (e == OAC_HANDOFF_DONE) {
            w->result = result;
            return NULL;
        }
        if (e == OAC_HANDOFF_FAILED) {
            w->result = "FAILED";
            return NULL;
        }
        ++w->waits;
        usleep(5000);
    }
    w->result = "GAVE UP";
    return NULL;
}

static void parallel_requests_refresh_once(void **state)
{
    fixture_t *f = *state;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_barrier_t start;
    pthread_t tid[NTHREADS];
    worker_t w[NTHREADS];
    int i, mine = 0, waits = 0;

    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    for (i = 0; i < NTHREADS; ++i) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].lock = &lock;
        w[i].start = &start;
        w[i].mem = f->mem;
        /* One pool per thread: a pool is not thread-safe. */
        assert_int_equal(apr_pool_create(&w[i].p, f->p), APR_SUCCESS);
    }
    for (i = 0; i < NTHREADS; ++i) {
        assert_int_equal(pthread_create(&tid[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; ++i) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    }
    for (i = 0; i < NTHREADS; ++i) {
        mine += w[i].mine;
        waits += w[i].waits;
        assert_non_null(w[i].result);
        assert_string_equal(w[i].result, "NEW");
    }
    assert_int_equal(mine, 1);
    /* The 20 ms refresh made someone wait: WAIT was exercised. */
    assert_true(waits >= 1);
    pthread_barrier_destroy(&start);
    pthread_mutex_destroy(&lock);
}

/* ---- the same protocol on a shared key-value store (OAuthCache memcache
 * and dbd), against a fake store with its own clock ---------------------- */

#define KV_MAX 16

typedef struct {
    char *name[KV_MAX];
    char *value[KV_MAX];
    apr_int64_t expires[KV_MAX];
    apr_int64_t clock;
    int fail;           /* every call answers OAC_KV_ERROR */
    int adds, sets;
} fake_kv_t;

static int kv_find(fake_kv_t *f, const char *name)
{
    int i;
    for (i = 0; i < KV_MAX; ++i) {
        if (f->name[i] && !strcmp(f->name[i], name)
            && f->expires[i] > f->clock) {
            return i;
        }
    }
    return -1;
}

static void kv_put(fake_kv_t *f, const char *name, const char *value,
                   apr_int64_t ttl)
{
    int i = kv_find(f, name);
    if (i < 0) {
        for (i = 0; i < KV_MAX; ++i) {
            if (!f->name[i] || f->expires[i] <= f->clock) {
                break;
            }
        }
        assert_true(i < KV_MAX);
    }
    free(f->name[i]);
    free(f->value[i]);
    f->name[i] = strdup(name);
    f->value[i] = strdup(value);
    f->expires[i] = f->clock + ttl;
}

static oac_kv_e fake_get(void *baton, apr_pool_t *p, const char *name,
                         char **pvalue)
{
    fake_kv_t *f = baton;
    int i;
    if (f->fail) {
        return OAC_KV_ERROR;
    }
    if ((i = kv_find(f, name)) < 0) {
        return OAC_KV_NOTFOUND;
    }
    *pvalue = apr_pstrdup(p, f->value[i]);
    return OAC_KV_OK;
}

static oac_kv_e fake_add(void *baton, apr_pool_t *p, const char *name,
                         const char *value, apr_int64_t ttl)
{
    fake_kv_t *f = baton;
    (void)p;
    if (f->fail) {
        return OAC_KV_ERROR;
    }
    f->adds++;
    if (kv_find(f, name) >= 0) {
        return OAC_KV_EXISTS;
    }
    kv_put(f, name, value, ttl);
    return OAC_KV_OK;
}

static oac_kv_e fake_set(void *baton, apr_pool_t *p, const char *name,
                         const char *value, apr_int64_t ttl)
{
    fake_kv_t *f = baton;
    (void)p;
    if (f->fail) {
        return OAC_KV_ERROR;
    }
    f->sets++;
    kv_put(f, name, value, ttl);
    return OAC_KV_OK;
}

static void fake_free(fake_kv_t *f)
{
    int i;
    for (i = 0; i < KV_MAX; ++i) {
        free(f->name[i]);
        free(f->value[i]);
    }
}

static oac_handoff_e kv_begin(apr_pool_t *p, const oac_kv_t *kv,
                              const char *key, char **result)
{
    oac_handoff_e state = (oac_handoff_e)-1;
    *result = NULL;
    assert_int_equal(oac_handoff_kv_begin(&state, result, p, kv, key,
                                          PATIENCE), APR_SUCCESS);
    return state;
}

static void kv_claim_wait_result(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *result;

    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    /* another node, same token: waits; another token: its own claim */
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_WAIT);
    assert_int_equal(kv_begin(f->p, &kv, RT_B, &result), OAC_HANDOFF_MINE);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, RESULT_A),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_DONE);
    assert_string_equal(result, RESULT_A);
    /* kept OAC_HANDOFF_TTL seconds, then gone: a new refresh */
    store.clock += OAC_HANDOFF_TTL - 1;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_DONE);
    store.clock += 1 + PATIENCE;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    fake_free(&store);
}

static void kv_lapsed_claim_is_taken_again(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *result;

    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    store.clock += PATIENCE - 1;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_WAIT);
    /* the holder died: its claim lapses after the patience given */
    store.clock += 1;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    fake_free(&store);
}

static void kv_failure_never_replaces_result(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *result;

    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_B, NULL),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_B, &result), OAC_HANDOFF_FAILED);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, RESULT_A),
                     APR_SUCCESS);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, NULL),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_DONE);
    assert_string_equal(result, RESULT_A);
    fake_free(&store);
}

static void kv_store_holds_no_secret(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *result;
    int i;

    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, RESULT_A),
                     APR_SUCCESS);
    for (i = 0; i < KV_MAX; ++i) {
        if (!store.name[i]) {
            continue;
        }
        /* names a memcached key or a VARCHAR(80) takes */
        assert_true(strlen(store.name[i]) <= 80);
        assert_null(strstr(store.name[i], "refresh-token"));
        assert_null(strstr(store.value[i], "refresh-token"));
        assert_null(strstr(store.value[i], "2YotnFZFEjr1zCsicMWpAA"));
        assert_null(strstr(store.value[i], "NEWrefreshTOKEN"));
    }
    fake_free(&store);
}

static void kv_tampering_is_a_failure(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *result;
    int i, tampered = 0;

    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, RESULT_A),
                     APR_SUCCESS);
    for (i = 0; i < KV_MAX; ++i) {
        if (store.value[i] && store.value[i][0] == 'R') {
            size_t n = strlen(store.value[i]);
            store.value[i][n - 3] = store.value[i][n - 3] == 'A' ? 'B' : 'A';
            tampered = 1;
        }
    }
    assert_true(tampered);
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_FAILED);
    assert_null(result);
    fake_free(&store);
}

static void kv_large_result_round_trips(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *big = apr_palloc(f->p, 10001), *result;

    /* a JWT access token and refresh token of 5 KB each */
    memset(big, 'j', 10000);
    big[10000] = '\0';
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, big),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_DONE);
    assert_string_equal(result, big);
    fake_free(&store);
}

static void kv_too_large_result_is_unshared(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    char *big = apr_palloc(f->p, OAC_HANDOFF_MAX_RESULT + 2), *result;
    int i;

    memset(big, 'q', OAC_HANDOFF_MAX_RESULT + 1);
    big[OAC_HANDOFF_MAX_RESULT + 1] = '\0';
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, big),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_UNSHARED);
    assert_null(result);
    for (i = 0; i < KV_MAX; ++i) {
        assert_true(!store.value[i] || !strstr(store.value[i], "qqqq"));
    }
    /* kept as long as a result, then a new refresh */
    store.clock += OAC_HANDOFF_TTL - 1;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_UNSHARED);
    store.clock += 1 + PATIENCE;
    assert_int_equal(kv_begin(f->p, &kv, RT_A, &result), OAC_HANDOFF_MINE);

    /* Another machine's result is not replaced by it, nor by the outcome
     * learnt on this machine (oac_handoff_kv_finish_unshared). */
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_B, RESULT_A),
                     APR_SUCCESS);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_B, big),
                     APR_SUCCESS);
    assert_int_equal(oac_handoff_kv_finish_unshared(f->p, &kv, RT_B),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, RT_B, &result), OAC_HANDOFF_DONE);
    assert_string_equal(result, RESULT_A);

    /* Published without the result, it reads the same. */
    assert_int_equal(oac_handoff_kv_finish_unshared(f->p, &kv, "rt-c"),
                     APR_SUCCESS);
    assert_int_equal(kv_begin(f->p, &kv, "rt-c", &result),
                     OAC_HANDOFF_UNSHARED);
    /* "T" with anything after it is no outcome this code wrote */
    for (i = 0; i < KV_MAX; ++i) {
        if (store.value[i] && !strcmp(store.value[i], "T")) {
            free(store.value[i]);
            store.value[i] = strdup("Tx");
        }
    }
    assert_int_equal(kv_begin(f->p, &kv, "rt-c", &result), OAC_HANDOFF_FAILED);
    fake_free(&store);
}

static void kv_store_failure_is_reported(void **state)
{
    fixture_t *f = *state;
    fake_kv_t store = { .clock = NOW, .fail = 1 };
    oac_kv_t kv = { &store, fake_get, fake_add, fake_set };
    oac_handoff_e st = OAC_HANDOFF_WAIT;
    char *result = NULL;

    assert_int_equal(oac_handoff_kv_begin(&st, &result, f->p, &kv, RT_A,
                                          PATIENCE), APR_EGENERAL);
    assert_int_equal(st, OAC_HANDOFF_WAIT);
    assert_int_equal(oac_handoff_kv_finish(f->p, &kv, RT_A, RESULT_A),
                     APR_EGENERAL);
    /* no token: nothing to coordinate, and nothing asked of the store */
    assert_int_equal(oac_handoff_kv_begin(&st, &result, f->p, &kv, "",
                                          PATIENCE), APR_SUCCESS);
    assert_int_equal(st, OAC_HANDOFF_MINE);
    fake_free(&store);
}

/* The hand-off table fixture instead of a plain pool (oac_test.h's T). */
#define TH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T3(f) cmocka_unit_test_setup_teardown(f, setup_small, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH(size_grows_per_slot),
        TH(headers_apart_from_results),
        TH(zeroed_init_is_an_empty_table),
        TH(uninitialised_memory_is_uncoordinated),
        TH(null_or_empty_token_is_uncoordinated),
        TH(first_mine_then_wait),
        TH(result_goes_to_every_waiter),
        TH(empty_and_max_size_results),
        TH(failure_goes_to_every_waiter),
        TH(tokens_are_independent),
        TH(stale_claim_is_taken_over),
        TH(patience_is_per_call),
        TH(outcomes_expire),
        TH(clock_stepping_back_pins_nothing),
        TH(failure_never_replaces_result),
        TH(finish_without_claim_is_kept),
        TH(too_large_result_is_unshared),
        T3(full_table_evicts_oldest_finished),
        T3(full_table_of_claims_evicts_oldest),
        T3(full_table_prefers_dead_slots),
        TH(memory_holds_no_secret),
        TH(same_result_encrypts_differently),
        TH(tampering_never_yields_garbage),
        TH(parallel_requests_refresh_once),
        TH(kv_claim_wait_result),
        TH(kv_lapsed_claim_is_taken_again),
        TH(kv_failure_never_replaces_result),
        TH(kv_store_holds_no_secret),
        TH(kv_tampering_is_a_failure),
        TH(kv_large_result_round_trips),
        TH(kv_too_large_result_is_unshared),
        TH(kv_store_failure_is_reported),
    };

    return OAC_RUN_TESTS("oac_handoff", tests);
}
