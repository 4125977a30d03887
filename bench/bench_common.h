/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * What the C microbenchmarks (sign_bench, jose_bench, dpop_bench,
 * codec_bench) share: their clocks, their way of failing and the timed
 * loop. Define BENCH_NAME (the program's name, for messages) first.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The wall clock. */
static inline double bench_wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The thread's CPU time: on a machine shared with other work, time spent
 * preempted is not counted. */
static inline double bench_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", BENCH_NAME, what);
    exit(1);
}

typedef void bench_op_fn(void *arg, int row);

/*
 * Runs op(arg, row) in batches of batch until seconds have passed on
 * clock, after warm batches that are not counted (caches, the DRBG, a
 * pool's free list); the clock is read between batches only. Returns the
 * operations run; *pelapsed gets the seconds they took.
 */
static inline long bench_timed(bench_op_fn *op, void *arg, int row,
                               long batch, int warm, double seconds,
                               double (*clock)(void), double *pelapsed)
{
    long ops = 0, i;
    double start, elapsed;

    for (i = 0; i < batch * warm; ++i) {
        op(arg, row);
    }
    start = clock();
    do {
        for (i = 0; i < batch; ++i) {
            op(arg, row);
        }
        ops += batch;
        elapsed = clock() - start;
    } while (elapsed < seconds);
    *pelapsed = elapsed;
    return ops;
}

#endif /* BENCH_COMMON_H */
