/* Replicated page writes in rumd (replicated.h): WRITEs proposed in their group's log,
 * answered when decided, applied on every member. */
#include "server/replicated.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "cluster/groups.h"
#include "cluster/ring.h"
#include "proto/le.h"
#include "server/replication.h"
#include "util/log.h"

/* A write handed off by the handler, waiting for the loop to propose it. */
struct queued {
  uint8_t *buf;
  uint32_t len;
  unsigned gi;
  uint64_t tag;
};

/* A write proposed here whose client waits for the decision. */
struct pending {
  bool used;
  uint64_t tag;
  uint64_t since_ms;
  uint32_t npages;
  struct rum_rpc_deferred d;
};

struct rum_replicated {
  struct rum_replicated_config cfg;
  struct rum_ring *ring;
  struct rum_groups *groups;
  struct rum_replication *repl;
  struct queued *queue;
  size_t queue_len, queue_cap;
  struct pending pending[RUM_REPLD_PENDING];
  uint64_t next_tag;
  uint64_t now_ms;
  bool lost_state;
  uint32_t *leader_seen;      /* per group of this node: the leader last logged */
  struct rum_replicated_stats stats;
  struct rum_rpc_reply reply; /* scratch for deferred answers (2 KiB: off the stack) */
};

/* State transfer. The page store's state transfer is not written: a donor sends only
 * how much it holds. A member restarted empty into a group that holds pages would
 * vote and lead without them, so it stops instead (see replicated.h). */
static size_t snap_read(void *ctx, uint64_t *cursor, uint8_t *buf, size_t cap, bool *done) {
  struct rum_replicated *rr = ctx;
  *done = true;
  if (*cursor != 0 || cap < 16) return 0;
  struct rum_page_store_stats st;
  rum__page_store_stats(rr->cfg.store, &st);
  rum__put_u64(buf, st.regions);
  rum__put_u64(buf + 8, st.memory_used);
  *cursor = 16;
  return 16;
}

static void snap_reset(void *ctx) { (void)ctx; }

static void snap_write(void *ctx, uint64_t cursor, const uint8_t *buf, size_t len) {
  struct rum_replicated *rr = ctx;
  if (cursor != 0 || len < 16) return;
  uint64_t regions = rum__get_u64(buf), used = rum__get_u64(buf + 8);
  if (regions == 0 && used == 0) return;
  RUM_LOG_E("restarted empty into a replica group that holds %" PRIu64 " regions (%" PRIu64
            " bytes): the page state transfer is not implemented yet, so this node stops rather "
            "than serve without those pages",
            regions, used);
  rr->lost_state = true;
}

static struct rum_paxos_app app_for(void *ctx, const struct rum_group *g) {
  (void)g;
  return (struct rum_paxos_app){.ctx = ctx, .snapshot_read = snap_read, .snapshot_reset = snap_reset,
                                .snapshot_write = snap_write};
}

static struct pending *pending_of(struct rum_replicated *rr, uint64_t tag) {
  struct pending *p = &rr->pending[tag % RUM_REPLD_PENDING];
  return p->used && p->tag == tag ? p : NULL;
}

static void answer(struct rum_replicated *rr, struct pending *p) {
  (void)rum__rpc_answer(rr->cfg.rpc, &p->d, &rr->reply);
  p->used = false;
  rr->stats.answered++;
}

static void answer_error(struct rum_replicated *rr, struct pending *p, int code, const char *why) {
  rum__rpc_reply_error(&rr->reply, code, "node %u: replicated write not done: %s", rr->cfg.self_id, why);
  answer(rr, p);
}

