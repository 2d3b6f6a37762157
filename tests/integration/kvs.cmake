# rum-kvs against a fresh 3-node cluster. Ports: 23000-23999.
if(NOT TARGET rum-kvs)
  return()
endif()
add_test(NAME integration.kvs.restart
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 23000 --memory-mb 256
          -- ${CMAKE_SOURCE_DIR}/tests/kvs/restart.sh 23010)
set_tests_properties(integration.kvs.restart PROPERTIES TIMEOUT 120 LABELS "integration;kvs")
