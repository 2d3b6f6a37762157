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

# repl_kill_test(NAME SCRIPT PORT PAGES SECONDS KILL_AFTER_S): tests/repl/SCRIPT.sh
# with repl_load on a fresh 3-node replication=3 cluster.
function(repl_kill_test name script port pages seconds kill_after)
  add_test(NAME integration.repl.${name}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port ${port}
                   --set replication=3 --
                   bash ${CMAKE_SOURCE_DIR}/tests/repl/${script}.sh ${CMAKE_BINARY_DIR}/bin/repl_load
                   ${pages} ${seconds} ${kill_after})
  set_tests_properties(integration.repl.${name} PROPERTIES TIMEOUT 120 LABELS "integration;repl"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()

repl_kill_test(kill_leader kill_leader 26500 256 6 2)

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
repl_kill_test(kill_majority kill_majority 26540 64 60 2)
