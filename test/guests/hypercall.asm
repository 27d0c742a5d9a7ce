; hypercall.asm — a 64-bit guest that talks to the vpdbg partition the Hyper-V way.
;
; It finds the hypervisor through CPUID, enables the hypercall page through the GUEST_OS_ID
; and HYPERCALL MSRs, reads its own RIP, RSP, CR0, CR3, EFER and CS with HvCallGetVpRegisters,
; checks them against what it knows, writes R12 with HvCallSetVpRegisters, then provokes the
; documented error statuses. Every result goes to COM1 (port 0x3F8) as a text line; the final
; status goes to port 0xF4 (0 = all checks passed).
;
; The test harness (test/partition/hypercallGuest.test.ts) loads this flat image at 0x10000
; and enters it in long mode through SetVpRegisters: CR3 = 0x11000 (the page tables below,
; identity-mapping the first 1 GiB with 2 MiB pages), CS = 0x08 (64-bit), RIP = 0x10000.
; Build: nasm -f bin -o test/fixtures/guests/hypercall.bin test/guests/hypercall.asm

bits 64
default abs
org 0x10000

HCPAGE      equ 0x20000         ; where the guest asks for the hypercall page
INPAGE      equ 0x30000         ; hypercall input parameter page
OUTPAGE     equ 0x31000         ; hypercall output parameter page
COM1        equ 0x3F8
EXIT_PORT   equ 0xF4

HV_MSR_GUEST_OS_ID equ 0x40000000
HV_MSR_HYPERCALL   equ 0x40000001
HV_MSR_VP_INDEX    equ 0x40000002
CALL_GET    equ 0x0050
CALL_SET    equ 0x0051
REG_RAX     equ 0x00020000
REG_RBX     equ 0x00020003
REG_RSP     equ 0x00020004
REG_R12     equ 0x0002000C
REG_RIP     equ 0x00020010
REG_CR0     equ 0x00040000
REG_CR3     equ 0x00040002
REG_CS      equ 0x00060001
REG_EFER    equ 0x00080001
REG_VP_INDEX equ 0x00090003

entry:
    jmp start

    times 0x100-($-$$) db 0
gdt:
    dq 0
    dq 0x00AF9B000000FFFF       ; 0x08: 64-bit code
    dq 0x00CF93000000FFFF       ; 0x10: data
gdt_end:

    times 0x1000-($-$$) db 0
pml4:   dq pdpt + 3
    times 0x2000-($-$$) db 0
pdpt:   dq pd + 3
    times 0x3000-($-$$) db 0
pd:
%assign i 0
%rep 512
    dq (i << 21) | 0x83
%assign i i+1
%endrep

; ---------------------------------------------------------------------------------------
start:
    mov rsp, 0x80000
    xor r15d, r15d                  ; number of failed checks
    lea rsi, [msg_hello]
    call puts

    ; 1. CPUID.1:ECX bit 31 says a hypervisor is present.
    mov eax, 1
    cpuid
    bt ecx, 31
    jnc no_hypervisor

    ; 2. Leaf 0x40000000: highest leaf >= 0x40000005 and "Microsoft Hv".
    mov eax, 0x40000000
    cpuid
    cmp eax, 0x40000005
    jb no_hypervisor
    mov [vendor], ebx
    mov [vendor + 4], ecx
    mov [vendor + 8], edx
    lea rsi, [msg_vendor]
    call puts
    lea rsi, [vendor]
    call puts
    call newline
    cmp ebx, 'Micr'
    jne no_hypervisor
    cmp ecx, 'osof'
    jne no_hypervisor
    cmp edx, 't Hv'
    jne no_hypervisor

    ; 3. Leaf 0x40000001: interface "Hv#1".
    mov eax, 0x40000001
    cpuid
    cmp eax, 'Hv#1'
    jne no_hypervisor
    lea rsi, [msg_hv1]
    call puts

    ; 4. Leaf 0x40000003: AccessHypercallMsrs (EAX bit 5), AccessVpRegisters (EBX bit 17 = mask bit 49).
    mov eax, 0x40000003
    cpuid
    bt eax, 5
    jnc no_privilege
    bt ebx, 17
    jnc no_privilege
    lea rsi, [msg_priv]
    call puts

    ; 5. Report a guest OS identity (open source, OS type 1), then enable the hypercall page.
    mov ecx, HV_MSR_GUEST_OS_ID
    mov eax, 1
    mov edx, 0x81000000
    wrmsr
    mov ecx, HV_MSR_HYPERCALL
    rdmsr
    test eax, 1
    jnz .enabled
    and eax, 0xFFE                  ; keep the RsvdP bits 11:2 (and Locked)
    or eax, HCPAGE | 1
    xor edx, edx
    wrmsr
