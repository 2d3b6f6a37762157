/* String commands, with Redis 7.0's option rules and error texts. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

enum { F_NX = 1, F_XX = 2, F_GET = 4, F_KEEPTTL = 8, F_PERSIST = 16, F_EX = 32, F_PX = 64, F_EXAT = 128,
       F_PXAT = 256 };
#define F_ANY_EXPIRE (F_EX | F_PX | F_EXAT | F_PXAT)

static void reply_bad_expire(struct client *c, const char *cmd) {
  add_errorf(c, "invalid expire time in '%s' command", cmd);
}

/* The absolute expiry time (ms) from an EX/PX/EXAT/PXAT argument; replies and
 * returns -1 on a bad value. */
static int expire_when(struct client *c, int i, int flags, const char *cmd, int64_t *when) {
  long long v;
  if (arg_ll(c, i, &v) != 0) return -1;
  int seconds = (flags & (F_EX | F_EXAT)) != 0;
  if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) return reply_bad_expire(c, cmd), -1;
  if (seconds) v *= 1000;
  if (flags & (F_EX | F_PX)) {
    if (v > LLONG_MAX - srv.now_ms) return reply_bad_expire(c, cmd), -1;
    v += srv.now_ms;
  }
  if (v <= 0) return reply_bad_expire(c, cmd), -1;
  *when = v;
  return 0;
}

/* parseExtendedStringArgumentsOrReply. *expire_arg is the index of the time value. */
static int parse_set_flags(struct client *c, int from, int is_set, int *flags, int *expire_arg) {
  *flags = 0;
  *expire_arg = 0;
  for (int j = from; j < c->argc; j++) {
    int has_next = j + 1 < c->argc;
    int f = *flags;
    if (is_set && arg_eq(c, j, "nx") && !(f & F_XX)) *flags |= F_NX;
    else if (is_set && arg_eq(c, j, "xx") && !(f & F_NX)) *flags |= F_XX;
    else if (is_set && arg_eq(c, j, "get")) *flags |= F_GET;
    else if (is_set && arg_eq(c, j, "keepttl") && !(f & (F_PERSIST | F_ANY_EXPIRE))) *flags |= F_KEEPTTL;
    else if (!is_set && arg_eq(c, j, "persist") && !(f & (F_ANY_EXPIRE | F_KEEPTTL))) *flags |= F_PERSIST;
    else if (has_next && arg_eq(c, j, "ex") && !(f & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT)))
      *flags |= F_EX, *expire_arg = ++j;
    else if (has_next && arg_eq(c, j, "px") && !(f & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT)))
      *flags |= F_PX, *expire_arg = ++j;
    else if (has_next && arg_eq(c, j, "exat") && !(f & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT)))
      *flags |= F_EXAT, *expire_arg = ++j;
    else if (has_next && arg_eq(c, j, "pxat") && !(f & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX)))
      *flags |= F_PXAT, *expire_arg = ++j;
    else return add_syntax(c), -1;
  }
  return 0;
}

/* The key's string blob: KV_NULL when absent; *bad when it holds another type (and
 * WRONGTYPE was sent). */
static kv_ref string_blob(struct client *c, int i, kv_ref *entry, int *bad) {
  kv_ref e = db_lookup_type(c, c->argv[i], c->argl[i], KV_STRING, bad);
  if (entry != NULL) *entry = e;
  return e == KV_NULL ? KV_NULL : kv_entry(S, e)->val;
}

/* Store argv[vi] at argv[ki]; 0 or -1 (OOM replied). */
static int store_string(struct client *c, int ki, const void *val, size_t vlen, int keep_ttl, int64_t when) {
  kv_ref b = kv_blob_new(S, val, vlen);
  if (b == KV_NULL) return add_oom(c), -1;
  kv_ref e = kv_put(S, c->argv[ki], c->argl[ki], KV_STRING, b, keep_ttl);
  if (e == KV_NULL) {
    ph_free(S->heap, b);
    return add_oom(c), -1;
  }
  if (when) kv_set_expire(S, e, when);
  db_touched(c->argv[ki], c->argl[ki]);
  return 0;
}

static void set_generic(struct client *c, int flags, int expire_arg, int value_arg, const char *cmd) {
  int64_t when = 0;
  if (expire_arg && expire_when(c, expire_arg, flags, cmd, &when) != 0) return;
  int found;
  if (flags & F_GET) {
    int bad;
    kv_ref old = string_blob(c, 1, NULL, &bad);
    if (bad) return;
    if (old == KV_NULL) add_null(c);
    else add_bulk_ref(c, old);
    found = old != KV_NULL;
  } else {
    found = db_lookup(c, c->argv[1], c->argl[1]) != KV_NULL;
  }
  if (((flags & F_NX) && found) || ((flags & F_XX) && !found)) {
    if (!(flags & F_GET)) add_null(c);
    return;
  }
  if (store_string(c, 1, c->argv[value_arg], c->argl[value_arg], (flags & F_KEEPTTL) != 0, when) != 0) return;
  if (!(flags & F_GET)) add_ok(c);
}

