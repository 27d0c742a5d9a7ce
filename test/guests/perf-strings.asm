; perf-strings: REP string kernels in 32-bit protected mode (the multiboot entry state: flat
; segments, paging off), for `vpdbg bench test/fixtures/guests/perf-strings.bin`, which times
; each kernel from the checksum line it prints on COM1. Assemble: nasm -f bin -o
; ../fixtures/guests/perf-strings.bin perf-strings.asm; the expected output (QEMU) is
; ../fixtures/guests/perf-strings.expected.
;
; Image: flat binary with a multiboot v1 header using the a.out kludge, loaded at 1 MiB.
; Kernels (each prints one 8-hex-digit checksum line, then OUT 0xF4 ends the run):
;   scasb   repne scasb over 64 KiB (strlen/memchr of a 64 KiB string), 1000 times
;   movsd   rep movsd of 64 KiB (memcpy), 1000 times
;   cmpsd   repe cmpsd of two equal 64 KiB buffers (memcmp), 1000 times
;   stosd   rep stosd of 64 KiB (memset), 1000 times
;   a16     rep movsd with 16-bit addresses (67h) of 28 KiB below 64 KiB, 2000 times

%define LOAD_ADDR 0x100000
%define BUF_A 0x200000
%define BUF_B 0x300000
%define ROUNDS 1000

        org LOAD_ADDR
        bits 32
mb_header:
        dd 0x1BADB002
        dd 0x00010000
        dd -(0x1BADB002 + 0x00010000)
        dd mb_header
        dd LOAD_ADDR
        dd 0
        dd 0
        dd start

start:
        mov esp, 0x80000
        cld
        ; BUF_A: 65535 bytes of 0x5A and a 0 at the end; BUF_B: a copy of it.
        mov edi, BUF_A
        mov ecx, 0xffff
        mov al, 0x5a
        rep stosb
        mov byte [edi], 0

; scasb: the terminator's offset, summed over the rounds.
        xor ebx, ebx
        mov ebp, ROUNDS
.scas:  mov edi, BUF_A
        mov ecx, 0x10000
        xor eax, eax
        repne scasb
        lea ebx, [ebx + edi - BUF_A]
        dec ebp
        jnz .scas
        call print_ebx

; movsd: BUF_A -> BUF_B; checksum: one dword per round from a moving offset.
        xor ebx, ebx
        mov ebp, ROUNDS
.movs:  mov esi, BUF_A
        mov edi, BUF_B
        mov ecx, 0x4000
        rep movsd
        mov eax, ebp
        shl eax, 8
        add ebx, [BUF_B + eax]
        dec ebp
        jnz .movs
        call print_ebx

; cmpsd: equal buffers, so every round runs to the end (ECX 0, ZF 1).
        xor ebx, ebx
        mov ebp, ROUNDS
.cmps:  mov esi, BUF_A
        mov edi, BUF_B
        mov ecx, 0x4000
        repe cmpsd
        setz al
        movzx eax, al
        add ebx, eax
        add ebx, ecx
        add ebx, esi
        dec ebp
        jnz .cmps
        call print_ebx

; stosd: fill BUF_B with the round number.
        xor ebx, ebx
        mov ebp, ROUNDS
.stos:  mov edi, BUF_B
        mov ecx, 0x4000
        mov eax, ebp
        rep stosd
        add ebx, [BUF_B + 0xfffc]
        dec ebp
        jnz .stos
        call print_ebx

; a16: 16-bit offsets in the flat segments: 0x1000..0x7fff -> 0x8000..0xefff.
        xor ebx, ebx
        mov ebp, ROUNDS * 2
.a16:   mov esi, 0x1000
        mov edi, 0x8000
        mov ecx, 0x7000 / 4
        a16 rep movsd
        add ebx, edi
        dec ebp
        jnz .a16
        call print_ebx

        mov al, 0x10
        out 0xf4, al
        cli
.halt:  hlt
        jmp .halt

; Prints EBX as 8 hex digits and a newline on COM1.
print_ebx:
        mov ecx, 8
.digit: rol ebx, 4
        mov al, bl
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '0' - 10
.out:   call putc
        loop .digit
        mov al, 10
        ; fall through
putc:
        mov dx, 0x3fd
        mov ah, al
.wait:  in al, dx
        test al, 0x20
        jz .wait
        mov al, ah
        mov dx, 0x3f8
        out dx, al
        ret