.enabled:
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov rdx, HCPAGE | 1
    lea rsi, [msg_hcmsr]
    call expect
    mov eax, [HCPAGE]               ; VMCALL (0F 01 C1); RET (C3)
    mov edx, 0xC3C1010F
    lea rsi, [msg_hcpage]
    call expect

    ; The VP index MSR of this (only) VP reads 0.
    mov ecx, HV_MSR_VP_INDEX
    rdmsr
    xor edx, edx
    lea rsi, [msg_vpindex]
    call expect

    ; 6. HvCallGetVpRegisters on ourselves: RIP, RSP, CR0, CR3, EFER, CS.
    call header_self
    mov dword [INPAGE + 16], REG_RIP
    mov dword [INPAGE + 20], REG_RSP
    mov dword [INPAGE + 24], REG_CR0
    mov dword [INPAGE + 28], REG_CR3
    mov dword [INPAGE + 32], REG_EFER
    mov dword [INPAGE + 36], REG_CS
    mov rcx, (6 << 32) | CALL_GET
    mov rdx, INPAGE
    mov r8, OUTPAGE
    mov rbx, rsp                    ; RSP before the call pushes the return address
    call hypercall
    mov r10, rcx
    mov rdx, 6 << 32                ; SUCCESS, 6 reps completed
    lea rsi, [msg_get]
    call expect
    mov rax, r10                    ; RCX: rep start advanced to 6
    mov rdx, (6 << 48) | (6 << 32) | CALL_GET
    lea rsi, [msg_rcx]
    call expect
    ; RIP is that of the VMCALL, at offset 0 of the hypercall page.
    mov rax, [OUTPAGE]
    mov rdx, HCPAGE
    lea rsi, [msg_rip]
    call expect
    mov rax, [OUTPAGE + 16]
    lea rdx, [rbx - 8]
    lea rsi, [msg_rsp]
    call expect
    mov rax, [OUTPAGE + 32]
    mov rdx, cr0
    lea rsi, [msg_cr0]
    call expect
    mov rax, [OUTPAGE + 48]
    mov rdx, cr3
    lea rsi, [msg_cr3]
    call expect
    mov ecx, 0xC0000080
    rdmsr
    shl rdx, 32
    or rdx, rax
    mov rax, [OUTPAGE + 64]
    lea rsi, [msg_efer]
    call expect
    movzx eax, word [OUTPAGE + 80 + 12]     ; HV_X64_SEGMENT_REGISTER.Selector
    mov dx, cs
    movzx edx, dx
    lea rsi, [msg_cs]
    call expect
    movzx eax, word [OUTPAGE + 80 + 14]     ; Attributes: L (bit 13) and P (bit 7)
    and eax, 0x2080
    mov edx, 0x2080
    lea rsi, [msg_csattr]
    call expect

    ; 7. HvCallSetVpRegisters: R12 = 0x123456789ABCDEF0.
    call header_self
    mov dword [INPAGE + 16], REG_R12
    mov dword [INPAGE + 20], 0
    mov qword [INPAGE + 24], 0
    mov rax, 0x123456789ABCDEF0
    mov [INPAGE + 32], rax
    mov qword [INPAGE + 40], 0
    xor r12d, r12d
    mov rcx, (1 << 32) | CALL_SET
    mov rdx, INPAGE
    xor r8d, r8d
    call hypercall
    mov rdx, 1 << 32
    lea rsi, [msg_set]
    call expect
    mov rax, r12
    mov rdx, 0x123456789ABCDEF0
    lea rsi, [msg_r12]
    call expect

    ; 8. Error statuses (result value in RAX: status | reps completed << 32).
    call header_self
    mov dword [INPAGE + 16], REG_RAX
    mov dword [INPAGE + 20], REG_RBX
    mov dword [INPAGE + 24], 0x00FFFFFF     ; no such register
    mov rcx, 0x7FFF                         ; unknown call code
    mov rdx, 0x0002
    lea rsi, [msg_e_code]
    call try_get
    mov rcx, (1 << 32) | (1 << 27) | CALL_GET   ; reserved bit 27
    mov rdx, 0x0003
    lea rsi, [msg_e_rsvd]
    call try_get
    mov rcx, CALL_GET                       ; rep call with rep count 0
    mov rdx, 0x0003
    lea rsi, [msg_e_rep0]
    call try_get
    mov rcx, (2 << 48) | (2 << 32) | CALL_GET   ; rep start >= rep count
    mov rdx, 0x0003
    lea rsi, [msg_e_start]
    call try_get
    mov rcx, (1 << 32) | (1 << 16) | CALL_GET   ; fast: 16 + 4 bytes do not fit RDX:R8
    mov rdx, 0x0003
    lea rsi, [msg_e_fast]
    call try_get
    mov rcx, (3 << 32) | CALL_GET           ; third name unknown: INVALID_PARAMETER after 2 reps
    mov rdx, (2 << 32) | 0x0005
    lea rsi, [msg_e_name]
    call try_get

    ; Misaligned input GPA.
    mov rcx, (1 << 32) | CALL_GET
    mov rdx, INPAGE + 4
    mov r8, OUTPAGE
    call hypercall
    mov rdx, 0x0004
    lea rsi, [msg_e_align]
    call expect
    ; Input list crossing a page boundary (16 + 6 * 4 bytes from 0xFF0).
    mov rcx, (6 << 32) | CALL_GET
    mov rdx, INPAGE + 0xFF0
    mov r8, OUTPAGE
    call hypercall
    mov rdx, 0x0004
    lea rsi, [msg_e_straddle]
    call expect

    ; Invalid VP index, another partition, a reserved VTL bit.
    mov dword [INPAGE + 8], 5
    mov rcx, (1 << 32) | CALL_GET
    mov rdx, 0x000E
    lea rsi, [msg_e_vp]
    call try_get
    call header_self
    mov qword [INPAGE], 42
    mov rcx, (1 << 32) | CALL_GET
    mov rdx, 0x0006
    lea rsi, [msg_e_part]
    call try_get
    call header_self
    mov byte [INPAGE + 12], 0x20
    mov rcx, (1 << 32) | CALL_GET
    mov rdx, 0x0005
    lea rsi, [msg_e_vtl]
    call try_get

    ; Writing a read-only register (HvRegisterVpIndex).
    call header_self
    mov dword [INPAGE + 16], REG_VP_INDEX
    mov dword [INPAGE + 20], 0
    mov qword [INPAGE + 24], 0
    mov qword [INPAGE + 32], 3
    mov qword [INPAGE + 40], 0
    mov rcx, (1 << 32) | CALL_SET
    mov rdx, INPAGE
    xor r8d, r8d
    call hypercall
    mov rdx, 0x0005
    lea rsi, [msg_e_ro]
    call expect

    ; 9. Rep start 2 of 3: only element 2 (CR0) is read; reps completed is absolute (3).
    call header_self
    mov dword [INPAGE + 16], REG_RAX
    mov dword [INPAGE + 20], REG_RBX
    mov dword [INPAGE + 24], REG_CR0
    mov qword [OUTPAGE + 32], 0
    mov rcx, (2 << 48) | (3 << 32) | CALL_GET
    mov rdx, 3 << 32
    lea rsi, [msg_restart]
    call try_get
    mov rax, [OUTPAGE + 32]
    mov rdx, cr0
    lea rsi, [msg_restart_v]
    call expect

    ; Done.
    test r15, r15
    jnz .failed
    lea rsi, [msg_pass]
    call puts
    mov al, 0
    out EXIT_PORT, al
    hlt
