/* The administration API (include/rum/rum_admin.h): STAT and REGIONS requests to
 * memory nodes through an endpoint of its own, independent of rum_init(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rum/rum_admin.h>

#include "cluster/machines.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "util/clock.h"
#include "util/log.h"

struct rum_admin {
  struct rum_machines machines;
  bool keyed;
  struct rum_wire_key key;
  struct rum_transport *transport;
  struct rum_rpc *rpc;
  uint8_t buffer[RUM_WIRE_MAX_MSG];
};

static const char *const request_names[RUM_ADMIN_REQUEST_TYPES] = {
    [RUM_MSG_HELLO] = "hello", [RUM_MSG_ALLOC] = "alloc",   [RUM_MSG_FREE] = "free",
    [RUM_MSG_READ] = "read",   [RUM_MSG_WRITE] = "write",   [RUM_MSG_STAT] = "stat",
    [RUM_MSG_HEARTBEAT] = "heartbeat", [RUM_MSG_ATTACH] = "attach", [RUM_MSG_RESIZE] = "resize",
    [RUM_MSG_COPY] = "copy",   [RUM_MSG_REGIONS] = "regions", [RUM_MSG_PING] = "ping",
    [RUM_MSG_DISCARD] = "discard", [RUM_MSG_PAXOS] = "paxos",
};
_Static_assert(RUM_ADMIN_REQUEST_TYPES == RUM_MSG_TYPE_MAX + 1, "request counters");

const char *rum_admin_request_name(int type) {
  if (type < 0 || type >= RUM_ADMIN_REQUEST_TYPES) return NULL;
  return request_names[type];
}

int rum_admin_open(const char *machines_csv, struct rum_admin **out, char *err, size_t errlen) {
  char scratch[RUM_MACHINES_ERR_MAX];
  if (err == NULL) {
    err = scratch;
    errlen = sizeof scratch;
  }
  err[0] = '\0';
  *out = NULL;
  if (machines_csv == NULL) machines_csv = getenv("RUM_MACHINES");
  if (machines_csv == NULL || machines_csv[0] == '\0') machines_csv = "machines.csv";
  struct rum_admin *a = calloc(1, sizeof *a);
  if (a == NULL) return RUM_ENOMEM;
  int rc = rum__machines_load(machines_csv, &a->machines, err, errlen);
  if (rc != 0) goto fail;
  if (a->machines.key_file[0] != '\0') {
    uint8_t raw[RUM_WIRE_KEY_SIZE];
    rc = rum__machines_load_key(a->machines.key_file, raw, err, errlen);
    if (rc != 0) goto fail;
    rum__wire_key_init(&a->key, raw);
    explicit_bzero(raw, sizeof raw);
    a->keyed = true;
  }
  struct rum_transport_config tcfg = {.kind = a->machines.transport[0] ? a->machines.transport : NULL,
                                      .mtu = a->machines.mtu};
  rc = rum__transport_open(&tcfg, &a->transport);
  if (rc != 0) goto fail;
  uint64_t session = 0;
  if (getrandom(&session, sizeof session, 0) != sizeof session) session = rum__now_ns();
  struct rum_rpc_config rcfg = {.self_id = 0xffff0000u, .session = session | 1,
                                .key = a->keyed ? &a->key : NULL};
  rc = rum__rpc_create(a->transport, &rcfg, &a->rpc);
  if (rc != 0) goto fail;
  *out = a;
  return 0;
fail:
  rum_admin_close(a);
  return rc;
}

void rum_admin_close(struct rum_admin *a) {
  if (a == NULL) return;
  rum__rpc_destroy(a->rpc);
  rum__transport_destroy(a->transport);
  rum__wire_key_wipe(&a->key);
  free(a);
}

int rum_admin_node_count(const struct rum_admin *a) { return (int)a->machines.nnodes; }

int rum_admin_node_id(const struct rum_admin *a, int index, uint32_t *id) {
  if (index < 0 || (unsigned)index >= a->machines.nnodes) return RUM_EINVAL;
  *id = a->machines.nodes[index].id;
  return 0;
}

int rum_admin_node_address(const struct rum_admin *a, uint32_t id, char *host, size_t hostlen,
                           uint16_t *port) {
  const struct rum_node_info *n = rum__machines_find(&a->machines, id);
  if (n == NULL) return RUM_ENOENT;
  if (host != NULL && hostlen > 0) snprintf(host, hostlen, "%s", n->host);
  if (port != NULL) *port = n->port;
  return 0;
}

/* One request to a node, the response into a->buffer. */
static int admin_call(struct rum_admin *a, uint32_t node_id, uint8_t type, const void *req, size_t len,
                      int timeout_ms, uint32_t *resp_len) {
  const struct rum_node_info *n = rum__machines_find(&a->machines, node_id);
  if (n == NULL) return RUM_ENOENT;
  struct rum_rpc_call call;
  memset(&call, 0, sizeof call);
  call.to.ipv4 = n->ipv4;
  call.to.port = n->port;
  call.to.has_mac = n->has_mac;
  memcpy(call.to.mac, n->mac, sizeof call.to.mac);
  call.type = type;
  call.req_iovcnt = len ? 1 : 0;
  call.req[0].iov_base = (void *)req;
  call.req[0].iov_len = len;
  call.resp_iovcnt = 1;
  call.resp[0].iov_base = a->buffer;
  call.resp[0].iov_len = sizeof a->buffer;
  call.timeout_ms = timeout_ms > 0 ? (uint32_t)timeout_ms : 1000;
  int rc = rum__rpc_call(a->rpc, &call, 1);
  if (rc != 0) {
    RUM_LOG_D("admin: node %u: %s %s", node_id, rum_strerror(rc), call.errtext);
    return rc;
  }
  *resp_len = call.resp_len;
  return 0;
}

