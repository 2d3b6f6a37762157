/* The undo journal's fault-path half: taking undo images, writing them to the journal
 * region, and the commit. See journal.h for the protocol; recovery and set-up are in
 * journal_open.c. Everything here may run in a signal handler: no allocation. */
#include "client/journal.h"

#include <stdatomic.h>
#include <string.h>

#include <xxhash.h>

#include <rum/rum_errors.h>

#include "client/cache.h"
#include "proto/wire.h"
#include "util/log.h"

uint64_t rum__journal_check(const struct rum_journal_entry *e, const uint8_t *data) {
  struct rum_journal_entry copy = *e;
  copy.check = 0;
  uint64_t h = XXH3_64bits(&copy, sizeof copy);
  return data != NULL ? XXH3_64bits_withSeed(data, RUM_PAGE_SIZE, h) : h;
}

static bool page_all_zero(const uint8_t *p) {
  const uint64_t *w = (const uint64_t *)p;
  for (size_t i = 0; i < RUM_PAGE_SIZE / sizeof *w; i++)
    if (w[i] != 0) return false;
  return true;
}

static bool journaled(const struct rum_journal *j, const struct rum_region *r) {
  return j != NULL && r->kind == RUM_REGION_NAMED && r != j->region && r->name != NULL;
}

/* Write the ring: its index entries (in the index pages they fall in) and its data,
 * in one batch. Caller holds j->lock. */
static int flush_locked(struct rum_cache *c, struct rum_journal *j) {
  if (j->nring == 0) return 0;
  struct rum_page_io io[RUM_WIRE_MAX_PAGES];
  unsigned n = 0;
  uint64_t first_ip = j->used / RUM_JOURNAL_PER_PAGE;
  uint64_t last_ip = (j->used + j->nring - 1) / RUM_JOURNAL_PER_PAGE;
  /* index_img page 0 already holds this epoch's earlier entries of first_ip. */
  for (uint64_t ip = first_ip + 1; ip <= last_ip; ip++)
    memset(j->index_img + (ip - first_ip) * RUM_PAGE_SIZE, 0, RUM_PAGE_SIZE);
  for (unsigned i = 0; i < j->nring; i++) {
    uint64_t slot = j->used + i;
    uint8_t *img = j->index_img + (slot / RUM_JOURNAL_PER_PAGE - first_ip) * RUM_PAGE_SIZE;
    memcpy(img + (slot % RUM_JOURNAL_PER_PAGE) * RUM_JOURNAL_ENTRY, &j->ring[i], RUM_JOURNAL_ENTRY);
  }
  for (uint64_t ip = first_ip; ip <= last_ip; ip++)
    io[n++] = (struct rum_page_io){j->region, 1 + ip, j->index_img + (ip - first_ip) * RUM_PAGE_SIZE};
  for (unsigned i = 0; i < j->nring; i++)
    if (!(j->ring[i].flags & RUM_JOURNAL_F_ZERO))
      io[n++] = (struct rum_page_io){j->region, j->data_first + j->used + i, j->ring_data + (size_t)i * RUM_PAGE_SIZE};
  struct rum_store_error err = {0, 0};
  int rc = c->store.store(c->store_ctx, io, n, &err);
  if (rc != 0) {
    rum__log_signal_safe("rum: journal write failed; dirty pages stay in the cache; node ", err.node_id);
    return rc;
  }
  /* The index page that holds the next slot becomes page 0 of the image. */
  uint64_t next = j->used + j->nring;
  uint64_t next_ip = next / RUM_JOURNAL_PER_PAGE;
  if (next_ip == last_ip) {
    if (last_ip != first_ip) memmove(j->index_img, j->index_img + (last_ip - first_ip) * RUM_PAGE_SIZE, RUM_PAGE_SIZE);
  } else {
    memset(j->index_img, 0, RUM_PAGE_SIZE);
  }
  j->used = next;
  j->nring = 0;
  j->flushes++;
  return 0;
}

