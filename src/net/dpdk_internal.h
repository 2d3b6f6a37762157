/* What the dpdk transport's files share (dpdk.c, the data path; dpdk_resolve.c, where
 * frames go): the transport's state and the functions one calls in the other. Not
 * an interface for anything else; see dpdk.c for the design. Compiled only with
 * DPDK (RUM_HAVE_DPDK). */
#ifndef RUM_NET_DPDK_INTERNAL_H
#define RUM_NET_DPDK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "net/dpdk.h"
#include "net/dpdk_arp.h"
#include "net/dpdk_eal.h"
#include "net/dpdk_frame.h"
#include "net/transport.h"

#define RUM_DPDK_ANNOUNCE_RETRY_NS (1000ull * 1000) /* link checks until it is up */

/* One of the transport's ports. */
struct rum_dpdk_link {
  struct rum_dpdk_port port;
  bool announced;       /* gratuitous ARP sent with the link up (atomic: wait reads it) */
  uint64_t announce_ns; /* last link check for the announcement (atomic) */
};

/* A frame polled by wait(), waiting for recv, with the link it came in on. */
struct rum_dpdk_stashed {
  struct rte_mbuf *m;
  unsigned link;
};

struct rum_dpdk_transport {
  struct rum_transport base;
  unsigned nlinks;
  unsigned unannounced; /* links not announced yet (atomic: wait reads it) */
  uint32_t ipv4;        /* ours, network order, the same on every link */
  uint16_t udp_port;
  uint16_t ip_id;
  bool conflict_logged;
  uint64_t last_activity_ns; /* last send or receive; read by wait (atomic) */

  /* rx_lock protects the Rx queues, the stash (frames wait() polled) and rx_next. */
  rte_spinlock_t rx_lock;
  unsigned rx_next; /* link the next poll starts at, so that no link starves */
  unsigned stash_head, stash_count;
  struct rum_dpdk_stashed stash[RUM_TRANSPORT_BURST];

  struct rum_dpdk_arp_table arp;
  struct rum_dpdk_stats stats;
  struct rum_dpdk_link links[RUM_DPDK_MAX_PORTS];
};

/* Hand mbufs to link's Tx queue, retrying briefly when it is full; frees what did
 * not go. Returns how many went. (dpdk.c) */
unsigned rum__dpdk_tx_mbufs(struct rum_dpdk_transport *d, unsigned link, struct rte_mbuf **mbufs,
                            unsigned n);

/* The rest is dpdk_resolve.c; each runs where send/recv are serialised, except
 * rum__dpdk_announce_due, which wait() calls. */

/* Where f goes: true with *link and *mac (valid until the next call) set, or false
 * with *hold_on, the ARP entry to hold the frame on until its peer is resolved (an
 * ARP request is out). */
bool rum__dpdk_route(struct rum_dpdk_transport *d, const struct rum_tx_frame *f, uint64_t now,
                     unsigned *link, const uint8_t **mac, struct rum_dpdk_arp_entry **hold_on);
/* Send the frames held for e, now that its MAC and link are known. */
void rum__dpdk_flush_held(struct rum_dpdk_transport *d, struct rum_dpdk_arp_entry *e);
/* The ARP table's drop callback (ctx is the transport): frees a held mbuf. */
void rum__dpdk_drop_held_mbuf(void *ctx, void *frame);
/* An ARP frame received on link: learn, flush what was held, answer a request. */
void rum__dpdk_on_arp(struct rum_dpdk_transport *d, unsigned link, const struct rum_dpdk_parsed *p,
                      uint64_t now);
/* Links that came up since: gratuitous ARP, and the pending requests again. */
void rum__dpdk_announce(struct rum_dpdk_transport *d, uint64_t now);
/* Whether a link is up and its announcement due (read-only: wait may call it). */
bool rum__dpdk_announce_due(struct rum_dpdk_transport *d);

#endif
