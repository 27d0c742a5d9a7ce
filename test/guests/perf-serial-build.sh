#!/usr/bin/env bash
# Assembles perf-serial.asm into test/fixtures/guests/perf-serial.bin (1 MiB of COM1 output,
# the benchmark) and perf-serial-tiny.bin (4 KiB, the test). Committed, so tests and
# `npm run bench` run without nasm. With --check, also runs both under QEMU and compares
# their COM1 output with ours.
set -euo pipefail
cd "$(dirname "$0")"
out=../fixtures/guests
nasm -f bin -DLINES=16384 perf-serial.asm -o "$out/perf-serial.bin"
nasm -f bin -DLINES=64 perf-serial.asm -o "$out/perf-serial-tiny.bin"
if [[ "${1:-}" == "--check" ]]; then
  for name in perf-serial perf-serial-tiny; do
    set +e
    timeout 120 qemu-system-x86_64 -kernel "$out/$name.bin" -display none -serial stdio -no-reboot \
      -device isa-debug-exit,iobase=0xf4 -accel tcg -m 128 > "/tmp/$name.qemu"
    echo "$name: qemu exit status $? (1 = guest wrote 0 to port 0xF4)"
    node ../../dist/cli.js run "$out/$name.bin" > "/tmp/$name.vpdbg"
    echo "$name: vpdbg exit status $?"
    set -e
    cmp "/tmp/$name.qemu" "/tmp/$name.vpdbg" && echo "$name: same output ($(wc -c < "/tmp/$name.qemu") bytes)"
  done
fi
