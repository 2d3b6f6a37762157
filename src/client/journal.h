/* The undo journal: makes rum_sync() all-or-nothing for named regions.
 *
 * Without it the nodes hold whatever mix of pages reached them: eviction writes a
 * dirty page home whenever the cache needs its frame, and a sync sends its pages in
 * several messages, so a process killed mid-way leaves some pages of a change on the
 * nodes and not others (a hash chain linked to an entry that never arrived). With a
 * journal (rum_journal_open), the first time a page of a named region becomes dirty
 * after a commit, its committed bytes are copied aside (in the faulting thread, before
 * the page turns writable) and reach the journal region before that page may be
 * written home. A sync writes the pending undo images, then the dirty pages, then the
 * journal header with the next epoch: that last write is the commit. After a crash,
 * the next rum_journal_open writes the images of the unfinished epoch back, newest
 * first, so the first image of each page (its committed bytes) wins.
 *
 * Journal region layout, in pages: 0 the header; then the index, RUM_JOURNAL_PER_PAGE
 * entries per page, one per data slot; then the data slots. Entries carry their epoch
 * and a checksum of themselves and their data, so recovery stops at the first slot that
 * is not of the unfinished epoch or did not fully arrive (slots are filled in order,
 * and home writes wait for every earlier slot's write to be acknowledged).
 *
 * What it does not cover, by design (README "Atomic sync"): anonymous regions (they
 * end with the process anyway), region frees and creations (not undone: free a named
 * region only after the sync that stopped using it), rum_discard, and stores made by
 * other threads while rum_sync runs. */
#ifndef RUM_CLIENT_JOURNAL_H
#define RUM_CLIENT_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "client/region_table.h"
#include "util/spinlock.h"

struct rum_cache;

#define RUM_JOURNAL_MAGIC 0x314c4e524a4d5552ull /* "RUMJRNL1" */

enum {
  RUM_JOURNAL_VERSION = 1,
  RUM_JOURNAL_ENTRY = 256,              /* bytes of one index entry */
  RUM_JOURNAL_PER_PAGE = 4096 / RUM_JOURNAL_ENTRY,
  RUM_JOURNAL_NAME = 224,               /* region name bytes an entry holds */
  RUM_JOURNAL_RING = 56,                /* undo images held locally before a flush */
  RUM_JOURNAL_F_ZERO = 1,               /* the page was zeros: no data slot written */
};

struct rum_journal_header {
  uint64_t magic, version;
  uint64_t epoch;   /* entries of this epoch are not committed */
  uint64_t nslots;  /* data slots (fixed when the journal is made) */
};

struct rum_journal_entry {
  uint64_t epoch;
  uint64_t page;
  uint64_t check;   /* over the entry (check = 0) and, unless F_ZERO, the data */
  uint32_t flags;
  uint32_t name_len;
  char name[RUM_JOURNAL_NAME];
};
_Static_assert(sizeof(struct rum_journal_entry) == RUM_JOURNAL_ENTRY, "journal entry size");

struct rum_journal {
  struct rum_region *region;   /* the journal's own named region: never faulted in */
  uint64_t nslots, data_first; /* data slot s is page data_first + s */
  uint64_t epoch;              /* the active (uncommitted) epoch */
  uint32_t tag;                /* this process's commit count + 1: marks pages logged */
  rum_spinlock_t lock;
  uint64_t used;               /* slots written to the nodes in this epoch */
  unsigned nring;              /* slots used .. used + nring - 1 held locally */
  struct rum_journal_entry ring[RUM_JOURNAL_RING];
  uint8_t *ring_data;          /* RUM_JOURNAL_RING pages */
  uint8_t *index_img;          /* 6 pages: the index page holding slot `used`, then more */
  bool unprotected;            /* an image could not be taken this epoch */
  uint64_t images, flushes, commits, unprotected_epochs;
};

/* Checksum of entry e (its check field ignored) and data (NULL for a zero page). */
uint64_t rum__journal_check(const struct rum_journal_entry *e, const uint8_t *data);

/* A page of r is about to become writable after a commit: keep its bytes (NULL:
 * zeros) as its undo image. Signal context. */
void rum__journal_capture(struct rum_cache *c, struct rum_region *r, uint64_t page, const uint8_t *clean);

/* Before pages go home: every undo image taken must be on the nodes. Signal
 * context. Returns 0 or the store's error (then nothing may go home). */
int rum__journal_before_home(struct rum_cache *c);

/* After every dirty page went home: write the header with the next epoch. */
int rum__journal_commit(struct rum_cache *c);

#endif
