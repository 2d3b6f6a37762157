/* Where the dpdk transport's frames go (see dpdk.c): the port and MAC of a
 * destination, from the ARP cache (dpdk_arp.c) kept up to date here from ARP
 * replies and requests, with requests on every port while a destination's port is
 * unknown and its frames held meanwhile; and the gratuitous ARP when a link comes up.
 * Compiled only with DPDK, like dpdk_eal.c. */
#if defined(RUM_HAVE_DPDK)
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <rum/rum_errors.h>

#include "net/dpdk_internal.h"
#include "util/clock.h"
#include "util/log.h"

static int arp_send(struct rum_dpdk_transport *d, unsigned link, uint16_t op, const uint8_t *eth_dst,
                    const uint8_t *target_mac, uint32_t target_ip) {
  struct rte_mbuf *m = rte_pktmbuf_alloc(d->links[link].port.pool);
  if (m == NULL) {
    d->stats.tx_dropped++;
    return RUM_ENOMEM;
  }
  uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, RUM_DPDK_ETH_MIN_FRAME);
  rum__dpdk_arp_build(p, op, eth_dst, d->links[link].port.mac, d->ipv4, target_mac, target_ip);
  if (rum__dpdk_tx_mbufs(d, link, &m, 1) != 1) return RUM_EAGAIN;
  d->stats.tx_arp++;
  return 0;
}

static int arp_request_on(struct rum_dpdk_transport *d, unsigned link, uint32_t ipv4) {
  return arp_send(d, link, RUM_DPDK_ARP_REQUEST, rum__dpdk_mac_broadcast, rum__dpdk_mac_zero, ipv4);
}

/* Ask for e's MAC: on its link once known, else on every link (whichever it is on
 * answers). */
static void arp_request(struct rum_dpdk_transport *d, struct rum_dpdk_arp_entry *e) {
  const uint8_t *ip = (const uint8_t *)&e->ipv4;
  unsigned sent = 0;
  if (e->state == RUM_DPDK_ARP_RESOLVED && e->link < d->nlinks) {
    sent = arp_request_on(d, e->link, e->ipv4) == 0;
  } else {
    for (unsigned l = 0; l < d->nlinks; l++) sent += arp_request_on(d, l, e->ipv4) == 0;
  }
  if (sent == 0) {
    e->requested_ns = 0; /* not sent (links down, no mbuf): the next send asks again */
    RUM_LOG_D("dpdk: cannot ask ARP for %u.%u.%u.%u yet", ip[0], ip[1], ip[2], ip[3]);
  } else {
    RUM_LOG_D("dpdk: ARP request for %u.%u.%u.%u on %u port(s)", ip[0], ip[1], ip[2], ip[3], sent);
  }
}

/* Once a link is up (memif connects some milliseconds after start, or when its peer
 * process comes): a gratuitous ARP, so that peers which knew an older MAC for our
 * address (a previous run of this node) update it at once, and the requests that
 * could not go out while it was down, so frames held for them leave now rather than
 * at the RPC layer's retransmission. */
