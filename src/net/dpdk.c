/* The dpdk transport: RUM frames in Ethernet / IPv4 / UDP built and parsed in user
 * space, sent and received on one DPDK ethdev port (net_memif, net_af_packet or a
 * NIC's poll-mode driver), with ARP answered and resolved here.
 *
 * Files: dpdk.c is the data path (this table of ops), dpdk_eal.c the EAL and port
 * set-up, dpdk_frame.c the pure header codec, dpdk_arp.c the pure ARP cache,
 * dpdk_args.c the EAL argument handling.
 *
 * Receiving is zero-copy: a rum_rx_frame points into its mbuf, cookie is the mbuf,
 * release frees it. Sending copies the iov pieces into one mbuf per frame (a frame is
 * at most an MTU; the copy is cheaper than attaching external buffers, which would
 * need the pages pinned until the driver is done with them).
 *
 * Concurrency: send, recv and release are serialised by the caller (transport.h);
 * wait may run at the same time. wait therefore never transmits and touches only the
 * Rx queue, under rx_lock: it polls the queue into a small stash that the next recv
 * takes first. wait sets the calling thread's timer slack to 1 us (prctl) so that
 * its short back-off sleeps are short; that is the only state it changes outside
 * the transport.
 *
 * Peers must be on the same Ethernet segment (there is no routing): the destination
 * MAC is rum_peer_addr.mac when has_mac is set (machines.csv, or the sender of a
 * received frame), else the ARP cache's. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include <rum/rum_errors.h>

#include "net/dpdk.h"
#include "net/dpdk_arp.h"
#include "net/dpdk_eal.h"
#include "net/dpdk_frame.h"
#include "net/transport.h"
#include "util/clock.h"
#include "util/log.h"

enum {
  TX_RETRIES = 4, /* empty tx_burst calls before frames count as lost */
  RX_ROUNDS = 2,  /* bursts recv looks at when one held nothing for us */
  EPHEMERAL_PORT_FIRST = 49152,
  EPHEMERAL_PORT_COUNT = 16384,
};

/* wait() backs off with the time since the last frame sent or received ("idle"):
 * it busy-polls while idle < WAIT_SPIN_NS, polls with sched_yield() between looks
 * while idle < WAIT_YIELD_NS (a core shared with other endpoints goes to them, an
 * otherwise idle core stays responsive), then sleeps a sixteenth of the idle time
 * between WAIT_SLEEP_MIN_NS and WAIT_SLEEP_MAX_NS: a request after an idle period I
 * waits about I/16 (plus the wake-up latency) to be seen, and a long idle endpoint
 * wakes a thousand times a second (about 45 wake-ups to get there). So traffic at least
 * every millisecond is served at polling speed, and an endpoint costs at most a
 * millisecond of (yielding) polling per burst of traffic. Neither memif nor
 * af_packet offers Rx interrupts to sleep on instead (rte_eth_dev_rx_intr_enable
 * answers ENOTSUP on both in DPDK 22.11). */
#define WAIT_SPIN_NS (50ull * 1000)
#define WAIT_YIELD_NS (1000ull * 1000)
#define WAIT_SLEEP_MIN_NS (5ull * 1000)
#define WAIT_SLEEP_MAX_NS (1000ull * 1000)
/* Linux delays a sleeping thread's wake-up by its timer slack, 50 us by default,
 * which would swamp the short sleeps: the waiting thread's slack is set to this. */
#define WAIT_TIMER_SLACK_NS 1000ul
#define ANNOUNCE_RETRY_NS (1000ull * 1000) /* link checks until it is up */

struct dpdk_transport {
  struct rum_transport base;
  struct rum_dpdk_port port;
  struct rum_dpdk_endpoint self;
  uint16_t ip_id;
  bool announced; /* gratuitous ARP sent with the link up (atomic: wait reads it) */
  bool conflict_logged;
  uint64_t announce_ns;      /* last link check for the announcement (atomic) */
  uint64_t last_activity_ns; /* last send or receive; read by wait (atomic) */

  /* rx_lock protects the Rx queue and the stash (frames wait() polled). */
  rte_spinlock_t rx_lock;
  unsigned stash_head, stash_count;
  struct rte_mbuf *stash[RUM_TRANSPORT_BURST];

