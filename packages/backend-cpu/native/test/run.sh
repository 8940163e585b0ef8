#!/bin/sh
# Build and run the standalone matmul/quant kernel test.
# Usage: native/test/run.sh [--fixtures DIR] [--quick] [--no-tests] [--bench] [--bench-k K] [--bench-types f32,q4_K]
#                           [--bench-seconds S] [--stream] [--stream-shape K N] [--mul-mat-only]   (DIR: the shared fixtures folder, e.g. ../../shared/fixtures)
# Env: CXX (default g++), MARCH (default x86-64-v3), OPT (default -O2), OUT (binary, default $TMPDIR/ggts_matmul_test),
#      BLAS=1 (build the OpenBLAS MUL_MAT path in, as GGTS_BLAS=1 does for the addon; needs libopenblas-dev).
set -e
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
out=${OUT:-${TMPDIR:-/tmp}/ggts_matmul_test}
blas=""
if [ "${BLAS:-0}" = "1" ]; then
  for d in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas /usr/include; do
    [ -f "$d/cblas.h" ] && { blas="-DGGTS_BLAS=1 -I$d"; break; }
  done
  # 77: the automake "skipped" status, so a caller can tell a missing library from a failure
  [ -n "$blas" ] || { echo "BLAS=1: cblas.h not found (install libopenblas-dev)" >&2; exit 77; }
fi
"$cxx" -std=c++20 ${OPT:--O2} -march="${MARCH:-x86-64-v3}" -Wall -Wextra -pthread -I"$here/.." \
  "$here/matmul_test.cpp" "$here/../matmul.cpp" "$here/../dot_float.cpp" "$here/../matmul_blas.cpp" "$here/../matmul_gemm.cpp" "$here/../quants.cpp" \
  "$here/../quants_quantize.cpp" "$here/../quants_dot.cpp" "$here/../quants_dot_k.cpp" "$here/../quants_dot_avx512.cpp" $blas -o "$out" ${blas:+-lopenblas}
exec "$out" "$@"
