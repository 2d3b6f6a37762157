/* CRC32C (Castagnoli), the checksum of every frame. Uses the SSE4.2 crc32
 * instruction when the CPU has it (8 bytes per instruction), a table otherwise. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/wire.h"

static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_table_build(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[i] = c;
  }
  __atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc32c_soft(uint32_t crc, const uint8_t *p, size_t len) {
  if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE)) crc_table_build();
  while (len--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw1(uint32_t crc, const uint8_t *p, size_t len) {
  uint64_t c = crc;
  while (len >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

/* The crc32 instruction takes 3 cycles but a new one can start every cycle: three
 * independent streams over consecutive blocks of STRIDE bytes run about three times
 * as fast as one. The CRC register is linear, so the streams are joined with
 * crc(s, A|B) = shift(crc(s, A)) ^ crc(0, B), where shift is what STRIDE zero bytes
 * do to the register: a linear map, applied a byte at a time through shift_table. */
enum { STRIDE = 1024 };
static uint32_t shift_table[4][256];

__attribute__((target("sse4.2"), constructor)) static void shift_table_build(void) {
  static const uint8_t zeros[STRIDE];
  __builtin_cpu_init(); /* a constructor runs before the CPU model is filled in */
  if (!__builtin_cpu_supports("sse4.2")) return;
  for (int k = 0; k < 4; k++)
    for (uint32_t v = 0; v < 256; v++) shift_table[k][v] = crc32c_hw1(v << (8 * k), zeros, STRIDE);
}

static inline uint32_t shift(uint32_t c) {
  return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^ shift_table[2][(c >> 16) & 0xff] ^
         shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len) {
  while (len >= 3 * STRIDE) {
    uint64_t a = crc, b = 0, c = 0;
    for (size_t i = 0; i < STRIDE; i += 8) {
      uint64_t va, vb, vc;
      memcpy(&va, p + i, 8);
      memcpy(&vb, p + STRIDE + i, 8);
      memcpy(&vc, p + 2 * STRIDE + i, 8);
      a = __builtin_ia32_crc32di(a, va);
      b = __builtin_ia32_crc32di(b, vb);
      c = __builtin_ia32_crc32di(c, vc);
    }
    crc = shift(shift((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
    p += 3 * STRIDE;
    len -= 3 * STRIDE;
  }
  return crc32c_hw1(crc, p, len);
}
#endif

uint32_t rum__crc32c(uint32_t crc, const void *data, size_t len) {
  crc = ~crc;
#if defined(__x86_64__)
  static int have_hw = -1; /* racing first callers compute the same value */
  int hw = __atomic_load_n(&have_hw, __ATOMIC_RELAXED);
  if (hw < 0) {
    hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    __atomic_store_n(&have_hw, hw, __ATOMIC_RELAXED);
  }
  if (hw) return ~crc32c_hw(crc, data, len);
#endif
  return ~crc32c_soft(crc, data, len);
}
