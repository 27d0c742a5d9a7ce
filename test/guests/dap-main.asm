; Guest for the debug-adapter tests (test/debugAdapter/dap.test.ts): a 64-bit ELF with DWARF
; lines. It computes values the tests compare with the registers, prints on COM1, calls a
; function with a frame-pointer frame, loops (hit counts, logpoints), touches an MSR and
; CPUID, writes a watched variable, and ends through isa-debug-exit (port 0xF4) with a
; status that depends on RBX at `decide` (so setVariable changes the outcome).
; Build (from test/fixtures/guests, so the DWARF path resolves to this file):
;   nasm -f elf64 -g -F dwarf ../../guests/dap-main.asm -o /tmp/dap-main.o && ld -nostdlib -Ttext=0x100000 /tmp/dap-main.o -o dap-main.elf
bits 64
section .text
global _start, square, decide
_start:
    mov rax, 6
    mov rbx, 7
    imul rax, rbx               ; rax = 42
    mov [result], rax
    mov dx, 0x3f8
    mov al, 'H'
    out dx, al
    mov al, 'i'
    out dx, al
    mov al, 10
    out dx, al
    mov rdi, 5
    call square                 ; rax = 25
    mov [result2], rax
    xor r12, r12
    mov rcx, 5
loop_top:
    inc r12                     ; loop body: hit counts and logpoints
    dec rcx
    jnz loop_top
    mov ecx, 0xC0000080
    rdmsr                       ; EFER (an MSR exit when msrExits lists it)
    mov eax, 0x40000000
    cpuid
    mov qword [watched], 0x1234 ; data breakpoint target
    mov rbx, 0
decide:
    cmp rbx, 0
    jne other
    mov al, 1                   ; status (1 << 1) | 1 = 3
    jmp finish
other:
    mov al, 2                   ; status 5
finish:
    out 0xf4, al
    hlt

square:
    push rbp
    mov rbp, rsp
    mov rax, rdi
    imul rax, rdi
    pop rbp
    ret

section .data
result:  dq 0
result2: dq 0
watched: dq 0
