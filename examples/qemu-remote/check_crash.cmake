# The qemu_crash test: runs rproc-qemu-crash (HOST) on the crashing firmware (FIRMWARE) under QEMU,
# then checks the core it wrote (CORE, left in the build tree) with readelf (READELF): an ARM
# ELF core with exactly the regions the host maps, at their addresses, the registers at the fault
# in a note, and the pattern the firmware wrote at pattern_da in it. The addresses are those of memory_map.hpp and
# crash_area.hpp, and the host's allocations from the pool (the first fit, in table order).
cmake_minimum_required(VERSION 3.25)

set(psram_segment 0x21000000)  # the image's PSRAM segment: table, mailbox, trace, crash area
set(pattern_da 0x21002000)
set(pattern "rproc qemu-crash known pattern!")
# vring 0 and the carveout from the pool, vring 1 where the firmware fixed it
set(expected_loads 0x21100000 0x21101000 0x211f0000 ${psram_segment})

file(REMOVE "${CORE}")
execute_process(
  COMMAND "${HOST}" --qemu "${QEMU}" --firmware "${FIRMWARE}" --core "${CORE}" --log "${LOG}"
  TIMEOUT 50 RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "rproc-qemu-crash failed (${status}); QEMU's output is in ${LOG}")
endif()
if(NOT EXISTS "${CORE}")
  message(FATAL_ERROR "no core written at ${CORE}")
endif()

execute_process(COMMAND "${READELF}" -h "${CORE}" RESULT_VARIABLE status OUTPUT_VARIABLE header)
if(NOT status EQUAL 0 OR NOT header MATCHES "Type: +CORE" OR NOT header MATCHES "Machine: +ARM")
  message(FATAL_ERROR "${CORE} is not an ARM core:\n${header}")
endif()

execute_process(COMMAND "${READELF}" -lW "${CORE}" RESULT_VARIABLE status OUTPUT_VARIABLE headers)
message("${headers}")
string(REGEX MATCHALL "LOAD +0x[0-9a-f]+ +0x[0-9a-f]+" loads "${headers}")
set(addresses "")
foreach(load IN LISTS loads)
  string(REGEX MATCH "LOAD +(0x[0-9a-f]+) +(0x[0-9a-f]+)" _ "${load}")
  math(EXPR da "${CMAKE_MATCH_2}" OUTPUT_FORMAT HEXADECIMAL)
  list(APPEND addresses "${da}")
  if(da EQUAL psram_segment)
    math(EXPR pattern_offset "${CMAKE_MATCH_1} + ${pattern_da} - ${psram_segment}")
  endif()
endforeach()
list(SORT addresses)
set(expected "")
foreach(da IN LISTS expected_loads)
  math(EXPR da "${da}" OUTPUT_FORMAT HEXADECIMAL)
  list(APPEND expected "${da}")
endforeach()
list(SORT expected)
if(NOT status EQUAL 0 OR NOT addresses STREQUAL expected)
  message(FATAL_ERROR "the core's PT_LOAD addresses are [${addresses}], not [${expected}]")
endif()

execute_process(COMMAND "${READELF}" -n "${CORE}" RESULT_VARIABLE status OUTPUT_VARIABLE notes)
if(NOT status EQUAL 0 OR NOT notes MATCHES "CORE +0x00000094[ \t]+NT_PRSTATUS")
  message(FATAL_ERROR "${CORE} has no registers (an NT_PRSTATUS note of 148 bytes):\n${notes}")
endif()

string(LENGTH "${pattern}" length)
file(READ "${CORE}" found OFFSET ${pattern_offset} LIMIT ${length} HEX)
string(HEX "${pattern}" wanted)
if(NOT found STREQUAL wanted)
  message(FATAL_ERROR "at ${pattern_da} (file offset ${pattern_offset}) the core holds ${found}, "
                      "not the firmware's pattern ${wanted} (\"${pattern}\")")
endif()
message(STATUS "${CORE}: ARM core, NT_PRSTATUS, PT_LOAD at [${addresses}], \"${pattern}\" at "
               "${pattern_da}")
