/* What the rum-kvs parser harnesses share: a CHECK that aborts (so the replay
 * driver fails too), a digest of the requests a byte stream yields (to compare a
 * stream parsed whole with the same stream arriving in pieces), and a bounds test. */
#ifndef KVS_FUZZ_H
#define KVS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                           \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                \
      abort();                                                                                \
    }                                                                                         \
  } while (0)

enum { MAX_REQUESTS = 64 };

struct digest {
  int n, error, closed;
  uint64_t hash;
};

static inline void mix(struct digest *d, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) d->hash = (d->hash ^ b[i]) * 0x100000001b3ull;
  d->hash = (d->hash ^ n) * 0x100000001b3ull;
}

static inline int inside(const unsigned char *p, size_t n, const unsigned char *base, size_t len) {
  return p >= base && p + n <= base + len;
}

#endif
