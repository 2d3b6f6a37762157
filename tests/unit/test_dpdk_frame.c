/* The dpdk transport's pure parts: Ethernet/IPv4/UDP/ARP frames, the ARP cache and
 * EAL argument handling. None needs an EAL or DPDK at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "net/dpdk_args.h"
#include "net/dpdk_arp.h"
#include "net/dpdk_frame.h"
#include "net/dpdk_slot.h"

static const struct rum_dpdk_endpoint src_ep = {
    .mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, .ipv4 = 0, .port = 20001};
static const struct rum_dpdk_endpoint dst_ep = {
    .mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, .ipv4 = 0, .port = 20002};

static void endpoints(struct rum_dpdk_endpoint *s, struct rum_dpdk_endpoint *d) {
  *s = src_ep;
  *d = dst_ep;
  s->ipv4 = inet_addr("10.77.0.1");
  d->ipv4 = inet_addr("10.77.0.2");
}

/* A frame of payload_len bytes of a known pattern; returns its length. */
static size_t build_frame(uint8_t *buf, uint32_t payload_len, bool udp_checksum) {
  struct rum_dpdk_endpoint s, d;
  endpoints(&s, &d);
  rum__dpdk_udp_headers_build(buf, &s, &d, payload_len, 0x1234);
  for (uint32_t i = 0; i < payload_len; i++) buf[RUM_DPDK_UDP_HEADERS + i] = (uint8_t)(i * 7 + 3);
  if (udp_checksum) rum__dpdk_udp_checksum_fill(buf, payload_len);
  return RUM_DPDK_UDP_HEADERS + payload_len;
}

static void set_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Recompute the IPv4 header checksum after a test changed the header. */
static void fix_ip_checksum(uint8_t *frame) {
  uint8_t *ip = frame + RUM_DPDK_ETH_HLEN;
  size_t ihl = (size_t)(ip[0] & 0xf) * 4;
  ip[10] = ip[11] = 0;
  uint16_t c = rum__dpdk_inet_checksum(ip, ihl);
  memcpy(ip + 10, &c, 2);
}

static void test_ipv4_checksum_known_answer(void **state) {
  (void)state;
  /* The classic example header: 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01
   * c0 a8 00 c7. */
  uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  uint16_t c = rum__dpdk_inet_checksum(h, sizeof h);
  memcpy(h + 10, &c, 2);
  assert_int_equal(h[10], 0xb8);
  assert_int_equal(h[11], 0x61);
  assert_int_equal(rum__dpdk_inet_checksum(h, sizeof h), 0); /* a right header sums to 0 */
  uint8_t odd[3] = {0x01, 0x02, 0x03};                       /* odd length: pad with 0 */
  uint8_t even[4] = {0x01, 0x02, 0x03, 0x00};
  assert_int_equal(rum__dpdk_inet_checksum(odd, 3), rum__dpdk_inet_checksum(even, 4));
}

static void test_udp_build_parse_round_trip(void **state) {
  (void)state;
  static uint8_t buf[9100];
  const uint32_t sizes[] = {0, 1, 17, 72, 1472, 2006, 8972};
  for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t len = build_frame(buf, sizes[k], k % 2 == 1);
    struct rum_dpdk_parsed p;
    assert_int_equal(rum__dpdk_frame_parse(buf, len, true, &p), RUM_DPDK_FRAME_UDP);
    assert_memory_equal(p.eth_dst, dst_ep.mac, 6);
    assert_memory_equal(p.eth_src, src_ep.mac, 6);
    assert_int_equal(p.ip_src, inet_addr("10.77.0.1"));
    assert_int_equal(p.ip_dst, inet_addr("10.77.0.2"));
    assert_int_equal(p.port_src, 20001);
    assert_int_equal(p.port_dst, 20002);
    assert_int_equal(p.payload_offset, RUM_DPDK_UDP_HEADERS);
    assert_int_equal(p.payload_len, sizes[k]);
    /* Wire fields in network order: total length, DF, TTL, protocol, ethertype. */
    assert_int_equal(buf[12], 0x08);
    assert_int_equal(buf[13], 0x00);
    assert_int_equal((buf[16] << 8 | buf[17]), 28 + sizes[k]);
    assert_int_equal(buf[20], 0x40);
    assert_int_equal(buf[22], RUM_DPDK_IP_TTL);
    assert_int_equal(buf[23], RUM_DPDK_IPPROTO_UDP);
    assert_int_equal(rum__dpdk_inet_checksum(buf + 14, 20), 0);
  }
}

