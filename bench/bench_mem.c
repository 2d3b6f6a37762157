/* rum-bench fault | seq | rand: transparent-memory benchmarks against a running
 * cluster ($RUM_MACHINES or --machines), each with a same-run baseline:
 *   fault  cold page-fault latency next to the raw RPC round trip of a one-page READ,
 *          and the cost of touching resident pages next to local memory;
 *   seq    sequential scan GB/s of a region 10x the cache next to a local-memory scan
 *          (--pinned adds the same region pinned on one node: striped / pinned ratio);
 *   rand   random 4 KiB access latency on a region 4x the cache, next to the raw RPC.
 * Each fault backend runs in a forked child (rum_init once per process). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rum/rum.h>

#include "bench.h"
#include "bench_raw.h"
#include "util/clock.h"

struct mem_options {
  const char *scenario;
  const char *machines;
  const char *backends; /* "uffd,sigsegv" */
  unsigned cache_mb;
  unsigned pages;       /* fault: pages touched */
  unsigned iterations;  /* rand: accesses */
  bool pinned;          /* seq: also pinned on one node */
  double raw_median_us, raw_p99_us;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Write every page of [p, p+bytes) with non-zero data, sync, and drop the cache so
 * that the next touch of each page is a cold fault served by a node. */
static int populate_cold(uint8_t *p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 8) *(uint64_t *)(p + off) = off * 0x9e3779b97f4a7c15ull + 1;
  int rc = rum_sync();
  if (rc == 0) rc = rum_refresh(p, bytes);
  return rc;
}

static void json_common(const struct mem_options *o, const char *backend) {
  printf("{\"scenario\":\"%s\",\"fault_backend\":\"%s\",\"transport\":\"%s\",\"cache_mb\":%u,",
         o->scenario, backend, getenv("RUM_TRANSPORT") ? getenv("RUM_TRANSPORT") : "udp", o->cache_mb);
}

