/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * The fixture every unit test file shares: APR initialised once per group,
 * a fresh pool per test, handed to the test as *state. Include after
 * cmocka.h.
 */
#ifndef OAC_TEST_H
#define OAC_TEST_H

#include <apr_general.h>
#include <apr_pools.h>

static inline int oac_test_group_setup(void **state)
{
    (void)state;
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

static inline int oac_test_group_teardown(void **state)
{
    (void)state;
    apr_terminate();
    return 0;
}

static inline int oac_test_setup(void **state)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static inline int oac_test_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* A test with its own pool. */
#define T(f) cmocka_unit_test_setup_teardown(f, oac_test_setup, \
                                             oac_test_teardown)

/* Runs tests (an array) as the group name. */
#define OAC_RUN_TESTS(name, tests) \
    cmocka_run_group_tests_name(name, tests, oac_test_group_setup, \
                                oac_test_group_teardown)

#endif /* OAC_TEST_H */
