/* A node's replica groups at run time (replication.h): Paxos cores, their messages
 * over the RPC endpoint, and the pool of sends in flight. */
#include "server/replication.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "proto/le.h"
#include "util/log.h"

struct repl_group {
  const struct rum_group *group;
  struct rum_paxos *px;
  struct rum_peer_addr addr[RUM_GROUP_MAX_MEMBERS];
};

struct repl_send {
  bool busy;
  struct repl_group *rg;    /* to member `to` of rg */
  uint8_t to;
  struct rum_rpc_batch batch;
  struct rum_rpc_call call;
  uint8_t head[RUM_REPL_GROUP_ID_SIZE];
  uint8_t *buf;
  uint8_t resp[8];
};

struct repl_item {
  uint8_t *buf;
  uint32_t len;
};

struct rum_replication {
  struct rum_replication_config cfg;
  unsigned ngroups;
  struct repl_group *groups;
  struct repl_send sends[RUM_REPL_SEND_SLOTS];
  struct repl_item *inbox;
  size_t inbox_len, inbox_cap;
  uint64_t now;
  struct rum_replication_stats stats;
};

int rum__replication_create(const struct rum_replication_config *cfg, uint64_t now_ms,
                            struct rum_replication **out) {
  if (cfg == NULL || cfg->machines == NULL || cfg->groups == NULL || cfg->rpc == NULL ||
      cfg->paxos == NULL || cfg->app_for == NULL || cfg->apply == NULL || cfg->incarnation == 0)
    return RUM_EINVAL;
  struct rum_replication *r = calloc(1, sizeof *r);
  if (r == NULL) return RUM_ENOMEM;
  r->cfg = *cfg;
  r->now = now_ms;
  unsigned total = rum__groups_count(cfg->groups);
  r->groups = calloc(total ? total : 1, sizeof *r->groups);
  if (r->groups == NULL) {
    free(r);
    return RUM_ENOMEM;
  }
  for (unsigned i = 0; i < total; i++) {
    const struct rum_group *g = rum__groups_at(cfg->groups, i);
    int self = rum__group_member_index(g, cfg->self_id);
    if (self < 0) continue;
    struct repl_group *rg = &r->groups[r->ngroups];
    rg->group = g;
    for (unsigned k = 0; k < g->nmembers; k++) {
      const struct rum_node_info *n = rum__machines_find(cfg->machines, g->members[k]);
      if (n == NULL) goto err;
      rg->addr[k] = (struct rum_peer_addr){.ipv4 = n->ipv4, .port = n->port, .has_mac = n->has_mac};
      memcpy(rg->addr[k].mac, n->mac, sizeof n->mac);
    }
    struct rum_paxos_config pc = *cfg->paxos;
    pc.group = g->id;
    pc.self = (uint8_t)self;
    pc.nreplicas = (uint8_t)g->nmembers;
    pc.incarnation = cfg->incarnation;
    pc.app = cfg->app_for(cfg->ctx, g);
    if (rum__paxos_create(&pc, now_ms, &rg->px) != 0) goto err;
    r->ngroups++;
  }
  *out = r;
  return 0;
err:
  rum__replication_destroy(r);
  return RUM_EINVAL;
}

/* Wait out the sends still in flight: their buffers must outlive them. */
static void finish_sends(struct rum_replication *r, bool wait) {
  for (unsigned i = 0; i < RUM_REPL_SEND_SLOTS; i++) {
    struct repl_send *s = &r->sends[i];
    if (!s->busy) continue;
    int done = wait ? (rum__rpc_wait(r->cfg.rpc, &s->batch), 1) : rum__rpc_poll(r->cfg.rpc, &s->batch);
    if (done) {
      free(s->buf);
      s->buf = NULL;
      s->busy = false;
    }
  }
}

void rum__replication_destroy(struct rum_replication *r) {
  if (r == NULL) return;
  finish_sends(r, true);
  for (unsigned i = 0; i < r->ngroups; i++) rum__paxos_destroy(r->groups[i].px);
  for (size_t i = 0; i < r->inbox_len; i++) free(r->inbox[i].buf);
  free(r->inbox);
  free(r->groups);
  free(r);
}

void rum__replication_deliver(struct rum_replication *r, const uint8_t *payload, uint32_t len) {
  if (len <= RUM_REPL_GROUP_ID_SIZE || len > RUM_WIRE_MAX_MSG) {
    r->stats.bad_received++;
    return;
  }
  if (r->inbox_len == r->inbox_cap) {
    size_t cap = r->inbox_cap ? r->inbox_cap * 2 : 64;
    struct repl_item *n = realloc(r->inbox, cap * sizeof *n);
    if (n == NULL) return; /* lost, like a dropped packet */
    r->inbox = n;
    r->inbox_cap = cap;
  }
  uint8_t *copy = malloc(len);
  if (copy == NULL) return;
  memcpy(copy, payload, len);
  r->inbox[r->inbox_len++] = (struct repl_item){.buf = copy, .len = len};
}

