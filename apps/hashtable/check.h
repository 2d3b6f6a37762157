/* The reference the RUM hash table is checked against: a plain malloc array indexed
 * by key id, plus the key encoding both sides share, and the whole-table walk that
 * compares the two. */
#ifndef HT_CHECK_H
#define HT_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "ht.h"

enum { HT_KEY_MAX = 48, HT_MAX_REPORTS = 20 };

struct ref_slot {
  unsigned char *val;        /* malloc'ed copy, NULL when absent or empty */
  uint32_t vlen;
  bool present;
};

struct checker {
  struct ref_slot *ref;      /* nkeys slots */
  uint32_t nkeys;
  uint64_t count;            /* present slots */
  unsigned char *seen;       /* nkeys flags, scratch for verify_all */
  uint64_t failures;
  uint64_t full_verifies;
  uint64_t longest_chain;
  double mean_chain;         /* over non-empty buckets, from the last verify */
};

int checker_init(struct checker *c, uint32_t nkeys);
void checker_uninit(struct checker *c);
/* Record a put/del in the reference. Returns false if out of memory. */
bool checker_put(struct checker *c, uint32_t id, const unsigned char *val, uint32_t vlen);
void checker_del(struct checker *c, uint32_t id);

/* Key id -> key bytes (length 10..38, the id in hex after 'k'). Returns the length. */
uint32_t key_encode(uint32_t id, unsigned char out[HT_KEY_MAX]);
/* Key bytes -> id, or false if they are not a well-formed key. */
bool key_decode(const unsigned char *key, uint32_t klen, uint32_t *id);

void check_fail(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Compare what ht_get returned for id with the reference. */
void check_lookup(struct checker *c, uint32_t id, const struct ht_entry *e);
/* Walk the whole table: every entry in the right bucket with the right hash, each
 * present key exactly once with the reference's value, counts equal, no cycles. */
void check_table(struct checker *c, const struct ht *h, const char *when);

#endif
