/* Request handlers of the memory node (see handlers.h). One function per message
 * type; each decodes, checks, runs and encodes, and answers an ERROR that names what
 * was wrong for anything it refuses. */
#include "server/handlers.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "server/quota.h"
#include "util/clock.h"
#include "util/log.h"

_Static_assert((int)RUM_STORE_PAGE_SIZE == (int)RUM_PAGE_SIZE, "store and wire page sizes");
_Static_assert((int)RUM_STORE_MAX_BATCH >= (int)RUM_WIRE_MAX_PAGES, "a WRITE fits one store batch");
_Static_assert((int)RUM_STORE_NAME_MAX == (int)RUM_WIRE_NAME_MAX, "name limits");
_Static_assert((int)RUM_STORE_F_NAMED == (int)RUM_REGION_F_NAMED &&
                   (int)RUM_STORE_F_PINNED == (int)RUM_REGION_F_PINNED,
               "region flags");
_Static_assert(RUM_RPC_MAX_RESP_IOV >= RUM_WIRE_MAX_PAGES + 1, "a READ reply fits the iov");

enum {
  READ_COPY_BYTES = RUM_WIRE_READ_RESP_FIXED + RUM_WIRE_MAX_PAGES * RUM_PAGE_SIZE,
  /* A REGIONS reply: total, count, then entries of 42 bytes plus the name. */
  REGIONS_REPLY_BYTES = 8 + RUM_WIRE_MAX_REGIONS_LIST * (42 + RUM_WIRE_NAME_MAX),
};

struct rum_server {
  struct rum_server_config cfg;
  uint64_t start_ms;
  bool zero_copy_reads;
  struct rum_server_stats stats;
  struct rum_quota quota;
  struct rum_rpc_stats rpc_stats; /* as of the loop's last look */
  struct rum_msg_regions_resp regions_scratch; /* 9 KiB each: kept off the stack */
  struct rum_region_info list_scratch[RUM_WIRE_MAX_REGIONS_LIST];
  uint8_t *big;                   /* replies too large for reply->small */
  struct rum_replicated *repl;    /* NULL: R = 1 */
};

static uint64_t monotonic_ms(void *ctx) {
  (void)ctx;
  return rum__now_ns() / 1000000;
}

int rum__server_create(const struct rum_server_config *cfg, struct rum_server **out) {
  *out = NULL;
  if (cfg->store == NULL || cfg->leases == NULL) return RUM_EINVAL;
  struct rum_server *s = calloc(1, sizeof *s);
  if (s == NULL) return RUM_ENOMEM;
  s->cfg = *cfg;
  if (s->cfg.clock_ms == NULL) s->cfg.clock_ms = monotonic_ms;
  s->big = malloc(READ_COPY_BYTES > REGIONS_REPLY_BYTES ? READ_COPY_BYTES : REGIONS_REPLY_BYTES);
  if (s->big == NULL) {
    free(s);
    return RUM_ENOMEM;
  }
  s->start_ms = s->cfg.clock_ms(s->cfg.clock_ctx);
  s->quota = (struct rum_quota){.bytes = cfg->client_quota_bytes, .node_id = cfg->node_id};
  s->zero_copy_reads = true;
  *out = s;
  return 0;
}

void rum__server_destroy(struct rum_server *s) {
  if (s == NULL) return;
  free(s->big);
  free(s);
}

void rum__server_attach_rpc(struct rum_server *s, struct rum_rpc *rpc) {
  /* A frame gathers at most RUM_TX_MAX_IOV - 1 payload pieces. A frame's payload window
   * of W bytes over a reply cut into pages touches up to ceil(W / page) + 1 pages, plus
   * the reply's fixed part: when that is more pieces than a frame takes, the reply is
   * copied into one buffer instead (loopback's 64 KiB frames span 16 pages). */
  uint32_t window = rum__rpc_transport(rpc)->mtu - RUM_WIRE_HEADER_SIZE;
  uint32_t pieces = (window + RUM_PAGE_SIZE - 1) / RUM_PAGE_SIZE + 2;
  s->zero_copy_reads = pieces <= RUM_TX_MAX_IOV - 1;
  RUM_LOG_D("READ replies are %s (frames of %u payload bytes)",
            s->zero_copy_reads ? "zero-copy" : "copied into one buffer", window);
}

