#!/usr/bin/env bash
# Runs the libFuzzer harnesses for longer than the test command does:
#   bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default: 60 s, every harness)
# Builds them in build/fuzz (clang-19, RelWithDebInfo, ASan + UBSan), then runs each harness on
# every core at once for the given time: one process per core, different seeds, sharing the
# harness's corpus (build/fuzz/corpus/NAME, kept between runs), seeded from tests/data and, for
# image harnesses, ../shared/corpus. Prints executions and crashes per harness and in total; a
# crash's input lands in build/fuzz/crashes/ (make it a regression fixture in tests/). Exit status
# 1 when anything crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
build=build/fuzz
jobs=$(nproc)

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRPROC_BUILD_FUZZERS=ON -DRPROC_BUILD_TESTS=OFF -DRPROC_BUILD_EXAMPLES=OFF \
  -DRPROC_BUILD_TOOLS=OFF -DRPROC_BUILD_BENCHMARKS=OFF -DRPROC_INSTALL=OFF >/dev/null
cmake --build "$build" >/dev/null

list="$build/fuzz/fuzzers.txt"
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  mapfile -t harnesses < <(cut -d' ' -f1 "$list")
fi

mkdir -p "$build/crashes" "$build/logs"
total_runs=0
total_crashes=0
printf '%-22s %8s %14s %10s %8s\n' harness seconds executions exec/s crashes
for name in "${harnesses[@]}"; do
  read -r _ max_len seed_file < <(grep "^$name " "$list") || {
    echo "no harness named $name (see $list)" >&2
    exit 2
  }
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  before=$(find "$build/crashes" -name "$name-*" | wc -l)
  pids=()
  for ((k = 0; k < jobs; k++)); do
    "$build/fuzz/$name" "$corpus" -max_total_time="$seconds" -seed=$((RANDOM * 100 + k)) \
      -max_len="$max_len" -dict=fuzz/rproc.dict -seed_inputs=@"$seed_file" \
      -artifact_prefix="$build/crashes/$name-" -print_final_stats=1 \
      >"$build/logs/$name.$k.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  runs=$(cat "$build/logs/$name".*.log |
    awk '/stat::number_of_executed_units/ { n += $2 } END { print n + 0 }')
  crashes=$(($(find "$build/crashes" -name "$name-*" | wc -l) - before))
  printf '%-22s %8s %14s %10s %8s\n' "$name" "$seconds" "$runs" "$((runs / seconds))" "$crashes"
  total_runs=$((total_runs + runs))
  total_crashes=$((total_crashes + crashes))
done
printf '%-22s %8s %14s %10s %8s\n' total "" "$total_runs" "" "$total_crashes"
[ "$total_crashes" -eq 0 ]
