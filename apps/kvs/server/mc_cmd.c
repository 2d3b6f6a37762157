/* The memcached front end: runs requests parsed by mc_proto.c against the same
 * keyspace the Redis commands use, with memcached 1.6's replies.
 *
 * Mapping (README "memcached front end"): a memcached item is a Redis string; its
 * client flags and CAS number live in the string's blob header (core/kv.h), so a
 * value SET over RESP reads back with flags 0 and a CAS that changes whenever
 * either protocol changes the value; exptimes become the key's expiry in ms. Keys
 * holding a hash, list, set or sorted set are misses for the get family, make add
 * fail, are overwritten by set and replace, removed by delete, re-timed by touch,
 * and refused by append/prepend (NOT_STORED), incr/decr (non-numeric) and cas
 * (EXISTS). flush_all empties the whole store, Redis keys included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mc_proto.h"
#include "server.h"

#define S srv.store
#define MC_SERVER_VERSION "1.6.18" /* the memcached whose replies these are */

enum { MC_MAX_VERBOSITY = 2 };

struct mc_conn {
  struct mc_req req;
  uint64_t swallow; /* data bytes of a refused value still to discard */
};

static struct mc_stats {
  uint64_t get_cmds, get_hits, get_misses, get_expired, set_cmds, touch_cmds, touch_hits, touch_misses,
      flush_cmds, delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses, cas_hits,
      cas_misses, cas_badval, total_items, curr_conns, total_conns;
} st;

static int64_t flush_at_ms; /* a flush_all with a delay: when it runs (0: none) */
static uint32_t verbosity;

static void line(struct client *c, const struct mc_req *r, const char *s) {
  if (r->noreply) return;
  add_raw(c, s, strlen(s));
  add_raw(c, "\r\n", 2);
}

/* memcached's realtime() in absolute ms: 0 never; -1 already expired (a negative
 * exptime, or a unix time not after now); else when the key expires. */
static int64_t expire_ms(int32_t exptime) {
  if (exptime == 0) return 0;
  if (exptime < 0) return -1;
  if (exptime > MC_REALTIME_MAXDELTA) {
    int64_t when = (int64_t)exptime * 1000;
    return when <= srv.now_ms ? -1 : when;
  }
  return srv.now_ms + (int64_t)exptime * 1000;
}

/* Give entry e of key the expiry `when` (expire_ms); a past one deletes the key. */
static void apply_expiry(const struct mc_token *key, kv_ref e, int64_t when) {
  if (when < 0) kv_delete(S, key->p, key->len);
  else kv_set_expire(S, e, when);
}

static struct kv_blob *string_of(kv_ref e) {
  if (e == KV_NULL || kv_entry(S, e)->type != KV_STRING) return NULL;
  return kv_blob(S, kv_entry(S, e)->val);
}

/* set, and the store step of add/replace/cas: a new value with its flags. */
static int store_new(struct client *c, const struct mc_req *r) {
  int64_t when = expire_ms(r->exptime);
  kv_ref b = kv_blob_new(S, r->data, r->data_len);
  if (b == KV_NULL) return line(c, r, "SERVER_ERROR out of memory storing object"), -1;
  kv_blob(S, b)->flags = r->flags;
  kv_ref e = kv_put(S, r->key.p, r->key.len, KV_STRING, b, 0);
  if (e == KV_NULL) {
    ph_free(S->heap, b);
    return line(c, r, "SERVER_ERROR out of memory storing object"), -1;
  }
  if (when != 0) apply_expiry(&r->key, e, when);
  db_touched(r->key.p, r->key.len);
  st.total_items++;
  line(c, r, "STORED");
  return 0;
}

