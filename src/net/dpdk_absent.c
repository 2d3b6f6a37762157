/* The dpdk transport when RUM was built without DPDK. */
#include "net/transport.h"
#include "util/log.h"

#include <rum/rum_errors.h>

int rum__dpdk_open(const struct rum_transport_config *cfg, struct rum_transport **out) {
  (void)cfg;
  *out = NULL;
  RUM_LOG_E("transport 'dpdk' is not available: this RUM was built without DPDK "
            "(install libdpdk-dev and rebuild)");
  return RUM_ETRANSPORT;
}
