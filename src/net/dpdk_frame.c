/* Ethernet / IPv4 / UDP / ARP frame building and strict parsing (see dpdk_frame.h). */
#include "net/dpdk_frame.h"

#include <string.h>

const uint8_t rum__dpdk_mac_broadcast[RUM_DPDK_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t rum__dpdk_mac_zero[RUM_DPDK_MAC_LEN] = {0};

enum {
  IPV4_FLAG_DF = 0x4000,
  IPV4_FLAG_MF = 0x2000,
  IPV4_FRAG_OFFSET_MASK = 0x1fff,
  ARP_HTYPE_ETHERNET = 1,
};

static inline uint16_t load_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void store_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* One's complement sum of 16-bit words in the machine's byte order: the sum is
 * independent of byte order (RFC 1071 section 2(B)), so the folded result is stored
 * back with a native store and lands in the right byte order. A region of odd length
 * must be the last one summed. */
static uint64_t sum_words(const uint8_t *data, size_t len, uint64_t acc) {
  while (len >= 8) {
    uint32_t a, b;
    memcpy(&a, data, 4);
    memcpy(&b, data + 4, 4);
    acc += (uint64_t)a + b;
    data += 8;
    len -= 8;
  }
  while (len >= 2) {
    uint16_t w;
    memcpy(&w, data, 2);
    acc += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    uint8_t tail[2] = {data[0], 0};
    uint16_t w;
    memcpy(&w, tail, 2);
    acc += w;
  }
  return acc;
}

static uint16_t fold_complement(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)~acc;
}

uint16_t rum__dpdk_inet_checksum(const uint8_t *data, size_t len) {
  return fold_complement(sum_words(data, len, 0));
}

/* The complemented one's complement sum over the UDP pseudo-header and udp_len bytes
 * at udp, in native order ready for a native store. */
static uint16_t udp_sum(uint32_t ip_src, uint32_t ip_dst, const uint8_t *udp, uint16_t udp_len) {
  uint8_t pseudo[12];
  memcpy(pseudo, &ip_src, 4);
  memcpy(pseudo + 4, &ip_dst, 4);
  pseudo[8] = 0;
  pseudo[9] = RUM_DPDK_IPPROTO_UDP;
  store_be16(pseudo + 10, udp_len);
  return fold_complement(sum_words(udp, udp_len, sum_words(pseudo, sizeof pseudo, 0)));
}

void rum__dpdk_udp_headers_build(uint8_t *out, const struct rum_dpdk_endpoint *src,
                                 const struct rum_dpdk_endpoint *dst, uint32_t payload_len,
                                 uint16_t ip_id) {
  uint8_t *eth = out, *ip = out + RUM_DPDK_ETH_HLEN, *udp = ip + RUM_DPDK_IPV4_HLEN;
  memcpy(eth, dst->mac, RUM_DPDK_MAC_LEN);
  memcpy(eth + 6, src->mac, RUM_DPDK_MAC_LEN);
  store_be16(eth + 12, RUM_DPDK_ETHERTYPE_IPV4);

  ip[0] = 0x45; /* version 4, 5 words of header */
  ip[1] = 0;    /* DSCP/ECN */
  store_be16(ip + 2, (uint16_t)(RUM_DPDK_IP_UDP_OVERHEAD + payload_len));
  store_be16(ip + 4, ip_id);
  store_be16(ip + 6, IPV4_FLAG_DF);
  ip[8] = RUM_DPDK_IP_TTL;
  ip[9] = RUM_DPDK_IPPROTO_UDP;
  ip[10] = ip[11] = 0;
  memcpy(ip + 12, &src->ipv4, 4);
  memcpy(ip + 16, &dst->ipv4, 4);
  uint16_t csum = rum__dpdk_inet_checksum(ip, RUM_DPDK_IPV4_HLEN);
  memcpy(ip + 10, &csum, 2);

  store_be16(udp, src->port);
  store_be16(udp + 2, dst->port);
  store_be16(udp + 4, (uint16_t)(RUM_DPDK_UDP_HLEN + payload_len));
  udp[6] = udp[7] = 0;
}

void rum__dpdk_udp_checksum_fill(uint8_t *frame, uint32_t payload_len) {
  uint8_t *ip = frame + RUM_DPDK_ETH_HLEN, *udp = ip + RUM_DPDK_IPV4_HLEN;
  uint32_t ip_src, ip_dst;
  memcpy(&ip_src, ip + 12, 4);
  memcpy(&ip_dst, ip + 16, 4);
  udp[6] = udp[7] = 0;
  uint16_t csum = udp_sum(ip_src, ip_dst, udp, (uint16_t)(RUM_DPDK_UDP_HLEN + payload_len));
  if (csum == 0) csum = 0xffff; /* 0 means "no checksum" (RFC 768) */
  memcpy(udp + 6, &csum, 2);
}

size_t rum__dpdk_arp_build(uint8_t *out, uint16_t op, const uint8_t eth_dst[RUM_DPDK_MAC_LEN],
                           const uint8_t sender_mac[RUM_DPDK_MAC_LEN], uint32_t sender_ip,
                           const uint8_t target_mac[RUM_DPDK_MAC_LEN], uint32_t target_ip) {
  memset(out, 0, RUM_DPDK_ETH_MIN_FRAME);
  memcpy(out, eth_dst, RUM_DPDK_MAC_LEN);
  memcpy(out + 6, sender_mac, RUM_DPDK_MAC_LEN);
  store_be16(out + 12, RUM_DPDK_ETHERTYPE_ARP);
  uint8_t *arp = out + RUM_DPDK_ETH_HLEN;
  store_be16(arp, ARP_HTYPE_ETHERNET);
  store_be16(arp + 2, RUM_DPDK_ETHERTYPE_IPV4);
  arp[4] = RUM_DPDK_MAC_LEN;
  arp[5] = 4;
  store_be16(arp + 6, op);
  memcpy(arp + 8, sender_mac, RUM_DPDK_MAC_LEN);
  memcpy(arp + 14, &sender_ip, 4);
  memcpy(arp + 18, target_mac, RUM_DPDK_MAC_LEN);
  memcpy(arp + 24, &target_ip, 4);
  return RUM_DPDK_ETH_MIN_FRAME;
}

