# rum-s3's socket-free parsers under libFuzzer (clang only): Signature V4's canonical
# request with the aws-chunked decoder (fuzz_sigv4), and the XML bodies and escaping
# (fuzz_s3_xml). Seeds in corpus/sigv4 and corpus/s3_xml; replay targets run the
# seeds with any compiler.
if(NOT TARGET rum_s3_proto)
  return()
endif()
foreach(name sigv4 s3_xml)
  set(seeds ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(corpus ${CMAKE_BINARY_DIR}/fuzz/corpus/${name})
    set(artifacts ${CMAKE_BINARY_DIR}/fuzz/artifacts/${name})
    file(MAKE_DIRECTORY ${corpus} ${artifacts})
    add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.c ${RUM_S3_PROTO_SOURCES})
    target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/apps/s3 ${CMAKE_SOURCE_DIR}/include)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${name} PRIVATE PkgConfig::OPENSSL PkgConfig::LIBXML2 PkgConfig::ZLIB)
    add_test(NAME fuzz.${name}
             COMMAND fuzz_${name} -max_total_time=10 -rss_limit_mb=1024
                     -artifact_prefix=${artifacts}/ ${corpus} ${seeds})
    set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
  add_executable(fuzz_${name}_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.c ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
  target_link_libraries(fuzz_${name}_replay PRIVATE rum_s3_proto)
  add_test(NAME fuzz.${name}_replay COMMAND fuzz_${name}_replay ${seeds})
  set_tests_properties(fuzz.${name}_replay PROPERTIES TIMEOUT 60 LABELS fuzz)
endforeach()
