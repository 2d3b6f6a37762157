/* Transports: move frames (one UDP datagram's worth of bytes: a RUM header and
 * payload) between endpoints. A table of function pointers; each backend lives in its
 * own file (udp.c, dpdk.c) and a fault injector (faulty.c) can wrap any of them.
 *
 * Addresses are IPv4 + UDP port on every backend: the dpdk backend builds the
 * Ethernet/IPv4/UDP headers itself, so a DPDK endpoint and a kernel-UDP endpoint talk
 * to each other unchanged.
 *
 * Concurrency: send, recv and release must be serialised by the caller (the RPC layer
 * holds its I/O lock around them); wait may run concurrently with them. None of the
 * calls allocates memory after open, so they can run in signal context. */
#ifndef RUM_NET_TRANSPORT_H
#define RUM_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rum_peer_addr {
  uint32_t ipv4;   /* network byte order */
  uint16_t port;   /* host byte order */
  bool has_mac;    /* mac is known (static from machines.csv, or learned) */
  uint8_t mac[6];
};

static inline bool rum__peer_addr_equal(const struct rum_peer_addr *a, const struct rum_peer_addr *b) {
  return a->ipv4 == b->ipv4 && a->port == b->port;
}

/* One frame to send: its bytes gathered from iov. */
/* A frame's pieces: the RUM header, a message's fixed part, and up to 16 pages of a
 * 64 KiB loopback frame, with room to spare. */
enum { RUM_TX_MAX_IOV = 24, RUM_TRANSPORT_BURST = 32 };
struct rum_tx_frame {
  struct rum_peer_addr to;
  struct iovec iov[RUM_TX_MAX_IOV];
  int iovcnt;
};

/* One received frame. data stays valid until release() is called for it. */
struct rum_rx_frame {
  uint8_t *data;
  uint32_t len;
  struct rum_peer_addr from;
  uintptr_t cookie; /* backend's handle (buffer index, mbuf pointer) */
};

struct rum_transport;

struct rum_transport_ops {
  const char *name;
  /* Send up to n frames. Returns how many were handed to the network (>= 0; fewer
   * than n when queues are full) or a negative RUM_E* code. A frame "sent" may still
   * be lost: the RPC layer retransmits. */
  int (*send)(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n);
  /* Receive up to max frames without blocking. Returns the count (0 if none). */
  int (*recv)(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max);
  /* Give received frames' buffers back. */
  void (*release)(struct rum_transport *t, struct rum_rx_frame *frames, unsigned n);
  /* Block until a frame may be ready or timeout_ns passed (0: just check).
   * Returns 1 (maybe ready), 0 (timeout) or a negative RUM_E* code. */
  int (*wait)(struct rum_transport *t, int64_t timeout_ns);
  /* Close and free everything. */
  void (*destroy)(struct rum_transport *t);
};

struct rum_transport {
  const struct rum_transport_ops *ops;
  uint32_t mtu;                 /* largest frame (RUM header + payload) this path carries */
  struct rum_peer_addr local;   /* bound address (port filled in after bind) */
};

/* How to open a transport. Strings are borrowed for the call only. */
struct rum_transport_config {
  const char *kind;        /* "udp" or "dpdk"; NULL = $RUM_TRANSPORT, then "udp" */
  uint32_t bind_ipv4;      /* network order; 0 = any (udp) */
  uint16_t bind_port;      /* host order; 0 = ephemeral */
  uint32_t mtu;            /* frame size wanted; 0 = the backend's default */
  const char *dpdk_args;   /* EAL arguments; NULL = $RUM_DPDK_ARGS */
  const char *fault_spec;  /* fault injection "drop=P,dup=P,reorder=P,seed=N";
                              NULL = $RUM_FAULT_INJECT; "" = none */
};

/* Open the configured backend, wrapped in the fault injector if a fault spec is set.
 * Returns 0 and *out, or RUM_ETRANSPORT (unknown kind, DPDK not built),
 * RUM_EINVAL (bad fault spec or mtu) or another negative code with a logged reason. */
int rum__transport_open(const struct rum_transport_config *cfg, struct rum_transport **out);

static inline void rum__transport_destroy(struct rum_transport *t) {
  if (t != NULL) t->ops->destroy(t);
}

/* Backends (each returns 0 and *out, or a negative RUM_E* code). */
int rum__udp_open(const struct rum_transport_config *cfg, struct rum_transport **out);
int rum__dpdk_open(const struct rum_transport_config *cfg, struct rum_transport **out);

/* Fault injection: wrap inner (ownership passes to the wrapper). spec as above.
 * Returns 0, or RUM_EINVAL for a bad spec (inner is then destroyed). */
int rum__faulty_wrap(struct rum_transport *inner, const char *spec, struct rum_transport **out);

/* Parse "drop=0.1,dup=0.05,reorder=0.1,seed=7" (any subset, probabilities 0..1).
 * Returns 0 or RUM_EINVAL. Pure. */
struct rum_fault_spec {
  double drop, dup, reorder;
  uint64_t seed;
};
int rum__fault_spec_parse(const char *text, struct rum_fault_spec *out);

#endif
