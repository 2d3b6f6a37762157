# Included by the install scripts (cmake_install.cmake): writes a file from a template
# at install time, so that the paths in it are those of the prefix installed to
# (cmake --install --prefix P, or CPack's), with DESTDIR honoured.
#
# rum_install_configured(TEMPLATE DIR NAME): TEMPLATE's @VARIABLES@ replaced from the
# caller's scope, written as DIR/NAME (DIR relative to the install prefix, or
# absolute), listed in install_manifest.txt like any installed file.
function(rum_install_configured template dir name)
  if(IS_ABSOLUTE "${dir}")
    set(dest "${dir}/${name}")
  else()
    set(dest "${CMAKE_INSTALL_PREFIX}/${dir}/${name}")
  endif()
  set(full "$ENV{DESTDIR}${dest}")
  message(STATUS "Installing: ${full}")
  configure_file("${template}" "${full}" @ONLY)
  file(CHMOD "${full}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${full}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()