static void apply(void *ctx, const struct rum_group *g, const struct rum_paxos_decided *d) {
  struct rum_replicated *rr = ctx;
  (void)g;
  if (d->len == 0) return; /* a no-op filling a gap */
  struct rum_msg_write_req m;
  int rc = rum__wire_decode_write_req(d->value, d->len, &m);
  if (rc == 0) rc = rum__page_store_write(rr->cfg.store, m.region_id, m.npages, m.page_index, m.data);
  rr->stats.applied++;
  if (rc != 0) {
    rr->stats.apply_errors++;
    RUM_LOG_W("decided write of %u pages to region %016" PRIx64 " failed here: %s", m.npages, m.region_id,
              rum_strerror(rc));
  }
  if (d->origin != rr->cfg.incarnation) return;
  struct pending *p = pending_of(rr, d->tag);
  if (p == NULL) return;
  if (rc != 0) {
    rum__rpc_reply_error(&rr->reply, rc, "node %u: decided write of region %016" PRIx64 " failed: %s",
                         rr->cfg.self_id, m.region_id, rum_strerror(rc));
  } else {
    struct rum_msg_write_resp r = {.npages = p->npages};
    int n = rum__wire_encode_write_resp(rr->reply.small, sizeof rr->reply.small, &r);
    rum__rpc_reply_small(&rr->reply, RUM_MSG_WRITE, n < 0 ? 0 : n);
  }
  answer(rr, p);
}

static void dropped(void *ctx, const struct rum_group *g, uint64_t tag) {
  struct rum_replicated *rr = ctx;
  (void)g;
  struct pending *p = pending_of(rr, tag);
  if (p != NULL) answer_error(rr, p, RUM_ENOTLEADER, "leadership lost before it was proposed" RUM_GROUP_REDIRECT_KEY "0");
}

int rum__replicated_create(const struct rum_replicated_config *cfg, uint64_t now_ms, struct rum_replicated **out) {
  *out = NULL;
  if (cfg->machines == NULL || cfg->store == NULL || cfg->rpc == NULL || cfg->incarnation == 0 ||
      cfg->machines->replication < 2)
    return RUM_EINVAL;
  struct rum_replicated *rr = calloc(1, sizeof *rr);
  if (rr == NULL) return RUM_ENOMEM;
  rr->cfg = *cfg;
  rr->now_ms = now_ms;
  rr->next_tag = 1;
  int rc = rum__ring_build(cfg->machines, 0, &rr->ring);
  if (rc == 0) rc = rum__groups_build(rr->ring, cfg->machines->replication, &rr->groups);
  if (rc == 0) {
    struct rum_paxos_config pc;
    rum__paxos_config_default(&pc);
    /* Longer than the core's defaults: a node descheduled for a few hundred ms on a
     * busy host (tests share 2 cores) must not lose its lease and make the group
     * elect again and again. A leader's death then costs about election_ticks. */
    pc.heartbeat_ticks = RUM_REPLD_HEARTBEAT_MS;
    pc.lease_ticks = RUM_REPLD_LEASE_MS;
    pc.election_ticks = RUM_REPLD_ELECTION_MS;
    pc.live_ticks = 4 * RUM_REPLD_ELECTION_MS;
    struct rum_replication_config c = {
        .self_id = cfg->self_id, .machines = cfg->machines, .groups = rr->groups, .rpc = cfg->rpc,
        .incarnation = cfg->incarnation, .paxos = &pc, .app_for = app_for, .apply = apply,
        .dropped = dropped, .ctx = rr};
    rc = rum__replication_create(&c, now_ms, &rr->repl);
  }
  if (rc == 0) {
    rr->leader_seen = calloc(rum__replication_count(rr->repl) + 1, sizeof *rr->leader_seen);
    if (rr->leader_seen == NULL) rc = RUM_ENOMEM;
  }
  if (rc != 0) {
    rum__replicated_destroy(rr);
    return rc;
  }
  *out = rr;
  return 0;
}

void rum__replicated_destroy(struct rum_replicated *rr) {
  if (rr == NULL) return;
  rum__replication_destroy(rr->repl);
  for (size_t i = 0; i < rr->queue_len; i++) free(rr->queue[i].buf);
  free(rr->queue);
  free(rr->leader_seen);
  rum__groups_destroy(rr->groups);
  rum__ring_destroy(rr->ring);
  free(rr);
}

