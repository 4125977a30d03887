/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Shared by the libFuzzer targets in t/fuzz/. Each target checks
 * invariants, not only "does not crash": CHECK aborts, so libFuzzer saves
 * the input that broke one, exactly as for a sanitizer report.
 */

#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oac_form.h"

/* Not assert(): an NDEBUG build must not silently stop checking. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond,     \
                    __FILE__, __LINE__);                                   \
            abort();                                                       \
        }                                                                  \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process; the pool of each input is created and destroyed
 * around it, so nothing carries over from one input to the next. */
static inline void fuzz_apr_init(void)
{
    if (apr_initialize() != APR_SUCCESS) {
        abort();
    }
}

/*
 * APR initialised, and a pool for what a target sets up once per process,
 * destroyed at exit: APR's allocator may mmap its blocks, where
 * LeakSanitizer does not look for pointers, so OpenSSL objects reachable
 * only from such a pool would be reported at exit unless it is destroyed
 * first.
 */
static apr_pool_t *fuzz_process_pool;

static inline void fuzz_destroy_process_pool(void)
{
    apr_pool_destroy(fuzz_process_pool);
}

static inline apr_pool_t *fuzz_init_with_process_pool(void)
{
    fuzz_apr_init();
    apr_pool_create(&fuzz_process_pool, NULL);
    atexit(fuzz_destroy_process_pool);
    return fuzz_process_pool;
}

/* The LLVMFuzzerInitialize of a target that needs APR and nothing else. */
#define FUZZ_APR_INITIALIZE                              \
    int LLVMFuzzerInitialize(int *argc, char ***argv)    \
    {                                                    \
        (void)argc;                                      \
        (void)argv;                                      \
        fuzz_apr_init();                                 \
        return 0;                                        \
    }

/*
 * Input cut into C strings at its NUL bytes, as the module receives them
 * (a NUL ends any string httpd hands over). Missing pieces are "".
 */
typedef struct {
    const char *part[12];
    int n;
} fuzz_parts_t;

static inline void fuzz_split(fuzz_parts_t *out, apr_pool_t *p,
                              const uint8_t *data, size_t size)
{
    size_t start = 0, i;
    int k;

    out->n = 0;
    for (i = 0; i <= size && out->n < 12; ++i) {
        if (i == size || data[i] == 0) {
            out->part[out->n++] = apr_pstrmemdup(p, (const char *)data + start,
                                                 i - start);
            start = i + 1;
        }
    }
    for (k = out->n; k < 12; ++k) {
        out->part[k] = "";
    }
}

static inline int fuzz_streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Same names and values, in the same order. */
static inline int fuzz_form_equal(const apr_array_header_t *a,
                                  const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; ++i) {
        const oac_param_t *x = &APR_ARRAY_IDX(a, i, oac_param_t);
        const oac_param_t *y = &APR_ARRAY_IDX(b, i, oac_param_t);

        if (!fuzz_streq(x->name, y->name) || !fuzz_streq(x->value, y->value)) {
            return 0;
        }
    }
    return 1;
}

/* Error messages go to logs and error pages: no control character may
 * reach them from the input (log injection, header splitting). */
static inline int fuzz_printable(const char *s)
{
    for (; *s; ++s) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* RFC 3986 unreserved: what every encoder here leaves as is. */
static inline int fuzz_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}

static inline int fuzz_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* Percent-encoding as RFC 5849 section 3.6 wants it, written here again
 * (not oac_util_pct_encode) so a target can compare against it. */
static inline char *fuzz_pct_encode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (fuzz_unreserved(c)) {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = "0123456789ABCDEF"[c >> 4];
            *o++ = "0123456789ABCDEF"[c & 15];
        }
    }
    *o = '\0';
    return out;
}

#endif
