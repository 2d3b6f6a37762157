# Integration tests of librum against real rumd nodes on 127.0.0.1, ports 18100-18199
# (three per test),
# on both fault backends. Each test has its own ports so that `ctest -j` works.
if(NOT TARGET rumd OR NOT TARGET rum)
  return()
endif()

set(CLIENT_IT_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(client_smoke ${CLIENT_IT_DIR}/client_smoke.c)
target_link_libraries(client_smoke PRIVATE rum Threads::Threads)
set_target_properties(client_smoke PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
add_executable(journal_crash ${CLIENT_IT_DIR}/journal_crash.c)
target_link_libraries(journal_crash PRIVATE rum)
set_target_properties(journal_crash PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

# client_test(NAME PORT FAULT "scenario command" [ENV...])
function(client_test name port fault script)
  add_test(NAME client.${name}.${fault}
           COMMAND bash ${CLIENT_IT_DIR}/with_cluster.sh --nodes 3 --base-port ${port} -- bash -c "${script}")
  set_tests_properties(client.${name}.${fault} PROPERTIES TIMEOUT 240 LABELS "integration;client"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin;RUM_FAULT=${fault};${ARGN}")
endfunction()

set(SMOKE ${CMAKE_BINARY_DIR}/bin/client_smoke)
foreach(fault uffd sigsegv)
  if(fault STREQUAL "uffd")
    set(off 0)
  else()
    set(off 50)
  endif()
  math(EXPR p1 "18100 + ${off}")
  math(EXPR p2 "18110 + ${off}")
  math(EXPR p3 "18120 + ${off}")
  math(EXPR p4 "18130 + ${off}")
  math(EXPR p5 "18140 + ${off}")
  math(EXPR p6 "18145 + ${off}")
  math(EXPR p7 "18105 + ${off}")
  client_test(basic ${p1} ${fault} "${SMOKE} basic")
  client_test(resize ${p7} ${fault} "${SMOKE} resize")
  client_test(threads ${p2} ${fault} "${SMOKE} threads")
  client_test(named ${p3} ${fault}
              "${SMOKE} named-create it.named && ${SMOKE} named-check it.named && ${SMOKE} named-free it.named")
  # 1 GiB through a 16 MiB cache reads back exactly what was written.
  client_test(big ${p4} ${fault} "${SMOKE} big 1024" "RUM_CACHE_MB=16")
  add_test(NAME client.lease.${fault}
           COMMAND bash ${CLIENT_IT_DIR}/with_cluster.sh --nodes 3 --base-port ${p5} --rumd-arg --lease-ms
                   --rumd-arg 300 -- ${SMOKE} lease)
  set_tests_properties(client.lease.${fault} PROPERTIES TIMEOUT 60 LABELS "integration;client"
                       ENVIRONMENT "RUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin;RUM_FAULT=${fault}")
  # Node 2 killed under a region pinned there: the next touch stops the program with a
  # message naming region, page and node (checked from a forked child's stderr).
  # rum_sync with a journal is all or nothing across SIGKILL (1024 pages through a
  # 1 MiB cache: evictions write pages home mid-epoch); without one, mixes show up.
  math(EXPR p8 "18115 + ${off}")
  math(EXPR p9 "18125 + ${off}")
  client_test(journal_crash ${p8} ${fault} "${CMAKE_BINARY_DIR}/bin/journal_crash 12" "RUM_CACHE_MB=1")
  client_test(journal_off ${p9} ${fault} "${CMAKE_BINARY_DIR}/bin/journal_crash 6 --no-journal" "RUM_CACHE_MB=1")
  client_test(node_gone ${p6} ${fault} "${SMOKE} node-gone")
  set_tests_properties(client.node_gone.${fault} PROPERTIES TIMEOUT 60)
endforeach()
