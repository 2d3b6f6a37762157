# Fuzz targets (included from tests/CMakeLists.txt).
#
# fuzz_proto: libFuzzer over the wire format (src/proto). Only clang has libFuzzer;
# the proto sources are compiled into the target again, with the fuzzer's coverage
# instrumentation, since the rum_proto library is built without it. New inputs go to
# a corpus in the build tree; the committed seeds are read from the source tree.
#
# fuzz_proto_replay: the same harness driven by a plain main() over the committed
# seeds, built with any compiler, so that a gcc build exercises the harness too.
set(RUM_FUZZ_PROTO_SEEDS ${CMAKE_CURRENT_LIST_DIR}/corpus/proto)
get_target_property(RUM_FUZZ_PROTO_LIBS rum_proto LINK_LIBRARIES)

if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  get_target_property(RUM_FUZZ_PROTO_SOURCES rum_proto SOURCES)
  set(RUM_FUZZ_PROTO_CORPUS ${CMAKE_BINARY_DIR}/fuzz/corpus/proto)
  set(RUM_FUZZ_PROTO_ARTIFACTS ${CMAKE_BINARY_DIR}/fuzz/artifacts/proto)
  file(MAKE_DIRECTORY ${RUM_FUZZ_PROTO_CORPUS} ${RUM_FUZZ_PROTO_ARTIFACTS})
  add_executable(fuzz_proto ${CMAKE_CURRENT_LIST_DIR}/fuzz_proto.c ${RUM_FUZZ_PROTO_SOURCES})
  target_compile_options(fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_proto PRIVATE ${RUM_FUZZ_PROTO_LIBS})
  add_test(NAME fuzz.proto
           COMMAND fuzz_proto -max_total_time=20 -rss_limit_mb=1024
                   -artifact_prefix=${RUM_FUZZ_PROTO_ARTIFACTS}/
                   ${RUM_FUZZ_PROTO_CORPUS} ${RUM_FUZZ_PROTO_SEEDS})
  set_tests_properties(fuzz.proto PROPERTIES TIMEOUT 120 LABELS fuzz)
endif()

# More parsers of untrusted bytes, each a short run: machines.csv files, and frames
# the dpdk transport receives. rum_fuzz_target(name harness sources...); committed
# seeds in tests/fuzz/corpus/<name>.
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  function(rum_fuzz_target name harness)
    set(corpus ${CMAKE_BINARY_DIR}/fuzz/corpus/${name})
    set(artifacts ${CMAKE_BINARY_DIR}/fuzz/artifacts/${name})
    file(MAKE_DIRECTORY ${corpus} ${artifacts})
    add_executable(fuzz_${name} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${harness} ${ARGN})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${name} PRIVATE rum_util PkgConfig::XXHASH PkgConfig::OPENSSL)
    # New inputs go to the build tree's corpus; the committed seeds are read too.
    add_test(NAME fuzz.${name}
             COMMAND fuzz_${name} -max_total_time=15 -rss_limit_mb=1024
                     -artifact_prefix=${artifacts}/ ${corpus} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/corpus/${name})
    set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endfunction()
  rum_fuzz_target(machines fuzz_machines.c ${CMAKE_SOURCE_DIR}/src/cluster/machines.c
                  ${CMAKE_SOURCE_DIR}/src/cluster/ring.c)
  rum_fuzz_target(dpdk_frame fuzz_dpdk_frame.c ${CMAKE_SOURCE_DIR}/src/net/dpdk_frame.c)
endif()

add_executable(fuzz_proto_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_proto.c ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
target_link_libraries(fuzz_proto_replay PRIVATE rum_proto)
add_test(NAME fuzz.proto_replay COMMAND fuzz_proto_replay ${RUM_FUZZ_PROTO_SEEDS})
set_tests_properties(fuzz.proto_replay PROPERTIES TIMEOUT 60 LABELS fuzz)

# fuzz_paxos: Paxos messages into a replica (src/paxos), from the committed seeds
# (tests/fuzz/gen_paxos_seeds.py writes them); fuzz_paxos_replay runs the harness over
# the seeds with any compiler.
file(GLOB RUM_FUZZ_PAXOS_SOURCES ${CMAKE_SOURCE_DIR}/src/paxos/*.c)
set(RUM_FUZZ_PAXOS_SEEDS ${CMAKE_CURRENT_LIST_DIR}/corpus/paxos)
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  rum_fuzz_target(paxos fuzz_paxos.c ${RUM_FUZZ_PAXOS_SOURCES})
endif()
add_executable(fuzz_paxos_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_paxos.c ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
target_link_libraries(fuzz_paxos_replay PRIVATE rum_paxos)
add_test(NAME fuzz.paxos_replay COMMAND fuzz_paxos_replay ${RUM_FUZZ_PAXOS_SEEDS})
set_tests_properties(fuzz.paxos_replay PROPERTIES TIMEOUT 60 LABELS fuzz)
