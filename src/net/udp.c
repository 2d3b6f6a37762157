/* The udp transport: kernel UDP sockets, batched with sendmmsg/recvmmsg. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "net/transport.h"
#include "proto/wire.h"
#include "util/log.h"

enum {
  UDP_LOOPBACK_MTU = 65000,   /* loopback carries 64 KiB datagrams without fragments */
  UDP_ETHERNET_MTU = 1472,    /* 1500 - IPv4 (20) - UDP (8) */
  UDP_SOCKET_BUFFER = 16 << 20,
  UDP_RX_BUFFER = RUM_WIRE_MAX_FRAME + 1, /* +1 detects truncation */
};

struct udp_transport {
  struct rum_transport base;
  int fd;
  unsigned outstanding; /* received frames not yet released */
  uint8_t *rx_buffers;  /* RUM_TRANSPORT_BURST * UDP_RX_BUFFER */
  struct mmsghdr rx_msgs[RUM_TRANSPORT_BURST];
  struct iovec rx_iov[RUM_TRANSPORT_BURST];
  struct sockaddr_in rx_from[RUM_TRANSPORT_BURST];
  struct mmsghdr tx_msgs[RUM_TRANSPORT_BURST];
  struct sockaddr_in tx_to[RUM_TRANSPORT_BURST];
};

static int udp_send(struct rum_transport *t, const struct rum_tx_frame *frames, unsigned n) {
  struct udp_transport *u = (struct udp_transport *)t;
  unsigned sent = 0;
  while (sent < n) {
    unsigned batch = n - sent < RUM_TRANSPORT_BURST ? n - sent : RUM_TRANSPORT_BURST;
    for (unsigned i = 0; i < batch; i++) {
      const struct rum_tx_frame *f = &frames[sent + i];
      struct sockaddr_in *to = &u->tx_to[i];
      memset(to, 0, sizeof *to);
      to->sin_family = AF_INET;
      to->sin_addr.s_addr = f->to.ipv4;
      to->sin_port = htons(f->to.port);
      memset(&u->tx_msgs[i], 0, sizeof u->tx_msgs[i]);
      u->tx_msgs[i].msg_hdr.msg_name = to;
      u->tx_msgs[i].msg_hdr.msg_namelen = sizeof *to;
      u->tx_msgs[i].msg_hdr.msg_iov = (struct iovec *)f->iov;
      u->tx_msgs[i].msg_hdr.msg_iovlen = (size_t)f->iovcnt;
    }
    int rc = sendmmsg(u->fd, u->tx_msgs, batch, MSG_DONTWAIT);
    if (rc < 0) {
      if (errno == EINTR) continue;
      /* Full socket buffer or an ICMP error from an earlier datagram (ECONNREFUSED
       * from a dead peer): the frames count as lost and the RPC layer retransmits.
       * Skip the first frame so one bad destination cannot block the rest. */
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return (int)sent;
      sent++;
      continue;
    }
    sent += (unsigned)rc;
    if ((unsigned)rc < batch) break;
  }
  return (int)sent;
}

