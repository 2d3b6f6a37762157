# rum-run: unmodified Debian programs with their heap in RUM, each compared byte for
# byte with a plain run (tests/run/compare.sh), with a page cache far smaller than
# what the program allocates; each again under 10% injected packet loss. Ports
# 26000-26499, ten per test. The full sizes of the issue (sort of 200 MB, a million
# sqlite rows, g++ on the containers program) are in bench/rum_run_bench.sh and, with
# -DRUM_RUN_HEAVY_TESTS=ON, tests labelled "heavy".
if(NOT TARGET rum-run)
  return()
endif()
option(RUM_RUN_HEAVY_TESTS "register the rum-run tests at the issue's full sizes (minutes each)" OFF)
set(RUM_RUN_DIR ${CMAKE_SOURCE_DIR}/tests/run)
set(RUM_RUN_WITH_CLUSTER ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh)
set(RUM_RUN_NEXT_PORT 26000)

add_executable(rum_run_syscalls ${RUM_RUN_DIR}/syscalls.c)
target_link_libraries(rum_run_syscalls PRIVATE Threads::Threads)
add_executable(rum_run_fork ${RUM_RUN_DIR}/fork.c)

# rum_run_test(NAME n [TIMEOUT s] [LOSS] [LABEL l] [CACHE mb] [SETUP 'sh'] [STDIN f] [MIN_EVICTIONS k] -- COMMAND...)
function(rum_run_test)
  cmake_parse_arguments(T "LOSS;SIGSEGV" "NAME;TIMEOUT;CACHE;SETUP;STDIN;MIN_EVICTIONS;LABEL" "COMMAND" ${ARGN})
  set(args --rum-run $<TARGET_FILE:rum-run>)
  if(T_CACHE)
    list(APPEND args --cache-mb ${T_CACHE})
  endif()
  if(T_SETUP)
    list(APPEND args --setup "${T_SETUP}")
  endif()
  if(T_STDIN)
    list(APPEND args --stdin ${T_STDIN})
  endif()
  if(DEFINED T_MIN_EVICTIONS)
    list(APPEND args --min-evictions ${T_MIN_EVICTIONS})
  endif()
  set(name run.${T_NAME})
  if(T_LOSS)
    set(name run.loss.${T_NAME})
  elseif(T_SIGSEGV)
    set(name run.sigsegv.${T_NAME})
  endif()
  add_test(NAME ${name}
    COMMAND ${RUM_RUN_WITH_CLUSTER} --nodes 3 --base-port ${RUM_RUN_NEXT_PORT} --memory-mb 2048
      -- ${RUM_RUN_DIR}/compare.sh ${args} -- ${T_COMMAND})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set(labels "integration;run")
  if(T_LABEL)
    list(APPEND labels ${T_LABEL})
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${labels}")
  if(T_LOSS)
    # 10% of the frames dropped, on the nodes and in the program alike.
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "RUM_FAULT_INJECT=drop=0.1,seed=7")
  elseif(T_SIGSEGV)
    # The other fault backend: a shared memfd arena, SIGSEGV as RUM's signal.
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "RUM_FAULT=sigsegv")
  endif()
  math(EXPR next "${RUM_RUN_NEXT_PORT} + 10")
  set(RUM_RUN_NEXT_PORT ${next} PARENT_SCOPE)
endfunction()

