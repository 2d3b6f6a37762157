/* The raw RPC baseline of the memory benchmarks: one-page READs from the first node
 * through the RPC layer alone, no page cache or fault in between. */
#ifndef RUM_BENCH_RAW_H
#define RUM_BENCH_RAW_H

struct bench_raw_result {
  double median_us, p99_us;
};

/* machines: NULL = $RUM_MACHINES. Returns 0 or non-zero with a message on stderr. */
int bench_raw_read_rtt(const char *machines, unsigned iterations, struct bench_raw_result *out);

#endif