static int run_fault(const struct mem_options *o, const char *backend) {
  size_t bytes = (size_t)o->pages * 4096;
  uint8_t *p = rum_alloc(bytes);
  if (p == NULL) return 1;
  if (populate_cold(p, bytes) != 0) return 1;
  uint32_t *order = malloc(o->pages * sizeof *order);
  for (unsigned i = 0; i < o->pages; i++) order[i] = i;
  for (unsigned i = o->pages - 1; i > 0; i--) {
    unsigned j = (unsigned)(rng_next() % (i + 1));
    uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  struct bench_samples cold, warm, local;
  bench_samples_init(&cold, o->pages);
  bench_samples_init(&warm, o->pages);
  bench_samples_init(&local, o->pages);
  volatile uint64_t sink = 0;
  for (unsigned i = 0; i < o->pages; i++) {
    uint64_t t0 = rum__now_ns();
    sink += *(volatile uint64_t *)(p + (size_t)order[i] * 4096);
    bench_samples_add(&cold, rum__now_ns() - t0);
  }
  /* Resident pages: the same touches again are plain loads. */
  uint8_t *mem = malloc(bytes);
  memset(mem, 1, bytes);
  for (unsigned i = 0; i < o->pages; i++) {
    uint64_t t0 = rum__now_ns();
    sink += *(volatile uint64_t *)(p + (size_t)order[i] * 4096 + 64);
    bench_samples_add(&warm, rum__now_ns() - t0);
    t0 = rum__now_ns();
    sink += *(volatile uint64_t *)(mem + (size_t)order[i] * 4096 + 64);
    bench_samples_add(&local, rum__now_ns() - t0);
  }
  struct rum_stats st;
  rum_stats(&st);
  double med = bench_quantile(&cold, 0.5) / 1000, p99 = bench_quantile(&cold, 0.99) / 1000;
  json_common(o, backend);
  printf("\"pages\":%u,\"cold_fault_median_us\":%.2f,\"cold_fault_p99_us\":%.2f,"
         "\"raw_rpc_read_median_us\":%.2f,\"raw_rpc_read_p99_us\":%.2f,\"fault_minus_rpc_us\":%.2f,"
         "\"ratio\":%.3f,\"goal_fault_minus_rpc_us_max\":5,"
         "\"resident_touch_median_ns\":%.0f,\"local_touch_median_ns\":%.0f,\"faults\":%llu}\n",
         o->pages, med, p99, o->raw_median_us, o->raw_p99_us, med - o->raw_median_us,
         med / o->raw_median_us, bench_quantile(&warm, 0.5), bench_quantile(&local, 0.5),
         (unsigned long long)st.faults);
  free(mem);
  free(order);
  rum_free(p);
  (void)sink;
  return 0;
}

static double scan(const uint8_t *p, size_t bytes, uint64_t *sum_out) {
  uint64_t t0 = rum__now_ns(), sum = 0;
  for (size_t off = 0; off < bytes; off += 8) sum += *(const uint64_t *)(p + off);
  *sum_out = sum;
  return (double)bytes / ((double)(rum__now_ns() - t0) / 1e9) / 1e9;
}

static int run_seq(const struct mem_options *o, const char *backend) {
  size_t bytes = (size_t)o->cache_mb * 10 << 20;
  uint8_t *local = malloc(bytes);
  if (local == NULL) return 1;
  for (size_t off = 0; off < bytes; off += 8) *(uint64_t *)(local + off) = off * 0x9e3779b97f4a7c15ull + 1;
  uint64_t local_sum, rum_sum, pinned_sum = 0;
  double local_gbs = scan(local, bytes, &local_sum);
  free(local);
  uint8_t *p = rum_alloc(bytes);
  if (p == NULL) return 1;
  uint64_t t0 = rum__now_ns();
  if (populate_cold(p, bytes) != 0) return 1;
  double write_gbs = (double)bytes / ((double)(rum__now_ns() - t0) / 1e9) / 1e9;
  double rum_gbs = scan(p, bytes, &rum_sum);
  rum_free(p);
  double pinned_gbs = 0;
  if (o->pinned) {
    uint8_t *q = rum_alloc_on(1, bytes);
    if (q == NULL) return 1;
    if (populate_cold(q, bytes) != 0) return 1;
    pinned_gbs = scan(q, bytes, &pinned_sum);
    rum_free(q);
  }
  json_common(o, backend);
  printf("\"region_mb\":%zu,\"scan_gbs\":%.3f,\"local_scan_gbs\":%.3f,\"ratio\":%.4f,"
         "\"write_back_gbs\":%.3f,\"goal_scan_gbs_min\":1.0,\"checksum_ok\":%s",
         bytes >> 20, rum_gbs, local_gbs, rum_gbs / local_gbs, write_gbs,
         rum_sum == local_sum && (!o->pinned || pinned_sum == local_sum) ? "true" : "false");
  if (o->pinned)
    printf(",\"pinned_scan_gbs\":%.3f,\"striped_over_pinned\":%.3f", pinned_gbs, rum_gbs / pinned_gbs);
  printf("}\n");
  return rum_sum == local_sum ? 0 : 1;
}

static int run_rand(const struct mem_options *o, const char *backend) {
  size_t npages = (size_t)o->cache_mb * 4 * 256;
  size_t bytes = npages * 4096;
  uint8_t *p = rum_alloc(bytes);
  if (p == NULL) return 1;
  if (populate_cold(p, bytes) != 0) return 1;
  struct bench_samples s;
  bench_samples_init(&s, o->iterations);
  volatile uint64_t sink = 0;
  for (unsigned i = 0; i < o->iterations; i++) {
    size_t page = rng_next() % npages;
    uint64_t t0 = rum__now_ns();
    sink += *(volatile uint64_t *)(p + page * 4096 + (rng_next() % 512) * 8);
    bench_samples_add(&s, rum__now_ns() - t0);
  }
  struct rum_stats st;
  rum_stats(&st);
  double med = bench_quantile(&s, 0.5) / 1000;
  json_common(o, backend);
  printf("\"region_mb\":%zu,\"accesses\":%u,\"median_us\":%.2f,\"p99_us\":%.2f,"
         "\"raw_rpc_read_median_us\":%.2f,\"ratio\":%.3f,\"faults\":%llu,\"evictions\":%llu}\n",
         bytes >> 20, o->iterations, med, bench_quantile(&s, 0.99) / 1000, o->raw_median_us,
         med / o->raw_median_us, (unsigned long long)st.faults, (unsigned long long)st.evictions);
  rum_free(p);
  (void)sink;
  return 0;
}

static int child_main(const struct mem_options *o, const char *backend) {
  setenv("RUM_FAULT", backend, 1);
  char cache[32];
  snprintf(cache, sizeof cache, "%u", o->cache_mb);
  setenv("RUM_CACHE_MB", cache, 1);
  int rc = rum_init(o->machines);
  if (rc != 0) {
    fprintf(stderr, "rum-bench: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  int status;
  if (strcmp(o->scenario, "fault") == 0) status = run_fault(o, backend);
  else if (strcmp(o->scenario, "seq") == 0) status = run_seq(o, backend);
  else status = run_rand(o, backend);
  fflush(stdout);
  rum_shutdown();
  return status;
}

/* The raw READ round trip, measured in a child of its own: the backends below run in
 * forked children, and a process that opened a dpdk transport cannot fork children
 * that open one (DPDK's EAL stays with the process that started it). */
static int raw_read_rtt_forked(const char *machines, unsigned iterations, struct bench_raw_result *out) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return 1;
  }
  if (pid == 0) {
    close(fds[0]);
    struct bench_raw_result r;
    int rc = bench_raw_read_rtt(machines, iterations, &r);
    if (rc == 0 && write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) rc = 1;
    exit(rc); /* exit, not _exit: the transport's exit hook tidies DPDK up */
  }
  close(fds[1]);
  ssize_t n = read(fds[0], out, sizeof *out);
  close(fds[0]);
  int ws = 0;
  waitpid(pid, &ws, 0);
  return n == (ssize_t)sizeof *out && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
}

static void mem_usage(FILE *out, const char *scenario) {
  fprintf(out,
          "usage: rum-bench %s [--machines FILE] [--backends uffd,sigsegv] [--cache-mb N]\n"
          "                 [--pages N] [--iterations N] [--pinned]\n"
          "Needs a running cluster (scripts/rum-cluster start ...). Prints one JSON line per\n"
          "fault backend with the same-run baseline and the ratio.\n",
          scenario);
}

static int bench_mem(int argc, char **argv, const char *scenario) {
  struct mem_options o = {.scenario = scenario, .backends = "uffd,sigsegv", .cache_mb = 32,
                          .pages = 20000, .iterations = 20000};
  static const struct option longopts[] = {
      {"machines", required_argument, 0, 'm'}, {"backends", required_argument, 0, 'b'},
      {"cache-mb", required_argument, 0, 'c'}, {"pages", required_argument, 0, 'p'},
      {"iterations", required_argument, 0, 'n'}, {"pinned", no_argument, 0, 'P'},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (opt) {
    case 'm': o.machines = optarg; break;
    case 'b': o.backends = optarg; break;
    case 'c': o.cache_mb = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'p': o.pages = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'n': o.iterations = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'P': o.pinned = true; break;
    case 'h': mem_usage(stdout, scenario); return 0;
    default: mem_usage(stderr, scenario); return 2;
    }
  }
  if (o.cache_mb == 0 || o.pages == 0 || o.iterations == 0) {
    mem_usage(stderr, scenario);
    return 2;
  }
  if (strcmp(scenario, "seq") != 0) {
    struct bench_raw_result raw;
    if (raw_read_rtt_forked(o.machines, 5000, &raw) != 0) return 1;
    o.raw_median_us = raw.median_us;
    o.raw_p99_us = raw.p99_us;
  }
  char list[64];
  snprintf(list, sizeof list, "%s", o.backends);
  int status = 0;
  for (char *save = NULL, *b = strtok_r(list, ",", &save); b != NULL; b = strtok_r(NULL, ",", &save)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(child_main(&o, b));
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
      fprintf(stderr, "rum-bench %s: backend %s failed\n", scenario, b);
      status = 1;
    }
  }
  return status;
}

int bench_fault(int argc, char **argv) { return bench_mem(argc, argv, "fault"); }
int bench_seq(int argc, char **argv) { return bench_mem(argc, argv, "seq"); }
int bench_rand(int argc, char **argv) { return bench_mem(argc, argv, "rand"); }
