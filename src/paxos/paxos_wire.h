/* Multi-Paxos messages between the replicas of one group, in the style of
 * src/proto/wire.h: fixed-width little-endian fields, every limit named in an enum,
 * an encoder that refuses what does not fit and a decoder that is safe on any bytes.
 *
 * A Paxos message travels as the payload of one RUM_MSG_PAXOS request over the
 * reliable RPC (src/net/rpc.c), so it is bounded by RUM_WIRE_MAX_MSG. The simulator
 * (tests/unit/test_paxos_sim.c) passes the same encoded bytes between its replicas.
 *
 * Layout (offsets in bytes):
 *   0 version u8 | 1 type u8 | 2 from u8 | 3 to u8 | 4 flags u16 | 6 nentries u16 |
 *   8 group u64 | 16 incarnation u64 | 24 ballot u64 | 32 commit u64 | 40 applied u64 |
 *  48 first u64 | 56 echo u64 | 64 extra u64 | 72 extra2 u64 | 80 data_len u32 |
 *  84 reserved u32 (zero) | 88 entries | data
 * Entry: 0 ballot u64 | 8 origin u64 | 16 tag u64 | 24 len u32 | 28 flags u8 |
 *  29 reserved u8[3] (zero) | 32 value[len]
 * Entry i is about slot first + i. The meaning of the numeric fields per type is
 * given next to each type below. */
#ifndef RUM_PAXOS_WIRE_H
#define RUM_PAXOS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

enum {
  RUM_PAXOS_WIRE_VERSION = 1,
  RUM_PAXOS_HEADER_SIZE = 88,
  RUM_PAXOS_ENTRY_HEADER_SIZE = 32,
  RUM_PAXOS_MAX_REPLICAS = 7,  /* members of one group (R <= 7) */
  RUM_PAXOS_MAX_ENTRIES = 64,  /* entries in one message */
  RUM_PAXOS_MAX_MSG = RUM_WIRE_MAX_MSG,
  /* One value (a batch of page writes, a region operation) with room for the headers. */
  RUM_PAXOS_MAX_VALUE = RUM_PAXOS_MAX_MSG - RUM_PAXOS_HEADER_SIZE - RUM_PAXOS_ENTRY_HEADER_SIZE,
  RUM_PAXOS_MAX_DATA = RUM_PAXOS_MAX_MSG - RUM_PAXOS_HEADER_SIZE, /* snapshot piece */
};

/* Message types. "commit" is always the sender's decided prefix (every slot <= commit
 * is decided in its log) and "applied" what it has applied, unless said otherwise. */
enum rum_paxos_msg_type {
  /* Phase 1a. ballot = the candidate's; first = first slot it asks about (its commit
   * + 1); extra = first slot past the room in its log. */
  RUM_PAXOS_PREPARE = 1,
  /* Phase 1b. F_OK: promised ballot (else a refusal; ballot = the promise held).
   * Entries: slots first.. (ballot 0 = nothing accepted there; F_ENTRY_DECIDED).
   * F_MORE: more accepted slots follow, ask again from first + nentries.
   * extra = the sender's highest accepted slot. F_LAG: the sender accepted beyond the
   * candidate's room, F_SNAP: the sender no longer holds slot first. */
  RUM_PAXOS_PROMISE = 2,
  /* Phase 2a, batched. ballot = the leader's; entries for slots first..; applied =
   * the truncation point (every live replica applied it); echo = the leader's tick
   * when it sent this (for its lease). With no entries it is the leader's heartbeat. */
  RUM_PAXOS_ACCEPT = 3,
  /* Phase 2b. F_OK: accepted the nentries (count in extra) slots from first at ballot
   * (else a refusal; ballot = the promise held). echo is copied from the ACCEPT.
   * extra2 = the ballot at which the sender joined after restarting empty.
   * F_NOSTATE: the sender has no state yet (restarted, transfer not done). */
  RUM_PAXOS_ACCEPTED = 4,
  /* Ask for decided entries from slot first. */
  RUM_PAXOS_CATCHUP_REQ = 5,
  /* Decided entries from slot first (F_SNAP: slot first is truncated here, transfer
   * the state instead). */
  RUM_PAXOS_CATCHUP = 6,
  /* Ask for a state piece at cursor echo (F_START: begin a new transfer). */
  RUM_PAXOS_SNAP_REQ = 7,
  /* A state piece: echo = its cursor, extra2 = the next cursor, extra = the applied
   * index the transfer started at (entries after it are replayed), first = the
   * sender's highest assigned slot, ballot = the sender's ballot when it leads with
   * phase 1 done (else 0); F_DONE on the last piece; data = the piece. */
  RUM_PAXOS_SNAP_PIECE = 8,
  /* A replica restarted empty asks the others what they promised. */
  RUM_PAXOS_RECOVER_REQ = 9,
  /* ballot = promised; F_VOTER: has state and votes; F_LEADER: leads with phase 1
   * done at extra (its ballot); first = its highest slot holding anything. */
  RUM_PAXOS_RECOVER_RESP = 10,
  RUM_PAXOS_MSG_TYPE_MAX = 10,
};