/* This node's index of the group of a region's page, or -1 (not a member). */
static int group_of_page(const struct rum_replicated *rr, uint64_t region, uint64_t page) {
  const struct rum_group *g = rum__groups_of_key(rr->groups, rum__ring_chunk_key(region, page / RUM_RING_CHUNK_PAGES));
  return rum__replication_find(rr->repl, g->id);
}

/* Fill reply with why this node does not take requests for its group gi now. */
static void redirect(struct rum_replicated *rr, int gi, uint64_t region, struct rum_rpc_reply *reply) {
  rr->stats.redirects++;
  if (gi < 0) {
    rum__rpc_reply_error(reply, RUM_ENOTLEADER, "node %u holds no replica of region %016" PRIx64 "'s chunk"
                         RUM_GROUP_REDIRECT_KEY "0", rr->cfg.self_id, region);
    return;
  }
  const struct rum_group *g = rum__replication_group(rr->repl, (unsigned)gi);
  uint32_t leader = rum__replication_leader(rr->repl, (unsigned)gi);
  if (leader == rr->cfg.self_id) leader = 0; /* leading without a lease: no better node known */
  rum__rpc_reply_error(reply, RUM_ENOTLEADER, "node %u does not lead group %016" PRIx64 " now"
                       RUM_GROUP_REDIRECT_KEY "%u", rr->cfg.self_id, g->id, leader);
}

void rum__replicated_write(struct rum_replicated *rr, const struct rum_rpc_request *req,
                           const struct rum_msg_write_req *m, struct rum_rpc_reply *reply) {
  int gi = group_of_page(rr, m->region_id, m->page_index[0]);
  for (uint32_t i = 1; i < m->npages; i++) {
    if (group_of_page(rr, m->region_id, m->page_index[i]) != gi || gi < 0) {
      rum__rpc_reply_error(reply, RUM_EINVAL, "WRITE to region %016" PRIx64 " spans replica groups "
                           "(pages %" PRIu64 " and %" PRIu64 "): send one WRITE per group",
                           m->region_id, m->page_index[0], m->page_index[i]);
      return;
    }
  }
  if (gi < 0 || rr->lost_state || rum__replication_leader(rr->repl, (unsigned)gi) != rr->cfg.self_id) {
    redirect(rr, gi, m->region_id, reply);
    return;
  }
  uint64_t tag = rr->next_tag;
  struct pending *p = &rr->pending[tag % RUM_REPLD_PENDING];
  if (rr->queue_len == rr->queue_cap) {
    size_t cap = rr->queue_cap ? rr->queue_cap * 2 : 64;
    struct queued *grown = realloc(rr->queue, cap * sizeof *grown);
    if (grown != NULL) rr->queue = grown, rr->queue_cap = cap;
  }
  uint8_t *copy = p->used || rr->queue_len == rr->queue_cap ? NULL : malloc(req->len);
  if (copy == NULL) {
    rum__rpc_reply_error(reply, RUM_EAGAIN, "node %u has too many replicated writes in flight", rr->cfg.self_id);
    return;
  }
  memcpy(copy, req->payload, req->len);
  rr->queue[rr->queue_len++] = (struct queued){.buf = copy, .len = req->len, .gi = (unsigned)gi, .tag = tag};
  rr->next_tag++;
  *p = (struct pending){.used = true, .tag = tag, .since_ms = rr->now_ms, .npages = m->npages};
  rum__rpc_defer(req, reply, &p->d);
}

bool rum__replicated_read_refused(struct rum_replicated *rr, uint64_t region, uint64_t first, uint32_t npages,
                                  struct rum_rpc_reply *reply) {
  uint64_t now = rr->now_ms;
  for (uint64_t c = first / RUM_RING_CHUNK_PAGES; c * RUM_RING_CHUNK_PAGES < first + npages; c++) {
    int gi = group_of_page(rr, region, c * RUM_RING_CHUNK_PAGES);
    /* The lease: no write acknowledged by any leader is missing here (paxos.h). */
    if (gi < 0 || rr->lost_state || !rum__replication_can_read(rr->repl, (unsigned)gi, now)) {
      redirect(rr, gi, region, reply);
      return true;
    }
  }
  return false;
}

