/* libFuzzer harness for the wire format (src/proto).
 *
 * Each input is used three ways:
 *  1. as a received frame, opened without and with the cluster key; a frame that
 *     opens must seal again to the same header, and the payload of a one-frame
 *     message goes through the decoder its type names;
 *  2. as a message payload: the first byte chooses a decoder, the rest is fed to it;
 *  3. as the fields of a header to seal: whatever seal accepts, open must accept.
 * Every decode that succeeds is re-encoded: the encoding is canonical, so it must
 * give back the very bytes, and decoding those must give equal fields.
 *
 * Violations abort(), so the replay driver (replay_main.c) fails on them too. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "fuzz_proto: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                       \
    }                                                                                \
  } while (0)

/* The key the seed frames with a MAC were sealed with (gen_proto_seeds.py). */
static const uint8_t raw_key[RUM_WIRE_KEY_SIZE] = "rum-fuzz-key-0123456789abcdefghi";
static struct rum_wire_key key;
static bool key_ready;

static uint8_t enc[RUM_WIRE_MAX_MSG];

static bool bytes_eq(const void *a, const void *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

/* ---- Messages ---- */

/* Decode in; if that succeeds, encode the result (must give back in's bytes) and
 * decode the encoding into b (must succeed); EQ then compares a and b. */
#define ROUND_TRIP(name, T, EQ)                                                      \
  static void fuzz_##name(const uint8_t *in, size_t len) {                           \
    static T a, b;                                                                   \
    int rc = rum__wire_decode_##name(in, len, &a);                                   \
    CHECK(rc == 0 || rc == RUM_EPROTO);                                              \
    if (rc != 0) return;                                                             \
    int n = rum__wire_encode_##name(enc, sizeof enc, &a);                            \
    CHECK(n >= 0 && (size_t)n == len && bytes_eq(enc, in, len));                     \
    CHECK(rum__wire_decode_##name(enc, (size_t)n, &b) == 0);                         \
    CHECK(EQ);                                                                       \
  }

#define F(f) (a.f == b.f)
ROUND_TRIP(hello_req, struct rum_msg_hello_req, F(proto_version) && F(flags) && F(mtu) && F(lease_ms))
ROUND_TRIP(hello_resp, struct rum_msg_hello_resp,
           F(node_id) && F(page_size) && F(lease_ms) && F(mtu) && F(incarnation) && F(memory_limit) &&
               F(memory_used))
ROUND_TRIP(alloc_req, struct rum_msg_alloc_req,
           F(region_id) && F(size) && F(flags) && F(name_len) && bytes_eq(a.name, b.name, a.name_len))
ROUND_TRIP(alloc_resp, struct rum_msg_alloc_resp, F(region_id) && F(size))
ROUND_TRIP(free_req, struct rum_msg_free_req, F(region_id))
ROUND_TRIP(read_req, struct rum_msg_read_req, F(region_id) && F(first_page) && F(npages))
ROUND_TRIP(write_resp, struct rum_msg_write_resp, F(npages))
ROUND_TRIP(heartbeat_req, struct rum_msg_heartbeat_req, F(flags) && F(nregions))
ROUND_TRIP(heartbeat_resp, struct rum_msg_heartbeat_resp, F(incarnation) && F(lease_ms) && F(lease_valid))
ROUND_TRIP(error, struct rum_msg_error, F(code) && F(text_len) && bytes_eq(a.text, b.text, a.text_len))
ROUND_TRIP(attach_req, struct rum_msg_attach_req, F(name_len) && bytes_eq(a.name, b.name, a.name_len))
ROUND_TRIP(attach_resp, struct rum_msg_attach_resp, F(region_id) && F(size) && F(flags))
ROUND_TRIP(resize_req, struct rum_msg_resize_req, F(region_id) && F(new_size))
ROUND_TRIP(copy_req, struct rum_msg_copy_req, F(src_region) && F(dst_region) && F(first_page) && F(npages))
ROUND_TRIP(regions_req, struct rum_msg_regions_req, F(flags) && F(start))

static bool stat_eq(const struct rum_msg_stat_resp *x, const struct rum_msg_stat_resp *y) {
  bool eq = x->node_id == y->node_id && x->npeers == y->npeers && x->incarnation == y->incarnation &&
            x->uptime_ms == y->uptime_ms && x->memory_limit == y->memory_limit &&
            x->memory_used == y->memory_used && x->regions == y->regions &&
            x->named_regions == y->named_regions && x->clients == y->clients &&
            x->bytes_in == y->bytes_in && x->bytes_out == y->bytes_out && x->retransmits == y->retransmits &&
            x->drops == y->drops && x->auth_drops == y->auth_drops && x->reclaims == y->reclaims &&
            x->errors == y->errors && x->access_denied == y->access_denied &&
            x->no_region == y->no_region && x->out_of_range == y->out_of_range &&
            x->oversized == y->oversized && x->quota_denied == y->quota_denied && bytes_eq(x->requests, y->requests, sizeof x->requests);
  for (uint32_t i = 0; eq && i < x->npeers; i++)
    eq = x->peers[i].node_id == y->peers[i].node_id && x->peers[i].up == y->peers[i].up &&
         x->peers[i].last_heard_ms == y->peers[i].last_heard_ms;
  return eq;
}
ROUND_TRIP(stat_resp, struct rum_msg_stat_resp, stat_eq(&a, &b))

static bool regions_eq(const struct rum_msg_regions_resp *x, const struct rum_msg_regions_resp *y) {
  bool eq = x->total == y->total && x->count == y->count;
  for (uint32_t i = 0; eq && i < x->count; i++) {
    const __typeof__(x->entries[0]) *p = &x->entries[i], *q = &y->entries[i];
    eq = p->region_id == q->region_id && p->size == q->size && p->bytes_stored == q->bytes_stored &&
         p->owner_session == q->owner_session && p->owner_id == q->owner_id && p->flags == q->flags &&
         p->name_len == q->name_len && bytes_eq(p->name, q->name, p->name_len + 1u) &&
         strlen(p->name) <= p->name_len;
  }
  return eq;
}
ROUND_TRIP(regions_resp, struct rum_msg_regions_resp, regions_eq(&a, &b))

/* READ responses and WRITE requests encode only their fixed part; the page data
 * follows and must be exactly npages pages, pointed to in place. */
static void fuzz_read_resp(const uint8_t *in, size_t len) {
  static struct rum_msg_read_resp a, b;
  int rc = rum__wire_decode_read_resp(in, len, &a);
  CHECK(rc == 0 || rc == RUM_EPROTO);
  if (rc != 0) return;
  CHECK(a.data == in + RUM_WIRE_READ_RESP_FIXED);
  CHECK(len == RUM_WIRE_READ_RESP_FIXED + (size_t)a.npages * RUM_PAGE_SIZE);
  int n = rum__wire_encode_read_resp_fixed(enc, sizeof enc, &a);
  CHECK(n == RUM_WIRE_READ_RESP_FIXED && bytes_eq(enc, in, RUM_WIRE_READ_RESP_FIXED));
  memcpy(enc + n, a.data, len - (size_t)n);
  CHECK(rum__wire_decode_read_resp(enc, len, &b) == 0);
  CHECK(F(region_id) && F(first_page) && F(npages) && b.data == enc + n);
}

static void fuzz_write_req(const uint8_t *in, size_t len) {
  static struct rum_msg_write_req a, b;
  int rc = rum__wire_decode_write_req(in, len, &a);
  CHECK(rc == 0 || rc == RUM_EPROTO);
  if (rc != 0) return;
  size_t fixed = rum__wire_write_req_fixed(a.npages);
  CHECK(a.data == in + fixed && len == fixed + (size_t)a.npages * RUM_PAGE_SIZE);
  int n = rum__wire_encode_write_req_fixed(enc, sizeof enc, &a);
  CHECK(n >= 0 && (size_t)n == fixed && bytes_eq(enc, in, fixed));
  memcpy(enc + n, a.data, len - fixed);
  CHECK(rum__wire_decode_write_req(enc, len, &b) == 0);
  CHECK(F(region_id) && F(npages) && b.data == enc + n &&
        bytes_eq(a.page_index, b.page_index, a.npages * sizeof a.page_index[0]));
}
#undef F

typedef void (*message_fuzzer)(const uint8_t *in, size_t len);
static const message_fuzzer messages[] = {
    fuzz_hello_req,  fuzz_hello_resp,     fuzz_alloc_req,      fuzz_alloc_resp, fuzz_free_req,
    fuzz_read_req,   fuzz_read_resp,      fuzz_write_req,      fuzz_write_resp, fuzz_stat_resp,
    fuzz_heartbeat_req, fuzz_heartbeat_resp, fuzz_error,       fuzz_attach_req, fuzz_attach_resp,
    fuzz_resize_req, fuzz_copy_req,       fuzz_regions_req,    fuzz_regions_resp,
};
enum { NMESSAGES = sizeof messages / sizeof messages[0] };

/* The decoder for the payload of a frame of this type, or NULL for the payloads
 * that are empty (PING, the STAT request, FREE/RESIZE/COPY responses). */
static message_fuzzer message_for_frame(uint8_t type, bool response) {
  switch (type) {
  case RUM_MSG_HELLO: return response ? fuzz_hello_resp : fuzz_hello_req;
  case RUM_MSG_ALLOC: return response ? fuzz_alloc_resp : fuzz_alloc_req;
  case RUM_MSG_FREE: return response ? NULL : fuzz_free_req;
  case RUM_MSG_READ: return response ? fuzz_read_resp : fuzz_read_req;
  case RUM_MSG_WRITE: return response ? fuzz_write_resp : fuzz_write_req;
  case RUM_MSG_STAT: return response ? fuzz_stat_resp : NULL;
  case RUM_MSG_HEARTBEAT: return response ? fuzz_heartbeat_resp : fuzz_heartbeat_req;
  case RUM_MSG_ERROR: return fuzz_error;
  case RUM_MSG_ATTACH: return response ? fuzz_attach_resp : fuzz_attach_req;
  case RUM_MSG_RESIZE: return response ? NULL : fuzz_resize_req;
  case RUM_MSG_COPY: return response ? NULL : fuzz_copy_req;
  case RUM_MSG_REGIONS: return response ? fuzz_regions_resp : fuzz_regions_req;
  default: return NULL;
  }
}

/* ---- Frames ---- */

static bool headers_eq(const struct rum_wire_header *x, const struct rum_wire_header *y) {
  return x->type == y->type && x->sender == y->sender && x->frag_index == y->frag_index &&
         x->frag_count == y->frag_count && x->session == y->session && x->seq == y->seq &&
         x->ack == y->ack && x->msg_len == y->msg_len && x->frag_offset == y->frag_offset &&
         x->payload_len == y->payload_len;
}

static void fuzz_frame_open(const uint8_t *data, size_t size) {
  static uint8_t frame[RUM_WIRE_MAX_FRAME];
  for (int keyed = 0; keyed < 2; keyed++) {
    const struct rum_wire_key *k = keyed ? &key : NULL;
    struct rum_wire_header h, h2;
    int rc = rum__wire_frame_open(data, size, &h, k);
    CHECK(rc == 0 || rc == RUM_EPROTO || (keyed && rc == RUM_EAUTH));
    if (rc != 0) continue;
    CHECK(size == RUM_WIRE_HEADER_SIZE + (size_t)h.payload_len && size <= sizeof frame);
    /* Sealing what was opened gives a frame that opens to the same header; under
     * the key it is the very same frame. */
    memcpy(frame, data, size);
    CHECK(rum__wire_frame_seal(frame, size, &h, k) == 0);
    if (keyed) CHECK(memcmp(frame, data, size) == 0);
    CHECK(rum__wire_frame_open(frame, size, &h2, k) == 0);
    CHECK(headers_eq(&h, &h2));
    CHECK(h2.flags == ((h.flags & ~RUM_WIRE_F_MAC) | (keyed ? RUM_WIRE_F_MAC : 0)));
    if (h.frag_count == 1) {
      message_fuzzer m = message_for_frame(h.type, h.flags & RUM_WIRE_F_RESPONSE);
      if (m != NULL) m(data + RUM_WIRE_HEADER_SIZE, h.payload_len);
    }
  }
}

/* Header fields taken from the input, in wire.h's struct order, then the payload. */
enum { SEAL_FIELDS = 1 + 2 + 4 + 2 + 2 + 8 + 8 + 8 + 4 + 4 };

static const uint8_t *take(void *field, const uint8_t *p, size_t n) {
  memcpy(field, p, n);
  return p + n;
}

/* The key is chosen by the sender id's low bit. */
static void fuzz_frame_seal(const uint8_t *data, size_t size) {
  static uint8_t frame[RUM_WIRE_MAX_FRAME + 1];
  if (size < SEAL_FIELDS || size - SEAL_FIELDS > sizeof frame - RUM_WIRE_HEADER_SIZE) return;
  struct rum_wire_header h, got;
  const uint8_t *p = data;
  p = take(&h.type, p, sizeof h.type);
  p = take(&h.flags, p, sizeof h.flags);
  p = take(&h.sender, p, sizeof h.sender);
  p = take(&h.frag_index, p, sizeof h.frag_index);
  p = take(&h.frag_count, p, sizeof h.frag_count);
  p = take(&h.session, p, sizeof h.session);
  p = take(&h.seq, p, sizeof h.seq);
  p = take(&h.ack, p, sizeof h.ack);
  p = take(&h.msg_len, p, sizeof h.msg_len);
  p = take(&h.frag_offset, p, sizeof h.frag_offset);
  h.payload_len = (uint32_t)(size - SEAL_FIELDS);
  size_t len = RUM_WIRE_HEADER_SIZE + h.payload_len;
  memcpy(frame + RUM_WIRE_HEADER_SIZE, p, h.payload_len);
  const struct rum_wire_key *k = (h.sender & 1) ? &key : NULL;
  int rc = rum__wire_frame_seal(frame, len, &h, k);
  CHECK(rc == 0 || rc == RUM_EINVAL);
  if (rc != 0) return;
  CHECK(rum__wire_frame_open(frame, len, &got, k) == 0);
  CHECK(headers_eq(&h, &got));
  CHECK(got.flags == ((h.flags & RUM_WIRE_F_ALL & ~RUM_WIRE_F_MAC) | (k ? RUM_WIRE_F_MAC : 0)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!key_ready) {
    rum__wire_key_init(&key, raw_key);
    key_ready = true;
  }
  fuzz_frame_open(data, size);
  if (size >= 1) messages[data[0] % NMESSAGES](data + 1, size - 1);
  fuzz_frame_seal(data, size);
  return 0;
}
