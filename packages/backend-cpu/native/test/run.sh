#!/bin/sh
# Build and run the standalone matmul/quant kernel test.
# Usage: native/test/run.sh [--fixtures DIR] [--bench] [--bench-k K] [--quick]
# Env: CXX (default g++), MARCH (default x86-64-v3), OUT (binary path, default $TMPDIR/ggts_matmul_test).
set -e
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
out=${OUT:-${TMPDIR:-/tmp}/ggts_matmul_test}
"$cxx" -std=c++20 -O2 -march="${MARCH:-x86-64-v3}" -Wall -Wextra -pthread -I"$here/.." \
  "$here/matmul_test.cpp" "$here/../matmul.cpp" "$here/../matmul_gemm.cpp" "$here/../quants.cpp" \
  "$here/../quants_dot.cpp" -o "$out"
exec "$out" "$@"
