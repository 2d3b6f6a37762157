# The correctness apps on a local cluster of three real rumd (with_cluster.sh):
#   integration.mem_test.<backend>[.loss]    every rum.h call, every byte (--quick)
#   integration.hashtable.<backend>[.loss]   a hash table in RUM memory vs a local reference
#   integration.hashtable.uffd.rum_alloc     the same with one rum_alloc per entry
#   integration.persist_after_exit[.sigsegv] a named region written by a process that exits
#                                            without rum_sync, verified by a second process
# <backend> is the fault backend (RUM_FAULT=uffd or sigsegv); .loss adds 10% injected
# packet drop, duplication and reordering on the client and the nodes. The caches are
# small so that eviction and write-back run all the time. Seeds are fixed so that a
# failure replays; each app prints its seed and takes --seed to rerun it by hand.
# Exit status 77 (the backend is not available on this machine) marks a test skipped.
# Ports: 19000-19999, ten per test.
if(NOT TARGET mem_test AND NOT TARGET hashtable)
  return()
endif()
set(RUM_APPS_WITH_CLUSTER ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh)
set(RUM_APPS_NEXT_PORT 19000)
set(RUM_APPS_LOSS "RUM_FAULT_INJECT=drop=0.1,dup=0.1,reorder=0.1")

# rum_apps_test(<name> ENV <VAR=value>... COMMAND <program> <args>...)
# Registers integration.<name>: COMMAND runs against a fresh 3-node cluster.
macro(rum_apps_test name)
  cmake_parse_arguments(RAT "" "" "ENV;COMMAND" ${ARGN})
  add_test(NAME integration.${name}
    COMMAND ${RUM_APPS_WITH_CLUSTER} --nodes 3 --base-port ${RUM_APPS_NEXT_PORT} --memory-mb 512
            -- ${RAT_COMMAND})
  set_tests_properties(integration.${name} PROPERTIES
    TIMEOUT 300 LABELS "integration;apps" SKIP_RETURN_CODE 77 ENVIRONMENT "${RAT_ENV}")
  math(EXPR RUM_APPS_NEXT_PORT "${RUM_APPS_NEXT_PORT} + 10")
endmacro()

foreach(backend uffd sigsegv)
  foreach(variant plain loss)
    set(suffix ${backend})
    set(loss_env)
    set(mem_test_cache_mb 4)
    if(variant STREQUAL "loss")
      # Under loss every retransmission waits for a timeout: a smaller cache (and so
      # smaller big-data phases, still 20x the cache) keeps the test near 30 s.
      set(suffix ${backend}.loss)
      set(loss_env ${RUM_APPS_LOSS})
      set(mem_test_cache_mb 2)
    endif()
    if(TARGET mem_test)
      rum_apps_test(mem_test.${suffix}
        ENV RUM_FAULT=${backend} RUM_CACHE_MB=${mem_test_cache_mb} ${loss_env}
        COMMAND $<TARGET_FILE:mem_test> --quick --seed 1001)
    endif()
    if(TARGET hashtable)
      # 10000 keys fill about 2 MiB: twice the 1 MiB cache.
      rum_apps_test(hashtable.${suffix}
        ENV RUM_FAULT=${backend} RUM_CACHE_MB=1 ${loss_env}
        COMMAND $<TARGET_FILE:hashtable> --ops 100000 --keys 10000 --seed 2002)
    endif()
  endforeach()
endforeach()
if(TARGET hashtable)
  # Every entry its own rum_alloc, resized with rum_realloc.
  rum_apps_test(hashtable.uffd.rum_alloc
    ENV RUM_FAULT=uffd RUM_CACHE_MB=1
    COMMAND $<TARGET_FILE:hashtable> --ops 100000 --keys 10000 --seed 2003 --alloc rum)
endif()

if(TARGET mem_test)
  # The writer returns from main without rum_sync() or rum_shutdown(): only the
  # write-back at exit can put its dirty pages (3x the cache) on the nodes.
  foreach(backend auto sigsegv)
    set(name persist_after_exit)
    if(NOT backend STREQUAL "auto")
      set(name persist_after_exit.${backend})
    endif()
    rum_apps_test(${name}
      ENV RUM_FAULT=${backend} RUM_CACHE_MB=4
      COMMAND /bin/sh -c "\"$0\" --phase persist-write --seed 3003 --name persist.${backend} && \"$0\" --phase persist-verify --seed 3003 --name persist.${backend}"
              $<TARGET_FILE:mem_test>)
  endforeach()
endif()

if(TARGET mem_test)
  # The allocator under load: 4 threads of random alloc/realloc/free of 1 B..64 MiB,
  # each block checked against a shadow copy, about 1.5 GiB written through a 4 MiB
  # cache; on both fault backends and under loss.
  foreach(backend uffd sigsegv)
    rum_apps_test(alloc_stress.${backend}
      ENV RUM_FAULT=${backend} RUM_CACHE_MB=4
      COMMAND $<TARGET_FILE:mem_test> --phase stress --threads 4 --seed 4004)
    rum_apps_test(alloc_stress.${backend}.loss
      ENV RUM_FAULT=${backend} RUM_CACHE_MB=4 ${RUM_APPS_LOSS}
      COMMAND $<TARGET_FILE:mem_test> --phase stress --threads 4 --seed 4005)
  endforeach()
endif()

# Node memory after a churn (10 GiB allocated and freed, 100 MiB live at any time)
# comes down to near the live size, as rumctl status --json shows.
add_executable(alloc_churn ${CMAKE_CURRENT_LIST_DIR}/alloc_churn.c)
target_link_libraries(alloc_churn PRIVATE rum)
set_target_properties(alloc_churn PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
rum_apps_test(alloc_churn
  ENV RUM_CACHE_MB=256
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/alloc_churn.sh ${CMAKE_BINARY_DIR}/bin 10240 100)
