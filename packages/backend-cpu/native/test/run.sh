#!/bin/sh
# Build and run the standalone matmul/quant kernel test.
# Usage: native/test/run.sh [--fixtures DIR] [--quick] [--no-tests] [--bench] [--bench-k K] [--bench-types f32,q4_K]
#                           [--bench-seconds S] [--stream] [--stream-shape K N]   (DIR: the shared fixtures folder, e.g. ../../shared/fixtures)
# Env: CXX (default g++), MARCH (default x86-64-v3), OPT (default -O2), OUT (binary, default $TMPDIR/ggts_matmul_test).
set -e
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
out=${OUT:-${TMPDIR:-/tmp}/ggts_matmul_test}
"$cxx" -std=c++20 ${OPT:--O2} -march="${MARCH:-x86-64-v3}" -Wall -Wextra -pthread -I"$here/.." \
  "$here/matmul_test.cpp" "$here/../matmul.cpp" "$here/../matmul_gemm.cpp" "$here/../quants.cpp" \
  "$here/../quants_quantize.cpp" "$here/../quants_dot.cpp" "$here/../quants_dot_k.cpp" "$here/../quants_dot_avx512.cpp" -o "$out"
exec "$out" "$@"
