; cpu-legacy: 32-bit protected mode — a 32-bit IDT, #OF (INTO), #BR (BOUND), #TS (a call
; gate to ring 1 whose TSS stack selector is invalid), ring 3
; through IRETD with the TSS32 SS0:ESP0 stack switch, a call gate with a parameter copy, a
; conforming code segment, SYSENTER/SYSEXIT, and paging without long mode: 32-bit paging
; (4 KiB and 4 MiB PSE pages) and PAE paging (2 MiB pages, NX) with #PF error codes.
%include "cpu-lib.inc"

%define PD32 0x400000                   ; 32-bit paging: page directory
%define PT32 0x401000                   ;   identity 0-4 MiB, 4 KiB pages
%define PT32_VA 0x402000                ;   VA 0x40000000
%define PAE_PDPT 0x403000
%define PAE_PD0 0x404000
%define PAE_PD1 0x405000
%define PAE_PT0 0x406000
%define PAE_PT1 0x407000
%define PAGE_A 0x1E0000
%define PAGE_C 0x1E2000                 ; holds a RET
%define VA 0x40000000
%define USER_STACK_TOP 0x1F1000
%define SYSENTER_STACK 0x8c000

; BEGIN32/END32/EXPECT32 and the ring-3 PRINT3/HEX3/EXPECT3: as in cpu-lm.inc, 32-bit.
%macro BEGIN32 2
%push try
        PRINT32 %1, ": "
        mov dword [fault_at], %2
        mov dword [resume_at], %$resume
%endmacro
%macro END32 0
%$resume:
        cmp dword [resume_at], 0
        je %$ok
        PRINT32 "no exception", 10
        mov dword [resume_at], 0
%$ok:
%pop
%endmacro
%macro EXPECT32 2+
        BEGIN32 %1, %%insn
%%insn: %2
        END32
%endmacro
%macro PRINT3 1+
        jmp %%after
%%str:  db %1, 0
%%after:
        mov esi, %%str
        int 0x80
%endmacro
%macro HEX3 2
        mov eax, %1
        mov ecx, %2
        int 0x85
%endmacro
%macro EXPECT3 2+
        PRINT3 %1, ": "
        mov esi, %%insn
        mov edi, %%resume
        int 0x83
%%insn: %2
%%resume:
        int 0x84
%endmacro


        bits 32
start:
        mov esp, STACK32
        lgdt [gdt_ptr]
        jmp 0x08:.flat
.flat:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        ; IDT: 32-bit interrupt gates, DPL 0
        mov edi, idt32
        mov eax, isr_stubs
        xor ecx, ecx
.gate:  mov [edi], ax
        mov word [edi+2], 0x08
        mov word [edi+4], 0x8E00
        mov edx, eax
        shr edx, 16
        mov [edi+6], dx
        add eax, 16
        add edi, 8
        inc ecx
        cmp ecx, 256
        jb .gate
        lidt [idt32_ptr]
        mov eax, 0x80                   ; ring-3 services
        call set_gate_dpl3
        mov eax, 0x82
        call set_gate_dpl3
        mov eax, 0x83
        call set_gate_dpl3
        mov eax, 0x84
        call set_gate_dpl3
        mov eax, 0x85
        call set_gate_dpl3
        mov dword [hooks + 0x80*4], svc_print
        mov dword [hooks + 0x82*4], svc_return
        mov dword [hooks + 0x83*4], svc_begin
        mov dword [hooks + 0x84*4], svc_end
        mov dword [hooks + 0x85*4], svc_hex
        ; TSS32 descriptor (0x88): SS0:ESP0 for ring 3 -> 0 transitions
        mov eax, tss32
        mov [gdt_tss32 + 2], ax
        shr eax, 16
        mov [gdt_tss32 + 4], al
        mov [gdt_tss32 + 7], ah
        mov word [gdt_tss32], 103
        mov byte [gdt_tss32 + 5], 0x89
        mov ax, 0x88
        ltr ax
        ; call gates, DPL 3: 0x98 to 0x08:call_gate_target, 0xA8 the same copying 1 dword parameter
        mov eax, call_gate_target
        mov [gdt_callgate], ax
        mov [gdt_callgate_param], ax
        mov word [gdt_callgate + 2], 0x08
        mov word [gdt_callgate_param + 2], 0x08
        mov word [gdt_callgate + 4], 0xEC00
        mov word [gdt_callgate_param + 4], 0xEC01
        shr eax, 16
        mov [gdt_callgate + 6], ax
        mov [gdt_callgate_param + 6], ax
        ; 0xB8: DPL 3 gate to ring-1 code, whose stack (TSS.SS1 = 0x10, RPL 0 != 1) is invalid: #TS
        mov eax, call_gate_target
        mov [gdt_callgate_ring1], ax
        mov word [gdt_callgate_ring1 + 2], 0xB0
        mov word [gdt_callgate_ring1 + 4], 0xEC00
        shr eax, 16
        mov [gdt_callgate_ring1 + 6], ax
        mov dword [tss32 + 12], 0x8a000 ; ESP1
        mov dword [tss32 + 16], 0x10    ; SS1

        PRINT32 "32-bit protected mode", 10
        BEGIN32 "into with OF=1", .into1
        mov al, 0x7f
        add al, 1                       ; OF=1
