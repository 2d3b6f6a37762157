/* rum-bench SCENARIO [options]: benchmarks that print JSON lines, each with its
 * baseline measured in the same run and the ratio. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

struct scenario {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
};

static const struct scenario scenarios[] = {
    {"rtt", bench_rtt, "RPC round trip and requests/s over a transport, next to a raw ping-pong"},
    {"fault", bench_fault, "cold page-fault latency next to the raw RPC round trip (needs a cluster)"},
    {"seq", bench_seq, "sequential scan GB/s of a region 10x the cache next to local memory"},
    {"rand", bench_rand, "random 4 KiB access latency on a region 4x the cache"},
    {"paxos", bench_paxos, "the Multi-Paxos core alone: entries/s, messages and hops per batch, 1 vs 3 vs 5 replicas"},
    {"alloc", bench_alloc, "allocation traces against glibc malloc and librum: ops/s and the ratio"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: rum-bench SCENARIO [options]   (rum-bench SCENARIO --help for its options)\n\nscenarios:\n");
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
    fprintf(out, "  %-8s %s\n", scenarios[i].name, scenarios[i].help);
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    if (strcmp(argv[1], scenarios[i].name) == 0) return scenarios[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr, "rum-bench: unknown scenario '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
