/* repl_load: a write load on a replicated cluster through librum (rum.h only).
 *
 *   repl_load PAGES SECONDS
 *
 * Allocates PAGES pages and, for SECONDS, writes round after round: every page gets
 * (round, page) in its first words and a filler derived from them, then rum_sync().
 * Every rum_sync must succeed (a node dying is a pause, not an error): the longest
 * one is printed as the pause; the first that fails ends the run (exit 1). Afterwards the cache is dropped (rum_refresh) and
 * every page must read back as the last acknowledged round wrote it, from the nodes.
 * Exits 0 when all holds; prints what failed otherwise. RUM_MACHINES names the cluster. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>

enum { WORDS = 4096 / 8 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t word(uint64_t round, uint64_t page, unsigned k) {
  return (round << 40 | page << 8 | k) * 0x9e3779b97f4a7c15ull;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: repl_load PAGES SECONDS\n");
    return 2;
  }
  uint64_t pages = strtoull(argv[1], NULL, 10);
  double seconds = strtod(argv[2], NULL);
  if (pages == 0 || pages > (1u << 20) || seconds <= 0) {
    fprintf(stderr, "repl_load: PAGES 1..1048576 and SECONDS > 0\n");
    return 2;
  }
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "repl_load: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  uint64_t *mem = rum_alloc(pages * 4096);
  if (mem == NULL) {
    fprintf(stderr, "repl_load: rum_alloc of %llu pages failed\n", (unsigned long long)pages);
    return 1;
  }
  uint64_t acked = 0, failed = 0;
  double start = now_s(), longest = 0;
  while (now_s() - start < seconds) {
    uint64_t round = acked + 1;
    for (uint64_t p = 0; p < pages; p++) {
      uint64_t *w = mem + p * WORDS;
      w[0] = round;
      w[1] = p;
      for (unsigned k = 2; k < WORDS; k += 61) w[k] = word(round, p, k);
    }
    double t0 = now_s();
    rc = rum_sync();
    double took = now_s() - t0;
    if (took > longest) longest = took;
    if (rc != 0) {
      fprintf(stderr, "repl_load: rum_sync of round %llu failed after %.3f s: %s\n", (unsigned long long)round,
              took, rum_strerror(rc));
      failed++;
      break;
    }
    acked = round;
    if (took > 0.1) printf("round %llu: rum_sync took %.3f s\n", (unsigned long long)round, took);
  }
  printf("acknowledged rounds: %llu, longest rum_sync: %.3f s\n", (unsigned long long)acked, longest);
  if (failed != 0) {
    /* What a failed round left is undefined; reading it back would only wait out the
     * re-route window again for every page. */
    fprintf(stderr, "repl_load: FAILED: a rum_sync failed; %llu rounds acknowledged\n", (unsigned long long)acked);
    fflush(NULL);
    _exit(1); /* not exit: the write-back at exit would wait out the window once more */
  }
  rc = rum_refresh(mem, pages * 4096);
  if (rc != 0) {
    fprintf(stderr, "repl_load: rum_refresh: %s\n", rum_strerror(rc));
    return 1;
  }
  uint64_t bad = 0;
  for (uint64_t p = 0; p < pages; p++) {
    const uint64_t *w = mem + p * WORDS;
    bool ok = w[0] == acked && w[1] == p;
    for (unsigned k = 2; ok && k < WORDS; k += 61) ok = w[k] == word(acked, p, k);
    if (!ok && bad++ < 5)
      fprintf(stderr, "repl_load: page %llu reads round %llu, want %llu\n", (unsigned long long)p,
              (unsigned long long)w[0], (unsigned long long)acked);
  }
  if (bad != 0 || failed != 0 || acked == 0) {
    fprintf(stderr, "repl_load: FAILED: %llu pages wrong, %llu syncs failed, %llu rounds acknowledged\n",
            (unsigned long long)bad, (unsigned long long)failed, (unsigned long long)acked);
    return 1;
  }
  printf("repl_load: all %llu pages read back round %llu\n", (unsigned long long)pages, (unsigned long long)acked);
  return 0;
}
