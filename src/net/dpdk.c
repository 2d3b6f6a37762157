/* The dpdk transport: RUM frames in Ethernet / IPv4 / UDP built and parsed in user
 * space, sent and received on one or more DPDK ethdev ports (net_memif,
 * net_af_packet or a NIC's poll-mode driver), with ARP answered and resolved here.
 *
 * Several ports: a memif interface is point to point, so a node serving K clients
 * has K of them and a client talking to 3 nodes has 3. The transport owns every port
 * the EAL created (or those port= names), with one IPv4 address and UDP port on all
 * of them: recv polls them all in turn; send picks the port by the destination's
 * IPv4 address, learned with its MAC from ARP replies and from every frame
 * received (the ARP table keeps the port too). A destination whose port is not
 * known yet, even one with a static MAC (rum_peer_addr.has_mac), gets an ARP request
 * on every port and its frames are held until the answer says where it is. With one
 * port there is nothing to choose and a static MAC goes straight out, as before.
 *
 * Files: dpdk.c is the data path (this table of ops), dpdk_resolve.c where frames
 * go (ARP, routes over the ports, the link-up announcement), dpdk_internal.h what
 * the two share, dpdk_eal.c the EAL and port set-up, dpdk_frame.c the pure header
 * codec, dpdk_arp.c the pure ARP cache, dpdk_args.c the EAL argument handling.
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
 * Peers must be on the same Ethernet segment as one of the ports (there is no IP
 * routing), and a peer's address must be reachable through one port only: the
 * destination MAC is rum_peer_addr.mac when has_mac is set (machines.csv, or the
 * sender of a received frame), else the ARP cache's. */
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

#include "net/dpdk_internal.h"
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

static const struct rum_transport_ops dpdk_ops;

static void mark_activity(struct rum_dpdk_transport *d, uint64_t now) {
  __atomic_store_n(&d->last_activity_ns, now, __ATOMIC_RELAXED);
}

unsigned rum__dpdk_tx_mbufs(struct rum_dpdk_transport *d, unsigned link, struct rte_mbuf **mbufs,
                         unsigned n) {
  uint64_t bytes = 0; /* summed first: the driver may free an mbuf as soon as it has it */
  for (unsigned i = 0; i < n; i++) bytes += rte_pktmbuf_pkt_len(mbufs[i]);
  uint16_t port_id = d->links[link].port.port_id;
  unsigned sent = 0, empty = 0;
  while (sent < n && empty < TX_RETRIES) {
    uint16_t k = rte_eth_tx_burst(port_id, 0, mbufs + sent, (uint16_t)(n - sent));
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

static size_t frame_len(const struct rum_tx_frame *f) {
  size_t len = 0;
  for (int i = 0; i < f->iovcnt; i++) len += f->iov[i].iov_len;
  return len;
}

/* Fill m with f's headers (from link's MAC to dst_mac) and bytes. */
static void frame_build(struct rum_dpdk_transport *d, struct rte_mbuf *m, const struct rum_tx_frame *f,
                        uint32_t len, unsigned link, const uint8_t *dst_mac) {
  uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RUM_DPDK_UDP_HEADERS + len));
  struct rum_dpdk_endpoint src = {.ipv4 = d->ipv4, .port = d->udp_port};
  struct rum_dpdk_endpoint dst = {.ipv4 = f->to.ipv4, .port = f->to.port};
  memcpy(src.mac, d->links[link].port.mac, RUM_DPDK_MAC_LEN);
  memcpy(dst.mac, dst_mac, RUM_DPDK_MAC_LEN);
  rum__dpdk_udp_headers_build(p, &src, &dst, len, d->ip_id++);
  uint8_t *payload = p + RUM_DPDK_UDP_HEADERS;
  for (int i = 0; i < f->iovcnt; i++) {
    memcpy(payload, f->iov[i].iov_base, f->iov[i].iov_len);
    payload += f->iov[i].iov_len;
  }
}

static int check_frames(const struct rum_dpdk_transport *d, const struct rum_tx_frame *frames,
                        unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (frames[i].iovcnt < 0 || frames[i].iovcnt > RUM_TX_MAX_IOV) return RUM_EINVAL;
    if (frame_len(&frames[i]) > d->base.mtu) return RUM_EMSGSIZE;
  }
  return 0;
}

/* Send tx[0..n) in runs of one link each. Returns how many went; on a short send the
 * rest are freed. */
