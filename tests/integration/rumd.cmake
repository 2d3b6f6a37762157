# Integration tests of the memory node: real rumd processes on 127.0.0.1, ports 17000-17999.
# Each test has its own ports so that `ctest -j` can run them side by side.
if(NOT TARGET rumd)
  return()
endif()

set(RUMD_IT_DIR ${CMAKE_CURRENT_LIST_DIR})
set(RUMD_WITH_CLUSTER ${RUMD_IT_DIR}/with_cluster.sh)

# The client-side driver: the RPC layer and wire codecs used directly, as librum will.
add_executable(rpc_client_test ${RUMD_IT_DIR}/rpc_client_test.c)
target_link_libraries(rpc_client_test PRIVATE rum_cluster rum_net rum_proto rum_util Threads::Threads)

function(rumd_cli_test name case port)
  add_test(NAME rumd.${name} COMMAND bash ${RUMD_IT_DIR}/rumd_cli_test.sh ${case} ${CMAKE_BINARY_DIR}/bin ${port})
  set_tests_properties(rumd.${name} PROPERTIES TIMEOUT 60 LABELS "integration;rumd"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()

rumd_cli_test(help help 17000)
rumd_cli_test(bad_flags bad-flags 17002)
rumd_cli_test(bad_machines bad-machines 17004)
rumd_cli_test(sigterm sigterm 17006)
rumd_cli_test(with_cluster with-cluster 17008)
rumd_cli_test(require_key require-key 27040)
if(RUM_HAVE_DPDK)
  add_test(NAME rumd.dpdk_memif COMMAND bash ${RUMD_IT_DIR}/rumd_cli_test.sh dpdk-memif ${CMAKE_BINARY_DIR}/bin 17010
                                        $<TARGET_FILE:rpc_client_test>)
  set_tests_properties(rumd.dpdk_memif PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "integration;rumd;dpdk"
                       RESOURCE_LOCK rum_dpdk)
endif()

# rumd_cluster_test(NAME BASE_PORT CLIENT_PORT "with_cluster args" "driver args" [ENV...])
function(rumd_cluster_test name base_port client_port cluster_args driver_args)
  separate_arguments(cluster_list UNIX_COMMAND "${cluster_args}")
  separate_arguments(driver_list UNIX_COMMAND "${driver_args}")
  add_test(NAME rumd.${name}
           COMMAND bash ${RUMD_WITH_CLUSTER} --base-port ${base_port} ${cluster_list} --
                   $<TARGET_FILE:rpc_client_test> ${driver_list} --port ${client_port})
  set(env "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin" ${ARGN})
  set_tests_properties(rumd.${name} PROPERTIES TIMEOUT 120 LABELS "integration;rumd" ENVIRONMENT "${env}")
endfunction()

rumd_cluster_test(roundtrip 17100 17190 "--nodes 3" "roundtrip")
rumd_cluster_test(roundtrip_faults 17110 17191 "--nodes 3" "roundtrip"
                  "RUM_FAULT_INJECT=drop=0.1,dup=0.1,reorder=0.1")
# Ethernet-sized frames: READ replies go out zero-copy, each frame gathering page pieces.
rumd_cluster_test(roundtrip_mtu1472 17170 17201 "--nodes 3 --rumd-arg --mtu --rumd-arg 1472" "roundtrip"
                  "RUM_FAULT_INJECT=drop=0.05,dup=0.05,reorder=0.05")
rumd_cluster_test(kill 17120 17192 "--nodes 3" "kill --timeout 500")
rumd_cluster_test(dup_alloc 17130 17193 "--nodes 1" "dup-alloc")
rumd_cluster_test(memlimit 17140 17195 "--nodes 1 --memory-mb 1" "memlimit")
rumd_cluster_test(lease 17150 17197 "--nodes 1 --rumd-arg --lease-ms --rumd-arg 300" "lease")

# A cluster key (a fixed test key, 64 hex digits): every frame MACed.
set(RUMD_TEST_KEY ${CMAKE_BINARY_DIR}/tests/rumd-test.key)
file(WRITE ${RUMD_TEST_KEY} "00112233445566778899aabbccddeeff0123456789abcdef0011223344556677\n")
rumd_cluster_test(key 17160 17199 "--nodes 1 --rumd-arg --key-file --rumd-arg ${RUMD_TEST_KEY}"
                  "key --key-file ${RUMD_TEST_KEY}")

# Bad input over the wire: 20000 malformed datagrams at a node; it drops and counts
# them and still answers (port 16320).
if(TARGET rumctl)
  add_test(NAME rumd.garbage_frames
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/with_cluster.sh --nodes 1 --base-port 16320
            -- python3 ${CMAKE_CURRENT_LIST_DIR}/garbage_frames.py ${CMAKE_BINARY_DIR}/bin 127.0.0.1 16320)
  set_tests_properties(rumd.garbage_frames PROPERTIES TIMEOUT 120 LABELS "integration;rumd")
endif()

# Access control, limits, quotas and replay (tests/integration/security_test.c): hand-built
# frames on a raw socket. Ports 27000-27099.
add_executable(security_test ${RUMD_IT_DIR}/security_test.c)
target_link_libraries(security_test PRIVATE rum_cluster rum_proto rum_util)
set_target_properties(security_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
function(security_test name base_port client_port cluster_args driver_args)
  separate_arguments(cluster_list UNIX_COMMAND "${cluster_args}")
  separate_arguments(driver_list UNIX_COMMAND "${driver_args}")
  add_test(NAME rumd.security_${name}
           COMMAND bash ${RUMD_WITH_CLUSTER} --base-port ${base_port} ${cluster_list} --
                   $<TARGET_FILE:security_test> ${driver_list} --port ${client_port})
  set_tests_properties(rumd.security_${name} PROPERTIES TIMEOUT 120 LABELS "integration;rumd;security"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()
security_test(owner 27000 27090 "--nodes 1" "owner")
security_test(limits 27010 27091 "--nodes 1" "limits")
security_test(quota 27020 27092 "--nodes 1 --rumd-arg --client-quota-mb --rumd-arg 8" "quota --quota-mb 8")
security_test(replay 27030 27093 "--nodes 1 --rumd-arg --key-file --rumd-arg ${RUMD_TEST_KEY}"
              "replay --key-file ${RUMD_TEST_KEY}")

# The quota through the public API: rum_alloc returns NULL with ENOMEM at the quota,
# and a second client is not affected (ports 27050-27059).
if(TARGET rum)
  add_executable(quota_client ${RUMD_IT_DIR}/quota_client.c)
  target_link_libraries(quota_client PRIVATE rum)
  add_test(NAME rumd.security_quota_client
           COMMAND bash ${RUMD_WITH_CLUSTER} --nodes 2 --base-port 27050 --rumd-arg --client-quota-mb
                   --rumd-arg 16 -- bash ${RUMD_IT_DIR}/quota.sh $<TARGET_FILE:quota_client> 16 2)
  set_tests_properties(rumd.security_quota_client PROPERTIES TIMEOUT 180 LABELS "integration;rumd;security"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endif()