  struct rum_dpdk_arp_table arp;
  struct rum_dpdk_stats stats;
};

static const struct rum_transport_ops dpdk_ops;

static void mark_activity(struct dpdk_transport *d, uint64_t now) {
  __atomic_store_n(&d->last_activity_ns, now, __ATOMIC_RELAXED);
}

/* Hand mbufs to the Tx queue, retrying briefly when it is full; frees what did not
 * go. Returns how many went. */
static unsigned tx_mbufs(struct dpdk_transport *d, struct rte_mbuf **mbufs, unsigned n) {
  uint64_t bytes = 0; /* summed first: the driver may free an mbuf as soon as it has it */
  for (unsigned i = 0; i < n; i++) bytes += rte_pktmbuf_pkt_len(mbufs[i]);
  unsigned sent = 0, empty = 0;
  while (sent < n && empty < TX_RETRIES) {
    uint16_t k = rte_eth_tx_burst(d->port.port_id, 0, mbufs + sent, (uint16_t)(n - sent));
    sent += k;
    if (k == 0) empty++;
  }
  for (unsigned i = sent; i < n; i++) bytes -= rte_pktmbuf_pkt_len(mbufs[i]);
  if (sent < n) {
    rte_pktmbuf_free_bulk(mbufs + sent, n - sent);
    d->stats.tx_dropped += n - sent;
  }
  d->stats.tx_frames += sent;
  d->stats.tx_bytes += bytes;
  return sent;
}

static int arp_send(struct dpdk_transport *d, uint16_t op, const uint8_t *eth_dst,
                    const uint8_t *target_mac, uint32_t target_ip) {
  struct rte_mbuf *m = rte_pktmbuf_alloc(d->port.pool);
  if (m == NULL) {
    d->stats.tx_dropped++;
    return RUM_ENOMEM;
  }
  uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, RUM_DPDK_ETH_MIN_FRAME);
  rum__dpdk_arp_build(p, op, eth_dst, d->self.mac, d->self.ipv4, target_mac, target_ip);
  if (tx_mbufs(d, &m, 1) != 1) return RUM_EAGAIN;
  d->stats.tx_arp++;
  return 0;
}

static void arp_request(struct dpdk_transport *d, struct rum_dpdk_arp_entry *e) {
  const uint8_t *ip = (const uint8_t *)&e->ipv4;
  int rc = arp_send(d, RUM_DPDK_ARP_REQUEST, rum__dpdk_mac_broadcast, rum__dpdk_mac_zero, e->ipv4);
  if (rc != 0) {
    e->requested_ns = 0; /* not sent (link down, no mbuf): the next send asks again */
    RUM_LOG_D("dpdk %s: cannot ask ARP for %u.%u.%u.%u yet", d->port.name, ip[0], ip[1], ip[2],
              ip[3]);
  } else {
    RUM_LOG_D("dpdk %s: ARP request for %u.%u.%u.%u", d->port.name, ip[0], ip[1], ip[2], ip[3]);
  }
}

/* Once the link is up (memif connects some milliseconds after start): a gratuitous
 * ARP, so that peers which knew an older MAC for our address (a previous run of this
 * node) update it at once, and the requests that could not go out while it was down,
 * so frames held for them leave now rather than at the RPC layer's retransmission. */
