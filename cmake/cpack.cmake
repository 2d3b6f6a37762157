# Debian packages, one per install component (cmake/install.cmake), built by CPack's
# DEB generator: scripts/package.sh configures a tree with the prefix /usr and runs
# `cpack -G DEB` in it. Runtime dependencies of the programs and the library come from
# dpkg-shlibdeps (dpkg-dev); those of librum-dev are the -dev packages of the libraries
# a static link of librum.a needs.
if(NOT TARGET rum OR NOT TARGET rumd)
  return()
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  # CPack installs with the configured prefix (CPACK_SET_DESTDIR), so the packages of
  # such a tree would install into it; Debian's layout wants /usr.
  message(STATUS "cpack: the install prefix is ${CMAKE_INSTALL_PREFIX}; Debian packages want /usr (scripts/package.sh)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rum)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "RUM: an in-memory data grid used with plain loads and stores")
set(RUM_DEB_MAINTAINER "RUM developers <rum-dev@localhost>" CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RUM_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_SET_DESTDIR ON)                # install scripts see the real prefix (units, rum.pc)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev server tools)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# librum0's shlibs file lets dpkg-shlibdeps turn rum-tools' NEEDED librum.so.0 into a
# dependency on librum0 (found in the staged tree through the private dir).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib)

set(rum_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME librum0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_DESCRIPTION "RUM client library
 librum lets a program allocate memory whose pages live on RUM memory nodes
 (rumd) and use it with plain loads and stores: a page is fetched on first
 touch and written back when evicted, on rum_sync() and at exit.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME librum-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(rum_dev_depends "librum0 (= ${rum_deb_version}), libssl-dev, libxxhash-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${rum_dev_depends}")
if(RUM_HAVE_DPDK)
  # Only a static link (librum.a, rum-static.pc, RUM::rum_static) needs DPDK's
  # development files: recommended, not required.
  set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "pkg-config, libdpdk-dev")
else()
  set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "pkg-config")
endif()
set(CPACK_DEBIAN_DEV_DESCRIPTION "RUM client library: development files
 Headers (rum/rum.h), the librum.so link, the static librum.a, the pkg-config
 files rum.pc and rum-static.pc, the CMake package (find_package(RUM): RUM::rum,
 RUM::rum_static) and the rum(3) manual page.")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME rum-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_DESCRIPTION "RUM memory node (rumd) and its systemd unit
 rumd stores the pages of the regions RUM programs allocate and serves them over
 UDP (or DPDK). rumd@.service runs one node per instance, rumd@N serving row N
 of /etc/rum/machines.csv, with the sandboxing systemd offers.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME rum-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "librum0 (= ${rum_deb_version})")
# rum-cluster starts rumd processes; rumctl and the apps only talk to them.
set(CPACK_DEBIAN_TOOLS_PACKAGE_RECOMMENDS "rum-server (= ${rum_deb_version})")
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "RUM command-line tools and programs
 rumctl (cluster status, node counters, regions), rum-cluster (a local cluster
 of memory nodes), rum-bench (benchmarks in JSON lines), mem_test and hashtable
 (correctness programs) and rum-lua (Lua 5.4 with its heap in RUM memory).")

include(CPack)