static void test_udp_checksum(void **state) {
  (void)state;
  uint8_t buf[200];
  size_t len = build_frame(buf, 100, true);
  assert_true(buf[40] != 0 || buf[41] != 0);
  struct rum_dpdk_parsed p;
  assert_int_equal(rum__dpdk_frame_parse(buf, len, true, &p), RUM_DPDK_FRAME_UDP);
  buf[RUM_DPDK_UDP_HEADERS + 50] ^= 0x40; /* one payload bit */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, true, &p), RUM_DPDK_FRAME_BAD_CHECKSUM);
  /* Not verified: the RUM header's CRC32C catches it one layer up. */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_UDP);
  /* Checksum 0 means none: accepted even when verifying. */
  len = build_frame(buf, 100, false);
  buf[RUM_DPDK_UDP_HEADERS + 50] ^= 0x40;
  assert_int_equal(rum__dpdk_frame_parse(buf, len, true, &p), RUM_DPDK_FRAME_UDP);
}

static void test_truncated_frames_rejected(void **state) {
  (void)state;
  uint8_t buf[300];
  size_t len = build_frame(buf, 200, false);
  struct rum_dpdk_parsed p;
  for (size_t cut = 0; cut < len; cut++) {
    enum rum_dpdk_frame_kind k = rum__dpdk_frame_parse(buf, cut, false, &p);
    assert_int_equal(k, RUM_DPDK_FRAME_BAD_LENGTH);
  }
  /* Ethernet padding after the IPv4 packet is fine. */
  memset(buf + len, 0, 20);
  assert_int_equal(rum__dpdk_frame_parse(buf, len + 20, false, &p), RUM_DPDK_FRAME_UDP);
  assert_int_equal(p.payload_len, 200);
}

static void test_bad_lengths_and_headers(void **state) {
  (void)state;
  uint8_t buf[300];
  struct rum_dpdk_parsed p;
  size_t len;

  len = build_frame(buf, 100, false); /* IPv4 total length beyond the frame */
  set_be16(buf + 16, (uint16_t)(28 + 101));
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);

  len = build_frame(buf, 100, false); /* IPv4 total length shorter than its header */
  set_be16(buf + 16, 19);
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);

  len = build_frame(buf, 100, false); /* UDP length disagrees with IPv4's */
  set_be16(buf + 38, 8 + 99);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);
  set_be16(buf + 38, 8 + 101);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);
  set_be16(buf + 38, 7);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);

  len = build_frame(buf, 100, false); /* no room for the UDP header */
  set_be16(buf + 16, 20 + 4);
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);

  len = build_frame(buf, 100, false); /* header length below 5 words */
  buf[14] = 0x44;
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_HEADER);

  len = build_frame(buf, 100, false); /* version 6 under the IPv4 ethertype */
  buf[14] = 0x65;
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_HEADER);

  len = build_frame(buf, 100, false); /* a corrupted IPv4 header */
  buf[22] = 1;                        /* TTL, checksum not fixed */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_CHECKSUM);
}

static void test_not_ours_is_other(void **state) {
  (void)state;
  uint8_t buf[300];
  struct rum_dpdk_parsed p;
  size_t len = build_frame(buf, 100, false);
  buf[20] = 0x20; /* more fragments */
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);

  len = build_frame(buf, 100, false);
  buf[20] = 0x00;
  buf[21] = 0x10; /* a later fragment */
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);

  len = build_frame(buf, 100, false);
  buf[23] = 6; /* TCP */
  fix_ip_checksum(buf);
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);

  len = build_frame(buf, 100, false);
  set_be16(buf + 12, 0x86dd); /* IPv6 */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);
  set_be16(buf + 12, 0x8100); /* VLAN tagged */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);
}

static void test_ip_options_skipped(void **state) {
  (void)state;
  uint8_t plain[300], buf[300];
  size_t len = build_frame(plain, 50, false);
  /* Insert 4 bytes of options (NOP, NOP, NOP, EOL) after the 20-byte header. */
  memcpy(buf, plain, 34);
  memcpy(buf + 34, (uint8_t[]){1, 1, 1, 0}, 4);
  memcpy(buf + 38, plain + 34, len - 34);
  buf[14] = 0x46;
  set_be16(buf + 16, (uint16_t)(24 + 8 + 50));
  fix_ip_checksum(buf);
  struct rum_dpdk_parsed p;
  assert_int_equal(rum__dpdk_frame_parse(buf, len + 4, false, &p), RUM_DPDK_FRAME_UDP);
  assert_int_equal(p.payload_offset, 46);
  assert_int_equal(p.payload_len, 50);
  assert_memory_equal(buf + p.payload_offset, plain + RUM_DPDK_UDP_HEADERS, 50);
}

static void test_arp_build_parse(void **state) {
  (void)state;
  uint8_t buf[RUM_DPDK_ETH_MIN_FRAME];
  uint32_t me = inet_addr("10.77.0.1"), peer = inet_addr("10.77.0.2");
  size_t len = rum__dpdk_arp_build(buf, RUM_DPDK_ARP_REQUEST, rum__dpdk_mac_broadcast, src_ep.mac,
                                   me, rum__dpdk_mac_zero, peer);
  assert_int_equal(len, 60);
  struct rum_dpdk_parsed p;
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_ARP);
  assert_int_equal(p.arp_op, RUM_DPDK_ARP_REQUEST);
  assert_memory_equal(p.eth_dst, rum__dpdk_mac_broadcast, 6);
  assert_memory_equal(p.arp_sender_mac, src_ep.mac, 6);
  assert_int_equal(p.arp_sender_ip, me);
  assert_int_equal(p.arp_target_ip, peer);
  /* Wire layout: ethertype 0806, htype 1, ptype 0800, 6, 4, op. */
  const uint8_t head[] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
  assert_memory_equal(buf + 12, head, sizeof head);

  /* 42 bytes (no padding) is enough; less is not. */
  assert_int_equal(rum__dpdk_frame_parse(buf, 42, false, &p), RUM_DPDK_FRAME_ARP);
  assert_int_equal(rum__dpdk_frame_parse(buf, 41, false, &p), RUM_DPDK_FRAME_BAD_LENGTH);
  buf[18] = 8; /* hardware address length */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_BAD_HEADER);
  buf[18] = 6;
  buf[21] = 3; /* RARP request */
  assert_int_equal(rum__dpdk_frame_parse(buf, len, false, &p), RUM_DPDK_FRAME_OTHER);
}

/* Random bytes and random corruptions of good frames: never a UDP result whose
 * payload reaches past the bytes given. */
static void test_parse_random_input(void **state) {
  (void)state;
  uint8_t buf[600];
  uint64_t x = 88172645463325252ull;
  for (int iter = 0; iter < 20000; iter++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t len;
    if (iter % 2 == 0) {
      len = build_frame(buf, (uint32_t)(x % 500), iter % 4 == 0);
      buf[x % len] ^= (uint8_t)(1u << (x >> 32) % 8);
      if (iter % 8 == 0) len = (size_t)((x >> 20) % (len + 1));
    } else {
      len = (size_t)(x % sizeof buf);
      for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(x >> (i % 56));
      if (len > 13) {
        buf[12] = 0x08;
        buf[13] = (iter % 3 == 0) ? 0x06 : 0x00;
      }
    }
    struct rum_dpdk_parsed p;
    enum rum_dpdk_frame_kind k = rum__dpdk_frame_parse(buf, len, iter % 3 == 0, &p);
    assert_int_equal(k, p.kind);
    if (k == RUM_DPDK_FRAME_UDP) assert_true((size_t)p.payload_offset + p.payload_len <= len);
    if (k == RUM_DPDK_FRAME_ARP) assert_true(len >= 42);
  }
}

/* ---- ARP cache ---- */

struct drops {
  unsigned n;
  void *last;
};