void rum__replicated_deliver(struct rum_replicated *rr, const uint8_t *payload, uint32_t len) {
  rum__replication_deliver(rr->repl, payload, len);
}

/* A line whenever a group's leader changes as this node sees it (tests and operators
 * find the leader by it). */
static void log_leaders(struct rum_replicated *rr) {
  for (unsigned i = 0; i < rum__replication_count(rr->repl); i++) {
    uint32_t l = rum__replication_leader(rr->repl, i);
    if (l == rr->leader_seen[i]) continue;
    rr->leader_seen[i] = l;
    struct rum_paxos_status st;
    rum__replication_status(rr->repl, i, &st);
    if (l != 0)
      RUM_LOG_I("group %016" PRIx64 ": leader is node %u (ballot %" PRIu64 ")%s",
                rum__replication_group(rr->repl, i)->id, l, st.ballot, l == rr->cfg.self_id ? ", this node" : "");
  }
}

void rum__replicated_poll(struct rum_replicated *rr, uint64_t now_ms, uint64_t random) {
  if (now_ms > rr->now_ms) rr->now_ms = now_ms;
  struct queued *q = rr->queue;
  size_t n = rr->queue_len;
  rr->queue = NULL;
  rr->queue_len = rr->queue_cap = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = rum__replication_propose(rr->repl, q[i].gi, q[i].buf, q[i].len, q[i].tag);
    free(q[i].buf);
    struct pending *p = pending_of(rr, q[i].tag);
    if (rc == 0) {
      rr->stats.proposed++;
    } else if (p != NULL) {
      answer_error(rr, p, rc, rc == RUM_ENOTLEADER ? "no longer the leader" RUM_GROUP_REDIRECT_KEY "0"
                                                   : "the group's queue is full");
    }
  }
  free(q);
  rum__replication_poll(rr->repl, rr->now_ms, random);
  log_leaders(rr);
  for (unsigned i = 0; i < RUM_REPLD_PENDING; i++) {
    struct pending *p = &rr->pending[i];
    if (p->used && rr->now_ms - p->since_ms > RUM_REPLD_PENDING_MS) {
      rr->stats.expired++;
      answer_error(rr, p, RUM_ETIMEDOUT, "no decision in time (a majority of its group unreachable?)");
    }
  }
}

bool rum__replicated_lost_state(const struct rum_replicated *rr) { return rr->lost_state; }

void rum__replicated_stats(const struct rum_replicated *rr, struct rum_replicated_stats *out) { *out = rr->stats; }

void rum__replicated_describe(const struct rum_replicated *rr, char *buf, size_t cap) {
  static const char *const roles[] = {"recovering", "follower", "candidate", "leader"};
  size_t len = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < rum__replication_count(rr->repl) && len + 1 < cap; i++) {
    const struct rum_group *g = rum__replication_group(rr->repl, i);
    struct rum_paxos_status st;
    rum__replication_status(rr->repl, i, &st);
    len += (size_t)snprintf(buf + len, cap - len, "%sgroup %016" PRIx64 " members", i ? "; " : "", g->id);
    for (unsigned k = 0; k < g->nmembers && len + 1 < cap; k++)
      len += (size_t)snprintf(buf + len, cap - len, "%s%u", k ? "," : " ", g->members[k]);
    if (len + 1 < cap)
      len += (size_t)snprintf(buf + len, cap - len, " %s leader %u ballot %" PRIu64 " applied %" PRIu64,
                              st.role < 4 ? roles[st.role] : "?", rum__replication_leader(rr->repl, i), st.ballot,
                              st.applied);
  }
}
