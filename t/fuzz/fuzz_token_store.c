/* Licensed under the Apache License, Version 2.0 */

/*
 * Tokens kept in the session: oac_token_from_string on any string (the
 * version 2 form, the legacy JSON form and its fast reader), and
 * oac_token_to_string on whatever it accepts. Input: the stored string.
 */

#include "token_checks.h"

/* "The two paths can only differ in speed" (oac_token.c). */
static void check_readers_agree(apr_pool_t *p, const char *s)
{
    oac_token_t *fast = NULL, *slow = NULL;
    const char *err = NULL;

    if (*s && oac_token_from_compact(&fast, p, s)) {
        CHECK(oac_token_from_string_json(&slow, &err, p, s) == APR_SUCCESS);
        check_same(fast, slow);
    }
}

static void session_mode(apr_pool_t *p, const char *s)
{
    oac_token_t *t = NULL;
    const char *err = NULL;

    check_readers_agree(p, s);
    if (oac_token_from_string(&t, &err, p, s) != APR_SUCCESS) {
        CHECK(err != NULL && fuzz_printable(err));
        return;
    }
    check_sane(t);
    check_session_round_trip(p, t);
    check_json_round_trip(p, t);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    session_mode(p, apr_pstrmemdup(p, (const char *)data, size));
    apr_pool_destroy(p);
    return 0;
}