.into1: into
        END32
        BEGIN32 "into with OF=0", .into0
        xor eax, eax                    ; OF=0
.into0: into
        END32
        mov eax, 5
        EXPECT32 "bound inside [2,9]", bound eax, [bounds]
        mov eax, 10
        EXPECT32 "bound above [2,9]", bound eax, [bounds]
        EXPECT32 "int3", int3
        xor ecx, ecx
        EXPECT32 "div by zero", div ecx
        mov ax, 0x60
        EXPECT32 "mov ds, not-present descriptor", mov ds, ax
        EXPECT32 "ud2", ud2

        ; SYSENTER MSRs
        mov ecx, 0x174
        mov eax, 0x68
        xor edx, edx
        wrmsr
        mov ecx, 0x175
        mov eax, SYSENTER_STACK
        wrmsr
        mov ecx, 0x176
        mov eax, sysenter_entry
        wrmsr

        ; ---- 32-bit paging: identity 0-4 MiB with 4 KiB pages, 4 MiB PSE pages up to 1 GiB
        mov edi, PD32
        mov ecx, 3 * 4096 / 4
        xor eax, eax
        rep stosd
        mov dword [PD32], PT32 | 7
        mov edi, PT32
        mov eax, 3
.pt:    mov [edi], eax
        add eax, 0x1000
        add edi, 4
        cmp edi, PT32 + 4096
        jb .pt
        mov edi, PD32 + 4
        mov eax, 0x400000 | 0x83
.pd:    mov [edi], eax
        add eax, 0x400000
        add edi, 4
        cmp edi, PD32 + 256*4
        jb .pd
        call user_pages_32
        mov dword [PD32 + 256*4], PT32_VA | 7          ; VA 0x40000000: 4 KiB pages
        mov dword [PT32_VA + 0*4], PAGE_A | 3
        mov dword [PT32_VA + 1*4], 0
        mov dword [PT32_VA + 2*4], PAGE_A | 1
        mov dword [PD32 + 257*4], 0x83                  ; VA 0x40400000: 4 MiB page at 0
        mov dword [PAGE_A], 0xAAAA0001
        mov byte [PAGE_C], 0xC3
        mov eax, cr4
        or eax, 0x10                    ; PSE
        mov cr4, eax
        mov eax, PD32
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80010000              ; PG | WP
        mov cr0, eax
        mov eax, [VA]
        PRINT32 "32-bit paging: 4k alias read "
        HEX32 eax, 8
        mov eax, [VA + 0x400000 + LOAD_ADDR]
        PRINT32 ", 4M page read "
        HEX32 eax, 8
        PRINT32 10
        EXPECT32 "read, not present", mov eax, [VA + 0x1000]
        EXPECT32 "write to read-only, WP=1", mov [VA + 0x2008], eax
        mov eax, [PD32 + 256*4]
        PRINT32 "pde accessed bit: "
        and eax, 0x20
        HEX32 eax, 2
        PRINT32 10

        ; ---- ring 3 under 32-bit paging
        mov edi, user_main
        call enter_ring3
        PRINT32 "back in ring 0", 10

        ; ---- PAE paging without long mode
        mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax
        mov edi, PAE_PDPT
        mov ecx, 5 * 4096 / 4
        xor eax, eax
        rep stosd
        mov dword [PAE_PDPT], PAE_PD0 | 1               ; PDPTEs: P only
        mov dword [PAE_PDPT + 8], PAE_PD1 | 1
        mov dword [PAE_PD0], PAE_PT0 | 7
        mov edi, PAE_PT0
        mov eax, 3
.pt2:   mov [edi], eax
        add eax, 0x1000
        add edi, 8
        cmp edi, PAE_PT0 + 4096
        jb .pt2
        mov edi, PAE_PD0 + 8
        mov eax, 0x200000 | 0x83
