/* libFuzzer: arbitrary bytes as an Ethernet frame received by the dpdk transport.
 * The parser must classify every input without reading past it, and a frame it calls
 * UDP must have its payload inside the input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/dpdk_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct rum_dpdk_parsed p;
  for (int verify = 0; verify < 2; verify++) {
    enum rum_dpdk_frame_kind kind = rum__dpdk_frame_parse(data, size, verify != 0, &p);
    if (kind != p.kind) abort();
    if (kind == RUM_DPDK_FRAME_UDP && (uint64_t)p.payload_offset + p.payload_len > size) abort();
  }
  return 0;
}
