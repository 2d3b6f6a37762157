/* Node-to-node heartbeats: the failure detector that tells a node (and rumctl) which
 * of its peers are up.
 *
 * Each node sends HEARTBEAT (flag RUM_HELLO_F_NODE) to every other node of
 * machines.csv every heartbeat_ms; a peer is up while it was heard from (its heartbeat
 * or its answer to ours) within RUM_PEERS_DOWN_AFTER heartbeats. The table is plain
 * state fed with times, so it is unit-testable; rum__peers_tick does the sending. */
#ifndef RUM_SERVER_PEERS_H
#define RUM_SERVER_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/machines.h"
#include "net/rpc.h"
#include "proto/wire.h"

enum { RUM_PEERS_DOWN_AFTER = 3, RUM_PEERS_DEFAULT_HEARTBEAT_MS = 500 };

struct rum_peers;

/* Peers = every node of m but self_id. heartbeat_ms 0 = the default.
 * Returns 0 and *out, or RUM_ENOMEM. */
int rum__peers_create(const struct rum_machines *m, uint32_t self_id, uint32_t heartbeat_ms,
                      struct rum_peers **out);
void rum__peers_destroy(struct rum_peers *p);

/* Node node_id was heard from at now_ms (ignored if it is not a peer). */
void rum__peers_heard(struct rum_peers *p, uint32_t node_id, uint64_t now_ms);

/* Whether node_id is up at now_ms. */
bool rum__peers_up(const struct rum_peers *p, uint32_t node_id, uint64_t now_ms);

/* Fill the STAT reply's peer list; returns how many entries were written. */
uint32_t rum__peers_report(const struct rum_peers *p, uint64_t now_ms, struct rum_msg_stat_resp *out);

/* When a heartbeat round is due at now_ms, send one to every peer through rpc and
 * wait for the answers (at most heartbeat_ms / 2; the endpoint keeps serving requests
 * meanwhile). Logs peers going down and coming back. Call from the serving thread,
 * never from inside a handler. Returns the number of peers that answered, or 0 when
 * no round was due. */
int rum__peers_tick(struct rum_peers *p, struct rum_rpc *rpc, uint64_t now_ms);

#endif
