/* Opening the client's network side: machines.csv, the cluster key, the transport,
 * one RPC endpoint, HELLO to every node, the ring. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "client/remote.h"
#include "util/log.h"

static uint64_t random_u64(void) {
  uint64_t v = 0;
  while (getrandom(&v, sizeof v, 0) != sizeof v) {
  }
  return v;
}

static const char *machines_path(const char *path) {
  if (path != NULL && path[0] != '\0') return path;
  const char *env = getenv("RUM_MACHINES");
  if (env != NULL && env[0] != '\0') return env;
  return "machines.csv";
}

static int load_config(struct rum_net *net, const char *path) {
  char err[RUM_MACHINES_ERR_MAX];
  int rc = rum__machines_load(path, &net->machines, err, sizeof err);
  if (rc != 0) {
    RUM_LOG_E("rum_init: %s", err);
    return rc == RUM_ENOENT ? RUM_ECONFIG : rc;
  }
  if (net->machines.nnodes == 0) {
    RUM_LOG_E("rum_init: %s lists no memory nodes", path);
    return RUM_ECONFIG;
  }
  if (net->machines.key_file[0] != '\0') {
    uint8_t raw[RUM_WIRE_KEY_SIZE];
    rc = rum__machines_load_key(net->machines.key_file, raw, err, sizeof err);
    if (rc != 0) {
      RUM_LOG_E("rum_init: cluster key: %s", err);
      explicit_bzero(raw, sizeof raw);
      return RUM_ECONFIG;
    }
    rum__wire_key_init(&net->key, raw);
    explicit_bzero(raw, sizeof raw);
    net->has_key = true;
  }
  for (unsigned i = 0; i < net->machines.nnodes; i++) {
    const struct rum_node_info *ni = &net->machines.nodes[i];
    struct rum_net_node *node = &net->nodes[i];
    node->id = ni->id;
    node->addr = (struct rum_peer_addr){.ipv4 = ni->ipv4, .port = ni->port, .has_mac = ni->has_mac};
    memcpy(node->addr.mac, ni->mac, 6);
    net->index_of[ni->id] = (uint8_t)(i + 1);
  }
  net->nnodes = net->machines.nnodes;
  return 0;
}

static bool all_loopback(const struct rum_net *net) {
  for (unsigned i = 0; i < net->nnodes; i++)
    if ((ntohl(net->nodes[i].addr.ipv4) >> 24) != 127) return false;
  return net->nnodes > 0;
}

/* HELLO every node at once; the ones that answer are up. */
static int hello_all(struct rum_net *net) {
  struct rum_rpc_call *calls = calloc(net->nnodes, sizeof(*calls));
  uint8_t(*resp)[64] = calloc(net->nnodes, 64);
  uint8_t req[32];
  if (calls == NULL || resp == NULL) {
    free(calls);
    free(resp);
    return RUM_ENOMEM;
  }
  struct rum_msg_hello_req m = {.proto_version = RUM_WIRE_VERSION, .flags = RUM_HELLO_F_CLIENT,
                                .mtu = net->transport->mtu, .lease_ms = net->machines.lease_ms};
  int len = rum__wire_encode_hello_req(req, sizeof req, &m);
  for (unsigned i = 0; i < net->nnodes; i++) {
    calls[i].to = net->nodes[i].addr;
    calls[i].type = RUM_MSG_HELLO;
    calls[i].req_iovcnt = 1;
    calls[i].req[0] = (struct iovec){req, (size_t)len};
    calls[i].resp_iovcnt = 1;
    calls[i].resp[0] = (struct iovec){resp[i], 64};
  }
  rum__rpc_call(net->rpc, calls, net->nnodes);
  unsigned up = 0;
  for (unsigned i = 0; i < net->nnodes; i++) {
    struct rum_net_node *node = &net->nodes[i];
    struct rum_msg_hello_resp r;
    if (calls[i].status != 0) {
      RUM_LOG_W("node %u (%s:%u) did not answer HELLO: %s %s", node->id, net->machines.nodes[i].host,
                node->addr.port, rum_strerror(calls[i].status), calls[i].errtext);
      continue;
    }
    if (rum__wire_decode_hello_resp(resp[i], calls[i].resp_len, &r) != 0 || r.page_size != RUM_PAGE_SIZE) {
      RUM_LOG_W("node %u answered HELLO with something unexpected; not used", node->id);
      continue;
    }
    node->up = true;
    node->lease_ms = r.lease_ms;
    node->incarnation = r.incarnation;
    up++;
  }
  free(calls);
  free(resp);
  if (up == 0) {
    RUM_LOG_E("rum_init: none of the %u memory node(s) answered; is rumd running? (RUM_MACHINES)",
              net->nnodes);
    return RUM_ETIMEDOUT;
  }
  if (up < net->nnodes)
    RUM_LOG_W("rum_init: %u of %u memory nodes answered; pages homed on the others cannot be served",
              up, net->nnodes);
  return 0;
}

