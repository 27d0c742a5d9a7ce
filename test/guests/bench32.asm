; bench32: the four kernels of ../shared/bench/bench.asm (alu, sieve, fib, copy) run in
; 32-bit protected mode — flat segments from the guest's own GDT, paging off — the mode
; many users' kernels never leave. Multiboot v1 ELF32 kernel loaded at 1 MiB; prints one
; 8-hex-digit checksum line per kernel on COM1 (port 0x3F8), then writes 0x10 to port 0xF4
; (isa-debug-exit: QEMU exits with status 33) and halts. Loop bodies have fixed instruction
; counts, so the instructions retired per kernel are known (alu: 10 per iteration).
; Iteration counts come from the build (bench32-build.sh): bench32.elf is the benchmark,
; bench32-tiny.elf the same code with tiny counts (startup cost; the test runs it).
BITS 32
section .multiboot
align 4
    dd 0x1BADB002
    dd 0x00000000
    dd -(0x1BADB002)

section .text
global _start
_start:
    cli
    lgdt [gdt_ptr]
    jmp 0x08:.flat          ; leave the loader's CS for the guest's own flat code segment
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, stack_top

    ; kernel 1: ALU. 10 instructions per iteration.
    mov ecx, ALU_ITERS
    mov eax, 0x23456789
    xor ebx, ebx
.alu:
    imul eax, eax, 6364136223846793005 & 0x7fffffff
    add eax, 1442695040888963407 & 0x7fffffff
    mov edx, eax
    shr edx, 13
    xor eax, edx
    rol ebx, 5
    add ebx, eax
    sub ecx, 1
    nop
    jnz .alu
    mov edi, ebx
    call print_hex

    ; kernel 2: sieve of Eratosthenes over SIEVE_N bytes, repeated SIEVE_REPS times
    mov esi, SIEVE_REPS
    xor ebp, ebp
.sieve_rep:
    mov edi, sieve
    mov ecx, SIEVE_N
    mov al, 1
    rep stosb
    mov ebx, 2
.outer:
    mov eax, ebx
    imul eax, ebx
    cmp eax, SIEVE_N
    jae .count
    cmp byte [sieve + ebx], 0
    je .next_outer
.inner:
    mov byte [sieve + eax], 0
    add eax, ebx
    cmp eax, SIEVE_N
    jb .inner
.next_outer:
    inc ebx
    jmp .outer
.count:
    xor eax, eax
    mov ecx, 2
.cnt:
    movzx edx, byte [sieve + ecx]
    add eax, edx
    inc ecx
    cmp ecx, SIEVE_N
    jb .cnt
    add ebp, eax
    dec esi
    jnz .sieve_rep
    mov edi, ebp
    call print_hex

    ; kernel 3: recursive fibonacci (call/ret/push/pop)
    mov edi, FIB_N
    call fib
    mov edi, eax
    call print_hex

    ; kernel 4: copy a 64 KiB buffer with rep movsd, then sum it by dwords
    mov ebx, COPY_REPS
    xor ebp, ebp
.copy_rep:
    mov esi, sieve
    mov edi, sieve + 0x10000
    mov ecx, 0x10000 / 4
    rep movsd
    mov esi, sieve + 0x10000
    mov ecx, 0x10000 / 4
.sum:
    add ebp, [esi]
    add esi, 4
    dec ecx
    jnz .sum
    add ebp, ebx
    dec ebx
    jnz .copy_rep
    mov edi, ebp
    call print_hex

    mov dx, 0xF4
    mov al, 0x10
    out dx, al
.halt:
    hlt
    jmp .halt

fib:                        ; eax = fib(edi)
    cmp edi, 2
    jb .base
    push edi
    dec edi
    call fib
    pop edi
    push eax
    sub edi, 2
    call fib
    pop edx
    add eax, edx
    ret
.base:
    mov eax, edi
    ret

print_hex:                  ; print edi as 8 hex digits and newline on COM1
    mov ecx, 8
    mov dx, 0x3F8
.d:
    rol edi, 4
    mov eax, edi
    and eax, 0xF
    mov al, [hexdigits + eax]
    out dx, al
    dec ecx
    jnz .d
    mov al, 10
    out dx, al
    ret

section .data
align 8
hexdigits: db "0123456789abcdef"
align 16
gdt:
    dq 0
    dq 0x00CF9A000000FFFF   ; 0x08: 32-bit code, base 0, limit 4 GiB
    dq 0x00CF92000000FFFF   ; 0x10: data, base 0, limit 4 GiB
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt

section .bss
align 4096
stack: resb 16384
stack_top:
sieve: resb 0x20000
