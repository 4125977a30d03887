/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The refresh hand-off table (oac_handoff.h), driven by a script of
 * begin / finish calls from several holders of a few refresh tokens, with
 * the clock moving both ways, and optionally with bytes of the shared
 * memory damaged in between.
 *
 * Input: a script of operations. Each starts with a byte
 * (kind = b & 3, token = (b >> 2) % NTOK) and a signed clock step:
 *   0  begin, patience from the next byte
 *   1  finish, result length from the next byte (0: failed refresh,
 *      255: too large), the result bytes following
 *   2  damage: the byte at offset (next 2 bytes) XOR the byte after
 *      (at most once in the table's header)
 *   3  begin, patience 30
 */

#include "fuzz_common.h"
#include "oac_handoff.h"

#define SLOTS 3
#define NTOK 5           /* the last one is "": never coordinated */
#define T0 APR_INT64_C(1700000000)

#define SLOT_BYTES (oac_handoff_size(2) - oac_handoff_size(1))

/* Bytes before the first slot (magic, slot count, its complement): the
 * table's size less its slots'. */
#define HEADER_BYTES (oac_handoff_size(SLOTS) - SLOTS * SLOT_BYTES)

static const char *const tokens[NTOK] = {
    "rt-alpha", "rt-beta", "rt-gamma", "rt-delta", ""
};

typedef struct {
    const char *last;        /* latest result finished, or NULL */
    apr_array_header_t *ever;/* every result finished (const char *) */
    int finished;            /* finish was called at least once */
    int too_large;           /* ... with a result over the limit */
    int claimed;             /* latest change: begin returned MINE */
    apr_int64_t claimed_at;
} model_t;

typedef struct {
    const uint8_t *d;
    size_t n;
} reader_t;

static unsigned next(reader_t *r)
{
    unsigned v;

    if (!r->n) {
        return 0;
    }
    v = *r->d++;
    r->n--;
    return v;
}

static int ever_had(const model_t *m, const char *s)
{
    int i;

    for (i = 0; i < m->ever->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(m->ever, i, const char *), s)) {
            return 1;
        }
    }
    return 0;
}

/*
 * What begin may answer. A damaged table may make it answer anything but
 * a result that was never this token's: the results are sealed with a
 * key from the token, so damage can cost a refresh, never leak or forge
 * a token.
 */
static void check_begin(model_t *m, int tok, oac_handoff_e e,
                        const char *result, char *sentinel, apr_int64_t now,
                        apr_int64_t patience, int damaged)
{
    CHECK(e == OAC_HANDOFF_MINE || e == OAC_HANDOFF_WAIT
          || e == OAC_HANDOFF_DONE || e == OAC_HANDOFF_FAILED
          || e == OAC_HANDOFF_UNSHARED);
    CHECK(e == OAC_HANDOFF_DONE ? result != sentinel : result == sentinel);
    if (e == OAC_HANDOFF_DONE) {
        CHECK(result && ever_had(m, result));
        CHECK(strlen(result) <= OAC_HANDOFF_MAX_RESULT);
    }
    if (!*tokens[tok]) {
        CHECK(e == OAC_HANDOFF_MINE);
    }
    if (damaged) {
        return;
    }
    if (e == OAC_HANDOFF_DONE) {
        CHECK(m->last && !strcmp(result, m->last));
    }
    if (e == OAC_HANDOFF_WAIT) {
        apr_int64_t age = now > m->claimed_at ? now - m->claimed_at
                                              : m->claimed_at - now;
        CHECK(m->claimed && age < patience);
    }
    if (e == OAC_HANDOFF_FAILED) {
        CHECK(m->finished);
    }
    if (e == OAC_HANDOFF_UNSHARED) {
        CHECK(m->too_large);
    }
}

/*
 * One table for the whole run, made afresh for each input by
 * oac_handoff_init. malloc'd, as apr_shm's memory is, so ASan still sees
 * any access past its end; a new one per input spent a third of the time
 * in page faults.
 */
