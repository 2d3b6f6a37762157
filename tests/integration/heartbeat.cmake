# Heartbeats and leases (ports 16300-16319):
#   integration.lease_reclaim  a client killed with SIGKILL loses its leased regions
#                              within the lease; its named region survives
#   integration.peers_down     node heartbeats: a killed node is seen down by its peers
#                              and by rumctl
if(TARGET rum AND TARGET rumctl)
  add_executable(lease_client ${CMAKE_CURRENT_LIST_DIR}/lease_client.c)
  target_link_libraries(lease_client PRIVATE rum)
  set_target_properties(lease_client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  add_test(NAME integration.lease_reclaim
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/with_cluster.sh --nodes 3 --base-port 16300
            --rumd-arg --lease-ms --rumd-arg 1500
            -- ${CMAKE_CURRENT_LIST_DIR}/lease_reclaim.sh ${CMAKE_BINARY_DIR}/bin 1500)
  add_test(NAME integration.peers_down
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/with_cluster.sh --nodes 3 --base-port 16310
            -- ${CMAKE_CURRENT_LIST_DIR}/peers_down.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(integration.lease_reclaim integration.peers_down PROPERTIES
    TIMEOUT 120 LABELS integration WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endif()
