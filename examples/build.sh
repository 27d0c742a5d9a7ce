#!/usr/bin/env sh
# Rebuilds the example guest (needs nasm and GNU ld): a 64-bit ELF linked at 1 MiB with
# DWARF line information, which vpdbg maps back to demo.asm (relative to the image).
# nasm records its working directory in the DWARF, so it runs in a fixed directory:
# the image is then the same byte for byte wherever the repository is checked out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=/tmp/vpdbg-examples-build
rm -rf "$work" && mkdir -p "$work"
cp "$here/demo.asm" "$work/"
(cd "$work" && nasm -f elf64 -g -F dwarf demo.asm -o demo.o \
  && ld -m elf_x86_64 -nostdlib -z max-page-size=0x1000 --no-warn-rwx-segments -Ttext=0x100000 -e _start -o demo.elf demo.o)
cp "$work/demo.elf" "$here/demo.elf"
rm -rf "$work"
