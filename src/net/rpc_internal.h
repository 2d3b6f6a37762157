/* State shared by rpc.c (endpoint, caller side) and rpc_server.c (server side).
 * Everything here is guarded by rpc->io_lock unless marked atomic. */
#ifndef RUM_NET_RPC_INTERNAL_H
#define RUM_NET_RPC_INTERNAL_H

#include <stdatomic.h>

#include "net/rpc.h"
#include "util/spinlock.h"

enum {
  RPC_SLOT_BITS = 7,
  RPC_SLOTS = 1 << RPC_SLOT_BITS,
  RPC_PEERS = 64,
  RPC_ERRBUF = 512,
  RPC_REPLY_CACHE = 128,        /* cached replies per session */
  RPC_REPLY_CACHE_BYTES = 256,  /* replies larger than this are not cached (idempotent) */
  RPC_FRAG_WORDS = RUM_WIRE_MAX_FRAGS / 64,
  RPC_INITIAL_RTO_US = 4000,
  RPC_MAX_RTO_US = 250000,
};
_Static_assert((int)RPC_SLOTS == (int)RUM_RPC_MAX_INFLIGHT, "slot table size");
_Static_assert(RPC_SLOTS % 64 == 0, "active_mask words");

/* Which fragments of a message arrived. */
struct frag_set {
  uint16_t count;    /* frag_count of the message, 0 = nothing yet */
  uint16_t received; /* distinct fragments seen */
  uint32_t msg_len;
  uint32_t stride;      /* payload bytes of every fragment but the last, 0 = not seen */
  int64_t last_offset;  /* offset of the last fragment, -1 = not seen */
  uint64_t bits[RPC_FRAG_WORDS];
};

/* One call in flight; it sits in slot seq % RPC_SLOTS. */
struct rpc_slot {
  bool active;
  uint64_t seq;
  struct rum_rpc_call *call;
  uint64_t first_send_ns, last_send_ns, rto_ns, deadline_ns;
  struct frag_set frags;
  uint8_t resp_type;
  bool is_error;
  _Atomic bool done;
  uint8_t errbuf[RPC_ERRBUF];
};

struct peer_rtt {
  uint32_t ipv4;
  uint16_t port;
  bool used;
  uint64_t srtt_ns, rttvar_ns;
};

/* A cached small reply, for answering duplicates without running the handler. */
struct cached_reply {
  uint64_t seq;
  uint8_t type;
  uint16_t len;
  uint8_t bytes[RPC_REPLY_CACHE_BYTES];
};

/* De-duplication state of one sender session. */
struct session_state {
  uint64_t session;     /* 0 = free entry */
  uint64_t highest;     /* highest seq completed */
  uint64_t last_used_ns;
  uint64_t done[RUM_RPC_DEDUP_WINDOW / 64]; /* bit (seq % window) set = seq completed */
  struct cached_reply replies[RPC_REPLY_CACHE];
};

/* What the server still knows of a session it pushed out of its table (or was told
 * to forget): the highest seq it completed. Without it a replayed frame of that
 * session would find a fresh window and run again. */
struct session_tombstone {
  uint64_t session;
  uint64_t highest;
};
enum { RPC_TOMBSTONES = 4096 }; /* direct-mapped by session: 64 KiB */

/* An incoming request being reassembled. */
struct reassembly {
  bool used;
  uint64_t session, seq;
  uint32_t sender;
  uint8_t type;
  struct rum_peer_addr from;
  uint64_t started_ns;
  struct frag_set frags;
  uint8_t *buffer; /* RUM_WIRE_MAX_MSG */
};

struct rum_rpc {
  struct rum_transport *t;
  struct rum_rpc_config cfg;
  uint32_t max_payload; /* per frame */
  rum_spinlock_t io_lock;
  atomic_uint_fast64_t next_seq; /* next seq to hand out */

  struct rpc_slot slots[RPC_SLOTS];
  /* Bit i set while slots[i].active: the timers visit the calls in flight only (a
   * scan of every slot, each its own cache lines, was 13% of a memif round trip's
   * CPU time, on both ends). */
  uint64_t active_mask[RPC_SLOTS / 64];
  struct peer_rtt peers[RPC_PEERS];
  uint64_t last_srtt_ns;

  /* Server side (only when cfg.server_slots > 0). */
  unsigned nsessions;
  struct session_state *sessions;
  struct session_tombstone *tombstones; /* RPC_TOMBSTONES entries */
  unsigned nreassembly;
  struct reassembly *reassembly;
  struct rum_rpc_reply *reply; /* scratch for the handler */

  /* Transmit scratch: headers and frames for one burst. */
  uint8_t tx_heads[RUM_TRANSPORT_BURST][RUM_WIRE_HEADER_SIZE];
  struct rum_tx_frame tx_frames[RUM_TRANSPORT_BURST];
  struct rum_rx_frame rx_frames[RUM_TRANSPORT_BURST];

  struct rum_rpc_stats stats; /* guarded by io_lock */
};

/* Send a whole message (payload in pieces) to `to` as frames; io_lock held.
 * Returns 0 or a negative code (frames not sent count as lost). */
int rum__rpc_send_message(struct rum_rpc *rpc, const struct rum_peer_addr *to, uint8_t type,
                          uint16_t flags, uint64_t seq, const struct iovec *payload, int npieces);

/* Record fragment index of a message with count fragments; returns 1 if new, 0 if a
 * duplicate, -1 if inconsistent with earlier fragments. */
int rum__rpc_frag_add(struct frag_set *set, const struct rum_wire_header *h);

/* Server side: handle one request frame; io_lock held. */
void rum__rpc_server_frame(struct rum_rpc *rpc, const struct rum_wire_header *h,
                           const uint8_t *payload, const struct rum_peer_addr *from);
/* Server side: keep a small reply for duplicates of seq; find a session's state (NULL
 * when it was forgotten or evicted). io_lock held. */
void rum__rpc_cache_reply(struct session_state *sess, uint64_t seq, const struct rum_rpc_reply *reply);
struct session_state *rum__rpc_session_lookup(struct rum_rpc *rpc, uint64_t session);
/* Server side set-up and tear-down. */
int rum__rpc_server_init(struct rum_rpc *rpc);
void rum__rpc_server_uninit(struct rum_rpc *rpc);

#endif
