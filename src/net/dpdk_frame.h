/* Ethernet / IPv4 / UDP / ARP frames for the dpdk transport, built and parsed in user
 * space. Pure functions over byte buffers: no DPDK, no I/O, no clock, so they are unit
 * tested and fuzzed without an EAL.
 *
 * Byte order: IPv4 addresses are in network order (as in struct rum_peer_addr), UDP
 * ports in host order; MAC addresses are 6 bytes as on the wire. */
#ifndef RUM_NET_DPDK_FRAME_H
#define RUM_NET_DPDK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  RUM_DPDK_MAC_LEN = 6,
  RUM_DPDK_ETH_HLEN = 14,
  RUM_DPDK_IPV4_HLEN = 20, /* without options: what we send */
  RUM_DPDK_UDP_HLEN = 8,
  RUM_DPDK_UDP_HEADERS = RUM_DPDK_ETH_HLEN + RUM_DPDK_IPV4_HLEN + RUM_DPDK_UDP_HLEN, /* 42 */
  RUM_DPDK_IP_UDP_OVERHEAD = RUM_DPDK_IPV4_HLEN + RUM_DPDK_UDP_HLEN,                 /* 28 */
  RUM_DPDK_ARP_LEN = 28,
  RUM_DPDK_ETH_MIN_FRAME = 60, /* without the FCS; shorter frames are padded */
  RUM_DPDK_ETHERTYPE_IPV4 = 0x0800,
  RUM_DPDK_ETHERTYPE_ARP = 0x0806,
  RUM_DPDK_IPPROTO_UDP = 17,
  RUM_DPDK_IP_TTL = 64,
  RUM_DPDK_ARP_REQUEST = 1,
  RUM_DPDK_ARP_REPLY = 2,
};

/* What rum__dpdk_frame_parse found. The BAD_* kinds are malformed frames (counted as
 * errors); OTHER is a well-formed frame that is not IPv4/UDP or ARP (IPv6, LLDP, an
 * IPv4 fragment, TCP...), which a host on a shared link sees all the time. */
enum rum_dpdk_frame_kind {
  RUM_DPDK_FRAME_UDP = 0,
  RUM_DPDK_FRAME_ARP,
  RUM_DPDK_FRAME_OTHER,
  RUM_DPDK_FRAME_BAD_LENGTH,   /* truncated, or a length field disagrees with the bytes */
  RUM_DPDK_FRAME_BAD_HEADER,   /* wrong version, header length, ARP hardware type... */
  RUM_DPDK_FRAME_BAD_CHECKSUM, /* IPv4 header checksum, or UDP checksum when verified */
};

struct rum_dpdk_parsed {
  enum rum_dpdk_frame_kind kind;
  uint8_t eth_dst[RUM_DPDK_MAC_LEN];
  uint8_t eth_src[RUM_DPDK_MAC_LEN];
  /* UDP */
  uint32_t ip_src, ip_dst;     /* network order */
  uint16_t port_src, port_dst; /* host order */
  uint32_t payload_offset;     /* from the start of the frame */
  uint32_t payload_len;
  /* ARP */
  uint16_t arp_op;
  uint8_t arp_sender_mac[RUM_DPDK_MAC_LEN];
  uint32_t arp_sender_ip; /* network order */
  uint8_t arp_target_mac[RUM_DPDK_MAC_LEN];
  uint32_t arp_target_ip; /* network order */
};

/* Parse len bytes of frame. Checks every length against len: the IPv4 total length
 * must fit in the frame (trailing Ethernet padding is allowed), the UDP length must
 * equal the IPv4 payload length, the IPv4 header checksum must be right. The UDP
 * checksum is checked only when verify_udp_checksum is set and the field is not 0.
 * Always fills out->kind; the other fields are meaningful for UDP and ARP only.
 * Returns out->kind. */
enum rum_dpdk_frame_kind rum__dpdk_frame_parse(const uint8_t *frame, size_t len,
                                               bool verify_udp_checksum,
                                               struct rum_dpdk_parsed *out);

/* Addresses of one end of a UDP flow. */
struct rum_dpdk_endpoint {
  uint8_t mac[RUM_DPDK_MAC_LEN];
  uint32_t ipv4; /* network order */
  uint16_t port; /* host order */
};

/* Write the 42 bytes of Ethernet, IPv4 (no options, DF set, header checksum filled
 * in) and UDP headers for a payload of payload_len bytes into out. The UDP checksum
 * is left 0 ("none", allowed over IPv4); rum__dpdk_udp_checksum_fill can fill it once
 * the payload follows the headers. payload_len must be at most
 * 65535 - RUM_DPDK_IP_UDP_OVERHEAD. */
void rum__dpdk_udp_headers_build(uint8_t *out, const struct rum_dpdk_endpoint *src,
                                 const struct rum_dpdk_endpoint *dst, uint32_t payload_len,
                                 uint16_t ip_id);

/* Compute and store the UDP checksum of a contiguous frame built by
 * rum__dpdk_udp_headers_build (headers and payload_len bytes of payload). */
void rum__dpdk_udp_checksum_fill(uint8_t *frame, uint32_t payload_len);

/* Write an ARP frame (Ethernet header + ARP, zero-padded to RUM_DPDK_ETH_MIN_FRAME)
 * into out, which must hold RUM_DPDK_ETH_MIN_FRAME bytes. eth_dst is the broadcast
 * address for requests; target_mac may be all zeros in a request. Returns the frame
 * length (RUM_DPDK_ETH_MIN_FRAME). */
size_t rum__dpdk_arp_build(uint8_t *out, uint16_t op, const uint8_t eth_dst[RUM_DPDK_MAC_LEN],
                           const uint8_t sender_mac[RUM_DPDK_MAC_LEN], uint32_t sender_ip,
                           const uint8_t target_mac[RUM_DPDK_MAC_LEN], uint32_t target_ip);

/* The Internet checksum (RFC 1071) of len bytes, folded and complemented. */
uint16_t rum__dpdk_inet_checksum(const uint8_t *data, size_t len);

extern const uint8_t rum__dpdk_mac_broadcast[RUM_DPDK_MAC_LEN];
extern const uint8_t rum__dpdk_mac_zero[RUM_DPDK_MAC_LEN];

#endif
