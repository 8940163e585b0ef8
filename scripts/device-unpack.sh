#!/usr/bin/env bash
# Unpacks what device-pack.sh wrote (.dev/) on the GPU machine: node into /tmp/ggts-node (put first on PATH by
# sourcing this script), the built tree in place, the fixtures into ../shared.
set -e
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p /tmp/ggts-node
# Python's lzma/tarfile stand in where the image has no xz.
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi; }
untar() { if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"; else python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; fi; }
unxz_to .dev/node.xz /tmp/ggts-node/node && chmod +x /tmp/ggts-node/node
export PATH="/tmp/ggts-node:$PATH"
untar .dev/tree.tar.xz .
untar .dev/fixtures.tar.xz ..
echo "[device-unpack] node $(node --version), fixtures in $(cd .. && pwd)/shared/fixtures"
