#!/usr/bin/env bash
# What including rproc costs a translation unit: a file that includes the header (default
# rproc/rproc.hpp, the whole core) against an empty one, each compiled RUNS times (default 10)
# with $CXX (default g++-12) -std=c++20 -O2 -c, interleaved; prints the medians and the extra
# time (issue 7's target: <= 150 ms with g++-12). The time is the compiler's CPU time (user +
# system), which other work on a busy machine hardly changes; wall time is shown beside it.
#   bash scripts/compile-time.sh [RUNS] [HEADER]
#   CXX=clang++-19 bash scripts/compile-time.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
header=${2:-rproc/rproc.hpp}
cxx=${CXX:-g++-12}
if [ ! -f "include/$header" ]; then
  echo "include/$header does not exist" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'int main() { return 0; }\n' >"$work/empty.cpp"
printf '#include <%s>\nint main() { return 0; }\n' "$header" >"$work/with.cpp"
# The yardstick measured in the same run: the 150 ms target was set where <ranges> alone costs
# ~300 ms with g++-12, so on any machine the target is half of what <ranges> costs there.
printf '#include <ranges>\nint main() { return 0; }\n' >"$work/ranges.cpp"

# "CPU-ms wall-ms" to compile one file.
compile_ms() {
  /usr/bin/time -f '%U %S %e' -o "$work/time" \
    "$cxx" -std=c++20 -O2 -Iinclude -c "$1" -o "$work/out.o"
  awk '{ printf "%d %d\n", ($1 + $2) * 1000, $3 * 1000 }' "$work/time"
}
# The median of column $1 of stdin.
median() {
  awk -v c="$1" '{ print $c }' | sort -n |
    awk '{ v[NR] = $1 }
         END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

compile_ms "$work/with.cpp" >/dev/null  # warm the file cache
: >"$work/empty.ms"
: >"$work/with.ms"
: >"$work/ranges.ms"
for ((i = 0; i < runs; i++)); do
  compile_ms "$work/empty.cpp" >>"$work/empty.ms"
  compile_ms "$work/with.cpp" >>"$work/with.ms"
  compile_ms "$work/ranges.cpp" >>"$work/ranges.ms"
done
empty=$(median 1 <"$work/empty.ms")
with=$(median 1 <"$work/with.ms")
extra=$((with - empty))
echo "$cxx -std=c++20 -O2, median of $runs runs (CPU time; wall time in brackets)"
printf '  empty translation unit          %5d ms  (%d)\n' "$empty" "$(median 2 <"$work/empty.ms")"
printf '  #include <%s>%*s%5d ms  (%d)\n' "$header" $((19 - ${#header})) "" "$with" \
  "$(median 2 <"$work/with.ms")"
printf '  extra                           %5d ms  (target <= 150 ms: %s)\n' "$extra" \
  "$([ "$extra" -le 150 ] && echo met || echo MISSED)"
ranges_extra=$(( $(median 1 <"$work/ranges.ms") - empty ))
printf '  #include <ranges>, for scale    %5d ms extra\n' "$ranges_extra"
awk -v a="$extra" -v b="$ranges_extra" 'BEGIN {
  r = a / b
  printf "  extra / <ranges> extra          %5.2f    (target <= 0.50: %s)\n", r, (r <= 0.5 ? "met" : "MISSED") }'
