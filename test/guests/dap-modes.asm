; Guest for the ModeChange, MemoryAccess and Hypercall exit filters: a boot sector that
; enters 32-bit protected mode, reads an unmapped guest-physical address, makes a
; hypercall with an unknown call code, and ends through isa-debug-exit with status 1.
; Build: nasm -f bin dap-modes.asm -o ../fixtures/guests/dap-modes.bin
bits 16
org 0x7c00
    cli
    lgdt [gdtr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax                ; real -> protected16 (CS is still a 16-bit segment)
    jmp 0x08:pm32               ; -> protected32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    mov eax, [0xf0000000]       ; no RAM there: MemoryAccess exit, reads all ones
    mov ebx, eax
    xor edx, edx
    mov eax, 0xffff             ; 32-bit caller: input value in EDX:EAX, call code 0xFFFF (unknown)
    vmcall
    mov esi, eax                ; HV_STATUS_INVALID_HYPERCALL_CODE (2)
    mov al, 0
    out 0xf4, al                ; exit status (0 << 1) | 1 = 1
    hlt
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08: 32-bit code, flat
    dq 0x00cf92000000ffff       ; 0x10: data, flat
gdtr:
    dw gdtr - gdt - 1
    dd gdt
times 510 - ($ - $$) db 0
dw 0xaa55
