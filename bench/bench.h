/* rum-bench: shared helpers of the scenarios (sample statistics, JSON lines). */
#ifndef RUM_BENCH_H
#define RUM_BENCH_H

#include <stddef.h>
#include <stdint.h>

struct bench_samples {
  uint64_t *ns;
  size_t count, cap;
};

int bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_add(struct bench_samples *s, uint64_t ns);
/* Sorts in place; q in 0..1. Returns nanoseconds. */
double bench_quantile(struct bench_samples *s, double q);
void bench_samples_free(struct bench_samples *s);

/* Each scenario: parse its own argv (argv[0] is the scenario name), print JSON lines
 * to stdout, progress to stderr. Returns the process exit code. */
int bench_rtt(int argc, char **argv);
int bench_fault(int argc, char **argv);
int bench_seq(int argc, char **argv);
int bench_rand(int argc, char **argv);
int bench_alloc(int argc, char **argv);
int bench_paxos(int argc, char **argv);

#endif
