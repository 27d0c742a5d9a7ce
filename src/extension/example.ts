// "Create Example Guest": writes a small 64-bit guest source into the workspace and opens
// it, so the walkthrough can go from nothing to a stopped guest (the tests use it too).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from './seam';

export const exampleSource = `; hello.asm - a 64-bit guest for vpdbg: prints over COM1, asks CPUID, reads an MSR, halts.
; F5 assembles it (nasm -f elf64 -g -F dwarf, linked at 1 MiB) and stops on _start.
%define COM1 0x3f8
IA32_EFER equ 0xC0000080

bits 64
section .text
global _start
_start:
    lea rsi, [rel message]
.next:
    lodsb                   ; al = next character
    test al, al
    jz .done
    mov dx, COM1
    out dx, al              ; I/O port exit (the UART handles it)
    jmp .next
.done:
    xor eax, eax
    cpuid                   ; CPUID exit: vendor string
    mov ecx, IA32_EFER
    rdmsr                   ; MSR exit when 0xC0000080 is in msrExits
    hlt                     ; HLT exit
    jmp .done

section .data
message: db \`Hello from the guest!\\n\`, 0
`;

/** Writes hello.asm (or hello-2.asm, ...) into dir and returns its path. */
export function writeExample(dir: string): string {
  let path = join(dir, 'hello.asm');
  for (let i = 2; existsSync(path); i++) path = join(dir, `hello-${i}.asm`);
  writeFileSync(path, exampleSource);
  return path;
}

export async function createExampleCommand(host: Host): Promise<string | undefined> {
  const dir = host.workspaceDir?.();
  if (!dir) {
    await host.showError('vpdbg: open a folder first; the example guest is written into it.');
    return undefined;
  }
  const path = writeExample(dir);
  await host.open?.(path);
  return path;
}