static unsigned tx_runs(struct rum_dpdk_transport *d, struct rte_mbuf **tx, const unsigned *link_of,
                        unsigned n) {
  unsigned i = 0;
  while (i < n) {
    unsigned k = i + 1;
    while (k < n && link_of[k] == link_of[i]) k++;
    unsigned sent = rum__dpdk_tx_mbufs(d, link_of[i], tx + i, k - i);
    if (sent < k - i) {
      if (k < n) rte_pktmbuf_free_bulk(tx + k, n - k);
      d->stats.tx_dropped += n - k;
      return i + sent;
    }
    i = k;
  }
  return n;
}

static int dpdk_send(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n) {
  struct rum_dpdk_transport *d = (struct rum_dpdk_transport *)t;
  int rc = check_frames(d, frames, n);
  if (rc != 0) return rc;
  uint64_t now = rum__now_ns();
  mark_activity(d, now);
  struct rte_mempool *pool = d->links[0].port.pool;
  unsigned done = 0;
  while (done < n) {
    unsigned batch = n - done < RUM_TRANSPORT_BURST ? n - done : RUM_TRANSPORT_BURST;
    struct rte_mbuf *mbufs[RUM_TRANSPORT_BURST], *tx[RUM_TRANSPORT_BURST];
    unsigned frame_of[RUM_TRANSPORT_BURST], link_of[RUM_TRANSPORT_BURST], ntx = 0;
    if (rte_pktmbuf_alloc_bulk(pool, mbufs, batch) != 0) {
      d->stats.tx_dropped += batch;
      return (int)done; /* pool exhausted: the rest count as not sent */
    }
    for (unsigned j = 0; j < batch; j++) {
      const struct rum_tx_frame *f = &frames[done + j];
      uint32_t len = (uint32_t)frame_len(f);
      unsigned link = 0;
      const uint8_t *mac = NULL;
      struct rum_dpdk_arp_entry *hold_on = NULL;
      if (!rum__dpdk_route(d, f, now, &link, &mac, &hold_on)) {
        frame_build(d, mbufs[j], f, len, 0, rum__dpdk_mac_zero); /* MACs filled at flush */
        rum__dpdk_arp_hold(&d->arp, hold_on, mbufs[j]);
        d->stats.tx_held++;
        continue;
      }
      frame_build(d, mbufs[j], f, len, link, mac);
      tx[ntx] = mbufs[j];
      link_of[ntx] = link;
      frame_of[ntx++] = done + j;
    }
    unsigned sent = tx_runs(d, tx, link_of, ntx);
    if (sent < ntx) return (int)frame_of[sent];
    done += batch;
  }
  return (int)done;
}

/* Look at one mbuf received on link: returns 1 with *frame filled when it is a UDP
 * frame for us, else 0 (the mbuf is then freed). */
static unsigned rx_one(struct rum_dpdk_transport *d, unsigned link, struct rte_mbuf *m,
                       struct rum_rx_frame *frame, uint64_t now) {
  struct rum_dpdk_parsed p;
  enum rum_dpdk_frame_kind kind = RUM_DPDK_FRAME_BAD_LENGTH;
  uint8_t *bytes = rte_pktmbuf_mtod(m, uint8_t *);
  if (m->nb_segs == 1) kind = rum__dpdk_frame_parse(bytes, rte_pktmbuf_data_len(m), false, &p);
  switch (kind) {
  case RUM_DPDK_FRAME_UDP:
    if (memcmp(p.eth_dst, d->links[link].port.mac, RUM_DPDK_MAC_LEN) != 0 || p.ip_dst != d->ipv4 ||
        p.port_dst != d->udp_port) {
      d->stats.rx_ignored++;
      break;
    }
    struct rum_dpdk_arp_entry *e =
        rum__dpdk_arp_learn(&d->arp, p.ip_src, p.eth_src, link, now, true);
    if (e->nheld > 0) rum__dpdk_flush_held(d, e);
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
  case RUM_DPDK_FRAME_ARP: rum__dpdk_on_arp(d, link, &p, now); break;
  case RUM_DPDK_FRAME_OTHER: d->stats.rx_ignored++; break;
  case RUM_DPDK_FRAME_BAD_LENGTH: d->stats.rx_bad_length++; break;
  case RUM_DPDK_FRAME_BAD_HEADER: d->stats.rx_bad_header++; break;
  case RUM_DPDK_FRAME_BAD_CHECKSUM: d->stats.rx_bad_checksum++; break;
  }
  rte_pktmbuf_free(m);
  return 0;
}

/* Poll the links' Rx queues, starting at rx_next, for up to max mbufs into out[] /
 * link_of[]. rx_lock held. */
