# dpdk transport: two processes exchange frames through the rum_transport interface
# over net_memif, over net_af_packet on a veth pair between two network namespaces,
# and (af_packet) against a kernel UDP endpoint. Built only when DPDK was found.
# The namespace tests need root and `ip netns`; without them they exit 77 (skipped).
# Each script runs dpdk_pingpong with --bench, whose JSON lines (median/p99 round trip)
# show in `ctest -V` output.
if(RUM_HAVE_DPDK)
  add_executable(dpdk_pingpong ${CMAKE_CURRENT_LIST_DIR}/dpdk_pingpong.c)
  target_link_libraries(dpdk_pingpong PRIVATE rum_net Threads::Threads)
  foreach(case selftest memif afpacket afpacket_kernel_udp afpacket_bridge)
    add_test(NAME integration.dpdk_${case}
             COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/dpdk_run.sh ${case} $<TARGET_FILE:dpdk_pingpong>)
    # RESOURCE_LOCK: the cases would fight for the 2 cores and skew each other's
    # round trips; they never share sockets or namespaces.
    set_tests_properties(integration.dpdk_${case} PROPERTIES
                         TIMEOUT 60 SKIP_RETURN_CODE 77 LABELS "integration;dpdk"
                         RESOURCE_LOCK rum_dpdk)
  endforeach()
endif()
