#!/usr/bin/env bash
# What including rproc costs a translation unit, beside what <ranges> costs it, measured in the
# same run: files that include rproc/rproc.hpp (the whole core), rproc/table.hpp (parse only: the
# table, its entries and errors), [HEADER] if given, and <ranges>, each against an empty file,
# compiled RUNS times (default 10) with -std=c++20 -O2 -c, interleaved. Prints the medians, the
# extra time over the empty file and its ratio to <ranges>'s extra time, beside issue 12's targets
# (g++-12: rproc.hpp <= 0.50, table.hpp <= 0.25; clang++-19's figures are for information). The
# time is the compiler's CPU time (user + system), which other work on a busy machine hardly
# changes; wall time is shown beside it.
#   bash scripts/compile-time.sh [RUNS] [HEADER]
#   COMPILERS="g++-12" bash scripts/compile-time.sh      # default: g++-12 clang++-19, if present
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
extra_header=${2:-}
compilers=${COMPILERS:-g++-12 clang++-19}
if [ -n "$extra_header" ] && [ ! -f "include/$extra_header" ]; then
  echo "include/$extra_header does not exist" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# name, include line, target ratio to <ranges> (g++-12; "-" when none).
subjects=("empty||-" "ranges|#include <ranges>|-" "rproc|#include <rproc/rproc.hpp>|0.50"
  "table|#include <rproc/table.hpp>|0.25")
[ -n "$extra_header" ] && subjects+=("extra|#include <$extra_header>|-")
for s in "${subjects[@]}"; do
  IFS='|' read -r name line _ <<<"$s"
  printf '%s\nint main() { return 0; }\n' "$line" >"$work/$name.cpp"
done

# "CPU-ms wall-ms" to compile one file with compiler $1.
compile_ms() {
  /usr/bin/time -f '%U %S %e' -o "$work/time" \
    "$1" -std=c++20 -O2 -Iinclude -c "$work/$2.cpp" -o "$work/out.o"
  awk '{ printf "%d %d\n", ($1 + $2) * 1000 + 0.5, $3 * 1000 + 0.5 }' "$work/time"
}
# The median of column $1 of stdin.
median() {
  awk -v c="$1" '{ print $c }' | sort -n |
    awk '{ v[NR] = $1 }
         END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

for cxx in $compilers; do
  if ! command -v "$cxx" >/dev/null; then
    echo "$cxx: not found, skipped"
    continue
  fi
  for s in "${subjects[@]}"; do
    IFS='|' read -r name _ _ <<<"$s"
    compile_ms "$cxx" "$name" >/dev/null  # warm the file cache
    : >"$work/$name.ms"
  done
  for ((i = 0; i < runs; i++)); do
    for s in "${subjects[@]}"; do
      IFS='|' read -r name _ _ <<<"$s"
      compile_ms "$cxx" "$name" >>"$work/$name.ms"
    done
  done
  empty=$(median 1 <"$work/empty.ms")
  ranges_extra=$(($(median 1 <"$work/ranges.ms") - empty))
  echo "$cxx -std=c++20 -O2, median of $runs runs: CPU ms (wall ms), extra over the empty file"
  for s in "${subjects[@]}"; do
    IFS='|' read -r name line target <<<"$s"
    cpu=$(median 1 <"$work/$name.ms")
    printf '  %-32s %5d (%5d)' "${line:-empty translation unit}" "$cpu" \
      "$(median 2 <"$work/$name.ms")"
    if [ "$name" != empty ]; then
      extra=$((cpu - empty))
      ratio=$(awk -v a="$extra" -v b="$ranges_extra" 'BEGIN { printf "%.2f", a / b }')
      printf '  %+5d  %5.2fx <ranges>' "$extra" "$ratio"
      if [ "$target" != "-" ]; then
        if [ "$cxx" = g++-12 ]; then
          verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r <= t) ? "met" : "MISSED" }')
          printf '  (target <= %s: %s)' "$target" "$verdict"
        else
          printf '  (g++-12 target <= %s; for information)' "$target"
        fi
      fi
    fi
    echo
  done
done
exit 0