void rum__journal_capture(struct rum_cache *c, struct rum_region *r, uint64_t page, const uint8_t *clean) {
  struct rum_journal *j = atomic_load_explicit(&c->journal, memory_order_acquire);
  if (!journaled(j, r) || page >= r->reserved_pages || r->born_tag == j->tag) return;
  if (atomic_load_explicit(&r->undo_tag[page], memory_order_relaxed) == j->tag) return;
  size_t name_len = strlen(r->name);
  rum__spin_lock(&j->lock);
  if (atomic_load_explicit(&r->undo_tag[page], memory_order_relaxed) == j->tag) {
    rum__spin_unlock(&j->lock);
    return;
  }
  if (j->nring == RUM_JOURNAL_RING) flush_locked(c, j); /* on failure the ring stays full */
  if (j->nring == RUM_JOURNAL_RING || j->used + j->nring >= j->nslots || name_len > RUM_JOURNAL_NAME) {
    /* No room (or a name too long to log): this page's change cannot be undone. The
     * sync that ends the epoch still commits; it is counted and reported. */
    if (!j->unprotected) rum__log_signal_safe("rum: journal full; this sync is not atomic; slots ", j->nslots);
    j->unprotected = true;
    atomic_store_explicit(&r->undo_tag[page], j->tag, memory_order_relaxed);
    rum__spin_unlock(&j->lock);
    return;
  }
  struct rum_journal_entry *e = &j->ring[j->nring];
  memset(e, 0, sizeof *e);
  e->epoch = j->epoch;
  e->page = page;
  e->name_len = (uint32_t)name_len;
  memcpy(e->name, r->name, name_len);
  const uint8_t *data = NULL;
  if (clean != NULL && !page_all_zero(clean)) {
    data = j->ring_data + (size_t)j->nring * RUM_PAGE_SIZE;
    memcpy((uint8_t *)data, clean, RUM_PAGE_SIZE);
  } else {
    e->flags = RUM_JOURNAL_F_ZERO;
  }
  e->check = rum__journal_check(e, data);
  j->nring++;
  j->images++;
  atomic_store_explicit(&r->undo_tag[page], j->tag, memory_order_relaxed);
  rum__spin_unlock(&j->lock);
}

int rum__journal_before_home(struct rum_cache *c) {
  struct rum_journal *j = atomic_load_explicit(&c->journal, memory_order_acquire);
  if (j == NULL) return 0;
  rum__spin_lock(&j->lock); /* nring only under the lock: images come from every thread */
  int rc = flush_locked(c, j);
  rum__spin_unlock(&j->lock);
  return rc;
}

int rum__journal_commit(struct rum_cache *c) {
  struct rum_journal *j = atomic_load_explicit(&c->journal, memory_order_acquire);
  if (j == NULL) return 0;
  rum__spin_lock(&j->lock);
  int rc = flush_locked(c, j);
  if (rc == 0 && j->used > 0) {
    /* The commit point: from here on the epoch's images are history. */
    uint8_t page[RUM_PAGE_SIZE];
    memset(page, 0, sizeof page);
    struct rum_journal_header h = {RUM_JOURNAL_MAGIC, RUM_JOURNAL_VERSION, j->epoch + 1, j->nslots};
    memcpy(page, &h, sizeof h);
    struct rum_page_io io = {j->region, 0, page};
    struct rum_store_error err = {0, 0};
    rc = c->store.store(c->store_ctx, &io, 1, &err);
    if (rc == 0) {
      j->epoch++;
      j->used = 0;
      memset(j->index_img, 0, RUM_PAGE_SIZE);
    }
  }
  if (rc == 0) {
    if (j->unprotected) j->unprotected_epochs++;
    j->unprotected = false;
    j->commits++;
    j->tag = j->tag + 1 == 0 ? 1 : j->tag + 1;
  }
  rum__spin_unlock(&j->lock);
  return rc;
}
