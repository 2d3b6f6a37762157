/* Reliable RPC over any transport.
 *
 * One endpoint (struct rum_rpc) per process and transport. It plays both roles:
 *  - caller: rum__rpc_call() sends requests and waits for their responses, with
 *    request ids, retransmission on a timeout derived from measured round trips
 *    (RFC 6298 style, per peer, Karn's rule), segmentation at the transport's MTU,
 *    reassembly of the response straight into the caller's buffers, and several
 *    requests in flight at once (from one call or many threads);
 *  - server: requests received are reassembled, de-duplicated per sender session (a
 *    retried request is answered from the reply cache and never runs twice), handed
 *    to the handler, and its reply is segmented and sent.
 *
 * Whoever waits drives the transport (run-to-completion): there is no I/O thread. A
 * waiting thread busy-polls for spin_us, then blocks in the transport's wait().
 * All memory is allocated at create time; rum__rpc_call() takes only spinlocks and
 * never allocates, so it may run inside the fault handler (signal context) as long
 * as the interrupted thread was not itself inside the RPC code, which cannot happen
 * because RPC code never touches RUM-managed memory. */
#ifndef RUM_NET_RPC_H
#define RUM_NET_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net/transport.h"
#include "proto/wire.h"

enum {
  RUM_RPC_MAX_REQ_IOV = 4,
  RUM_RPC_MAX_RESP_IOV = RUM_WIRE_MAX_PAGES + 2,
  RUM_RPC_MAX_INFLIGHT = 128,    /* calls in flight per endpoint */
  RUM_RPC_ERRTEXT_MAX = RUM_WIRE_ERRMSG_MAX + 1,
  RUM_RPC_DEFAULT_TIMEOUT_MS = 3000,
  RUM_RPC_DEFAULT_MIN_RTO_US = 1000,
  RUM_RPC_DEFAULT_SPIN_US = 60,
  RUM_RPC_REPLY_SMALL = 2048,      /* replies up to this size are kept for duplicates */
  RUM_RPC_DEDUP_WINDOW = 4096,     /* seqs remembered per sender session */
};

struct rum_rpc_request {
  uint8_t type;
  uint32_t sender;
  uint64_t session;
  uint64_t seq;
  struct rum_peer_addr from;
  const uint8_t *payload; /* valid during the handler call only */
  uint32_t len;
};

/* What a handler answers. Either point iov at bytes that stay valid until the handler
 * returns and the endpoint has sent them (store pages; the endpoint sends before it
 * handles the next request), or write into small[] and point iov[0] at it. */
struct rum_rpc_reply {
  uint8_t type;            /* the request's type, or RUM_MSG_ERROR */
  bool deferred;           /* set by rum__rpc_defer: nothing is sent now */
  int iovcnt;
  struct iovec iov[RUM_RPC_MAX_RESP_IOV];
  uint8_t small[RUM_RPC_REPLY_SMALL];
};

/* Handler for incoming requests. Must fill *reply (rum__rpc_reply_error for errors). */
typedef void (*rum_rpc_handler_fn)(void *ctx, const struct rum_rpc_request *req,
                                   struct rum_rpc_reply *reply);

/* A request whose answer comes later (a replicated write answers once a majority
 * accepted it). The handler calls rum__rpc_defer, which fills *d (the caller's, kept
 * as long as it likes) and marks the reply so that the endpoint sends nothing now;
 * the request counts as run, so a retransmission of it does not run the handler
 * again (it waits, and gets the answer once sent if that is small enough to cache).
 * Later, from the thread that runs rum__rpc_serve (never inside a handler),
 * rum__rpc_answer sends the answer; reply's iov need stay valid only during the
 * call. Returns 0 or the send error. A deferred request never answered simply
 * times out at its caller. */
struct rum_rpc_deferred {
  struct rum_peer_addr to;
  uint64_t session, seq;
  uint32_t sender;
  uint8_t type;
};
void rum__rpc_defer(const struct rum_rpc_request *req, struct rum_rpc_reply *reply,
                    struct rum_rpc_deferred *d);
struct rum_rpc;
int rum__rpc_answer(struct rum_rpc *rpc, const struct rum_rpc_deferred *d, const struct rum_rpc_reply *reply);

