# `cmake --install` layout (GNUInstallDirs): headers in include/rproc, the package files in
# share/cmake/rproc (share, not lib: a header-only package is the same for every architecture).
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
