# Fuzz targets for rum-kvs's request parsers (included from tests/CMakeLists.txt):
# fuzz_resp over server/resp.c, fuzz_memcached over server/mc_proto.c. With clang
# each is a libFuzzer run of a few seconds from the committed seeds; with any
# compiler a replay driver runs the harness over the seeds.
if(NOT TARGET rum-kvs)
  return()
endif()
set(RUM_KVS_SERVER_DIR ${CMAKE_SOURCE_DIR}/apps/kvs/server)
foreach(parser resp memcached)
  if(parser STREQUAL "resp")
    set(src ${RUM_KVS_SERVER_DIR}/resp.c)
  else()
    set(src ${RUM_KVS_SERVER_DIR}/mc_proto.c)
  endif()
  set(seeds ${CMAKE_CURRENT_LIST_DIR}/corpus/${parser})
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(corpus ${CMAKE_BINARY_DIR}/fuzz/corpus/${parser})
    set(artifacts ${CMAKE_BINARY_DIR}/fuzz/artifacts/${parser})
    file(MAKE_DIRECTORY ${corpus} ${artifacts})
    add_executable(fuzz_${parser} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${parser}.c ${src})
    target_include_directories(fuzz_${parser} PRIVATE ${RUM_KVS_SERVER_DIR})
    target_compile_options(fuzz_${parser} PRIVATE -fsanitize=fuzzer,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_${parser} PRIVATE -fsanitize=fuzzer,address,undefined)
    add_test(NAME fuzz.${parser}
             COMMAND fuzz_${parser} -max_total_time=10 -rss_limit_mb=1024
                     -artifact_prefix=${artifacts}/ ${corpus} ${seeds})
    set_tests_properties(fuzz.${parser} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
  add_executable(fuzz_${parser}_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_${parser}.c
                 ${CMAKE_CURRENT_LIST_DIR}/replay_main.c ${src})
  target_include_directories(fuzz_${parser}_replay PRIVATE ${RUM_KVS_SERVER_DIR})
  add_test(NAME fuzz.${parser}_replay COMMAND fuzz_${parser}_replay ${seeds})
  set_tests_properties(fuzz.${parser}_replay PROPERTIES TIMEOUT 60 LABELS fuzz)
endforeach()