void cmd_set(struct client *c) {
  int flags, ea;
  if (parse_set_flags(c, 3, 1, &flags, &ea) != 0) return;
  set_generic(c, flags, ea, 2, "set");
}

void cmd_setex(struct client *c) { set_generic(c, F_EX, 2, 3, "setex"); }
void cmd_psetex(struct client *c) { set_generic(c, F_PX, 2, 3, "psetex"); }

void cmd_setnx(struct client *c) {
  if (db_lookup(c, c->argv[1], c->argl[1]) != KV_NULL) return add_int(c, 0);
  if (store_string(c, 1, c->argv[2], c->argl[2], 0, 0) == 0) add_int(c, 1);
}

void cmd_get(struct client *c) {
  int bad;
  kv_ref b = string_blob(c, 1, NULL, &bad);
  if (bad) return;
  if (b == KV_NULL) {
    srv.stats.misses++;
    return add_null(c);
  }
  srv.stats.hits++;
  add_bulk_ref(c, b);
}

void cmd_getset(struct client *c) { set_generic(c, F_GET, 0, 2, "getset"); }

void cmd_getdel(struct client *c) {
  int bad;
  kv_ref b = string_blob(c, 1, NULL, &bad);
  if (bad) return;
  if (b == KV_NULL) return add_null(c);
  add_bulk_ref(c, b);
  kv_delete(S, c->argv[1], c->argl[1]);
  db_touched(c->argv[1], c->argl[1]);
}

void cmd_getex(struct client *c) {
  int flags, ea;
  if (parse_set_flags(c, 2, 0, &flags, &ea) != 0) return;
  int64_t when = 0;
  if (ea && expire_when(c, ea, flags, "getex", &when) != 0) return;
  int bad;
  kv_ref e;
  kv_ref b = string_blob(c, 1, &e, &bad);
  if (bad) return;
  if (b == KV_NULL) return add_null(c);
  add_bulk_ref(c, b);
  if ((flags & (F_EXAT | F_PXAT)) && when <= srv.now_ms) {
    kv_delete(S, c->argv[1], c->argl[1]);
    db_touched(c->argv[1], c->argl[1]);
  } else if (flags & F_PERSIST) {
    if (kv_entry(S, e)->aux != 0) {
      kv_set_expire(S, e, 0);
      db_touched(c->argv[1], c->argl[1]);
    }
  } else if (when) {
    kv_set_expire(S, e, when);
    db_touched(c->argv[1], c->argl[1]);
  }
}

void cmd_mget(struct client *c) {
  add_array(c, c->argc - 1);
  for (int i = 1; i < c->argc; i++) {
    kv_ref e = db_lookup(c, c->argv[i], c->argl[i]);
    if (e == KV_NULL || kv_entry(S, e)->type != KV_STRING) add_null(c);
    else add_bulk_ref(c, kv_entry(S, e)->val);
  }
}

static void mset_generic(struct client *c, int nx) {
  if (c->argc % 2 == 0) return add_errorf(c, "wrong number of arguments for '%s' command", nx ? "msetnx" : "mset");
  if (nx) {
    for (int i = 1; i < c->argc; i += 2)
      if (db_lookup(c, c->argv[i], c->argl[i]) != KV_NULL) return add_int(c, 0);
  }
  for (int i = 1; i < c->argc; i += 2)
    if (store_string(c, i, c->argv[i + 1], c->argl[i + 1], 0, 0) != 0) return;
  if (nx) add_int(c, 1);
  else add_ok(c);
}

void cmd_mset(struct client *c) { mset_generic(c, 0); }
void cmd_msetnx(struct client *c) { mset_generic(c, 1); }

static void incr_generic(struct client *c, long long by) {
  int bad;
  kv_ref e;
  kv_ref b = string_blob(c, 1, &e, &bad);
  if (bad) return;
  long long v = 0;
  if (b != KV_NULL) {
    struct kv_blob *pb = kv_blob(S, b);
    if (parse_ll_buf(pb->data, pb->len, &v) != 0) return add_not_int(c);
  }
  if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v))
    return add_error(c, "increment or decrement would overflow");
  v += by;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld", v);
  if (store_string(c, 1, buf, (size_t)n, 1, 0) == 0) add_int(c, v);
}

