/* Deferred replies (rpc.h): a handler hands its request off and the serving thread
 * answers it later, through the same de-duplication state as an immediate reply. */
#include <rum/rum_errors.h>

#include "net/rpc_internal.h"
#include "util/log.h"

void rum__rpc_defer(const struct rum_rpc_request *req, struct rum_rpc_reply *reply,
                    struct rum_rpc_deferred *d) {
  *d = (struct rum_rpc_deferred){.to = req->from, .session = req->session, .seq = req->seq,
                                 .sender = req->sender, .type = req->type};
  reply->deferred = true;
  reply->iovcnt = 0;
}

int rum__rpc_answer(struct rum_rpc *rpc, const struct rum_rpc_deferred *d, const struct rum_rpc_reply *reply) {
  if (rpc == NULL || d == NULL || reply == NULL || reply->iovcnt < 0 || reply->iovcnt > RUM_RPC_MAX_RESP_IOV)
    return RUM_EINVAL;
  rum__spin_lock(&rpc->io_lock);
  struct session_state *sess = rum__rpc_session_lookup(rpc, d->session);
  if (sess != NULL) rum__rpc_cache_reply(sess, d->seq, reply);
  int rc = rum__rpc_send_message(rpc, &d->to, reply->type, RUM_WIRE_F_RESPONSE, d->seq, reply->iov,
                                 reply->iovcnt);
  rum__spin_unlock(&rpc->io_lock);
  if (rc != 0) RUM_LOG_D("rpc: deferred reply to seq %llu not sent: %s", (unsigned long long)d->seq, rum_strerror(rc));
  return rc;
}
