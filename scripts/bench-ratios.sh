#!/usr/bin/env bash
# Every speed ratio of issue 12 beside its target, in one command: bench_table (parse_table alone
# and followed by a walk of every entry, against the plain C loop of benchmarks/c_baseline) built
# with g++-12 and clang-19 at -O2 and at -O3, and bench_lifecycle (the attach/detach cycle against
# its floor) with both compilers at -O2. Each program measures its subjects and baselines in one
# run, repetitions interleaved at random; a ratio is of medians. MISSED marks a ratio over target.
#   bash scripts/bench-ratios.sh [REPETITIONS]        (default 15; the whole run takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
repetitions=${1:-15}
flags=(--benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true
       --benchmark_report_aggregates_only=true)

build() {  # build DIR CXX LEVEL TARGET...
  local dir=$1 cxx=$2 level=$3
  shift 3
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="$level -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="$level -DNDEBUG" \
    -DRPROC_BUILD_TESTS=OFF -DRPROC_BUILD_EXAMPLES=OFF -DRPROC_BUILD_TOOLS=OFF \
    -DRPROC_INSTALL=OFF >/dev/null
  cmake --build "$dir" -j2 --target "$@" >/dev/null
}

report=$(mktemp)
trap 'rm -f "$report"' EXIT
for cxx in g++-12 clang++-19; do
  for level in -O2 -O3; do
    dir="build/bench-ratios/$cxx$level"
    build "$dir" "$cxx" "$level" bench_table bench_lifecycle
    echo "== bench_table, $cxx $level"
    "$dir/benchmarks/bench_table" "${flags[@]}" --benchmark_min_time=0.002 \
      --benchmark_filter='/(rproc|c_loop|rproc_walk|c_walk)$' 2>/dev/null |
      sed -n '/^group /,$p' | tee -a "$report"
    if [ "$level" = -O2 ]; then
      echo "== bench_lifecycle, $cxx $level"
      "$dir/benchmarks/bench_lifecycle" "${flags[@]}" --benchmark_min_time=0.005 2>/dev/null |
        sed -n '/^group /,$p' | tee -a "$report"
    fi
  done
done
missed=$(grep -c 'MISSED' "$report" || true)
met=$(grep -c ' met$' "$report" || true)
echo
echo "== $met ratios met, $missed MISSED"
