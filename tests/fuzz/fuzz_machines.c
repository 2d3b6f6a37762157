/* libFuzzer: arbitrary bytes as a machines.csv. The parser must return 0 or
 * RUM_ECONFIG with a message naming the file; a parsed file must build a ring whose
 * lookups name only listed nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "cluster/machines.h"
#include "cluster/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct rum_machines m;
  char err[RUM_MACHINES_ERR_MAX];
  int rc = rum__machines_parse((const char *)data, size, "fuzz.csv", &m, err, sizeof err);
  if (rc != 0) {
    if (rc != RUM_ECONFIG || strncmp(err, "fuzz.csv:", 9) != 0) abort();
    return 0;
  }
  if (m.nnodes == 0 || m.nnodes > RUM_MAX_NODES) abort();
  struct rum_ring *ring;
  if (rum__ring_build(&m, 4, &ring) != 0) return 0;
  for (uint64_t k = 0; k < 64; k++) {
    uint32_t ids[RUM_MAX_NODES];
    unsigned n = rum__ring_replicas(ring, rum__ring_chunk_key(k, k * 7), 3, ids);
    if (n == 0 || n > 3 || n > m.nnodes) abort();
    for (unsigned i = 0; i < n; i++) {
      if (rum__machines_find(&m, ids[i]) == NULL) abort();
      for (unsigned j = 0; j < i; j++)
        if (ids[i] == ids[j]) abort();
    }
  }
  rum__ring_destroy(ring);
  return 0;
}