.pd2:   mov [edi], eax
        add eax, 0x200000
        add edi, 8
        cmp edi, PAE_PD0 + 4096
        jb .pd2
        mov dword [PAE_PD1], PAE_PT1 | 7                 ; VA 0x40000000
        mov dword [PAE_PT1], PAGE_A | 3
        mov dword [PAE_PT1 + 3*8], PAGE_C | 3
        mov dword [PAE_PT1 + 3*8 + 4], 0x80000000        ; NX
        mov dword [PAE_PD1 + 8], 0x83                    ; VA 0x40200000: 2 MiB page at 0
        mov ecx, 0xC0000080
        rdmsr
        or eax, 0x800                   ; NXE
        wrmsr
        mov eax, cr4
        or eax, 0x20                    ; PAE
        mov cr4, eax
        mov eax, PAE_PDPT
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        mov eax, [VA]
        PRINT32 "PAE paging: 4k alias read "
        HEX32 eax, 8
        mov eax, [VA + 0x200000 + LOAD_ADDR]
        PRINT32 ", 2M page read "
        HEX32 eax, 8
        PRINT32 10
        mov eax, VA + 0x3000
        BEGIN32 "call into a no-execute page", VA + 0x3000
        call eax
        END32
        EXPECT32 "read, not present", mov eax, [VA + 0x1000]
        ; last (parameter copying is the rarest call-gate feature): ring 3 under PAE paging
        mov eax, user_start
.upae:  mov ebx, eax
        shr ebx, 12
        or dword [PAE_PT0 + ebx*8], 4
        add eax, 4096
        cmp eax, user_end
        jb .upae
        or dword [PAE_PT0 + ((USER_STACK_TOP - 4096) >> 12) * 8], 4
        mov eax, cr3
        mov cr3, eax
        mov edi, user_param_gate
        call enter_ring3
        PRINT32 "done", 10
        EXIT32 0

set_gate_dpl3:                          ; eax = vector
        mov byte [idt32 + eax*8 + 5], 0xEE
        ret

user_pages_32:                          ; U=1 on the user part of the image and the user stack page
        mov eax, user_start
.next:  mov ebx, eax
        shr ebx, 12
        or dword [PT32 + ebx*4], 4
        add eax, 4096
        cmp eax, user_end
        jb .next
        or dword [PT32 + ((USER_STACK_TOP - 4096) >> 12) * 4], 4
        ret

enter_ring3:                            ; edi = ring-3 EIP; returns on INT 0x82
        pushad
        mov [kernel_esp], esp
        push 0x83
        push USER_STACK_TOP
        push 0x2
        push 0x7B
        push edi
        iretd
svc_return:
        mov esp, [kernel_esp]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        popad
        ret

