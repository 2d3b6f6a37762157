/* A 64-bit finaliser (MurmurHash3's fmix64): spreads the bits of a key before it
 * picks a hash bucket, so ids that differ in a few bits land far apart. */
#ifndef RUM_UTIL_HASH_H
#define RUM_UTIL_HASH_H

#include <stdint.h>

static inline uint64_t rum__mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

#endif
