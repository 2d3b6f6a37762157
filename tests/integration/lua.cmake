# rum-lua: every program under tests/lua/ runs under the stock lua5.4 and under
# rum-lua on a local 3-node cluster; stdout and exit status must be the same (and
# stderr too, for the command-line tests). Ports: 21000-21899, ten per test.
if(TARGET rum-lua)
  find_program(RUM_LUA54_PROGRAM lua5.4)
  if(NOT RUM_LUA54_PROGRAM)
    message(WARNING "lua5.4 not found (apt-get install lua5.4): rum-lua tests are not registered")
  else()
    set(RUM_LUA_TESTS ${CMAKE_SOURCE_DIR}/tests/lua)
    set(RUM_LUA_WITH_CLUSTER ${CMAKE_SOURCE_DIR}/tests/integration/with_cluster.sh)
    set(RUM_LUA_NEXT_PORT 21000)

    # rum_lua_compare(NAME <name> [TIMEOUT s] [ENV VAR=value...] ARGS <compare.sh args>)
    # Registers lua.<name>; each test gets its own ten ports.
    macro(rum_lua_compare)
      cmake_parse_arguments(RLC "" "NAME;TIMEOUT" "ENV;ARGS" ${ARGN})
      add_test(NAME lua.${RLC_NAME}
        COMMAND ${RUM_LUA_TESTS}/compare.sh
          --lua54 ${RUM_LUA54_PROGRAM}
          --rum-lua $<TARGET_FILE:rum-lua>
          --with-cluster ${RUM_LUA_WITH_CLUSTER}
          --base-port ${RUM_LUA_NEXT_PORT}
          --workdir ${RUM_LUA_TESTS}
          ${RLC_ARGS})
      if(NOT RLC_TIMEOUT)
        set(RLC_TIMEOUT 180)
      endif()
      set_tests_properties(lua.${RLC_NAME} PROPERTIES TIMEOUT ${RLC_TIMEOUT} LABELS "integration;lua")
      if(RLC_ENV)
        set_tests_properties(lua.${RLC_NAME} PROPERTIES ENVIRONMENT "${RLC_ENV}")
      endif()
      math(EXPR RUM_LUA_NEXT_PORT "${RUM_LUA_NEXT_PORT} + 10")
    endmacro()

    # Language and library programs: same stdout, same status.
    foreach(prog tables strings closures coroutines metatables gc errors format_pack)
      rum_lua_compare(NAME ${prog} ARGS -- ${prog}.lua)
    endforeach()
    rum_lua_compare(NAME osio ENV RUM_LUA_TEST_VALUE=hello ARGS -- osio.lua)

    # The heap (~250 MiB live) far beyond an 8 MiB page cache.
    rum_lua_compare(NAME bigheap_cache8 TIMEOUT 300
      ARGS --cache-mb 8 --memory-mb 2048 -- bigheap.lua)

    # 10% of the packets lost, duplicated and reordered.
    foreach(prog strings metatables closures)
      rum_lua_compare(NAME fault_inject.${prog} TIMEOUT 300
        ENV RUM_FAULT_INJECT=drop=0.1,dup=0.1,reorder=0.1
        ARGS -- ${prog}.lua)
    endforeach()

    # Command line: same stdout, stderr (program names made equal) and status.
    rum_lua_compare(NAME cli.version ARGS --stderr -- -v)
    rum_lua_compare(NAME cli.e ARGS --stderr -- -e "print(1 + 1)" -e "x = 3" "-eprint(x * 2)")
    rum_lua_compare(NAME cli.e_error ARGS --stderr --expect-status 1 -- -e "local function f() error('boom') end f()")
    rum_lua_compare(NAME cli.e_syntax ARGS --stderr --expect-status 1 -- -e "x = = 1")
    rum_lua_compare(NAME cli.l ARGS --stderr -- -l mod_for_l -e "print(mod_for_l.answer)")
    rum_lua_compare(NAME cli.l_global ARGS --stderr -- -l m=mod_for_l -e "print(m.name, mod_for_l)")
    rum_lua_compare(NAME cli.l_missing ARGS --stderr --expect-status 1 -- -l no_such_module_here)
    rum_lua_compare(NAME cli.stdin ARGS --stderr --stdin stdin_chunk.lua -- - one two)
    rum_lua_compare(NAME cli.stdin_implicit ARGS --stderr --stdin stdin_chunk.lua --)
    rum_lua_compare(NAME cli.stdin_error ARGS --stderr --stdin runtime_error.lua --)
    rum_lua_compare(NAME cli.script_args ARGS --stderr -- script_args.lua one two "three four" -x)
    rum_lua_compare(NAME cli.dashdash ARGS --stderr -- -e "print('e first')" -- script_args.lua --)
    rum_lua_compare(NAME cli.lua_init ENV "LUA_INIT=print('init code'); INIT_VALUE = 7"
      ARGS --stderr -- -e "print(INIT_VALUE)")
    rum_lua_compare(NAME cli.lua_init_file ENV LUA_INIT=@init_file.lua
      ARGS --stderr -- -e "print(INIT_VALUE)")
    rum_lua_compare(NAME cli.lua_init_5_4 ENV "LUA_INIT_5_4=print('5.4 wins')" "LUA_INIT=print('plain')"
      ARGS --stderr -- -e "print('main')")
    rum_lua_compare(NAME cli.lua_init_error ENV "LUA_INIT=error('in init')"
      ARGS --stderr --expect-status 1 -- -e "print('not reached')")
    rum_lua_compare(NAME cli.E ENV "LUA_INIT=error('must be ignored')"
      ARGS --stderr -- -E -e "print('no init')")
    rum_lua_compare(NAME cli.W ARGS --stderr -- -W -e "warn('hello', ' world') warn('@off') warn('hidden')")
    rum_lua_compare(NAME cli.exit3 ARGS --stderr --expect-status 3 -- exit_code.lua)
    rum_lua_compare(NAME cli.exit_false ARGS --stderr --expect-status 1 -- -e "os.exit(false, true)")
    rum_lua_compare(NAME cli.syntax_error ARGS --stderr --expect-status 1 -- syntax_error.lua)
    rum_lua_compare(NAME cli.runtime_error ARGS --stderr --expect-status 1 -- runtime_error.lua)
    rum_lua_compare(NAME cli.missing_script ARGS --stderr --expect-status 1 -- no_such_script.lua)
    rum_lua_compare(NAME cli.bad_option ARGS --stderr --expect-status 1 -- -z)
    rum_lua_compare(NAME cli.needs_argument ARGS --stderr --expect-status 1 -- -e)
    rum_lua_compare(NAME cli.interactive ARGS --stderr --stdin interactive.txt -- -i)

    # rum-lua only: the rum module and the heap accounting; running out of node memory;
    # no cluster at all.
    add_test(NAME lua.rum_module
      COMMAND ${RUM_LUA_WITH_CLUSTER} --nodes 3 --base-port ${RUM_LUA_NEXT_PORT}
              -- $<TARGET_FILE:rum-lua> ${RUM_LUA_TESTS}/rum_module.lua)
    set_tests_properties(lua.rum_module PROPERTIES TIMEOUT 180 LABELS "integration;lua"
      PASS_REGULAR_EXPRESSION "rum module ok")
    math(EXPR RUM_LUA_NEXT_PORT "${RUM_LUA_NEXT_PORT} + 10")
    add_test(NAME lua.out_of_memory
      COMMAND ${RUM_LUA_WITH_CLUSTER} --nodes 3 --base-port ${RUM_LUA_NEXT_PORT} --memory-mb 64
              -- $<TARGET_FILE:rum-lua> ${RUM_LUA_TESTS}/out_of_memory.lua)
    set_tests_properties(lua.out_of_memory PROPERTIES TIMEOUT 180 LABELS "integration;lua"
      PASS_REGULAR_EXPRESSION "out of memory handled")
    add_test(NAME lua.no_cluster COMMAND ${RUM_LUA_TESTS}/no_cluster.sh $<TARGET_FILE:rum-lua>)
    set_tests_properties(lua.no_cluster PROPERTIES TIMEOUT 60 LABELS "integration;lua")
  endif()
endif()