call_gate_target:                       ; reached from ring 3 through a call gate
        mov ebx, [esp+8]                ; the copied parameter (0x98: the caller's ESP)
        mov edx, [esp+4]                ; caller CS
        mov ax, cs
        PRINT32 "call gate: cs="
        HEX32 eax, 4
        mov ax, ss
        PRINT32 " ss="
        HEX32 eax, 4
        PRINT32 " [esp+8] (parameter or caller ESP)="
        HEX32 ebx, 8
        PRINT32 " caller cs="
        HEX32 edx, 4
        PRINT32 10
        cmp word [esp+4], 0x7B
        jne .gate0
        cmp dword [esp+12], USER_STACK_TOP - 4
        jne .gate0
        retf 4                          ; 0xA8: drop the parameter on both stacks
.gate0: retf

sysenter_entry:
        mov ebx, esp
        mov ax, cs
        PRINT32 "sysenter: cs="
        HEX32 eax, 4
        mov ax, ss
        PRINT32 " ss="
        HEX32 eax, 4
        PRINT32 " esp="
        HEX32 ebx, 8
        PRINT32 10
        sysexit                         ; EIP = EDX, ESP = ECX, CS = 0x7B, SS = 0x83

svc_print:
        mov esi, [ebp+4]
        call puts32
        jmp isr_return
svc_hex:
        mov eax, [ebp+28]
        mov ecx, [ebp+24]
        call puthex32
        jmp isr_return
svc_begin:
        mov eax, [ebp+4]
        mov [fault_at], eax
        mov eax, [ebp+0]
        mov [resume_at], eax
        jmp isr_return
svc_end:
        cmp dword [resume_at], 0
        je isr_return
        PRINT32 "no exception", 10
        mov dword [resume_at], 0
        jmp isr_return

; ---------------------------------------------------------------- stubs, common handler
        align 16
isr_stubs:
%assign v 0
%rep 256
        align 16
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
        push dword v
%else
        push dword 0
        push dword v
%endif
        jmp isr_common
%assign v v+1
%endrep

; after PUSHAD: [ebp+0] edi, +4 esi, +8 ebp, +16 ebx, +20 edx, +24 ecx, +28 eax,
; +32 vector, +36 error code, +40 EIP, +44 CS, +48 EFLAGS (+52 ESP, +56 SS from ring 3)
isr_common:
        pushad
        mov ebp, esp
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov eax, [ebp+32]
        mov ebx, [hooks + eax*4]
        test ebx, ebx
        jz .report
        jmp ebx
.report:
        cmp dword [resume_at], 0
        jne .expected
        PRINT32 "UNEXPECTED vector="
        HEX32 [ebp+32], 2
        PRINT32 " err="
        HEX32 [ebp+36], 4
        PRINT32 " eip="
        HEX32 [ebp+40], 8
        mov eax, cr2
        PRINT32 " cr2="
        HEX32 eax, 8
        PRINT32 10
        EXIT32 1
.expected:
        mov eax, [ebp+32]
        PRINT32 "#"
        lea esi, [exc_names + eax*4]
        call puts32
        PRINT32 " err="
        HEX32 [ebp+36], 4
        mov eax, [ebp+40]
        sub eax, [fault_at]
        PRINT32 " rip=+"
        HEX32 eax, 2
        cmp dword [ebp+32], 14
        jne .nopf
        mov eax, cr2
        PRINT32 " cr2="
        HEX32 eax, 8
.nopf:  test byte [ebp+44], 3
        jz .nl
        PRINT32 " (from ring 3)"
.nl:    PRINT32 10
        mov eax, [resume_at]
        mov [ebp+40], eax
        mov dword [resume_at], 0
isr_return:
        test byte [ebp+44], 3
        jz .k
        mov ax, 0x83
        mov ds, ax
        mov es, ax
.k:     popad
        add esp, 8
        iretd

exc_names:
        db "DE",0,0, "DB",0,0, "NMI",0, "BP",0,0, "OF",0,0, "BR",0,0, "UD",0,0, "NM",0,0
        db "DF",0,0, "CSO",0, "TS",0,0, "NP",0,0, "SS",0,0, "GP",0,0, "PF",0,0, "15",0,0
        db "MF",0,0, "AC",0,0, "MC",0,0, "XM",0,0
        times 256*4 - ($ - exc_names) db 0
bounds:         dd 2, 9
fault_at:       dd 0
resume_at:      dd 0
kernel_esp:     dd 0
        align 8
idt32_ptr:
        dw 256*8 - 1
        dd idt32
        align 16
tss32:
        dd 0                            ; back link
        dd RSP0_TOP                     ; ESP0
        dd 0x10                         ; SS0
        times 22 dd 0
        dw 0
        dw 104                          ; no I/O bitmap
hooks:  times 256 dd 0
        align 8
idt32:  times 256*8 db 0

; ---------------------------------------------------------------- ring 3
        align 4096
user_start:
user_main:
        mov ax, 0x83                    ; IRETD to ring 3 nulled DS/ES (DPL 0 data)
        mov ds, ax
        mov es, ax
        mov ax, cs
        PRINT3 "ring 3: cs="
        HEX3 eax, 4
        mov ax, ss
        PRINT3 " ss="
        HEX3 eax, 4
        PRINT3 10
        call 0x98:0                     ; through the call gate (offset ignored)
        call 0xA3:conforming            ; conforming DPL 0 code keeps CPL 3
        mov ecx, esp
        mov edx, .after_sysenter
        sysenter
.after_sysenter:
        mov bx, cs
        PRINT3 "after sysexit: cs="
        HEX3 ebx, 4
        PRINT3 10
        EXPECT3 "ring 3 read of a supervisor page", mov eax, [VA]
        EXPECT3 "cli in ring 3", cli
        EXPECT3 "int 41h to a DPL 0 gate", int 0x41
        EXPECT3 "call gate to ring 1 with TSS.SS1 RPL 0", call 0xB8:0
        int 0x82
user_param_gate:
        mov ax, 0x83
        mov ds, ax
        mov es, ax
        push dword 0x12345678
        call 0xA8:0                     ; copies one dword to the ring-0 stack
        mov ebx, esp
        PRINT3 "after call gate with a parameter: esp="
        HEX3 ebx, 8
        PRINT3 10
        int 0x82
conforming:
        mov bx, cs
        PRINT3 "conforming segment: cs="
        HEX3 ebx, 4
        PRINT3 10
        retf
        align 4096
user_end:
