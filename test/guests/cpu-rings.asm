; cpu-rings: ring 3 in long mode — IRETQ to ring 3, SYSCALL/SYSRET (STAR/LSTAR/SFMASK,
; RCX/R11), INT from ring 3 with the TSS.RSP0 stack switch, an IST stack, privileged
; instructions from ring 3 (#GP), SWAPGS, and SYSCALL with EFER.SCE clear (#UD).
%include "cpu-lib.inc"
%include "cpu-lm.inc"

%define SYSCALL_STACK 0x8c000

        bits 64
tests:
        PRINT64 "rings in long mode", 10
        ; SYSCALL: kernel CS 0x18/SS 0x20, SYSRET base 0x28 (CS 0x3B, SS 0x33)
        mov ecx, 0xC0000081             ; STAR
        xor eax, eax
        mov edx, 0x00280018
        wrmsr
        mov ecx, 0xC0000082             ; LSTAR
        mov rax, syscall_entry
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, 0xC0000084             ; SFMASK: TF IF DF AC
        mov eax, 0x40700
        xor edx, edx
        wrmsr
        ; INT 0x86 reports its stack (DPL 3); INT 0x87 the same on IST2
        mov eax, 0x86
        mov edx, 0xEE00
        call set_gate
        mov eax, 0x87
        mov edx, 0xEE02
        call set_gate
        mov eax, 3                      ; INT3 allowed from ring 3
        mov edx, 0xEE00
        call set_gate
        mov qword [hooks + 0x86*8], stack_info
        mov qword [hooks + 0x87*8], stack_info

        mov rdi, user_main
        call enter_ring3
        PRINT64 "back in ring 0", 10

        ; SWAPGS
        mov ecx, 0xC0000101             ; GS.base
        mov eax, 0x1111
        xor edx, edx
        wrmsr
        mov ecx, 0xC0000102             ; KernelGSbase
        mov eax, 0x2222
        wrmsr
        swapgs
        mov ecx, 0xC0000101
        rdmsr
        mov ebx, eax
        mov ecx, 0xC0000102
        rdmsr
        PRINT64 "swapgs: gs.base="
        HEX64 rbx, 4
        PRINT64 " kernel_gs_base="
        HEX64 rax, 4
        PRINT64 10
        ; SYSCALL with EFER.SCE clear
        mov ecx, 0xC0000080
        rdmsr
        and eax, ~1
        wrmsr
        EXPECT "syscall with EFER.SCE=0", syscall
        mov ecx, 0xC0000080
        rdmsr
        or eax, 1
        wrmsr
        PRINT64 "done", 10
        EXIT64 0

syscall_entry:                          ; CPL 0, RSP still the user's
        mov [user_rsp], rsp
        mov rsp, SYSCALL_STACK
        pushfq                          ; RFLAGS as SYSCALL left them (SFMASK applied)
        pop r14
        push rax
        mov ax, cs
        PRINT64 "syscall: cs="
        HEX64 rax, 4
        mov ax, ss
        PRINT64 " ss="
        HEX64 rax, 4
        PRINT64 " rcx="
        cmp rcx, r12
        jne .bad
        PRINT64 "return address"
        jmp .r11
.bad:   HEX64 rcx, 16
.r11:   PRINT64 " r11="
        HEX64 r11, 5
        PRINT64 " rflags="
        HEX64 r14, 5
        PRINT64 10
        pop rax
        mov eax, 0x5a5a
        mov rsp, [user_rsp]
        o64 sysret

stack_info:                             ; frame top tells which stack the CPU switched to
        lea rax, [rbp+144]
        PRINT64 "stack top="
        HEX64 rax, 8
        PRINT64 " cs="
        HEX64 [rbp+112], 4
        PRINT64 " ss="
        HEX64 [rbp+136], 4
        PRINT64 " user rsp="
        HEX64 [rbp+128], 8
        PRINT64 10
        jmp isr_return

user_rsp:       dq 0

; ---------------------------------------------------------------- ring 3
        align 4096
user_start:
user_main:
        PRINT3 "ring 3: cs="
        mov ax, cs
        HEX3 rax, 4
        PRINT3 " ss="
        mov ax, ss
        HEX3 rax, 4
        PRINT3 10
        ; SYSCALL/SYSRET with DF set in user RFLAGS (SFMASK clears it in the kernel).
        ; Arithmetic flags are left clear: QEMU TCG loses them across SYSCALL (cpu-sdm checks CF).
        lea r12, [rel .after]
        clc
        std
        mov eax, 2
        syscall
.after: pushfq
        pop rbx
        cld
        mov r13, rax
        PRINT3 "after sysret: cs="
        mov ax, cs
        HEX3 rax, 4
        PRINT3 " ss="
        mov ax, ss
        HEX3 rax, 4
        PRINT3 " rax="
        HEX3 r13, 4
        PRINT3 " rflags="
        HEX3 rbx, 5
        PRINT3 10
        ; INT from ring 3: RSP0, then IST2
        PRINT3 "int 86h from ring 3: "
        int 0x86
        PRINT3 "int 87h (IST2) from ring 3: "
        int 0x87
        ; privileged instructions
        EXPECT3 "hlt in ring 3", hlt
        EXPECT3 "cli in ring 3 (IOPL 0)", cli
        EXPECT3 "in from ring 3 (IOPL 0, no I/O bitmap)", in al, 0x80
        EXPECT3 "out from ring 3", out 0x80, al
        EXPECT3 "mov cr3 in ring 3", mov cr3, rax
        EXPECT3 "mov rax, cr0 in ring 3", mov rax, cr0
        EXPECT3 "rdmsr in ring 3", rdmsr
        EXPECT3 "lgdt in ring 3", lgdt [rsp]
        EXPECT3 "swapgs in ring 3", swapgs
        EXPECT3 "sysret in ring 3", o64 sysret
        EXPECT3 "clts in ring 3", clts
        EXPECT3 "mov dr7 in ring 3", mov dr7, rax
        EXPECT3 "invlpg in ring 3", invlpg [rsp]
        mov ax, 0x10
        EXPECT3 "load DPL 0 data into DS from ring 3", mov ds, ax
        EXPECT3 "write to a supervisor page from ring 3", mov [kernel_word], eax
        EXPECT3 "int3 from ring 3", int3
        PRINT3 "leaving ring 3", 10
        int 0x82
        align 4096
user_end:

        section .data
kernel_word:    dd 0
