# Toolchain file for a Cortex-M4 with Debian's arm-none-eabi GCC and newlib-nano:
#   cmake -S examples/firmware -B build/firmware -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake"
# An absolute path: CMake looks a relative one up in the build directory.
# Freestanding C++: no exceptions, no RTTI, no thread-safe statics (a single core, no RTOS), and
# no syscalls library, so that a program that reaches for the heap or for stdio does not link.
# RPROC_ARM_SEMIHOSTING=ON links newlib's semihosting syscalls (rdimon) for programs that want
# printf on the debugger's console; the rproc firmware example makes its own semihosting calls.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(RPROC_ARM_PREFIX "arm-none-eabi-" CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER "${RPROC_ARM_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${RPROC_ARM_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${RPROC_ARM_PREFIX}gcc")
find_program(CMAKE_OBJCOPY "${RPROC_ARM_PREFIX}objcopy")
find_program(CMAKE_SIZE "${RPROC_ARM_PREFIX}size")
find_program(CMAKE_NM "${RPROC_ARM_PREFIX}nm")

# A bare-metal executable needs a linker script and startup code: check the compilers by
# building a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(RPROC_CORTEX_M_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft")
set(CMAKE_C_FLAGS_INIT "${RPROC_CORTEX_M_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${CMAKE_C_FLAGS_INIT} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${RPROC_CORTEX_M_FLAGS}")

option(RPROC_ARM_SEMIHOSTING "Link newlib's semihosting syscalls (rdimon)" OFF)
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -Wl,--gc-sections")
if(RPROC_ARM_SEMIHOSTING)
  string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " --specs=rdimon.specs")
endif()

# Programs from the build machine, libraries and headers from the cross toolchain; rproc's own
# package is architecture independent and may come from anywhere.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
