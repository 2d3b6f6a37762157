/* Message payload codecs: the encode / decode pair of every message in wire.h.
 *
 * Every field is fixed width and little-endian, written in the order its struct
 * declares it, with no padding; variable parts (names, texts, page data, list
 * entries) follow the field that counts them. Each message has one validity check
 * shared by its encoder and its decoder, so whatever an encoder accepts its decoder
 * accepts too, and a decoder rejects exactly what an encoder would refuse to write.
 * A decoder that fails may have filled part of its struct; one that succeeds sets a
 * pointer field to NULL when the part it would point at is empty.
 *
 * The node-administration messages (STAT, REGIONS) are in messages_node.c. */
#include <string.h>

#include <xxhash.h>

#include <rum/rum_errors.h>

#include "proto/messages_internal.h"
#include "proto/wire.h"

/* ---- Shared field checks ---- */

bool rum__wire_name_valid(const char *name, size_t len) {
  if (name == NULL || len == 0 || len > RUM_WIRE_NAME_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

uint64_t rum__wire_named_region_id(const char *name, size_t len) {
  return XXH3_64bits(name, len) | RUM__WIRE_NAMED_ID_BIT;
}

bool rum__wire_region_naming_ok(uint64_t region_id, uint32_t flags, const char *name, size_t name_len) {
  if (!(flags & RUM_REGION_F_NAMED)) return name_len == 0 && !(region_id & RUM__WIRE_NAMED_ID_BIT);
  return rum__wire_name_valid(name, name_len) && region_id == rum__wire_named_region_id(name, name_len);
}

/* npages (at least one, at most max) pages from first must lie within the pages a
 * 64-bit byte offset can address, so that first * RUM_PAGE_SIZE never overflows. */
static bool page_range_ok(uint64_t first, uint64_t npages, uint64_t max) {
  return npages >= 1 && npages <= max && first <= RUM__WIRE_PAGE_LIMIT - npages;
}

static bool hello_flags_ok(uint32_t flags) {
  return (flags & ~(uint32_t)(RUM_HELLO_F_CLIENT | RUM_HELLO_F_NODE)) == 0;
}

/* ---- HELLO ---- */

/* proto_version is not checked here: a node answers a version it does not speak with
 * an ERROR that says so, which it could not do if the message failed to decode. mtu
 * is not bounded either: wire.h does not say whether it is a link MTU (loopback's is
 * 65536) or a frame size, so clamping it is left to the receiver. */
int rum__wire_encode_hello_req(uint8_t *buf, size_t cap, const struct rum_msg_hello_req *m) {
  if (!hello_flags_ok(m->flags)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->proto_version);
  rum__w_u32(&w, m->flags);
  rum__w_u32(&w, m->mtu);
  rum__w_u32(&w, m->lease_ms);
  return rum__writer_done(&w);
}

int rum__wire_decode_hello_req(const uint8_t *buf, size_t len, struct rum_msg_hello_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->proto_version = rum__r_u32(&r);
  m->flags = rum__r_u32(&r);
  m->mtu = rum__r_u32(&r);
  m->lease_ms = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || !hello_flags_ok(m->flags)) return RUM_EPROTO;
  return 0;
}

/* The page size is part of the wire format (READ and WRITE carry whole
 * RUM_PAGE_SIZE pages), so a node announcing another one is malformed. */
int rum__wire_encode_hello_resp(uint8_t *buf, size_t cap, const struct rum_msg_hello_resp *m) {
  if (m->page_size != RUM_PAGE_SIZE) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->node_id);
  rum__w_u32(&w, m->page_size);
  rum__w_u32(&w, m->lease_ms);
  rum__w_u32(&w, m->mtu);
  rum__w_u64(&w, m->incarnation);
  rum__w_u64(&w, m->memory_limit);
  rum__w_u64(&w, m->memory_used);
  return rum__writer_done(&w);
}

int rum__wire_decode_hello_resp(const uint8_t *buf, size_t len, struct rum_msg_hello_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->node_id = rum__r_u32(&r);
  m->page_size = rum__r_u32(&r);
  m->lease_ms = rum__r_u32(&r);
  m->mtu = rum__r_u32(&r);
  m->incarnation = rum__r_u64(&r);
  m->memory_limit = rum__r_u64(&r);
  m->memory_used = rum__r_u64(&r);
  if (rum__reader_done(&r) != 0 || m->page_size != RUM_PAGE_SIZE) return RUM_EPROTO;
  return 0;
}

