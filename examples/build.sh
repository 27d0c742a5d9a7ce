#!/usr/bin/env sh
# Rebuilds the example guest (needs nasm and GNU ld): a 64-bit ELF linked at 1 MiB with
# DWARF line information, which vpdbg maps back to demo.asm.
set -eu
cd "$(dirname "$0")"
nasm -f elf64 -g -F dwarf demo.asm -o demo.o
ld -m elf_x86_64 -nostdlib -z max-page-size=0x1000 --no-warn-rwx-segments -Ttext=0x100000 -e _start -o demo.elf demo.o
rm -f demo.o
