; Guest for the interrupt controllers and timers: takes 5 PIT interrupts through the 8259
; pair (IRQ 0 at vector 0x20), then 5 local APIC timer interrupts (periodic, vector 0x40,
; xAPIC MMIO at 0xFEE00000), waiting in HLT for each; then prints the CMOS RTC time and
; exits through isa-debug-exit with 0x10 (status 33). Any other interrupt or exception
; prints "unexpected" and exits with 0x3F.
; Build: nasm -f bin devices-timers.asm -o ../fixtures/guests/devices-timers.bin
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, 0, 0, start

APIC equ 0xFEE00000

start:
    mov esp, stack_top
    ; IDT: every vector -> unexpected, then 0x20 -> pit_irq, 0x40 -> apic_irq
    xor ecx, ecx
.fill:
    mov eax, unexpected
    call set_gate
    inc ecx
    cmp ecx, 256
    jb .fill
    mov ecx, 0x20
    mov eax, pit_irq
    call set_gate
    mov ecx, 0x27                       ; spurious IRQ 7: ignore
    mov eax, spurious
    call set_gate
    mov ecx, 0x40
    mov eax, apic_irq
    call set_gate
    mov ecx, 0xFF                       ; APIC spurious vector
    mov eax, spurious
    call set_gate
    lidt [idt_ptr]

    ; 8259 pair: vectors 0x20 / 0x28, cascade on IRQ 2, only IRQ 0 unmasked
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

    ; 8254 channel 0, mode 2, divisor 1193: about 1 kHz
    mov al, 0x34
    out 0x43, al
    mov al, 1193 & 0xFF
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al

    sti
.pit_wait:
    hlt
    cmp dword [pit_ticks], 5
    jb .pit_wait
    cli
    mov al, 0xFF
    out 0x21, al                        ; mask the PIT again
    mov esi, pit_msg
    call puts

    ; local APIC timer: enable, divide by 16, periodic vector 0x40, 10000 counts
    mov dword [APIC + 0xF0], 0x1FF
    mov dword [APIC + 0x3E0], 0x3
    mov dword [APIC + 0x320], 0x20040
    mov dword [APIC + 0x380], 10000
    sti
.apic_wait:
    hlt
    cmp dword [apic_ticks], 5
    jb .apic_wait
    cli
    mov dword [APIC + 0x320], 0x10000   ; mask the timer

    mov esi, apic_msg
    call puts
    ; CMOS RTC: hh:mm:ss (BCD)
    mov esi, rtc_msg
    call puts
    mov al, 4
    call cmos_digits
    mov al, ':'
    call putc
    mov al, 2
    call cmos_digits
    mov al, ':'
    call putc
    mov al, 0
    call cmos_digits
    mov al, 10
    call putc
    mov al, 0x10
    jmp exit

set_gate:                               ; ecx = vector, eax = handler
    mov [idt + ecx*8], ax
    mov word [idt + ecx*8 + 2], 0x08    ; the loader's 32-bit code selector
    mov word [idt + ecx*8 + 4], 0x8E00  ; present, DPL 0, 32-bit interrupt gate
    shr eax, 16
    mov [idt + ecx*8 + 6], ax
    ret

pit_irq:
    inc dword [pit_ticks]
    push eax
    mov al, 0x20
    out 0x20, al                        ; non-specific EOI
    pop eax
    iret

apic_irq:
    inc dword [apic_ticks]
    mov dword [APIC + 0xB0], 0          ; EOI
    iret

spurious:
    iret

unexpected:
    mov esi, unexpected_msg
    call puts
    mov al, 0x3F
exit:
    out 0xF4, al
    cli
    hlt

cmos_digits:                            ; al = register: prints its two BCD digits
    out 0x70, al
    in al, 0x71
    push eax
    shr al, 4
    add al, '0'
    call putc
    pop eax
    and al, 0x0F
    add al, '0'
    jmp putc

putc:
    push eax
    push edx
    mov dx, 0x3FD
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3F8
    mov eax, [esp + 4]
    out dx, al
    pop edx
    pop eax
    ret

puts:
    lodsb
    test al, al
    jz .end
    call putc
    jmp puts
.end:
    ret

pit_msg:        db "timers: 5 PIT interrupts", 10, 0
apic_msg:       db "timers: 5 APIC timer interrupts", 10, 0
rtc_msg:        db "timers: RTC ", 0
unexpected_msg: db "timers: unexpected interrupt", 10, 0
align 4
pit_ticks:  dd 0
apic_ticks: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
align 8
idt: times 256 * 8 db 0
    times 512 db 0
stack_top:
