# A compile-fail test: SOURCE must fail to compile with -DRPROC_COMPILE_FAIL, with the text of
# its "// expect: " line in the compiler's output, and compile without it (its legal twin), so
# that it fails for the stated reason and not for a typo. The expected text must not appear in
# the snippet's code, where a compiler echoing source lines could match it by accident.
file(STRINGS "${SOURCE}" lines)
set(expect "")
foreach(line IN LISTS lines)
  if(line MATCHES "^// expect: (.+)$")
    set(expect "${CMAKE_MATCH_1}")
  elseif(NOT expect STREQUAL "" AND line MATCHES "${expect}")
    message(FATAL_ERROR "${SOURCE}: the expected text also appears in the code: ${line}")
  endif()
endforeach()
if(expect STREQUAL "")
  message(FATAL_ERROR "${SOURCE} has no '// expect: ' line")
endif()
set(flags -std=c++20 -fsyntax-only -I${INCLUDE_DIR})
execute_process(COMMAND ${CXX} ${flags} -DRPROC_COMPILE_FAIL ${SOURCE}
                RESULT_VARIABLE failing_rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(failing_rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but must not")
endif()
string(FIND "${out}${err}" "${expect}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed, but without '${expect}':\n${err}")
endif()
execute_process(COMMAND ${CXX} ${flags} ${SOURCE}
                RESULT_VARIABLE twin_rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT twin_rc EQUAL 0)
  message(FATAL_ERROR "the legal twin of ${SOURCE} does not compile:\n${err}")
endif()
message(STATUS "${SOURCE}: fails with '${expect}', and its twin compiles")