/* ---- ALLOC, FREE, RESIZE, COPY ---- */

static bool alloc_req_valid(const struct rum_msg_alloc_req *m) {
  if (m->flags & ~(uint32_t)RUM_REGION_F_ALL) return false;
  return rum__wire_region_naming_ok(m->region_id, m->flags, m->name, m->name_len);
}

int rum__wire_encode_alloc_req(uint8_t *buf, size_t cap, const struct rum_msg_alloc_req *m) {
  if (!alloc_req_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->size);
  rum__w_u64(&w, m->reserve);
  rum__w_u32(&w, m->flags);
  rum__w_u16(&w, m->name_len);
  rum__w_bytes(&w, m->name, m->name_len);
  return rum__writer_done(&w);
}

int rum__wire_decode_alloc_req(const uint8_t *buf, size_t len, struct rum_msg_alloc_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->size = rum__r_u64(&r);
  m->reserve = rum__r_u64(&r);
  m->flags = rum__r_u32(&r);
  m->name_len = rum__r_u16(&r);
  m->name = (const char *)rum__r_bytes(&r, m->name_len);
  if (rum__reader_done(&r) != 0 || !alloc_req_valid(m)) return RUM_EPROTO;
  if (m->name_len == 0) m->name = NULL;
  return 0;
}

int rum__wire_encode_alloc_resp(uint8_t *buf, size_t cap, const struct rum_msg_alloc_resp *m) {
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->size);
  return rum__writer_done(&w);
}

int rum__wire_decode_alloc_resp(const uint8_t *buf, size_t len, struct rum_msg_alloc_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->size = rum__r_u64(&r);
  return rum__reader_done(&r);
}

int rum__wire_encode_free_req(uint8_t *buf, size_t cap, const struct rum_msg_free_req *m) {
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  return rum__writer_done(&w);
}

int rum__wire_decode_free_req(const uint8_t *buf, size_t len, struct rum_msg_free_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  return rum__reader_done(&r);
}

int rum__wire_encode_resize_req(uint8_t *buf, size_t cap, const struct rum_msg_resize_req *m) {
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->new_size);
  rum__w_u64(&w, m->reserve);
  return rum__writer_done(&w);
}

int rum__wire_decode_resize_req(const uint8_t *buf, size_t len, struct rum_msg_resize_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->new_size = rum__r_u64(&r);
  m->reserve = rum__r_u64(&r);
  return rum__reader_done(&r);
}

static bool discard_req_valid(const struct rum_msg_discard_req *m) {
  if (m->nranges == 0 || m->nranges > RUM_WIRE_MAX_DISCARD_RANGES) return false;
  for (uint32_t i = 0; i < m->nranges; i++)
    if (m->ranges[i].npages == 0 || !page_range_ok(m->ranges[i].first_page, m->ranges[i].npages, RUM__WIRE_PAGE_LIMIT))
      return false;
  return true;
}

