/* Extras of the dpdk transport beyond struct rum_transport_ops: its counters, for
 * tests and diagnostics. The transport itself is opened with rum__dpdk_open
 * (transport.h). */
#ifndef RUM_NET_DPDK_H
#define RUM_NET_DPDK_H

#include <stdint.h>

#include "net/transport.h"

struct rum_dpdk_stats {
  uint64_t rx_frames, rx_bytes; /* UDP frames handed up, and their Ethernet bytes */
  uint64_t rx_bad_length;       /* truncated, inconsistent lengths, multi-segment */
  uint64_t rx_bad_header;       /* wrong IP version/header length, bad ARP header */
  uint64_t rx_bad_checksum;     /* IPv4 header checksum */
  uint64_t rx_ignored;          /* well formed, not ours: other MAC/IP/port/protocol */
  uint64_t rx_arp;              /* ARP frames taken in */
  uint64_t tx_frames, tx_bytes; /* frames handed to the port (ARP too), Ethernet bytes */
  uint64_t tx_arp;              /* ARP requests, replies and announcements sent */
  uint64_t tx_held;             /* frames queued while their peer's MAC was resolved */
  uint64_t tx_dropped;          /* no mbuf, Tx queue full, ARP hold queue overflow */
  uint32_t nports;              /* ports the transport drives */
};

/* Copy t's counters into *out. Returns 0, or RUM_EINVAL if t is not a dpdk transport
 * (a fault-injection wrapper is not one). Call where send/recv are serialised. */
int rum__dpdk_get_stats(const struct rum_transport *t, struct rum_dpdk_stats *out);

/* Tear DPDK down early (see dpdk_eal.h); otherwise this happens at exit.
 * Returns 0, or RUM_EBUSY while a dpdk transport is open. */
int rum__dpdk_shutdown(void);

#endif
