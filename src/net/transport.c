/* Choosing and opening a transport backend. */
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "net/transport.h"
#include "util/log.h"

int rum__transport_open(const struct rum_transport_config *cfg, struct rum_transport **out) {
  *out = NULL;
  const char *kind = cfg->kind;
  if (kind == NULL || kind[0] == '\0') kind = getenv("RUM_TRANSPORT");
  if (kind == NULL || kind[0] == '\0') kind = "udp";
  struct rum_transport *t = NULL;
  int rc;
  if (strcmp(kind, "udp") == 0) {
    rc = rum__udp_open(cfg, &t);
  } else if (strcmp(kind, "dpdk") == 0) {
    rc = rum__dpdk_open(cfg, &t);
  } else {
    RUM_LOG_E("unknown transport '%s' (want udp or dpdk)", kind);
    return RUM_ETRANSPORT;
  }
  if (rc != 0) return rc;
  const char *spec = cfg->fault_spec;
  if (spec == NULL) spec = getenv("RUM_FAULT_INJECT");
  if (spec != NULL && spec[0] != '\0') {
    rc = rum__faulty_wrap(t, spec, &t);
    if (rc != 0) return rc;
  }
  *out = t;
  return 0;
}