.failed:
    lea rsi, [msg_fail]
    call puts
    mov al, 1
    out EXIT_PORT, al
    hlt

no_hypervisor:
    lea rsi, [msg_nohv]
    jmp abort
no_privilege:
    lea rsi, [msg_nopriv]
abort:
    call puts
    mov al, 2
    out EXIT_PORT, al
    hlt

; ---------------------------------------------------------------------------------------
; hypercall: the hypercall page's entry (VMCALL; RET) with RCX/RDX/R8 as set by the caller.
hypercall:
    mov rax, HCPAGE
    jmp rax

; header_self: HvCallGet/SetVpRegisters header at INPAGE: partition "self", VP "self", VTL 0.
header_self:
    mov qword [INPAGE], -1
    mov dword [INPAGE + 8], 0xFFFFFFFE
    mov dword [INPAGE + 12], 0
    ret

; try_get: HvCallGetVpRegisters-style call with control RCX and the INPAGE/OUTPAGE buffers;
; checks RAX against RDX, labelled by RSI.
try_get:
    push rdx
    mov rdx, INPAGE
    mov r8, OUTPAGE
    call hypercall
    pop rdx
    ; fall through

; expect: prints "<label> <rax hex> ok" or "... FAIL (want <rdx hex>)" and counts failures.
expect:
    push rax
    push rcx
    push rdx
    push rsi
    call puts
    mov rcx, rax
    call print_hex
    cmp rax, rdx
    jne .bad
    lea rsi, [msg_ok]
    call puts
    jmp .out
