#!/usr/bin/env bash
# The README's two commands:
#   bash scripts/dev.sh demo   install what is missing, build and run the demo
#   bash scripts/dev.sh test   install what is missing, build and run every test: g++-12 and
#                              clang-19 with -Werror, then g++-12 with ASan + UBSan
# Packages come from Debian 12; nothing is downloaded at build time.
set -euo pipefail
cd "$(dirname "$0")/.."

demo_packages=(cmake ninja-build g++-12 libfmt-dev)
test_packages=("${demo_packages[@]}" clang-19 libclang-rt-19-dev libfuzzer-19-dev clang-tidy-19
  catch2 libfmt-dev librange-v3-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev binutils
  gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm git make pkgconf meson)

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
    for preset in gcc clang asan; do
      echo "=== ${preset} ==="
      cmake --workflow --preset "${preset}"
    done
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
