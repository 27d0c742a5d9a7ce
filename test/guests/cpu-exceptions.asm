; cpu-exceptions: takes and returns from each exception class in 64-bit long mode (CPL 0):
; #DE, #DB (single step, DR0 execute, DR1 data write), #BP, #UD, #NM (FWAIT; SSE's #NM is
; in cpu-sse), #DF (on IST1),
; #NP, #GP (several error-code kinds; #SS is in cpu-sdm), software INT, and checks fault vs trap RIPs.
%include "cpu-lib.inc"
%include "cpu-lm.inc"

        bits 64
tests:
        PRINT64 "exceptions in long mode", 10
        xor ecx, ecx
        EXPECT "div by zero", div ecx
        mov eax, 0x80000000
        cdq
        mov ecx, -1
        EXPECT "idiv overflow", idiv ecx
        mov rax, 0x8000000000000000
        cqo
        mov rcx, -1
        EXPECT "idiv64 overflow", idiv rcx

        BEGIN "single step", .ss
        pushfq
        or qword [rsp], 0x100
        popfq
.ss:    nop
        nop
        END

        BEGIN "dr0 execute breakpoint", .bp
        mov rax, .bp
        mov dr0, rax
        mov eax, 0x401                  ; L0, execute, 1 byte
        mov dr7, rax
.bp:    nop
        END
        BEGIN "dr1 write watchpoint", .wp
        mov rax, watched
        mov dr1, rax
        mov eax, 0xD00404               ; L1, RW1=01 (write), LEN1=11 (4 bytes)
        mov dr7, rax
.wp:    mov dword [watched], 1
        nop
        END
        BEGIN "dr1 read of a write watchpoint", .rd
.rd:    mov eax, [watched]
        nop
        END
        mov eax, 0x400
        mov dr7, rax

        ; MOV SS holds off the single-step trap for one instruction (the MOV SS shadow)
        BEGIN "single step over mov ss", .mss
        mov dx, ss
        pushfq
        or qword [rsp], 0x100
        popfq
.mss:   mov ss, dx
        nop
        nop
        END
        ; RF: a handler that returns to the breakpointed instruction with RF=1 runs it once
        mov qword [hooks + 1*8], db_rf_hook
        mov rax, .rf
        mov dr0, rax
        mov eax, 0x401
        mov dr7, rax
        xor ecx, ecx
.rf:    inc ecx
        mov eax, 0x400
        mov dr7, rax
        mov qword [hooks + 1*8], 0
        PRINT64 "dr0 breakpoint resumed with RF: hits="
        HEX64 [db_hits], 2
        PRINT64 " executed="
        HEX64 rcx, 2
        PRINT64 10

        EXPECT "int3", int3
        EXPECT "int 3 (CD 03)", int 3
        EXPECT "into in 64-bit mode", db 0xCE
        EXPECT "ud2", ud2
        EXPECT "lock on a register operand", lock add eax, ebx
        EXPECT "int 41h to a DPL0 gate", int 0x41

        mov rax, cr0
        or rax, 0xA                     ; MP | TS
        mov cr0, rax
        EXPECT "fwait with CR0.TS and MP", fwait
        clts

        mov eax, 8
        mov edx, 0x8E01                 ; #DF on IST1
        call set_gate
        and byte [idt + 13*16 + 5], 0x7F   ; #GP gate not present
        mov rbx, 0x8000000000000000
        EXPECT "#GP with a not-present #GP gate", mov rax, [rbx]
        or byte [idt + 13*16 + 5], 0x80

        mov ax, 0x60
        EXPECT "mov ds, not-present descriptor", mov ds, ax

        mov rbx, 0x0000800000000000
        EXPECT "non-canonical data reference", mov rax, [rbx]
        mov ax, 0x1000
        EXPECT "selector beyond the GDT limit", mov ds, ax
        mov ax, 0x18
        EXPECT "code selector into SS", mov ss, ax
        EXPECT "data selector into SS with RPL 3", mov ss, [rpl3_sel]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax

        ; a fault inside a handler: #BP whose handler faults with #UD, each reported
        mov rax, bp_hook
        mov [hooks + 3*8], rax
        EXPECT "ud2 inside the #BP handler", int3
        mov qword [hooks + 3*8], 0
        PRINT64 "done", 10
        EXIT64 0

bp_hook:                                ; runs as the #BP handler: prints, then faults
        PRINT64 "in #BP handler, "
        mov qword [fault_at], .u
.u:     ud2

db_rf_hook:                             ; #DB: count, set RF, return to the same instruction
        inc qword [db_hits]
        or qword [rbp+120], 0x10000
        xor eax, eax
        mov dr6, rax
        jmp isr_return

db_hits:        dq 0
watched:        dd 0
rpl3_sel:       dw 0x13

        align 4096
user_start:
user_end:
