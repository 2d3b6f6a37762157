/* rum_journal_open / rum_journal_close: make or find the journal region, finish what
 * a dead process left in it (recovery), and hand the journal to the cache. The
 * journal's pages are read and written with the store directly, never through the
 * cache, so that no stale copy of them is ever resident. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#include "client/cache.h"
#include "client/client.h"
#include "client/journal.h"
#include "proto/wire.h"
#include "util/log.h"

enum { MIN_JOURNAL_BYTES = 64 << 10 };

static int read_pages(struct rum_client *cl, struct rum_region *jr, uint64_t first, uint64_t n, uint8_t *dst) {
  struct rum_cache *c = cl->cache;
  for (uint64_t done = 0; done < n;) {
    uint32_t k = n - done > RUM_WIRE_MAX_PAGES ? RUM_WIRE_MAX_PAGES : (uint32_t)(n - done);
    struct rum_store_error err = {0, 0};
    int rc = c->store.fetch(c->store_ctx, jr, first + done, k, dst + done * RUM_PAGE_SIZE, &err);
    if (rc != 0) return rc;
    done += k;
  }
  return 0;
}

static int write_header(struct rum_client *cl, struct rum_region *jr, uint64_t epoch, uint64_t nslots) {
  uint8_t page[RUM_PAGE_SIZE];
  memset(page, 0, sizeof page);
  struct rum_journal_header h = {RUM_JOURNAL_MAGIC, RUM_JOURNAL_VERSION, epoch, nslots};
  memcpy(page, &h, sizeof h);
  struct rum_page_io io = {jr, 0, page};
  struct rum_store_error err = {0, 0};
  return cl->cache->store.store(cl->cache->store_ctx, &io, 1, &err);
}

static uint64_t index_pages(uint64_t nslots) { return (nslots + RUM_JOURNAL_PER_PAGE - 1) / RUM_JOURNAL_PER_PAGE; }

/* Data slots a journal of npages holds: slots + ceil(slots / 16) <= npages - 1. */
static uint64_t slots_for(uint64_t npages) { return (npages - 1) * RUM_JOURNAL_PER_PAGE / (RUM_JOURNAL_PER_PAGE + 1); }

/* The regions recovery writes to, attached for it (and detached after, unless the
 * program had them attached already). */
struct target {
  char name[RUM_JOURNAL_NAME + 1];
  uint8_t *base;
  uint64_t npages;
  bool ours;
  bool made_here; /* created by this process: newer than every image of the name */
};

static struct target *target_for(struct rum_client *cl, struct target **ts, size_t *nt, const char *name) {
  for (size_t i = 0; i < *nt; i++)
    if (strcmp((*ts)[i].name, name) == 0) return &(*ts)[i];
  struct target *grown = realloc(*ts, (*nt + 1) * sizeof **ts);
  if (grown == NULL) return NULL;
  *ts = grown;
  struct target *t = &grown[(*nt)++];
  memset(t, 0, sizeof *t);
  memcpy(t->name, name, strlen(name) + 1);
  t->ours = !rum__client_named_attached(cl, name);
  size_t size = 0;
  t->base = rum__client_attach(cl, name, &size);
  t->npages = t->base != NULL ? rum__pages_for(size) : 0;
  t->made_here = t->base != NULL && rum__region_table_lookup(&cl->table, t->base)->fresh;
  return t;
}

/* Put back the undo images of the unfinished epoch (newest first: the oldest image
 * of a page, its committed bytes, is written last), write them home, then advance
 * the header. *restored gets the pages put back. */
static int recover(struct rum_client *cl, struct rum_region *jr, const struct rum_journal_header *h,
                   uint64_t *restored) {
  uint64_t nidx = index_pages(h->nslots), data_first = 1 + nidx;
  struct rum_journal_entry *ents = NULL;
  uint8_t *buf = malloc((size_t)RUM_WIRE_MAX_PAGES * RUM_PAGE_SIZE);
  size_t n = 0, cap = 0;
  int rc = buf != NULL ? 0 : RUM_ENOMEM;
  /* The index, until the first entry that is not of the unfinished epoch. */
  for (uint64_t ip = 0; rc == 0 && ip < nidx;) {
    uint64_t k = nidx - ip > RUM_WIRE_MAX_PAGES ? RUM_WIRE_MAX_PAGES : nidx - ip;
    if ((rc = read_pages(cl, jr, 1 + ip, k, buf)) != 0) break;
    bool more = true;
    for (uint64_t e = 0; more && e < k * RUM_JOURNAL_PER_PAGE && (ip * RUM_JOURNAL_PER_PAGE + e) < h->nslots; e++) {
      struct rum_journal_entry ent;
      memcpy(&ent, buf + e * RUM_JOURNAL_ENTRY, sizeof ent);
      if (ent.epoch != h->epoch || ent.name_len == 0 || ent.name_len > RUM_JOURNAL_NAME) {
        more = false;
        break;
      }
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 256;
        struct rum_journal_entry *g = realloc(ents, ncap * sizeof *g);
        if (g == NULL) {
          rc = RUM_ENOMEM;
          break;
        }
        ents = g;
        cap = ncap;
      }
      ents[n++] = ent;
    }
    if (!more) break;
    ip += k;
  }
  /* Check each entry with its data; a slot that did not fully arrive ends the epoch's
   * images (nothing after it went home: home writes wait for the journal's). */
  size_t valid = 0;
  struct target *ts = NULL;
  size_t nt = 0;
  uint8_t *data = malloc(n * (size_t)RUM_PAGE_SIZE + 1);
  if (rc == 0 && data == NULL) rc = RUM_ENOMEM;
  for (size_t s = 0; rc == 0 && s < n;) {
    size_t k = n - s > RUM_WIRE_MAX_PAGES ? RUM_WIRE_MAX_PAGES : n - s;
    if ((rc = read_pages(cl, jr, data_first + s, k, data + s * RUM_PAGE_SIZE)) != 0) break;
    s += k;
  }
  for (; rc == 0 && valid < n; valid++) {
    const uint8_t *d = (ents[valid].flags & RUM_JOURNAL_F_ZERO) ? NULL : data + valid * RUM_PAGE_SIZE;
    if (rum__journal_check(&ents[valid], d) != ents[valid].check) break;
  }
  for (size_t i = valid; rc == 0 && i-- > 0;) {
    char name[RUM_JOURNAL_NAME + 1];
    memcpy(name, ents[i].name, ents[i].name_len);
    name[ents[i].name_len] = 0;
    struct target *t = target_for(cl, &ts, &nt, name);
    if (t == NULL) {
      rc = RUM_ENOMEM;
      break;
    }
    /* Freed since, or freed and made again by this process (rum-kvs takes a dead
     * owner's lock so): nothing of the logged region is left to restore. */
    if (t->base == NULL || t->made_here || ents[i].page >= t->npages) continue;
    uint8_t *dst = t->base + ents[i].page * RUM_PAGE_SIZE;
    if (ents[i].flags & RUM_JOURNAL_F_ZERO) memset(dst, 0, RUM_PAGE_SIZE);
    else memcpy(dst, data + i * RUM_PAGE_SIZE, RUM_PAGE_SIZE);
    (*restored)++;
  }
  if (rc == 0) rc = rum__client_sync(cl); /* no journal installed yet: a plain sync */
  /* Only now is the epoch finished: a crash before this line recovers it again. */
  if (rc == 0) rc = write_header(cl, jr, h->epoch + 1, h->nslots);
  for (size_t i = 0; i < nt; i++)
    if (ts[i].ours && ts[i].base != NULL) {
      int drc = rum__client_detach(cl, ts[i].base);
      if (drc != 0 && rc == 0) rc = drc;
    }
  free(ts);
  free(data);
  free(ents);
  free(buf);
  return rc;
}

static struct rum_journal *journal_new(struct rum_region *jr, uint64_t epoch, uint64_t nslots, uint32_t tag) {
  struct rum_journal *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->ring_data = malloc((size_t)RUM_JOURNAL_RING * RUM_PAGE_SIZE);
  j->index_img = calloc(6, RUM_PAGE_SIZE);
  if (j->ring_data == NULL || j->index_img == NULL) {
    free(j->ring_data);
    free(j->index_img);
    free(j);
    return NULL;
  }
  j->region = jr;
  j->nslots = nslots;
  j->data_first = 1 + index_pages(nslots);
  j->epoch = epoch;
  j->tag = tag;
  return j;
}

