/* bench.h - the integer workload of the bench: the same code runs as a
 * guest (bench.c) and on the host (host_main.c), so the guest's results can
 * be checked against the host's. Freestanding: no library calls. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

typedef void (*bench_report_fn)(const char *what, uint64_t value);

/* Run every kernel iters times; report each one's result; return a checksum. */
uint64_t bench_run(unsigned iters, bench_report_fn report);

#endif
