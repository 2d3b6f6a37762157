/* Little-endian load/store of fixed-width fields; memcpy keeps unaligned access
 * defined, the compiler turns it into single moves. */
#ifndef RUM_PROTO_LE_H
#define RUM_PROTO_LE_H

#include <stdint.h>
#include <string.h>

static inline void rum__put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void rum__put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void rum__put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t rum__get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rum__get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rum__get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "RUM's wire helpers assume a little-endian host; add byte swaps here to port it"
#endif

#endif
