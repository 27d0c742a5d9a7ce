#!/usr/bin/env bash
# Assembles the cpu-* test guests into test/fixtures/guests/ (committed, so tests run
# without nasm). With --expected, also records each guest's COM1 output under QEMU as
# cpu-*.expected — review the diff by reading the guest source before committing it.
# cpu-sdm and cpu-xm check behaviour QEMU TCG gets wrong: their expectations are written by hand.
set -euo pipefail
cd "$(dirname "$0")"
out=../fixtures/guests
mkdir -p "$out"
for src in cpu-*.asm; do
  name=${src%.asm}
  nasm -f bin -I ./ -o "$out/$name.bin" "$src"
  if [[ "${1:-}" == "--expected" && "$name" != cpu-sdm && "$name" != cpu-xm ]]; then
    set +e
    timeout 60 qemu-system-x86_64 -kernel "$out/$name.bin" -display none -serial stdio -no-reboot \
      -device isa-debug-exit,iobase=0xf4 -accel tcg -m 128 -cpu max > "$out/$name.expected"
    status=$?
    set -e
    echo "$name: qemu exit status $status (1 = guest wrote 0 to port 0xF4)"
  fi
done