static void record_drop(void *ctx, void *frame) {
  struct drops *d = ctx;
  d->n++;
  d->last = frame;
}

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0xb};

static void test_arp_resolve_hold_flush(void **state) {
  (void)state;
  static struct rum_dpdk_arp_table t;
  struct drops drops = {0};
  rum__dpdk_arp_init(&t, record_drop, &drops);
  uint32_t ip = inet_addr("10.0.0.9");
  uint64_t now = 1000000000ull;
  bool ask;
  assert_null(rum__dpdk_arp_find(&t, ip));
  struct rum_dpdk_arp_entry *e = rum__dpdk_arp_lookup(&t, ip, now, &ask);
  assert_true(ask);
  assert_int_equal(e->state, RUM_DPDK_ARP_PENDING);
  /* No second request until the retry interval passed. */
  assert_ptr_equal(rum__dpdk_arp_lookup(&t, ip, now + RUM_DPDK_ARP_RETRY_NS - 1, &ask), e);
  assert_false(ask);
  assert_ptr_equal(rum__dpdk_arp_lookup(&t, ip, now + RUM_DPDK_ARP_RETRY_NS, &ask), e);
  assert_true(ask);
  /* A request that could not go out is retried by the next send. */
  e->requested_ns = 0;
  rum__dpdk_arp_lookup(&t, ip, now + RUM_DPDK_ARP_RETRY_NS + 1, &ask);
  assert_true(ask);

  /* Hold five frames: the oldest one is dropped. */
  int frames[5];
  for (int i = 0; i < 5; i++) rum__dpdk_arp_hold(&t, e, &frames[i]);
  assert_int_equal(drops.n, 1);
  assert_ptr_equal(drops.last, &frames[0]);
  assert_int_equal(t.held_dropped, 1);

  /* The reply resolves it; the held frames come back oldest first. */
  assert_ptr_equal(rum__dpdk_arp_learn(&t, ip, mac_a, 2, now + 5, false), e);
  assert_int_equal(e->link, 2);
  assert_int_equal(e->state, RUM_DPDK_ARP_RESOLVED);
  assert_memory_equal(e->mac, mac_a, 6);
  void *held[RUM_DPDK_ARP_HOLD];
  assert_int_equal(rum__dpdk_arp_take_held(e, held), 4);
  for (int i = 0; i < 4; i++) assert_ptr_equal(held[i], &frames[i + 1]);
  assert_int_equal(rum__dpdk_arp_take_held(e, held), 0);

  /* Resolved and recently confirmed: no request. */
  assert_ptr_equal(rum__dpdk_arp_lookup(&t, ip, now + 10, &ask), e);
  assert_false(ask);
  rum__dpdk_arp_clear(&t);
  assert_int_equal(drops.n, 1);
}

static void test_arp_refresh_and_relearn(void **state) {
  (void)state;
  static struct rum_dpdk_arp_table t;
  rum__dpdk_arp_init(&t, NULL, NULL);
  uint32_t ip = inet_addr("10.0.0.9");
  uint64_t now = 5000000000ull;
  bool ask;
  rum__dpdk_arp_learn(&t, ip, mac_a, 0, now, true);
  /* Silent for the refresh interval while we keep sending: ask again, once per
   * interval, still using the MAC we have. */
  uint64_t later = now + RUM_DPDK_ARP_REFRESH_NS;
  struct rum_dpdk_arp_entry *e = rum__dpdk_arp_lookup(&t, ip, later, &ask);
  assert_true(ask);
  assert_int_equal(e->state, RUM_DPDK_ARP_RESOLVED);
  rum__dpdk_arp_lookup(&t, ip, later + RUM_DPDK_ARP_RETRY_NS * 2, &ask);
  assert_false(ask);
  rum__dpdk_arp_lookup(&t, ip, later + RUM_DPDK_ARP_REFRESH_NS, &ask);
  assert_true(ask);
  /* The peer restarted with a new MAC: its first frame moves the entry. */
  rum__dpdk_arp_learn(&t, ip, mac_b, 3, later + RUM_DPDK_ARP_REFRESH_NS + 1, false);
  assert_memory_equal(rum__dpdk_arp_find(&t, ip)->mac, mac_b, 6);
  assert_int_equal(rum__dpdk_arp_find(&t, ip)->link, 3); /* and where it came in */
  /* Gratuitous ARP from a stranger does not fill the table. */
  assert_null(rum__dpdk_arp_learn(&t, inet_addr("10.0.0.77"), mac_a, 0, later, false));
  assert_null(rum__dpdk_arp_find(&t, inet_addr("10.0.0.77")));
}

