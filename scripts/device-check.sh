#!/usr/bin/env bash
# One-shot check on a fresh CUDA machine (Node, npm and nvcc only): builds the workspace for the local GPU,
# runs the op cases, the CUDA unit tests and the model goldens on the cuda backend, and benchmarks a synthetic
# Kimi-Linear model with real layer dimensions. Every step runs even when an earlier one fails; a summary of
# each step's status and time ends the output. The step limits add up to under 8 minutes. Exit status: 0 when every step passed.
#   GGTS_CUDA_ARCHS   arch list for the addon (default 90: H100/H200 only, to keep the build short)
#   GGTS_CHECK_OUT    scratch directory (default /tmp/ggts-device-check)
#   GGTS_CHECK_PREBUILT=1  the tree was built elsewhere and carried (device-pack.sh / device-unpack.sh: machines
#                     with no network): skip set-up; model tests whose fixture was not carried are left out
set -u
cd "$(dirname "$0")/.."
export GGTS_CUDA_ARCHS="${GGTS_CUDA_ARCHS:-90}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
OUT="${GGTS_CHECK_OUT:-/tmp/ggts-device-check}"
mkdir -p "$OUT"
MODEL="$OUT/kimi-linear-synth-q4_k_m.gguf"
declare -a NAMES STATUS TIMES

step() {  # step <name> <timeout seconds> <command...>
  local name="$1" limit="$2"; shift 2
  local log="$OUT/$(echo "$name" | tr ' /' '__').log"
  echo "=== $name (limit ${limit}s, log $log)"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > >(tee "$log") 2>&1
  local rc=$?
  local dt=$((SECONDS - t0))
  local st="ok"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then st="TIMEOUT"; elif [ $rc -ne 0 ]; then st="FAIL (rc=$rc)"; fi
  NAMES+=("$name"); STATUS+=("$st"); TIMES+=("$dt")
  echo "=== $name: $st in ${dt}s"
}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
command -v nvcc >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"

# Direct entry points instead of pnpm: a carried tree has node but no package manager.
VITEST=(node node_modules/vitest/vitest.mjs run)
GGTS=(node packages/cli/dist/main.js)
MODEL_TESTS=(packages/models/test)
SKIP_NAMES=()
if [ "${GGTS_CHECK_PREBUILT:-0}" = "1" ]; then
  for f in kimi-q-f32 tiny-kimi-linear-f32 tiny-qwen3next-f32 kimi-q-q8_0 kimi-q-q4_k_m; do
    [ -f "../shared/fixtures/$f.gguf" ] || SKIP_NAMES+=("$f")
  done
  MODEL_TESTS=(packages/models/test/logits-f32.test.ts packages/models/test/quantized.test.ts
    packages/models/test/generate.test.ts packages/models/test/long-prompt.test.ts packages/models/test/kv-cache-types.test.ts)
  echo "prebuilt tree: node $(node --version); fixtures not carried: ${SKIP_NAMES[*]:-none}"
else
  step "setup+build (GGTS_CUDA_ARCHS=$GGTS_CUDA_ARCHS)" 170 node scripts/setup.mjs
fi
NAME_FILTER=()
[ ${#SKIP_NAMES[@]} -gt 0 ] && NAME_FILTER=(-t "^(?!.*($(IFS='|'; echo "${SKIP_NAMES[*]}")))")
step "cuda addon loads and sees the device" 15 node -e '
  import("./packages/backend-cuda/dist/index.js").then(async (m) => {
    const r = m.unavailableReason();
    if (r) { console.error("cuda unavailable: " + r); process.exit(1); }
    console.log(JSON.stringify(m.loadAddon().deviceInfo()));
  }).catch((e) => { console.error(e); process.exit(1); });'
step "cuda unit tests" 40 env GGTS_CUDA_SKIP_CASES=1 "${VITEST[@]}" packages/backend-cuda/test
step "test-ops (all cases) on cuda" 90 "${GGTS[@]}" test-ops test -b cuda
step "model goldens on cuda" 90 env GGTS_TEST_BACKENDS=cuda "${VITEST[@]}" "${MODEL_TESTS[@]}" "${NAME_FILTER[@]}"
step "synth kimi-linear (4 layers, 64 experts, q4_k_m)" 60 \
  "${GGTS[@]}" synth --arch kimi-linear --fast --preset kimi-linear-48b-a3b --layers 4 --experts 64 --type q4_k_m --out "$MODEL"
step "bench on cuda" 60 "${GGTS[@]}" bench -m "$MODEL" --backend cuda -p 512 -n 128 -r 3

echo
echo "================ device check summary ================"
fail=0
for i in "${!NAMES[@]}"; do
  printf '%-55s %-14s %5ss\n' "${NAMES[$i]}" "${STATUS[$i]}" "${TIMES[$i]}"
  [ "${STATUS[$i]}" = "ok" ] || fail=1
done
echo "logs: $OUT"
exit $fail