void rum__server_attach_replicated(struct rum_server *s, struct rum_replicated *rr) { s->repl = rr; }

void rum__server_set_rpc_stats(struct rum_server *s, const struct rum_rpc_stats *stats) {
  s->rpc_stats = *stats;
}

void rum__server_stats(const struct rum_server *s, struct rum_server_stats *out) { *out = s->stats; }

const char *rum__server_type_name(unsigned type) {
  static const char *const names[RUM_MSG_TYPE_MAX + 1] = {
      [RUM_MSG_HELLO] = "HELLO",   [RUM_MSG_ALLOC] = "ALLOC",   [RUM_MSG_FREE] = "FREE",
      [RUM_MSG_READ] = "READ",     [RUM_MSG_WRITE] = "WRITE",   [RUM_MSG_STAT] = "STAT",
      [RUM_MSG_HEARTBEAT] = "HEARTBEAT", [RUM_MSG_ERROR] = "ERROR", [RUM_MSG_ATTACH] = "ATTACH",
      [RUM_MSG_RESIZE] = "RESIZE", [RUM_MSG_COPY] = "COPY",     [RUM_MSG_REGIONS] = "REGIONS",
      [RUM_MSG_PING] = "PING",     [RUM_MSG_DISCARD] = "DISCARD", [RUM_MSG_PAXOS] = "PAXOS",
  };
  return type <= RUM_MSG_TYPE_MAX && names[type] != NULL ? names[type] : "?";
}

/* Encode a small reply with codec fn into reply->small. */
#define REPLY_SMALL(reply, type, fn, msg)                                              \
  do {                                                                                 \
    int n_ = fn((reply)->small, sizeof (reply)->small, (msg));                         \
    if (n_ < 0) {                                                                      \
      rum__rpc_reply_error((reply), RUM_EIO, "node could not encode its %s reply: %s", \
                           rum__server_type_name(type), rum_strerror(n_));             \
    } else {                                                                           \
      rum__rpc_reply_small((reply), (type), n_);                                       \
    }                                                                                  \
  } while (0)

static void reply_malformed(struct rum_server *s, const struct rum_rpc_request *req,
                            struct rum_rpc_reply *reply) {
  rum__ownership_malformed(&s->stats.access, req);
  rum__rpc_reply_error(reply, RUM_EPROTO, "malformed %s request (%u bytes)",
                       rum__server_type_name(req->type), req->len);
}

/* The request's session may use the region (ownership.h); else answered and counted. */
#define OWNED(s, req, id, what, info, reply) \
  rum__ownership_check((s)->cfg.store, &(s)->stats.access, (s)->cfg.node_id, (req), (id), (what), (info), (reply))

static void reply_no_region(struct rum_server *s, struct rum_rpc_reply *reply, uint64_t id) {
  rum__rpc_reply_error(reply, RUM_ENOENT, "no region %016llx on node %u", (unsigned long long)id,
                       s->cfg.node_id);
}

static void reply_full(struct rum_server *s, struct rum_rpc_reply *reply) {
  struct rum_page_store_stats st;
  rum__page_store_stats(s->cfg.store, &st);
  rum__rpc_reply_error(reply, RUM_ENOSPC,
                       "node %u is full: %llu of %llu bytes of pages used (raise its --memory-mb)",
                       s->cfg.node_id, (unsigned long long)st.memory_used,
                       (unsigned long long)st.memory_limit);
}

/* Common store failures. */
static void reply_store_error(struct rum_server *s, struct rum_rpc_reply *reply, int rc,
                              uint64_t id) {
  switch (rc) {
  case RUM_ENOENT: reply_no_region(s, reply, id); break;
  case RUM_ENOSPC: reply_full(s, reply); break;
  case RUM_ENOMEM:
    rum__rpc_reply_error(reply, RUM_ENOMEM, "node %u is out of host memory", s->cfg.node_id);
    break;
  default:
    rum__rpc_reply_error(reply, rc, "region %016llx: %s", (unsigned long long)id, rum_strerror(rc));
  }
}

