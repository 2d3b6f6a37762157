# Replicated page writes (replication=3) in rumd, end to end: a 3-node cluster on
# 127.0.0.1 ports 26500-26509, a write load through librum, the replica group's leader
# SIGKILLed during it (tests/repl/kill_leader.sh); every rum_sync must succeed and every
# acknowledged page read back.
if(NOT TARGET rumd OR NOT TARGET rum)
  return()
endif()

add_executable(repl_load ${CMAKE_SOURCE_DIR}/tests/repl/repl_load.c)
target_link_libraries(repl_load PRIVATE rum)
set_target_properties(repl_load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

add_test(NAME integration.repl.kill_leader
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 26500
                 --set replication=3 --
                 bash ${CMAKE_SOURCE_DIR}/tests/repl/kill_leader.sh ${CMAKE_BINARY_DIR}/bin/repl_load 256 6 2)
set_tests_properties(integration.repl.kill_leader PROPERTIES TIMEOUT 90 LABELS "integration;repl"
                     ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")

# Every rum.h call, every byte (mem_test --quick, as integration.mem_test) with
# replication=3: named regions, realloc (COPY through READ and WRITE), a small cache.
if(TARGET mem_test)
  add_test(NAME integration.repl.mem_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 26510
                   --memory-mb 512 --set replication=3 -- $<TARGET_FILE:mem_test> --quick --seed 1001)
  set_tests_properties(integration.repl.mem_test PROPERTIES TIMEOUT 300 LABELS "integration;repl"
                       SKIP_RETURN_CODE 77 ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin;RUM_CACHE_MB=4")
endif()

# Two of three nodes SIGKILLed during the load: rum_sync fails with an error rather
# than report writes that no majority holds (tests/repl/kill_majority.sh).
add_test(NAME integration.repl.kill_majority
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 26540
                 --set replication=3 --
                 bash ${CMAKE_SOURCE_DIR}/tests/repl/kill_majority.sh ${CMAKE_BINARY_DIR}/bin/repl_load 64 60 2)
set_tests_properties(integration.repl.kill_majority PROPERTIES TIMEOUT 120 LABELS "integration;repl"
                     ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