int rum__client_journal_open(struct rum_client *cl, const char *name, size_t bytes) {
  if (name == NULL || bytes < MIN_JOURNAL_BYTES) return RUM_EINVAL;
  if (atomic_load(&cl->cache->journal) != NULL) return RUM_EBUSY;
  bool created = false;
  size_t size = 0;
  uint8_t *base = rum__client_attach(cl, name, &size);
  if (base == NULL && errno == ENOENT) {
    base = rum__client_alloc_named(cl, name, bytes);
    size = bytes;
    created = true;
  }
  if (base == NULL) return errno == EINVAL ? RUM_EINVAL : -errno;
  struct rum_region *jr = rum__region_table_lookup(&cl->table, base);
  uint64_t npages = rum__pages_for(size);
  uint64_t nslots = slots_for(npages);
  uint8_t page[RUM_PAGE_SIZE];
  int rc = created ? 0 : read_pages(cl, jr, 0, 1, page);
  struct rum_journal_header h = {RUM_JOURNAL_MAGIC, RUM_JOURNAL_VERSION, 1, nslots};
  if (rc == 0 && !created) {
    struct rum_journal_header got;
    memcpy(&got, page, sizeof got);
    if (got.magic == 0 && got.version == 0) {
      created = true; /* made by a process that died before writing the header */
    } else if (got.magic != RUM_JOURNAL_MAGIC) {
      rc = RUM_EPROTO;
    } else if (got.version != RUM_JOURNAL_VERSION) {
      rc = RUM_ENOTSUP;
    } else if (got.nslots == 0 || 1 + got.nslots + index_pages(got.nslots) > npages) {
      rc = RUM_EPROTO;
    } else {
      uint64_t restored = 0;
      rc = recover(cl, jr, &got, &restored);
      if (rc == 0 && restored > 0)
        RUM_LOG_W("journal %s: put back %llu page(s) of a sync that did not finish", name,
                  (unsigned long long)restored);
      h = got;
      h.epoch = got.epoch + 1;
    }
  }
  if (rc == 0 && !created && rum__pages_for(bytes) != npages) {
    /* Recovered, so nothing is pending: a journal of another size than asked for is
     * made again at that size (the epoch goes on). */
    rum__client_free(cl, base);
    base = rum__client_alloc_named(cl, name, bytes);
    if (base == NULL) return errno == EINVAL ? RUM_EINVAL : -errno;
    jr = rum__region_table_lookup(&cl->table, base);
    npages = rum__pages_for(bytes);
    h.nslots = slots_for(npages);
    created = true;
  }
  if (rc == 0 && created) rc = write_header(cl, jr, h.epoch, h.nslots);
  struct rum_journal *j = NULL;
  if (rc == 0) {
    cl->journal_tags = cl->journal_tags + 1 == 0 ? 1 : cl->journal_tags + 1;
    j = journal_new(jr, h.epoch, h.nslots, cl->journal_tags);
    if (j == NULL) rc = RUM_ENOMEM;
  }
  if (rc != 0) {
    rum__client_detach(cl, base);
    return rc;
  }
  /* A sync first, so that the first epoch starts from clean pages: a page dirtied
   * before the journal opened was never logged. */
  rc = rum__client_sync(cl);
  if (rc != 0) {
    free(j->ring_data);
    free(j->index_img);
    free(j);
    rum__client_detach(cl, base);
    return rc;
  }
  atomic_store(&cl->cache->journal, j);
  return 0;
}

void rum__client_journal_drop(struct rum_client *cl) {
  struct rum_journal *j = atomic_exchange(&cl->cache->journal, NULL);
  if (j == NULL) return;
  free(j->ring_data);
  free(j->index_img);
  free(j);
}

int rum__client_journal_close(struct rum_client *cl) {
  struct rum_journal *j = atomic_load(&cl->cache->journal);
  if (j == NULL) return RUM_EINVAL;
  int rc = rum__client_sync(cl);
  if (rc != 0) return rc;
  uint8_t *base = j->region->base;
  rum__client_journal_drop(cl);
  return rum__client_detach(cl, base);
}
