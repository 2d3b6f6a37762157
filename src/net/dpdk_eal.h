/* The process-wide half of the dpdk transport: DPDK's EAL and its ethdev ports.
 *
 * rte_eal_init can run once per process and cannot be undone and redone, so the EAL
 * is initialised by the first rum__dpdk_ports_open and stays up while any port is
 * open; it belongs to the process that initialised it (a child forked afterwards is
 * refused: EAL's threads and the devices' control channels stay with the parent).
 * Each open transport owns one or more ethdev ports (1 Rx + 1 Tx queue each)
 * exclusively; closing one stops the port but keeps it configured, with its mbuf
 * pool, so that a later open in the same process (a client that calls rum_init
 * again, a test opening transports one after another) finds it again. The ports are closed, the pools
 * freed and rte_eal_cleanup called by rum__dpdk_shutdown, which runs at process exit
 * (atexit) when no port is open any more, or may be called earlier by the program.
 * If the application initialised the EAL itself, we use it and leave its cleanup to
 * the application.
 *
 * Every function here takes a process-wide mutex: call them from ordinary threads,
 * never from a signal handler. */
#ifndef RUM_NET_DPDK_EAL_H
#define RUM_NET_DPDK_EAL_H

#include <stdbool.h>
#include <stdint.h>

#include "net/dpdk_args.h"
#include "net/dpdk_frame.h"

struct rte_mempool;

enum {
  RUM_DPDK_NB_MBUFS = 4095, /* per port: 2^n - 1 suits the mempool's ring */
  /* memif copies a frame into an mbuf only when it arrives (nothing is posted to its
   * Rx ring in advance), so fewer do; a node has many memif ports. */
  RUM_DPDK_MEMIF_NB_MBUFS = 2047,
  RUM_DPDK_MBUF_CACHE = 64,
  RUM_DPDK_RING_SIZE = 1024,          /* Rx and Tx descriptors asked for */
  RUM_DPDK_MEMIF_FRAME = 2048,        /* memif's default buffer: default Ethernet frame */
  RUM_DPDK_MEMIF_MAX_LINK_MTU = 9000, /* jumbo, with bsize= of 9014 or more */
  RUM_DPDK_DEFAULT_LINK_MTU = 1500,
};

/* One open port. */
struct rum_dpdk_port {
  uint16_t port_id;
  struct rte_mempool *pool; /* mbufs for Rx and Tx; owned by the port table */
  uint8_t mac[RUM_DPDK_MAC_LEN];
  uint32_t link_mtu; /* largest IPv4 packet we send or accept */
  bool is_memif;
  char name[64]; /* ethdev name, e.g. net_memif0 */
  char driver[32];
};

/* Initialise the EAL from eal_args (see dpdk_args.h for the syntax and what is added)
 * if this process has not yet, then claim ports: the ones named by port=, else every
 * one not open in this process (at most RUM_DPDK_MAX_PORTS); configure each for
 * frames of up to frame_mtu bytes of UDP payload and start it. Fills
 * ports[0..*nports) (ports holds RUM_DPDK_MAX_PORTS) and *arg_ipv4 with the ip= of
 * eal_args (0 if none).
 * A port whose start alone fails (a memif client whose server is not listening) is
 * left out, with a warning, when another port starts; every other failure undoes
 * the whole call.
 * frame_mtu 0 picks the driver's default: memif frames fill its 2048-byte buffer
 * (2006 bytes of payload), other drivers a 1500-byte IPv4 MTU (1472 of payload).
 * The largest is, on memif, its buffer size (bsize= in the --vdev, default 2048) less
 * the 42 bytes of headers, at most 9000 - 28; elsewhere the device's own MTU limit
 * less 28. The smallest is RUM_WIRE_MIN_MTU.
 * Returns 0; RUM_ETRANSPORT when the EAL, a port or memory cannot be had (reason
 * logged); RUM_EINVAL for bad arguments or an MTU out of range; RUM_EBUSY when a
 * named port is open already. */
int rum__dpdk_ports_open(const char *eal_args, uint32_t frame_mtu, struct rum_dpdk_port *ports,
                         unsigned *nports, uint32_t *arg_ipv4);

/* Stop the port and give it back. Every mbuf taken from port->pool must be freed. */
void rum__dpdk_port_close(struct rum_dpdk_port *port);

/* Close every port, free the pools, rte_eal_cleanup (when we initialised the EAL) and
 * remove the runtime directory we created. Afterwards the dpdk transport cannot be
 * opened again in this process. Returns 0, or RUM_EBUSY while a port is open. */
int rum__dpdk_shutdown(void);

#endif