static int udp_recv(struct rum_transport *t, struct rum_rx_frame *frames, unsigned max) {
  struct udp_transport *u = (struct udp_transport *)t;
  if (u->outstanding != 0) {
    RUM_LOG_E("udp transport: recv called before the previous frames were released");
    return RUM_EINVAL;
  }
  if (max > RUM_TRANSPORT_BURST) max = RUM_TRANSPORT_BURST;
  for (unsigned i = 0; i < max; i++) {
    u->rx_iov[i].iov_base = u->rx_buffers + (size_t)i * UDP_RX_BUFFER;
    u->rx_iov[i].iov_len = UDP_RX_BUFFER;
    memset(&u->rx_msgs[i], 0, sizeof u->rx_msgs[i]);
    u->rx_msgs[i].msg_hdr.msg_iov = &u->rx_iov[i];
    u->rx_msgs[i].msg_hdr.msg_iovlen = 1;
    u->rx_msgs[i].msg_hdr.msg_name = &u->rx_from[i];
    u->rx_msgs[i].msg_hdr.msg_namelen = sizeof u->rx_from[i];
  }
  int rc;
  do {
    rc = recvmmsg(u->fd, u->rx_msgs, max, MSG_DONTWAIT, NULL);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    /* ECONNREFUSED reports an ICMP error for an earlier send: not a received frame. */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) return 0;
    return -errno;
  }
  unsigned n = 0;
  for (int i = 0; i < rc; i++) {
    if (u->rx_msgs[i].msg_len >= UDP_RX_BUFFER || (u->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
      continue; /* larger than any valid frame */
    frames[n].data = u->rx_iov[i].iov_base;
    frames[n].len = u->rx_msgs[i].msg_len;
    memset(&frames[n].from, 0, sizeof frames[n].from);
    frames[n].from.ipv4 = u->rx_from[i].sin_addr.s_addr;
    frames[n].from.port = ntohs(u->rx_from[i].sin_port);
    frames[n].cookie = (uintptr_t)i;
    n++;
  }
  u->outstanding = n;
  return (int)n;
}

static void udp_release(struct rum_transport *t, struct rum_rx_frame *frames, unsigned n) {
  struct udp_transport *u = (struct udp_transport *)t;
  (void)frames;
  u->outstanding = n >= u->outstanding ? 0 : u->outstanding - n;
}

static int udp_wait(struct rum_transport *t, int64_t timeout_ns) {
  struct udp_transport *u = (struct udp_transport *)t;
  struct pollfd pfd = {.fd = u->fd, .events = POLLIN};
  struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
  if (timeout_ns < 0) ts.tv_sec = ts.tv_nsec = 0;
  int rc = ppoll(&pfd, 1, &ts, NULL);
  if (rc < 0) return errno == EINTR ? 1 : -errno;
  return rc > 0 ? 1 : 0;
}

static void udp_destroy(struct rum_transport *t) {
  struct udp_transport *u = (struct udp_transport *)t;
  if (u == NULL) return;
  if (u->fd >= 0) close(u->fd);
  free(u->rx_buffers);
  free(u);
}

static const struct rum_transport_ops udp_ops = {
    .name = "udp",
    .send = udp_send,
    .recv = udp_recv,
    .release = udp_release,
    .wait = udp_wait,
    .destroy = udp_destroy,
};

static void udp_grow_buffer(int fd, int option, int force_option) {
  int size = UDP_SOCKET_BUFFER;
  /* The FORCE variants pass rmem_max/wmem_max as root; without root the kernel caps. */
  if (setsockopt(fd, SOL_SOCKET, force_option, &size, sizeof size) != 0)
    (void)setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
}

int rum__udp_open(const struct rum_transport_config *cfg, struct rum_transport **out) {
  *out = NULL;
  struct udp_transport *u = calloc(1, sizeof *u);
  if (u == NULL) return RUM_ENOMEM;
  u->fd = -1;
  u->rx_buffers = malloc((size_t)RUM_TRANSPORT_BURST * UDP_RX_BUFFER);
  if (u->rx_buffers == NULL) {
    udp_destroy(&u->base);
    return RUM_ENOMEM;
  }
  u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (u->fd < 0) {
    int err = -errno;
    udp_destroy(&u->base);
    return err;
  }
  udp_grow_buffer(u->fd, SO_RCVBUF, SO_RCVBUFFORCE);
  udp_grow_buffer(u->fd, SO_SNDBUF, SO_SNDBUFFORCE);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = cfg->bind_ipv4,
                             .sin_port = htons(cfg->bind_port)};
  if (bind(u->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = -errno;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
    RUM_LOG_E("udp transport: cannot bind %s:%u: %s", text, cfg->bind_port, strerror(-err));
    udp_destroy(&u->base);
    return err;
  }
  socklen_t len = sizeof addr;
  if (getsockname(u->fd, (struct sockaddr *)&addr, &len) != 0) {
    int err = -errno;
    udp_destroy(&u->base);
    return err;
  }
  u->base.ops = &udp_ops;
  u->base.local.ipv4 = addr.sin_addr.s_addr;
  u->base.local.port = ntohs(addr.sin_port);
  bool loopback = (ntohl(cfg->bind_ipv4) >> 24) == 127;
  uint32_t mtu = cfg->mtu ? cfg->mtu : (loopback ? UDP_LOOPBACK_MTU : UDP_ETHERNET_MTU);
  if (mtu < RUM_WIRE_MIN_MTU || mtu > RUM_WIRE_MAX_FRAME) {
    RUM_LOG_E("udp transport: mtu %u out of range %d..%d", mtu, RUM_WIRE_MIN_MTU, RUM_WIRE_MAX_FRAME);
    udp_destroy(&u->base);
    return RUM_EINVAL;
  }
  u->base.mtu = mtu;
  *out = &u->base;
  return 0;
}