static void announce(struct dpdk_transport *d, uint64_t now) {
  if (now - d->announce_ns < ANNOUNCE_RETRY_NS) return;
  __atomic_store_n(&d->announce_ns, now, __ATOMIC_RELAXED);
  struct rte_eth_link link;
  if (rte_eth_link_get_nowait(d->port.port_id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP)
    return;
  if (arp_send(d, RUM_DPDK_ARP_REQUEST, rum__dpdk_mac_broadcast, rum__dpdk_mac_zero,
               d->self.ipv4) != 0)
    return;
  __atomic_store_n(&d->announced, true, __ATOMIC_RELAXED);
  RUM_LOG_D("dpdk %s: link up, gratuitous ARP sent", d->port.name);
  for (unsigned i = 0; i < RUM_DPDK_ARP_ENTRIES; i++) {
    struct rum_dpdk_arp_entry *e = &d->arp.entries[i];
    if (e->state == RUM_DPDK_ARP_PENDING) {
      e->requested_ns = now;
      arp_request(d, e);
    }
  }
}

static void drop_held_mbuf(void *ctx, void *frame) {
  struct dpdk_transport *d = ctx;
  d->stats.tx_dropped++;
  rte_pktmbuf_free(frame);
}

/* Send the frames held for e, now that its MAC is known. */
static void flush_held(struct dpdk_transport *d, struct rum_dpdk_arp_entry *e) {
  void *held[RUM_DPDK_ARP_HOLD];
  unsigned n = rum__dpdk_arp_take_held(e, held);
  RUM_LOG_D("dpdk %s: peer resolved, sending %u held frames", d->port.name, n);
  for (unsigned i = 0; i < n; i++)
    memcpy(rte_pktmbuf_mtod((struct rte_mbuf *)held[i], uint8_t *), e->mac, RUM_DPDK_MAC_LEN);
  if (n > 0) tx_mbufs(d, (struct rte_mbuf **)held, n);
}

static size_t frame_len(const struct rum_tx_frame *f) {
  size_t len = 0;
  for (int i = 0; i < f->iovcnt; i++) len += f->iov[i].iov_len;
  return len;
}

/* Fill m with f's headers (destination MAC dst_mac) and bytes. */
static void frame_build(struct dpdk_transport *d, struct rte_mbuf *m, const struct rum_tx_frame *f,
                        uint32_t len, const uint8_t *dst_mac) {
  uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RUM_DPDK_UDP_HEADERS + len));
  struct rum_dpdk_endpoint dst = {.ipv4 = f->to.ipv4, .port = f->to.port};
  memcpy(dst.mac, dst_mac, RUM_DPDK_MAC_LEN);
  rum__dpdk_udp_headers_build(p, &d->self, &dst, len, d->ip_id++);
  uint8_t *payload = p + RUM_DPDK_UDP_HEADERS;
  for (int i = 0; i < f->iovcnt; i++) {
    memcpy(payload, f->iov[i].iov_base, f->iov[i].iov_len);
    payload += f->iov[i].iov_len;
  }
}

static int check_frames(const struct dpdk_transport *d, const struct rum_tx_frame *frames,
                        unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (frames[i].iovcnt < 0 || frames[i].iovcnt > RUM_TX_MAX_IOV) return RUM_EINVAL;
    if (frame_len(&frames[i]) > d->base.mtu) return RUM_EMSGSIZE;
  }
  return 0;
}

static int dpdk_send(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n) {
  struct dpdk_transport *d = (struct dpdk_transport *)t;
  int rc = check_frames(d, frames, n);
  if (rc != 0) return rc;
  uint64_t now = rum__now_ns();
  mark_activity(d, now);
  unsigned done = 0;
  while (done < n) {
    unsigned batch = n - done < RUM_TRANSPORT_BURST ? n - done : RUM_TRANSPORT_BURST;
    struct rte_mbuf *mbufs[RUM_TRANSPORT_BURST], *tx[RUM_TRANSPORT_BURST];
    unsigned frame_of[RUM_TRANSPORT_BURST], ntx = 0;
    if (rte_pktmbuf_alloc_bulk(d->port.pool, mbufs, batch) != 0) {
      d->stats.tx_dropped += batch;
      return (int)done; /* pool exhausted: the rest count as not sent */
    }
    for (unsigned j = 0; j < batch; j++) {
      const struct rum_tx_frame *f = &frames[done + j];
      uint32_t len = (uint32_t)frame_len(f);
      if (f->to.has_mac) {
        frame_build(d, mbufs[j], f, len, f->to.mac);
      } else {
        bool ask;
        struct rum_dpdk_arp_entry *e = rum__dpdk_arp_lookup(&d->arp, f->to.ipv4, now, &ask);
        if (ask) arp_request(d, e);
        if (e->state != RUM_DPDK_ARP_RESOLVED) {
          frame_build(d, mbufs[j], f, len, rum__dpdk_mac_zero); /* MAC filled at flush */
          rum__dpdk_arp_hold(&d->arp, e, mbufs[j]);
          d->stats.tx_held++;
          continue;
        }
        frame_build(d, mbufs[j], f, len, e->mac);
      }
      tx[ntx] = mbufs[j];
      frame_of[ntx++] = done + j;
    }
    unsigned sent = tx_mbufs(d, tx, ntx);
    if (sent < ntx) return (int)frame_of[sent];
    done += batch;
  }
  return (int)done;
}

