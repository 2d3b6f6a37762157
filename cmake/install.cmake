# Install rules: `cmake --install BUILD [--prefix P]` (DESTDIR honoured), GNUInstallDirs
# layout. Every installed file belongs to one component, and each component is one
# Debian package (cmake/cpack.cmake):
#   lib     librum.so.0 and librum.so.0.1.0                                  -> librum0
#   dev     headers, librum.so, librum.a, rum.pc, rum-static.pc, CMake package -> librum-dev
#   server  rumd, rumd@.service, rumd(8), rum-kvs, rum-kvs@.service, rum-s3,
#           examples -> rum-server
#   tools   rumctl, rum-cluster, rum-bench, mem_test, hashtable, rum-lua,
#           rum-run and librum-preload.so                                    -> rum-tools
# A new program goes into RUM_PROGRAMS below with its component and gets a man page in
# packaging/man/; the test install.coverage fails while a built program is missing here.
include(CMakePackageConfigHelpers)

set(RUM_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(RUM_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/RUM)
# Where the units look for machines.csv and the optional rumd.env files: /etc/rum when
# the prefix is /usr (GNUInstallDirs maps its sysconfdir to /etc), else PREFIX/etc/rum.
set(RUM_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/rum CACHE PATH
    "folder the systemd units read machines.csv from")
# systemd reads units from PREFIX/lib/systemd/system for /usr and /usr/local alike.
set(RUM_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
    "systemd unit folder, relative to the install prefix (or absolute)")

# ---- programs: name, component, man page section ----
# A name that is a file in scripts/ is installed as that script, else as the target.
set(RUM_PROGRAMS
  rumd        server 8
  rumctl      tools  1
  rum-bench   tools  1
  mem_test    tools  1
  hashtable   tools  1
  rum-lua     tools  1
  rum-run     tools  1
  rum-kvs     server 1
  rum-s3      server 1
  rum-cluster tools  1)

set(RUM_INSTALLED_PROGRAMS) # what install.coverage compares with the built programs
set(RUM_MAN_PAGES)          # name.section of every page, for the man target
macro(rum_install_man name section component)
  if(NOT EXISTS ${RUM_PACKAGING_DIR}/man/${name}.${section})
    message(FATAL_ERROR "${name} is installed but has no man page packaging/man/${name}.${section}")
  endif()
  list(APPEND RUM_MAN_PAGES ${name}.${section})
  install(FILES ${CMAKE_BINARY_DIR}/man/${name}.${section}.gz
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endmacro()

list(LENGTH RUM_PROGRAMS n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 3)
  math(EXPR j "${i} + 1")
  math(EXPR k "${i} + 2")
  list(GET RUM_PROGRAMS ${i} program)
  list(GET RUM_PROGRAMS ${j} component)
  list(GET RUM_PROGRAMS ${k} section)
  if(EXISTS ${CMAKE_SOURCE_DIR}/scripts/${program})
    install(PROGRAMS ${CMAKE_SOURCE_DIR}/scripts/${program} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  elseif(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  else()
    continue()
  endif()
  list(APPEND RUM_INSTALLED_PROGRAMS ${program})
  rum_install_man(${program} ${section} ${component})
endforeach()

# librum-preload.so goes where rum-run looks for it: LIBDIR, seen from BINDIR.
if(TARGET rum-preload)
  install(TARGETS rum-preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT tools)
endif()

# ---- the library ----
if(TARGET rum)
  # librum.so.0.1.0 and its SONAME link librum.so.0 are the runtime (librum0); the
  # development link librum.so goes with the headers.
  install(TARGETS rum EXPORT RUMTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(TARGETS rum_static EXPORT RUMStaticTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/rum DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT dev FILES_MATCHING PATTERN "*.h")
  rum_install_man(rum 3 dev)

  # What a static link of librum.a needs besides: the pkg-config modules of the
  # libraries librum.so links (Requires.private) and the flags of those without one.
  # DPDK is linked as shared libraries, as librum.so does (its drivers are plugins
  # that EAL loads); its own .pc would ask for its static archives instead.
  set(RUM_STATIC_PC_MODULES libcrypto libxxhash)
  set(RUM_STATIC_LIBS_PRIVATE -pthread)
  if(RUM_HAVE_DPDK)
    list(APPEND RUM_STATIC_LIBS_PRIVATE ${DPDK_LDFLAGS})
    set(RUM_STATIC_CMAKE_MODULES ${RUM_STATIC_PC_MODULES} libdpdk)
  else()
    set(RUM_STATIC_CMAKE_MODULES ${RUM_STATIC_PC_MODULES})
  endif()
  list(JOIN RUM_STATIC_PC_MODULES " " RUM_PC_REQUIRES_PRIVATE)
  list(JOIN RUM_STATIC_LIBS_PRIVATE " " RUM_PC_LIBS_PRIVATE)
  list(JOIN RUM_STATIC_CMAKE_MODULES " " RUM_CMAKE_STATIC_MODULES)

  # rum.pc and rum-static.pc are written at install time, so that their prefix is the
  # one installed to (cmake --install --prefix P), not the one configured.
  foreach(pc rum rum-static)
    install(CODE "
      set(RUM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
      set(RUM_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
      set(RUM_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
      set(PROJECT_VERSION \"${PROJECT_VERSION}\")
      set(RUM_PC_REQUIRES_PRIVATE \"${RUM_PC_REQUIRES_PRIVATE}\")
      set(RUM_PC_LIBS_PRIVATE \"${RUM_PC_LIBS_PRIVATE}\")
      include(\"${CMAKE_SOURCE_DIR}/cmake/install_configured.cmake\")
      rum_install_configured(\"${CMAKE_SOURCE_DIR}/cmake/${pc}.pc.in\" \"${CMAKE_INSTALL_LIBDIR}/pkgconfig\" ${pc}.pc)
    " COMPONENT dev)
  endforeach()

  # The CMake package: find_package(RUM) gives RUM::rum (and RUM::rum_static).
  configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/RUMConfig.cmake.in
    ${CMAKE_BINARY_DIR}/cmake/RUMConfig.cmake INSTALL_DESTINATION ${RUM_CMAKE_PACKAGE_DIR})
  # 0.x: a new minor version may break the API (the SONAME is librum.so.0 until 1.0).
  write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/RUMConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_BINARY_DIR}/cmake/RUMConfig.cmake ${CMAKE_BINARY_DIR}/cmake/RUMConfigVersion.cmake
          DESTINATION ${RUM_CMAKE_PACKAGE_DIR} COMPONENT dev)
  install(EXPORT RUMTargets NAMESPACE RUM:: DESTINATION ${RUM_CMAKE_PACKAGE_DIR} COMPONENT dev)
  install(EXPORT RUMStaticTargets NAMESPACE RUM:: DESTINATION ${RUM_CMAKE_PACKAGE_DIR} COMPONENT dev)
endif()

# ---- systemd units, written at install time with the installed rumd's path ----
set(RUM_UNITS)
if(TARGET rumd)
  list(APPEND RUM_UNITS rumd@.service server)
endif()
if(TARGET rum-kvs)
  list(APPEND RUM_UNITS rum-kvs@.service server)
endif()
list(LENGTH RUM_UNITS n)
if(n GREATER 0)
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET RUM_UNITS ${i} unit)
    list(GET RUM_UNITS ${j} component)
    install(CODE "
      set(RUM_UNIT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
      set(RUM_CONFIG_DIR \"${RUM_CONFIG_DIR}\")
      include(\"${CMAKE_SOURCE_DIR}/cmake/install_configured.cmake\")
      rum_install_configured(\"${RUM_PACKAGING_DIR}/systemd/${unit}.in\" \"${RUM_SYSTEMD_UNIT_DIR}\" ${unit})
    " COMPONENT ${component})
  endforeach()
endif()

# ---- documentation ----
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT tools)
if(TARGET rum-lua)
  install(FILES ${CMAKE_SOURCE_DIR}/apps/lua/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
          RENAME README.rum-lua.md COMPONENT tools)
endif()
if(TARGET rumd)
  install(FILES ${RUM_PACKAGING_DIR}/examples/machines.csv ${RUM_PACKAGING_DIR}/examples/rumd.env
                ${RUM_PACKAGING_DIR}/examples/rumd-key.conf
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT server)
endif()

# ---- man pages: packaging/man/NAME.SECTION (mdoc), compressed as Debian wants ----
set(RUM_MAN_OUTPUTS)
foreach(page ${RUM_MAN_PAGES})
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND gzip -9 -n -c ${RUM_PACKAGING_DIR}/man/${page} > ${CMAKE_BINARY_DIR}/man/${page}.gz
    DEPENDS ${RUM_PACKAGING_DIR}/man/${page} VERBATIM)
  list(APPEND RUM_MAN_OUTPUTS ${CMAKE_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(man ALL DEPENDS ${RUM_MAN_OUTPUTS})

# For tests/install: what is installed, to compare with what is built.
file(WRITE ${CMAKE_BINARY_DIR}/install/installed-programs.txt "")
foreach(p ${RUM_INSTALLED_PROGRAMS})
  file(APPEND ${CMAKE_BINARY_DIR}/install/installed-programs.txt "${p}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/install/man-pages.txt "")
foreach(p ${RUM_MAN_PAGES})
  file(APPEND ${CMAKE_BINARY_DIR}/install/man-pages.txt "${p}\n")
endforeach()
# Every program the build makes outside tests/ (tests/ is added after this file):
# install.coverage checks that each is in RUM_PROGRAMS above.
function(rum_collect_programs dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  set(found ${${out}})
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      list(APPEND found ${t})
    endif()
  endforeach()
  foreach(d ${subdirs})
    rum_collect_programs(${d} found)
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
set(RUM_BUILT_PROGRAMS)
rum_collect_programs(${CMAKE_SOURCE_DIR} RUM_BUILT_PROGRAMS)
list(JOIN RUM_BUILT_PROGRAMS "\n" built)
file(WRITE ${CMAKE_BINARY_DIR}/install/built-programs.txt "${built}\n")
