/* Frame header seal/open: the checks every received byte goes through first. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_* keep their state on our stack: no malloc */
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <rum/rum_errors.h>

#include "proto/le.h"
#include "proto/wire.h"

enum {
  OFF_MAGIC = 0, OFF_VERSION = 4, OFF_TYPE = 5, OFF_FLAGS = 6, OFF_SENDER = 8,
  OFF_FRAG_INDEX = 12, OFF_FRAG_COUNT = 14, OFF_SESSION = 16, OFF_SEQ = 24, OFF_ACK = 32,
  OFF_MSG_LEN = 40, OFF_FRAG_OFFSET = 44, OFF_PAYLOAD_LEN = 48, OFF_CHECKSUM = 52,
  OFF_TAG = 56,
};
_Static_assert(OFF_TAG + RUM_WIRE_TAG_SIZE == RUM_WIRE_HEADER_SIZE, "header layout");

struct key_state {
  SHA256_CTX inner; /* after absorbing key ^ ipad */
  SHA256_CTX outer; /* after absorbing key ^ opad */
};
_Static_assert(sizeof(struct key_state) <= sizeof(((struct rum_wire_key *)0)->state), "key size");

void rum__wire_key_init(struct rum_wire_key *key, const uint8_t raw[RUM_WIRE_KEY_SIZE]) {
  struct key_state *ks = (struct key_state *)key->state;
  uint8_t pad[SHA256_CBLOCK];
  /* HMAC (RFC 2104) with a key shorter than the block: pad with zeros, xor. */
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < RUM_WIRE_KEY_SIZE; i++) pad[i] ^= raw[i];
  SHA256_Init(&ks->inner);
  SHA256_Update(&ks->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < RUM_WIRE_KEY_SIZE; i++) pad[i] ^= raw[i];
  SHA256_Init(&ks->outer);
  SHA256_Update(&ks->outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
}

void rum__wire_key_wipe(struct rum_wire_key *key) { OPENSSL_cleanse(key->state, sizeof key->state); }

/* The MAC covers the whole frame with checksum and tag zeroed: head is such a copy of
 * the header, the payload follows in pieces. */
static void frame_mac(const uint8_t head[RUM_WIRE_HEADER_SIZE], const struct iovec *payload,
                      int npieces, const struct rum_wire_key *key, uint8_t out[RUM_WIRE_TAG_SIZE]) {
  const struct key_state *ks = (const struct key_state *)key->state;
  SHA256_CTX ctx = ks->inner;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_Update(&ctx, head, RUM_WIRE_HEADER_SIZE);
  for (int i = 0; i < npieces; i++) SHA256_Update(&ctx, payload[i].iov_base, payload[i].iov_len);
  SHA256_Final(digest, &ctx);
  ctx = ks->outer;
  SHA256_Update(&ctx, digest, sizeof digest);
  SHA256_Final(digest, &ctx);
  memcpy(out, digest, RUM_WIRE_TAG_SIZE);
  OPENSSL_cleanse(&ctx, sizeof ctx);
}

/* CRC32C over the header with its checksum field zeroed, then the payload. */
static uint32_t frame_checksum(const uint8_t head[RUM_WIRE_HEADER_SIZE], const struct iovec *payload,
                               int npieces) {
  static const uint8_t zero[4];
  uint32_t crc = rum__crc32c(0, head, OFF_CHECKSUM);
  crc = rum__crc32c(crc, zero, 4);
  crc = rum__crc32c(crc, head + OFF_CHECKSUM + 4, RUM_WIRE_HEADER_SIZE - OFF_CHECKSUM - 4);
  for (int i = 0; i < npieces; i++) crc = rum__crc32c(crc, payload[i].iov_base, payload[i].iov_len);
  return crc;
}

/* The header checks seal and open share, so that a sender can only seal frames its
 * receiver will open. A frame is a non-empty slice of its message, except the one
 * frame of an empty message; and the frame of a one-frame message is all of it (else
 * a receiver that counts frames would deliver bytes that never arrived). */
static bool header_fields_ok(const struct rum_wire_header *h) {
  if (h->type == 0 || h->type > RUM_MSG_TYPE_MAX) return false;
  if (h->msg_len > RUM_WIRE_MAX_MSG || h->payload_len > RUM_WIRE_MAX_FRAME - RUM_WIRE_HEADER_SIZE)
    return false;
  if (h->frag_count == 0 || h->frag_count > RUM_WIRE_MAX_FRAGS || h->frag_index >= h->frag_count)
    return false;
  if ((uint64_t)h->frag_offset + h->payload_len > h->msg_len) return false;
  if (h->payload_len == 0 && !(h->msg_len == 0 && h->frag_count == 1)) return false;
  if (h->frag_count == 1 && (h->frag_offset != 0 || h->payload_len != h->msg_len)) return false;
  return true;
}