static void arp_input(struct dpdk_transport *d, const struct rum_dpdk_parsed *p, uint64_t now) {
  d->stats.rx_arp++;
  if (p->arp_sender_ip == d->self.ipv4) {
    if (memcmp(p->arp_sender_mac, d->self.mac, RUM_DPDK_MAC_LEN) != 0 && !d->conflict_logged) {
      d->conflict_logged = true;
      RUM_LOG_W("dpdk transport: MAC %02x:%02x:%02x:%02x:%02x:%02x claims our IPv4 address too",
                p->arp_sender_mac[0], p->arp_sender_mac[1], p->arp_sender_mac[2],
                p->arp_sender_mac[3], p->arp_sender_mac[4], p->arp_sender_mac[5]);
    }
    return;
  }
  bool for_us = p->arp_target_ip == d->self.ipv4;
  if (p->arp_sender_ip != 0) {
    /* Learn from anything addressed to us; otherwise (gratuitous ARP, requests for
     * others) only refresh peers we already talk to. */
    struct rum_dpdk_arp_entry *e =
        rum__dpdk_arp_learn(&d->arp, p->arp_sender_ip, p->arp_sender_mac, now, for_us);
    if (e != NULL && e->nheld > 0) flush_held(d, e);
  }
  if (p->arp_op == RUM_DPDK_ARP_REQUEST && for_us)
    (void)arp_send(d, RUM_DPDK_ARP_REPLY, p->eth_src, p->arp_sender_mac, p->arp_sender_ip);
}

/* Look at one received mbuf: returns 1 with *frame filled when it is a UDP frame for
 * us, else 0 (the mbuf is then freed). */
static unsigned rx_one(struct dpdk_transport *d, struct rte_mbuf *m, struct rum_rx_frame *frame,
                       uint64_t now) {
  struct rum_dpdk_parsed p;
  enum rum_dpdk_frame_kind kind = RUM_DPDK_FRAME_BAD_LENGTH;
  uint8_t *bytes = rte_pktmbuf_mtod(m, uint8_t *);
  if (m->nb_segs == 1) kind = rum__dpdk_frame_parse(bytes, rte_pktmbuf_data_len(m), false, &p);
  switch (kind) {
  case RUM_DPDK_FRAME_UDP:
    if (memcmp(p.eth_dst, d->self.mac, RUM_DPDK_MAC_LEN) != 0 || p.ip_dst != d->self.ipv4 ||
        p.port_dst != d->self.port) {
      d->stats.rx_ignored++;
      break;
    }
    struct rum_dpdk_arp_entry *e = rum__dpdk_arp_learn(&d->arp, p.ip_src, p.eth_src, now, true);
    if (e->nheld > 0) flush_held(d, e);
    frame->data = bytes + p.payload_offset;
    frame->len = p.payload_len;
    memset(&frame->from, 0, sizeof frame->from);
    frame->from.ipv4 = p.ip_src;
    frame->from.port = p.port_src;
    frame->from.has_mac = true;
    memcpy(frame->from.mac, p.eth_src, RUM_DPDK_MAC_LEN);
    frame->cookie = (uintptr_t)m;
    d->stats.rx_frames++;
    d->stats.rx_bytes += rte_pktmbuf_data_len(m);
    return 1;
  case RUM_DPDK_FRAME_ARP: arp_input(d, &p, now); break;
  case RUM_DPDK_FRAME_OTHER: d->stats.rx_ignored++; break;
  case RUM_DPDK_FRAME_BAD_LENGTH: d->stats.rx_bad_length++; break;
  case RUM_DPDK_FRAME_BAD_HEADER: d->stats.rx_bad_header++; break;
  case RUM_DPDK_FRAME_BAD_CHECKSUM: d->stats.rx_bad_checksum++; break;
  }
  rte_pktmbuf_free(m);
  return 0;
}

