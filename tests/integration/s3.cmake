# rum-s3 against fresh 3-node clusters: its own API scenarios, Debian's s3cmd and
# Debian's awscli. Ports: 27500-27999 (nodes at 276x0, the gateway at 276x0+10).
if(NOT TARGET rum-s3)
  return()
endif()
foreach(t api:api_test.py s3cmd:s3cmd_test.sh awscli:awscli_test.sh)
  string(REPLACE ":" ";" parts ${t})
  list(GET parts 0 name)
  list(GET parts 1 script)
  if(name STREQUAL "s3cmd")
    set(base 27620)
  elseif(name STREQUAL "awscli")
    set(base 27640)
  else()
    set(base 27600)
  endif()
  math(EXPR gwport "${base} + 10")
  add_test(NAME integration.s3.${name}
    COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port ${base} --memory-mb 512
            -- ${CMAKE_SOURCE_DIR}/tests/s3/${script} ${gwport})
  if(name STREQUAL "api")
    set_tests_properties(integration.s3.${name} PROPERTIES TIMEOUT 300 LABELS "integration;s3")
  else()
    # Real clients: a python start-up per call (awscli about 1-3 s), so slow on a busy machine.
    set_tests_properties(integration.s3.${name} PROPERTIES TIMEOUT 900 LABELS "integration;s3;s3-clients")
  endif()
endforeach()

# The load client of bench/s3_bench.sh (built here so it is not an installed program).
add_executable(s3_http_load ${CMAKE_SOURCE_DIR}/tests/s3/http_load.c)
target_link_libraries(s3_http_load PRIVATE Threads::Threads)

# The socket-free parts against AWS's published signature examples.
add_executable(test_s3_proto ${CMAKE_SOURCE_DIR}/tests/s3/test_s3_proto.c)
target_link_libraries(test_s3_proto PRIVATE rum_s3_proto)
add_test(NAME unit.s3_proto COMMAND test_s3_proto)
set_tests_properties(unit.s3_proto PROPERTIES TIMEOUT 30 LABELS "unit;s3")

# A 1 GiB object with a 32 MiB page cache: gateway memory stays bounded (label s3-big:
# about a minute of transfers).
add_test(NAME integration.s3.big_object
  COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh --nodes 3 --base-port 27660 --memory-mb 1024
          -- ${CMAKE_SOURCE_DIR}/tests/s3/big_object_test.py 27670 1024)
set_tests_properties(integration.s3.big_object PROPERTIES TIMEOUT 900 LABELS "integration;s3;s3-big")
