# rum-kvs: the memcached front end, durability, a data set larger than the cache,
# and bad input, each against a fresh 3-node cluster. Ports: 25500-25999.
if(NOT TARGET rum-kvs)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_FOUND)
  return()
endif()
function(rum_kvs_test name base memory script)
  add_test(NAME integration.kvs.${name}
    COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port ${base} --memory-mb ${memory}
            -- ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/kvs/${script} --base-port ${ARGN})
  set_tests_properties(integration.kvs.${name} PROPERTIES TIMEOUT 180 LABELS "integration;kvs" SKIP_RETURN_CODE 77)
endfunction()
rum_kvs_test(memcached_diff 25500 256 mc_diff.py 25510)
rum_kvs_test(sync_kill 25520 256 durability.py 25530)
rum_kvs_test(big_dataset 25540 256 bigdata.py 25550 --cache-mb 2)
rum_kvs_test(bad_input 25560 256 bad_input.py 25570)
