# rum-kvs against a fresh 3-node cluster. Ports: 23000-23999.
if(NOT TARGET rum-kvs)
  return()
endif()
add_test(NAME integration.kvs.restart
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 23000 --memory-mb 256
          -- ${CMAKE_SOURCE_DIR}/tests/kvs/restart.sh 23010)
set_tests_properties(integration.kvs.restart PROPERTIES TIMEOUT 120 LABELS "integration;kvs")
# Hashes, lists, sets and sorted sets (ports 25000-25499): the differential suite
# against a real redis-server, and redis-cli's --pipe mass insertion and walks.
add_test(NAME integration.kvs.diff
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 25000 --memory-mb 256
          -- ${CMAKE_SOURCE_DIR}/tests/kvs/diff.sh 25010)
set_tests_properties(integration.kvs.diff PROPERTIES TIMEOUT 180 LABELS "integration;kvs")
add_test(NAME integration.kvs.cli
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 25100 --memory-mb 512
          -- ${CMAKE_SOURCE_DIR}/tests/kvs/cli.sh 25110)
set_tests_properties(integration.kvs.cli PROPERTIES TIMEOUT 300 LABELS "integration;kvs")
add_test(NAME integration.kvs.full
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 2 --base-port 25400 --memory-mb 24
          -- ${CMAKE_SOURCE_DIR}/tests/kvs/full.sh 25410)
set_tests_properties(integration.kvs.full PROPERTIES TIMEOUT 120 LABELS "integration;kvs")