enum rum_paxos_msg_flags {
  RUM_PAXOS_F_OK = 1u << 0,
  RUM_PAXOS_F_MORE = 1u << 1,
  RUM_PAXOS_F_LAG = 1u << 2,
  RUM_PAXOS_F_SNAP = 1u << 3,
  RUM_PAXOS_F_START = 1u << 4,
  RUM_PAXOS_F_DONE = 1u << 5,
  RUM_PAXOS_F_VOTER = 1u << 6,
  RUM_PAXOS_F_LEADER = 1u << 7,
  RUM_PAXOS_F_NOSTATE = 1u << 8,
  RUM_PAXOS_F_ALL = 0x1ffu,
};

enum rum_paxos_entry_flags {
  RUM_PAXOS_ENTRY_DECIDED = 1u << 0,
  RUM_PAXOS_ENTRY_F_ALL = 0x1u,
};

/* One log entry on the wire. origin and tag name the proposal (the proposer's
 * incarnation and its own counter) so the proposer recognises it when decided; a
 * no-op has len 0. value points into the decoded buffer. */
struct rum_paxos_entry {
  uint64_t ballot;
  uint64_t origin;
  uint64_t tag;
  uint32_t len;
  uint8_t flags;
  const uint8_t *value;
};

struct rum_paxos_msg {
  uint8_t type;
  uint8_t from, to;      /* member indexes in the group, < RUM_PAXOS_MAX_REPLICAS */
  uint16_t flags;
  uint16_t nentries;     /* <= RUM_PAXOS_MAX_ENTRIES */
  uint64_t group;
  uint64_t incarnation;  /* the sender's: changes every time its process starts */
  uint64_t ballot;
  uint64_t commit;
  uint64_t applied;
  uint64_t first;
  uint64_t echo;
  uint64_t extra;
  uint64_t extra2;
  uint32_t data_len;     /* <= RUM_PAXOS_MAX_DATA */
  const uint8_t *data;
  struct rum_paxos_entry entries[RUM_PAXOS_MAX_ENTRIES];
};

/* Bytes m encodes to (no checks). */
size_t rum__paxos_msg_size(const struct rum_paxos_msg *m);

/* Encode m into buf (cap bytes). Returns the length, RUM_EMSGSIZE when it does not
 * fit cap or RUM_PAXOS_MAX_MSG, RUM_EINVAL for a field out of range. */
int rum__paxos_msg_encode(const struct rum_paxos_msg *m, uint8_t *buf, size_t cap);

/* Decode len bytes. Returns 0 or RUM_EPROTO (bad version or type, an index or count
 * past its limit, unknown flags, non-zero reserved bytes, a length that does not match
 * the bytes). On success the entries' values and data point into buf. */
int rum__paxos_msg_decode(const uint8_t *buf, size_t len, struct rum_paxos_msg *m);

#endif
