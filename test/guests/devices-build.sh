#!/usr/bin/env bash
# Assembles the devices-* test guests (they include devices-lib.inc) into
# test/fixtures/guests/ (committed, so tests run without nasm).
set -euo pipefail
cd "$(dirname "$0")"
for src in devices-*.asm; do
  nasm -f bin -i ./ -o "../fixtures/guests/${src%.asm}.bin" "$src"
done