int rum__net_open(const char *path_arg, struct rum_net **out) {
  struct rum_net *net = calloc(1, sizeof(*net));
  if (net == NULL) return RUM_ENOMEM;
  const char *path = machines_path(path_arg);
  int rc = load_config(net, path);
  if (rc != 0) goto err;
  void *st = mmap(NULL, sizeof(struct rum_net_staging) * RUM_NET_STAGING, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (st == MAP_FAILED) {
    rc = RUM_ENOMEM;
    goto err;
  }
  net->staging = st;
  void *ops = mmap(NULL, sizeof(struct rum_fetch_op) * RUM_NET_FETCH_OPS, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ops == MAP_FAILED) {
    rc = RUM_ENOMEM;
    goto err;
  }
  net->fetch_ops = ops;
  struct rum_transport_config tc = {
      .kind = net->machines.transport[0] != '\0' && getenv("RUM_TRANSPORT") == NULL ? net->machines.transport : NULL,
      .mtu = net->machines.mtu,
  };
  /* A cluster on this host: bind to loopback, so that the udp transport uses 64 KiB
   * frames as the nodes do. Bound to "any" it took the Ethernet size, and a 64-page
   * write-back went out as 178 frames instead of 5 (0.2 GB/s of write-back). */
  if (all_loopback(net)) tc.bind_ipv4 = htonl(INADDR_LOOPBACK);
  rc = rum__transport_open(&tc, &net->transport);
  if (rc != 0) {
    RUM_LOG_E("rum_init: cannot open the transport: %s", rum_strerror(rc));
    goto err;
  }
  net->self_id = (uint32_t)(0x10000u + random_u64() % (0xffffffffu - 0x10000u));
  do net->session = random_u64();
  while (net->session == 0);
  const char *timeout = getenv("RUM_TIMEOUT_MS");
  struct rum_rpc_config rc_cfg = {
      .self_id = net->self_id,
      .session = net->session,
      .key = net->has_key ? &net->key : NULL,
      .timeout_ms = timeout != NULL ? (uint32_t)strtoul(timeout, NULL, 10) : 0,
  };
  rc = rum__rpc_create(net->transport, &rc_cfg, &net->rpc);
  if (rc != 0) goto err;
  rc = rum__ring_build(&net->machines, 0, &net->ring);
  if (rc != 0) goto err;
  if (net->machines.replication > 1) {
    rc = rum__groups_build(net->ring, net->machines.replication, &net->groups);
    if (rc != 0) goto err;
    net->leader_hint = calloc(rum__groups_count(net->groups), sizeof *net->leader_hint);
    if (net->leader_hint == NULL) {
      rc = RUM_ENOMEM;
      goto err;
    }
  }
  rc = hello_all(net);
  if (rc != 0) goto err;
  RUM_LOG_I("rum: client %u session %016llx, %u node(s) from %s", net->self_id,
            (unsigned long long)net->session, net->nnodes, path);
  *out = net;
  return 0;
err:
  rum__net_close(net);
  return rc;
}

void rum__net_close(struct rum_net *net) {
  if (net == NULL) return;
  rum__net_heartbeat_stop(net);
  if (net->rpc != NULL) rum__rpc_destroy(net->rpc);
  rum__transport_destroy(net->transport);
  free(net->leader_hint);
  rum__groups_destroy(net->groups);
  rum__ring_destroy(net->ring);
  if (net->staging != NULL) munmap(net->staging, sizeof(struct rum_net_staging) * RUM_NET_STAGING);
  if (net->fetch_ops != NULL) munmap(net->fetch_ops, sizeof(struct rum_fetch_op) * RUM_NET_FETCH_OPS);
  if (net->has_key) rum__wire_key_wipe(&net->key);
  free(net);
}