/* append/prepend: the old value's flags and expiry stay. */
static void concat(struct client *c, const struct mc_req *r, kv_ref e) {
  struct kv_blob *old = string_of(e);
  if (old == NULL) return line(c, r, "NOT_STORED");
  size_t olen = old->len, total = olen + r->data_len;
  if (total > mc_value_max(r->key.len, old->flags)) return line(c, r, "NOT_STORED");
  kv_ref ob = kv_entry(S, e)->val, nb;
  if (r->cmd == MC_APPEND) {
    nb = kv_blob_resize(S, ob, total);
    if (nb == KV_NULL) return line(c, r, "SERVER_ERROR out of memory storing object");
    memcpy(kv_blob(S, nb)->data + olen, r->data, r->data_len);
  } else {
    nb = kv_blob_new(S, NULL, total);
    if (nb == KV_NULL) return line(c, r, "SERVER_ERROR out of memory storing object");
    struct kv_blob *n = kv_blob(S, nb), *o = kv_blob(S, ob);
    memcpy(n->data, r->data, r->data_len);
    memcpy(n->data + r->data_len, o->data, olen);
    n->flags = o->flags;
    ph_free(S->heap, ob);
  }
  kv_blob(S, nb)->len = (uint32_t)total;
  kv_entry(S, e)->val = nb;
  db_touched(r->key.p, r->key.len);
  st.total_items++;
  line(c, r, "STORED");
}

static void run_storage(struct client *c, const struct mc_req *r) {
  st.set_cmds++;
  kv_ref e = db_lookup(c, r->key.p, r->key.len);
  switch (r->cmd) {
  case MC_ADD:
    if (e != KV_NULL) return line(c, r, "NOT_STORED");
    break;
  case MC_REPLACE:
    if (e == KV_NULL) return line(c, r, "NOT_STORED");
    break;
  case MC_APPEND:
  case MC_PREPEND:
    if (e == KV_NULL) return line(c, r, "NOT_STORED");
    return concat(c, r, e);
  case MC_CAS: {
    if (e == KV_NULL) {
      st.cas_misses++;
      return line(c, r, "NOT_FOUND");
    }
    struct kv_blob *b = string_of(e);
    if (b == NULL || b->cas != r->cas) {
      st.cas_badval++;
      return line(c, r, "EXISTS");
    }
    st.cas_hits++;
    break;
  }
  default: break;
  }
  store_new(c, r);
}

/* "VALUE key flags bytes[ cas]\r\n" data "\r\n" */
static void add_value(struct client *c, const struct mc_token *key, const struct kv_blob *b, int with_cas) {
  char head[64];
  int n = with_cas ? snprintf(head, sizeof head, " %u %u %llu\r\n", b->flags, b->len, (unsigned long long)b->cas)
                   : snprintf(head, sizeof head, " %u %u\r\n", b->flags, b->len);
  add_raw(c, "VALUE ", 6);
  add_raw(c, key->p, key->len);
  add_raw(c, head, (size_t)n);
  add_raw(c, b->data, b->len);
  add_raw(c, "\r\n", 2);
}

static void run_get(struct client *c, const struct mc_req *r) {
  int touch = r->cmd == MC_GAT || r->cmd == MC_GATS;
  int with_cas = r->cmd == MC_GETS || r->cmd == MC_GATS;
  int64_t when = touch ? expire_ms(r->exptime) : 0;
  size_t mark = c->out.len;
  for (int i = 0; i < r->nkeys; i++) {
    const struct mc_token *k = &r->keys[i];
    if (k->len > MC_KEY_MAX) {
      /* memcached drops the answers gathered so far and sends only the error */
      if (c->close_asap != 2 && c->out.len >= mark) c->out.len = mark;
      return line(c, r, "CLIENT_ERROR bad command line format");
    }
    kv_ref e = db_lookup(c, k->p, k->len);
    struct kv_blob *b = string_of(e);
    if (touch) st.touch_cmds++;
    else st.get_cmds++;
    if (b == NULL) {
      if (touch) st.touch_misses++;
      else st.get_misses++;
      continue;
    }
    if (touch) st.touch_hits++;
    else st.get_hits++;
    add_value(c, k, b, with_cas);
    if (touch) {
      apply_expiry(k, e, when);
      db_touched(k->p, k->len);
    }
  }
  add_raw(c, "END\r\n", 5);
}

static void run_arithmetic(struct client *c, const struct mc_req *r) {
  int incr = r->cmd == MC_INCR;
  kv_ref e = db_lookup(c, r->key.p, r->key.len);
  if (e == KV_NULL) {
    if (incr) st.incr_misses++;
    else st.decr_misses++;
    return line(c, r, "NOT_FOUND");
  }
  struct kv_blob *b = string_of(e);
  uint64_t v;
  if (b == NULL || b->len == 0 || mc_strtoull(b->data, b->len, &v) != 0)
    return line(c, r, "CLIENT_ERROR cannot increment or decrement non-numeric value");
  if (incr) v += r->delta; /* wraps at 2^64, as memcached's does */
  else v = r->delta > v ? 0 : v - r->delta;
  if (incr) st.incr_hits++;
  else st.decr_hits++;
  char buf[24];
  size_t n = (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  if (n <= b->len) {
    /* memcached rewrites in place, padding with spaces to the old length */
    memcpy(b->data, buf, n);
    memset(b->data + n, ' ', b->len - n);
    kv_blob_touch(S, kv_entry(S, e)->val);
  } else {
    uint32_t flags = b->flags;
    kv_ref nb = kv_blob_new(S, buf, n);
    if (nb == KV_NULL || kv_put(S, r->key.p, r->key.len, KV_STRING, nb, 1) == KV_NULL) {
      if (nb != KV_NULL) ph_free(S->heap, nb);
      return line(c, r, "SERVER_ERROR out of memory");
    }
    kv_blob(S, nb)->flags = flags;
  }
  db_touched(r->key.p, r->key.len);
  line(c, r, buf);
}

static void run_delete(struct client *c, const struct mc_req *r) {
  if (db_lookup(c, r->key.p, r->key.len) == KV_NULL) {
    st.delete_misses++;
    return line(c, r, "NOT_FOUND");
  }
  kv_delete(S, r->key.p, r->key.len);
  db_touched(r->key.p, r->key.len);
  st.delete_hits++;
  line(c, r, "DELETED");
}

static void run_touch(struct client *c, const struct mc_req *r) {
  st.touch_cmds++;
  kv_ref e = db_lookup(c, r->key.p, r->key.len);
  if (e == KV_NULL) {
    st.touch_misses++;
    return line(c, r, "NOT_FOUND");
  }
  st.touch_hits++;
  apply_expiry(&r->key, e, expire_ms(r->exptime));
  db_touched(r->key.p, r->key.len);
  line(c, r, "TOUCHED");
}

static void flush_now(void) {
  if (kv_flush(S) != 0) fprintf(stderr, "rum-kvs: memcached flush_all failed\n");
  db_touched_all();
  flush_at_ms = 0;
}

static void run_flush_all(struct client *c, const struct mc_req *r) {
  st.flush_cmds++;
  /* memcached invalidates what is older than realtime(delay) - 1 s: a delay of 1 is
   * at once, of N a flush N - 1 seconds from now. */
  int64_t when = r->has_exptime && r->exptime > 0 ? expire_ms(r->exptime) : -1;
  if (when > 0) when -= 1000;
  if (when <= srv.now_ms) flush_now();
  else flush_at_ms = when; /* a later flush_all replaces a pending one, as in memcached */
  line(c, r, "OK");
}

void mc_timer(void) {
  if (flush_at_ms != 0 && srv.now_ms >= flush_at_ms) flush_now();
}

static void stat_u(char *buf, size_t *len, size_t cap, const char *name, unsigned long long v) {
  int n = snprintf(buf + *len, cap - *len, "STAT %s %llu\r\n", name, v);
  if (n > 0 && *len + (size_t)n < cap) *len += (size_t)n;
}

static void run_stats_general(struct client *c) {
  char buf[4096];
  size_t len = 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  uint64_t bytes, blocks, segs;
  ph_usage(S->heap, &bytes, &blocks, &segs);
  stat_u(buf, &len, sizeof buf, "pid", (unsigned long long)getpid());
  stat_u(buf, &len, sizeof buf, "uptime", (unsigned long long)(srv.now_ms - srv.start_ms) / 1000);
  stat_u(buf, &len, sizeof buf, "time", (unsigned long long)srv.now_ms / 1000);
  len += (size_t)snprintf(buf + len, sizeof buf - len, "STAT version %s\r\n", MC_SERVER_VERSION);
  stat_u(buf, &len, sizeof buf, "pointer_size", sizeof(void *) * 8);
  len += (size_t)snprintf(buf + len, sizeof buf - len, "STAT rusage_user %ld.%06ld\r\nSTAT rusage_system %ld.%06ld\r\n",
                          (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec,
                          (long)ru.ru_stime.tv_usec);
  stat_u(buf, &len, sizeof buf, "max_connections", (unsigned long long)srv.cfg.maxclients);
  stat_u(buf, &len, sizeof buf, "curr_connections", st.curr_conns);
  stat_u(buf, &len, sizeof buf, "total_connections", st.total_conns);
  stat_u(buf, &len, sizeof buf, "rejected_connections", srv.stats.rejected);
  stat_u(buf, &len, sizeof buf, "cmd_get", st.get_cmds);
  stat_u(buf, &len, sizeof buf, "cmd_set", st.set_cmds);
  stat_u(buf, &len, sizeof buf, "cmd_flush", st.flush_cmds);
  stat_u(buf, &len, sizeof buf, "cmd_touch", st.touch_cmds);
  stat_u(buf, &len, sizeof buf, "get_hits", st.get_hits);
  stat_u(buf, &len, sizeof buf, "get_misses", st.get_misses);
  stat_u(buf, &len, sizeof buf, "get_expired", st.get_expired);
  stat_u(buf, &len, sizeof buf, "delete_misses", st.delete_misses);
  stat_u(buf, &len, sizeof buf, "delete_hits", st.delete_hits);
  stat_u(buf, &len, sizeof buf, "incr_misses", st.incr_misses);
  stat_u(buf, &len, sizeof buf, "incr_hits", st.incr_hits);
  stat_u(buf, &len, sizeof buf, "decr_misses", st.decr_misses);
  stat_u(buf, &len, sizeof buf, "decr_hits", st.decr_hits);
  stat_u(buf, &len, sizeof buf, "cas_misses", st.cas_misses);
  stat_u(buf, &len, sizeof buf, "cas_hits", st.cas_hits);
  stat_u(buf, &len, sizeof buf, "cas_badval", st.cas_badval);
  stat_u(buf, &len, sizeof buf, "touch_hits", st.touch_hits);
  stat_u(buf, &len, sizeof buf, "touch_misses", st.touch_misses);
  stat_u(buf, &len, sizeof buf, "bytes_read", srv.stats.net_in);
  stat_u(buf, &len, sizeof buf, "bytes_written", srv.stats.net_out);
  stat_u(buf, &len, sizeof buf, "limit_maxbytes", (unsigned long long)srv.cfg.cache_mb << 20);
  stat_u(buf, &len, sizeof buf, "threads", 1);
  stat_u(buf, &len, sizeof buf, "bytes", bytes);
  stat_u(buf, &len, sizeof buf, "curr_items", kv_dbsize(S));
  stat_u(buf, &len, sizeof buf, "total_items", st.total_items);
  stat_u(buf, &len, sizeof buf, "evictions", 0);
  add_raw(c, buf, len);
  add_raw(c, "END\r\n", 5);
}

static void run_stats(struct client *c, const struct mc_req *r) {
  const struct mc_token *a = &r->arg;
  if (a->len == 0) return run_stats_general(c);
  if (a->len == 5 && memcmp(a->p, "reset", 5) == 0) {
    uint64_t conns = st.curr_conns, total = st.total_conns;
    memset(&st, 0, sizeof st);
    st.curr_conns = conns;
    st.total_conns = total;
    return line(c, r, "RESET");
  }
  if (a->len == 8 && memcmp(a->p, "settings", 8) == 0) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "STAT maxconns %d\r\nSTAT tcpport %d\r\nSTAT verbosity %u\r\nSTAT item_size_max %d\r\n"
                     "STAT cas_enabled yes\r\nSTAT flush_enabled yes\r\nSTAT num_threads 1\r\nEND\r\n",
                     srv.cfg.maxclients, srv.cfg.memcached_port, verbosity, MC_ITEM_MAX);
    return add_raw(c, buf, (size_t)n);
  }
  line(c, r, "ERROR"); /* items, slabs, sizes, conns, detail: no slab allocator here */
}

