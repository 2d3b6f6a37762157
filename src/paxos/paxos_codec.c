/* Encode and decode Paxos messages (paxos_wire.h). Pure functions over buffers; the
 * decoder reads through bounded cursors and checks every count and length against
 * the bytes it was given. */
#include <rum/rum_errors.h>

#include "paxos/paxos_wire.h"
#include "proto/messages_internal.h"

size_t rum__paxos_msg_size(const struct rum_paxos_msg *m) {
  size_t n = RUM_PAXOS_HEADER_SIZE + (size_t)m->data_len;
  for (unsigned i = 0; i < m->nentries && i < RUM_PAXOS_MAX_ENTRIES; i++)
    n += RUM_PAXOS_ENTRY_HEADER_SIZE + (size_t)m->entries[i].len;
  return n;
}

static bool header_ok(const struct rum_paxos_msg *m) {
  return m->type >= 1 && m->type <= RUM_PAXOS_MSG_TYPE_MAX && m->from < RUM_PAXOS_MAX_REPLICAS &&
         m->to < RUM_PAXOS_MAX_REPLICAS && (m->flags & ~RUM_PAXOS_F_ALL) == 0 &&
         m->nentries <= RUM_PAXOS_MAX_ENTRIES && m->data_len <= RUM_PAXOS_MAX_DATA &&
         m->first <= UINT64_MAX - RUM_PAXOS_MAX_ENTRIES;
}

int rum__paxos_msg_encode(const struct rum_paxos_msg *m, uint8_t *buf, size_t cap) {
  if (!header_ok(m) || (m->data_len > 0 && m->data == NULL)) return RUM_EINVAL;
  for (unsigned i = 0; i < m->nentries; i++) {
    const struct rum_paxos_entry *e = &m->entries[i];
    if (e->len > RUM_PAXOS_MAX_VALUE || (e->flags & ~RUM_PAXOS_ENTRY_F_ALL) != 0 ||
        (e->len > 0 && e->value == NULL))
      return RUM_EINVAL;
  }
  if (rum__paxos_msg_size(m) > RUM_PAXOS_MAX_MSG) return RUM_EMSGSIZE;
  struct rum__writer w = {.buf = buf, .cap = cap};
  uint8_t small[4] = {RUM_PAXOS_WIRE_VERSION, m->type, m->from, m->to};
  rum__w_bytes(&w, small, 4);
  rum__w_u16(&w, m->flags);
  rum__w_u16(&w, m->nentries);
  rum__w_u64(&w, m->group);
  rum__w_u64(&w, m->incarnation);
  rum__w_u64(&w, m->ballot);
  rum__w_u64(&w, m->commit);
  rum__w_u64(&w, m->applied);
  rum__w_u64(&w, m->first);
  rum__w_u64(&w, m->echo);
  rum__w_u64(&w, m->extra);
  rum__w_u64(&w, m->extra2);
  rum__w_u32(&w, m->data_len);
  rum__w_u32(&w, 0);
  for (unsigned i = 0; i < m->nentries; i++) {
    const struct rum_paxos_entry *e = &m->entries[i];
    rum__w_u64(&w, e->ballot);
    rum__w_u64(&w, e->origin);
    rum__w_u64(&w, e->tag);
    rum__w_u32(&w, e->len);
    uint8_t tail[4] = {e->flags, 0, 0, 0};
    rum__w_bytes(&w, tail, 4);
    rum__w_bytes(&w, e->value, e->len);
  }
  rum__w_bytes(&w, m->data, m->data_len);
  return rum__writer_done(&w);
}

int rum__paxos_msg_decode(const uint8_t *buf, size_t len, struct rum_paxos_msg *m) {
  if (buf == NULL || len < RUM_PAXOS_HEADER_SIZE || len > RUM_PAXOS_MAX_MSG) return RUM_EPROTO;
  struct rum__reader r = {.buf = buf, .len = len};
  const uint8_t *small = rum__r_bytes(&r, 4);
  if (small[0] != RUM_PAXOS_WIRE_VERSION) return RUM_EPROTO;
  m->type = small[1];
  m->from = small[2];
  m->to = small[3];
  m->flags = rum__r_u16(&r);
  m->nentries = rum__r_u16(&r);
  m->group = rum__r_u64(&r);
  m->incarnation = rum__r_u64(&r);
  m->ballot = rum__r_u64(&r);
  m->commit = rum__r_u64(&r);
  m->applied = rum__r_u64(&r);
  m->first = rum__r_u64(&r);
  m->echo = rum__r_u64(&r);
  m->extra = rum__r_u64(&r);
  m->extra2 = rum__r_u64(&r);
  m->data_len = rum__r_u32(&r);
  if (rum__r_u32(&r) != 0 || !header_ok(m)) return RUM_EPROTO;
  for (unsigned i = 0; i < m->nentries; i++) {
    struct rum_paxos_entry *e = &m->entries[i];
    e->ballot = rum__r_u64(&r);
    e->origin = rum__r_u64(&r);
    e->tag = rum__r_u64(&r);
    e->len = rum__r_u32(&r);
    const uint8_t *tail = rum__r_bytes(&r, 4);
    if (tail == NULL || e->len > RUM_PAXOS_MAX_VALUE) return RUM_EPROTO;
    e->flags = tail[0];
    if ((e->flags & ~RUM_PAXOS_ENTRY_F_ALL) != 0 || tail[1] != 0 || tail[2] != 0 || tail[3] != 0)
      return RUM_EPROTO;
    e->value = rum__r_bytes(&r, e->len);
    if (e->value == NULL) return RUM_EPROTO;
  }
  m->data = rum__r_bytes(&r, m->data_len);
  if (m->data == NULL) return RUM_EPROTO;
  return rum__reader_done(&r);
}
