/* libFuzzer: arbitrary bytes as Paxos messages (src/paxos).
 *
 * The input is a sequence of messages, each a u16 little-endian length and that many
 * bytes. Each one must decode to 0 or RUM_EPROTO; a decoded message must re-encode to
 * exactly the same bytes (the format has one encoding). Then every message is fed to
 * replica 0 of a three-member group, with ticks in between, and everything it outputs
 * must decode again: the core must survive any sequence of messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "paxos/paxos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t table[8];

static size_t snap_read(void *ctx, uint64_t *cursor, uint8_t *buf, size_t cap, bool *done) {
  (void)ctx;
  size_t n = 0;
  while (*cursor < 8 && cap - n >= 8) {
    memcpy(buf + n, &table[*cursor], 8);
    n += 8;
    (*cursor)++;
  }
  *done = *cursor >= 8;
  return n;
}
static void snap_reset(void *ctx) {
  (void)ctx;
  memset(table, 0, sizeof table);
}
static void snap_write(void *ctx, uint64_t cursor, const uint8_t *buf, size_t len) {
  (void)ctx;
  if (cursor < 8 && len >= 8) memcpy(&table[cursor], buf, 8);
}

static uint8_t reencoded[RUM_PAXOS_MAX_MSG];

static void check_codec(const uint8_t *buf, size_t len) {
  static struct rum_paxos_msg m;
  int rc = rum__paxos_msg_decode(buf, len, &m);
  if (rc != 0) {
    if (rc != RUM_EPROTO) abort();
    return;
  }
  int n = rum__paxos_msg_encode(&m, reencoded, sizeof reencoded);
  if (n < 0 || (size_t)n != len || memcmp(reencoded, buf, len) != 0) abort();
}

static void drain(struct rum_paxos *p) {
  struct rum_paxos_send s;
  while (rum__paxos_pop_send(p, &s)) {
    static struct rum_paxos_msg m;
    if (rum__paxos_msg_decode(s.buf, s.len, &m) != 0 || s.to == 0 || s.to >= 3) abort();
  }
  struct rum_paxos_decided d;
  uint64_t last = 0;
  while (rum__paxos_pop_decided(p, &d)) {
    if (last != 0 && d.index != last + 1) abort();
    last = d.index;
  }
  uint64_t tag;
  while (rum__paxos_pop_dropped(p, &tag)) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct rum_paxos_config cfg;
  rum__paxos_config_default(&cfg);
  cfg.nreplicas = 3;
  cfg.self = 0;
  cfg.incarnation = 1;
  cfg.log_capacity = 16;
  cfg.window = 4;
  cfg.batch_entries = 4;
  cfg.batch_bytes = 256;
  cfg.queue_max = 4;
  cfg.snapshot_piece = 16;
  cfg.app = (struct rum_paxos_app){.snapshot_read = snap_read, .snapshot_reset = snap_reset,
                                   .snapshot_write = snap_write};
  struct rum_paxos *p;
  if (rum__paxos_create(&cfg, 0, &p) != 0) abort();
  uint64_t now = 0;
  size_t off = 0;
  while (size - off >= 2) {
    size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
    off += 2;
    if (len > size - off) len = size - off;
    check_codec(data + off, len);
    rum__paxos_receive(p, now, data + off, len);
    drain(p);
    uint8_t v[4] = {1, 2, 3, 4};
    if (rum__paxos_propose(p, v, sizeof v, now + 1) == 0) {
      rum__paxos_flush(p);
      drain(p);
    }
    now += len % 64;
    rum__paxos_tick(p, now, len * 2654435761u);
    drain(p);
    off += len;
  }
  rum__paxos_destroy(p);
  return 0;
}