static void test_arp_eviction_lru(void **state) {
  (void)state;
  static struct rum_dpdk_arp_table t;
  struct drops drops = {0};
  rum__dpdk_arp_init(&t, record_drop, &drops);
  bool ask;
  uint64_t now = 1000;
  for (uint32_t i = 0; i < RUM_DPDK_ARP_ENTRIES; i++)
    rum__dpdk_arp_learn(&t, htonl(0x0a000001 + i), mac_a, 0, now + i, true);
  /* Use the first entry again, so the second is now the least recently used. */
  rum__dpdk_arp_lookup(&t, htonl(0x0a000001), now + 1000, &ask);
  int frame;
  struct rum_dpdk_arp_entry *e2 = rum__dpdk_arp_find(&t, htonl(0x0a000002));
  e2->state = RUM_DPDK_ARP_PENDING;
  rum__dpdk_arp_hold(&t, e2, &frame);
  struct rum_dpdk_arp_entry *n = rum__dpdk_arp_lookup(&t, htonl(0x0b000001), now + 2000, &ask);
  assert_true(ask);
  assert_ptr_equal(n, e2); /* reused the slot */
  assert_null(rum__dpdk_arp_find(&t, htonl(0x0a000002)));
  assert_non_null(rum__dpdk_arp_find(&t, htonl(0x0a000001)));
  assert_int_equal(drops.n, 1); /* its held frame went to the drop callback */
  assert_ptr_equal(drops.last, &frame);
}

/* ---- EAL arguments ---- */

static struct rum_dpdk_args args;

static int prepare(const char *text) {
  char err[200];
  return rum__dpdk_args_prepare(text, "rum", "rum-42", "warning", 1, &args, err, sizeof err);
}

static int find(const char *token) {
  for (int i = 0; i < args.argc; i++)
    if (strcmp(args.argv[i], token) == 0) return i;
  return -1;
}

static void test_args_split_and_defaults(void **state) {
  (void)state;
  assert_int_equal(
      prepare("  --no-pci -m 256\t--vdev='net_memif0,socket=/tmp/a b' port=net_memif0 "), 0);
  assert_string_equal(args.argv[0], "rum");
  assert_string_equal(args.argv[1], "--no-pci");
  assert_string_equal(args.argv[2], "-m");
  assert_string_equal(args.argv[3], "256");
  assert_string_equal(args.argv[4], "--vdev=net_memif0,socket=/tmp/a b");
  assert_int_equal(args.nport_names, 1);
  assert_string_equal(args.port_names[0], "net_memif0");
  assert_int_equal(args.ipv4, 0);
  assert_true(find("--file-prefix=rum-42") > 0);
  assert_true(args.prefix_added);
  assert_true(find("--no-telemetry") > 0);
  assert_true(find("--log-level=warning") > 0);
  int l = find("-l");
  assert_true(l > 0);
  assert_string_equal(args.argv[l + 1], "1");
  assert_null(args.argv[args.argc]);
  assert_int_equal(find("port=net_memif0"), -1);
}

static void test_args_user_choices_kept(void **state) {
  (void)state;
  assert_int_equal(prepare("--file-prefix=mine --log-level=debug -l0 --telemetry"), 0);
  assert_int_equal(args.user_argc, 4);
  assert_false(args.prefix_added);
  assert_int_equal(find("--no-telemetry"), -1);
  assert_int_equal(find("--log-level=warning"), -1);
  assert_int_equal(find("-l"), -1);
  assert_int_equal(args.argc, 5);
  assert_int_equal(prepare("--in-memory --lcores=0@(0-1)"), 0);
  assert_true(find("--in-memory") > 0);
  assert_false(args.prefix_added);
  assert_int_equal(find("-l"), -1);
  assert_int_equal(args.nport_names, 0);
}

