# dpdk transport: two processes exchange frames through the rum_transport interface
# over net_memif, over net_af_packet on a veth pair between two network namespaces,
# and (af_packet) against a kernel UDP endpoint. Built only when DPDK was found.
# The namespace tests need root and `ip netns`; without them they exit 77 (skipped).
# Each script runs dpdk_pingpong with --bench, whose JSON lines (median/p99 round trip)
# show in `ctest -V` output.
if(RUM_HAVE_DPDK)
  add_executable(dpdk_pingpong ${CMAKE_CURRENT_LIST_DIR}/dpdk_pingpong.c)
  target_link_libraries(dpdk_pingpong PRIVATE rum_net Threads::Threads)
  foreach(case selftest memif memif_hub afpacket afpacket_kernel_udp afpacket_bridge)
    add_test(NAME integration.dpdk_${case}
             COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/dpdk_run.sh ${case} $<TARGET_FILE:dpdk_pingpong>)
    # RESOURCE_LOCK: the cases would fight for the 2 cores and skew each other's
    # round trips; they never share sockets or namespaces.
    set_tests_properties(integration.dpdk_${case} PROPERTIES
                         TIMEOUT 60 SKIP_RETURN_CODE 77 LABELS "integration;dpdk"
                         RESOURCE_LOCK rum_dpdk)
  endforeach()
endif()

# The cluster suites over dpdk/net_memif (dpdk_cluster.sh): three rumd, each with
# memif interfaces for four clients and one per other node, started by
# with_cluster.sh --transport dpdk-memif; the spine's RPC suite (rpc_client_test) as
# two different clients and with a node killed; mem_test --quick and hashtable as
# librum clients with RUM_TRANSPORT=dpdk. Ports 20100-20299.
if(RUM_HAVE_DPDK AND TARGET rumd)
  set(DPDK_CLUSTER ${CMAKE_CURRENT_LIST_DIR}/dpdk_cluster.sh)
  # dpdk_cluster_test(NAME BASE_PORT CASE [ENV var=value...] ARGS...)
  function(dpdk_cluster_test name base_port case_name)
    cmake_parse_arguments(DCT "" "" "ENV;ARGS" ${ARGN})
    add_test(NAME integration.${name}
             COMMAND bash ${DPDK_CLUSTER} ${case_name} ${CMAKE_BINARY_DIR}/bin ${base_port} ${DCT_ARGS})
    set_tests_properties(integration.${name} PROPERTIES
                         TIMEOUT 90 SKIP_RETURN_CODE 77 LABELS "integration;dpdk"
                         RESOURCE_LOCK rum_dpdk ENVIRONMENT "${DCT_ENV}")
  endfunction()
  # rpc_client_test comes from rumd.cmake (with rumd; read after this file, but the
  # generator expressions resolve once every file is read).
  dpdk_cluster_test(dpdk_memif_rpc_roundtrip 20100 rpc-roundtrip ARGS $<TARGET_FILE:rpc_client_test>)
  dpdk_cluster_test(dpdk_memif_rpc_roundtrip_faults 20110 rpc-roundtrip
                    ENV RUM_FAULT_INJECT=drop=0.1,dup=0.1,reorder=0.1
                    ARGS $<TARGET_FILE:rpc_client_test>)
  dpdk_cluster_test(dpdk_memif_rpc_kill 20120 rpc-kill ARGS $<TARGET_FILE:rpc_client_test>)
  if(TARGET mem_test)
    dpdk_cluster_test(dpdk_memif_mem_test 20130 app ENV RUM_FAULT=uffd RUM_CACHE_MB=4
                      ARGS $<TARGET_FILE:mem_test> --quick --seed 1001)
    dpdk_cluster_test(dpdk_memif_mem_test.sigsegv.loss 20140 app
                      ENV RUM_FAULT=sigsegv RUM_CACHE_MB=2 RUM_FAULT_INJECT=drop=0.1,dup=0.1,reorder=0.1
                      ARGS $<TARGET_FILE:mem_test> --quick --seed 1001)
  endif()
  if(TARGET hashtable)
    dpdk_cluster_test(dpdk_memif_hashtable 20150 app ENV RUM_FAULT=uffd RUM_CACHE_MB=1
                      ARGS $<TARGET_FILE:hashtable> --ops 100000 --keys 10000 --seed 2002)
  endif()
endif()
