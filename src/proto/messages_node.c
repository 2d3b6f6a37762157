/* Payload codecs of the node-administration messages: STAT's statistics and the
 * REGIONS listing. Both carry a counted list of which only the used entries travel;
 * decoding leaves the unused entries of the struct untouched. The STAT request is an
 * empty payload and has no codec. */
#include <string.h>

#include <rum/rum_errors.h>

#include "proto/messages_internal.h"
#include "proto/wire.h"

/* ---- STAT ---- */

static bool stat_resp_valid(const struct rum_msg_stat_resp *m) {
  if (m->npeers > RUM_WIRE_MAX_NODES_LIST) return false;
  for (uint32_t i = 0; i < m->npeers; i++)
    if (m->peers[i].up > 1) return false;
  return true;
}

int rum__wire_encode_stat_resp(uint8_t *buf, size_t cap, const struct rum_msg_stat_resp *m) {
  if (!stat_resp_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->node_id);
  rum__w_u32(&w, m->npeers);
  rum__w_u64(&w, m->incarnation);
  rum__w_u64(&w, m->uptime_ms);
  rum__w_u64(&w, m->memory_limit);
  rum__w_u64(&w, m->memory_used);
  rum__w_u64(&w, m->regions);
  rum__w_u64(&w, m->named_regions);
  rum__w_u64(&w, m->clients);
  for (int i = 0; i <= RUM_MSG_TYPE_MAX; i++) rum__w_u64(&w, m->requests[i]);
  rum__w_u64(&w, m->bytes_in);
  rum__w_u64(&w, m->bytes_out);
  rum__w_u64(&w, m->retransmits);
  rum__w_u64(&w, m->drops);
  rum__w_u64(&w, m->auth_drops);
  rum__w_u64(&w, m->reclaims);
  rum__w_u64(&w, m->errors);
  rum__w_u64(&w, m->access_denied);
  rum__w_u64(&w, m->no_region);
  rum__w_u64(&w, m->out_of_range);
  rum__w_u64(&w, m->oversized);
  rum__w_u64(&w, m->quota_denied);
  for (uint32_t i = 0; i < m->npeers; i++) {
    rum__w_u32(&w, m->peers[i].node_id);
    rum__w_u32(&w, m->peers[i].up);
    rum__w_u64(&w, m->peers[i].last_heard_ms);
  }
  return rum__writer_done(&w);
}

int rum__wire_decode_stat_resp(const uint8_t *buf, size_t len, struct rum_msg_stat_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->node_id = rum__r_u32(&r);
  m->npeers = rum__r_u32(&r);
  /* npeers bounds the loop below and the array it fills. */
  if (m->npeers > RUM_WIRE_MAX_NODES_LIST) return RUM_EPROTO;
  m->incarnation = rum__r_u64(&r);
  m->uptime_ms = rum__r_u64(&r);
  m->memory_limit = rum__r_u64(&r);
  m->memory_used = rum__r_u64(&r);
  m->regions = rum__r_u64(&r);
  m->named_regions = rum__r_u64(&r);
  m->clients = rum__r_u64(&r);
  for (int i = 0; i <= RUM_MSG_TYPE_MAX; i++) m->requests[i] = rum__r_u64(&r);
  m->bytes_in = rum__r_u64(&r);
  m->bytes_out = rum__r_u64(&r);
  m->retransmits = rum__r_u64(&r);
  m->drops = rum__r_u64(&r);
  m->auth_drops = rum__r_u64(&r);
  m->reclaims = rum__r_u64(&r);
  m->errors = rum__r_u64(&r);
  m->access_denied = rum__r_u64(&r);
  m->no_region = rum__r_u64(&r);
  m->out_of_range = rum__r_u64(&r);
  m->oversized = rum__r_u64(&r);
  m->quota_denied = rum__r_u64(&r);
  for (uint32_t i = 0; i < m->npeers; i++) {
    m->peers[i].node_id = rum__r_u32(&r);
    m->peers[i].up = rum__r_u32(&r);
    m->peers[i].last_heard_ms = rum__r_u64(&r);
  }
  if (rum__reader_done(&r) != 0 || !stat_resp_valid(m)) return RUM_EPROTO;
  return 0;
}

/* ---- REGIONS ---- */

static bool regions_req_valid(const struct rum_msg_regions_req *m) {
  return (m->flags & ~(uint32_t)RUM_REGION_F_ALL) == 0;
}

int rum__wire_encode_regions_req(uint8_t *buf, size_t cap, const struct rum_msg_regions_req *m) {
  if (!regions_req_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->flags);
  rum__w_u32(&w, m->start);
  return rum__writer_done(&w);
}

int rum__wire_decode_regions_req(const uint8_t *buf, size_t len, struct rum_msg_regions_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->flags = rum__r_u32(&r);
  m->start = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || !regions_req_valid(m)) return RUM_EPROTO;
  return 0;
}

typedef __typeof__(((struct rum_msg_regions_resp *)0)->entries[0]) region_entry;

/* An entry is a region as ALLOC would register it; named regions have no owner. */
static bool region_entry_valid(const region_entry *e) {
  if (e->flags & ~(uint32_t)RUM_REGION_F_ALL) return false;
  if ((e->flags & RUM_REGION_F_NAMED) && e->owner_session != 0) return false;
  return rum__wire_region_naming_ok(e->region_id, e->flags, e->name, e->name_len);
}

int rum__wire_encode_regions_resp(uint8_t *buf, size_t cap, const struct rum_msg_regions_resp *m) {
  if (m->count > RUM_WIRE_MAX_REGIONS_LIST || m->count > m->total) return RUM_EINVAL;
  for (uint32_t i = 0; i < m->count; i++)
    if (!region_entry_valid(&m->entries[i])) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->total);
  rum__w_u32(&w, m->count);
  for (uint32_t i = 0; i < m->count; i++) {
    const region_entry *e = &m->entries[i];
    rum__w_u64(&w, e->region_id);
    rum__w_u64(&w, e->size);
    rum__w_u64(&w, e->bytes_stored);
    rum__w_u64(&w, e->owner_session);
    rum__w_u32(&w, e->owner_id);
    rum__w_u32(&w, e->flags);
    rum__w_u16(&w, e->name_len);
    rum__w_bytes(&w, e->name, e->name_len);
  }
  return rum__writer_done(&w);
}

/* Takes one entry; false when it is truncated or malformed. */
static bool region_entry_decode(struct rum__reader *r, region_entry *e) {
  e->region_id = rum__r_u64(r);
  e->size = rum__r_u64(r);
  e->bytes_stored = rum__r_u64(r);
  e->owner_session = rum__r_u64(r);
  e->owner_id = rum__r_u32(r);
  e->flags = rum__r_u32(r);
  e->name_len = rum__r_u16(r);
  if (e->name_len > RUM_WIRE_NAME_MAX) return false; /* bounds the copy into name[] */
  const uint8_t *name = rum__r_bytes(r, e->name_len);
  if (name == NULL) return false;
  memcpy(e->name, name, e->name_len);
  e->name[e->name_len] = '\0';
  return region_entry_valid(e);
}

int rum__wire_decode_regions_resp(const uint8_t *buf, size_t len, struct rum_msg_regions_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->total = rum__r_u32(&r);
  m->count = rum__r_u32(&r);
  if (m->count > RUM_WIRE_MAX_REGIONS_LIST || m->count > m->total) return RUM_EPROTO;
  for (uint32_t i = 0; i < m->count; i++)
    if (!region_entry_decode(&r, &m->entries[i])) return RUM_EPROTO;
  return rum__reader_done(&r);
}