static unsigned char *mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    mem = malloc(oac_handoff_size(SLOTS));
    CHECK(mem != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    size_t memsize = oac_handoff_size(SLOTS);
    model_t model[NTOK];
    reader_t r = { data, size };
    apr_int64_t now = T0;
    int damaged = 0, header_damaged = 0, ops = 0, i;
    unsigned char x;

    apr_pool_create(&p, NULL);
    memset(mem, 0xA5, memsize);
    oac_handoff_init(mem, SLOTS);
    memset(model, 0, sizeof(model));
    for (i = 0; i < NTOK; ++i) {
        model[i].ever = apr_array_make(p, 4, sizeof(const char *));
    }

    while (r.n && ops++ < 64) {
        unsigned b = next(&r), kind = b & 3;
        int tok = (int)((b >> 2) % NTOK);
        model_t *m = &model[tok];
        char sentinel, *result = &sentinel;
        apr_int64_t patience = 30;
        oac_handoff_e e;

        now += (int8_t)next(&r);
        if (kind == 0 || kind == 3) {
            if (kind == 0) {
                patience = (apr_int64_t)next(&r) - 8;
            }
            e = oac_handoff_begin(&result, p, mem, tokens[tok], now, patience);
            check_begin(m, tok, e, result, &sentinel, now, patience, damaged);
            if (e == OAC_HANDOFF_MINE && *tokens[tok]) {
                m->claimed = 1;
                m->claimed_at = now;
                /* A second caller right now must wait for this one. */
                if (patience >= 1 && !damaged) {
                    result = &sentinel;
                    CHECK(oac_handoff_begin(&result, p, mem, tokens[tok], now,
                                            patience) == OAC_HANDOFF_WAIT);
                }
            }
        }
        else if (kind == 1) {
            unsigned len = next(&r);
            char *res = NULL;

            if (len == 255) {
                res = apr_palloc(p, OAC_HANDOFF_MAX_RESULT + 2);
                memset(res, 'x', OAC_HANDOFF_MAX_RESULT + 1);
                res[OAC_HANDOFF_MAX_RESULT + 1] = '\0';
            }
            else if (len == 254) {
                res = apr_palloc(p, OAC_HANDOFF_MAX_RESULT + 1);
                memset(res, 'y', OAC_HANDOFF_MAX_RESULT);
                res[OAC_HANDOFF_MAX_RESULT] = '\0';
            }
            else if (len > 0) {
                size_t take = len - 1 < r.n ? len - 1 : r.n;
                res = apr_pstrmemdup(p, (const char *)r.d, take);
                r.d += take;
                r.n -= take;
            }
            oac_handoff_finish(mem, tokens[tok], res, now);
            if (!*tokens[tok]) {
                continue;
            }
            m->finished = 1;
            m->claimed = 0;
            if (res && strlen(res) > OAC_HANDOFF_MAX_RESULT) {
                m->too_large = 1;
            }
            if (res) {
                m->last = res;
                APR_ARRAY_PUSH(m->ever, const char *) = res;
            }
            if (damaged) {
                continue;
            }
            /* Right after finish, every waiter gets the outcome. */
            e = oac_handoff_begin(&result, p, mem, tokens[tok], now, 30);
            if (res && strlen(res) <= OAC_HANDOFF_MAX_RESULT) {
                CHECK(e == OAC_HANDOFF_DONE && !strcmp(result, res));
            }
            else if (res) {
                CHECK(e == OAC_HANDOFF_UNSHARED);
            }
            else {
                /* a failure does not replace a younger result, nor a
                 * younger one too large to keep */
                CHECK(e == OAC_HANDOFF_FAILED || e == OAC_HANDOFF_DONE
                      || e == OAC_HANDOFF_UNSHARED);
            }
            check_begin(m, tok, e, result, &sentinel, now, 30, damaged);
        }
        else {
            size_t off = (next(&r) << 8 | next(&r)) % memsize;

            /* The slot count is kept with its complement against one
             * stray write (oac_handoff.c); two matching writes to both
             * are beyond what it claims, so the header takes one. */
            if (off < HEADER_BYTES && header_damaged++) {
                off = HEADER_BYTES + off;
            }
            x = (unsigned char)next(&r);
            mem[off] ^= x;
            damaged = 1;
        }
    }
    apr_pool_destroy(p);
    return 0;
}