int rum__wire_encode_discard_req(uint8_t *buf, size_t cap, const struct rum_msg_discard_req *m) {
  if (!discard_req_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u32(&w, m->nranges);
  for (uint32_t i = 0; i < m->nranges; i++) {
    rum__w_u64(&w, m->ranges[i].first_page);
    rum__w_u32(&w, m->ranges[i].npages);
  }
  return rum__writer_done(&w);
}

int rum__wire_decode_discard_req(const uint8_t *buf, size_t len, struct rum_msg_discard_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->nranges = rum__r_u32(&r);
  if (m->nranges == 0 || m->nranges > RUM_WIRE_MAX_DISCARD_RANGES) return RUM_EPROTO;
  for (uint32_t i = 0; i < m->nranges; i++) {
    m->ranges[i].first_page = rum__r_u64(&r);
    m->ranges[i].npages = rum__r_u32(&r);
  }
  int rc = rum__reader_done(&r);
  if (rc != 0) return rc;
  return discard_req_valid(m) ? 0 : RUM_EPROTO;
}

/* A COPY runs inside one node, so it is not bounded by RUM_WIRE_MAX_PAGES; an empty
 * copy is a caller's mistake rather than a no-op worth a round trip. */
static bool copy_req_valid(const struct rum_msg_copy_req *m) {
  return page_range_ok(m->first_page, m->npages, RUM__WIRE_PAGE_LIMIT);
}

int rum__wire_encode_copy_req(uint8_t *buf, size_t cap, const struct rum_msg_copy_req *m) {
  if (!copy_req_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->src_region);
  rum__w_u64(&w, m->dst_region);
  rum__w_u64(&w, m->first_page);
  rum__w_u64(&w, m->npages);
  return rum__writer_done(&w);
}

int rum__wire_decode_copy_req(const uint8_t *buf, size_t len, struct rum_msg_copy_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->src_region = rum__r_u64(&r);
  m->dst_region = rum__r_u64(&r);
  m->first_page = rum__r_u64(&r);
  m->npages = rum__r_u64(&r);
  if (rum__reader_done(&r) != 0 || !copy_req_valid(m)) return RUM_EPROTO;
  return 0;
}

/* ---- READ, WRITE ---- */

int rum__wire_encode_read_req(uint8_t *buf, size_t cap, const struct rum_msg_read_req *m) {
  if (!page_range_ok(m->first_page, m->npages, RUM_WIRE_MAX_PAGES)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->first_page);
  rum__w_u32(&w, m->npages);
  return rum__writer_done(&w);
}

int rum__wire_decode_read_req(const uint8_t *buf, size_t len, struct rum_msg_read_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->first_page = rum__r_u64(&r);
  m->npages = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || !page_range_ok(m->first_page, m->npages, RUM_WIRE_MAX_PAGES))
    return RUM_EPROTO;
  return 0;
}

int rum__wire_encode_read_resp_fixed(uint8_t *buf, size_t cap, const struct rum_msg_read_resp *m) {
  if (!page_range_ok(m->first_page, m->npages, RUM_WIRE_MAX_PAGES)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->first_page);
  rum__w_u32(&w, m->npages);
  return rum__writer_done(&w);
}

int rum__wire_decode_read_resp(const uint8_t *buf, size_t len, struct rum_msg_read_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->first_page = rum__r_u64(&r);
  m->npages = rum__r_u32(&r);
  /* Range first: npages bounds the data length taken next. */
  if (!page_range_ok(m->first_page, m->npages, RUM_WIRE_MAX_PAGES)) return RUM_EPROTO;
  m->data = rum__r_bytes(&r, (size_t)m->npages * RUM_PAGE_SIZE);
  return rum__reader_done(&r);
}

static bool page_index_ok(uint64_t index) { return index < RUM__WIRE_PAGE_LIMIT; }

int rum__wire_encode_write_req_fixed(uint8_t *buf, size_t cap, const struct rum_msg_write_req *m) {
  if (m->npages < 1 || m->npages > RUM_WIRE_MAX_PAGES) return RUM_EINVAL;
  for (uint32_t i = 0; i < m->npages; i++)
    if (!page_index_ok(m->page_index[i])) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u32(&w, m->npages);
  for (uint32_t i = 0; i < m->npages; i++) rum__w_u64(&w, m->page_index[i]);
  return rum__writer_done(&w);
}

int rum__wire_decode_write_req(const uint8_t *buf, size_t len, struct rum_msg_write_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->npages = rum__r_u32(&r);
  if (m->npages < 1 || m->npages > RUM_WIRE_MAX_PAGES) return RUM_EPROTO;
  for (uint32_t i = 0; i < m->npages; i++) {
    m->page_index[i] = rum__r_u64(&r);
    if (!page_index_ok(m->page_index[i])) return RUM_EPROTO;
  }
  m->data = rum__r_bytes(&r, (size_t)m->npages * RUM_PAGE_SIZE);
  return rum__reader_done(&r);
}

int rum__wire_encode_write_resp(uint8_t *buf, size_t cap, const struct rum_msg_write_resp *m) {
  if (m->npages < 1 || m->npages > RUM_WIRE_MAX_PAGES) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->npages);
  return rum__writer_done(&w);
}

int rum__wire_decode_write_resp(const uint8_t *buf, size_t len, struct rum_msg_write_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->npages = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || m->npages < 1 || m->npages > RUM_WIRE_MAX_PAGES) return RUM_EPROTO;
  return 0;
}

/* ---- HEARTBEAT ---- */