static void run(struct client *c, const struct mc_req *r) {
  switch (r->cmd) {
  case MC_GET: case MC_GETS: case MC_GAT: case MC_GATS: return run_get(c, r);
  case MC_SET: case MC_ADD: case MC_REPLACE: case MC_APPEND: case MC_PREPEND: case MC_CAS:
    return run_storage(c, r);
  case MC_DELETE: return run_delete(c, r);
  case MC_INCR: case MC_DECR: return run_arithmetic(c, r);
  case MC_TOUCH: return run_touch(c, r);
  case MC_FLUSH_ALL: return run_flush_all(c, r);
  case MC_STATS: return run_stats(c, r);
  case MC_VERSION: return line(c, r, "VERSION " MC_SERVER_VERSION);
  case MC_VERBOSITY:
    verbosity = r->level > MC_MAX_VERBOSITY ? MC_MAX_VERBOSITY : r->level;
    return line(c, r, "OK");
  case MC_QUIT: c->close_asap = 1; return;
  case MC_NONE: return line(c, r, "ERROR");
  }
}

/* One parsed request: its error or its command. */
static void handle(struct client *c, struct mc_conn *m, size_t consumed) {
  struct mc_req *r = &m->req;
  if (verbosity > 1) {
    size_t n = consumed;
    const unsigned char *p = c->ibuf + c->ipos;
    const unsigned char *nl = memchr(p, '\n', n);
    if (nl != NULL) n = (size_t)(nl - p);
    fprintf(stderr, "<%d %.*s\n", c->fd, (int)(n < 300 ? n : 300), (const char *)p);
  }
  srv.now_ms = now_ms();
  srv.stats.commands++;
  if (r->error == NULL) return run(c, r);
  if (r->data != NULL) st.set_cmds++; /* a bad data chunk was still a set */
  if (r->swallow != 0) {
    m->swallow = r->swallow;
    /* memcached drops the old value of a set it cannot store */
    if (r->cmd == MC_SET && kv_delete(S, r->key.p, r->key.len)) db_touched(r->key.p, r->key.len);
  }
  line(c, r, r->error);
}

void mc_client_init(struct client *c) {
  c->mc = calloc(1, sizeof *c->mc);
  st.curr_conns++;
  st.total_conns++;
}

void mc_client_free(struct client *c) {
  if (c->mc == NULL) return;
  mc_req_free(&c->mc->req);
  free(c->mc);
  c->mc = NULL;
  st.curr_conns--;
}

void mc_process_input(struct client *c) {
  struct mc_conn *m = c->mc;
  if (m == NULL) {
    c->close_asap = 1;
    return;
  }
  while (!c->close_asap && c->out.len - c->out.off < KVS_OUT_PAUSE && c->ipos < c->ilen) {
    if (m->swallow != 0) {
      size_t n = c->ilen - c->ipos;
      if (n > m->swallow) n = (size_t)m->swallow;
      c->ipos += n;
      m->swallow -= n;
      continue;
    }
    if (c->need > c->ilen) break;
    size_t consumed, need;
    int rc = mc_parse(c->ibuf + c->ipos, c->ilen - c->ipos, &m->req, &consumed, &need);
    if (rc == MC_PARSE_INCOMPLETE) {
      c->need = c->ipos + need;
      break;
    }
    if (rc == MC_PARSE_CLOSE) {
      c->close_asap = 1;
      break;
    }
    handle(c, m, consumed);
    c->ipos += consumed;
    c->need = 0;
  }
}