/* Fill reply with an ERROR message carrying code and a printf-style text. */
void rum__rpc_reply_error(struct rum_rpc_reply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Point reply at small[0..len) with the given type. */
void rum__rpc_reply_small(struct rum_rpc_reply *reply, uint8_t type, int len);

struct rum_rpc_config {
  uint32_t self_id;          /* sender field of our frames */
  uint64_t session;          /* non-zero; new for every process start */
  const struct rum_wire_key *key; /* NULL: no MAC; else frames are sealed and checked
                                     (borrowed, must outlive the endpoint) */
  uint32_t timeout_ms;       /* a call fails with RUM_ETIMEDOUT after this; 0 = default */
  uint32_t min_rto_us;       /* lower bound of the retransmission timeout; 0 = default */
  uint32_t spin_us;          /* busy-poll this long before blocking; 0 = default */
  unsigned server_slots;     /* reassembly buffers for incoming requests; 0 = none
                                (the endpoint then never runs a handler) */
  unsigned server_sessions;  /* sender sessions tracked for de-duplication */
  rum_rpc_handler_fn handler;
  void *handler_ctx;
};

struct rum_rpc;

/* Create an endpoint on t (borrowed; destroy the endpoint first). Returns 0 and *out,
 * or RUM_ENOMEM / RUM_EINVAL. */
int rum__rpc_create(struct rum_transport *t, const struct rum_rpc_config *cfg, struct rum_rpc **out);
void rum__rpc_destroy(struct rum_rpc *rpc);

struct rum_rpc_call {
  /* Set by the caller; buffers stay owned by the caller and must stay valid until the
   * call returns. */
  struct rum_peer_addr to;
  uint8_t type;
  int req_iovcnt;
  struct iovec req[RUM_RPC_MAX_REQ_IOV];   /* request payload, in pieces */
  int resp_iovcnt;
  struct iovec resp[RUM_RPC_MAX_RESP_IOV]; /* where the response payload goes */
  uint32_t timeout_ms;                     /* 0: the endpoint's */
  /* Results. */
  int status;        /* 0; RUM_ETIMEDOUT; RUM_EMSGSIZE (response larger than resp);
                        RUM_EPROTO; or the code of the peer's ERROR reply */
  uint32_t resp_len; /* response payload bytes written into resp */
  uint32_t retries;  /* retransmissions this call needed */
  uint64_t rtt_ns;   /* time from first send to completion */
  char errtext[RUM_RPC_ERRTEXT_MAX]; /* the peer's error text, NUL-terminated */
};

/* Issue n calls at once and wait for all of them. Returns 0 if every call's status is
 * 0, else the first non-zero status (each call's own status tells which failed).
 * Thread safe and async-signal safe (see above). */
int rum__rpc_call(struct rum_rpc *rpc, struct rum_rpc_call *calls, unsigned n);

/* Calls in flight without a thread waiting for them (read-ahead while the program
 * runs on). rum__rpc_start sends the calls (as many as there are free slots; the rest
 * go out from the next poll) and returns at once; rum__rpc_poll drives the endpoint
 * once if no other thread does and returns 1 when every call finished, 0 otherwise;
 * rum__rpc_wait waits for the rest and returns like rum__rpc_call. Nobody drives the
 * endpoint in between: answers wait in the transport until some thread polls, waits
 * or calls. The batch, the calls and their buffers belong to the caller and must stay
 * valid and untouched until poll returned 1 or wait returned; a started batch must be
 * finished that way (its slots stay taken until then). Thread safe and async-signal
 * safe like rum__rpc_call; one batch is driven by one thread at a time. */
struct rum_rpc_batch {
  struct rum_rpc_call *calls;
  unsigned n, started, finished;
  unsigned nslots;
  void *slots[RUM_RPC_MAX_INFLIGHT]; /* the endpoint's, for the started calls */
};
void rum__rpc_start(struct rum_rpc *rpc, struct rum_rpc_batch *b, struct rum_rpc_call *calls, unsigned n);
int rum__rpc_poll(struct rum_rpc *rpc, struct rum_rpc_batch *b);
int rum__rpc_wait(struct rum_rpc *rpc, struct rum_rpc_batch *b);

/* Drive the endpoint for up to timeout_ns: receive, run handlers, send replies,
 * retransmit. For servers (rumd's loop). Returns the number of requests handled or a
 * negative RUM_E* code. */
int rum__rpc_serve(struct rum_rpc *rpc, int64_t timeout_ns);

struct rum_rpc_stats {
  uint64_t calls;          /* calls completed (any status) */
  uint64_t timeouts;
  uint64_t retransmits;    /* requests we re-sent */
  uint64_t requests;       /* requests our handler ran */
  uint64_t duplicates;     /* received requests that were duplicates (not re-run) */
  uint64_t stale;          /* requests older than the de-duplication window */
  uint64_t drops;          /* frames dropped: malformed, unexpected */
  uint64_t auth_drops;     /* frames dropped: bad or missing MAC */
  uint64_t busy_drops;     /* requests dropped: no reassembly slot free */
  uint64_t sessions_restored; /* sessions seen again after being pushed out (rpc_server.c) */
  uint64_t frames_in, frames_out;
  uint64_t bytes_in, bytes_out; /* payload bytes of messages */
  uint64_t srtt_ns;        /* smoothed round trip of the last peer that answered */
};
void rum__rpc_stats(struct rum_rpc *rpc, struct rum_rpc_stats *out);

/* Forget the de-duplication state of one sender session (its lease expired). */
void rum__rpc_forget_session(struct rum_rpc *rpc, uint64_t session);

struct rum_transport *rum__rpc_transport(struct rum_rpc *rpc);

#endif
