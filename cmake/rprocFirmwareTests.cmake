# The firmware tests (included from tests/CMakeLists.txt): build examples/firmware with the
# Cortex-M toolchain, prove it cannot use the heap, run it under QEMU, show its table with
# rproc-inspect and print its sizes. The cross build does not depend on the host compiler, so one
# configuration runs them: by default a GCC build without sanitizers; the presets say it outright.
find_program(RPROC_ARM_CXX arm-none-eabi-g++)
find_program(RPROC_QEMU_ARM qemu-system-arm)
set(rproc_firmware_default OFF)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT RPROC_SANITIZE AND RPROC_ARM_CXX
   AND RPROC_QEMU_ARM)
  set(rproc_firmware_default ON)
endif()
option(RPROC_FIRMWARE_TESTS "Build the Cortex-M4 firmware example and run it under QEMU"
       ${rproc_firmware_default})
if(NOT RPROC_FIRMWARE_TESTS)
  return()
endif()
if(NOT RPROC_ARM_CXX OR NOT RPROC_QEMU_ARM)
  message(FATAL_ERROR "RPROC_FIRMWARE_TESTS needs arm-none-eabi-g++ and qemu-system-arm: install "
                      "gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm "
                      "(bash scripts/dev.sh test does)")
endif()

set(rproc_firmware_dir "${PROJECT_BINARY_DIR}/firmware")
set(rproc_firmware_test "${PROJECT_SOURCE_DIR}/cmake/rprocFirmwareTest.cmake")
set(rproc_firmware_args "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}" "-DBUILD_DIR=${rproc_firmware_dir}")

add_test(NAME firmware_build
  COMMAND "${CMAKE_COMMAND}" -DACTION=build ${rproc_firmware_args}
          "-DGENERATOR=${CMAKE_GENERATOR}" "-DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
          "-DWERROR=${RPROC_WERROR}" -P "${rproc_firmware_test}")
set_tests_properties(firmware_build PROPERTIES FIXTURES_SETUP rproc_firmware TIMEOUT 300)

add_test(NAME firmware_no_heap
  COMMAND "${CMAKE_COMMAND}" -DACTION=heap_probe ${rproc_firmware_args}
          -P "${rproc_firmware_test}")
add_test(NAME firmware_qemu
  COMMAND "${CMAKE_COMMAND}" -DACTION=run ${rproc_firmware_args} "-DQEMU=${RPROC_QEMU_ARM}"
          -DTIMEOUT=30 -P "${rproc_firmware_test}")
add_test(NAME firmware_size
  COMMAND "${CMAKE_COMMAND}" -DACTION=size ${rproc_firmware_args} -P "${rproc_firmware_test}")
find_program(RPROC_ARM_NM arm-none-eabi-nm REQUIRED)
add_test(NAME firmware_rpmsg_freestanding
  COMMAND "${CMAKE_COMMAND}" -DACTION=rpmsg ${rproc_firmware_args} "-DNM=${RPROC_ARM_NM}"
          -P "${rproc_firmware_test}")
set_tests_properties(firmware_no_heap firmware_qemu firmware_size firmware_rpmsg_freestanding
  PROPERTIES
  FIXTURES_REQUIRED rproc_firmware TIMEOUT 120 LABELS firmware)
set_tests_properties(firmware_build PROPERTIES LABELS firmware)
# The README's firmware commands as written (no -Werror there) and the output it shows.
if(rproc_readme_runnable)
  rproc_add_readme_shell_test(firmware)
  # The QEMU remote as the README shows it: dev.sh builds firmware and host, runs 100 cycles.
  rproc_add_readme_shell_test(remote)
  set_tests_properties("readme_shell: remote" PROPERTIES LABELS "readme;qemu")
  # The crash scenario: a fault and a hang noticed, dumped and recovered; the core's segments.
  rproc_add_readme_shell_test(crash)
  set_tests_properties("readme_shell: crash" PROPERTIES LABELS "readme;qemu;crash")
  # The rpmsg echo across re-attach as the README shows it.
  rproc_add_readme_shell_test(rpmsg)
  set_tests_properties("readme_shell: rpmsg" PROPERTIES LABELS "readme;qemu;rpmsg")
endif()

# rproc-inspect is defined in tools/, which is read after tests/: decide once all is read.
function(rproc_add_firmware_inspect_test test_script source_dir build_dir)
  if(TARGET rproc-inspect)
    add_test(NAME firmware_inspect
      COMMAND "${CMAKE_COMMAND}" -DACTION=inspect "-DSOURCE_DIR=${source_dir}"
              "-DBUILD_DIR=${build_dir}" "-DINSPECT=$<TARGET_FILE:rproc-inspect>"
              -P "${test_script}")
  else()
    add_test(NAME firmware_inspect
      COMMAND "${CMAKE_COMMAND}" -E echo "rproc-inspect is not built: skipped")
    set_tests_properties(firmware_inspect PROPERTIES SKIP_REGULAR_EXPRESSION "not built: skipped")
  endif()
  set_tests_properties(firmware_inspect PROPERTIES
    FIXTURES_REQUIRED rproc_firmware TIMEOUT 60 LABELS firmware)
endfunction()
# A deferred call reads its variables when it runs, in another scope: pass the values.
cmake_language(EVAL CODE "
  cmake_language(DEFER DIRECTORY [[${PROJECT_SOURCE_DIR}]] CALL rproc_add_firmware_inspect_test
                 [[${rproc_firmware_test}]] [[${PROJECT_SOURCE_DIR}]] [[${rproc_firmware_dir}]])")
