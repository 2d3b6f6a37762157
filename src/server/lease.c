/* Client leases (see lease.h). Two fixed-size tables, both allocated at create time:
 * live sessions (a chained hash over an entry pool, plus a dense list of the live
 * entries so a tick visits only those) and remembered expired sessions (a ring whose
 * oldest entry is overwritten, also hashed for lookup). */
#include "server/lease.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "util/log.h"

enum { NIL = -1 };

struct session {
  uint32_t sender;
  uint64_t session;
  uint64_t last_ms;
  uint32_t lease_ms;
  bool node;
  int32_t next;  /* hash chain, or free list */
  uint32_t pos;  /* index in live[] */
};

struct expired {
  uint32_t sender;
  uint64_t session;
  bool used;
  int32_t next;  /* hash chain */
};

struct rum_lease_table {
  struct rum_lease_config cfg;
  struct session *sessions;  /* cfg.max_sessions */
  int32_t *buckets;          /* nbuckets, a power of two */
  uint32_t nbuckets;
  int32_t free_head;
  uint32_t *live;            /* indexes of live sessions */
  uint32_t nlive, nnodes;

  struct expired *ring;      /* cfg.max_expired */
  int32_t *ring_buckets;
  uint32_t ring_nbuckets;
  uint32_t ring_next, ring_count;

  struct rum_lease_stats stats;
};

static uint32_t key_hash(uint32_t sender, uint64_t session) {
  uint64_t x = session ^ ((uint64_t)sender * 0x9e3779b97f4a7c15ull);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (uint32_t)x;
}

static uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p *= 2;
  return p;
}

int rum__lease_create(const struct rum_lease_config *cfg, struct rum_lease_table **out) {
  *out = NULL;
  if (cfg->store == NULL) return RUM_EINVAL;
  struct rum_lease_table *lt = calloc(1, sizeof *lt);
  if (lt == NULL) return RUM_ENOMEM;
  lt->cfg = *cfg;
  if (lt->cfg.lease_ms == 0) lt->cfg.lease_ms = RUM_LEASE_DEFAULT_MS;
  if (lt->cfg.max_sessions == 0) lt->cfg.max_sessions = RUM_LEASE_DEFAULT_SESSIONS;
  if (lt->cfg.max_expired == 0) lt->cfg.max_expired = RUM_LEASE_DEFAULT_EXPIRED;
  lt->nbuckets = pow2_at_least(lt->cfg.max_sessions);
  lt->ring_nbuckets = pow2_at_least(lt->cfg.max_expired);
  lt->sessions = calloc(lt->cfg.max_sessions, sizeof *lt->sessions);
  lt->buckets = malloc(lt->nbuckets * sizeof *lt->buckets);
  lt->live = calloc(lt->cfg.max_sessions, sizeof *lt->live);
  lt->ring = calloc(lt->cfg.max_expired, sizeof *lt->ring);
  lt->ring_buckets = malloc(lt->ring_nbuckets * sizeof *lt->ring_buckets);
  if (lt->sessions == NULL || lt->buckets == NULL || lt->live == NULL || lt->ring == NULL ||
      lt->ring_buckets == NULL) {
    rum__lease_destroy(lt);
    return RUM_ENOMEM;
  }
  for (uint32_t i = 0; i < lt->nbuckets; i++) lt->buckets[i] = NIL;
  for (uint32_t i = 0; i < lt->ring_nbuckets; i++) lt->ring_buckets[i] = NIL;
  for (uint32_t i = 0; i < lt->cfg.max_sessions; i++)
    lt->sessions[i].next = i + 1 < lt->cfg.max_sessions ? (int32_t)(i + 1) : NIL;
  lt->free_head = 0;
  *out = lt;
  return 0;
}

void rum__lease_destroy(struct rum_lease_table *lt) {
  if (lt == NULL) return;
  free(lt->sessions);
  free(lt->buckets);
  free(lt->live);
  free(lt->ring);
  free(lt->ring_buckets);
  free(lt);
}

/* ---- live sessions ---- */

static struct session *session_find(const struct rum_lease_table *lt, uint32_t sender,
                                    uint64_t session) {
  int32_t i = lt->buckets[key_hash(sender, session) & (lt->nbuckets - 1)];
  while (i != NIL) {
    struct session *s = &lt->sessions[i];
    if (s->sender == sender && s->session == session) return s;
    i = s->next;
  }
  return NULL;
}

static struct session *session_add(struct rum_lease_table *lt, uint32_t sender,
                                   uint64_t session, uint64_t now_ms) {
  if (lt->free_head == NIL) return NULL;
  int32_t i = lt->free_head;
  struct session *s = &lt->sessions[i];
  lt->free_head = s->next;
  uint32_t b = key_hash(sender, session) & (lt->nbuckets - 1);
  *s = (struct session){.sender = sender, .session = session, .last_ms = now_ms,
                        .lease_ms = lt->cfg.lease_ms, .next = lt->buckets[b], .pos = lt->nlive};
  lt->buckets[b] = i;
  lt->live[lt->nlive++] = (uint32_t)i;
  return s;
}

static void session_remove(struct rum_lease_table *lt, struct session *s) {
  int32_t idx = (int32_t)(s - lt->sessions);
  int32_t *pp = &lt->buckets[key_hash(s->sender, s->session) & (lt->nbuckets - 1)];
  while (*pp != idx) pp = &lt->sessions[*pp].next;
  *pp = s->next;
  uint32_t last = lt->live[--lt->nlive];
  lt->live[s->pos] = last;
  lt->sessions[last].pos = s->pos;
  if (s->node) lt->nnodes--;
  s->next = lt->free_head;
  lt->free_head = idx;
}

