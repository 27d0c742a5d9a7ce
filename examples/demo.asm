; vpdbg example guest: a 64-bit ELF that the loader starts in long mode (identity paging,
; flat GDT, a stack). It prints over COM1 and causes each kind of intercept exit once, so
; `npm run demo` (vpdbg run examples/demo.elf --trace-exits) shows them decoded:
;   I/O port (COM1), CPUID, MSR (-> #GP, an exception the guest handles), #UD (handled),
;   RDTSC, MMIO (local APIC), HLT (woken by the APIC timer), and a hypercall that reads a
;   register with HvCallGetVpRegisters. It ends by writing 0 to isa-debug-exit (status 1).
; Build: examples/build.sh (nasm -f elf64 -g -F dwarf, then ld at 1 MiB).
bits 64
default rel

COM1      equ 0x3F8
APIC      equ 0xFEE00000
CODE64    equ 0x18                      ; the loader's 64-bit code selector

section .text
global _start
_start:
    lea rsi, [banner]
    call puts                           ; I/O port exits: COM1 line status and data

    call setup_idt

    mov eax, 0x40000000                 ; CPUID exit: hypervisor vendor leaf
    cpuid
    mov [vendor], ebx
    mov [vendor + 4], ecx
    mov [vendor + 8], edx
    lea rsi, [cpuid_msg]
    call puts
    lea rsi, [vendor]
    call puts
    call newline

    mov ecx, 0xC0DE0000                 ; MSR exit: nothing implements this MSR,
    rdmsr                               ; so the VMM injects #GP; gp_handler skips it
    lea rsi, [msr_msg]
    call puts
    mov rdi, [gp_count]
    call print_hex
    call newline

    ud2                                 ; exception: #UD, handled by ud_handler
    lea rsi, [ud_msg]
    call puts

    rdtsc                               ; RDTSC exit: virtual time stamp counter
    shl rdx, 32
    or rax, rdx
    mov rdi, rax
    lea rsi, [tsc_msg]
    call puts
    call print_hex
    call newline

    ; MMIO exits: program the local APIC timer (one-shot, vector 0x40), then HLT until it fires
    mov ebx, APIC                       ; (above 2 GiB: not reachable as a 32-bit displacement)
    mov dword [rbx + 0xF0], 0x1FF       ; spurious vector register: APIC on
    mov dword [rbx + 0x3E0], 0xB        ; divide by 1
    mov dword [rbx + 0x320], 0x40       ; LVT timer: one-shot, vector 0x40
    mov dword [rbx + 0x380], 100000     ; 1 ms at 100 MHz
    sti
wait_timer:
    hlt                                 ; HLT exit; the timer interrupt wakes it
    cmp qword [timer_count], 0
    je wait_timer
    cli
    lea rsi, [hlt_msg]
    call puts

    ; Hypercall: HvCallGetVpRegisters(self, HvX64RegisterRbx) through VMCALL
    mov ecx, 0x40000000                 ; HV_X64_MSR_GUEST_OS_ID must be non-zero first
    mov eax, 0x1
    mov edx, 0x8100
    wrmsr
    mov rbx, 0x1234567890ABCDEF         ; the value the hypercall reads back
    mov rcx, (1 << 32) | 0x50           ; rep count 1, call code 0x0050
    lea rdx, [hv_input]                 ; input and output GPAs (identity-mapped)
    lea r8, [hv_output]
    vmcall
    mov [hv_result], rax
    lea rsi, [hv_msg]
    call puts
    mov rdi, [hv_output]
    call print_hex
    lea rsi, [hv_status]
    call puts
    mov rdi, [hv_result]
    call print_hex
    call newline

    lea rsi, [bye]
    call puts
    mov dx, 0xF4                        ; isa-debug-exit: status (0 << 1) | 1 = 1
    xor eax, eax
    out dx, al
    cli
    hlt

; ---- interrupt and exception handlers -------------------------------------------------

setup_idt:
    mov ecx, 6
    lea rax, [ud_handler]
    call set_gate
    mov ecx, 13
    lea rax, [gp_handler]
    call set_gate
    mov ecx, 0x40
    lea rax, [timer_handler]
    call set_gate
    lidt [idt_ptr]
    ret

set_gate:                               ; rcx = vector, rax = handler
    shl rcx, 4
    lea rdi, [idt]
    add rdi, rcx
    mov [rdi], ax
    mov word [rdi + 2], CODE64
    mov word [rdi + 4], 0x8E00          ; present, DPL 0, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword [rdi + 12], 0
    ret

ud_handler:
    add qword [rsp], 2                  ; skip UD2
    iretq

gp_handler:
    add rsp, 8                          ; drop the error code
    inc qword [gp_count]
    add qword [rsp], 2                  ; skip RDMSR
    iretq

timer_handler:
    inc qword [timer_count]
    push rax
    mov eax, APIC
    mov dword [rax + 0xB0], 0           ; EOI
    pop rax
    iretq

; ---- COM1 output ----------------------------------------------------------------------

putc:                                   ; al -> COM1, waiting until the transmitter is empty
    push rdx
    push rax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

puts:                                   ; rsi -> NUL-terminated string
    lodsb
    test al, al
    jz .end
    call putc
    jmp puts
.end:
    ret

newline:
    mov al, 10
    jmp putc

print_hex:                              ; rdi as 0x + 16 hex digits
    mov al, '0'
    call putc
    mov al, 'x'
    call putc
    mov ecx, 16
.digit:
    rol rdi, 4
    mov eax, edi
    and eax, 0xF
    lea rdx, [hexdigits]
    mov al, [rdx + rax]
    push rcx
    call putc
    pop rcx
    dec ecx
    jnz .digit
    ret

section .data
banner:     db "demo: long mode, COM1 ok", 10, 0
cpuid_msg:  db "demo: CPUID 0x40000000 vendor ", 0
msr_msg:    db "demo: RDMSR 0xC0DE0000 -> #GP handled, count ", 0
ud_msg:     db "demo: UD2 -> #UD handled", 10, 0
tsc_msg:    db "demo: RDTSC ", 0
hlt_msg:    db "demo: HLT woken by the APIC timer", 10, 0
hv_msg:     db "demo: HvCallGetVpRegisters(RBX) = ", 0
hv_status:  db " result ", 0
bye:        db "demo: bye", 10, 0
hexdigits:  db "0123456789abcdef"
align 8
gp_count:    dq 0
timer_count: dq 0
hv_result:   dq 0
vendor:      times 16 db 0
idt_ptr:
    dw 256 * 16 - 1
    dq idt
align 16
hv_input:
    dq 0xFFFFFFFFFFFFFFFF               ; HV_PARTITION_ID_SELF
    dd 0xFFFFFFFE                       ; HV_VP_INDEX_SELF
    db 0, 0, 0, 0                       ; input VTL, reserved
    dd 0x00020003                       ; HvX64RegisterRbx
align 16
hv_output:  times 16 db 0

section .bss
align 16
idt: resb 256 * 16
