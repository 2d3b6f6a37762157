/* Private to the message codecs (messages.c, messages_node.c): bounded cursors over
 * a payload buffer and the field checks both files share. */
#ifndef RUM_PROTO_MESSAGES_INTERNAL_H
#define RUM_PROTO_MESSAGES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "proto/le.h"
#include "proto/wire.h"

/* A named region's id has this bit set, a client-chosen one has it clear. */
#define RUM__WIRE_NAMED_ID_BIT (UINT64_C(1) << 63)
/* Pages a 64-bit byte offset can address: every page index stays below this. */
#define RUM__WIRE_PAGE_LIMIT (UINT64_C(1) << (64 - RUM_PAGE_SHIFT))

/* ---- Cursors ----
 * A writer appends fields while they fit; once one does not, it writes nothing more
 * and the encoder returns RUM_EMSGSIZE (the buffer's contents are then unspecified).
 * A reader takes fields while bytes remain; a take past the end marks it bad and
 * yields zeros, so a decoder reads straight through and checks once at the end,
 * where rum__reader_done() also rejects trailing bytes. Neither touches memory outside
 * [buf, buf + cap) or [buf, buf + len). */
struct rum__writer {
  uint8_t *buf;
  size_t cap, pos;
  bool full;
};

static inline uint8_t *rum__w_take(struct rum__writer *w, size_t n) {
  if (w->full || w->cap - w->pos < n) {
    w->full = true;
    return NULL;
  }
  uint8_t *p = w->buf + w->pos;
  w->pos += n;
  return p;
}

static inline void rum__w_u16(struct rum__writer *w, uint16_t v) {
  uint8_t *p = rum__w_take(w, 2);
  if (p != NULL) rum__put_u16(p, v);
}
static inline void rum__w_u32(struct rum__writer *w, uint32_t v) {
  uint8_t *p = rum__w_take(w, 4);
  if (p != NULL) rum__put_u32(p, v);
}
static inline void rum__w_u64(struct rum__writer *w, uint64_t v) {
  uint8_t *p = rum__w_take(w, 8);
  if (p != NULL) rum__put_u64(p, v);
}
static inline void rum__w_bytes(struct rum__writer *w, const void *src, size_t n) {
  if (n == 0) return;
  uint8_t *p = rum__w_take(w, n);
  if (p != NULL) memcpy(p, src, n);
}
static inline int rum__writer_done(const struct rum__writer *w) {
  return w->full ? RUM_EMSGSIZE : (int)w->pos;
}

struct rum__reader {
  const uint8_t *buf;
  size_t len, pos;
  bool bad;
};

/* A zero-byte take after a good one returns a pointer into the buffer (never
 * buf + 0 of a NULL buf: every message starts with a fixed field). */
static inline const uint8_t *rum__r_bytes(struct rum__reader *r, size_t n) {
  if (r->bad || r->len - r->pos < n) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *p = r->buf + r->pos;
  r->pos += n;
  return p;
}
static inline uint16_t rum__r_u16(struct rum__reader *r) {
  const uint8_t *p = rum__r_bytes(r, 2);
  return p != NULL ? rum__get_u16(p) : 0;
}
static inline uint32_t rum__r_u32(struct rum__reader *r) {
  const uint8_t *p = rum__r_bytes(r, 4);
  return p != NULL ? rum__get_u32(p) : 0;
}
static inline uint64_t rum__r_u64(struct rum__reader *r) {
  const uint8_t *p = rum__r_bytes(r, 8);
  return p != NULL ? rum__get_u64(p) : 0;
}
static inline int rum__reader_done(const struct rum__reader *r) {
  return !r->bad && r->pos == r->len ? 0 : RUM_EPROTO;
}

/* A named region carries a valid name and the id derived from it; any other region
 * carries no name and an id with the top bit clear. */
bool rum__wire_region_naming_ok(uint64_t region_id, uint32_t flags, const char *name, size_t name_len);

#endif