static void announce_link(struct rum_dpdk_transport *d, unsigned l, uint64_t now) {
  struct rum_dpdk_link *k = &d->links[l];
  if (__atomic_load_n(&k->announced, __ATOMIC_RELAXED) ||
      now - __atomic_load_n(&k->announce_ns, __ATOMIC_RELAXED) < RUM_DPDK_ANNOUNCE_RETRY_NS)
    return;
  __atomic_store_n(&k->announce_ns, now, __ATOMIC_RELAXED);
  struct rte_eth_link link;
  if (rte_eth_link_get_nowait(k->port.port_id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP)
    return;
  if (arp_request_on(d, l, d->ipv4) != 0) return;
  __atomic_store_n(&k->announced, true, __ATOMIC_RELAXED);
  __atomic_sub_fetch(&d->unannounced, 1, __ATOMIC_RELAXED);
  RUM_LOG_D("dpdk %s: link up, gratuitous ARP sent", k->port.name);
  for (unsigned i = 0; i < RUM_DPDK_ARP_ENTRIES; i++) {
    struct rum_dpdk_arp_entry *e = &d->arp.entries[i];
    if (e->state == RUM_DPDK_ARP_PENDING && arp_request_on(d, l, e->ipv4) == 0) e->requested_ns = now;
  }
}

void rum__dpdk_announce(struct rum_dpdk_transport *d, uint64_t now) {
  for (unsigned l = 0; l < d->nlinks; l++) announce_link(d, l, now);
}

void rum__dpdk_drop_held_mbuf(void *ctx, void *frame) {
  struct rum_dpdk_transport *d = ctx;
  d->stats.tx_dropped++;
  rte_pktmbuf_free(frame);
}

/* Send the frames held for e, now that its MAC and link are known. */
void rum__dpdk_flush_held(struct rum_dpdk_transport *d, struct rum_dpdk_arp_entry *e) {
  void *held[RUM_DPDK_ARP_HOLD];
  unsigned n = rum__dpdk_arp_take_held(e, held);
  RUM_LOG_D("dpdk %s: peer resolved, sending %u held frames", d->links[e->link].port.name, n);
  for (unsigned i = 0; i < n; i++) {
    uint8_t *p = rte_pktmbuf_mtod((struct rte_mbuf *)held[i], uint8_t *);
    memcpy(p, e->mac, RUM_DPDK_MAC_LEN);
    memcpy(p + RUM_DPDK_MAC_LEN, d->links[e->link].port.mac, RUM_DPDK_MAC_LEN);
  }
  if (n > 0) rum__dpdk_tx_mbufs(d, e->link, (struct rte_mbuf **)held, n);
}

/* Where f goes: true with *link and *mac set, or false with *hold_on, the ARP entry
 * to hold the frame on until its peer is resolved. */
bool rum__dpdk_route(struct rum_dpdk_transport *d, const struct rum_tx_frame *f, uint64_t now,
                  unsigned *link, const uint8_t **mac, struct rum_dpdk_arp_entry **hold_on) {
  if (f->to.has_mac) {
    if (d->nlinks == 1) {
      *link = 0;
      *mac = f->to.mac;
      return true;
    }
    struct rum_dpdk_arp_entry *e = rum__dpdk_arp_find(&d->arp, f->to.ipv4);
    if (e != NULL && e->state == RUM_DPDK_ARP_RESOLVED) {
      e->used_ns = now;
      *link = e->link;
      *mac = f->to.mac;
      return true;
    }
  }
  bool ask;
  struct rum_dpdk_arp_entry *e = rum__dpdk_arp_lookup(&d->arp, f->to.ipv4, now, &ask);
  if (ask) arp_request(d, e);
  if (e->state != RUM_DPDK_ARP_RESOLVED) {
    *hold_on = e;
    return false;
  }
  *link = e->link;
  *mac = e->mac;
  return true;
}

static bool is_our_mac(const struct rum_dpdk_transport *d, const uint8_t *mac) {
  for (unsigned l = 0; l < d->nlinks; l++) {
    if (memcmp(mac, d->links[l].port.mac, RUM_DPDK_MAC_LEN) == 0) return true;
  }
  return false;
}

void rum__dpdk_on_arp(struct rum_dpdk_transport *d, unsigned link, const struct rum_dpdk_parsed *p,
                      uint64_t now) {
  d->stats.rx_arp++;
  if (p->arp_sender_ip == d->ipv4) {
    if (!is_our_mac(d, p->arp_sender_mac) && !d->conflict_logged) {
      d->conflict_logged = true;
      RUM_LOG_W("dpdk transport: MAC %02x:%02x:%02x:%02x:%02x:%02x claims our IPv4 address too",
                p->arp_sender_mac[0], p->arp_sender_mac[1], p->arp_sender_mac[2],
                p->arp_sender_mac[3], p->arp_sender_mac[4], p->arp_sender_mac[5]);
    }
    return;
  }
  bool for_us = p->arp_target_ip == d->ipv4;
  if (p->arp_sender_ip != 0) {
    /* Learn from anything addressed to us; otherwise (gratuitous ARP, requests for
     * others) only refresh peers we already talk to. */
    struct rum_dpdk_arp_entry *e =
        rum__dpdk_arp_learn(&d->arp, p->arp_sender_ip, p->arp_sender_mac, link, now, for_us);
    if (e != NULL && e->nheld > 0) rum__dpdk_flush_held(d, e);
  }
  if (p->arp_op == RUM_DPDK_ARP_REQUEST && for_us)
    (void)arp_send(d, link, RUM_DPDK_ARP_REPLY, p->eth_src, p->arp_sender_mac, p->arp_sender_ip);
}

/* Whether a link is up and its announcement due (only recv may transmit). */
bool rum__dpdk_announce_due(struct rum_dpdk_transport *d) {
  if (__builtin_expect(__atomic_load_n(&d->unannounced, __ATOMIC_RELAXED) == 0, 1)) return false;
  uint64_t now = rum__now_ns();
  for (unsigned l = 0; l < d->nlinks; l++) {
    struct rum_dpdk_link *k = &d->links[l];
    if (__atomic_load_n(&k->announced, __ATOMIC_RELAXED) ||
        now - __atomic_load_n(&k->announce_ns, __ATOMIC_RELAXED) < RUM_DPDK_ANNOUNCE_RETRY_NS)
      continue;
    struct rte_eth_link link;
    if (rte_eth_link_get_nowait(k->port.port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
      return true;
  }
  return false;
}

#endif /* RUM_HAVE_DPDK */