int rum_admin_stat(struct rum_admin *a, uint32_t node_id, int timeout_ms, struct rum_node_status *out) {
  memset(out, 0, sizeof *out);
  const struct rum_node_info *n = rum__machines_find(&a->machines, node_id);
  if (n == NULL) return RUM_ENOENT;
  out->id = node_id;
  _Static_assert(sizeof out->host == sizeof n->host, "host fits");
  memcpy(out->host, n->host, sizeof out->host);
  out->port = n->port;
  uint32_t len = 0;
  int rc = admin_call(a, node_id, RUM_MSG_STAT, NULL, 0, timeout_ms, &len);
  if (rc != 0) return rc;
  static __thread struct rum_msg_stat_resp m;
  if (rum__wire_decode_stat_resp(a->buffer, len, &m) != 0) return RUM_EPROTO;
  out->incarnation = m.incarnation;
  out->uptime_ms = m.uptime_ms;
  out->memory_limit = m.memory_limit;
  out->memory_used = m.memory_used;
  out->regions = m.regions;
  out->named_regions = m.named_regions;
  out->clients = m.clients;
  memcpy(out->requests, m.requests, sizeof out->requests);
  out->bytes_in = m.bytes_in;
  out->bytes_out = m.bytes_out;
  out->retransmits = m.retransmits;
  out->drops = m.drops;
  out->auth_drops = m.auth_drops;
  out->reclaims = m.reclaims;
  out->errors = m.errors;
  out->access_denied = m.access_denied;
  out->no_region = m.no_region;
  out->out_of_range = m.out_of_range;
  out->oversized = m.oversized;
  out->quota_denied = m.quota_denied;
  out->npeers = m.npeers < RUM_ADMIN_MAX_PEERS ? m.npeers : RUM_ADMIN_MAX_PEERS;
  for (uint32_t i = 0; i < out->npeers; i++) {
    out->peers[i].id = m.peers[i].node_id;
    out->peers[i].up = m.peers[i].up;
    out->peers[i].last_heard_ms = m.peers[i].last_heard_ms;
  }
  return 0;
}

int rum_admin_regions(struct rum_admin *a, uint32_t node_id, int named_only, int timeout_ms,
                      struct rum_region_info *out, size_t max, size_t *total) {
  size_t written = 0;
  uint32_t start = 0;
  static __thread struct rum_msg_regions_resp m;
  *total = 0;
  for (;;) {
    struct rum_msg_regions_req req = {.flags = named_only ? RUM_REGION_F_NAMED : 0, .start = start};
    uint8_t buf[32];
    int len = rum__wire_encode_regions_req(buf, sizeof buf, &req);
    if (len < 0) return len;
    uint32_t resp_len = 0;
    int rc = admin_call(a, node_id, RUM_MSG_REGIONS, buf, (size_t)len, timeout_ms, &resp_len);
    if (rc != 0) return rc;
    if (rum__wire_decode_regions_resp(a->buffer, resp_len, &m) != 0) return RUM_EPROTO;
    *total = m.total;
    for (uint32_t i = 0; i < m.count && written < max; i++) {
      struct rum_region_info *r = &out[written++];
      memset(r, 0, sizeof *r);
      r->region_id = m.entries[i].region_id;
      r->size = m.entries[i].size;
      r->bytes_stored = m.entries[i].bytes_stored;
      r->owner_session = m.entries[i].owner_session;
      r->owner_id = m.entries[i].owner_id;
      r->named = (m.entries[i].flags & RUM_REGION_F_NAMED) != 0;
      r->pinned = (m.entries[i].flags & RUM_REGION_F_PINNED) != 0;
      memcpy(r->name, m.entries[i].name, m.entries[i].name_len);
      r->name[m.entries[i].name_len] = '\0';
    }
    start += m.count;
    if (m.count == 0 || start >= m.total || written >= max) break;
  }
  return (int)written;
}
