#include "server/peers.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "util/clock.h"
#include "util/log.h"

struct peer {
  uint32_t id;
  struct rum_peer_addr addr;
  uint64_t last_heard_ms; /* 0 = never */
  bool reported_up;       /* the state last logged */
  uint8_t request[16];
  uint8_t response[32];
};

struct rum_peers {
  uint32_t self_id;
  uint32_t heartbeat_ms;
  uint64_t next_round_ms;
  unsigned npeers;
  struct peer peers[RUM_MAX_NODES];
  struct rum_rpc_call calls[RUM_MAX_NODES];
};

int rum__peers_create(const struct rum_machines *m, uint32_t self_id, uint32_t heartbeat_ms,
                      struct rum_peers **out) {
  struct rum_peers *p = calloc(1, sizeof *p);
  if (p == NULL) return RUM_ENOMEM;
  p->self_id = self_id;
  p->heartbeat_ms = heartbeat_ms ? heartbeat_ms : RUM_PEERS_DEFAULT_HEARTBEAT_MS;
  for (unsigned i = 0; i < m->nnodes; i++) {
    const struct rum_node_info *n = &m->nodes[i];
    if (n->id == self_id) continue;
    struct peer *peer = &p->peers[p->npeers++];
    peer->id = n->id;
    peer->addr.ipv4 = n->ipv4;
    peer->addr.port = n->port;
    peer->addr.has_mac = n->has_mac;
    memcpy(peer->addr.mac, n->mac, sizeof peer->addr.mac);
  }
  *out = p;
  return 0;
}

void rum__peers_destroy(struct rum_peers *p) { free(p); }

static struct peer *peer_find(const struct rum_peers *p, uint32_t id) {
  for (unsigned i = 0; i < p->npeers; i++) {
    if (p->peers[i].id == id) return (struct peer *)&p->peers[i];
  }
  return NULL;
}

void rum__peers_heard(struct rum_peers *p, uint32_t node_id, uint64_t now_ms) {
  struct peer *peer = peer_find(p, node_id);
  if (peer != NULL && now_ms >= peer->last_heard_ms) peer->last_heard_ms = now_ms ? now_ms : 1;
}

static bool peer_up(const struct rum_peers *p, const struct peer *peer, uint64_t now_ms) {
  return peer->last_heard_ms != 0 &&
         now_ms - peer->last_heard_ms <= (uint64_t)RUM_PEERS_DOWN_AFTER * p->heartbeat_ms;
}

bool rum__peers_up(const struct rum_peers *p, uint32_t node_id, uint64_t now_ms) {
  const struct peer *peer = peer_find(p, node_id);
  return peer != NULL && peer_up(p, peer, now_ms);
}

uint32_t rum__peers_report(const struct rum_peers *p, uint64_t now_ms, struct rum_msg_stat_resp *out) {
  uint32_t n = 0;
  for (unsigned i = 0; i < p->npeers && n < RUM_WIRE_MAX_NODES_LIST; i++, n++) {
    const struct peer *peer = &p->peers[i];
    out->peers[n].node_id = peer->id;
    out->peers[n].up = peer_up(p, peer, now_ms) ? 1 : 0;
    out->peers[n].last_heard_ms = peer->last_heard_ms ? now_ms - peer->last_heard_ms : UINT64_MAX;
  }
  out->npeers = n;
  return n;
}

int rum__peers_tick(struct rum_peers *p, struct rum_rpc *rpc, uint64_t now_ms) {
  if (p->npeers == 0 || now_ms < p->next_round_ms) return 0;
  p->next_round_ms = now_ms + p->heartbeat_ms;
  struct rum_msg_heartbeat_req hb = {.flags = RUM_HELLO_F_NODE};
  for (unsigned i = 0; i < p->npeers; i++) {
    struct peer *peer = &p->peers[i];
    struct rum_rpc_call *c = &p->calls[i];
    int len = rum__wire_encode_heartbeat_req(peer->request, sizeof peer->request, &hb);
    memset(c, 0, sizeof *c);
    c->to = peer->addr;
    c->type = RUM_MSG_HEARTBEAT;
    c->req_iovcnt = 1;
    c->req[0].iov_base = peer->request;
    c->req[0].iov_len = len > 0 ? (size_t)len : 0;
    c->resp_iovcnt = 1;
    c->resp[0].iov_base = peer->response;
    c->resp[0].iov_len = sizeof peer->response;
    c->timeout_ms = p->heartbeat_ms / 2 ? p->heartbeat_ms / 2 : 1;
  }
  (void)rum__rpc_call(rpc, p->calls, p->npeers);
  uint64_t done_ms = rum__now_ns() / 1000000;
  int answered = 0;
  for (unsigned i = 0; i < p->npeers; i++) {
    struct peer *peer = &p->peers[i];
    if (p->calls[i].status == 0) {
      rum__peers_heard(p, peer->id, done_ms);
      answered++;
    }
    bool up = peer_up(p, peer, done_ms);
    if (up != peer->reported_up) {
      if (up) RUM_LOG_I("peer node %u is up", peer->id);
      else RUM_LOG_W("peer node %u is down: not heard from for %u ms", peer->id,
                     RUM_PEERS_DOWN_AFTER * p->heartbeat_ms);
      peer->reported_up = up;
    }
  }
  return answered;
}
