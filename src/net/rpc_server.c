/* Reliable RPC, server side: reassembly of requests, de-duplication per sender
 * session, running the handler, and answering duplicates from the reply cache.
 *
 * Why de-duplicate every request, not only alloc/free: a delayed duplicate of an old
 * WRITE that arrives after a newer WRITE of the same page would otherwise put old
 * bytes back. Each session remembers which of its last RUM_RPC_DEDUP_WINDOW seqs ran;
 * anything older is stale and dropped. Small replies (alloc, free, write acks, errors)
 * are cached and re-sent to duplicates; large ones (page reads) are not cached, and a
 * duplicate read simply runs again, which is harmless because reads change nothing. */
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "net/rpc_internal.h"
#include "proto/wire.h"
#include "util/clock.h"
#include "util/log.h"

enum { REASSEMBLY_TIMEOUT_NS = 2000000000ll };

int rum__rpc_server_init(struct rum_rpc *rpc) {
  if (rpc->cfg.server_slots == 0) return 0;
  if (rpc->cfg.handler == NULL) return RUM_EINVAL;
  rpc->nsessions = rpc->cfg.server_sessions ? rpc->cfg.server_sessions : 256;
  rpc->sessions = calloc(rpc->nsessions, sizeof *rpc->sessions);
  rpc->tombstones = calloc(RPC_TOMBSTONES, sizeof *rpc->tombstones);
  rpc->nreassembly = rpc->cfg.server_slots;
  rpc->reassembly = calloc(rpc->nreassembly, sizeof *rpc->reassembly);
  rpc->reply = calloc(1, sizeof *rpc->reply);
  if (rpc->sessions == NULL || rpc->tombstones == NULL || rpc->reassembly == NULL || rpc->reply == NULL)
    return RUM_ENOMEM;
  for (unsigned i = 0; i < rpc->nreassembly; i++) {
    rpc->reassembly[i].buffer = malloc(RUM_WIRE_MAX_MSG);
    if (rpc->reassembly[i].buffer == NULL) return RUM_ENOMEM;
  }
  return 0;
}

void rum__rpc_server_uninit(struct rum_rpc *rpc) {
  if (rpc->reassembly != NULL) {
    for (unsigned i = 0; i < rpc->nreassembly; i++) free(rpc->reassembly[i].buffer);
  }
  free(rpc->reassembly);
  free(rpc->sessions);
  free(rpc->tombstones);
  free(rpc->reply);
  rpc->reassembly = NULL;
  rpc->sessions = NULL;
  rpc->tombstones = NULL;
  rpc->reply = NULL;
}

static void tombstone_put(struct rum_rpc *rpc, const struct session_state *s) {
  struct session_tombstone *t = &rpc->tombstones[s->session % RPC_TOMBSTONES];
  t->session = s->session;
  t->highest = s->highest;
}

/* A session seen before comes back with every seq up to its highest taken as done: a
 * request of it that was in flight when it was pushed out goes unanswered (its caller
 * times out) rather than risk running a replayed or duplicated request twice. */
static void tombstone_restore(struct rum_rpc *rpc, struct session_state *s) {
  struct session_tombstone *t = &rpc->tombstones[s->session % RPC_TOMBSTONES];
  if (t->session != s->session) return;
  s->highest = t->highest;
  memset(s->done, 0xff, sizeof s->done);
  rpc->stats.sessions_restored++;
}

/* Find the session's state, creating it (evicting the least recently used) if new. */
static struct session_state *session_get(struct rum_rpc *rpc, uint64_t session, uint64_t now) {
  unsigned start = (unsigned)(session % rpc->nsessions);
  struct session_state *victim = NULL;
  for (unsigned probe = 0; probe < rpc->nsessions; probe++) {
    struct session_state *s = &rpc->sessions[(start + probe) % rpc->nsessions];
    if (s->session == session) {
      s->last_used_ns = now;
      return s;
    }
    if (s->session == 0) {
      victim = s;
      break;
    }
    if (victim == NULL || s->last_used_ns < victim->last_used_ns) victim = s;
  }
  if (victim->session != 0) {
    RUM_LOG_W("rpc: session table full; forgetting session %016llx",
              (unsigned long long)victim->session);
    tombstone_put(rpc, victim);
  }
  memset(victim, 0, sizeof *victim);
  victim->session = session;
  victim->last_used_ns = now;
  tombstone_restore(rpc, victim);
  return victim;
}

