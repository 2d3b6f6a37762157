/* Sorted-set commands (Redis 7.0's t_zset.c behaviour) on core/zset.c: a dict from
 * member to score plus a skip list in (score, member) order, so a rank or the start of
 * a score or lex range is one O(log n) descent and replies follow the list's links. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

enum { Z_NX = 1, Z_XX = 2, Z_GT = 4, Z_LT = 8, Z_INCR = 16, Z_CH = 32 };

static kv_ref zset_of(kv_ref e) { return kv_entry(S, e)->val; }
static uint64_t zlen(kv_ref e) { return ((struct kv_zset *)kv_at(S, zset_of(e)))->len; }

/* A member (and its score), as a [member, score] pair when nested (RESP3). */
static void add_member(struct client *c, kv_ref node, int withscores, int nested) {
  struct kv_znode *n = kv_znode(S, node);
  struct pd_entry *m = kv_entry(S, n->ent);
  if (nested) add_array(c, 2);
  add_bulk(c, m->key, m->klen);
  if (withscores) add_double(c, n->score);
}

/* One zsetAdd: what it did (*added, *updated, *processed) and the resulting score.
 * 0, -1 when the increment made a NaN, -2 when the heap is full. */
static int zset_add_one(struct client *c, kv_ref z, int flags, double score, int i, int *added, int *updated,
                        int *processed, double *out) {
  double cur;
  int found = kv_zset_score(S, z, c->argv[i], c->argl[i], &cur);
  *added = *updated = *processed = 0;
  if (found) {
    if (flags & Z_NX) return 0;
    if (flags & Z_INCR) {
      score += cur;
      if (isnan(score)) return -1;
    }
    if (((flags & Z_LT) && score >= cur) || ((flags & Z_GT) && score <= cur)) return 0;
    *out = score;
    *processed = 1;
    if (score != cur) *updated = 1;
  } else if (flags & Z_XX) {
    return 0;
  } else {
    *out = score;
    *processed = *added = 1;
  }
  if (!*added && !*updated) return 0;
  int is_new;
  /* A listpack stores -0 as the integer 0, so Redis's ZSCORE then shows 0 while the
   * INCR reply showed -0: store 0 (-0.0 + 0.0 is +0.0), reply with what was asked. */
  if (kv_zset_set(S, z, c->argv[i], c->argl[i], score + 0.0, &is_new) != 0) return -2;
  return 0;
}

static void zadd_generic(struct client *c, int flags) {
  int si = 2;
  for (; si < c->argc; si++) {
    if (arg_eq(c, si, "nx")) flags |= Z_NX;
    else if (arg_eq(c, si, "xx")) flags |= Z_XX;
    else if (arg_eq(c, si, "ch")) flags |= Z_CH;
    else if (arg_eq(c, si, "incr")) flags |= Z_INCR;
    else if (arg_eq(c, si, "gt")) flags |= Z_GT;
    else if (arg_eq(c, si, "lt")) flags |= Z_LT;
    else break;
  }
  int elements = c->argc - si;
  if (elements % 2 || elements == 0) return add_syntax(c);
  elements /= 2;
  if ((flags & Z_NX) && (flags & Z_XX)) return add_error(c, "XX and NX options at the same time are not compatible");
  if (((flags & Z_GT) && (flags & Z_NX)) || ((flags & Z_LT) && (flags & Z_NX)) || ((flags & Z_GT) && (flags & Z_LT)))
    return add_error(c, "GT, LT, and/or NX options at the same time are not compatible");
  if ((flags & Z_INCR) && elements > 1) return add_error(c, "INCR option supports a single increment-element pair");
  double *scores = malloc((size_t)elements * sizeof *scores);
  if (scores == NULL) return add_oom(c);
  for (int j = 0; j < elements; j++)
    if (arg_double(c, si + 2 * j, &scores[j]) != 0) goto out;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) goto out;
  long long added = 0, updated = 0, processed = 0;
  double score = 0;
  if (e == KV_NULL && !(flags & Z_XX)) {
    e = agg_lookup(c, 1, KV_ZSET, kv_zset_new, &bad);
    if (bad) goto out;
  }
  for (int j = 0; e != KV_NULL && j < elements; j++) {
    int a, u, p;
    int rc = zset_add_one(c, zset_of(e), flags, scores[j], si + 2 * j + 1, &a, &u, &p, &score);
    if (rc != 0) {
      agg_changed(c, 1, zlen(e));
      if (rc == -1) add_error(c, "resulting score is not a number (NaN)");
      else add_oom(c);
      goto out;
    }
    added += a;
    updated += u;
    processed += p;
  }
  if (added + updated) agg_changed(c, 1, zlen(e));
  if (flags & Z_INCR) {
    if (processed) add_double(c, score);
    else add_null(c);
  } else {
    add_int(c, (flags & Z_CH) ? added + updated : added);
  }
out:
  free(scores);
}

void cmd_zadd(struct client *c) { zadd_generic(c, 0); }
void cmd_zincrby(struct client *c) { zadd_generic(c, Z_INCR); }

void cmd_zrem(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  long long n = 0;
  for (int i = 2; i < c->argc; i++) n += kv_zset_remove(S, zset_of(e), c->argv[i], c->argl[i]);
  if (n) agg_changed(c, 1, zlen(e));
  add_int(c, n);
}

void cmd_zscore(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  double d;
  if (e == KV_NULL || !kv_zset_score(S, zset_of(e), c->argv[2], c->argl[2], &d)) return add_null(c);
  add_double(c, d);
}

void cmd_zmscore(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  add_array(c, c->argc - 2);
  for (int i = 2; i < c->argc; i++) {
    double d;
    if (e == KV_NULL || !kv_zset_score(S, zset_of(e), c->argv[i], c->argl[i], &d)) add_null(c);
    else add_double(c, d);
  }
}

void cmd_zcard(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  add_int(c, e == KV_NULL ? 0 : (long long)zlen(e));
}

static void rank_generic(struct client *c, int rev) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  int64_t r = e == KV_NULL ? -1 : kv_zset_rank(S, zset_of(e), c->argv[2], c->argl[2]);
  if (r < 0) return add_null(c);
  add_int(c, rev ? (long long)zlen(e) - 1 - r : r);
}

void cmd_zrank(struct client *c) { rank_generic(c, 0); }
void cmd_zrevrank(struct client *c) { rank_generic(c, 1); }

/* A score or lex bound as zslParseRange / zslParseLexRangeItem read it. */
struct bound {
  double score;
  const unsigned char *lex;
  size_t lexlen;
  int ex;
  int inf; /* lex: -1 for "-", +1 for "+" */
};

static int parse_score_bound(const unsigned char *p, size_t n, struct bound *b) {
  char small[128];
  char *buf = n < sizeof small ? small : malloc(n + 1);
  if (buf == NULL) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  b->ex = buf[0] == '(';
  char *end;
  b->score = strtod(buf + b->ex, &end);
  int ok = *end == 0 && !isnan(b->score);
  if (buf != small) free(buf);
  return ok ? 0 : -1;
}

static int parse_lex_bound(const unsigned char *p, size_t n, struct bound *b) {
  b->inf = 0;
  if (n == 0) return -1;
  if (p[0] == '+' || p[0] == '-') {
    if (n > 1 && p[1] != 0) return -1;
    b->inf = p[0] == '+' ? 1 : -1;
    b->ex = 1;
    return 0;
  }
  if (p[0] != '(' && p[0] != '[') return -1;
  b->ex = p[0] == '(';
  b->lex = p + 1;
  b->lexlen = n - 1;
  return 0;
}

/* [*lo, *hi) is the rank range of the members within [min, max]. */
static void score_ranks(kv_ref z, const struct bound *min, const struct bound *max, uint64_t *lo, uint64_t *hi) {
  *lo = kv_zset_lower_score(S, z, min->score, min->ex);
  *hi = kv_zset_lower_score(S, z, max->score, !max->ex);
  if (min->score > max->score || (min->score == max->score && (min->ex || max->ex)) || *hi < *lo) *hi = *lo;
}

static int lex_cmp(const struct bound *a, const struct bound *b) {
  if (a->inf || b->inf) return a->inf == b->inf ? 0 : a->inf < b->inf ? -1 : 1;
  int c = memcmp(a->lex, b->lex, a->lexlen < b->lexlen ? a->lexlen : b->lexlen);
  if (c != 0) return c;
  return a->lexlen < b->lexlen ? -1 : a->lexlen > b->lexlen;
}

static uint64_t lex_rank(kv_ref z, const struct bound *b, int exclusive) {
  if (b->inf < 0) return 0;
  if (b->inf > 0) return ((struct kv_zset *)kv_at(S, z))->len;
  return kv_zset_lower_lex(S, z, b->lex, b->lexlen, exclusive);
}

static void lex_ranks(kv_ref z, const struct bound *min, const struct bound *max, uint64_t *lo, uint64_t *hi) {
  int c = lex_cmp(min, max);
  *lo = lex_rank(z, min, min->ex);
  *hi = lex_rank(z, max, !max->ex);
  if (c > 0 || (c == 0 && (min->ex || max->ex)) || *hi < *lo) *hi = *lo;
}

enum { R_RANK, R_SCORE, R_LEX, R_AUTO };

/* Members of ranks [lo, hi) (ascending), from the high end when rev, after skipping
 * offset of them, at most limit (negative: no limit). */
static void emit_ranks(struct client *c, kv_ref z, uint64_t lo, uint64_t hi, int rev, long long offset,
                       long long limit, int withscores) {
  uint64_t n = hi - lo;
  if (offset < 0) n = 0;
  else n = (uint64_t)offset >= n ? 0 : n - (uint64_t)offset;
  if (limit >= 0 && (uint64_t)limit < n) n = (uint64_t)limit;
  add_array(c, (long long)(withscores && c->proto == 2 ? 2 * n : n));
  if (n == 0) return;
  uint64_t skip = offset > 0 ? (uint64_t)offset : 0;
  /* One O(log n) descent to the first member, then neighbour links. */
  kv_ref node = kv_zset_node_at(S, z, rev ? hi - 1 - skip : lo + skip);
  for (uint64_t i = 0; i < n; i++) {
    add_member(c, node, withscores, withscores && c->proto == 3);
    node = rev ? kv_zset_prev(S, node) : kv_zset_next(S, node);
  }
}

static void zrange_generic(struct client *c, int type, int rev) {
  int withscores = 0, dir_auto = rev < 0;
  long long offset = 0, limit = -1;
  if (rev < 0) rev = 0;
  for (int j = 4; j < c->argc; j++) {
    int left = c->argc - j - 1;
    if (arg_eq(c, j, "withscores")) {
      withscores = 1;
    } else if (arg_eq(c, j, "limit") && left >= 2) {
      if (arg_ll(c, j + 1, &offset) != 0 || arg_ll(c, j + 2, &limit) != 0) return;
      j += 2;
    } else if (dir_auto && arg_eq(c, j, "rev")) {
      rev = 1;
    } else if (type == R_AUTO && arg_eq(c, j, "bylex")) {
      type = R_LEX;
    } else if (type == R_AUTO && arg_eq(c, j, "byscore")) {
      type = R_SCORE;
    } else {
      return add_syntax(c);
    }
  }
  if (type == R_AUTO) type = R_RANK;
  if (limit != -1 && type == R_RANK)
    return add_error(c, "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withscores && type == R_LEX)
    return add_error(c, "syntax error, WITHSCORES not supported in combination with BYLEX");
  int mi = 2, ma = 3;
  if (rev && type != R_RANK) mi = 3, ma = 2;
  long long start = 0, end = 0;
  struct bound min, max;
  if (type == R_RANK) {
    if (arg_ll(c, mi, &start) != 0 || arg_ll(c, ma, &end) != 0) return;
  } else if (type == R_SCORE) {
    if (parse_score_bound(c->argv[mi], c->argl[mi], &min) != 0 ||
        parse_score_bound(c->argv[ma], c->argl[ma], &max) != 0)
      return add_error(c, "min or max is not a float");
  } else if (parse_lex_bound(c->argv[mi], c->argl[mi], &min) != 0 ||
             parse_lex_bound(c->argv[ma], c->argl[ma], &max) != 0) {
    return add_error(c, "min or max not valid string range item");
  }
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_array(c, 0);
  kv_ref z = zset_of(e);
  long long len = (long long)zlen(e);
  if (type == R_RANK) {
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return add_array(c, 0);
    if (end >= len) end = len - 1;
    /* A reversed rank range counts from the top. */
    uint64_t lo = rev ? (uint64_t)(len - 1 - end) : (uint64_t)start;
    uint64_t hi = rev ? (uint64_t)(len - start) : (uint64_t)end + 1;
    return emit_ranks(c, z, lo, hi, rev, 0, -1, withscores);
  }
  uint64_t lo, hi;
  if (offset > 0 && offset >= len) return add_array(c, 0);
  if (type == R_SCORE) score_ranks(z, &min, &max, &lo, &hi);
  else lex_ranks(z, &min, &max, &lo, &hi);
  emit_ranks(c, z, lo, hi, rev, offset, limit, withscores);
}

void cmd_zrange(struct client *c) { zrange_generic(c, R_AUTO, -1); }
void cmd_zrevrange(struct client *c) { zrange_generic(c, R_RANK, 1); }
void cmd_zrangebyscore(struct client *c) { zrange_generic(c, R_SCORE, 0); }

void cmd_zcount(struct client *c) {
  struct bound min, max;
  if (parse_score_bound(c->argv[2], c->argl[2], &min) != 0 || parse_score_bound(c->argv[3], c->argl[3], &max) != 0)
    return add_error(c, "min or max is not a float");
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  uint64_t lo, hi;
  score_ranks(zset_of(e), &min, &max, &lo, &hi);
  add_int(c, (long long)(hi - lo));
}

static void pop_generic(struct client *c, int max_end) {
  if (c->argc > 3) return add_syntax(c);
  long long count = -1;
  int has_count = c->argc == 3;
  if (has_count) {
    if (arg_long_range(c, 2, 0, LLONG_MAX, "value is out of range, must be positive", &count) != 0) return;
  }
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL || count == 0) return add_array(c, 0);
  if (count == -1) count = 1;
  kv_ref z = zset_of(e);
  uint64_t len = zlen(e), n = (uint64_t)count < len ? (uint64_t)count : len;
  int nested = c->proto == 3 && has_count;
  add_array(c, (long long)(nested ? n : 2 * n));
  kv_ref node = n ? kv_zset_node_at(S, z, max_end ? len - 1 : 0) : KV_NULL;
  for (uint64_t i = 0; i < n; i++) {
    add_member(c, node, 1, nested);
    node = max_end ? kv_zset_prev(S, node) : kv_zset_next(S, node);
  }
  kv_zset_remove_range(S, z, max_end ? len - n : 0, n);
  agg_changed(c, 1, zlen(e));
}

void cmd_zpopmin(struct client *c) { pop_generic(c, 0); }
void cmd_zpopmax(struct client *c) { pop_generic(c, 1); }

void cmd_zscan(struct client *c) {
  if (scan_cursor_ok(c, 2) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_ZSET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_empty_scan(c);
  scan_generic(c, ((struct kv_zset *)kv_at(S, zset_of(e)))->dict, 2, SCAN_ZSET);
}