int rum__wire_frame_seal_iov(uint8_t head[RUM_WIRE_HEADER_SIZE], const struct rum_wire_header *h,
                             const struct iovec *payload, int npieces,
                             const struct rum_wire_key *key) {
  size_t total = 0;
  for (int i = 0; i < npieces; i++) total += payload[i].iov_len;
  if (total != h->payload_len) return RUM_EINVAL;
  if (!header_fields_ok(h)) return RUM_EINVAL;
  uint16_t flags = (uint16_t)(h->flags & RUM_WIRE_F_ALL & ~RUM_WIRE_F_MAC);
  if (key != NULL) flags |= RUM_WIRE_F_MAC;
  rum__put_u32(head + OFF_MAGIC, RUM_WIRE_MAGIC);
  head[OFF_VERSION] = RUM_WIRE_VERSION;
  head[OFF_TYPE] = h->type;
  rum__put_u16(head + OFF_FLAGS, flags);
  rum__put_u32(head + OFF_SENDER, h->sender);
  rum__put_u16(head + OFF_FRAG_INDEX, h->frag_index);
  rum__put_u16(head + OFF_FRAG_COUNT, h->frag_count);
  rum__put_u64(head + OFF_SESSION, h->session);
  rum__put_u64(head + OFF_SEQ, h->seq);
  rum__put_u64(head + OFF_ACK, h->ack);
  rum__put_u32(head + OFF_MSG_LEN, h->msg_len);
  rum__put_u32(head + OFF_FRAG_OFFSET, h->frag_offset);
  rum__put_u32(head + OFF_PAYLOAD_LEN, h->payload_len);
  memset(head + OFF_CHECKSUM, 0, 4);
  memset(head + OFF_TAG, 0, RUM_WIRE_TAG_SIZE);
  if (key != NULL) frame_mac(head, payload, npieces, key, head + OFF_TAG);
  rum__put_u32(head + OFF_CHECKSUM, frame_checksum(head, payload, npieces));
  return 0;
}

int rum__wire_frame_seal(uint8_t *buf, size_t frame_len, const struct rum_wire_header *h,
                         const struct rum_wire_key *key) {
  if (frame_len != RUM_WIRE_HEADER_SIZE + (size_t)h->payload_len) return RUM_EINVAL;
  struct iovec payload = {buf + RUM_WIRE_HEADER_SIZE, h->payload_len};
  return rum__wire_frame_seal_iov(buf, h, &payload, 1, key);
}

int rum__wire_frame_open(const uint8_t *buf, size_t len, struct rum_wire_header *h,
                         const struct rum_wire_key *key) {
  if (len < RUM_WIRE_HEADER_SIZE || len > RUM_WIRE_MAX_FRAME) return RUM_EPROTO;
  if (rum__get_u32(buf + OFF_MAGIC) != RUM_WIRE_MAGIC) return RUM_EPROTO;
  if (buf[OFF_VERSION] != RUM_WIRE_VERSION) return RUM_EPROTO;
  h->type = buf[OFF_TYPE];
  h->flags = rum__get_u16(buf + OFF_FLAGS);
  h->sender = rum__get_u32(buf + OFF_SENDER);
  h->frag_index = rum__get_u16(buf + OFF_FRAG_INDEX);
  h->frag_count = rum__get_u16(buf + OFF_FRAG_COUNT);
  h->session = rum__get_u64(buf + OFF_SESSION);
  h->seq = rum__get_u64(buf + OFF_SEQ);
  h->ack = rum__get_u64(buf + OFF_ACK);
  h->msg_len = rum__get_u32(buf + OFF_MSG_LEN);
  h->frag_offset = rum__get_u32(buf + OFF_FRAG_OFFSET);
  h->payload_len = rum__get_u32(buf + OFF_PAYLOAD_LEN);
  if (h->flags & ~RUM_WIRE_F_ALL) return RUM_EPROTO;
  if (h->payload_len != len - RUM_WIRE_HEADER_SIZE) return RUM_EPROTO;
  if (!header_fields_ok(h)) return RUM_EPROTO;
  struct iovec payload = {(void *)(buf + RUM_WIRE_HEADER_SIZE), h->payload_len};
  if (rum__get_u32(buf + OFF_CHECKSUM) != frame_checksum(buf, &payload, 1)) return RUM_EPROTO;
  if (key != NULL) {
    if (!(h->flags & RUM_WIRE_F_MAC)) return RUM_EAUTH;
    uint8_t head[RUM_WIRE_HEADER_SIZE];
    uint8_t tag[RUM_WIRE_TAG_SIZE];
    memcpy(head, buf, RUM_WIRE_HEADER_SIZE);
    memset(head + OFF_CHECKSUM, 0, 4);
    memset(head + OFF_TAG, 0, RUM_WIRE_TAG_SIZE);
    frame_mac(head, &payload, 1, key, tag);
    if (CRYPTO_memcmp(tag, buf + OFF_TAG, RUM_WIRE_TAG_SIZE) != 0) return RUM_EAUTH;
  }
  return 0;
}