/* Up to max mbufs: the stash first, then the Rx queue. */
static unsigned rx_take(struct dpdk_transport *d, struct rte_mbuf **out, unsigned max) {
  unsigned n = 0;
  rte_spinlock_lock(&d->rx_lock);
  while (n < max && d->stash_count > 0) {
    out[n++] = d->stash[d->stash_head];
    d->stash_head = (d->stash_head + 1) % RUM_TRANSPORT_BURST;
    d->stash_count--;
  }
  if (n < max) n += rte_eth_rx_burst(d->port.port_id, 0, out + n, (uint16_t)(max - n));
  rte_spinlock_unlock(&d->rx_lock);
  return n;
}

static int dpdk_recv(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max) {
  struct dpdk_transport *d = (struct dpdk_transport *)t;
  if (max > RUM_TRANSPORT_BURST) max = RUM_TRANSPORT_BURST;
  unsigned got = 0;
  uint64_t now = 0;
  for (unsigned round = 0; round < RX_ROUNDS && got == 0; round++) {
    struct rte_mbuf *mbufs[RUM_TRANSPORT_BURST];
    unsigned n = rx_take(d, mbufs, max);
    if (n == 0) break;
    now = rum__now_ns();
    for (unsigned i = 0; i < n; i++) got += rx_one(d, mbufs[i], &frames[got], now);
  }
  if (got > 0) mark_activity(d, now);
  if (__builtin_expect(!__atomic_load_n(&d->announced, __ATOMIC_RELAXED), 0))
    announce(d, now != 0 ? now : rum__now_ns());
  return (int)got;
}

static void dpdk_release(struct rum_transport *t, struct rum_rx_frame *frames, unsigned n) {
  (void)t;
  for (unsigned i = 0; i < n; i++) {
    rte_pktmbuf_free((struct rte_mbuf *)frames[i].cookie);
    frames[i].cookie = 0;
    frames[i].data = NULL;
  }
}

/* Whether recv has something to do: a frame waiting (polled from the Rx queue into
 * the stash), or the link just came up and the announcement is due (only recv may
 * transmit). Gives up at once if recv holds the queue (it is receiving whatever
 * there is). */
static bool rx_ready(struct dpdk_transport *d) {
  if (__builtin_expect(!__atomic_load_n(&d->announced, __ATOMIC_RELAXED), 0) &&
      rum__now_ns() - __atomic_load_n(&d->announce_ns, __ATOMIC_RELAXED) >= ANNOUNCE_RETRY_NS) {
    struct rte_eth_link link;
    if (rte_eth_link_get_nowait(d->port.port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
      return true;
  }
  if (!rte_spinlock_trylock(&d->rx_lock)) return false;
  if (d->stash_count == 0) {
    d->stash_head = 0;
    d->stash_count = rte_eth_rx_burst(d->port.port_id, 0, d->stash, RUM_TRANSPORT_BURST);
  }
  bool ready = d->stash_count > 0;
  rte_spinlock_unlock(&d->rx_lock);
  return ready;
}

static int dpdk_wait(struct rum_transport *t, int64_t timeout_ns) {
  struct dpdk_transport *d = (struct dpdk_transport *)t;
  if (rx_ready(d)) return 1;
  if (timeout_ns <= 0) return 0;
  uint64_t deadline = rum__now_ns() + (uint64_t)timeout_ns;
  bool slack_set = false;
  for (;;) {
    uint64_t now = rum__now_ns();
    if (now >= deadline) return 0;
    uint64_t idle = now - __atomic_load_n(&d->last_activity_ns, __ATOMIC_RELAXED);
    if (idle < WAIT_SPIN_NS) {
      for (int i = 0; i < 16; i++) rum__cpu_relax();
    } else if (idle < WAIT_YIELD_NS) {
      sched_yield();
    } else {
      if (!slack_set) {
        (void)prctl(PR_SET_TIMERSLACK, WAIT_TIMER_SLACK_NS);
        slack_set = true;
      }
      uint64_t sleep_ns = idle / 16;
      if (sleep_ns < WAIT_SLEEP_MIN_NS) sleep_ns = WAIT_SLEEP_MIN_NS;
      if (sleep_ns > WAIT_SLEEP_MAX_NS) sleep_ns = WAIT_SLEEP_MAX_NS;
      if (sleep_ns > deadline - now) sleep_ns = deadline - now;
      struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)sleep_ns};
      (void)nanosleep(&ts, NULL); /* EINTR: look at the queue early, harmless */
    }
    if (rx_ready(d)) return 1;
  }
}