static enum rum_dpdk_frame_kind parse_arp(const uint8_t *arp, size_t len,
                                          struct rum_dpdk_parsed *out) {
  if (len < RUM_DPDK_ARP_LEN) return RUM_DPDK_FRAME_BAD_LENGTH;
  if (load_be16(arp) != ARP_HTYPE_ETHERNET || load_be16(arp + 2) != RUM_DPDK_ETHERTYPE_IPV4 ||
      arp[4] != RUM_DPDK_MAC_LEN || arp[5] != 4)
    return RUM_DPDK_FRAME_BAD_HEADER;
  out->arp_op = load_be16(arp + 6);
  if (out->arp_op != RUM_DPDK_ARP_REQUEST && out->arp_op != RUM_DPDK_ARP_REPLY)
    return RUM_DPDK_FRAME_OTHER; /* RARP, InARP: not ours to answer */
  memcpy(out->arp_sender_mac, arp + 8, RUM_DPDK_MAC_LEN);
  memcpy(&out->arp_sender_ip, arp + 14, 4);
  memcpy(out->arp_target_mac, arp + 18, RUM_DPDK_MAC_LEN);
  memcpy(&out->arp_target_ip, arp + 24, 4);
  return RUM_DPDK_FRAME_ARP;
}

static enum rum_dpdk_frame_kind parse_ipv4(const uint8_t *ip, size_t len, bool verify_udp_checksum,
                                           struct rum_dpdk_parsed *out) {
  if (len < RUM_DPDK_IPV4_HLEN) return RUM_DPDK_FRAME_BAD_LENGTH;
  if (ip[0] >> 4 != 4) return RUM_DPDK_FRAME_BAD_HEADER;
  size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
  if (ihl < RUM_DPDK_IPV4_HLEN) return RUM_DPDK_FRAME_BAD_HEADER;
  size_t total = load_be16(ip + 2);
  if (ihl > len || total < ihl || total > len) return RUM_DPDK_FRAME_BAD_LENGTH;
  if (rum__dpdk_inet_checksum(ip, ihl) != 0) return RUM_DPDK_FRAME_BAD_CHECKSUM;
  uint16_t frag = load_be16(ip + 6);
  if ((frag & IPV4_FLAG_MF) || (frag & IPV4_FRAG_OFFSET_MASK)) return RUM_DPDK_FRAME_OTHER;
  if (ip[9] != RUM_DPDK_IPPROTO_UDP) return RUM_DPDK_FRAME_OTHER;
  memcpy(&out->ip_src, ip + 12, 4);
  memcpy(&out->ip_dst, ip + 16, 4);

  const uint8_t *udp = ip + ihl;
  size_t udp_room = total - ihl;
  if (udp_room < RUM_DPDK_UDP_HLEN) return RUM_DPDK_FRAME_BAD_LENGTH;
  size_t udp_len = load_be16(udp + 4);
  if (udp_len != udp_room) return RUM_DPDK_FRAME_BAD_LENGTH;
  /* A correct checksum sums to zero over pseudo-header, header and payload. */
  if (verify_udp_checksum && (udp[6] | udp[7]) != 0 &&
      udp_sum(out->ip_src, out->ip_dst, udp, (uint16_t)udp_len) != 0)
    return RUM_DPDK_FRAME_BAD_CHECKSUM;
  out->port_src = load_be16(udp);
  out->port_dst = load_be16(udp + 2);
  out->payload_offset = (uint32_t)(RUM_DPDK_ETH_HLEN + ihl + RUM_DPDK_UDP_HLEN);
  out->payload_len = (uint32_t)(udp_len - RUM_DPDK_UDP_HLEN);
  return RUM_DPDK_FRAME_UDP;
}

enum rum_dpdk_frame_kind rum__dpdk_frame_parse(const uint8_t *frame, size_t len,
                                               bool verify_udp_checksum,
                                               struct rum_dpdk_parsed *out) {
  memset(out, 0, sizeof *out);
  out->kind = RUM_DPDK_FRAME_BAD_LENGTH;
  if (len < RUM_DPDK_ETH_HLEN) return out->kind;
  memcpy(out->eth_dst, frame, RUM_DPDK_MAC_LEN);
  memcpy(out->eth_src, frame + 6, RUM_DPDK_MAC_LEN);
  uint16_t ethertype = load_be16(frame + 12);
  const uint8_t *l3 = frame + RUM_DPDK_ETH_HLEN;
  size_t l3_len = len - RUM_DPDK_ETH_HLEN;
  if (ethertype == RUM_DPDK_ETHERTYPE_IPV4)
    out->kind = parse_ipv4(l3, l3_len, verify_udp_checksum, out);
  else if (ethertype == RUM_DPDK_ETHERTYPE_ARP)
    out->kind = parse_arp(l3, l3_len, out);
  else
    out->kind = RUM_DPDK_FRAME_OTHER; /* IPv6, VLAN tags, LLDP... */
  return out->kind;
}