void cmd_incr(struct client *c) { incr_generic(c, 1); }
void cmd_decr(struct client *c) { incr_generic(c, -1); }
void cmd_incrby(struct client *c) {
  long long by;
  if (arg_ll(c, 2, &by) == 0) incr_generic(c, by);
}
void cmd_decrby(struct client *c) {
  long long by;
  if (arg_ll(c, 2, &by) != 0) return;
  if (by == LLONG_MIN) return add_error(c, "decrement would overflow");
  incr_generic(c, -by);
}

void cmd_incrbyfloat(struct client *c) {
  int bad;
  kv_ref b = string_blob(c, 1, NULL, &bad);
  if (bad) return;
  long double v = 0, by;
  if (b != KV_NULL) {
    struct kv_blob *pb = kv_blob(S, b);
    if (parse_ldouble_buf(pb->data, pb->len, &v) != 0) return add_error(c, "value is not a valid float");
  }
  if (parse_ldouble_buf(c->argv[2], c->argl[2], &by) != 0) return add_error(c, "value is not a valid float");
  v += by;
  if (isnan(v) || isinf(v)) return add_error(c, "increment would produce NaN or Infinity");
  char buf[5200];
  int n = fmt_ldouble(buf, sizeof buf, v);
  if (n < 0) return add_error(c, "value is not a valid float");
  if (store_string(c, 1, buf, (size_t)n, 1, 0) == 0) add_bulk(c, buf, (size_t)n);
}

static int check_size(struct client *c, uint64_t total) {
  if (total <= KV_MAX_VALUE) return 0;
  add_error(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
  return -1;
}

void cmd_append(struct client *c) {
  int bad;
  kv_ref e;
  kv_ref b = string_blob(c, 1, &e, &bad);
  if (bad) return;
  if (b == KV_NULL) {
    if (store_string(c, 1, c->argv[2], c->argl[2], 0, 0) == 0) add_int(c, (long long)c->argl[2]);
    return;
  }
  uint64_t old = kv_blob(S, b)->len, total = old + c->argl[2];
  if (check_size(c, total) != 0) return;
  kv_ref nb = kv_blob_resize(S, b, total);
  if (nb == KV_NULL) return add_oom(c);
  struct kv_blob *pb = kv_blob(S, nb);
  memcpy(pb->data + old, c->argv[2], c->argl[2]);
  pb->len = total;
  kv_entry(S, e)->val = nb;
  db_touched(c->argv[1], c->argl[1]);
  add_int(c, (long long)total);
}

void cmd_strlen(struct client *c) {
  int bad;
  kv_ref b = string_blob(c, 1, NULL, &bad);
  if (bad) return;
  add_int(c, b == KV_NULL ? 0 : (long long)kv_blob(S, b)->len);
}

void cmd_getrange(struct client *c) {
  long long start, end;
  if (arg_ll(c, 2, &start) != 0 || arg_ll(c, 3, &end) != 0) return;
  int bad;
  kv_ref b = string_blob(c, 1, NULL, &bad);
  if (bad) return;
  if (b == KV_NULL) return add_bulk(c, "", 0);
  struct kv_blob *pb = kv_blob(S, b);
  long long len = (long long)pb->len;
  if (start < 0 && end < 0 && start > end) return add_bulk(c, "", 0);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return add_bulk(c, "", 0);
  add_bulk(c, pb->data + start, (size_t)(end - start + 1));
}

void cmd_setrange(struct client *c) {
  long long off;
  if (arg_ll(c, 2, &off) != 0) return;
  if (off < 0) return add_error(c, "offset is out of range");
  int bad;
  kv_ref e;
  kv_ref b = string_blob(c, 1, &e, &bad);
  if (bad) return;
  size_t vlen = c->argl[3];
  if (b == KV_NULL) {
    if (vlen == 0) return add_int(c, 0);
    if (check_size(c, (uint64_t)off + vlen) != 0) return;
    if (store_string(c, 1, NULL, 0, 0, 0) != 0) return;
    e = db_lookup(c, c->argv[1], c->argl[1]);
    b = kv_entry(S, e)->val;
  } else if (vlen == 0) {
    return add_int(c, (long long)kv_blob(S, b)->len);
  } else if (check_size(c, (uint64_t)off + vlen) != 0) {
    return;
  }
  uint64_t old = kv_blob(S, b)->len, need = (uint64_t)off + vlen;
  if (need > old) {
    kv_ref nb = kv_blob_resize(S, b, need);
    if (nb == KV_NULL) return add_oom(c);
    b = nb;
    kv_entry(S, e)->val = nb;
    memset(kv_blob(S, b)->data + old, 0, need - old);
    kv_blob(S, b)->len = need;
  }
  memcpy(kv_blob(S, b)->data + off, c->argv[3], vlen);
  kv_blob_touch(S, b);
  db_touched(c->argv[1], c->argl[1]);
  add_int(c, (long long)kv_blob(S, b)->len);
}
