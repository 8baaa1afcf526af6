# clang-tidy must report the reuse of a moved-from handle in SOURCE.
execute_process(COMMAND ${TIDY} --quiet --checks=-*,bugprone-use-after-move ${SOURCE}
                        -- -std=c++20 -I${INCLUDE_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}${err}" "'attached' used after it was moved" at)
if(at EQUAL -1)
  message(FATAL_ERROR "clang-tidy did not flag the reused handle in ${SOURCE}:\n${out}${err}")
endif()
message(STATUS "clang-tidy flags the reused handle")
