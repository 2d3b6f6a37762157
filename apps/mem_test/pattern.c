/* The seeded PRNG and the offset-derived byte patterns every phase checks against. */
#include <stdio.h>
#include <string.h>

#include "mem_test.h"

uint64_t mt_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void mt_rng_seed(struct mt_rng *r, uint64_t seed, uint64_t stream) {
  r->state = mt_mix64(seed ^ mt_mix64(stream + 0x632be59bd9b4e019ull));
}

uint64_t mt_rng_next(struct mt_rng *r) {
  r->state += 0x9e3779b97f4a7c15ull;
  return mt_mix64(r->state);
}

uint64_t mt_rng_below(struct mt_rng *r, uint64_t n) {
  /* Rejection keeps the draw exactly uniform; the loop runs more than once with
   * probability below one half even in the worst case. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = mt_rng_next(r);
  } while (x >= limit);
  return x % n;
}

size_t mt_rng_size(struct mt_rng *r, size_t max) {
  unsigned bits = 0;
  while (bits < 63 && ((size_t)1 << (bits + 1)) <= max) bits++;
  /* Pick a power-of-two band [2^b, 2^(b+1)) uniformly, then a size inside it. */
  unsigned band = (unsigned)mt_rng_below(r, bits + 1);
  size_t lo = (size_t)1 << band;
  size_t hi = band == bits ? max : ((size_t)1 << (band + 1)) - 1;
  return lo + (size_t)mt_rng_below(r, hi - lo + 1);
}

uint64_t mt_salt(const struct mt_ctx *c, uint64_t a, uint64_t b) {
  return mt_mix64(c->seed ^ mt_mix64(a ^ mt_mix64(b + 0x51ed270b27f1a3c5ull)));
}

uint64_t mt_pattern_word(uint64_t word_index, uint64_t salt) {
  return mt_mix64(salt ^ (word_index * 0xd1342543de82ef95ull));
}

uint8_t mt_pattern_byte(size_t offset, uint64_t salt) {
  uint64_t w = mt_pattern_word(offset >> 3, salt);
  return (uint8_t)(w >> ((offset & 7) * 8)); /* little-endian byte order of the word */
}

static inline void store_word(uint8_t *p, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  memcpy(p, b, 8);
}

static inline uint64_t load_word(const uint8_t *p) {
  uint8_t b[8];
  memcpy(b, p, 8);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

void mt_fill(void *base, size_t from, size_t to, uint64_t salt) {
  uint8_t *p = base;
  size_t o = from;
  while (o < to && (o & 7) != 0) {
    p[o] = mt_pattern_byte(o, salt);
    o++;
  }
  for (; o + 8 <= to; o += 8) store_word(p + o, mt_pattern_word(o >> 3, salt));
  for (; o < to; o++) p[o] = mt_pattern_byte(o, salt);
}

size_t mt_scan(const void *base, size_t from, size_t to, uint64_t salt, size_t *nbad) {
  const uint8_t *p = base;
  size_t first = SIZE_MAX, bad = 0;
  size_t o = from;
  while (o < to) {
    if ((o & 7) == 0 && o + 8 <= to && load_word(p + o) == mt_pattern_word(o >> 3, salt)) {
      o += 8;
      continue;
    }
    /* A partial word or a mismatch: check byte by byte to count precisely. */
    size_t end = (o | 7) + 1 < to ? (o | 7) + 1 : to;
    for (; o < end; o++) {
      if (p[o] != mt_pattern_byte(o, salt)) {
        if (first == SIZE_MAX) first = o;
        bad++;
      }
    }
  }
  if (nbad != NULL) *nbad = bad;
  return first;
}

bool mt_verify(struct mt_ctx *c, const void *base, size_t from, size_t to, uint64_t salt,
               const char *what) {
  size_t nbad = 0;
  size_t first = mt_scan(base, from, to, salt, &nbad);
  if (first == SIZE_MAX) return true;
  const uint8_t *p = base;
  mt_fail(c, __FILE__, __LINE__,
          "%s: %zu of %zu bytes wrong in [%zu, %zu) at %p; first at offset %zu (page %zu): "
          "want 0x%02x got 0x%02x",
          what, nbad, to - from, from, to, base, first, first / MT_PAGE,
          mt_pattern_byte(first, salt), p[first]);
  return false;
}

bool mt_verify_zero(struct mt_ctx *c, const void *base, size_t len, const char *what) {
  const uint8_t *p = base;
  size_t first = SIZE_MAX, bad = 0;
  for (size_t o = 0; o < len; o++) {
    if (p[o] != 0) {
      if (first == SIZE_MAX) first = o;
      bad++;
    }
  }
  if (first == SIZE_MAX) return true;
  mt_fail(c, __FILE__, __LINE__, "%s: %zu of %zu bytes not zero at %p; first at offset %zu: 0x%02x",
          what, bad, len, base, first, p[first]);
  return false;
}
