# `cmake --install` layout (GNUInstallDirs): headers in include/rproc, the package files in
# share/cmake/rproc and share/pkgconfig/rproc.pc (share, not lib: a header-only package is the
# same for every architecture).
# The tools install themselves (tools/CMakeLists.txt) into ${CMAKE_INSTALL_BINDIR}.
include(CMakePackageConfigHelpers)

set(RPROC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/rproc" CACHE STRING
    "Where rprocConfig.cmake is installed, relative to the prefix")

install(TARGETS rproc EXPORT rprocTargets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/rproc"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT rprocTargets NAMESPACE rproc:: DESTINATION "${RPROC_INSTALL_CMAKEDIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/rprocConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/rprocConfig.cmake"
  INSTALL_DESTINATION "${RPROC_INSTALL_CMAKEDIR}")
# Before 1.0 a minor release may break the API, so 0.1 is satisfied by 0.1.x only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/rprocConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/rprocConfig.cmake"
              "${PROJECT_BINARY_DIR}/rprocConfigVersion.cmake"
        DESTINATION "${RPROC_INSTALL_CMAKEDIR}")

# rproc.pc for make, Meson and other pkg-config users. Its paths follow the file's own location
# (${pcfiledir}), as rprocTargets.cmake's do: right for any `cmake --install --prefix` or DESTDIR.
set(RPROC_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Where rproc.pc is installed, relative to the prefix")
if(IS_ABSOLUTE "${RPROC_INSTALL_PKGCONFIGDIR}")
  set(rproc_pc_prefix "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH rproc_pc_up "/${RPROC_INSTALL_PKGCONFIGDIR}" "/")
  string(REGEX REPLACE "/$" "" rproc_pc_up "${rproc_pc_up}")
  set(rproc_pc_prefix "\${pcfiledir}/${rproc_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(rproc_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(rproc_pc_includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/rproc.pc.in" "${PROJECT_BINARY_DIR}/rproc.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/rproc.pc" DESTINATION "${RPROC_INSTALL_PKGCONFIGDIR}")