static void test_args_port_list_and_ip(void **state) {
  (void)state;
  /* Lists add up over repeated tokens; ip= is ours too, never EAL's. */
  assert_int_equal(prepare("--no-huge port=net_memif0,net_memif2 ip=127.0.77.101 port=3"), 0);
  assert_int_equal(args.nport_names, 3);
  assert_string_equal(args.port_names[0], "net_memif0");
  assert_string_equal(args.port_names[1], "net_memif2");
  assert_string_equal(args.port_names[2], "3");
  assert_int_equal(args.ipv4, inet_addr("127.0.77.101"));
  assert_int_equal(args.user_argc, 1);
  assert_int_equal(find("ip=127.0.77.101"), -1);
  assert_int_equal(prepare("port=a,,b"), -1);
  assert_int_equal(prepare("port=a,"), -1);
  assert_int_equal(prepare("ip=10.0.0"), -1);
  assert_int_equal(prepare("ip=0.0.0.0"), -1);
  assert_int_equal(prepare("ip="), -1);
  char many[1024] = "port=p0";
  for (int i = 1; i <= RUM_DPDK_MAX_PORTS; i++) snprintf(many + strlen(many), 16, ",p%d", i);
  assert_int_equal(prepare(many), -1); /* one name too many */
}

static void test_args_slot(void **state) {
  (void)state;
  char path[64], out[256];
  unsigned n = 0;
  const char *text = "ip=127.0.78.{slot} --vdev=net_memif0,id={slot},mac=02:00:00:00:00:{slot:x} "
                     "slot=/tmp/c/slot:12";
  assert_int_equal(rum__dpdk_args_find_slot(text, path, sizeof path, &n), 1);
  assert_string_equal(path, "/tmp/c/slot");
  assert_int_equal(n, 12);
  assert_true(rum__dpdk_args_uses_slot(text));
  assert_int_equal(rum__dpdk_args_expand_slot(text, 11, out, sizeof out), 0);
  assert_string_equal(out, "ip=127.0.78.11 --vdev=net_memif0,id=11,mac=02:00:00:00:00:0b "
                           "slot=/tmp/c/slot:12");
  /* The expanded text prepares: slot= is ours, ip= parsed. */
  assert_int_equal(prepare(out), 0);
  assert_int_equal(args.ipv4, inet_addr("127.0.78.11"));
  assert_int_equal(find("slot=/tmp/c/slot:12"), -1);
  assert_int_equal(args.user_argc, 1);
  assert_int_equal(rum__dpdk_args_expand_slot(text, 11, out, 20), -1); /* too small */
  assert_int_equal(rum__dpdk_args_find_slot("--no-huge", path, sizeof path, &n), 0);
  assert_false(rum__dpdk_args_uses_slot("--no-huge"));
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=:3", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a:0", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a:256", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a:2x", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a:", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a:1 slot=/b:2", path, sizeof path, &n), -1);
  assert_int_equal(rum__dpdk_args_find_slot("slot=/a/very/long/path/indeed:1", path, 8, &n), -1);
}

/* Slots: the first free one; a taken one (another open file holds its lock, as
 * another process would) is skipped; given back, it is free again. */
static void test_slots_take_release(void **state) {
  (void)state;
  char dir[] = "/tmp/rum-test-slot.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/slot", dir);
  struct rum_dpdk_slot a, b, c;
  assert_int_equal(rum__dpdk_slot_take(path, 2, &a), 0);
  assert_int_equal(a.number, 1);
  assert_int_equal(rum__dpdk_slot_take(path, 2, &b), 0);
  assert_int_equal(b.number, 2);
  assert_int_not_equal(rum__dpdk_slot_take(path, 2, &c), 0); /* all taken */
  assert_int_equal(c.number, 0);
  rum__dpdk_slot_release(&a);
  assert_int_equal(a.fd, -1);
  assert_int_equal(rum__dpdk_slot_take(path, 2, &c), 0);
  assert_int_equal(c.number, 1);
  rum__dpdk_slot_release(&b);
  rum__dpdk_slot_release(&c);
  rum__dpdk_slot_release(&c); /* twice: harmless */
  char missing[96];
  snprintf(missing, sizeof missing, "%s/no/such/dir/slot", dir);
  assert_int_not_equal(rum__dpdk_slot_take(missing, 1, &a), 0);
  for (int i = 1; i <= 2; i++) {
    char file[96];
    snprintf(file, sizeof file, "%s.%d", path, i);
    unlink(file);
  }
  rmdir(dir);
}