static void dpdk_destroy(struct rum_transport *t) {
  struct dpdk_transport *d = (struct dpdk_transport *)t;
  if (d == NULL) return;
  while (d->stash_count > 0) {
    rte_pktmbuf_free(d->stash[d->stash_head]);
    d->stash_head = (d->stash_head + 1) % RUM_TRANSPORT_BURST;
    d->stash_count--;
  }
  rum__dpdk_arp_clear(&d->arp);
  const struct rum_dpdk_stats *s = &d->stats;
  RUM_LOG_I("dpdk transport %s: rx %llu frames (%llu ignored, %llu bad), tx %llu frames "
            "(%llu dropped, %llu held for ARP)",
            d->port.name, (unsigned long long)s->rx_frames, (unsigned long long)s->rx_ignored,
            (unsigned long long)(s->rx_bad_length + s->rx_bad_header + s->rx_bad_checksum),
            (unsigned long long)s->tx_frames, (unsigned long long)s->tx_dropped,
            (unsigned long long)s->tx_held);
  rum__dpdk_port_close(&d->port);
  free(d);
}

static const struct rum_transport_ops dpdk_ops = {
    .name = "dpdk",
    .send = dpdk_send,
    .recv = dpdk_recv,
    .release = dpdk_release,
    .wait = dpdk_wait,
    .destroy = dpdk_destroy,
};

int rum__dpdk_get_stats(const struct rum_transport *t, struct rum_dpdk_stats *out) {
  if (t == NULL || t->ops != &dpdk_ops) return RUM_EINVAL;
  *out = ((const struct dpdk_transport *)t)->stats;
  return 0;
}

int rum__dpdk_open(const struct rum_transport_config *cfg, struct rum_transport **out) {
  *out = NULL;
  if (cfg->bind_ipv4 == 0) {
    RUM_LOG_E("dpdk transport: needs the IPv4 address to use (bind_ipv4): it builds its own "
              "IPv4 headers and answers ARP for that address");
    return RUM_EINVAL;
  }
  const char *args = cfg->dpdk_args != NULL ? cfg->dpdk_args : getenv("RUM_DPDK_ARGS");
  struct dpdk_transport *d = calloc(1, sizeof *d);
  if (d == NULL) return RUM_ENOMEM;
  int rc = rum__dpdk_port_open(args, cfg->mtu, &d->port);
  if (rc != 0) {
    free(d);
    return rc;
  }
  rte_spinlock_init(&d->rx_lock);
  rum__dpdk_arp_init(&d->arp, drop_held_mbuf, d);
  memcpy(d->self.mac, d->port.mac, RUM_DPDK_MAC_LEN);
  d->self.ipv4 = cfg->bind_ipv4;
  /* The port is ours alone, so any UDP port is free; 0 picks one from the dynamic
   * range, different per process so a restarted client is told apart. */
  d->self.port = cfg->bind_port != 0
      ? cfg->bind_port
      : (uint16_t)(EPHEMERAL_PORT_FIRST +
                   (uint64_t)(getpid() ^ (int)rum__now_ns()) % EPHEMERAL_PORT_COUNT);
  d->base.ops = &dpdk_ops;
  d->base.mtu = d->port.link_mtu - RUM_DPDK_IP_UDP_OVERHEAD;
  d->base.local.ipv4 = d->self.ipv4;
  d->base.local.port = d->self.port;
  d->base.local.has_mac = true;
  memcpy(d->base.local.mac, d->self.mac, RUM_DPDK_MAC_LEN);
  uint64_t now = rum__now_ns();
  mark_activity(d, now);
  d->announce_ns = now - ANNOUNCE_RETRY_NS;
  announce(d, now);
  const uint8_t *m = d->self.mac, *ip = (const uint8_t *)&d->self.ipv4;
  RUM_LOG_I("dpdk transport on %s (%s): %02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u:%u, mtu %u",
            d->port.name, d->port.driver, m[0], m[1], m[2], m[3], m[4], m[5], ip[0], ip[1], ip[2],
            ip[3], d->self.port, d->base.mtu);
  *out = &d->base;
  return 0;
}
