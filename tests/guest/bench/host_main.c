/* host_main.c - the bench workload on the host: `bench-host N` prints what
 * the guest prints for iters=N, the reference bench.sh checks against. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static void report(const char *what, uint64_t v)
{
    printf("%s 0x%" PRIx64 "\n", what, v);
}

int main(int argc, char **argv)
{
    unsigned iters = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10;
    printf("bench: %u iterations\n", iters ? iters : 1);
    printf("checksum 0x%" PRIx64 "\n", bench_run(iters ? iters : 1, report));
    return 0;
}