/* ---- remembered expired sessions ---- */

static bool expired_find(const struct rum_lease_table *lt, uint32_t sender, uint64_t session) {
  int32_t i = lt->ring_buckets[key_hash(sender, session) & (lt->ring_nbuckets - 1)];
  while (i != NIL) {
    const struct expired *e = &lt->ring[i];
    if (e->sender == sender && e->session == session) return true;
    i = e->next;
  }
  return false;
}

static void expired_unlink(struct rum_lease_table *lt, int32_t idx) {
  struct expired *e = &lt->ring[idx];
  int32_t *pp = &lt->ring_buckets[key_hash(e->sender, e->session) & (lt->ring_nbuckets - 1)];
  while (*pp != idx) pp = &lt->ring[*pp].next;
  *pp = e->next;
  e->used = false;
  lt->ring_count--;
}

static void expired_add(struct rum_lease_table *lt, uint32_t sender, uint64_t session) {
  int32_t idx = (int32_t)lt->ring_next;
  lt->ring_next = (lt->ring_next + 1) % lt->cfg.max_expired;
  if (lt->ring[idx].used) expired_unlink(lt, idx); /* the oldest is forgotten */
  uint32_t b = key_hash(sender, session) & (lt->ring_nbuckets - 1);
  lt->ring[idx] = (struct expired){.sender = sender, .session = session, .used = true,
                                   .next = lt->ring_buckets[b]};
  lt->ring_buckets[b] = idx;
  lt->ring_count++;
}

/* ---- the interface ---- */

static int renew(struct rum_lease_table *lt, uint32_t sender, uint64_t session, uint64_t now_ms,
                 struct session **out) {
  struct session *s = session_find(lt, sender, session);
  if (s == NULL) {
    if (expired_find(lt, sender, session)) {
      lt->stats.rejected++;
      return RUM_ELEASE;
    }
    s = session_add(lt, sender, session, now_ms);
    if (s == NULL) return RUM_EAGAIN;
  }
  if (now_ms > s->last_ms) s->last_ms = now_ms; /* a clock step back never shortens a lease */
  *out = s;
  return 0;
}

int rum__lease_touch(struct rum_lease_table *lt, uint32_t sender, uint64_t session,
                     uint64_t now_ms) {
  struct session *s;
  return renew(lt, sender, session, now_ms, &s);
}

int rum__lease_hello(struct rum_lease_table *lt, uint32_t sender, uint64_t session, bool is_node,
                     uint32_t want_ms, uint64_t now_ms, uint32_t *granted_ms) {
  struct session *s;
  int rc = renew(lt, sender, session, now_ms, &s);
  if (rc != 0) return rc;
  if (is_node && !s->node) lt->nnodes++;
  if (is_node) s->node = true;
  if (want_ms != 0) {
    if (want_ms < RUM_LEASE_MIN_MS) want_ms = RUM_LEASE_MIN_MS;
    if (want_ms > RUM_LEASE_MAX_MS) want_ms = RUM_LEASE_MAX_MS;
    s->lease_ms = want_ms;
  }
  if (granted_ms != NULL) *granted_ms = s->lease_ms;
  return 0;
}

uint32_t rum__lease_granted(const struct rum_lease_table *lt, uint32_t sender, uint64_t session) {
  const struct session *s = session_find(lt, sender, session);
  return s != NULL ? s->lease_ms : lt->cfg.lease_ms;
}

bool rum__lease_is_expired(const struct rum_lease_table *lt, uint32_t sender, uint64_t session) {
  return expired_find(lt, sender, session);
}

static void expire(struct rum_lease_table *lt, struct session *s, uint64_t silent_ms) {
  uint32_t sender = s->sender;
  uint64_t session = s->session;
  uint64_t bytes = 0;
  size_t n = rum__page_store_reclaim_owner(lt->cfg.store, sender, session, &bytes);
  session_remove(lt, s);
  lt->stats.expirations++;
  if (n > 0) {
    lt->stats.reclaimed_regions += n;
    lt->stats.reclaimed_bytes += bytes;
    expired_add(lt, sender, session);
    RUM_LOG_I("reclaimed %zu regions (%llu bytes) of client %u session %016llx: silent for %llu ms",
              n, (unsigned long long)bytes, sender, (unsigned long long)session,
              (unsigned long long)silent_ms);
  } else {
    RUM_LOG_D("lease of client %u session %016llx ended (no regions): silent for %llu ms", sender,
              (unsigned long long)session, (unsigned long long)silent_ms);
  }
  if (lt->cfg.forget != NULL) lt->cfg.forget(lt->cfg.forget_ctx, sender, session);
}

unsigned rum__lease_tick(struct rum_lease_table *lt, uint64_t now_ms) {
  unsigned expired = 0;
  /* Walk down so that the entry swapped into a freed position was already seen. */
  for (uint32_t i = lt->nlive; i-- > 0;) {
    struct session *s = &lt->sessions[lt->live[i]];
    if (s->node || now_ms <= s->last_ms) continue;
    uint64_t silent = now_ms - s->last_ms;
    if (silent <= s->lease_ms) continue;
    expire(lt, s, silent);
    expired++;
  }
  return expired;
}

void rum__lease_stats(const struct rum_lease_table *lt, struct rum_lease_stats *out) {
  *out = lt->stats;
  out->active = lt->nlive;
  out->clients = lt->nlive - lt->nnodes;
  out->remembered = lt->ring_count;
}
