#include <stdlib.h>
#include <string.h>

#include "bench.h"

int bench_samples_init(struct bench_samples *s, size_t cap) {
  s->ns = malloc(cap * sizeof *s->ns);
  s->count = 0;
  s->cap = cap;
  return s->ns == NULL ? -1 : 0;
}

void bench_samples_add(struct bench_samples *s, uint64_t ns) {
  if (s->count < s->cap) s->ns[s->count++] = ns;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

double bench_quantile(struct bench_samples *s, double q) {
  if (s->count == 0) return 0;
  qsort(s->ns, s->count, sizeof *s->ns, cmp_u64);
  size_t index = (size_t)(q * (double)(s->count - 1) + 0.5);
  return (double)s->ns[index];
}

void bench_samples_free(struct bench_samples *s) {
  free(s->ns);
  memset(s, 0, sizeof *s);
}
