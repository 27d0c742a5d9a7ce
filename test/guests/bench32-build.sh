#!/usr/bin/env bash
# Assembles bench32.asm into test/fixtures/guests/bench32.elf (the benchmark) and
# bench32-tiny.elf (same code, tiny counts; the test runs it). Needs nasm and GNU ld.
# The images are committed so tests and `npm run bench` run without either. With
# --expected, also records each image's COM1 output under QEMU as bench32*.expected.
set -euo pipefail
cd "$(dirname "$0")"
out=../fixtures/guests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/link.ld" <<'LD'
ENTRY(_start)
SECTIONS {
  . = 0x100000;
  .text : { *(.multiboot) *(.text) }
  .data : { *(.data) }
  .bss : { *(.bss) }
}
LD
build() { # name ALU_ITERS SIEVE_N SIEVE_REPS FIB_N COPY_REPS
  nasm -f elf32 -DALU_ITERS=$2 -DSIEVE_N=$3 -DSIEVE_REPS=$4 -DFIB_N=$5 -DCOPY_REPS=$6 bench32.asm -o "$tmp/$1.o"
  ld --no-warn-rwx-segments --build-id=none -m elf_i386 -T "$tmp/link.ld" -o "$out/$1.elf" "$tmp/$1.o"
  if [[ "$expected" == yes ]]; then
    set +e
    timeout 60 qemu-system-x86_64 -kernel "$out/$1.elf" -display none -serial stdio -no-reboot \
      -device isa-debug-exit,iobase=0xf4 -accel tcg -m 128 > "$out/$1.expected"
    status=$?
    set -e
    echo "$1: qemu exit status $status (33 = guest wrote 0x10 to port 0xF4)"
  fi
}
expected=no; [[ "${1:-}" == "--expected" ]] && expected=yes
build bench32 20000000 65536 20 27 200
build bench32-tiny 1000 1000 1 10 1
