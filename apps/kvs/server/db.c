/* What commands see of the keyspace: lookups with lazy expiry and statistics, change
 * tracking for durability and SAVE, and WATCH. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

struct watch {
  struct watch *next;
  struct client *c;
  int64_t expires_ms; /* the key's expiry when WATCHed (0: none or no key) */
  size_t klen;
  unsigned char key[];
};

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: SPOP, SRANDMEMBER and RANDOMKEY need no more than this. */
uint64_t kvs_random(void) {
  uint64_t x = srv.rng ? srv.rng : 0x9e3779b97f4a7c15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  srv.rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

kv_ref db_lookup(struct client *c, const unsigned char *key, size_t klen) {
  (void)c;
  uint64_t before = srv.store->expired;
  kv_ref e = kv_lookup(srv.store, key, klen, srv.now_ms);
  if (srv.store->expired != before) db_touched(key, klen);
  return e;
}

kv_ref db_lookup_type(struct client *c, const unsigned char *key, size_t klen, uint8_t type, int *bad) {
  kv_ref e = db_lookup(c, key, klen);
  *bad = 0;
  if (e != KV_NULL && kv_entry(srv.store, e)->type != type) {
    add_wrongtype(c);
    *bad = 1;
    return KV_NULL;
  }
  return e;
}

void db_touched(const unsigned char *key, size_t klen) {
  srv.dirty++;
  for (struct watch *w = srv.watches; w != NULL; w = w->next)
    if (w->klen == klen && memcmp(w->key, key, klen) == 0) w->c->watch_dirty = 1;
}

void db_touched_all(void) {
  srv.dirty++;
  for (struct watch *w = srv.watches; w != NULL; w = w->next) w->c->watch_dirty = 1;
}

void watch_add(struct client *c, const unsigned char *key, size_t klen) {
  for (struct watch *w = srv.watches; w != NULL; w = w->next)
    if (w->c == c && w->klen == klen && memcmp(w->key, key, klen) == 0) return;
  struct watch *w = malloc(sizeof *w + klen);
  if (w == NULL) return;
  w->c = c;
  kv_ref e = db_lookup(c, key, klen);
  w->expires_ms = e == KV_NULL ? 0 : kv_entry(srv.store, e)->aux;
  w->klen = klen;
  memcpy(w->key, key, klen);
  w->next = srv.watches;
  srv.watches = w;
  c->nwatched++;
}

void watch_clear(struct client *c) {
  if (c->nwatched == 0) {
    c->watch_dirty = 0;
    return;
  }
  struct watch **link = &srv.watches;
  while (*link != NULL) {
    struct watch *w = *link;
    if (w->c == c) {
      *link = w->next;
      free(w);
    } else {
      link = &w->next;
    }
  }
  c->nwatched = 0;
  c->watch_dirty = 0;
}

/* Redis 7: a watched key whose time passes after WATCH fails the EXEC, also when the
 * active sweep removed it without anyone touching it. */
int watch_expired(struct client *c) {
  for (struct watch *w = srv.watches; w != NULL && c->nwatched; w = w->next)
    if (w->c == c && w->expires_ms != 0 && w->expires_ms <= srv.now_ms) return 1;
  return 0;
}