void rum__rpc_forget_session(struct rum_rpc *rpc, uint64_t session) {
  rum__spin_lock(&rpc->io_lock);
  for (unsigned i = 0; rpc->sessions != NULL && i < rpc->nsessions; i++) {
    if (rpc->sessions[i].session == session) {
      tombstone_put(rpc, &rpc->sessions[i]);
      memset(&rpc->sessions[i], 0, sizeof rpc->sessions[i]);
    }
  }
  rum__spin_unlock(&rpc->io_lock);
}

enum seq_state { SEQ_NEW, SEQ_DONE, SEQ_STALE };

static enum seq_state session_check(const struct session_state *s, uint64_t seq) {
  if (s->highest >= RUM_RPC_DEDUP_WINDOW && seq <= s->highest - RUM_RPC_DEDUP_WINDOW) return SEQ_STALE;
  if (seq > s->highest) return SEQ_NEW;
  uint64_t bit = seq % RUM_RPC_DEDUP_WINDOW;
  return (s->done[bit / 64] >> (bit % 64)) & 1 ? SEQ_DONE : SEQ_NEW;
}

static void session_mark(struct session_state *s, uint64_t seq) {
  if (seq > s->highest) {
    /* Clear the bits of the seqs the window slides past. */
    uint64_t gap = seq - s->highest;
    if (gap >= RUM_RPC_DEDUP_WINDOW) {
      memset(s->done, 0, sizeof s->done);
    } else {
      for (uint64_t q = s->highest + 1; q < seq; q++) {
        uint64_t bit = q % RUM_RPC_DEDUP_WINDOW;
        s->done[bit / 64] &= ~(1ull << (bit % 64));
      }
    }
    s->highest = seq;
  }
  uint64_t bit = seq % RUM_RPC_DEDUP_WINDOW;
  s->done[bit / 64] |= 1ull << (bit % 64);
}

static void send_reply(struct rum_rpc *rpc, const struct rum_peer_addr *to, uint8_t type, uint64_t seq,
                       const struct iovec *iov, int iovcnt) {
  int rc = rum__rpc_send_message(rpc, to, type, RUM_WIRE_F_RESPONSE, seq, iov, iovcnt);
  if (rc != 0) RUM_LOG_D("rpc: reply to seq %llu not sent: %s", (unsigned long long)seq, rum_strerror(rc));
}

static void run_request(struct rum_rpc *rpc, struct session_state *sess, const struct rum_wire_header *h,
                        const uint8_t *payload, uint32_t len, const struct rum_peer_addr *from) {
  struct rum_rpc_request req = {
      .type = h->type, .sender = h->sender, .session = h->session, .seq = h->seq,
      .from = *from, .payload = payload, .len = len,
  };
  struct rum_rpc_reply *reply = rpc->reply;
  reply->type = h->type;
  reply->iovcnt = 0;
  reply->deferred = false;
  rpc->stats.requests++;
  rpc->cfg.handler(rpc->cfg.handler_ctx, &req, reply);
  session_mark(sess, h->seq);
  if (reply->deferred) return; /* answered later by rum__rpc_answer (rpc_defer.c) */
  rum__rpc_cache_reply(sess, h->seq, reply);
  send_reply(rpc, from, reply->type, h->seq, reply->iov, reply->iovcnt);
}

void rum__rpc_cache_reply(struct session_state *sess, uint64_t seq, const struct rum_rpc_reply *reply) {
  size_t total = 0;
  for (int i = 0; i < reply->iovcnt; i++) total += reply->iov[i].iov_len;
  if (total > RPC_REPLY_CACHE_BYTES) return;
  struct cached_reply *c = &sess->replies[seq % RPC_REPLY_CACHE];
  c->seq = seq;
  c->type = reply->type;
  c->len = (uint16_t)total;
  size_t off = 0;
  for (int i = 0; i < reply->iovcnt; i++) {
    memcpy(c->bytes + off, reply->iov[i].iov_base, reply->iov[i].iov_len);
    off += reply->iov[i].iov_len;
  }
}

