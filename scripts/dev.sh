#!/usr/bin/env bash
# The README's two commands:
#   bash scripts/dev.sh demo   install what is missing, build and run the demo
#   bash scripts/dev.sh test   install what is missing, build and run every test: g++-12 and
#                              clang-19 with -Werror, then g++-12 with ASan + UBSan, then the
#                              two-thread tests with clang-19's ThreadSanitizer
#   bash scripts/dev.sh remote install what is missing, build the QEMU remote's firmware and host,
#                              and run 100 attach / detach cycles against it
#   bash scripts/dev.sh crash  the same for the crash scenario: a fault and a hang on the QEMU
#                              remote, noticed, dumped (build/remote/qemu-crash.core), recovered
#   bash scripts/dev.sh rpmsg  the same with the rpmsg echo firmware: 100 re-attach cycles, each
#                              with the announcement and echoes checked, then negative controls
# Packages come from Debian 12; nothing is downloaded at build time.
set -euo pipefail
cd "$(dirname "$0")/.."

demo_packages=(cmake ninja-build g++-12 libfmt-dev)
remote_packages=("${demo_packages[@]}" gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib
  qemu-system-arm)
test_packages=("${demo_packages[@]}" clang-19 libclang-rt-19-dev libfuzzer-19-dev clang-tidy-19
  catch2 libfmt-dev librange-v3-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev binutils
  gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm git make pkgconf meson
  librsvg2-bin)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

case "${1:-}" in
  demo)
    install_missing "${demo_packages[@]}"
    cmake --preset demo >/dev/null
    cmake --build --preset demo
    ./build/demo/examples/rproc-demo
    ;;
  test)
    install_missing "${test_packages[@]}"
    for preset in gcc clang asan tsan; do
      echo "=== ${preset} ==="
      cmake --workflow --preset "${preset}"
    done
    ;;
  remote | crash | rpmsg)
    install_missing "${remote_packages[@]}"
    cmake -S . -B build/remote -G Ninja -DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Release \
      -DRPROC_BUILD_TESTS=OFF -DRPROC_BUILD_TOOLS=OFF -DRPROC_BUILD_BENCHMARKS=OFF >/dev/null
    cmake --build build/remote --target "rproc-qemu-$1" >/dev/null
    cmake -S examples/qemu-remote/firmware -B build/remote/firmware -G Ninja \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake" >/dev/null
    cmake --build build/remote/firmware >/dev/null
    if [ "$1" = remote ]; then
      ./build/remote/examples/rproc-qemu-remote --cycles 100 \
        --firmware build/remote/firmware/qemu-remote-firmware.elf --log build/remote/qemu.log
    elif [ "$1" = rpmsg ]; then
      ./build/remote/examples/rproc-qemu-rpmsg --cycles 100 \
        --firmware build/remote/firmware/qemu-rpmsg-firmware.elf --log build/remote/qemu-rpmsg.log
    else
      ./build/remote/examples/rproc-qemu-crash --firmware build/remote/firmware/qemu-crash-firmware.elf \
        --core build/remote/qemu-crash.core --log build/remote/qemu-crash.log
      arm-none-eabi-readelf -l build/remote/qemu-crash.core
    fi
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test|remote|crash|rpmsg" >&2
    exit 2
    ;;
esac