.bad:
    inc r15
    lea rsi, [msg_want]
    call puts
    mov rcx, rdx
    call print_hex
    call newline
.out:
    pop rsi
    pop rdx
    pop rcx
    pop rax
    ret

; puts: writes the NUL-terminated string at RSI to COM1.
puts:
    push rax
    push rdx
    push rsi
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop rsi
    pop rdx
    pop rax
    ret

newline:
    push rax
    push rdx
    mov dx, COM1
    mov al, 10
    out dx, al
    pop rdx
    pop rax
    ret

; print_hex: RCX as 16 hex digits.
print_hex:
    push rax
    push rcx
    push rdx
    push rbx
    mov dx, COM1
    mov ebx, 16
.digit:
    rol rcx, 4
    mov eax, ecx
    and eax, 0xF
    cmp al, 10
    jb .dec
    add al, 'a' - '0' - 10
.dec:
    add al, '0'
    out dx, al
    dec ebx
    jnz .digit
    pop rbx
    pop rdx
    pop rcx
    pop rax
    ret

msg_hello:      db "hypercall guest: start", 10, 0
msg_vendor:     db "cpuid 0x40000000 vendor: ", 0
msg_hv1:        db "cpuid 0x40000001 interface: Hv#1", 10, 0
msg_priv:       db "cpuid 0x40000003: AccessHypercallMsrs AccessVpRegisters", 10, 0
msg_nohv:       db "no Hyper-V interface", 10, 0
msg_nopriv:     db "missing privilege", 10, 0
msg_hcmsr:      db "HV_X64_MSR_HYPERCALL ", 0
msg_hcpage:     db "hypercall page bytes ", 0
msg_vpindex:    db "HV_X64_MSR_VP_INDEX ", 0
msg_get:        db "GetVpRegisters(RIP,RSP,CR0,CR3,EFER,CS) result ", 0
msg_rcx:        db "  RCX after rep call ", 0
msg_rip:        db "  RIP ", 0
msg_rsp:        db "  RSP ", 0
msg_cr0:        db "  CR0 ", 0
msg_cr3:        db "  CR3 ", 0
msg_efer:       db "  EFER ", 0
msg_cs:         db "  CS.Selector ", 0
msg_csattr:     db "  CS.Attributes&(L|P) ", 0
msg_set:        db "SetVpRegisters(R12) result ", 0
msg_r12:        db "  R12 ", 0
msg_e_code:     db "unknown call code ", 0
msg_e_rsvd:     db "reserved input bit ", 0
msg_e_rep0:     db "rep count 0 ", 0
msg_e_start:    db "rep start >= rep count ", 0
msg_e_fast:     db "fast call too large ", 0
msg_e_name:     db "invalid register name ", 0
msg_e_align:    db "misaligned input ", 0
msg_e_straddle: db "input crosses a page ", 0
msg_e_vp:       db "invalid VP index ", 0
msg_e_part:     db "other partition ", 0
msg_e_vtl:      db "reserved VTL bit ", 0
msg_e_ro:       db "set read-only register ", 0
msg_restart:    db "rep start 2 of 3 ", 0
msg_restart_v:  db "  element 2 (CR0) ", 0
msg_ok:         db " ok", 10, 0
msg_want:       db " FAIL want ", 0
msg_pass:       db "hypercall guest: all checks passed", 10, 0
msg_fail:       db "hypercall guest: FAILED", 10, 0
vendor:         times 13 db 0
