#!/usr/bin/env bash
# Code sizes on a Cortex-M4 (arm-none-eabi-gcc 12, -Os, Thumb-2), each beside its target (issue 12)
# and MISSED where missed:
#   - rproc::parse_table next to the plain C loop of benchmarks/c_baseline/validate_table.c,
#     each compiled alone with the same flags, behind the same C signature: little-endian
#     <= 1.2x the C loop, the byte order chosen at run time <= 1.5x little-endian;
#   - the firmware example (examples/firmware) and rproc's part of it, split into the table
#     checks, the firmware side (vdev_link and what it pulls in) and the error messages.
#   bash scripts/firmware-size.sh [FIRMWARE.elf]
# Without an argument the firmware is built into build/firmware-size/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

elf=${1:-}
if [ -z "$elf" ]; then
  cmake -S examples/firmware -B build/firmware-size -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi.cmake" >/dev/null
  cmake --build build/firmware-size >/dev/null
  elf=build/firmware-size/rproc-firmware.elf
fi

firmware_report() {
  echo "== firmware: $elf"
  arm-none-eabi-size "$elf"
  # Functions and tables of namespace rproc (template instantiations included), in bytes, by part.
  arm-none-eabi-nm -C -S -t d --size-sort "$elf" | awk '
    $3 !~ /^[TtWwRr]$/ || $0 !~ / rproc::/ { next }
    / rproc::detail::(check_table|record_fault)| rproc::parse_table/ { checks += $2; next }
    / rproc::(message|describe|to_string|firmware::to_string|text_buffer)/ { text += $2; next }
    { link += $2 }
    END {
      printf "of which rproc'"'"'s code and constant data: %d bytes\n", checks + link + text
      printf "  %-56s %6d\n", "table checks (parse_table)", checks
      printf "  %-56s %6d\n", "firmware side (vdev_link and what it pulls in)", link
      printf "  %-56s %6d\n", "error and event messages (message, to_string)", text
    }'
}

baseline=benchmarks/c_baseline/validate_table.c
if [ ! -f "$baseline" ]; then
  echo "$baseline is missing: the comparison with parse_table needs it" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections)
cxxflags=("${flags[@]}" -std=c++20 -fno-exceptions -fno-rtti -I"$root/include"
          -I"$root/benchmarks/c_baseline")

# The C baseline's signature, for both subjects: the table, its size, strict, out: num, fault.
cat >"$work/parse_table_le.cpp" <<'EOF'
#include <rproc/table.hpp>
#include "validate_table.h"
extern "C" rsc_code rproc_validate(const unsigned char* table, size_t size, int strict,
                                   uint32_t* num, rsc_fault* fault) {
  const auto parsed = rproc::parse_table({reinterpret_cast<const std::byte*>(table), size},
                                         rproc::endian::little, {.strict = strict != 0});
  if (!parsed) {
    const auto& e = parsed.error();
    *fault = {static_cast<rsc_code>(e.code), e.offset, e.entry.value_or(RSC_NO_ENTRY), e.value};
    return fault->code;
  }
  *num = parsed->size();
  return RSC_OK;
}
EOF
# The same with the byte order chosen at run time, as parse_table offers it.
sed -e 's/int strict,/int strict, int big_endian,/' \
    -e 's/rproc::endian::little,/big_endian ? rproc::endian::big : rproc::endian::little,/' \
    "$work/parse_table_le.cpp" >"$work/parse_table_any.cpp"

arm-none-eabi-gcc "${flags[@]}" -std=c11 -c "$baseline" -o "$work/validate_table.o" &
arm-none-eabi-g++ "${cxxflags[@]}" -c "$work/parse_table_le.cpp" -o "$work/parse_table_le.o" &
arm-none-eabi-g++ "${cxxflags[@]}" -c "$work/parse_table_any.cpp" -o "$work/parse_table_any.o" &
for job in $(jobs -p); do wait "$job"; done

text_of() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $1 }'; }
# ratio NAME BYTES BASE BASE_NAME TARGET: one line, the ratio beside its target.
ratio() {
  awk -v name="$1" -v a="$2" -v b="$3" -v base="$4" -v target="$5" 'BEGIN {
    r = a / b
    printf "%-58s %6d  %.2f x %s  (target <= %.2f) %s\n", name, a, r, base, target,
           r <= target ? "met" : "MISSED"
  }'
}
c=$(text_of "$work/validate_table.o")
le=$(text_of "$work/parse_table_le.o")
any=$(text_of "$work/parse_table_any.o")
echo "== table validation, Cortex-M4 -Os, .text bytes (code and constant data)"
printf '%-58s %6s\n' "plain C loop (benchmarks/c_baseline/validate_table.c)" "$c"
ratio "rproc::parse_table, little-endian" "$le" "$c" "C loop" 1.2
ratio "rproc::parse_table, byte order chosen at run time" "$any" "$le" "little-endian" 1.5
echo
firmware_report