set(RUM_RUN_TEXT "head -c 3000000 /dev/urandom | base64 -w 76 > in.txt")
set(RUM_RUN_GCC "cp ${RUM_RUN_DIR}/prog.c .")
set(RUM_RUN_CXX "g++ -O1 -o containers ${RUM_RUN_DIR}/containers.cpp")
find_program(RUM_RUN_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(RUM_RUN_LUA54 lua5.4)
find_program(RUM_RUN_SQLITE3 sqlite3)

# Each program, then again under loss (smaller where loss makes it slow).
set(RUM_RUN_SMALL_TEXT "head -c 1100000 /dev/urandom | base64 -w 76 > in.txt")
foreach(loss "" LOSS)
  set(sys_mb 12)
  if(loss)
    set(sys_mb 6) # each fault and write-back retried 10% of the time: keep it short
  endif()
  rum_run_test(NAME sort ${loss} CACHE 4 SETUP "${RUM_RUN_TEXT}" COMMAND sort in.txt)
  rum_run_test(NAME gzip ${loss} CACHE 1 MIN_EVICTIONS 0 SETUP "${RUM_RUN_TEXT}" STDIN in.txt COMMAND gzip -6 -c)
  rum_run_test(NAME xz ${loss} CACHE 2 SETUP "${RUM_RUN_SMALL_TEXT}" COMMAND xz -0 -T1 -c in.txt)
  if(RUM_RUN_PYTHON3)
    rum_run_test(NAME python ${loss} CACHE 4 COMMAND ${RUM_RUN_PYTHON3} ${RUM_RUN_DIR}/dict_list.py 60000)
  endif()
  if(RUM_RUN_LUA54)
    rum_run_test(NAME lua ${loss} CACHE 4 COMMAND ${RUM_RUN_LUA54} ${RUM_RUN_DIR}/tables.lua 15000)
  endif()
  if(RUM_RUN_SQLITE3)
    rum_run_test(NAME sqlite ${loss} CACHE 4 STDIN ${RUM_RUN_DIR}/db.sql
      COMMAND ${RUM_RUN_SQLITE3} :memory: -cmd ".parameter set :n 50000")
  endif()
  rum_run_test(NAME gcc ${loss} CACHE 3 SETUP "${RUM_RUN_GCC}" COMMAND sh -c "gcc -O2 -o prog prog.c && ./prog")
  rum_run_test(NAME cxx ${loss} CACHE 8 SETUP "${RUM_RUN_CXX}" COMMAND ./containers 50000)
  rum_run_test(NAME syscalls ${loss} CACHE 4 COMMAND $<TARGET_FILE:rum_run_syscalls> ${sys_mb})
  rum_run_test(NAME fork ${loss} CACHE 4 COMMAND $<TARGET_FILE:rum_run_fork> 16)
endforeach()

# The SIGSEGV fault backend under the programs that exercise the preload's own paths.
rum_run_test(NAME syscalls SIGSEGV CACHE 4 COMMAND $<TARGET_FILE:rum_run_syscalls> 12)
rum_run_test(NAME fork SIGSEGV CACHE 4 COMMAND $<TARGET_FILE:rum_run_fork> 16)
if(RUM_RUN_PYTHON3)
  rum_run_test(NAME python SIGSEGV CACHE 4 COMMAND ${RUM_RUN_PYTHON3} ${RUM_RUN_DIR}/dict_list.py 60000)
endif()

if(RUM_RUN_HEAVY_TESTS)
  rum_run_test(NAME heavy.sort LABEL heavy TIMEOUT 3600 CACHE 64
    SETUP "head -c 150000000 /dev/urandom | base64 -w 76 > in.txt" COMMAND sort in.txt)
  if(RUM_RUN_SQLITE3)
    rum_run_test(NAME heavy.sqlite LABEL heavy TIMEOUT 3600 CACHE 16 STDIN ${RUM_RUN_DIR}/db.sql
      COMMAND ${RUM_RUN_SQLITE3} :memory: -cmd ".parameter set :n 1000000")
  endif()
  rum_run_test(NAME heavy.gxx LABEL heavy TIMEOUT 3600 CACHE 16 SETUP "cp ${RUM_RUN_DIR}/containers.cpp ."
    COMMAND sh -c "g++ -O1 -o c containers.cpp && ./c 200000")
endif()

# A forked child that touches heap memory not resident at the fork is stopped with a
# message; rum-run's own command line.
add_test(NAME run.fork_refuse
  COMMAND ${RUM_RUN_WITH_CLUSTER} --nodes 3 --base-port ${RUM_RUN_NEXT_PORT}
    -- ${RUM_RUN_DIR}/refuse.sh $<TARGET_FILE:rum-run> $<TARGET_FILE:rum_run_fork>)
set_tests_properties(run.fork_refuse PROPERTIES TIMEOUT 120 LABELS "integration;run")
math(EXPR RUM_RUN_NEXT_PORT "${RUM_RUN_NEXT_PORT} + 10")
add_test(NAME run.sigsegv.fork_refuse
  COMMAND ${RUM_RUN_WITH_CLUSTER} --nodes 3 --base-port ${RUM_RUN_NEXT_PORT}
    -- ${RUM_RUN_DIR}/refuse.sh $<TARGET_FILE:rum-run> $<TARGET_FILE:rum_run_fork>)
set_tests_properties(run.sigsegv.fork_refuse PROPERTIES TIMEOUT 120 LABELS "integration;run" ENVIRONMENT "RUM_FAULT=sigsegv")
math(EXPR RUM_RUN_NEXT_PORT "${RUM_RUN_NEXT_PORT} + 10")
add_test(NAME run.min_bytes
  COMMAND ${RUM_RUN_WITH_CLUSTER} --nodes 3 --base-port ${RUM_RUN_NEXT_PORT}
    -- ${RUM_RUN_DIR}/min_bytes.sh $<TARGET_FILE:rum-run> $<TARGET_FILE:rum_run_syscalls>)
set_tests_properties(run.min_bytes PROPERTIES TIMEOUT 60 LABELS "integration;run")
math(EXPR RUM_RUN_NEXT_PORT "${RUM_RUN_NEXT_PORT} + 10")
add_test(NAME run.cli COMMAND ${RUM_RUN_DIR}/cli.sh $<TARGET_FILE:rum-run> ${RUM_RUN_NEXT_PORT})
set_tests_properties(run.cli PROPERTIES TIMEOUT 60 LABELS "integration;run")
