# Installing and packaging (label install; ports 24000-24099):
#   install.tree          cmake --install into a temporary prefix and through DESTDIR;
#                         a program built outside the tree with pkg-config (rum,
#                         rum-static) and CMake (RUM::rum, RUM::rum_static) runs against
#                         a cluster of the installed rum-cluster and rumd
#   install.coverage      every built program installed with a man page that covers its
#                         --help; every page renders without a warning
#   install.systemd       systemd-analyze verify on the installed units (skips without it)
#   install.unit_syscalls rumd as nobody without capabilities, under strace: its system
#                         calls, socket families and files fit rumd@.service's sandbox
#   install.deb           scripts/package.sh builds the .deb packages in a tree of its
#                         own (about a minute: label install;deb); inspected, and as root
#                         installed with apt-get, run from /usr/bin, then purged
set(RUM_INSTALL_TESTS ${CMAKE_CURRENT_LIST_DIR})
if(NOT TARGET rum OR NOT TARGET rumd)
  return()
endif()
add_test(NAME install.tree COMMAND ${RUM_INSTALL_TESTS}/install_test.sh ${CMAKE_BINARY_DIR} 24000)
add_test(NAME install.coverage COMMAND ${RUM_INSTALL_TESTS}/coverage_test.sh ${CMAKE_BINARY_DIR})
add_test(NAME install.systemd COMMAND ${RUM_INSTALL_TESTS}/systemd_verify.sh ${CMAKE_BINARY_DIR})
add_test(NAME install.unit_syscalls COMMAND ${RUM_INSTALL_TESTS}/unit_syscalls.sh ${CMAKE_BINARY_DIR} 24010)
set_tests_properties(install.tree install.coverage install.systemd install.unit_syscalls PROPERTIES
  TIMEOUT 120 LABELS install SKIP_RETURN_CODE 77)
add_test(NAME install.deb COMMAND ${RUM_INSTALL_TESTS}/deb_test.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(install.deb PROPERTIES TIMEOUT 400 LABELS "install;deb" SKIP_RETURN_CODE 77
  RUN_SERIAL TRUE)
