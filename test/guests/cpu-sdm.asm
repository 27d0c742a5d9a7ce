; cpu-sdm: architectural behaviour where QEMU TCG deviates from the Intel SDM, so this
; guest's expected output (cpu-sdm.expected) is written from the SDM, not recorded from QEMU:
;  - a non-canonical SS-relative address raises #SS(0) (QEMU: #GP)
;  - MOV CR0 with PG=1, PE=0 and MOV CR4 with a reserved bit raise #GP(0) (QEMU: none)
;  - WRMSR of a reserved EFER bit raises #GP(0) (QEMU: ignored)
;  - RDMSR of an unimplemented MSR raises #GP(0) (QEMU reads 0; here the VMM, test/support,
;    injects #GP like hardware)
;  - IDT error codes in long mode are vector*8+2 (QEMU: vector*16+2)
;  - a reserved-bit #PF has P=1 in its error code (QEMU: RSVD only)
;  - SYSCALL keeps the arithmetic flags not in SFMASK (QEMU clears them)
;  - #AC for a misaligned ring-3 access with CR0.AM and RFLAGS.AC (QEMU: no check)
; (#XM, which QEMU TCG does not raise either, is in cpu-xm.)
%include "cpu-lib.inc"
%include "cpu-lm.inc"

        bits 64
tests:
        PRINT64 "SDM corner cases", 10
        mov rbp, 0x8000000000000000
        EXPECT "non-canonical stack reference", mov rax, [rbp]
        mov rax, cr0
        and rax, ~1
        EXPECT "CR0.PE=0 with PG=1", mov cr0, rax
        mov rax, cr4
        bts rax, 40
        EXPECT "CR4 reserved bit 40", mov cr4, rax
        mov ecx, 0xC0000080
        rdmsr
        or eax, 4
        EXPECT "EFER reserved bit 2", wrmsr
        mov ecx, 0x1234567
        EXPECT "rdmsr of an unimplemented MSR", rdmsr
        and byte [idt + 0x40*16 + 5], 0x7F
        EXPECT "int 40h, not-present gate", int 0x40
        or byte [idt + 0x40*16 + 5], 0x80
        lidt [short_idt_ptr]
        EXPECT "int 60h beyond the IDT limit", int 0x60
        lidt [idt_ptr]
        mov qword [PML4 + 8], PDPT | 7 | 0x80       ; PS is reserved in a PML4E
        mov rbx, 0x8000000000
        EXPECT "reserved bit (PS in a PML4E)", mov eax, [rbx]
        mov qword [PML4 + 8], 0

        ; SYSCALL from ring 0 (allowed at any CPL): RFLAGS = RFLAGS & ~SFMASK
        mov ecx, 0xC0000081             ; STAR
        xor eax, eax
        mov edx, 0x00280018
        wrmsr
        mov ecx, 0xC0000082             ; LSTAR
        mov rax, .entry
        xor edx, edx
        wrmsr
        mov ecx, 0xC0000084             ; SFMASK: TF IF DF AC
        mov eax, 0x40700
        wrmsr
        mov [saved_rsp], rsp
        push 2
        popfq
        stc
        std
        syscall
.entry: pushfq
        pop r14
        mov rsp, [saved_rsp]
        mov ax, 0x10
        mov ss, ax
        cld
        PRINT64 "syscall rflags (CF kept, DF masked): "
        HEX64 r14, 5
        PRINT64 " r11: "
        HEX64 r11, 5
        PRINT64 10

        mov eax, 0x41                   ; DPL 0 gate, called from ring 3 below
        mov edx, 0x8E00
        call set_gate
        mov rax, cr0
        bts rax, 18                     ; AM
        mov cr0, rax
        mov rdi, user_main
        call enter_ring3
        PRINT64 "done", 10
        EXIT64 0

saved_rsp:      dq 0
        align 8
short_idt_ptr:
        dw 0x50*16 - 1
        dq idt

        align 4096
user_start:
user_main:
        EXPECT3 "int 41h from ring 3 to a DPL 0 gate", int 0x41
        pushfq
        or dword [rsp], 0x40000
        popfq
        EXPECT3 "misaligned load with CR0.AM and RFLAGS.AC in ring 3", mov eax, [rsp-7]
        pushfq
        and dword [rsp], ~0x40000
        popfq
        int 0x82
        align 4096
user_end:
