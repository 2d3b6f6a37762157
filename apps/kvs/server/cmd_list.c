/* List commands (Redis 7.0's t_list.c behaviour) on the heap's ring of blob refs
 * (core/list.c): pushes and pops at the ends are O(1), ranges read slots in place. */
#include <limits.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

static kv_ref list_of(kv_ref e) { return kv_entry(S, e)->val; }
static struct kv_list *L(kv_ref e) { return kv_at(S, list_of(e)); }

static int blob_eq(kv_ref b, const unsigned char *p, size_t n) {
  struct kv_blob *pb = kv_blob(S, b);
  return pb->len == n && memcmp(pb->data, p, n) == 0;
}

static void push_generic(struct client *c, int tail, int only_existing) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) {
    if (only_existing) return add_int(c, 0);
    e = agg_lookup(c, 1, KV_LIST, kv_list_new, &bad);
    if (bad) return;
  }
  for (int i = 2; i < c->argc; i++) {
    kv_ref b = kv_blob_new(S, c->argv[i], c->argl[i]);
    if (b == KV_NULL || kv_list_push(S, list_of(e), tail, b) != 0) {
      ph_free(S->heap, b);
      agg_changed(c, 1, L(e)->len);
      return add_oom(c);
    }
  }
  agg_changed(c, 1, L(e)->len);
  add_int(c, (long long)L(e)->len);
}

void cmd_lpush(struct client *c) { push_generic(c, 0, 0); }
void cmd_rpush(struct client *c) { push_generic(c, 1, 0); }
void cmd_lpushx(struct client *c) { push_generic(c, 0, 1); }
void cmd_rpushx(struct client *c) { push_generic(c, 1, 1); }

static void pop_generic(struct client *c, int tail) {
  long long count = 0;
  int has_count = c->argc == 3;
  if (c->argc > 3) return add_errorf(c, "wrong number of arguments for '%s' command", tail ? "rpop" : "lpop");
  if (has_count && arg_long_range(c, 2, 0, LLONG_MAX, "value is out of range, must be positive", &count) != 0)
    return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return has_count ? add_null_array(c) : add_null(c);
  if (has_count && count == 0) return add_array(c, 0);
  if (!has_count) {
    kv_ref b = kv_list_pop(S, list_of(e), tail);
    add_bulk_ref(c, b);
    ph_free(S->heap, b);
  } else {
    uint64_t n = (uint64_t)count < L(e)->len ? (uint64_t)count : L(e)->len;
    add_array(c, (long long)n);
    for (uint64_t i = 0; i < n; i++) {
      kv_ref b = kv_list_pop(S, list_of(e), tail);
      add_bulk_ref(c, b);
      ph_free(S->heap, b);
    }
  }
  agg_changed(c, 1, L(e)->len);
}

void cmd_lpop(struct client *c) { pop_generic(c, 0); }
void cmd_rpop(struct client *c) { pop_generic(c, 1); }

void cmd_llen(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  add_int(c, e == KV_NULL ? 0 : (long long)L(e)->len);
}

/* Redis's index normalisation for LRANGE and LTRIM: 0 when the range is empty. */
static int clamp_range(long long len, long long *start, long long *end) {
  if (*start < 0) *start += len;
  if (*end < 0) *end += len;
  if (*start < 0) *start = 0;
  if (*start > *end || *start >= len) return 0;
  if (*end >= len) *end = len - 1;
  return 1;
}

void cmd_lrange(struct client *c) {
  long long start, end;
  if (arg_ll(c, 2, &start) != 0 || arg_ll(c, 3, &end) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL || !clamp_range((long long)L(e)->len, &start, &end)) return add_array(c, 0);
  add_array(c, end - start + 1);
  for (long long i = start; i <= end; i++) add_bulk_ref(c, *kv_list_slot(S, list_of(e), (uint64_t)i));
}

void cmd_lindex(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_null(c);
  long long i;
  if (arg_ll(c, 2, &i) != 0) return;
  long long len = (long long)L(e)->len;
  if (i < 0) i += len;
  if (i < 0 || i >= len) return add_null(c);
  add_bulk_ref(c, *kv_list_slot(S, list_of(e), (uint64_t)i));
}

void cmd_lset(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_error(c, "no such key");
  long long i;
  if (arg_ll(c, 2, &i) != 0) return;
  long long len = (long long)L(e)->len;
  if (i < 0) i += len;
  if (i < 0 || i >= len) return add_error(c, "index out of range");
  kv_ref b = kv_blob_new(S, c->argv[3], c->argl[3]);
  if (b == KV_NULL) return add_oom(c);
  kv_ref *slot = kv_list_slot(S, list_of(e), (uint64_t)i);
  ph_free(S->heap, *slot);
  *slot = b;
  agg_changed(c, 1, 1);
  add_ok(c);
}

void cmd_lrem(struct client *c) {
  long long count;
  if (arg_ll(c, 2, &count) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  kv_ref l = list_of(e);
  struct kv_list *pl = L(e);
  uint64_t len = pl->len, removed = 0;
  uint64_t limit = count == 0 ? UINT64_MAX : count < 0 ? (uint64_t)(-(count + 1)) + 1 : (uint64_t)count;
  /* One compaction pass in place (from the tail when count < 0), not a shift per hit. */
  if (count >= 0) {
    uint64_t w = 0;
    for (uint64_t r = 0; r < len; r++) {
      kv_ref b = *kv_list_slot(S, l, r);
      if (removed < limit && blob_eq(b, c->argv[3], c->argl[3])) {
        ph_free(S->heap, b);
        removed++;
      } else {
        *kv_list_slot(S, l, w++) = b;
      }
    }
  } else {
    uint64_t w = len;
    for (uint64_t r = len; r-- > 0;) {
      kv_ref b = *kv_list_slot(S, l, r);
      if (removed < limit && blob_eq(b, c->argv[3], c->argl[3])) {
        ph_free(S->heap, b);
        removed++;
      } else {
        *kv_list_slot(S, l, --w) = b;
      }
    }
    pl->head = (pl->head + removed) % pl->cap;
  }
  pl->len = len - removed;
  if (removed) agg_changed(c, 1, pl->len);
  add_int(c, (long long)removed);
}

void cmd_ltrim(struct client *c) {
  long long start, end;
  if (arg_ll(c, 2, &start) != 0 || arg_ll(c, 3, &end) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_ok(c);
  long long len = (long long)L(e)->len, ltrim, rtrim;
  if (clamp_range(len, &start, &end)) {
    ltrim = start;
    rtrim = len - end - 1;
  } else {
    ltrim = 0;
    rtrim = len;
  }
  for (long long i = 0; i < ltrim; i++) ph_free(S->heap, kv_list_pop(S, list_of(e), 0));
  for (long long i = 0; i < rtrim; i++) ph_free(S->heap, kv_list_pop(S, list_of(e), 1));
  if (ltrim || rtrim) agg_changed(c, 1, L(e)->len);
  add_ok(c);
}

void cmd_linsert(struct client *c) {
  int after;
  if (arg_eq(c, 2, "after")) after = 1;
  else if (arg_eq(c, 2, "before")) after = 0;
  else return add_syntax(c);
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  kv_ref l = list_of(e);
  uint64_t len = L(e)->len;
  for (uint64_t i = 0; i < len; i++) {
    if (!blob_eq(*kv_list_slot(S, l, i), c->argv[3], c->argl[3])) continue;
    kv_ref b = kv_blob_new(S, c->argv[4], c->argl[4]);
    if (b == KV_NULL || kv_list_insert(S, l, i + (uint64_t)after, b) != 0) {
      ph_free(S->heap, b);
      return add_oom(c);
    }
    agg_changed(c, 1, 1);
    return add_int(c, (long long)L(e)->len);
  }
  add_int(c, -1);
}

void cmd_lpos(struct client *c) {
  long long rank = 1, count = -1, maxlen = 0;
  for (int j = 3; j < c->argc; j++) {
    int more = j + 1 < c->argc;
    if (arg_eq(c, j, "rank") && more) {
      if (arg_ll(c, ++j, &rank) != 0) return;
      if (rank == 0)
        return add_error(c, "RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                            "or use negative to start from the end of the list");
    } else if (arg_eq(c, j, "count") && more) {
      if (arg_long_range(c, ++j, 0, LLONG_MAX, "COUNT can't be negative", &count) != 0) return;
    } else if (arg_eq(c, j, "maxlen") && more) {
      if (arg_long_range(c, ++j, 0, LLONG_MAX, "MAXLEN can't be negative", &maxlen) != 0) return;
    } else {
      return add_syntax(c);
    }
  }
  int from_tail = rank < 0;
  /* Redis negates rank in a long: LLONG_MIN stays negative and matches the first hit. */
  uint64_t skip = rank == LLONG_MIN ? 1 : from_tail ? (uint64_t)(-rank) : (uint64_t)rank;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_LIST, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return count != -1 ? add_array(c, 0) : add_null(c);
  kv_ref l = list_of(e);
  uint64_t len = L(e)->len, matches = 0;
  long long emitted = 0;
  size_t at = count != -1 ? add_deferred_len(c) : 0;
  for (uint64_t n = 0; n < len && (maxlen == 0 || n < (uint64_t)maxlen); n++) {
    uint64_t i = from_tail ? len - 1 - n : n;
    if (!blob_eq(*kv_list_slot(S, l, i), c->argv[2], c->argl[2])) continue;
    if (++matches < skip) continue;
    add_int(c, (long long)i);
    emitted++;
    if (count == -1 || (count != 0 && emitted >= count)) break;
  }
  if (count != -1) set_deferred_array(c, at, emitted);
  else if (emitted == 0) add_null(c);
}