static unsigned rx_poll(struct rum_dpdk_transport *d, struct rte_mbuf **out, unsigned *link_of,
                        unsigned max) {
  unsigned n = 0, first = d->rx_next;
  for (unsigned i = 0; i < d->nlinks && n < max; i++) {
    unsigned l = first + i < d->nlinks ? first + i : first + i - d->nlinks;
    unsigned k = rte_eth_rx_burst(d->links[l].port.port_id, 0, out + n, (uint16_t)(max - n));
    for (unsigned j = 0; j < k; j++) link_of[n + j] = l;
    n += k;
  }
  d->rx_next = first + 1 < d->nlinks ? first + 1 : 0;
  return n;
}

/* Up to max mbufs: the stash first, then the Rx queues. */
static unsigned rx_take(struct rum_dpdk_transport *d, struct rte_mbuf **out, unsigned *link_of,
                        unsigned max) {
  unsigned n = 0;
  rte_spinlock_lock(&d->rx_lock);
  while (n < max && d->stash_count > 0) {
    out[n] = d->stash[d->stash_head].m;
    link_of[n++] = d->stash[d->stash_head].link;
    d->stash_head = (d->stash_head + 1) % RUM_TRANSPORT_BURST;
    d->stash_count--;
  }
  if (n < max) n += rx_poll(d, out + n, link_of + n, max - n);
  rte_spinlock_unlock(&d->rx_lock);
  return n;
}

static int dpdk_recv(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max) {
  struct rum_dpdk_transport *d = (struct rum_dpdk_transport *)t;
  if (max > RUM_TRANSPORT_BURST) max = RUM_TRANSPORT_BURST;
  unsigned got = 0;
  uint64_t now = 0;
  for (unsigned round = 0; round < RX_ROUNDS && got == 0; round++) {
    struct rte_mbuf *mbufs[RUM_TRANSPORT_BURST];
    unsigned link_of[RUM_TRANSPORT_BURST];
    unsigned n = rx_take(d, mbufs, link_of, max);
    if (n == 0) break;
    now = rum__now_ns();
    for (unsigned i = 0; i < n; i++) got += rx_one(d, link_of[i], mbufs[i], &frames[got], now);
  }
  if (got > 0) mark_activity(d, now);
  if (__builtin_expect(__atomic_load_n(&d->unannounced, __ATOMIC_RELAXED) != 0, 0))
    rum__dpdk_announce(d, now != 0 ? now : rum__now_ns());
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

/* Whether recv has something to do: a frame waiting (polled from the Rx queues into
 * the stash), or a link just came up and its announcement is due. Gives up at once
 * if recv holds the queues (it is receiving whatever there is). */
static bool rx_ready(struct rum_dpdk_transport *d) {
  if (rum__dpdk_announce_due(d)) return true;
  if (!rte_spinlock_trylock(&d->rx_lock)) return false;
  if (d->stash_count == 0) {
    struct rte_mbuf *mbufs[RUM_TRANSPORT_BURST];
    unsigned link_of[RUM_TRANSPORT_BURST];
    unsigned n = rx_poll(d, mbufs, link_of, RUM_TRANSPORT_BURST);
    for (unsigned i = 0; i < n; i++) d->stash[i] = (struct rum_dpdk_stashed){mbufs[i], link_of[i]};
    d->stash_head = 0;
    d->stash_count = n;
  }
  bool ready = d->stash_count > 0;
  rte_spinlock_unlock(&d->rx_lock);
  return ready;
}

static int dpdk_wait(struct rum_transport *t, int64_t timeout_ns) {
  struct rum_dpdk_transport *d = (struct rum_dpdk_transport *)t;
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
  struct rum_dpdk_transport *d = (struct rum_dpdk_transport *)t;
  if (d == NULL) return;
  while (d->stash_count > 0) {
    rte_pktmbuf_free(d->stash[d->stash_head].m);
    d->stash_head = (d->stash_head + 1) % RUM_TRANSPORT_BURST;
    d->stash_count--;
  }
  rum__dpdk_arp_clear(&d->arp);
  const struct rum_dpdk_stats *s = &d->stats;
  RUM_LOG_I("dpdk transport %s%s: rx %llu frames (%llu ignored, %llu bad), tx %llu frames "
            "(%llu dropped, %llu held for ARP)",
            d->links[0].port.name, d->nlinks > 1 ? " and more" : "",
            (unsigned long long)s->rx_frames, (unsigned long long)s->rx_ignored,
            (unsigned long long)(s->rx_bad_length + s->rx_bad_header + s->rx_bad_checksum),
            (unsigned long long)s->tx_frames, (unsigned long long)s->tx_dropped,
            (unsigned long long)s->tx_held);
  for (unsigned l = 0; l < d->nlinks; l++) rum__dpdk_port_close(&d->links[l].port);
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
  const struct rum_dpdk_transport *d = (const struct rum_dpdk_transport *)t;
  *out = d->stats;
  out->nports = d->nlinks;
  return 0;
}

static void log_opened(const struct rum_dpdk_transport *d) {
  const uint8_t *ip = (const uint8_t *)&d->ipv4;
  char names[256];
  size_t used = 0;
  names[0] = '\0';
  for (unsigned l = 0; l < d->nlinks && used < sizeof names; l++) {
    const struct rum_dpdk_port *p = &d->links[l].port;
    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s (%s, %02x:%02x:%02x:%02x:%02x:%02x)",
                             l ? ", " : "", p->name, p->driver, p->mac[0], p->mac[1], p->mac[2],
                             p->mac[3], p->mac[4], p->mac[5]);
  }
  RUM_LOG_I("dpdk transport %u.%u.%u.%u:%u, mtu %u, on %u port(s): %s", ip[0], ip[1], ip[2], ip[3],
            d->udp_port, d->base.mtu, d->nlinks, names);
}