static void on_hello(struct rum_server *s, const struct rum_rpc_request *req,
                     struct rum_rpc_reply *reply, uint64_t now) {
  struct rum_msg_hello_req m;
  if (rum__wire_decode_hello_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  if (m.proto_version != RUM_WIRE_VERSION) {
    rum__rpc_reply_error(reply, RUM_EPROTO, "protocol version %u not supported (node %u speaks %d)",
                         m.proto_version, s->cfg.node_id, RUM_WIRE_VERSION);
    return;
  }
  if ((m.flags & RUM_HELLO_F_NODE) && s->cfg.peers != NULL) rum__peers_heard(s->cfg.peers, req->sender, now);
  uint32_t granted = 0;
  int rc = rum__lease_hello(s->cfg.leases, req->sender, req->session, (m.flags & RUM_HELLO_F_NODE) != 0,
                            m.lease_ms, now, &granted);
  if (rc == RUM_ELEASE) {
    rum__rpc_reply_error(reply, RUM_ELEASE,
                         "lease of client %u session %016llx expired on node %u; start a new session",
                         req->sender, (unsigned long long)req->session, s->cfg.node_id);
    return;
  }
  if (rc != 0) {
    rum__rpc_reply_error(reply, rc, "node %u tracks too many client sessions", s->cfg.node_id);
    return;
  }
  struct rum_page_store_stats st;
  rum__page_store_stats(s->cfg.store, &st);
  struct rum_msg_hello_resp r = {
      .node_id = s->cfg.node_id, .page_size = RUM_PAGE_SIZE, .lease_ms = granted,
      .mtu = s->cfg.mtu, .incarnation = s->cfg.incarnation,
      .memory_limit = st.memory_limit, .memory_used = st.memory_used,
  };
  REPLY_SMALL(reply, RUM_MSG_HELLO, rum__wire_encode_hello_resp, &r);
}

static void on_alloc(struct rum_server *s, const struct rum_rpc_request *req,
                     struct rum_rpc_reply *reply) {
  struct rum_msg_alloc_req m;
  if (rum__wire_decode_alloc_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_store_alloc a = {
      .id = m.region_id, .size = m.size, .reserve = m.reserve, .flags = m.flags, .name = m.name,
      .name_len = m.name_len,
      .owner_id = req->sender, .owner_session = req->session,
  };
  struct rum_region_info old; /* an existing id: a retry or EEXIST, the store decides */
  if (rum__page_store_lookup(s->cfg.store, m.region_id, &old) != 0 &&
      !rum__quota_allows(&s->quota, s->cfg.store, &s->stats.access, req, NULL,
                         rum__quota_reserve_bytes(m.reserve, m.size), reply))
    return;
  int rc = rum__page_store_alloc(s->cfg.store, &a);
  if (rc == RUM_EEXIST) {
    if (m.flags & RUM_REGION_F_NAMED) {
      rum__rpc_reply_error(reply, RUM_EEXIST, "a region named '%.*s' exists already",
                           (int)m.name_len, m.name);
    } else {
      rum__rpc_reply_error(reply, RUM_EEXIST, "region %016llx exists already on node %u",
                           (unsigned long long)m.region_id, s->cfg.node_id);
    }
    return;
  }
  if (rc == RUM_ENOSPC) {
    rum__rpc_reply_error(reply, RUM_ENOSPC, "node %u holds as many regions as it can",
                         s->cfg.node_id);
    return;
  }
  if (rc < 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  if (rc == RUM_STORE_ALLOC_RETRIED)
    RUM_LOG_D("ALLOC of region %016llx retried by client %u", (unsigned long long)m.region_id, req->sender);
  struct rum_msg_alloc_resp r = {.region_id = m.region_id, .size = m.size};
  REPLY_SMALL(reply, RUM_MSG_ALLOC, rum__wire_encode_alloc_resp, &r);
}

static void on_free(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_msg_free_req m;
  if (rum__wire_decode_free_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info info;
  if (!OWNED(s, req, m.region_id, "free", &info, reply)) return;
  int rc = rum__page_store_free(s->cfg.store, m.region_id);
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  rum__rpc_reply_small(reply, RUM_MSG_FREE, 0);
}

static void on_read(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_msg_read_req m;
  if (rum__wire_decode_read_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info owned;
  if (!OWNED(s, req, m.region_id, "read", &owned, reply) ||
      !rum__ownership_pages(&s->stats.access, &owned, m.first_page, m.npages, reply))
    return;
  if (s->repl != NULL && rum__replicated_read_refused(s->repl, m.region_id, m.first_page, m.npages, reply))
    return;
  const uint8_t *pages[RUM_WIRE_MAX_PAGES];
  int rc = rum__page_store_read(s->cfg.store, m.region_id, m.first_page, m.npages, pages);
  if (rc == RUM_EINVAL) {
    struct rum_region_info info;
    uint64_t size = rum__page_store_lookup(s->cfg.store, m.region_id, &info) == 0 ? info.size : 0;
    rum__rpc_reply_error(reply, RUM_EINVAL,
                         "pages %llu..%llu are past the end of region %016llx (%llu bytes)",
                         (unsigned long long)m.first_page,
                         (unsigned long long)(m.first_page + m.npages - 1),
                         (unsigned long long)m.region_id, (unsigned long long)size);
    return;
  }
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  struct rum_msg_read_resp r = {.region_id = m.region_id, .first_page = m.first_page, .npages = m.npages};
  if (!s->zero_copy_reads) {
    int n = rum__wire_encode_read_resp_fixed(s->big, READ_COPY_BYTES, &r);
    if (n < 0) {
      rum__rpc_reply_error(reply, RUM_EIO, "node could not encode its READ reply");
      return;
    }
    for (uint32_t i = 0; i < m.npages; i++)
      memcpy(s->big + n + (size_t)i * RUM_PAGE_SIZE, pages[i], RUM_PAGE_SIZE);
    reply->type = RUM_MSG_READ;
    reply->iovcnt = 1;
    reply->iov[0].iov_base = s->big;
    reply->iov[0].iov_len = (size_t)n + (size_t)m.npages * RUM_PAGE_SIZE;
    s->stats.read_copies++;
    return;
  }
  REPLY_SMALL(reply, RUM_MSG_READ, rum__wire_encode_read_resp_fixed, &r);
  if (reply->type != RUM_MSG_READ) return;
  for (uint32_t i = 0; i < m.npages; i++) {
    reply->iov[1 + i].iov_base = (void *)pages[i]; /* sent, never written through */
    reply->iov[1 + i].iov_len = RUM_PAGE_SIZE;
  }
  reply->iovcnt = 1 + (int)m.npages;
}

static void on_write(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_msg_write_req m;
  if (rum__wire_decode_write_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info info;
  if (!OWNED(s, req, m.region_id, "write", &info, reply)) return;
  for (uint32_t i = 0; i < m.npages; i++)
    if (!rum__ownership_pages(&s->stats.access, &info, m.page_index[i], 1, reply)) return;
  if (!rum__quota_allows_write(&s->quota, s->cfg.store, &s->stats.access, req, &info, m.npages,
                               m.page_index, reply))
    return;
  if (s->repl != NULL) {
    rum__replicated_write(s->repl, req, &m, reply); /* answered once decided */
    return;
  }
  int rc = rum__page_store_write(s->cfg.store, m.region_id, m.npages, m.page_index, m.data);
  if (rc == RUM_EINVAL) {
    rum__rpc_reply_error(reply, RUM_EINVAL, "WRITE to region %016llx names a page past its end",
                         (unsigned long long)m.region_id);
    return;
  }
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  struct rum_msg_write_resp r = {.npages = m.npages};
  REPLY_SMALL(reply, RUM_MSG_WRITE, rum__wire_encode_write_resp, &r);
}

static void on_stat(struct rum_server *s, struct rum_rpc_reply *reply, uint64_t now) {
  struct rum_page_store_stats st;
  rum__page_store_stats(s->cfg.store, &st);
  struct rum_lease_stats ls;
  rum__lease_stats(s->cfg.leases, &ls);
  struct rum_msg_stat_resp r;
  memset(&r, 0, sizeof r);
  r.node_id = s->cfg.node_id;
  if (s->cfg.peers != NULL) rum__peers_report(s->cfg.peers, now, &r);
  r.incarnation = s->cfg.incarnation;
  r.uptime_ms = now - s->start_ms;
  r.memory_limit = st.memory_limit;
  r.memory_used = st.memory_used;
  r.regions = st.regions;
  r.named_regions = st.named_regions;
  r.clients = ls.clients;
  memcpy(r.requests, s->stats.requests, sizeof r.requests);
  r.bytes_in = s->rpc_stats.bytes_in;
  r.bytes_out = s->rpc_stats.bytes_out;
  r.retransmits = s->rpc_stats.duplicates;
  r.drops = s->rpc_stats.drops;
  r.auth_drops = s->rpc_stats.auth_drops;
  r.reclaims = ls.reclaimed_regions;
  r.errors = s->stats.errors_total;
  r.access_denied = s->stats.access.denied;
  r.no_region = s->stats.access.no_region;
  r.out_of_range = s->stats.access.out_of_range;
  r.oversized = s->stats.access.oversized;
  r.quota_denied = s->stats.access.quota;
  REPLY_SMALL(reply, RUM_MSG_STAT, rum__wire_encode_stat_resp, &r);
}

static void on_heartbeat(struct rum_server *s, const struct rum_rpc_request *req,
                         struct rum_rpc_reply *reply, uint64_t now) {
  struct rum_msg_heartbeat_req m;
  if (rum__wire_decode_heartbeat_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  if ((m.flags & RUM_HELLO_F_NODE) && s->cfg.peers != NULL) rum__peers_heard(s->cfg.peers, req->sender, now);
  uint32_t granted = 0;
  int rc = rum__lease_hello(s->cfg.leases, req->sender, req->session, (m.flags & RUM_HELLO_F_NODE) != 0,
                            0, now, &granted);
  if (rc != 0 && rc != RUM_ELEASE) {
    rum__rpc_reply_error(reply, rc, "node %u tracks too many client sessions", s->cfg.node_id);
    return;
  }
  /* An expired session learns it from lease_valid = 0 (the reply the message defines). */
  struct rum_msg_heartbeat_resp r = {
      .incarnation = s->cfg.incarnation,
      .lease_ms = rc == 0 ? granted : rum__lease_granted(s->cfg.leases, req->sender, req->session),
      .lease_valid = rc == 0,
  };
  REPLY_SMALL(reply, RUM_MSG_HEARTBEAT, rum__wire_encode_heartbeat_resp, &r);
}

static void on_attach(struct rum_server *s, const struct rum_rpc_request *req,
                      struct rum_rpc_reply *reply) {
  struct rum_msg_attach_req m;
  if (rum__wire_decode_attach_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info info;
  if (rum__page_store_lookup_name(s->cfg.store, m.name, m.name_len, &info) != 0) {
    rum__rpc_reply_error(reply, RUM_ENOENT, "no region named '%.*s' on node %u", (int)m.name_len,
                         m.name, s->cfg.node_id);
    return;
  }
  struct rum_msg_attach_resp r = {.region_id = info.id, .size = info.size, .flags = info.flags};
  REPLY_SMALL(reply, RUM_MSG_ATTACH, rum__wire_encode_attach_resp, &r);
}

static void on_resize(struct rum_server *s, const struct rum_rpc_request *req,
                      struct rum_rpc_reply *reply) {
  struct rum_msg_resize_req m;
  if (rum__wire_decode_resize_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info info;
  if (!OWNED(s, req, m.region_id, "resize", &info, reply)) return;
  uint64_t kept = rum__quota_reserve_bytes(info.bytes_stored, m.new_size); /* pages left */
  uint64_t want = rum__quota_reserve_bytes(m.reserve, m.new_size);
  if (!rum__quota_allows(&s->quota, s->cfg.store, &s->stats.access, req, &info, kept > want ? kept : want, reply))
    return;
  int rc = rum__page_store_resize(s->cfg.store, m.region_id, m.new_size, m.reserve);
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  rum__rpc_reply_small(reply, RUM_MSG_RESIZE, 0);
}

/* Every range is checked before any is dropped, so a bad request changes nothing. */
static void on_discard(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_msg_discard_req m;
  if (rum__wire_decode_discard_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info info;
  if (!OWNED(s, req, m.region_id, "discard pages of", &info, reply)) return;
  for (uint32_t i = 0; i < m.nranges; i++)
    if (!rum__ownership_pages(&s->stats.access, &info, m.ranges[i].first_page, m.ranges[i].npages, reply)) return;
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < m.nranges; i++)
    rc = rum__page_store_discard(s->cfg.store, m.region_id, m.ranges[i].first_page, m.ranges[i].npages);
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.region_id);
    return;
  }
  rum__rpc_reply_small(reply, RUM_MSG_DISCARD, 0);
}

static void on_copy(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_msg_copy_req m;
  if (rum__wire_decode_copy_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info src, dst;
  if (!OWNED(s, req, m.src_region, "copy from", &src, reply) || !OWNED(s, req, m.dst_region, "copy into", &dst, reply))
    return;
  /* At most npages pages more in dst (an upper bound: the quota errs on refusing). */
  uint64_t grown = dst.bytes_stored + (m.npages < (UINT64_MAX >> 13) ? m.npages * RUM_PAGE_SIZE : UINT64_MAX >> 1);
  if (grown > dst.reserved &&
      !rum__quota_allows(&s->quota, s->cfg.store, &s->stats.access, req, &dst, grown, reply))
    return;
  int rc = rum__page_store_copy(s->cfg.store, m.src_region, m.dst_region, m.first_page, m.npages);
  if (rc == RUM_ENOENT) {
    struct rum_region_info info;
    uint64_t missing = rum__page_store_lookup(s->cfg.store, m.src_region, &info) ? m.src_region : m.dst_region;
    reply_no_region(s, reply, missing);
    return;
  }
  if (rc == RUM_EINVAL) {
    rum__rpc_reply_error(reply, RUM_EINVAL,
                         "COPY of pages %llu+%llu: past the end of region %016llx or %016llx",
                         (unsigned long long)m.first_page, (unsigned long long)m.npages,
                         (unsigned long long)m.src_region, (unsigned long long)m.dst_region);
    return;
  }
  if (rc != 0) {
    reply_store_error(s, reply, rc, m.dst_region);
    return;
  }
  rum__rpc_reply_small(reply, RUM_MSG_COPY, 0);
}

static void on_regions(struct rum_server *s, const struct rum_rpc_request *req,
                       struct rum_rpc_reply *reply) {
  struct rum_msg_regions_req m;
  if (rum__wire_decode_regions_req(req->payload, req->len, &m) != 0) {
    reply_malformed(s, req, reply);
    return;
  }
  struct rum_region_info *infos = s->list_scratch;
  size_t total = 0;
  size_t n = rum__page_store_list(s->cfg.store, m.flags & RUM_REGION_F_NAMED, m.start, infos,
                                  RUM_WIRE_MAX_REGIONS_LIST, &total);
  struct rum_msg_regions_resp *r = &s->regions_scratch;
  memset(r, 0, sizeof *r);
  r->total = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
  r->count = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    bool named = (infos[i].flags & RUM_REGION_F_NAMED) != 0;
    r->entries[i].region_id = infos[i].id;
    r->entries[i].size = infos[i].size;
    r->entries[i].bytes_stored = infos[i].bytes_stored;
    r->entries[i].owner_session = named ? 0 : rum__ownership_listed_session(infos[i].owner_session);
    r->entries[i].owner_id = infos[i].owner_id;
    r->entries[i].flags = infos[i].flags;
    r->entries[i].name_len = infos[i].name_len;
    memcpy(r->entries[i].name, infos[i].name, sizeof r->entries[i].name);
  }
  int len = rum__wire_encode_regions_resp(s->big, REGIONS_REPLY_BYTES, r);
  if (len < 0) {
    rum__rpc_reply_error(reply, RUM_EIO, "node could not encode its REGIONS reply: %s",
                         rum_strerror(len));
    return;
  }
  reply->type = RUM_MSG_REGIONS;
  reply->iovcnt = 1;
  reply->iov[0].iov_base = s->big;
  reply->iov[0].iov_len = (size_t)len;
}

/* Node to node: Paxos messages of the replica groups (authenticated by the cluster key like every frame). */
static void on_paxos(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  if (s->repl == NULL) {
    rum__rpc_reply_error(reply, RUM_ENOTSUP, "node %u runs replication=1: no Paxos", s->cfg.node_id);
    return;
  }
  rum__replicated_deliver(s->repl, req->payload, req->len);
  rum__rpc_reply_small(reply, RUM_MSG_PAXOS, 0);
}

/* Every request but the session-less ones (PING, STAT, REGIONS: what rumctl sends)
 * and HELLO/HEARTBEAT (handled on their own) renews the sender's lease here. */
static bool lease_ok(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply,
                     uint64_t now) {
  int rc = rum__lease_touch(s->cfg.leases, req->sender, req->session, now);
  if (rc == 0) return true;
  if (rc == RUM_ELEASE) {
    s->stats.lease_rejects++;
    rum__rpc_reply_error(reply, RUM_ELEASE,
                         "lease of client %u session %016llx expired on node %u and its regions "
                         "were reclaimed; start a new session",
                         req->sender, (unsigned long long)req->session, s->cfg.node_id);
  } else {
    rum__rpc_reply_error(reply, rc, "node %u tracks too many client sessions", s->cfg.node_id);
  }
  return false;
}

static void dispatch(struct rum_server *s, const struct rum_rpc_request *req, struct rum_rpc_reply *reply,
                     uint64_t now) {
  switch (req->type) {
  case RUM_MSG_PING: rum__rpc_reply_small(reply, RUM_MSG_PING, 0); return;
  case RUM_MSG_HELLO: on_hello(s, req, reply, now); return;
  case RUM_MSG_HEARTBEAT: on_heartbeat(s, req, reply, now); return;
  /* Looking at a node makes no one its client. */
  case RUM_MSG_STAT: on_stat(s, reply, now); return;
  case RUM_MSG_REGIONS: on_regions(s, req, reply); return;
  case RUM_MSG_PAXOS: on_paxos(s, req, reply); return;
  default: break;
  }
  if (!lease_ok(s, req, reply, now)) return;
  switch (req->type) {
  case RUM_MSG_ALLOC: on_alloc(s, req, reply); break;
  case RUM_MSG_FREE: on_free(s, req, reply); break;
  case RUM_MSG_READ: on_read(s, req, reply); break;
  case RUM_MSG_WRITE: on_write(s, req, reply); break;
  case RUM_MSG_ATTACH: on_attach(s, req, reply); break;
  case RUM_MSG_RESIZE: on_resize(s, req, reply); break;
  case RUM_MSG_COPY:
    if (s->repl == NULL) on_copy(s, req, reply);
    else rum__rpc_reply_error(reply, RUM_ENOTSUP, "COPY is not replicated yet: READ and WRITE instead");
    break;
  case RUM_MSG_DISCARD: on_discard(s, req, reply); break;
  default:
    rum__rpc_reply_error(reply, RUM_EPROTO, "node %u does not serve requests of type %u (%s)",
                         s->cfg.node_id, req->type, rum__server_type_name(req->type));
  }
}

void rum__server_handle(void *ctx, const struct rum_rpc_request *req, struct rum_rpc_reply *reply) {
  struct rum_server *s = ctx;
  uint64_t now = s->cfg.clock_ms(s->cfg.clock_ctx);
  unsigned type = req->type <= RUM_MSG_TYPE_MAX ? req->type : 0; /* 0 counts unknown types */
  reply->iovcnt = 0;
  s->stats.requests[type]++;
  s->stats.requests_total++;
  s->stats.bytes_in[type] += req->len;
  if (req->payload == NULL && req->len != 0) {
    rum__rpc_reply_error(reply, RUM_EPROTO, "request without its payload");
  } else {
    dispatch(s, req, reply, now);
  }
  size_t out = 0;
  for (int i = 0; i < reply->iovcnt; i++) out += reply->iov[i].iov_len;
  s->stats.bytes_out[type] += out;
  if (reply->type == RUM_MSG_ERROR) {
    s->stats.errors[type]++;
    s->stats.errors_total++;
    if (rum__log_get_level() >= RUM_LOG_DEBUG) {
      struct rum_msg_error e;
      if (reply->iovcnt == 1 && rum__wire_decode_error(reply->iov[0].iov_base, reply->iov[0].iov_len, &e) == 0)
        RUM_LOG_D("%s from client %u session %016llx refused: %.*s (%s)", rum__server_type_name(type),
                  req->sender, (unsigned long long)req->session, (int)e.text_len, e.text,
                  rum_strerror(e.code));
    }
  }
}
