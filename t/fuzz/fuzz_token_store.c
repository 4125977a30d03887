/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Tokens kept in the session: oac_token_from_string on any string, and
 * oac_token_to_string on whatever it accepts; the sendable check on what
 * a tampered session could carry. Input: the stored string.
 */

#include "token_checks.h"

static void session_mode(apr_pool_t *p, const char *s)
{
    oac_token_t *t = NULL;
    const char *err = NULL;

    if (oac_token_from_string(&t, &err, p, s) != APR_SUCCESS) {
        CHECK(err != NULL && fuzz_printable(err));
        return;
    }
    check_sane(t);
    check_session_round_trip(p, t);
    check_sendable(p, t);
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    session_mode(p, apr_pstrmemdup(p, (const char *)data, size));
    apr_pool_destroy(p);
    return 0;
}