static void test_args_no_huge_in_memory(void **state) {
  (void)state;
  /* DPDK 22.11 refuses this pair; a private prefix replaces --in-memory. */
  assert_int_equal(prepare("--no-huge --no-pci -m 256 --in-memory"), 0);
  assert_int_equal(find("--in-memory"), -1);
  assert_true(find("--no-huge") > 0);
  assert_true(find("--file-prefix=rum-42") > 0);
}

static void test_args_refused(void **state) {
  (void)state;
  assert_int_equal(prepare("--no-huge -h"), -1);
  assert_int_equal(prepare("--help"), -1);
  assert_int_equal(prepare("--vdev='net_memif0"), -1);
  assert_int_equal(prepare("port="), -1);
  char many[1024] = "";
  for (int i = 0; i < 70; i++) strcat(many, "-v ");
  assert_int_equal(prepare(many), -1); /* too many tokens */
  many[0] = '\0';
  for (int i = 0; i < 70; i++) strcat(many, "--no-pci ");
  assert_int_equal(prepare(many), -1);
  char err[200];
  char *huge = malloc(RUM_DPDK_ARGS_TEXT_MAX + 10);
  memset(huge, 'x', RUM_DPDK_ARGS_TEXT_MAX + 9);
  huge[RUM_DPDK_ARGS_TEXT_MAX + 9] = '\0';
  assert_int_equal(rum__dpdk_args_prepare(huge, "rum", "p", "error", 0, &args, err, sizeof err),
                   -1);
  assert_true(strlen(err) > 0);
  free(huge);
  /* Unknown options, stray words, missing or unwanted values. */
  assert_int_equal(prepare("--no-huge --no-such-option"), -1);
  assert_int_equal(prepare("--in-mem"), -1); /* getopt would take the abbreviation */
  assert_int_equal(prepare("-m 256 stray"), -1);
  assert_int_equal(prepare("-x"), -1);
  assert_int_equal(prepare("--vdev"), -1);
  assert_int_equal(prepare("-m"), -1);
  assert_int_equal(prepare("--no-huge=1"), -1);
  assert_int_equal(prepare("-- --vdev=x"), -1);
  assert_int_equal(prepare("-vfoo"), -1);
  /* Values as separate tokens, attached, or after '='; optional values. */
  assert_int_equal(prepare("-m 256 -m256 --vdev net_null0 --vdev=net_null1 --huge-unlink "
                           "--huge-unlink=never -v --socket-mem 64 --proc-type=primary"),
                   0);
  assert_int_equal(prepare(NULL), 0); /* nothing given: only our additions */
  assert_int_equal(prepare(""), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ipv4_checksum_known_answer),
      cmocka_unit_test(test_udp_build_parse_round_trip),
      cmocka_unit_test(test_udp_checksum),
      cmocka_unit_test(test_truncated_frames_rejected),
      cmocka_unit_test(test_bad_lengths_and_headers),
      cmocka_unit_test(test_not_ours_is_other),
      cmocka_unit_test(test_ip_options_skipped),
      cmocka_unit_test(test_arp_build_parse),
      cmocka_unit_test(test_parse_random_input),
      cmocka_unit_test(test_arp_resolve_hold_flush),
      cmocka_unit_test(test_arp_refresh_and_relearn),
      cmocka_unit_test(test_arp_eviction_lru),
      cmocka_unit_test(test_args_split_and_defaults),
      cmocka_unit_test(test_args_user_choices_kept),
      cmocka_unit_test(test_args_no_huge_in_memory),
      cmocka_unit_test(test_args_port_list_and_ip),
      cmocka_unit_test(test_args_slot),
      cmocka_unit_test(test_slots_take_release),
      cmocka_unit_test(test_args_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