struct session_state *rum__rpc_session_lookup(struct rum_rpc *rpc, uint64_t session) {
  for (unsigned i = 0; rpc->sessions != NULL && i < rpc->nsessions; i++)
    if (rpc->sessions[i].session == session) return &rpc->sessions[i];
  return NULL;
}

/* A duplicate of a completed request: re-send the cached reply, or run it again if
 * its reply was too large to cache (reads only, which are idempotent). */
static void answer_duplicate(struct rum_rpc *rpc, struct session_state *sess,
                             const struct rum_wire_header *h, const uint8_t *payload, uint32_t len,
                             const struct rum_peer_addr *from) {
  rpc->stats.duplicates++;
  struct cached_reply *c = &sess->replies[h->seq % RPC_REPLY_CACHE];
  if (c->seq == h->seq && c->type != 0) {
    struct iovec iov = {c->bytes, c->len};
    send_reply(rpc, from, c->type, h->seq, &iov, 1);
    return;
  }
  if (h->type == RUM_MSG_READ || h->type == RUM_MSG_STAT || h->type == RUM_MSG_REGIONS ||
      h->type == RUM_MSG_PING || h->type == RUM_MSG_HELLO || h->type == RUM_MSG_HEARTBEAT) {
    if (payload != NULL) run_request(rpc, sess, h, payload, len, from);
  }
  /* Anything else whose reply fell out of the cache is left unanswered: the caller
   * times out rather than have a non-idempotent request run twice. */
}

static struct reassembly *reassembly_find(struct rum_rpc *rpc, const struct rum_wire_header *h,
                                          uint64_t now) {
  struct reassembly *free_slot = NULL, *oldest = NULL;
  for (unsigned i = 0; i < rpc->nreassembly; i++) {
    struct reassembly *r = &rpc->reassembly[i];
    if (r->used && r->session == h->session && r->seq == h->seq) return r;
    if (r->used && now - r->started_ns > REASSEMBLY_TIMEOUT_NS) r->used = false;
    if (!r->used && free_slot == NULL) free_slot = r;
    if (r->used && (oldest == NULL || r->started_ns < oldest->started_ns)) oldest = r;
  }
  if (free_slot == NULL) {
    /* Every slot busy: the oldest partial message loses; its sender retransmits. */
    rpc->stats.busy_drops++;
    free_slot = oldest;
  }
  memset(&free_slot->frags, 0, sizeof free_slot->frags);
  free_slot->used = true;
  free_slot->session = h->session;
  free_slot->seq = h->seq;
  free_slot->sender = h->sender;
  free_slot->type = h->type;
  free_slot->started_ns = now;
  return free_slot;
}

void rum__rpc_server_frame(struct rum_rpc *rpc, const struct rum_wire_header *h, const uint8_t *payload,
                           const struct rum_peer_addr *from) {
  if (rpc->sessions == NULL || h->type == RUM_MSG_ERROR) {
    rpc->stats.drops++; /* not a server, or an error frame without the response flag */
    return;
  }
  uint64_t now = rum__now_ns();
  struct session_state *sess = session_get(rpc, h->session, now);
  enum seq_state state = session_check(sess, h->seq);
  if (state == SEQ_STALE) {
    rpc->stats.stale++;
    return;
  }
  if (h->frag_count == 1) {
    if (state == SEQ_DONE) answer_duplicate(rpc, sess, h, payload, h->payload_len, from);
    else run_request(rpc, sess, h, payload, h->payload_len, from);
    return;
  }
  if (state == SEQ_DONE) {
    /* Answer a retransmitted multi-frame request once, on its first fragment. */
    if (h->frag_index == 0) answer_duplicate(rpc, sess, h, NULL, 0, from);
    return;
  }
  struct reassembly *r = reassembly_find(rpc, h, now);
  int fresh = rum__rpc_frag_add(&r->frags, h);
  if (fresh < 0 || r->type != h->type) {
    rpc->stats.drops++;
    r->used = false;
    return;
  }
  if (fresh == 0) return;
  memcpy(r->buffer + h->frag_offset, payload, h->payload_len);
  if (r->frags.received < r->frags.count) return;
  r->used = false;
  run_request(rpc, sess, h, r->buffer, r->frags.msg_len, from);
}
