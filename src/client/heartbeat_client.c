/* Client heartbeats: hold this client's leases.
 *
 * A node reclaims the leased regions of a client session it has not heard from for
 * the lease time, and an expired session is refused from then on. So a background
 * thread sends HEARTBEAT to every node that answered HELLO, every lease/3 (any other
 * request renews the lease too). A node that says the lease expired, or that has
 * restarted (new incarnation), no longer holds our regions there: those regions are
 * marked lost, so touching them stops the program with a message and calls on them
 * fail with RUM_ELEASE, instead of silently reading someone else's (or zero) memory. */
#include <string.h>

#include "client/remote.h"
#include "util/log.h"

int rum__net_heartbeat_round(struct rum_net *net) {
  struct rum_rpc_call calls[RUM_MAX_NODES];
  uint8_t req[RUM_MAX_NODES][16], resp[RUM_MAX_NODES][32];
  unsigned idx[RUM_MAX_NODES], n = 0;
  for (unsigned i = 0; i < net->nnodes; i++) {
    struct rum_net_node *node = &net->nodes[i];
    if (!node->up || atomic_load(&node->lease_lost)) continue;
    struct rum_msg_heartbeat_req m = {.flags = RUM_HELLO_F_CLIENT, .nregions = (uint32_t)atomic_load(&node->nregions)};
    int len = rum__wire_encode_heartbeat_req(req[n], sizeof req[n], &m);
    if (len < 0) continue;
    memset(&calls[n], 0, sizeof calls[n]);
    calls[n].to = node->addr;
    calls[n].type = RUM_MSG_HEARTBEAT;
    calls[n].req_iovcnt = 1;
    calls[n].req[0] = (struct iovec){req[n], (size_t)len};
    calls[n].resp_iovcnt = 1;
    calls[n].resp[0] = (struct iovec){resp[n], sizeof resp[n]};
    /* A heartbeat that does not get through in a third of the lease is late anyway. */
    calls[n].timeout_ms = node->lease_ms / 3 > 100 ? node->lease_ms / 3 : 100;
    idx[n++] = i;
  }
  if (n == 0) return 0;
  rum__rpc_call(net->rpc, calls, n);
  int expired = 0;
  for (unsigned k = 0; k < n; k++) {
    struct rum_net_node *node = &net->nodes[idx[k]];
    struct rum_msg_heartbeat_resp r;
    bool lost = false;
    if (calls[k].status == RUM_ELEASE) {
      lost = true;
    } else if (calls[k].status != 0) {
      RUM_LOG_D("heartbeat to node %u: %s", node->id, rum_strerror(calls[k].status));
      continue; /* unreachable for now; the lease may still hold */
    } else if (rum__wire_decode_heartbeat_resp(resp[k], calls[k].resp_len, &r) != 0) {
      continue;
    } else if (!r.lease_valid || (node->incarnation != 0 && r.incarnation != node->incarnation)) {
      lost = true;
    } else {
      node->lease_ms = r.lease_ms;
    }
    if (lost && !atomic_exchange(&node->lease_lost, 1)) {
      expired++;
      RUM_LOG_E("node %u: this client's lease expired or the node restarted; its regions there are gone",
                node->id);
      if (net->client != NULL) rum__client_mark_node_lost(net->client, node->id, rum__net_region_homes, net);
    }
  }
  return expired;
}

static void heartbeat_tick(void *arg) { rum__net_heartbeat_round(arg); }

int rum__net_heartbeat_start(struct rum_net *net) {
  uint32_t lease = 0;
  for (unsigned i = 0; i < net->nnodes; i++)
    if (net->nodes[i].up && (lease == 0 || net->nodes[i].lease_ms < lease)) lease = net->nodes[i].lease_ms;
  net->heartbeat_ms = lease / 3 > 10 ? lease / 3 : 10;
  /* The thread never touches grid memory, so nothing to mask. */
  int rc = rum__ticker_start(&net->heartbeat, net->heartbeat_ms, heartbeat_tick, net);
  if (rc != 0) return rc;
  RUM_LOG_D("heartbeats every %u ms", net->heartbeat_ms);
  return 0;
}

void rum__net_heartbeat_stop(struct rum_net *net) { rum__ticker_stop(&net->heartbeat); }