int rum__dpdk_open(const struct rum_transport_config *cfg, struct rum_transport **out) {
  *out = NULL;
  const char *args = cfg->dpdk_args != NULL ? cfg->dpdk_args : getenv("RUM_DPDK_ARGS");
  struct rum_dpdk_transport *d = calloc(1, sizeof *d);
  if (d == NULL) return RUM_ENOMEM;
  struct rum_dpdk_port ports[RUM_DPDK_MAX_PORTS];
  uint32_t arg_ipv4 = 0;
  /* Without an address there is nothing to open a port for; checked before the EAL
   * when the arguments cannot supply one either. */
  if (cfg->bind_ipv4 == 0 && (args == NULL || strstr(args, "ip=") == NULL)) {
    RUM_LOG_E("dpdk transport: needs the IPv4 address to use (bind_ipv4, or ip=A.B.C.D in the "
              "DPDK arguments): it builds its own IPv4 headers and answers ARP for that address");
    free(d);
    return RUM_EINVAL;
  }
  int rc = rum__dpdk_ports_open(args, cfg->mtu, ports, &d->nlinks, &arg_ipv4);
  if (rc != 0) {
    free(d);
    return rc;
  }
  /* ip= describes these ports, so it wins over the caller's address, which may be a
   * guess meant for the kernel's udp (librum binds loopback when every node is). */
  d->ipv4 = arg_ipv4 != 0 ? arg_ipv4 : cfg->bind_ipv4;
  if (arg_ipv4 != 0 && cfg->bind_ipv4 != 0 && arg_ipv4 != cfg->bind_ipv4) {
    const uint8_t *a = (const uint8_t *)&arg_ipv4, *b = (const uint8_t *)&cfg->bind_ipv4;
    RUM_LOG_I("dpdk transport: using ip=%u.%u.%u.%u of the DPDK arguments, not %u.%u.%u.%u", a[0],
              a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
  }
  if (d->ipv4 == 0) {
    RUM_LOG_E("dpdk transport: needs the IPv4 address to use (bind_ipv4, or ip=A.B.C.D in the "
              "DPDK arguments)");
    for (unsigned l = 0; l < d->nlinks; l++) rum__dpdk_port_close(&ports[l]);
    free(d);
    return RUM_EINVAL;
  }
  uint32_t link_mtu = UINT32_MAX;
  for (unsigned l = 0; l < d->nlinks; l++) {
    d->links[l].port = ports[l];
    if (ports[l].link_mtu < link_mtu) link_mtu = ports[l].link_mtu;
  }
  rte_spinlock_init(&d->rx_lock);
  rum__dpdk_arp_init(&d->arp, rum__dpdk_drop_held_mbuf, d);
  /* The ports are ours alone, so any UDP port is free; 0 picks one from the dynamic
   * range, different per process so a restarted client is told apart. */
  d->udp_port = cfg->bind_port != 0
      ? cfg->bind_port
      : (uint16_t)(EPHEMERAL_PORT_FIRST +
                   (uint64_t)(getpid() ^ (int)rum__now_ns()) % EPHEMERAL_PORT_COUNT);
  d->base.ops = &dpdk_ops;
  d->base.mtu = link_mtu - RUM_DPDK_IP_UDP_OVERHEAD;
  d->base.local.ipv4 = d->ipv4;
  d->base.local.port = d->udp_port;
  d->base.local.has_mac = true;
  memcpy(d->base.local.mac, d->links[0].port.mac, RUM_DPDK_MAC_LEN);
  uint64_t now = rum__now_ns();
  mark_activity(d, now);
  d->unannounced = d->nlinks;
  for (unsigned l = 0; l < d->nlinks; l++) d->links[l].announce_ns = now - RUM_DPDK_ANNOUNCE_RETRY_NS;
  rum__dpdk_announce(d, now);
  log_opened(d);
  *out = &d->base;
  return 0;
}
