#!/usr/bin/env bash
# Regenerates single_include/rproc.hpp from the headers in the git index (what the next commit
# holds) instead of the working tree, so that uncommitted work of others in a shared checkout
# does not leak into it. Stage your headers first:
#   git add include/rproc/x.hpp && bash scripts/amalgamate-index.sh && git add single_include
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(git write-tree)
staged=$(mktemp -d)
trap 'rm -rf "$staged"' EXIT
git archive "$tree" include CMakeLists.txt scripts/amalgamate.cmake | tar -x -C "$staged"
cmake -DOUTPUT="$PWD/single_include/rproc.hpp" -P "$staged/scripts/amalgamate.cmake"
