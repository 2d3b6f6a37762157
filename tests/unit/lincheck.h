/* A linearizability checker for one register (one page) with unique written values:
 * the history of reads and writes a replication test records through librum.
 *
 * Each operation has an invocation and a response time (any clock, the same for all);
 * a write whose outcome is unknown (its rum_sync failed or timed out) has responded =
 * false and may take effect at any time after its invocation, or never. The checker
 * searches for a total order that respects real time (an operation that responded
 * before another was invoked comes first) in which every read returns the latest
 * write before it (Wing and Gong's search, with Lowe's memo of (operations done,
 * register value) so that each such state is explored once). Registers are
 * independent (linearizability is local), so a multi-page history is checked page by
 * page. Up to 64 operations per register. */
#ifndef RUM_TEST_LINCHECK_H
#define RUM_TEST_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LIN_MAX_OPS = 64 };

struct lin_op {
  bool write;
  uint64_t value;      /* written, or read */
  uint64_t invoked, returned;
  bool responded;      /* false: a write with unknown outcome (reads always respond) */
};

struct lin_memo {
  uint64_t *keys;      /* (mask, value) pairs; mask 0 marks a free cell (never stored) */
  size_t cap, len;
};

static inline uint64_t lin_hash(uint64_t mask, uint64_t value) {
  uint64_t h = mask * 0x9e3779b97f4a7c15ull ^ value * 0xc2b2ae3d27d4eb4full;
  return h ^ (h >> 29);
}

/* Returns true if (mask, value) was seen before, else records it. */
static inline bool lin_memo_seen(struct lin_memo *m, uint64_t mask, uint64_t value) {
  if (2 * (m->len + 1) > m->cap) {
    struct lin_memo n = {.cap = m->cap ? m->cap * 2 : 1024};
    n.keys = calloc(n.cap * 2, sizeof *n.keys);
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[2 * i] != 0) lin_memo_seen(&n, m->keys[2 * i], m->keys[2 * i + 1]);
    free(m->keys);
    *m = n;
  }
  size_t i = lin_hash(mask, value) & (m->cap - 1);
  while (m->keys[2 * i] != 0) {
    if (m->keys[2 * i] == mask && m->keys[2 * i + 1] == value) return true;
    i = (i + 1) & (m->cap - 1);
  }
  m->keys[2 * i] = mask;
  m->keys[2 * i + 1] = value;
  m->len++;
  return false;
}

struct lin_search {
  const struct lin_op *ops;
  size_t n;
  uint64_t must;       /* the operations that have to be in the order: all that responded */
  struct lin_memo memo;
};

/* Can the operations not in done be ordered after a prefix that leaves value? */
static inline bool lin_step(struct lin_search *s, uint64_t done, uint64_t value) {
  if ((done & s->must) == s->must) return true;
  if (lin_memo_seen(&s->memo, done | (UINT64_C(1) << 63), value)) return false;
  /* The earliest response among the operations left: whatever goes next was invoked
   * before it. */
  uint64_t horizon = UINT64_MAX;
  for (size_t i = 0; i < s->n; i++)
    if (!(done >> i & 1) && s->ops[i].responded && s->ops[i].returned < horizon) horizon = s->ops[i].returned;
  for (size_t i = 0; i < s->n; i++) {
    const struct lin_op *o = &s->ops[i];
    if ((done >> i & 1) || o->invoked > horizon) continue;
    if (o->write) {
      if (lin_step(s, done | UINT64_C(1) << i, o->value)) return true;
    } else if (o->value == value && lin_step(s, done | UINT64_C(1) << i, value)) {
      return true;
    }
  }
  return false;
}

/* Check one register that starts at initial. Returns true when linearizable; else
 * false with a one-line reason in why (n > LIN_MAX_OPS - 1 is refused too). */
static inline bool lin_check_register(const struct lin_op *ops, size_t n, uint64_t initial, char *why,
                                      size_t whylen) {
  if (n >= LIN_MAX_OPS) {
    snprintf(why, whylen, "%zu operations on one register: at most %d", n, LIN_MAX_OPS - 1);
    return false;
  }
  struct lin_search s = {.ops = ops, .n = n};
  for (size_t i = 0; i < n; i++)
    if (ops[i].responded) s.must |= UINT64_C(1) << i;
  bool ok = lin_step(&s, 0, initial);
  free(s.memo.keys);
  if (!ok) {
    /* Name a read that no order explains, for the message. */
    for (size_t i = 0; i < n; i++) {
      if (ops[i].write) continue;
      bool written = ops[i].value == initial;
      for (size_t j = 0; j < n && !written; j++) written = ops[j].write && ops[j].value == ops[i].value;
      if (!written) {
        snprintf(why, whylen, "read %zu returned %llu, which nothing wrote", i, (unsigned long long)ops[i].value);
        return false;
      }
    }
    snprintf(why, whylen, "no order of the %zu operations respects real time and the reads", n);
  }
  return ok;
}

#endif
