/* The dpdk transport's ARP cache: IPv4 -> MAC for the peers we talk to, plus a few
 * frames held per peer while its MAC is being resolved.
 *
 * Pure: time comes in as an argument and the held frames are opaque pointers that the
 * table hands back through the drop callback when it discards them, so it is unit
 * tested without DPDK. Not thread-safe; the transport calls it from send and recv,
 * which its caller serialises.
 *
 * Policy (RFC 826 with the usual refinements):
 *  - a peer we want to send to and do not know gets a PENDING entry and an ARP
 *    request, retried at most every RUM_DPDK_ARP_RETRY_NS while we keep sending;
 *  - any ARP or UDP frame from a peer (re)confirms its MAC and the port (link) it came
 *    in on: a peer that restarted with a new MAC (memif makes up a random one per
 *    process) is relearned from its first frame or its gratuitous ARP; a transport
 *    with several ports sends to a peer on the port its frames come in on;
 *  - a RESOLVED entry nothing confirmed for RUM_DPDK_ARP_REFRESH_NS is re-requested
 *    (at most once per that interval) while we keep sending to it, still using the old
 *    MAC meanwhile, so a silently restarted peer is found again;
 *  - a full table evicts the least recently used entry. */
#ifndef RUM_NET_DPDK_ARP_H
#define RUM_NET_DPDK_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/dpdk_frame.h"

enum {
  RUM_DPDK_ARP_ENTRIES = 64,
  RUM_DPDK_ARP_HOLD = 4, /* frames kept per unresolved peer; the RPC layer retransmits */
};

/* Timing, in nanoseconds. */
#define RUM_DPDK_ARP_RETRY_NS (20ull * 1000 * 1000)
#define RUM_DPDK_ARP_REFRESH_NS (1000ull * 1000 * 1000)

enum rum_dpdk_arp_state {
  RUM_DPDK_ARP_FREE = 0,
  RUM_DPDK_ARP_PENDING,  /* asked, no answer yet: frames are held */
  RUM_DPDK_ARP_RESOLVED, /* mac is valid */
};

struct rum_dpdk_arp_entry {
  uint32_t ipv4; /* network order */
  enum rum_dpdk_arp_state state;
  uint8_t mac[RUM_DPDK_MAC_LEN];
  uint8_t link;          /* which of the transport's ports the peer is on (RESOLVED) */
  uint64_t confirmed_ns; /* last frame from the peer that showed this MAC */
  uint64_t requested_ns; /* last ARP request we sent for it; 0 = none outstanding */
  uint64_t used_ns;      /* last lookup or learn, for eviction */
  unsigned nheld;
  void *held[RUM_DPDK_ARP_HOLD]; /* oldest first */
};

typedef void (*rum_dpdk_arp_drop_fn)(void *ctx, void *frame);

struct rum_dpdk_arp_table {
  struct rum_dpdk_arp_entry entries[RUM_DPDK_ARP_ENTRIES];
  unsigned last_hit; /* index of the last entry found: a burst goes to one peer */
  rum_dpdk_arp_drop_fn drop;
  void *drop_ctx;
  uint64_t held_dropped; /* frames discarded: hold queue full, or entry evicted */
};

/* Start empty. drop (may be NULL) receives every held frame the table discards. */
void rum__dpdk_arp_init(struct rum_dpdk_arp_table *t, rum_dpdk_arp_drop_fn drop, void *drop_ctx);
/* Drop every entry and every held frame (through the callback). */
void rum__dpdk_arp_clear(struct rum_dpdk_arp_table *t);

/* The entry for ipv4 if there is one, else NULL. Does not change the table. */
struct rum_dpdk_arp_entry *rum__dpdk_arp_find(struct rum_dpdk_arp_table *t, uint32_t ipv4);

/* The entry to send to ipv4 through, created PENDING (evicting the least recently
 * used entry) when there is none; never NULL. *send_request is set when an ARP
 * request for ipv4 is due now (its requested_ns is then set to now; if the request
 * cannot be sent, set requested_ns back to 0 so the next send retries). RESOLVED:
 * use entry->mac; PENDING: hold the frame or drop it. */
struct rum_dpdk_arp_entry *rum__dpdk_arp_lookup(struct rum_dpdk_arp_table *t, uint32_t ipv4,
                                                uint64_t now_ns, bool *send_request);

/* Keep frame on a PENDING entry until it resolves. When RUM_DPDK_ARP_HOLD frames are
 * held already the oldest one is dropped (through the callback) to make room. */
void rum__dpdk_arp_hold(struct rum_dpdk_arp_table *t, struct rum_dpdk_arp_entry *e, void *frame);

/* Record that ipv4 is at mac behind port link (seen in a frame from it at now_ns).
 * Creates the entry
 * when create is set, else updates only an existing one (as for gratuitous ARP from
 * peers we never talked to). Returns the entry, or NULL when none was created.
 * The entry becomes RESOLVED; take its held frames with rum__dpdk_arp_take_held. */
struct rum_dpdk_arp_entry *rum__dpdk_arp_learn(struct rum_dpdk_arp_table *t, uint32_t ipv4,
                                               const uint8_t mac[RUM_DPDK_MAC_LEN], unsigned link,
                                               uint64_t now_ns, bool create);

/* Move the entry's held frames, oldest first, into out[RUM_DPDK_ARP_HOLD]; returns
 * how many. The caller now owns them. */
unsigned rum__dpdk_arp_take_held(struct rum_dpdk_arp_entry *e, void **out);

#endif