int rum__wire_encode_heartbeat_req(uint8_t *buf, size_t cap, const struct rum_msg_heartbeat_req *m) {
  if (!hello_flags_ok(m->flags)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, m->flags);
  rum__w_u32(&w, m->nregions);
  return rum__writer_done(&w);
}

int rum__wire_decode_heartbeat_req(const uint8_t *buf, size_t len, struct rum_msg_heartbeat_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->flags = rum__r_u32(&r);
  m->nregions = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || !hello_flags_ok(m->flags)) return RUM_EPROTO;
  return 0;
}

int rum__wire_encode_heartbeat_resp(uint8_t *buf, size_t cap, const struct rum_msg_heartbeat_resp *m) {
  if (m->lease_valid > 1) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->incarnation);
  rum__w_u32(&w, m->lease_ms);
  rum__w_u32(&w, m->lease_valid);
  return rum__writer_done(&w);
}

int rum__wire_decode_heartbeat_resp(const uint8_t *buf, size_t len, struct rum_msg_heartbeat_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->incarnation = rum__r_u64(&r);
  m->lease_ms = rum__r_u32(&r);
  m->lease_valid = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || m->lease_valid > 1) return RUM_EPROTO;
  return 0;
}

/* ---- ERROR ---- */

/* The text is free-form bytes (a receiver copies it and adds the NUL); only its
 * length is bounded. */
static bool error_valid(const struct rum_msg_error *m) {
  return m->code < 0 && m->text_len <= RUM_WIRE_ERRMSG_MAX;
}

int rum__wire_encode_error(uint8_t *buf, size_t cap, const struct rum_msg_error *m) {
  if (!error_valid(m) || (m->text_len > 0 && m->text == NULL)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u32(&w, (uint32_t)m->code);
  rum__w_u16(&w, m->text_len);
  rum__w_bytes(&w, m->text, m->text_len);
  return rum__writer_done(&w);
}

int rum__wire_decode_error(const uint8_t *buf, size_t len, struct rum_msg_error *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->code = (int32_t)rum__r_u32(&r);
  m->text_len = rum__r_u16(&r);
  m->text = (const char *)rum__r_bytes(&r, m->text_len);
  if (rum__reader_done(&r) != 0 || !error_valid(m)) return RUM_EPROTO;
  if (m->text_len == 0) m->text = NULL;
  return 0;
}

/* ---- ATTACH ---- */

int rum__wire_encode_attach_req(uint8_t *buf, size_t cap, const struct rum_msg_attach_req *m) {
  if (!rum__wire_name_valid(m->name, m->name_len)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u16(&w, m->name_len);
  rum__w_bytes(&w, m->name, m->name_len);
  return rum__writer_done(&w);
}

int rum__wire_decode_attach_req(const uint8_t *buf, size_t len, struct rum_msg_attach_req *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->name_len = rum__r_u16(&r);
  m->name = (const char *)rum__r_bytes(&r, m->name_len);
  if (rum__reader_done(&r) != 0 || !rum__wire_name_valid(m->name, m->name_len)) return RUM_EPROTO;
  return 0;
}

/* ATTACH finds named regions only: the answer must say so in both flags and id. */
static bool attach_resp_valid(const struct rum_msg_attach_resp *m) {
  return (m->flags & ~(uint32_t)RUM_REGION_F_ALL) == 0 && (m->flags & RUM_REGION_F_NAMED) &&
         (m->region_id & RUM__WIRE_NAMED_ID_BIT);
}

int rum__wire_encode_attach_resp(uint8_t *buf, size_t cap, const struct rum_msg_attach_resp *m) {
  if (!attach_resp_valid(m)) return RUM_EINVAL;
  struct rum__writer w = {.buf = buf, .cap = cap};
  rum__w_u64(&w, m->region_id);
  rum__w_u64(&w, m->size);
  rum__w_u32(&w, m->flags);
  return rum__writer_done(&w);
}

int rum__wire_decode_attach_resp(const uint8_t *buf, size_t len, struct rum_msg_attach_resp *m) {
  struct rum__reader r = {.buf = buf, .len = len};
  m->region_id = rum__r_u64(&r);
  m->size = rum__r_u64(&r);
  m->flags = rum__r_u32(&r);
  if (rum__reader_done(&r) != 0 || !attach_resp_valid(m)) return RUM_EPROTO;
  return 0;
}
