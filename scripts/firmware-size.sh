#!/usr/bin/env bash
# Code sizes on a Cortex-M4 (arm-none-eabi-gcc 12, -Os, Thumb-2):
#   - the firmware example (examples/firmware), and the part of it that is rproc's;
#   - rproc::parse_table next to the plain C loop of benchmarks/c_baseline/validate_table.c,
#     each compiled alone with the same flags, behind the same C signature.
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

echo "== firmware: $elf"
arm-none-eabi-size "$elf"
# Functions and tables of namespace rproc (template instantiations included), in bytes.
rproc_bytes=$(arm-none-eabi-nm -C -S -t d --size-sort "$elf" |
  awk '$3 ~ /^[TtWwRr]$/ && $0 ~ / rproc::/ { sum += $2 } END { print sum + 0 }')
echo "of which rproc's code and constant data: $rproc_bytes bytes"

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
c=$(text_of "$work/validate_table.o")
le=$(text_of "$work/parse_table_le.o")
any=$(text_of "$work/parse_table_any.o")
echo
echo "== table validation, Cortex-M4 -Os, .text bytes (code and constant data)"
printf '%-58s %6s\n' "plain C loop (benchmarks/c_baseline/validate_table.c)" "$c"
printf '%-58s %6s  (%s x C)\n' "rproc::parse_table, little-endian" "$le" \
  "$(awk -v a="$le" -v b="$c" 'BEGIN { printf "%.2f", a / b }')"
printf '%-58s %6s  (%s x C)\n' "rproc::parse_table, byte order chosen at run time" "$any" \
  "$(awk -v a="$any" -v b="$c" 'BEGIN { printf "%.2f", a / b }')"