static void send_one(struct rum_replication *r, struct repl_group *rg, const struct rum_paxos_send *m) {
  struct repl_send *s = NULL;
  unsigned to_same = 0; /* a dead member's unanswered sends must not take every slot */
  for (unsigned i = 0; i < RUM_REPL_SEND_SLOTS; i++) {
    if (!r->sends[i].busy) {
      if (s == NULL) s = &r->sends[i];
    } else if (r->sends[i].rg == rg && r->sends[i].to == m->to) {
      to_same++;
    }
  }
  if (to_same >= RUM_REPL_SEND_PER_PEER) s = NULL;
  uint8_t *buf = s != NULL ? malloc(m->len) : NULL;
  if (buf == NULL) {
    r->stats.send_drops++;
    return;
  }
  memcpy(buf, m->buf, m->len);
  s->buf = buf;
  s->rg = rg;
  s->to = m->to;
  rum__put_u64(s->head, rg->group->id);
  s->call = (struct rum_rpc_call){.to = rg->addr[m->to], .type = RUM_MSG_PAXOS, .req_iovcnt = 2,
                                  .resp_iovcnt = 1, .timeout_ms = RUM_REPL_SEND_TIMEOUT_MS};
  s->call.req[0] = (struct iovec){s->head, sizeof s->head};
  s->call.req[1] = (struct iovec){buf, m->len};
  s->call.resp[0] = (struct iovec){s->resp, sizeof s->resp};
  s->busy = true;
  rum__rpc_start(r->cfg.rpc, &s->batch, &s->call, 1);
  r->stats.sent++;
}

/* Send what a core produced and apply what it decided. */
static void drain(struct rum_replication *r, struct repl_group *rg) {
  struct rum_paxos_send m;
  while (rum__paxos_pop_send(rg->px, &m)) send_one(r, rg, &m);
  struct rum_paxos_decided d;
  while (rum__paxos_pop_decided(rg->px, &d)) r->cfg.apply(r->cfg.ctx, rg->group, &d);
  uint64_t tag;
  while (rum__paxos_pop_dropped(rg->px, &tag))
    if (r->cfg.dropped != NULL) r->cfg.dropped(r->cfg.ctx, rg->group, tag);
}

static struct repl_group *group_by_id(struct rum_replication *r, uint64_t id) {
  int i = rum__replication_find(r, id);
  return i < 0 ? NULL : &r->groups[i];
}

void rum__replication_poll(struct rum_replication *r, uint64_t now_ms, uint64_t random) {
  if (now_ms > r->now) r->now = now_ms;
  /* Take the inbox first: polling sends may run the handler, which appends to it. */
  struct repl_item *items = r->inbox;
  size_t n = r->inbox_len;
  r->inbox = NULL;
  r->inbox_len = r->inbox_cap = 0;
  for (size_t i = 0; i < n; i++) {
    struct repl_group *rg = group_by_id(r, rum__get_u64(items[i].buf));
    if (rg != NULL) {
      rum__paxos_receive(rg->px, r->now, items[i].buf + RUM_REPL_GROUP_ID_SIZE,
                         items[i].len - RUM_REPL_GROUP_ID_SIZE);
      drain(r, rg);
      r->stats.received++;
    } else {
      r->stats.bad_received++;
    }
    free(items[i].buf);
  }
  free(items);
  for (unsigned i = 0; i < r->ngroups; i++) {
    rum__paxos_tick(r->groups[i].px, r->now, random + i);
    drain(r, &r->groups[i]);
  }
  finish_sends(r, false);
}

int rum__replication_propose(struct rum_replication *r, unsigned i, const void *value, size_t len, uint64_t tag) {
  if (i >= r->ngroups) return RUM_EINVAL;
  int rc = rum__paxos_propose(r->groups[i].px, value, len, tag);
  if (rc == 0) {
    rum__paxos_flush(r->groups[i].px);
    drain(r, &r->groups[i]);
  }
  return rc;
}

unsigned rum__replication_count(const struct rum_replication *r) { return r->ngroups; }

int rum__replication_find(const struct rum_replication *r, uint64_t group_id) {
  for (unsigned i = 0; i < r->ngroups; i++)
    if (r->groups[i].group->id == group_id) return (int)i;
  return -1;
}

bool rum__replication_can_read(const struct rum_replication *r, unsigned i, uint64_t now_ms) {
  return i < r->ngroups && rum__paxos_can_read(r->groups[i].px, now_ms);
}

const struct rum_group *rum__replication_group(const struct rum_replication *r, unsigned i) {
  return i < r->ngroups ? r->groups[i].group : NULL;
}

uint32_t rum__replication_leader(const struct rum_replication *r, unsigned i) {
  if (i >= r->ngroups) return 0;
  int l = rum__paxos_leader(r->groups[i].px);
  return l >= 0 ? r->groups[i].group->members[l] : 0;
}

void rum__replication_status(const struct rum_replication *r, unsigned i, struct rum_paxos_status *out) {
  if (i < r->ngroups) rum__paxos_status(r->groups[i].px, out);
  else memset(out, 0, sizeof *out);
}

void rum__replication_stats(const struct rum_replication *r, struct rum_replication_stats *out) {
  *out = r->stats;
}
