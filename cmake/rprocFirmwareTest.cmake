# The firmware tests' commands, run by ctest as `cmake -DACTION=... -P rprocFirmwareTest.cmake`:
#   build       configure and build PROJECT (default examples/firmware) in BUILD_DIR with the
#               Cortex-M toolchain (-Werror when WERROR is ON)
#   heap_probe  build the firmware plus one malloc: the link must fail, saying why
#   run         run the firmware under QEMU for at most TIMEOUT seconds; check its exit status
#               and the lines that show each step
#   inspect     run rproc-inspect (INSPECT) --json on the image; check the table it shows
#   size        run scripts/firmware-size.sh on the image
#   rpmsg       the rpmsg library built for the core (rpmsg_echo.cpp) needs no heap, no atomics
#               library and no C++ runtime: list its undefined symbols (NM) and print its size
cmake_minimum_required(VERSION 3.25)

set(elf "${BUILD_DIR}/rproc-firmware.elf")

function(check_contains text)
  foreach(expected IN LISTS ARGN)
    string(FIND "${text}" "${expected}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "expected in the output: \"${expected}\"")
    endif()
  endforeach()
endfunction()

if(NOT PROJECT)
  set(PROJECT examples/firmware)
endif()

if(ACTION STREQUAL "build")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/${PROJECT}" -B "${BUILD_DIR}"
            -G "${GENERATOR}" "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}"
            "-DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/cmake/arm-none-eabi.cmake"
            "-DRPROC_SOURCE_DIR=${SOURCE_DIR}" "-DRPROC_WERROR=${WERROR}"
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "configuring ${PROJECT} failed")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "building ${PROJECT} failed")
  endif()

elseif(ACTION STREQUAL "heap_probe")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target rproc-firmware-heap-probe
    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(status EQUAL 0)
    message(FATAL_ERROR "a firmware that calls malloc linked:\n${out}")
  endif()
  check_contains("${out}" "rproc firmware: heap use (malloc or free is linked in)")
  message(STATUS "the firmware with a malloc does not link, as it must")

elseif(ACTION STREQUAL "run")
  # QEMU writes the semihosting console to stderr: both streams are read together.
  execute_process(
    COMMAND "${QEMU}" -M mps2-an386 -nographic -monitor none -semihosting -kernel "${elf}"
    TIMEOUT "${TIMEOUT}"
    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "the firmware exited with status ${status} (0 expected)")
  endif()
  check_contains("${out}"
    "resource table at 0x20000000: 140 bytes, 2 entries"
    "  entry 0 at 0x18: vdev id 7, dfeatures 0x1, status 0x0, 2 vrings"
    "    vring 0: da 0xffffffff, align 16, num 8, notifyid 0"
    "    vring 1: da 0xffffffff, align 16, num 8, notifyid 1"
    "  entry 1 at 0x5c: trace \"rproc_fw_log\", da 0x20001000, len 4096"
    "waiting 20 ms with no host: timed_out"
    "attach 1: attached"
    "host detached: detached"
    "table is the original again: yes"
    "attach 2: attached"
    "  entry 0 at 0x18: vdev id 7, dfeatures 0x1, status 0xf, 2 vrings"
    "done")

elseif(ACTION STREQUAL "inspect")
  execute_process(COMMAND "${INSPECT}" --json "${elf}"
    RESULT_VARIABLE status OUTPUT_VARIABLE json ERROR_VARIABLE err)
  message("${json}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "rproc-inspect exited with ${status} (0 expected): ${err}")
  endif()
  # SPEC section 5: JSON path (members and indices joined by /), expected value.
  set(expectations
    "format" "elf"
    "elf/class" "32"
    "elf/endian" "little"
    "elf/machine" "40"
    "resource_table/address" "536870912"
    "resource_table/size" "140"
    "resource_table/ver" "1"
    "resource_table/num" "2"
    "resource_table/entries/0/type" "vdev"
    "resource_table/entries/0/id" "7"
    "resource_table/entries/0/dfeatures" "1"
    "resource_table/entries/0/status" "0"
    "resource_table/entries/0/vrings/0/da" "4294967295"
    "resource_table/entries/0/vrings/0/align" "16"
    "resource_table/entries/0/vrings/0/num" "8"
    "resource_table/entries/0/vrings/1/notifyid" "1"
    "resource_table/entries/1/type" "trace"
    "resource_table/entries/1/name" "rproc_fw_log"
    "resource_table/entries/1/da" "536875008"
    "resource_table/entries/1/len" "4096"
    "error" "null")
  list(LENGTH expectations count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET expectations ${i} path)
    list(GET expectations ${j} want)
    set(shown "${path}")
    string(REPLACE "/" ";" path "${path}")
    if(want STREQUAL "null")
      string(JSON got ERROR_VARIABLE json_error TYPE "${json}" ${path})
      set(want NULL)
    else()
      string(JSON got ERROR_VARIABLE json_error GET "${json}" ${path})
    endif()
    if(json_error OR NOT got STREQUAL want)
      message(FATAL_ERROR "rproc-inspect --json: ${shown} is \"${got}\", not \"${want}\" "
                          "${json_error}")
    endif()
  endforeach()
  message(STATUS "rproc-inspect shows the firmware's table")

elseif(ACTION STREQUAL "size")
  execute_process(COMMAND bash "${SOURCE_DIR}/scripts/firmware-size.sh" "${elf}"
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "scripts/firmware-size.sh failed")
  endif()

elseif(ACTION STREQUAL "rpmsg")
  set(library "${BUILD_DIR}/librproc-rpmsg-echo.a")
  execute_process(COMMAND "${NM}" -u "${library}" RESULT_VARIABLE status OUTPUT_VARIABLE symbols)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${NM} -u ${library} failed")
  endif()
  message("undefined symbols of the rpmsg library:\n${symbols}")
  string(REGEX MATCHALL "[^ \n]*(malloc|free|_Znw|_Zdl|__atomic|__sync|__cxa|abort)[^ \n]*" bad
         "${symbols}")
  if(bad)
    message(FATAL_ERROR "the rpmsg library needs what a bare-metal firmware lacks: ${bad}")
  endif()
  string(REGEX REPLACE "nm$" "size" size_tool "${NM}")
  execute_process(COMMAND "${size_tool}" "${library}")

else()
  message(FATAL_ERROR "ACTION is build, heap_probe, run, inspect, size or rpmsg, not \"${ACTION}\"")
endif()
